//! Bad input: a slave that refuses the master's MTU, a non-Ethernet master.
//! Either must give a clear error and a log line, never a crash.

use crate::initramfs::{IP, MODULE_DIR};
use crate::net::{netdevs, wait_roles};
use crate::scenarios::{BOOT_TIMEOUT, T};
use crate::util::{poll, progress, Res};
use crate::vm::MAC;
use crate::{bail, ensure};
use std::time::Duration;

fn note(t: &mut T, s: String) {
    progress(format!("  {}: {s}", t.stack.name));
    t.notes.push(s);
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
