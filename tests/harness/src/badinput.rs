//! Bad input: devices and requests the failover code must refuse with a
//! clear error and a log line, leaving nothing half-registered (no upper
//! link, rx handler or failover flag on the refused device), never a crash.
//! The C stack runs the same steps; where it misbehaves the result says so
//! in a note ("C: ... (known bug: ...)").
//!
//! `tests/debugmod/nf_debugtest.ko` (`--module`) makes the odd devices and
//! describes a netdev's upper device, rx handler and failover flag. The
//! scenarios that need the debug kernel (network namespaces, bridge and
//! bonding modules) skip with the reason when the guest kernel lacks them.

use crate::initramfs::{IP, MODULE_DIR};
use crate::net::{netdevs, wait_attr, wait_roles, Netdev, Path, Roles};
use crate::scenarios::{BOOT_TIMEOUT, T};
use crate::util::{poll, progress, Res};
use crate::vm::{Primary, Spec, MAC, UNPLUG_TIMEOUT};
use crate::{bail, ensure};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// The guests these scenarios need beyond the default one.
pub fn spec(name: &str) -> Option<Spec> {
    match name {
        "second_slaves" => Some(Spec { spare_ports: 2, ..Spec::default() }),
        "enslaved_elsewhere" => Some(Spec { primary: Primary::Plain, ..Spec::default() }),
        _ => None,
    }
}

fn note(t: &mut T, s: String) {
    progress(format!("  {}: {s}", t.stack.name));
    t.notes.push(s);
}

const DEBUGTEST: &str = "nf_debugtest.ko";
const CHECK: &str = "/sys/module/nf_debugtest/parameters/check";
/// A MAC that none of the pair has.
const OTHER_MAC: &str = "52:54:00:aa:bb:cc";

fn has_module(t: &mut T, file: &str) -> Res<bool> {
    Ok(t.g().run(&format!("[ -f {MODULE_DIR}/{file} ]"))?.0 == 0)
}

/// Loads nf_debugtest with `args`; false (and the scenario skipped) if it was not given.
fn debugtest(t: &mut T, args: &str) -> Res<bool> {
    if !has_module(t, DEBUGTEST)? {
        t.skip(format!("no --module {DEBUGTEST} given (tests/debugmod)"))?;
        return Ok(false);
    }
    t.ok(&format!("insmod {MODULE_DIR}/{DEBUGTEST} {args}"))?;
    Ok(true)
}

/// nf_debugtest's description of `dev` ("key=value ..."), in network namespace `ns`.
fn inspect(t: &mut T, dev: &str, ns: Option<&str>) -> Res<BTreeMap<String, String>> {
    let cmd = format!("echo {dev} > {CHECK} && cat {CHECK}");
    let cmd = match ns {
        Some(ns) => format!("{IP} netns exec {ns} sh -c '{cmd}'"),
        None => cmd,
    };
    let out = t.ok(&cmd)?;
    let kv = out.split_whitespace().filter_map(|w| w.split_once('='));
    let mut m: BTreeMap<String, String> = kv.map(|(k, v)| (k.into(), v.into())).collect();
    m.insert("raw".into(), out.trim().into());
    Ok(m)
}

/// Nothing of a failover is left on `dev`: no upper device, no rx handler, no
/// failover flag, no slave marks (`IFF_SLAVE`, `IFF_NO_ADDRCONF`).
fn standalone(t: &mut T, dev: &str, ns: Option<&str>) -> Res<BTreeMap<String, String>> {
    let i = inspect(t, dev, ns)?;
    let clean = i["master"] == "-"
        && i["upper"] == "0"
        && i["rx_handler"] == "-"
        && ["failover_slave", "slave", "no_addrconf"].iter().all(|k| i.get(*k).is_some_and(|v| v == "0"));
    ensure!(clean, "{dev} is half-registered: {}", i["raw"]);
    Ok(i)
}

/// Clears the kernel log buffer that `logged` reads.
fn mark(t: &mut T) -> Res<()> {
    t.ok("dmesg -c >/dev/null").map(drop)
}

/// Whether the kernel log since the last `mark` has `line`.
fn logged(t: &mut T, line: &str) -> Res<bool> {
    Ok(t.ok("dmesg")?.contains(line))
}

/// `line` must be logged on our stack; on C its absence is a note.
fn refusal_logged(t: &mut T, line: &str, c_note: &str) -> Res<()> {
    let found = logged(t, line)?;
    match (found, t.stack.is_c()) {
        (true, _) => note(t, format!("logged \"{line}\"")),
        (false, true) => note(t, format!("C: {c_note}, without a log line")),
        (false, false) => bail!("no \"{line}\" in the kernel log: {}", t.ok("dmesg")?),
    }
    Ok(())
}

/// Runs `cmd`, which must fail with `errno` (as `ip` prints it).
fn refused(t: &mut T, cmd: &str, errno: &str) -> Res<()> {
    let (rc, out) = t.g().run(cmd)?;
    ensure!(rc != 0 && out.contains(errno), "`{cmd}`: rc {rc}, expected \"{errno}\": {}", out.trim());
    Ok(())
}

fn address(t: &mut T, dev: &str) -> Res<String> {
    t.g().read(&format!("/sys/class/net/{dev}/address"))
}

/// The pair is as it was: its master, with the same standby and primary.
fn pair_intact(t: &mut T) -> Res<()> {
    let r = t.roles.clone();
    let devs = netdevs(t.g())?;
    let upper = |n: &str| devs.iter().find(|d| d.name == n).map(|d| d.master.clone());
    let slaves = [r.standby()?, r.primary()?];
    let ok =
        upper(&r.master) == Some(None) && slaves.iter().all(|s| upper(s) == Some(Some(r.master.clone())));
    ensure!(ok, "the pair ({r}) changed: {devs:?}");
    Ok(())
}

/// A re-plugged primary that cannot take the master's MTU is not enslaved:
/// it stays a standalone netdev, the master keeps working on the standby.
pub fn mtu_refused(t: &mut T) -> Res<()> {
    let m = t.roles.master.clone();
    t.vm.unplug_primary()?;
    wait_roles(t.g(), "primary gone", BOOT_TIMEOUT, |r| r.primary.is_none())?;
    t.ok(&format!("{IP} link set {m} mtu 9500 && dmesg -c >/dev/null"))?;
    t.vm.plug_primary()?;
    let g = t.g();
    let vf = poll(BOOT_TIMEOUT, Duration::from_millis(300), || {
        Ok(netdevs(g)?.into_iter().find(|d| d.driver == "e1000e"))
    })?;
    let Some(vf) = vf else { bail!("the re-plugged primary did not appear") };
    std::thread::sleep(Duration::from_secs(2));
    let vf = netdevs(t.g())?.into_iter().find(|d| d.name == vf.name).unwrap_or(vf);
    ensure!(vf.master.is_none(), "{} enslaved to {:?} with an MTU it refuses", vf.name, vf.master);
    ensure!(vf.mtu != 9500, "{} has MTU 9500", vf.name);
    let want = format!("unable to change mtu of {} to 9500 register failed", vf.name);
    let log = t.ok("dmesg")?;
    ensure!(log.contains(&want), "no \"{want}\" in the kernel log: {log}");
    note(t, format!("{}: {want}; stays standalone with MTU {}", vf.name, vf.mtu));
    let max = t.ip_link(&vf.name)?["max_mtu"].as_u64().unwrap_or(0);
    note(t, format!("{} max_mtu {max} < master MTU 9500: dev_set_mtu() -EINVAL, not enslaved", vf.name));
    if has_module(t, DEBUGTEST)? {
        t.ok(&format!("insmod {MODULE_DIR}/{DEBUGTEST}"))?;
        let i = standalone(t, &vf.name, None)?;
        note(t, format!("nothing left on it: {}", i["raw"]));
    }
    let sb = t.roles.standby()?.to_string();
    let s = netdevs(t.g())?.into_iter().find(|d| d.name == sb);
    ensure!(
        s.as_ref().and_then(|d| d.master.as_deref()) == Some(m.as_str()),
        "standby lost its master: {s:?}"
    );
    Ok(())
}

/// `failover_register()` of a non-Ethernet device fails with -EINVAL.
pub fn non_ethernet(t: &mut T) -> Res<()> {
    t.ok("dmesg -c >/dev/null")?;
    let (rc, out) = t.g().run(&format!("insmod {MODULE_DIR}/nf_pvtest.ko mac={MAC} nonether=1"))?;
    ensure!(rc != 0 && out.contains("Invalid argument"), "insmod with a non-Ethernet master: rc {rc}: {out}");
    let log = t.ok("dmesg")?;
    let line = "failover master must be an Ethernet device";
    if t.stack.is_c() {
        ensure!(!log.contains(line), "C logged {line}");
        note(
            t,
            "C: failover_register() of a non-Ethernet device fails with -EINVAL without a log line".into(),
        );
    } else {
        ensure!(log.contains(line), "no \"{line}\" in the kernel log: {log}");
        note(t, format!("-EINVAL, logged \"{line}\""));
    }
    ensure!(t.g().run("lsmod | grep -q nf_pvtest")?.0 != 0, "nf_pvtest loaded");
    Ok(())
}

/// A non-Ethernet netdev with the pair's permanent MAC is not enslaved.
pub fn nonether_slave(t: &mut T) -> Res<()> {
    mark(t)?;
    if !debugtest(t, &format!("mac={MAC} nonether=1"))? {
        return Ok(());
    }
    let i = standalone(t, "dbgraw0", None)?;
    ensure!(
        i["perm"] == MAC && i["type"] != "1",
        "dbgraw0 is not a non-Ethernet device with {MAC}: {}",
        i["raw"]
    );
    let line = "dbgraw0: has a failover master's permanent MAC but is not an Ethernet device: not enslaved";
    refusal_logged(t, line, "a non-Ethernet device with the pair's permanent MAC is ignored")?;
    t.ok("rmmod nf_debugtest")?;
    pair_intact(t)
}

/// A non-PCI Ethernet netdev with the pair's permanent MAC is not enslaved as
/// primary, with the primary present and without it.
pub fn nonpci_slave(t: &mut T) -> Res<()> {
    mark(t)?;
    if !debugtest(t, &format!("mac={MAC} ether=1"))? {
        return Ok(());
    }
    let m = t.roles.master.clone();
    standalone(t, "dbgeth0", None)?;
    let line = "dbgeth0 attempting to register as slave dev when primary already present";
    ensure!(logged(t, line)?, "no \"{line}\" in the kernel log: {}", t.ok("dmesg")?);
    note(t, format!("with the primary present: logged \"{line}\""));
    t.ok("rmmod nf_debugtest")?;
    pair_intact(t)?;

    t.vm.unplug_primary()?;
    wait_roles(t.g(), "primary gone", BOOT_TIMEOUT, |r| r.primary.is_none())?;
    mark(t)?;
    t.ok(&format!("insmod {MODULE_DIR}/{DEBUGTEST} mac={MAC} ether=1"))?;
    standalone(t, "dbgeth0", None)?;
    let line = "dbgeth0 is not a PCI device, not enslaved as primary";
    refusal_logged(t, line, "without a primary, a non-PCI device with the pair's MAC is refused (-EINVAL)")?;
    let r = wait_roles(t.g(), "standby only", Duration::from_secs(5), |r| r.standby.is_some())?;
    ensure!(r.master == m && r.primary.is_none(), "after the non-PCI device: {r}");
    t.ok("rmmod nf_debugtest")?;
    Ok(())
}

/// Waits for netdevs with `driver` other than `known`.
fn new_netdevs(t: &mut T, driver: &str, known: &[&str], n: usize) -> Res<Vec<Netdev>> {
    let g = t.g();
    let found = poll(BOOT_TIMEOUT, Duration::from_millis(300), || {
        let devs: Vec<Netdev> = netdevs(g)?
            .into_iter()
            .filter(|d| d.driver == driver && !known.contains(&d.name.as_str()))
            .collect();
        Ok((devs.len() >= n).then_some(devs))
    })?;
    let Some(devs) = found else { bail!("no {n} new {driver} netdev(s) after {}s", BOOT_TIMEOUT.as_secs()) };
    std::thread::sleep(Duration::from_secs(2));
    let now = netdevs(t.g())?;
    Ok(devs.iter().filter_map(|d| now.iter().find(|n| n.name == d.name).cloned()).collect())
}

/// A second e1000e and a second virtio-net failover NIC with the pair's MAC,
/// hot-plugged into free root ports. The second primary is refused (the
/// pair has one); the second virtio-net's master takes its own standby on
/// ours (C offers it to the first master, which refuses it).
pub fn second_slaves(t: &mut T) -> Res<()> {
    let r = t.roles.clone();
    let (m, sb, pr) = (r.master.clone(), r.standby()?.to_string(), r.primary()?.to_string());
    for id in ["nx0", "nx1"] {
        t.vm.qmp.execute("netdev_add", json!({ "type": "user", "id": id }))?;
    }
    mark(t)?;
    let dup = json!({ "driver": "e1000e", "id": "dup0", "bus": "rpx0", "netdev": "nx0", "mac": MAC, "romfile": "" });
    t.vm.qmp.device_add(&dup)?;
    let e = new_netdevs(t, "e1000e", &[&pr], 1)?.remove(0);
    ensure!(e.master.is_none(), "second e1000e {} enslaved to {:?}", e.name, e.master);
    let line = format!("{} attempting to register as slave dev when primary already present", e.name);
    ensure!(logged(t, &line)?, "no \"{line}\" in the kernel log: {}", t.ok("dmesg")?);
    note(t, format!("second primary {}: -EINVAL, logged \"{line}\"", e.name));
    if has_module(t, DEBUGTEST)? {
        t.ok(&format!("insmod {MODULE_DIR}/{DEBUGTEST}"))?;
        standalone(t, &e.name, None)?;
    }
    pair_intact(t)?;

    mark(t)?;
    let sb2 = json!({ "driver": "virtio-net-pci", "id": "standby_dup", "bus": "rpx1", "netdev": "nx1",
                      "mac": MAC, "failover": true });
    t.vm.qmp.device_add(&sb2)?;
    let v = new_netdevs(t, "virtio_net", &[&m, &sb], 2)?;
    let port = |t: &mut T, d: &str| t.g().run(&format!("cat /sys/class/net/{d}/phys_port_name")).map(|o| o.1);
    let (mut m2, mut s2) = (None, None);
    for d in &v {
        if port(t, &d.name)?.trim() == "sby" {
            s2 = Some(d.clone());
        } else {
            m2 = Some(d.name.clone());
        }
    }
    let (Some(m2), Some(s2)) = (m2, s2) else { bail!("second virtio-net: no master and standby in {v:?}") };
    let log = t.ok("dmesg")?;
    if s2.master.as_deref() == Some(m2.as_str()) {
        ensure!(
            t.stack.is_c() || log.contains(&format!("failover standby slave:{} registered", s2.name)),
            "{log}"
        );
        note(t, format!("second virtio-net: master {m2} has its own standby {}", s2.name));
    } else {
        ensure!(s2.master.is_none(), "second standby {} enslaved to {:?}", s2.name, s2.master);
        let why =
            log.lines().find(|l| l.contains(&format!("{} attempting", s2.name))).unwrap_or("no log line");
        t.known_c(
            format!("second virtio-net: standby {} offered to the first master {m} and refused ({why}); its master {m2} stays empty", s2.name),
            "the MAC lookup returns the first master, not the one made for the standby",
        )?;
    }
    if log.contains(&format!("{sb} attempting")) {
        ensure!(t.stack.is_c(), "{m2}'s slave scan re-offered {sb}: {log}");
        note(
            t,
            format!("C: {m2}'s slave scan re-offers the first pair's slaves, refused with a log line each"),
        );
    }
    pair_intact(t)?;

    mark(t)?;
    t.vm.qmp.device_del("standby_dup", UNPLUG_TIMEOUT)?;
    t.vm.qmp.device_del("dup0", UNPLUG_TIMEOUT)?;
    let g = t.g();
    let gone = poll(BOOT_TIMEOUT, Duration::from_millis(300), || {
        let devs = netdevs(g)?;
        Ok(devs.iter().all(|d| [&m, &sb, &pr].contains(&&d.name)).then_some(()))
    })?;
    ensure!(gone.is_some(), "after unplugging the second NICs: {:?}", netdevs(t.g())?);
    t.vm.wait_console(&format!("failover master:{m2} unregistered"), Duration::from_secs(10))?;
    pair_intact(t)
}

/// MAC changes: the master refuses with -EOPNOTSUPP on both stacks (ours
/// logs it); a slave's change is refused with -EBUSY and logged on ours (C
/// lets the primary's MAC change under the master; virtio refuses the
/// standby's with -EOPNOTSUPP).
pub fn mac_change(t: &mut T) -> Res<()> {
    let r = t.roles.clone();
    let (m, sb, pr) = (r.master.clone(), r.standby()?.to_string(), r.primary()?.to_string());
    mark(t)?;
    refused(t, &format!("{IP} link set {m} address {OTHER_MAC}"), "Operation not supported")?;
    let line = "failover master: MAC address change not supported (-EOPNOTSUPP)";
    refusal_logged(t, line, "the master refuses a MAC change with -EOPNOTSUPP")?;

    mark(t)?;
    let (rc, out) = t.g().run(&format!("{IP} link set {pr} address {OTHER_MAC}"))?;
    let now = address(t, &pr)?;
    if rc == 0 || now != MAC {
        let still = netdevs(t.g())?.into_iter().find(|d| d.name == pr).and_then(|d| d.master);
        t.known_c(
            format!("primary {pr}'s MAC changed to {now} while enslaved (master {still:?} keeps {MAC})"),
            "a slave's MAC change is not handled",
        )?;
        t.ok(&format!("{IP} link set {pr} address {MAC}"))?;
    } else {
        ensure!(out.contains("Device or resource busy"), "primary MAC change: {}", out.trim());
        ensure!(logged(t, "failover slave: MAC address change refused (-EBUSY)")?, "{}", t.ok("dmesg")?);
        note(t, format!("primary {pr}: MAC change refused with -EBUSY, logged"));
    }

    mark(t)?;
    let errno = if t.stack.is_c() { "Operation not supported" } else { "Device or resource busy" };
    refused(t, &format!("{IP} link set {sb} address {OTHER_MAC}"), errno)?;
    if t.stack.is_c() {
        note(t, format!("C: standby {sb}: virtio_net refuses the MAC change (-EOPNOTSUPP), no log line"));
    } else {
        ensure!(logged(t, "failover slave: MAC address change refused (-EBUSY)")?, "{}", t.ok("dmesg")?);
        note(t, format!("standby {sb}: MAC change refused with -EBUSY, logged"));
    }
    for d in netdevs(t.g())? {
        ensure!(d.address == MAC, "{} has MAC {}", d.name, d.address);
    }
    pair_intact(t)
}

/// The primary moved to another network namespace is released; C enslaves
/// it again across namespaces, ours refuses with a log line. Moved back, it
/// is enslaved again on both.
pub fn netns_move(t: &mut T) -> Res<()> {
    if t.g().run("[ -e /proc/self/ns/net ]")?.0 != 0 {
        return t.skip("guest kernel has no network namespaces (CONFIG_NET_NS): needs the debug kernel");
    }
    if !debugtest(t, "")? {
        return Ok(());
    }
    let r = t.roles.clone();
    let (m, pr) = (r.master.clone(), r.primary()?.to_string());
    t.ok(&format!("{IP} netns add nfo"))?;
    refused(t, &format!("{IP} link set {m} netns nfo"), "netns is immutable")?;
    note(t, format!("master {m}: move to another namespace refused (-EINVAL, netns_immutable)"));
    mark(t)?;
    t.ok(&format!("{IP} link set {pr} netns nfo"))?;
    t.vm.wait_console(&format!("failover primary slave:{pr} unregistered"), Duration::from_secs(10))?;
    std::thread::sleep(Duration::from_secs(2));
    let i = inspect(t, &pr, Some("nfo"))?;
    if i["master"] == "-" {
        standalone(t, &pr, Some("nfo"))?;
        let line = format!("{pr}: has a failover master's permanent MAC but is in another network namespace");
        ensure!(logged(t, &line)?, "no \"{line}\" in the kernel log: {}", t.ok("dmesg")?);
        note(t, format!("in namespace nfo: not enslaved, logged \"{line}\""));
    } else {
        t.known_c(
            format!(
                "{pr} moved to namespace nfo is enslaved again to {} of the initial namespace ({})",
                i["master"], i["raw"]
            ),
            "the MAC lookup ignores the network namespace",
        )?;
    }
    t.ok(&format!("{IP} netns exec nfo {IP} link set {pr} netns 1"))?;
    t.roles = wait_roles(t.g(), "primary back and enslaved", BOOT_TIMEOUT, Roles::complete)?;
    ensure!(t.roles.master == m, "after the move back: {}", t.roles);
    note(t, format!("moved back: enslaved to {m} again"));
    t.ok(&format!("{IP} netns del nfo"))?;
    Ok(())
}

/// The e1000e is a bridge port (then a bond slave) before the failover
/// master appears: its rx handler is taken, the master refuses it with
/// -EBUSY and a log line and keeps its standby only; a failover slave
/// cannot be moved to a bridge (-EOPNOTSUPP).
pub fn enslaved_elsewhere(t: &mut T) -> Res<()> {
    for m in ["llc.ko", "stp.ko", "bridge.ko"] {
        if !has_module(t, m)? {
            return t.skip(format!(
                "no {m} in the guest: needs the debug kernel and --module for llc.ko, stp.ko, bridge.ko (and bonding.ko)"
            ));
        }
    }
    if !debugtest(t, "")? {
        return Ok(());
    }
    t.ok(&format!("insmod {MODULE_DIR}/e1000e.ko"))?;
    let pr = new_netdevs(t, "e1000e", &[], 1)?.remove(0).name;
    for m in ["llc.ko", "stp.ko", "bridge.ko"] {
        t.ok(&format!("insmod {MODULE_DIR}/{m}"))?;
    }
    t.ok(&format!("{IP} link add br0 type bridge && {IP} link set {pr} master br0 && {IP} link set br0 up"))?;
    let line = "can not register failover rx handler (err = -16)";
    let master_for = |t: &mut T, upper: &str, handler: &str| -> Res<Roles> {
        mark(t)?;
        t.ok(&format!("insmod {MODULE_DIR}/virtio_net.ko"))?;
        let r = wait_roles(t.g(), "master with its standby", BOOT_TIMEOUT, |r| r.standby.is_some())?;
        std::thread::sleep(Duration::from_secs(2));
        ensure!(logged(t, line)?, "no \"{line}\" in the kernel log: {}", t.ok("dmesg")?);
        let i = inspect(t, &r.primary()?.to_string(), None)?;
        let ok = i["master"] == upper && i["failover_slave"] == "0" && i["rx_handler"].starts_with(handler);
        ensure!(ok, "{upper} port after the failover master came: {}", i["raw"]);
        Ok(r)
    };
    let rb = master_for(t, "br0", "br_handle_frame")?;
    let m = rb.master.clone();
    note(
        t,
        format!("{pr} in br0: -EBUSY, logged \"{line}\"; keeps br0's rx handler; {m} has its standby only"),
    );
    let sb = rb.standby()?.to_string();
    refused(t, &format!("{IP} link set {sb} master br0"), "Operation not supported")?;
    note(t, format!("standby {sb} to br0: -EOPNOTSUPP (no ndo_del_slave on the failover master)"));
    let s = t.ip_link(&sb)?;
    ensure!(s["master"] == rb.master.as_str(), "{sb} left its master: {}", s["master"]);

    if !has_module(t, "bonding.ko")? {
        note(t, "no bonding.ko in the guest: bond part not run".into());
        return Ok(());
    }
    t.ok(&format!(
        "rmmod virtio_net && {IP} link set {pr} nomaster && insmod {MODULE_DIR}/bonding.ko max_bonds=0"
    ))?;
    t.ok(&format!("{IP} link add bond0 type bond mode active-backup && {IP} link set {pr} down"))?;
    t.ok(&format!("{IP} link set {pr} master bond0 && {IP} link set bond0 up"))?;
    let rb = master_for(t, "bond0", "bond_handle_frame")?;
    note(t, format!("{pr} in bond0: -EBUSY, logged \"{line}\"; master {} has its standby only", rb.master));
    Ok(())
}

/// `net_failover_destroy()` with the primary still attached (`rmmod
/// virtio_net`: the standby goes first, through its unregistration): the
/// primary is released, left standalone and working; on a kernel with
/// kmemleak, nothing of the failover stack leaks.
pub fn destroy_with_slaves(t: &mut T) -> Res<()> {
    t.master_up()?;
    t.ping_via(Path::Primary, "before destroy")?;
    let r = t.roles.clone();
    let (m, sb, pr) = (r.master.clone(), r.standby()?.to_string(), r.primary()?.to_string());
    t.ok("rmmod virtio_net")?;
    let devs = netdevs(t.g())?;
    ensure!(
        devs.len() == 1 && devs[0].name == pr && devs[0].master.is_none(),
        "after rmmod virtio_net: {devs:?}"
    );
    for line in [
        format!("failover standby slave:{sb} unregistered"),
        format!("failover primary slave:{pr} unregistered"),
        format!("failover master:{m} unregistered"),
    ] {
        t.vm.wait_console(&line, Duration::from_secs(5))?;
    }
    if has_module(t, DEBUGTEST)? {
        t.ok(&format!("insmod {MODULE_DIR}/{DEBUGTEST}"))?;
        let i = standalone(t, &pr, None)?;
        note(t, format!("primary released: {}", i["raw"]));
    }
    t.ok(&format!("{IP} addr add 10.0.2.16/24 dev {pr} && {IP} link set {pr} up"))?;
    wait_attr(t.g(), &pr, "carrier", "1", Duration::from_secs(30))?;
    let (_, out) = t.g().run("ping -c 5 -W 1 -i 0.2 10.0.2.2")?;
    ensure!(!out.contains(" 0 packets received"), "standalone primary {pr}: no ping replies: {out}");
    note(t, format!("standalone {pr} works: {}", out.lines().find(|l| l.contains("received")).unwrap_or("")));
    kmemleak(t)
}

/// On a kernel with kmemleak: a scan must find nothing allocated by the failover modules.
fn kmemleak(t: &mut T) -> Res<()> {
    let f = "/sys/kernel/debug/kmemleak";
    t.g().run("mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null")?;
    if t.g().run(&format!("[ -e {f} ]"))?.0 != 0 {
        note(t, "no kmemleak in this kernel: leak scan not run".into());
        return Ok(());
    }
    t.ok(&format!("echo scan > {f}"))?;
    let report = t.ok(&format!("cat {f}"))?;
    let leaks: Vec<&str> = report.split("unreferenced object").filter(|o| o.contains("failover")).collect();
    let what = format!("kmemleak: {} object(s) of the failover modules", leaks.len());
    match leaks.first() {
        None => note(t, "kmemleak scan: nothing of the failover modules".into()),
        Some(l) if t.stack.is_c() => note(t, format!("C: {what}: {l}")),
        Some(l) => bail!("{what}: {l}"),
    }
    Ok(())
}
