//! What userspace sees of a new network device first (`nf-harness
//! --guest-watch`, run in the guest as the UDP sender is): the kernel's uevent
//! (udev's input) and rtnetlink's `RTM_NEWLINK` (NetworkManager's and
//! systemd-networkd's). Started before a plug, it prints one line per event:
//!
//! - `uevent NAME flags=0xF master=0|1`: an `add` uevent of a net device,
//!   with the device's sysfs `flags` and whether its `master` link exists,
//!   read as the uevent arrives (as udev reads them);
//! - `newlink IFINDEX NAME flags=0xF master=IFINDEX`: an `RTM_NEWLINK`, with
//!   `ifi_flags` and `IFLA_MASTER` (0 when absent).

use crate::guest::Guest;
use crate::udp::GUEST_BIN;
use crate::util::{poll, Res};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const RTMGRP_LINK: u32 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const OUT: &str = "/tmp/watch.out";
const STOP: &str = "/tmp/watch.stop";

/// A netlink socket of `proto` bound to `groups`.
pub fn socket(ty: i32, proto: i32, groups: u32) -> Result<i32, String> {
    // SAFETY: Plain system calls on a socket this function owns.
    unsafe {
        let fd = libc::socket(libc::AF_NETLINK, ty | libc::SOCK_CLOEXEC, proto);
        if fd < 0 {
            return Err(format!("socket({proto}): {}", std::io::Error::last_os_error()));
        }
        let mut sa: libc::sockaddr_nl = std::mem::zeroed();
        sa.nl_family = libc::AF_NETLINK as u16;
        sa.nl_groups = groups;
        let len = std::mem::size_of::<libc::sockaddr_nl>() as u32;
        if libc::bind(fd, (&sa as *const libc::sockaddr_nl).cast(), len) < 0 {
            return Err(format!("bind({proto}): {}", std::io::Error::last_os_error()));
        }
        Ok(fd)
    }
}

fn recv(fd: i32, buf: &mut [u8]) -> usize {
    // SAFETY: `buf` is writable for its length.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
    n.max(0) as usize
}

pub fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_ne_bytes([b[i], b[i + 1]])
}

pub fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// The `newlink` lines of the rtnetlink messages in `b`.
fn newlinks(b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= b.len() {
        let len = u32_at(b, off) as usize;
        if len < 16 || off + len > b.len() {
            break;
        }
        let msg = &b[off..off + len];
        // nlmsghdr (16 bytes), then ifinfomsg (16 bytes), then attributes.
        if u16_at(msg, 4) == libc::RTM_NEWLINK && len >= 32 {
            let (index, flags) = (u32_at(msg, 20), u32_at(msg, 24));
            let (mut name, mut master, mut a) = (String::new(), 0, 32);
            while a + 4 <= len {
                let (alen, ty) = (u16_at(msg, a) as usize, u16_at(msg, a + 2) & 0x3fff);
                if alen < 4 || a + alen > len {
                    break;
                }
                let val = &msg[a + 4..a + alen];
                match ty {
                    IFLA_IFNAME => name = String::from_utf8_lossy(val).trim_end_matches('\0').into(),
                    IFLA_MASTER if val.len() >= 4 => master = u32_at(val, 0),
                    _ => {}
                }
                a += (alen + 3) & !3;
            }
            out.push(format!("newlink {index} {name} flags={flags:#x} master={master}"));
        }
        off += (len + 3) & !3;
    }
    out
}

/// The `uevent` line of an `add` uevent of a net device in `b`, read now.
fn uevent(b: &[u8]) -> Option<String> {
    let fields: Vec<&[u8]> = b.split(|&c| c == 0).collect();
    let get = |k: &str| {
        fields
            .iter()
            .find_map(|f| f.strip_prefix(k.as_bytes()))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    if get("ACTION=")? != "add" || get("SUBSYSTEM=")? != "net" {
        return None;
    }
    let name = get("INTERFACE=")?;
    let sys = format!("/sys/class/net/{name}");
    let flags = std::fs::read_to_string(format!("{sys}/flags")).unwrap_or_default();
    let master = Path::new(&format!("{sys}/master")).exists();
    Some(format!("uevent {name} flags={} master={}", flags.trim(), u8::from(master)))
}

/// Guest side: prints the events until `STOPFILE` exists.
pub fn run(args: &[String]) -> Result<(), String> {
    let [stop] = args else { return Err("usage: --guest-watch STOPFILE".into()) };
    let ue = socket(libc::SOCK_DGRAM, libc::NETLINK_KOBJECT_UEVENT, 1)?;
    let rt = socket(libc::SOCK_RAW, libc::NETLINK_ROUTE, RTMGRP_LINK)?;
    let mut so = std::io::stdout();
    let _ = writeln!(so, "ready");
    let mut buf = vec![0u8; 64 * 1024];
    while !Path::new(stop).exists() {
        let mut fds = [ue, rt].map(|fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
        // SAFETY: `fds` is an array of two valid pollfds.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, 100) };
        // The uevent first: its sysfs state is read as close to it as can be.
        let n = recv(ue, &mut buf);
        if let Some(line) = uevent(&buf[..n]) {
            let _ = writeln!(so, "{line}");
        }
        let n = recv(rt, &mut buf);
        for line in newlinks(&buf[..n]) {
            let _ = writeln!(so, "{line}");
        }
        let _ = so.flush();
    }
    Ok(())
}

/// An event seen by the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub uevent: bool,
    pub name: String,
    pub flags: u32,
    /// The master's ifindex (`newlink`), or 1 if the `master` link existed (`uevent`).
    pub master: u32,
}

/// Parses the watcher's output.
pub fn parse(out: &str) -> Vec<Seen> {
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let (uevent, name, rest) = match w.as_slice() {
                ["uevent", name, rest @ ..] => (true, *name, rest),
                ["newlink", _, name, rest @ ..] => (false, *name, rest),
                _ => return None,
            };
            let val = |k: &str| rest.iter().find_map(|f| f.strip_prefix(k));
            let flags = u32::from_str_radix(val("flags=")?.trim_start_matches("0x"), 16).ok()?;
            let master = val("master=")?.parse().ok()?;
            Some(Seen { uevent, name: name.to_string(), flags, master })
        })
        .collect()
}

/// The watcher running in a guest.
pub struct Watch;

impl Watch {
    pub fn start(g: &mut Guest) -> Res<Watch> {
        g.ok(&format!("rm -f {STOP}; {GUEST_BIN} --guest-watch {STOP} >{OUT} 2>&1 &"))?;
        poll(Duration::from_secs(10), Duration::from_millis(100), || {
            Ok(g.ok(&format!("cat {OUT}"))?.contains("ready").then_some(()))
        })?;
        Ok(Watch)
    }

    /// Stops the watcher; what it saw.
    pub fn stop(self, g: &mut Guest) -> Res<Vec<Seen>> {
        g.ok(&format!("touch {STOP}; sleep 0.3"))?;
        Ok(parse(&g.ok(&format!("cat {OUT}"))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds() {
        let s = parse(
            "ready\nuevent eth1 flags=0x1802 master=0\nnewlink 4 eth1 flags=0x1802 master=3\nbad line\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0], Seen { uevent: true, name: "eth1".into(), flags: 0x1802, master: 0 });
        assert_eq!(s[1], Seen { uevent: false, name: "eth1".into(), flags: 0x1802, master: 3 });
    }

    #[test]
    fn decodes_newlink() {
        let mut m = vec![0u8; 32];
        m[4..6].copy_from_slice(&libc::RTM_NEWLINK.to_ne_bytes());
        m[20..24].copy_from_slice(&7u32.to_ne_bytes());
        m[24..28].copy_from_slice(&0x1803u32.to_ne_bytes());
        for (ty, val) in [(IFLA_IFNAME, b"eth9\0".to_vec()), (IFLA_MASTER, 5u32.to_ne_bytes().to_vec())] {
            let alen = 4 + val.len();
            m.extend_from_slice(&(alen as u16).to_ne_bytes());
            m.extend_from_slice(&ty.to_ne_bytes());
            m.extend_from_slice(&val);
            m.resize((m.len() + 3) & !3, 0);
        }
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(newlinks(&m), vec!["newlink 7 eth9 flags=0x1803 master=5".to_string()]);
    }

    #[test]
    fn uevent_of_other_subsystems_ignored() {
        assert_eq!(uevent(b"add@/devices/x\0ACTION=add\0SUBSYSTEM=pci\0"), None);
        assert_eq!(uevent(b"remove@/x\0ACTION=remove\0SUBSYSTEM=net\0INTERFACE=eth1\0"), None);
    }
}
