//! The guest's UDP stream (`nf-harness --guest-udp`): the harness binary is
//! copied into the initramfs and run in the guest, where busybox has no UDP
//! client. It sends numbered datagrams at a fixed interval, ignoring send
//! errors, until a stop file appears, then prints `sent N errors E [last ERROR]`.

use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

pub const MAGIC: [u8; 4] = *b"NFU1";
/// Where the initramfs puts the harness binary.
pub const GUEST_BIN: &str = "/usr/sbin/nf-harness";

/// `args`: DST:PORT INTERVAL_MS STOPFILE.
pub fn run(args: &[String]) -> Result<(), String> {
    let [dst, ms, stop] = args else { return Err("usage: --guest-udp DST:PORT INTERVAL_MS STOPFILE".into()) };
    let every = Duration::from_millis(ms.parse().map_err(|_| format!("bad interval {ms}"))?);
    let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    let (mut seq, mut errors, mut last) = (0u32, 0u32, None);
    let mut next = Instant::now();
    while !Path::new(stop).exists() {
        let mut msg = MAGIC.to_vec();
        msg.extend_from_slice(&seq.to_be_bytes());
        msg.resize(64, 0);
        if let Err(e) = sock.send_to(&msg, dst.as_str()) {
            errors += 1;
            last = Some(e);
        }
        seq += 1;
        next = (next + every).max(Instant::now());
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    match last {
        Some(e) => println!("sent {seq} errors {errors} last {e}"),
        None => println!("sent {seq} errors {errors}"),
    }
    Ok(())
}
