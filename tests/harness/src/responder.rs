//! Host-side peer of the guest on QEMU `-netdev dgram` backends: one unix
//! datagram socket that every backend (of every QEMU) sends its frames to.
//! It answers ARP and ICMP echo for the addresses in `IPS` (tagged or not),
//! and records every echo request and UDP datagram (`udp::MAGIC` + sequence
//! number) with the time and the backend it came through.

use crate::util::{Context, Res};
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
/// The responder's addresses: for pair 0 and pair 1, and for VLANs 100 and 200 (it answers any tag).
pub const IPS: [[u8; 4]; 4] =
    [[192, 168, 100, 1], [192, 168, 102, 1], [192, 168, 101, 1], [192, 168, 103, 1]];
pub const UDP_PORT: u16 = 9;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Icmp,
    Udp,
}

/// One echo request or UDP datagram from the guest.
#[derive(Clone, Debug)]
pub struct Rec {
    pub t: Instant,
    /// The backend socket's name, e.g. `npr` or `dst-nsb`.
    pub path: String,
    pub kind: Kind,
    pub dst: [u8; 4],
    pub seq: u32,
    pub vlan: Option<u16>,
}

#[derive(Clone)]
pub struct Responder {
    pub path: PathBuf,
    sock: Arc<UnixDatagram>,
    recs: Arc<Mutex<Vec<Rec>>>,
}

fn csum(data: &[u8]) -> u16 {
    let mut s: u32 =
        data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// The reply to `frame`, if it asks for one; records it in `recs`.
fn handle(frame: &[u8], path: &str, recs: &mut Vec<Rec>) -> Option<Vec<u8>> {
    let (vlan, hl) = match frame.get(12..14)? {
        [0x81, 0x00] => (Some(u16::from_be_bytes([frame[14], frame[15]]) & 0xfff), 18),
        _ => (None, 14),
    };
    let ethertype = frame.get(hl - 2..hl)?;
    let body = frame.get(hl..)?;
    let mut out = frame[..hl].to_vec();
    out[..6].copy_from_slice(&frame[6..12]);
    out[6..12].copy_from_slice(&MAC);
    match ethertype {
        [0x08, 0x06]
            if body.len() >= 28 && body[6..8] == [0, 1] && IPS.iter().any(|ip| body[24..28] == *ip) =>
        {
            out.extend_from_slice(&body[..6]);
            out.extend_from_slice(&[0, 2]);
            out.extend_from_slice(&MAC);
            out.extend_from_slice(&body[24..28]);
            out.extend_from_slice(&body[8..18]);
            Some(out)
        }
        [0x08, 0x00] if body.len() >= 20 => {
            let body = &body[..body.len().min(usize::from(u16::from_be_bytes([body[2], body[3]])))];
            let ihl = usize::from(body[0] & 0x0f) * 4;
            let dst: [u8; 4] = body[16..20].try_into().ok()?;
            let l4 = body.get(ihl..)?;
            if !IPS.contains(&dst) || l4.len() < 8 {
                return None;
            }
            let rec = |kind, seq| Rec { t: Instant::now(), path: path.into(), kind, dst, seq, vlan };
            match body[9] {
                1 if l4[0] == 8 => {
                    recs.push(rec(Kind::Icmp, u32::from(u16::from_be_bytes([l4[6], l4[7]]))));
                    let mut ip = body[..ihl].to_vec();
                    ip.copy_within(12..16, 16);
                    ip[12..16].copy_from_slice(&dst);
                    ip[10..12].copy_from_slice(&[0, 0]);
                    let c = csum(&ip);
                    ip[10..12].copy_from_slice(&c.to_be_bytes());
                    let mut icmp = l4.to_vec();
                    icmp[0] = 0;
                    icmp[2..4].copy_from_slice(&[0, 0]);
                    let c = csum(&icmp);
                    icmp[2..4].copy_from_slice(&c.to_be_bytes());
                    out.extend_from_slice(&ip);
                    out.extend_from_slice(&icmp);
                    Some(out)
                }
                17 if u16::from_be_bytes([l4[2], l4[3]]) == UDP_PORT => {
                    let p = &l4[8..];
                    if p.len() >= 8 && p[..4] == crate::udp::MAGIC {
                        recs.push(rec(Kind::Udp, u32::from_be_bytes([p[4], p[5], p[6], p[7]])));
                    }
                    None
                }
                _ => None,
            }
        }
        _ => None,
    }
}

impl Responder {
    /// Binds `dir/resp.sock` and serves it from a thread until the last clone is dropped.
    pub fn start(dir: &Path) -> Res<Responder> {
        let path = dir.join("resp.sock");
        let _ = std::fs::remove_file(&path);
        let sock = UnixDatagram::bind(&path).ctx(path.display())?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))?;
        let recs = Arc::new(Mutex::new(Vec::new()));
        let (rx, weak) = (sock.try_clone()?, Arc::downgrade(&recs));
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            loop {
                let (n, addr) = match rx.recv_from(&mut buf) {
                    Ok(got) => got,
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        if weak.strong_count() == 0 {
                            return;
                        }
                        continue;
                    }
                    Err(_) => return,
                };
                let (Some(from), Some(recs)) = (addr.as_pathname(), weak.upgrade()) else { continue };
                let name = from.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let reply = handle(&buf[..n], &name, &mut recs.lock().unwrap());
                if let Some(r) = reply {
                    let _ = rx.send_to(&r, from);
                }
            }
        });
        Ok(Responder { path, sock: Arc::new(sock), recs })
    }

    /// Records so far.
    pub fn recs(&self) -> Vec<Rec> {
        self.recs.lock().unwrap().clone()
    }

    /// Writes every record to `file`: milliseconds since the first, backend, kind, destination, sequence, tag.
    pub fn dump(&self, file: &Path) -> Res<()> {
        let recs = self.recs();
        let t0 = recs.first().map(|r| r.t);
        let mut out = String::from("ms\tpath\tkind\tdst\tseq\tvlan\n");
        for r in &recs {
            let ms = t0.map_or(0, |t0| (r.t - t0).as_millis());
            let [a, b, c, d] = r.dst;
            let vlan = r.vlan.map_or("-".into(), |v| v.to_string());
            out.push_str(&format!("{ms}\t{}\t{:?}\t{a}.{b}.{c}.{d}\t{}\t{vlan}\n", r.path, r.kind, r.seq));
        }
        std::fs::write(file, out).ctx(file.display())
    }

    /// Sends a frame into the guest through the backend socket `to`.
    pub fn inject(&self, to: &Path, frame: &[u8]) -> Res<()> {
        self.sock.send_to(frame, to).ctx(to.display())?;
        Ok(())
    }

    /// Waits until the records of `dst` since `since` end with a run through
    /// `path`; returns the time of the run's first record (the switch to `path`).
    pub fn wait_switch(
        &self,
        path: &str,
        dst: [u8; 4],
        since: Instant,
        timeout: Duration,
    ) -> Option<Instant> {
        let found = crate::util::poll(timeout, Duration::from_millis(20), || {
            let recs = self.recs.lock().unwrap();
            let mut first = None;
            for r in recs.iter().filter(|r| r.t >= since && r.dst == dst) {
                first = if r.path == path { first.or(Some(r.t)) } else { None };
            }
            Ok(first)
        });
        found.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_tagged_echo_and_records_it() {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x81, 0, 0, 100, 0x08, 0];
        let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 192, 168, 101, 2, 192, 168, 101, 1];
        let c = csum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[8, 0, 0xf7, 0xf8, 0, 1, 0, 7]);
        let mut recs = Vec::new();
        let r = handle(&f, "npr", &mut recs).unwrap();
        assert_eq!(&r[..6], &f[6..12]);
        assert_eq!(&r[12..16], &[0x81, 0, 0, 100]);
        assert_eq!(csum(&r[18..38]), 0);
        assert_eq!((r[38], csum(&r[38..])), (0, 0));
        assert_eq!(&r[30..34], &[192, 168, 101, 1]);
        let rec = &recs[0];
        assert_eq!((rec.kind, rec.seq, rec.vlan, rec.path.as_str()), (Kind::Icmp, 7, Some(100), "npr"));
    }
}
