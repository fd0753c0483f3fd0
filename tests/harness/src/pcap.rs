//! Counts the guest's ICMP echo requests in a pcap file written by QEMU's filter-dump.

use crate::util::Res;
use std::path::Path;

fn echo_request_from(frame: &[u8], mac: &[u8; 6]) -> bool {
    if frame.len() < 14 + 20 + 8 || &frame[6..12] != mac || frame[12..14] != [0x08, 0x00] {
        return false;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    ip[0] >> 4 == 4 && ip[9] == 1 && ip.len() > ihl && ip[ihl] == 8
}

/// Number of ICMP echo requests sent by `mac` recorded in `path` (0 if the file does not exist).
pub fn echo_requests(path: &Path, mac: &[u8; 6]) -> Res<u64> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    if data.len() < 24 {
        return Ok(0);
    }
    let u32_at = match data[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => u32::from_le_bytes,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => u32::from_be_bytes,
        _ => crate::bail!("{}: not a pcap file", path.display()),
    };
    let (mut off, mut n) = (24, 0);
    while off + 16 <= data.len() {
        let len = u32_at(data[off + 8..off + 12].try_into().unwrap()) as usize;
        let Some(frame) = data.get(off + 16..off + 16 + len) else { break };
        n += u64::from(echo_request_from(frame, mac));
        off += 16 + len;
    }
    Ok(n)
}

pub fn parse_mac(s: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    for (b, part) in mac.iter_mut().zip(s.split(':')) {
        *b = u8::from_str_radix(part, 16).unwrap_or(0);
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_echo_requests_of_one_mac() {
        let mac = parse_mac("52:54:00:12:34:56");
        let frame = |src: [u8; 6], icmp_type: u8| {
            let mut f = vec![0xff; 6];
            f.extend_from_slice(&src);
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1]);
            f.extend_from_slice(&[0; 10]);
            f.extend_from_slice(&[icmp_type, 0, 0, 0, 0, 0, 0, 0]);
            f
        };
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1];
        file.resize(24, 0);
        for f in [frame(mac, 8), frame(mac, 0), frame([2; 6], 8), frame(mac, 8)] {
            file.extend_from_slice(&[0; 8]);
            file.extend_from_slice(&(f.len() as u32).to_le_bytes());
            file.extend_from_slice(&(f.len() as u32).to_le_bytes());
            file.extend_from_slice(&f);
        }
        file.extend_from_slice(&[0; 7]);
        let path = std::env::temp_dir().join(format!("nf-pcap-{}.pcap", std::process::id()));
        std::fs::write(&path, &file).unwrap();
        assert_eq!(echo_requests(&path, &mac).unwrap(), 2);
        std::fs::remove_file(&path).unwrap();
    }
}
