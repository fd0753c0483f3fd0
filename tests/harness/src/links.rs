//! What rtnetlink reports of each link's kind (`nf-harness --guest-links`,
//! run in the guest): iproute2 6.1 does not decode a kind it does not know,
//! so the guest side sends an `RTM_GETLINK` dump itself and prints one line
//! per link:
//!
//! - `link NAME kind=K slave_kind=S role=R`: `IFLA_LINKINFO`'s
//!   `IFLA_INFO_KIND` and `IFLA_INFO_SLAVE_KIND`, and the role attribute
//!   (`IFLA_FAILOVER_SLAVE_ROLE`, a `u8`: 0 primary, 1 standby) in
//!   `IFLA_INFO_SLAVE_DATA`; `-` where absent.

use crate::ensure;
use crate::guest::Guest;
use crate::initramfs::{IP, MODULE_DIR};
use crate::net::Roles;
use crate::scenarios::T;
use crate::udp::GUEST_BIN;
use crate::util::Res;
use crate::watch::{socket, u16_at, u32_at};
use std::io::Write;
use std::time::Duration;

const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_SLAVE_KIND: u16 = 4;
const IFLA_INFO_SLAVE_DATA: u16 = 5;
const IFLA_FAILOVER_SLAVE_ROLE: u16 = 1;

/// A link as the dump reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub kind: Option<String>,
    pub slave_kind: Option<String>,
    /// `primary`, `standby`, or the raw value.
    pub role: Option<String>,
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        write!(
            f,
            "link {} kind={} slave_kind={} role={}",
            self.name,
            s(&self.kind),
            s(&self.slave_kind),
            s(&self.role)
        )
    }
}

/// The attributes in `b`: type (flags masked off) and payload.
fn attrs(b: &[u8]) -> Vec<(u16, &[u8])> {
    let (mut out, mut a) = (Vec::new(), 0);
    while a + 4 <= b.len() {
        let (alen, ty) = (u16_at(b, a) as usize, u16_at(b, a + 2) & 0x3fff);
        if alen < 4 || a + alen > b.len() {
            break;
        }
        out.push((ty, &b[a + 4..a + alen]));
        a += (alen + 3) & !3;
    }
    out
}

fn string(v: &[u8]) -> String {
    String::from_utf8_lossy(v).trim_end_matches('\0').into()
}

/// The links of the `RTM_NEWLINK` messages in `b`, and whether `NLMSG_DONE`
/// (or an error) ended the dump.
fn links(b: &[u8]) -> Result<(Vec<Link>, bool), String> {
    let (mut out, mut off) = (Vec::new(), 0);
    while off + 16 <= b.len() {
        let len = u32_at(b, off) as usize;
        if len < 16 || off + len > b.len() {
            break;
        }
        let msg = &b[off..off + len];
        match u16_at(msg, 4) as i32 {
            libc::NLMSG_DONE => return Ok((out, true)),
            libc::NLMSG_ERROR if len >= 20 => {
                return Err(format!("RTM_GETLINK: error {}", u32_at(msg, 16) as i32));
            }
            t if t == libc::RTM_NEWLINK as i32 && len >= 32 => {
                let mut link = Link::default();
                for (ty, val) in attrs(&msg[32..]) {
                    match ty {
                        IFLA_IFNAME => link.name = string(val),
                        IFLA_LINKINFO => {
                            for (ty, val) in attrs(val) {
                                match ty {
                                    IFLA_INFO_KIND => link.kind = Some(string(val)),
                                    IFLA_INFO_SLAVE_KIND => link.slave_kind = Some(string(val)),
                                    IFLA_INFO_SLAVE_DATA => {
                                        let role =
                                            attrs(val).into_iter().find(|a| a.0 == IFLA_FAILOVER_SLAVE_ROLE);
                                        link.role = role.map(|(_, v)| match v.first() {
                                            Some(0) => "primary".into(),
                                            Some(1) => "standby".into(),
                                            v => format!("{v:?}"),
                                        });
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                out.push(link);
            }
            _ => {}
        }
        off += (len + 3) & !3;
    }
    Ok((out, false))
}

/// Guest side: dumps the links and prints them.
pub fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: --guest-links".into());
    }
    let fd = socket(libc::SOCK_RAW, libc::NETLINK_ROUTE, 0)?;
    // nlmsghdr, then an ifinfomsg of AF_UNSPEC: every link.
    let mut req = [0u8; 32];
    req[0..4].copy_from_slice(&32u32.to_ne_bytes());
    req[4..6].copy_from_slice(&libc::RTM_GETLINK.to_ne_bytes());
    req[6..8].copy_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // SAFETY: `req` is readable for its length; `fd` is this function's socket.
    if unsafe { libc::send(fd, req.as_ptr().cast(), req.len(), 0) } < 0 {
        return Err(format!("send: {}", std::io::Error::last_os_error()));
    }
    let mut so = std::io::stdout();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n <= 0 {
            return Err(format!("recv: {}", std::io::Error::last_os_error()));
        }
        let (seen, done) = links(&buf[..n as usize])?;
        for l in seen {
            let _ = writeln!(so, "{l}");
        }
        if done {
            return Ok(());
        }
    }
}

/// Parses the guest side's output.
pub fn parse(out: &str) -> Vec<Link> {
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let ["link", name, rest @ ..] = w.as_slice() else { return None };
            let val =
                |k: &str| rest.iter().find_map(|f| f.strip_prefix(k)).filter(|v| *v != "-").map(String::from);
            Some(Link {
                name: name.to_string(),
                kind: val("kind="),
                slave_kind: val("slave_kind="),
                role: val("role="),
            })
        })
        .collect()
}

/// The links of the guest, by name.
pub fn dump(g: &mut Guest) -> Res<Vec<Link>> {
    Ok(parse(&g.ok(&format!("{GUEST_BIN} --guest-links"))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(ty: u16, val: &[u8]) -> Vec<u8> {
        let mut a = ((4 + val.len()) as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(&ty.to_ne_bytes());
        a.extend_from_slice(val);
        a.resize((a.len() + 3) & !3, 0);
        a
    }

    fn msg(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; 16];
        m[4..6].copy_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(body);
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn decodes_kind_slave_kind_and_role() {
        let mut info = attr(IFLA_INFO_SLAVE_KIND, b"failover\0");
        info.extend(attr(IFLA_INFO_SLAVE_DATA, &attr(IFLA_FAILOVER_SLAVE_ROLE, &[1])));
        let mut body = vec![0u8; 16];
        body.extend(attr(IFLA_IFNAME, b"eth1\0"));
        body.extend(attr(IFLA_LINKINFO | 0x8000, &info));
        let mut b = msg(libc::RTM_NEWLINK, &body);
        let mut body = vec![0u8; 16];
        body.extend(attr(IFLA_IFNAME, b"eth0\0"));
        body.extend(attr(IFLA_LINKINFO, &attr(IFLA_INFO_KIND, b"failover\0")));
        b.extend(msg(libc::RTM_NEWLINK, &body));
        b.extend(msg(libc::NLMSG_DONE as u16, &[0; 4]));
        let (l, done) = links(&b).unwrap();
        assert!(done);
        let out: Vec<String> = l.iter().map(ToString::to_string).collect();
        assert_eq!(
            out,
            [
                "link eth1 kind=- slave_kind=failover role=standby",
                "link eth0 kind=failover slave_kind=- role=-"
            ]
        );
        assert_eq!(parse(&out.join("\n")), l);
    }
}

/// What each failover netdev should report: kind, slave kind, role.
fn expected(
    r: &Roles,
    name: &str,
    on: bool,
) -> (Option<&'static str>, Option<&'static str>, Option<&'static str>) {
    let primary =
        r.primary.as_deref() == Some(name) && r.primary_master.as_deref() == Some(r.master.as_str());
    match () {
        _ if !on => (None, None, None),
        _ if name == r.master => (Some("failover"), None, None),
        _ if r.standby.as_deref() == Some(name) => (None, Some("failover"), Some("standby")),
        _ if primary => (None, Some("failover"), Some("primary")),
        _ => (None, None, None),
    }
}

/// Every link reports what `expected` says, the master included.
fn check_kinds(t: &mut T, on: bool, when: &str) -> Res<()> {
    let r = t.roles.clone();
    let links = dump(t.g())?;
    ensure!(
        links.iter().any(|l| l.name == r.master),
        "{when}: master {} not in the dump: {links:?}",
        r.master
    );
    let ours =
        |n: &str| [Some(r.master.as_str()), r.standby.as_deref(), r.primary.as_deref()].contains(&Some(n));
    let links: Vec<Link> = links
        .into_iter()
        .filter(|l| ours(&l.name) || l.kind.as_deref() == Some("failover") || l.slave_kind.is_some())
        .collect();
    for l in &links {
        let (k, sk, role) = expected(&r, &l.name, on);
        let got = (l.kind.as_deref(), l.slave_kind.as_deref(), l.role.as_deref());
        ensure!(got == (k, sk, role), "{when}: {l}, expected kind {k:?} slave kind {sk:?} role {role:?}");
    }
    let shown: Vec<String> = links.iter().map(ToString::to_string).collect();
    t.note(format!("{when}: {}", shown.join("; ")));
    Ok(())
}

/// Unloads virtio_net and the failover module, loads the module with `params`
/// and virtio_net again, and waits for the master with both slaves.
pub(crate) fn reload(t: &mut T, params: &str) -> Res<()> {
    t.ok("rmmod virtio_net")?;
    t.stack.unload_failover(&mut t.vm.guest)?;
    let file = t.stack.failover[0].clone();
    t.ok(&format!("insmod {MODULE_DIR}/{file} {params}"))?;
    t.ok(&format!("insmod {MODULE_DIR}/virtio_net.ko"))?;
    t.wait_topology()
}

/// `link_kind=1`: the master reports the kind `failover`, its slaves the
/// slave kind `failover` and their role, through unplug and re-plug; the
/// master keeps its `device` link, no `master` and its name; `ip link add
/// type failover` is refused with a message; unloading leaves no splat. On
/// C, what it reports is recorded.
pub fn link_kind(t: &mut T) -> Res<()> {
    if t.stack.is_c() {
        let r = t.roles.clone();
        let ours = |n: &str| {
            [Some(r.master.as_str()), r.standby.as_deref(), r.primary.as_deref()].contains(&Some(n))
        };
        let kinds: Vec<String> = dump(t.g())?
            .iter()
            .filter(|l| ours(&l.name) && (l.kind.is_some() || l.slave_kind.is_some()))
            .map(ToString::to_string)
            .collect();
        let seen =
            if kinds.is_empty() { "none reported (C has no rtnl_link_ops)".into() } else { kinds.join("; ") };
        t.observe("link kinds", seen);
        let (rc, out) = t.g().run(&format!("{IP} link add nfx0 type failover"))?;
        t.observe("ip link add type failover", format!("rc {rc}: {}", out.trim()));
        return Ok(());
    }
    let before = t.roles.clone();
    check_kinds(t, false, "link_kind off")?;
    reload(t, "link_kind=1")?;
    let param = t.g().read("/sys/module/net_failover_rs/parameters/link_kind")?;
    ensure!(param == "Y", "link_kind parameter reads {param:?}");
    ensure!(t.roles == before, "names changed with link_kind=1: {} (before: {before})", t.roles);
    check_kinds(t, true, "link_kind=1")?;

    let r = t.roles.clone();
    let (m, sb) = (r.master.clone(), r.standby()?.to_string());
    let dev = |t: &mut T, d: &str| t.ok(&format!("readlink -f /sys/class/net/{d}/device"));
    let (md, sd) = (dev(t, &m)?, dev(t, &sb)?);
    ensure!(md == sd && md.contains("virtio"), "master's device {md}, standby's {sd}");
    ensure!(t.ip_link(&m)?.get("master").is_none(), "master has an upper device");
    let (rc, out) = t.g().run(&format!("{IP} link add nfx0 type failover"))?;
    ensure!(rc != 0, "ip link add type failover succeeded: {out}");
    ensure!(out.contains("created by their paravirtual driver"), "ip link add type failover: {out}");
    t.observe("ip link add type failover", format!("rc {rc}: {}", out.trim()));
    let (rc, out) = t.g().run(&format!("{IP} link del {m}"))?;
    t.vm.wait_console("goes away with its paravirtual device: not deleted", Duration::from_secs(5))?;
    ensure!(t.ip_link(&m).is_ok(), "master {m} gone after ip link del (rc {rc}: {out})");
    t.note(format!("ip link del {m}: rc {rc} {}; the master stays", out.trim()));

    t.unplug()?;
    check_kinds(t, true, "link_kind=1, primary unplugged")?;
    t.replug()?;
    check_kinds(t, true, "link_kind=1, primary re-plugged")?;

    t.ok("rmmod virtio_net")?;
    t.stack.unload_failover(&mut t.vm.guest)?;
    let lsmod = t.ok("cat /proc/modules")?;
    ensure!(!lsmod.lines().any(|l| l.starts_with("net_failover_rs ")), "net_failover_rs still loaded");
    let file = t.stack.failover[0].clone();
    t.ok(&format!("insmod {MODULE_DIR}/{file}"))?;
    t.ok(&format!("insmod {MODULE_DIR}/virtio_net.ko"))?;
    t.wait_topology()?;
    check_kinds(t, false, "reloaded without link_kind")
}
