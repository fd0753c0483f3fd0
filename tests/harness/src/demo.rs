//! `--demo`: one guest, narrated: topology, ping, unplug, ping, re-plug, ping.

use crate::initramfs::IP;
use crate::net::{netdevs, ping_batch, wait_attr, wait_roles, Batch, Roles, Stats};
use crate::scenarios::BOOT_TIMEOUT;
use crate::stack::Stack;
use crate::util::Res;
use crate::vm::Vm;
use crate::Opts;
use std::time::Duration;

fn say(s: impl std::fmt::Display) {
    println!("{s}");
}

fn show(vm: &mut Vm, roles: &Roles) -> Res<()> {
    say(format!("$ ip -br link\n{}", vm.guest.ok(&format!("{IP} -br link"))?));
    for d in netdevs(&mut vm.guest)? {
        let role = if d.name == roles.master {
            "failover master".to_string()
        } else if Some(&d.name) == roles.standby.as_ref() {
            format!("standby slave of {}", roles.master)
        } else if d.master.is_some() {
            format!("primary slave of {}", roles.master)
        } else {
            "not enslaved".to_string()
        };
        say(format!("  {:6} driver {:12} mac {} mtu {:5} -> {role}", d.name, d.driver, d.address, d.mtu));
    }
    Ok(())
}

fn ping(vm: &mut Vm, roles: &Roles) -> Res<Batch> {
    let before = Stats::read(&mut vm.guest, &roles.master)?;
    say(format!("$ ping -c 10 -W 1 -i 0.2 {} (through {})", crate::net::PEER, roles.master));
    let b = ping_batch(vm, roles, 10)?;
    let path = match (b.wire.primary, b.wire.standby) {
        (p, 0) if p > 0 => "the PRIMARY (e1000e)",
        (0, s) if s > 0 => "the STANDBY (virtio-net)",
        _ => "no single path",
    };
    say(format!("  {b}\n  => the echo requests went through {path}"));
    let after = Stats::read(&mut vm.guest, &roles.master)?;
    say(format!("  master counters: {before}\n               -> {after}"));
    Ok(b)
}

fn demo_dir(o: &Opts, stack: &Stack) -> std::path::PathBuf {
    o.out.join(format!("demo-{}", stack.name))
}

fn vm_log(o: &Opts, stack: &Stack) -> Res<String> {
    let bytes = std::fs::read(demo_dir(o, stack).join("console.log"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn run(o: &Opts) -> Res<bool> {
    let stack = match o.stack.as_deref() {
        Some("rust") => Stack::rust(o.rust_module.as_deref()),
        _ => Stack::c(),
    };
    if let Some(why) = &stack.skip {
        crate::bail!("cannot demo the {} stack: {why}", stack.name);
    }
    std::fs::create_dir_all(&o.out)?;
    let initrd = crate::build_initramfs(o)?;
    say(format!(
        "== Booting a q35 guest (TCG) with virtio-net failover=on + e1000e primary; stack {}",
        stack.name
    ));
    let mut vm = Vm::boot(&o.kdir, &initrd, &demo_dir(o, &stack))?;
    say(format!("== Loading {} then e1000e.ko and virtio_net.ko", stack.failover.join(", ")));
    stack.load(&mut vm.guest)?;
    let mut roles = wait_roles(&mut vm.guest, "failover topology", BOOT_TIMEOUT, Roles::complete)?;
    say("== QEMU plugged the primary once virtio_net acked VIRTIO_NET_F_STANDBY:");
    show(&mut vm, &roles)?;
    say(format!(
        "$ ethtool -i {}\n{}",
        roles.master,
        vm.guest.ok(&format!("ethtool -i {} | head -2", roles.master))?
    ));

    let m = roles.master.clone();
    say(format!("== Configuring 10.0.2.15/24 on {m} and bringing it up"));
    vm.guest.ok(&format!("{IP} addr add 10.0.2.15/24 dev {m} && {IP} link set {m} up"))?;
    wait_attr(&mut vm.guest, roles.primary()?, "carrier", "1", Duration::from_secs(30))?;
    ping(&mut vm, &roles)?;

    say("== Hot-unplugging the primary (QMP device_del primary0)");
    let before = Stats::read(&mut vm.guest, &m)?;
    vm.unplug_primary()?;
    roles = wait_roles(&mut vm.guest, "primary gone", Duration::from_secs(30), |r| r.primary.is_none())?;
    let after = Stats::read(&mut vm.guest, &m)?;
    show(&mut vm, &roles)?;
    let down = before.decreases(&after);
    say(format!(
        "  master counters across the unplug: {before}\n                                  -> {after}"
    ));
    if !down.is_empty() {
        say(format!("  => counters went DOWN ({}): history lost on unplug (known C bug)", down.join(", ")));
    }
    ping(&mut vm, &roles)?;

    say("== Re-plugging the primary (QMP device_add primary0)");
    vm.plug_primary()?;
    roles = wait_roles(&mut vm.guest, "primary enslaved", BOOT_TIMEOUT, Roles::complete)?;
    wait_attr(&mut vm.guest, roles.primary()?, "carrier", "1", Duration::from_secs(30))?;
    show(&mut vm, &roles)?;
    ping(&mut vm, &roles)?;

    say("== Failover messages in the guest kernel log:");
    for l in vm.console().lines().filter(|l| l.contains("failover") && l.contains("registered")) {
        say(format!("  {}", l.trim_end()));
    }
    vm.shutdown();
    let scan = crate::logscan::scan(&vm_log(o, &stack)?, stack.known_bugs());
    for k in &scan.known {
        say(format!("  known C bug: {k}"));
    }
    for l in &scan.unexpected {
        say(format!("  UNEXPECTED: {l}"));
    }
    Ok(scan.unexpected.is_empty())
}
