//! `primary_open_delay_ms` (ours only; C has no such parameter and opens a
//! new primary as it enslaves it): a re-plugged primary is enslaved at once
//! but opened after the delay, so that udev can rename it first; a rename,
//! an unplug and an unload inside the window.

use crate::initramfs::{IP, MODULE_DIR};
use crate::net::{netdevs, wait_attr, Path, IFF_UP};
use crate::scenarios::T;
use crate::util::{poll, Res};
use crate::{bail, ensure};
use std::time::{Duration, Instant};

const PARAM: &str = "/sys/module/net_failover_rs/parameters/primary_open_delay_ms";
/// The delay the module is loaded with.
const DELAY_MS: u64 = 3000;
/// The delay of the windows an unplug or an unload must fall in: the guest's
/// PCIe hot-unplug alone takes 5 s (pciehp's attention button).
const LONG_MS: u64 = 30000;

/// Whether `dev` is UP.
fn is_up(t: &mut T, dev: &str) -> Res<bool> {
    let d = netdevs(t.g())?.into_iter().find(|d| d.name == dev);
    Ok(d.is_some_and(|d| d.flags & IFF_UP != 0))
}

/// The master's `active_slave` in `ethtool -S` (1 primary, 2 standby).
fn active_slave(t: &mut T) -> Res<u64> {
    let m = t.roles.master.clone();
    let out = t.ok(&format!("ethtool -S {m}"))?;
    let v = out.lines().find_map(|l| l.trim().strip_prefix("active_slave:").map(|v| v.trim().parse().ok()));
    v.flatten().ok_or_else(|| crate::util::Error(format!("no active_slave in ethtool -S {m}: {out}")))
}

/// The time stamp (s) of the last kernel log line containing `needle`.
fn logged_at(t: &mut T, needle: &str) -> Res<Option<f64>> {
    let dmesg = t.ok("dmesg")?;
    let line = dmesg.lines().rev().find(|l| l.contains(needle));
    Ok(line.and_then(|l| l.strip_prefix('[')?.split(']').next()?.trim().parse().ok()))
}

/// Waits up to `timeout` for the kernel log line `needle`; its time stamp.
fn wait_logged(t: &mut T, needle: &str, timeout: Duration) -> Res<f64> {
    let at = poll(timeout, Duration::from_millis(200), || logged_at(t, needle))?;
    at.ok_or_else(|| crate::util::Error(format!("kernel log has no \"{needle}\" after {timeout:?}")))
}

/// Re-plugs the primary; returns its name once enslaved, checking it is
/// not UP and the master transmits on the standby, with the "opens in" line.
fn replug_deferred(t: &mut T, ms: u64, what: &str) -> Res<String> {
    // The names come back: only this re-plug's lines may count.
    t.ok("dmesg -c >/dev/null")?;
    t.replug()?;
    let pr = t.roles.primary()?.to_string();
    ensure!(!is_up(t, &pr)?, "{what}: {pr} is UP right after it was enslaved");
    let active = active_slave(t)?;
    ensure!(active == 2, "{what}: active_slave {active} right after the re-plug, expected 2 (standby)");
    wait_logged(t, &format!("failover primary slave:{pr} opens in {ms} ms"), Duration::from_secs(2))?;
    Ok(pr)
}

pub fn open_delay(t: &mut T) -> Res<()> {
    t.master_up()?;
    if t.stack.is_c() {
        let (rc, _) = t.g().run("ls /sys/module/net_failover/parameters/primary_open_delay_ms")?;
        t.observe("primary_open_delay_ms", if rc == 0 { "present" } else { "no such parameter" }.into());
        t.unplug()?;
        t.replug()?;
        let pr = t.roles.primary()?.to_string();
        let up = is_up(t, &pr)?;
        t.observe("a re-plugged primary right after it is enslaved", if up { "UP" } else { "not UP" }.into());
        return Ok(());
    }
    crate::links::reload(t, &format!("primary_open_delay_ms={DELAY_MS}"))?;
    let param = t.g().read(PARAM)?;
    ensure!(param == DELAY_MS.to_string(), "primary_open_delay_ms reads {param:?}");
    // The initial primary was enslaved with the master down: the master's open opens it.
    t.master_up()?;
    t.ping_via(Path::Primary, "loaded with the delay")?;

    // (a) A re-plugged primary opens after the delay; the standby transmits until then.
    t.unplug()?;
    let pr = replug_deferred(t, DELAY_MS, "re-plug")?;
    t.observe("a re-plugged primary right after it is enslaved", format!("not UP (opens in {DELAY_MS} ms)"));
    let deferred = wait_logged(t, &format!("failover primary slave:{pr} opens in"), Duration::from_secs(1))?;
    let opened = wait_logged(t, &format!("failover primary slave:{pr} opened"), Duration::from_secs(10))?;
    let after = ((opened - deferred) * 1000.0) as u64;
    ensure!(after + 50 >= DELAY_MS && after < DELAY_MS + 2000, "{pr} opened {after} ms after the deferral");
    ensure!(is_up(t, &pr)?, "{pr} is not UP after its \"opened\" line");
    t.note(format!("{pr} opened {after} ms after it was enslaved"));
    wait_attr(t.g(), &pr, "carrier", "1", Duration::from_secs(30))?;
    let active = active_slave(t)?;
    ensure!(active == 1, "active_slave {active} after the deferred open, expected 1 (primary)");
    t.ping_via(Path::Primary, "after the deferred open")?;

    // (b) A rename in the window opens it at once, under its new name.
    t.unplug()?;
    let pr = replug_deferred(t, DELAY_MS, "re-plug before a rename")?;
    let renamed = Instant::now();
    t.ok(&format!("{IP} link set {pr} name vf0"))?;
    let up =
        poll(Duration::from_secs(10), Duration::from_millis(100), || Ok(is_up(t, "vf0")?.then_some(())))?;
    ensure!(up.is_some(), "vf0 (renamed from {pr}) not UP 10 s after its rename");
    let ms = renamed.elapsed().as_millis();
    // The work logs the opens it makes; the rename's is the name-change handler's.
    let by = match logged_at(t, "failover primary slave:vf0 opened")? {
        Some(_) => "by the delayed open",
        None => "by the rename, at once",
    };
    t.observe("a primary renamed in the window", format!("UP under its new name ({by})"));
    t.note(format!("vf0 (was {pr}) UP {ms} ms after its rename"));
    t.roles = crate::net::wait_roles(t.g(), "vf0 enslaved", Duration::from_secs(10), |r| {
        r.primary.as_deref() == Some("vf0") && r.complete()
    })?;
    wait_attr(t.g(), "vf0", "carrier", "1", Duration::from_secs(30))?;
    t.ping_via(Path::Primary, "after the rename")?;

    // (c) An unplug in the window cancels the open (a pending one would
    // open the next primary at once: (d) checks it does not).
    t.ok(&format!("echo {LONG_MS} > {PARAM}"))?;
    t.unplug()?;
    let pr = replug_deferred(t, LONG_MS, "re-plug before an unplug")?;
    t.unplug()?;
    if logged_at(t, &format!("failover primary slave:{pr} opened"))?.is_some() {
        bail!("{pr} was opened although it was unplugged in the window");
    }
    t.ping_via(Path::Standby, "unplugged in the window")?;

    // (d) Unloading in the window cancels the open and frees the master at once.
    let pr = replug_deferred(t, LONG_MS, "re-plug before an unload")?;
    let start = Instant::now();
    t.ok("rmmod virtio_net")?;
    let took = start.elapsed();
    ensure!(took < Duration::from_secs(10), "rmmod virtio_net took {took:?} with an open pending");
    t.stack.unload_failover(&mut t.vm.guest)?;
    ensure!(!is_up(t, &pr)?, "{pr} is UP after the unload in the window");
    t.note(format!("rmmod virtio_net in the window took {} ms", took.as_millis()));

    // Without the parameter a re-plugged primary opens at once again.
    let file = t.stack.failover[0].clone();
    t.ok(&format!("insmod {MODULE_DIR}/{file}"))?;
    t.ok(&format!("insmod {MODULE_DIR}/virtio_net.ko"))?;
    t.wait_topology()?;
    t.master_up()?;
    t.unplug()?;
    t.replug()?;
    let pr = t.roles.primary()?.to_string();
    ensure!(is_up(t, &pr)?, "without the parameter, {pr} is not UP right after it was enslaved");
    Ok(())
}
