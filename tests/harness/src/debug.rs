//! The debug kernel's checkers as a run reads them in the guest: kmemleak,
//! leftover netdevs, modules that do not unload; and the counts of a
//! reliability run (a slice in the test command, full counts in the soak).

use crate::bail;
use crate::guest::Guest;
use crate::scenarios::T;
use crate::util::{progress, Res};
use std::sync::OnceLock;
use std::time::Duration;

/// How much a reliability run does.
#[derive(Clone, Debug)]
pub struct Counts {
    /// Unplug/plug cycles of the stress scenario.
    pub cycles: usize,
    /// Load/unload cycles.
    pub reloads: usize,
    /// Seconds of each race.
    pub race_secs: u64,
    /// Seconds of the seeded random sequence.
    pub fuzz_secs: u64,
    /// The fuzz seed to replay, or None for a fresh one.
    pub seed: Option<u64>,
    /// Every bad-input scenario, not only those that need the debug kernel.
    pub all_bad_input: bool,
    /// The fault sweep injects at most this many allocations of each path,
    /// spread evenly over it (0: every allocation).
    pub fault_max: usize,
}

/// The test command's slice; `--soak` gives the full counts.
pub const SLICE: Counts = Counts {
    cycles: 6,
    reloads: 2,
    race_secs: 0,
    fuzz_secs: 30,
    seed: None,
    all_bad_input: false,
    fault_max: 3,
};
pub const SOAK: Counts = Counts {
    cycles: 500,
    reloads: 100,
    race_secs: 120,
    fuzz_secs: 1800,
    seed: None,
    all_bad_input: true,
    fault_max: 0,
};

static COUNTS: OnceLock<Counts> = OnceLock::new();

/// Sets the run's counts: a debug run (the guest kernel is the debug kernel).
pub fn set(c: Counts) {
    let _ = COUNTS.set(c);
}

/// The counts of a debug run, None in a normal run.
pub fn counts() -> Option<&'static Counts> {
    COUNTS.get()
}

const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";

/// What the guest had before the scenario loaded anything.
pub struct Baseline {
    netdevs: String,
}

/// Forgets the leaks the boot left and records the guest's netdevs. kmemleak
/// reports only objects older than 5 s, so it waits that long first.
pub fn arm(g: &mut Guest) -> Res<Baseline> {
    if g.run(&format!("[ -e {KMEMLEAK} ]"))?.0 != 0 {
        bail!("{KMEMLEAK} missing: --debug needs the debug kernel (tests/setup.sh --debug)");
    }
    g.run_timeout(&format!("sleep 5; echo scan > {KMEMLEAK}; echo clear > {KMEMLEAK}"), SCAN_TIMEOUT)?;
    Ok(Baseline { netdevs: g.ok("ls /sys/class/net")?.trim().to_string() })
}

const SCAN_TIMEOUT: Duration = Duration::from_secs(300);

/// The objects kmemleak reports after two scans, one report per object.
pub fn leaks(g: &mut Guest) -> Res<Vec<String>> {
    let cmd = format!("sleep 6; echo scan > {KMEMLEAK}; echo scan > {KMEMLEAK}; cat {KMEMLEAK}");
    let (rc, out) = g.run_timeout(&cmd, SCAN_TIMEOUT)?;
    if rc != 0 {
        bail!("kmemleak scan failed: {out}");
    }
    Ok(split_reports(&out))
}

fn split_reports(out: &str) -> Vec<String> {
    let mut reports: Vec<String> = Vec::new();
    for line in out.lines() {
        if line.starts_with("unreferenced object") {
            reports.push(String::new());
        }
        if let Some(r) = reports.last_mut() {
            r.push_str(line.trim_end());
            r.push('\n');
        }
    }
    reports
}

/// The first backtrace line of a kmemleak report that names a module, or its first line.
pub fn leak_summary(report: &str) -> String {
    let first = report.lines().next().unwrap_or("").to_string();
    match report.lines().find(|l| l.contains(" [") && l.trim_end().ends_with(']')) {
        Some(l) => format!("{}: {}", first.trim_end_matches(':'), l.trim()),
        None => first,
    }
}

/// Unloads every module, then checks that all unloaded, that the netdevs are
/// those of the boot, and that kmemleak finds nothing. Each guest step has a
/// timeout, so a reference that is never put fails the run (with the
/// "waiting for ... to become free" lines in the log) instead of hanging it.
pub fn teardown(t: &mut T, base: &Baseline) -> Res<()> {
    let unload = "killall -q ping; for i in 1 2 3 4 5 6; do for m in $(cut -d' ' -f1 /proc/modules); do rmmod $m 2>/dev/null; done; done; \
                  cut -d' ' -f1,3 /proc/modules";
    let left = t.vm.guest.run_timeout(unload, Duration::from_secs(240))?.1;
    let left = left.trim();
    if !left.is_empty() {
        bail!("modules that do not unload (name, refcnt): {}", left.replace('\n', ", "));
    }
    let now = t.ok("ls /sys/class/net")?.trim().to_string();
    if now != base.netdevs {
        bail!("netdevs left after unloading everything: {now:?}, at boot: {:?}", base.netdevs);
    }
    let leaks = leaks(t.g())?;
    t.rel("kmemleak reports", leaks.len().to_string());
    if !leaks.is_empty() {
        progress(format!("  {}: kmemleak:\n{}", t.stack.name, leaks.join("\n")));
        for l in &leaks {
            // A leak a scenario found to be a kernel bug outside the failover
            // code, or one of the planted objects.
            let bug = t.planted.iter().find(|k| {
                (k.what.starts_with("kernel bug") || k.what.starts_with("planted")) && l.contains(k.pattern)
            });
            // Or a known kernel bug, once its raw frames are named.
            let named = crate::faults::symbolize(l, &t.module_syms);
            let kernel =
                crate::faults::kernel_leak(&crate::faults::leak_trace(&named).1, &t.stack.module_names());
            match (bug, kernel) {
                (Some(k), _) => t.note(format!("kmemleak: {}: {}", leak_summary(l), k.what)),
                (None, Some(k)) => {
                    t.note(format!(
                        "kmemleak: {}: kernel bug, not the failover code's: {k}",
                        leak_summary(&named)
                    ));
                    t.planted.push(crate::faults::KERNEL_LEAK_LOG);
                }
                (None, None) => t.known_c(format!("kmemleak: {}", leak_summary(l)), "memory leak")?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_split_per_object_and_name_their_module() {
        let out = "unreferenced object 0xffff8880 (size 96):\n  comm \"insmod\", pid 80\n  backtrace (crc 1):\n    \
                   [<ffffffff8>] __kmalloc_cache_noprof+0x1/0x2\n    [<ffffffffa>] nf_leak+0x1/0x2 [nf_debugtest]\n\
                   unreferenced object 0xffff8990 (size 8):\n  comm \"sh\"\n";
        let r = split_reports(out);
        assert_eq!(r.len(), 2);
        assert!(leak_summary(&r[0]).ends_with("nf_leak+0x1/0x2 [nf_debugtest]"));
        assert_eq!(leak_summary(&r[1]), "unreferenced object 0xffff8990 (size 8):");
        assert!(split_reports("").is_empty());
    }
}
