//! `--install-root ROOT --expect rust|c`: boots a guest whose /lib/modules is
//! ROOT's modules tree (the test kernel's `modules_install`, plus ours when
//! `make install` put it there) with Debian's kmod, runs `modprobe e1000e` and
//! `modprobe virtio_net` as a distribution's boot does, and checks which
//! failover modules kmod loaded: ours alone (`rust`), or the C `failover` and
//! `net_failover` (`c`); in both cases the failover group must form.

use crate::guest::Guest;
use crate::net::{wait_roles, Roles};
use crate::util::{progress, Context, Res};
use crate::{bail, ensure, initramfs, logscan, vm};
use std::path::Path;
use std::time::Duration;

/// What a check found: its name, and `Err` with why it failed.
type Check = (String, Result<String, String>);

fn lsmod(g: &mut Guest) -> Res<Vec<String>> {
    let out = g.ok("lsmod")?;
    Ok(out.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect())
}

fn checks(g: &mut Guest, expect: &str) -> Res<Vec<Check>> {
    let mut v: Vec<Check> = Vec::new();
    let deps = g.ok("modprobe --show-depends virtio_net")?;
    let ours = expect == "rust";
    let want = if ours { "/updates/" } else { "/kernel/net/core/failover.ko" };
    v.push((
        "modprobe resolves virtio_net's failover dependency".into(),
        if deps.lines().any(|l| l.contains(want)) {
            Ok(deps.clone())
        } else {
            Err(format!("no {want} in: {deps}"))
        },
    ));
    g.ok("modprobe e1000e && modprobe virtio_net")?;
    let r = wait_roles(g, "master with both slaves", Duration::from_secs(60), Roles::complete);
    v.push(("the failover group forms".into(), r.map(|r| r.to_string()).map_err(|e| e.to_string())));
    let mods = lsmod(g)?;
    let has = |m: &str| mods.iter().any(|x| x == m);
    let loaded = format!("lsmod: {}", mods.join(" "));
    let right = if ours {
        has("net_failover_rs") && !has("net_failover") && !has("failover")
    } else {
        has("net_failover") && has("failover") && !has("net_failover_rs")
    };
    let what = if ours {
        "lsmod shows net_failover_rs and neither C module"
    } else {
        "lsmod shows the C failover and net_failover, not ours"
    };
    v.push((what.into(), if right { Ok(loaded) } else { Err(loaded) }));
    let aliases = g.run("find /lib/modules/$(uname -r)/updates -name net_failover.ko | grep -q .")?.0 == 0;
    if ours && aliases {
        // The C names are links to ours: kmod inserts the same module again,
        // the kernel answers EEXIST (it is loaded as net_failover_rs), and
        // modprobe takes that as "already loaded".
        let (rc, out) = g.run("modprobe net_failover && modprobe failover")?;
        let again = lsmod(g)?;
        let only = again.iter().filter(|m| m.contains("failover")).cloned().collect::<Vec<_>>();
        v.push((
            "modprobe net_failover and failover are satisfied by ours".into(),
            if rc == 0 && only == ["net_failover_rs"] {
                Ok(format!("lsmod: {}", again.join(" ")))
            } else {
                Err(format!("exit {rc} ({}), lsmod: {}", out.trim(), again.join(" ")))
            },
        ));
    }
    // The module virtio_net's failover symbols come from, as kmod names it.
    let Some(dep) = deps
        .lines()
        .filter_map(|l| l.strip_prefix("insmod "))
        .map(str::trim)
        .find(|p| !p.ends_with("/virtio_net.ko"))
    else {
        bail!("virtio_net has no dependency: {deps}")
    };
    let desc = g.ok(&format!("modinfo -F description {dep}"))?;
    let rs = desc.contains("(Rust)");
    v.push((
        format!("modinfo {dep} describes the module kmod loads"),
        if rs == ours { Ok(desc.trim().to_string()) } else { Err(desc.trim().to_string()) },
    ));
    Ok(v)
}

pub fn run(kdir: &Path, out: &Path, root: &Path, expect: &str) -> Res<bool> {
    ensure!(expect == "rust" || expect == "c", "--expect must be rust or c, not {expect}");
    let release = std::fs::read_to_string(kdir.join("include/config/kernel.release"))
        .ctx("the kernel's include/config/kernel.release")?;
    let tree = root.join("lib/modules").join(release.trim());
    ensure!(tree.join("modules.dep").is_file(), "{}: no modules.dep (run modules_install)", tree.display());
    let dir = out.join(format!("install-{expect}"));
    std::fs::create_dir_all(&dir)?;
    progress(format!("install/{expect}: building initramfs from {}", tree.display()));
    let initrd = out.join(format!("install-{expect}.cpio.gz"));
    initramfs::build_with(&initrd, &[], Some(&tree))?;
    progress(format!("install/{expect}: booting"));
    let mut vm = vm::Vm::boot(kdir, &initrd, &dir)?;
    let res = checks(&mut vm.guest, expect);
    vm.shutdown();
    let mut v = match res {
        Ok(v) => v,
        Err(e) => vec![("the guest session".into(), Err(e.to_string()))],
    };
    let known = if expect == "c" { crate::stack::Stack::c().known_bugs() } else { &[] };
    let scan = logscan::scan(&std::fs::read_to_string(dir.join("console.log")).unwrap_or_default(), known);
    v.push((
        "the guest's kernel log has no splat".into(),
        match scan.unexpected.first() {
            None => Ok(String::new()),
            Some(l) => Err(l.clone()),
        },
    ));
    let mut failed = 0;
    for (what, r) in &v {
        match r {
            Ok(s) => println!("PASS install/{expect}: {what}{}", if s.is_empty() { "" } else { ":" }),
            Err(e) => {
                failed += 1;
                println!("FAIL install/{expect}: {what}: {e}");
            }
        }
        if let Ok(s) = r {
            for l in s.lines().filter(|l| !l.trim().is_empty()) {
                println!("    {l}");
            }
        }
    }
    if v.is_empty() {
        bail!("no checks ran");
    }
    println!("{} passed, {failed} failed", v.len() - failed);
    Ok(failed == 0)
}
