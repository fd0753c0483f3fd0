//! Reliability scenarios for the debug kernel: hot-plug stress with link
//! flaps, MTU changes and multicast churn; load/unload cycles; races on two
//! vCPUs; a seeded random sequence of all of these; and the self-test of the
//! checkers (a planted leak and use-after-free must be caught). On the debug
//! kernel they assert path, counters, leaks and splats; loss and timing are
//! only reported. Each guest ends with `debug::teardown`.

use crate::debug::{self, counts, Counts};
use crate::initramfs::{IP, MODULE_DIR};
use crate::logscan::Known;
use crate::net::{netdevs, Roles};
use crate::scenarios::{Scenario, T};
use crate::suite::{self, addr, complete, flow, plug_action, resp, steady, transition, unplug_action};
use crate::traffic::{Flow, Totals};
use crate::util::{progress, Context, Res};
use crate::vm::Spec;
use crate::{bail, ensure};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const ALL: &[Scenario] = &[
    Scenario { name: "planted", run: planted, rust_only: true, topology: false },
    Scenario { name: "stress", run: stress, rust_only: false, topology: false },
    Scenario { name: "reloads", run: reloads, rust_only: false, topology: false },
    Scenario { name: "races", run: races, rust_only: false, topology: false },
    Scenario { name: "fuzz", run: fuzz, rust_only: false, topology: false },
    Scenario { name: "faults", run: crate::faults::faults, rust_only: false, topology: false },
];

/// Scenarios of the normal suite that a debug run repeats under the checkers,
/// on our stack only (the normal suite compares them with C): in the slice,
/// the bad inputs that need the debug kernel (namespaces, bridge and bond);
/// in the soak, every bad input and the 2-netdev model.
const ALSO_IN_DEBUG: &[&str] = &["netns_move", "enslaved_elsewhere"];
const ALSO_IN_SOAK: &[&str] = &[
    "two_netdev",
    "destroy_with_slaves",
    "mtu_refused",
    "non_ethernet",
    "nonether_slave",
    "nonpci_slave",
    "second_slaves",
    "mac_change",
];

/// Reliability scenarios that the slice runs on our stack only (the soak on both).
const OURS_IN_SLICE: &[&str] = &["races", "fuzz"];

/// Whether a debug run skips scenario `name` on the C stack.
pub fn ours_only_in_debug(name: &str) -> bool {
    let soak = counts().is_some_and(|c| c.all_bad_input);
    ALSO_IN_DEBUG.contains(&name) || ALSO_IN_SOAK.contains(&name) || !soak && OURS_IN_SLICE.contains(&name)
}

/// Whether scenario `name` belongs to a debug run (`debug`) or a normal one.
pub fn runs_in(name: &str, debug: bool) -> bool {
    let ours = ALL.iter().any(|s| s.name == name);
    if debug {
        let soak = counts().is_some_and(|c| c.all_bad_input);
        ours || ALSO_IN_DEBUG.contains(&name) || soak && ALSO_IN_SOAK.contains(&name)
    } else {
        !ours
    }
}

/// The guest of a reliability scenario: one pair on the responder's backends.
pub fn spec(name: &str) -> Option<Spec> {
    match name {
        "planted" => Some(Spec::default()),
        n if ALL.iter().any(|s| s.name == n) => {
            Some(Spec { responder: Some(Default::default()), ..Spec::default() })
        }
        _ => None,
    }
}

fn c() -> Res<&'static Counts> {
    counts().ok_or_else(|| crate::util::Error("a reliability scenario needs --debug".into()))
}

const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";
const TEST_MODULE: &str = "nf_debugtest";

/// How many objects `nf_debugtest leak=1` leaks (NF_DEBUGTEST_LEAKS).
const PLANTED_LEAKS: usize = 8;

/// The checkers prove they work: a leaked allocation is reported by kmemleak
/// with a backtrace into the test module, a read after kfree() by KASAN.
fn planted(t: &mut T) -> Res<()> {
    let ko = format!("{MODULE_DIR}/{TEST_MODULE}.ko");
    if t.g().run(&format!("[ -e {ko} ]"))?.0 != 0 {
        bail!("{ko} missing: the planted checks need --module tests/debugmod/{TEST_MODULE}.ko");
    }
    t.planted.push(Known { pattern: "new suspected memory leaks", what: "planted leak, caught by kmemleak" });
    // A planted object whose address was still in a stale slot at the
    // check's scans is reported at the end instead: its contents name it
    // (the module is gone by then, and its backtrace has no symbols).
    t.planted.push(Known {
        pattern: "nf_debugtest lea",
        what: "planted leak object, reported after the check's scans",
    });
    t.planted.push(Known {
        pattern: "BUG: KASAN: slab-use-after-free",
        what: "planted use-after-free, caught by KASAN",
    });
    // Read the report while the module is loaded: its backtrace names it.
    // kmemleak is conservative: an object whose address is still in a stale
    // slot it scans (old stack contents, in pages that come back as objects)
    // is not reported until that slot is overwritten. The module leaks
    // PLANTED_LEAKS objects and wipes its stack; one more pair of scans is
    // allowed before the miss fails the run.
    t.ok(&format!("insmod {ko} leak=1"))?;
    let ours = format!("[{TEST_MODULE}]");
    let caught = |leaks: &[String]| leaks.iter().filter(|l| l.contains(&ours)).count();
    let mut leaks = debug::leaks(t.g())?;
    let mut scans = 2;
    if caught(&leaks) == 0 {
        leaks = debug::leaks(t.g())?;
        scans = 4;
    }
    t.ok(&format!("rmmod {TEST_MODULE}"))?;
    let caught: Vec<&String> = leaks.iter().filter(|l| l.contains(&ours)).collect();
    ensure!(
        !caught.is_empty(),
        "kmemleak missed all {PLANTED_LEAKS} planted leaks in {scans} scans; it reported: {leaks:?}"
    );
    t.rel(
        "planted leak",
        format!(
            "caught by kmemleak ({} of {PLANTED_LEAKS} objects, {scans} scans): {}",
            caught.len(),
            debug::leak_summary(caught[0])
        ),
    );
    ensure!(caught.len() == leaks.len(), "leaks besides the planted one: {leaks:?}");
    t.ok(&format!("echo clear > {KMEMLEAK}"))?;

    t.ok(&format!("insmod {ko} uaf=1 && rmmod {TEST_MODULE}"))?;
    let log = t.vm.console();
    let Some(line) = log.lines().find(|l| l.contains("BUG: KASAN: slab-use-after-free")) else {
        bail!("KASAN missed the planted use-after-free");
    };
    ensure!(line.contains(TEST_MODULE), "KASAN's report does not name {TEST_MODULE}: {line}");
    t.rel("planted use-after-free", format!("caught by KASAN: {}", line.split("] ").last().unwrap_or(line)));
    Ok(())
}

/// Loads the stack, brings the master up and starts a flow through the primary.
/// The flow restarts ping when it exits (soak runs outlast its sequence numbers).
fn start(t: &mut T) -> Res<(Roles, Flow)> {
    let r = suite::up(t)?;
    let f = Flow::start(t.g(), "f", crate::responder::IPS[0], true)?;
    let resp = resp(t)?;
    let path = t.vm.path(true, 0);
    ensure!(
        resp.wait_switch(&path, f.dst, Instant::now() - Duration::from_secs(1), Duration::from_secs(60))
            .is_some(),
        "no traffic through {path}"
    );
    Ok((r, f))
}

/// Stops the flow and reports its loss (the debug kernel is too slow to bound it).
fn report(t: &mut T, f: Flow) -> Res<Totals> {
    let resp = resp(t)?;
    let tot = f.stop(t.g(), &resp)?;
    let per: BTreeMap<&str, (usize, u32)> = tot.samples.iter().fold(BTreeMap::new(), |mut m, s| {
        let e = m.entry(s.name.as_str()).or_insert((0, 0));
        e.0 += 1;
        e.1 += s.udp;
        m
    });
    let per: Vec<String> = per.iter().map(|(n, (k, u))| format!("{n} x{k}: {u} udp lost")).collect();
    t.rel("loss (reported only)", format!("{tot}; {}", per.join(", ")));
    let slow: Vec<u64> = tot.samples.iter().filter_map(|s| s.switch_ms).collect();
    if !slow.is_empty() {
        let max = slow.iter().max().unwrap_or(&0);
        let avg = slow.iter().sum::<u64>() / slow.len() as u64;
        t.rel(
            "switch time (reported only)",
            format!("mean {avg} ms, max {max} ms over {} switches", slow.len()),
        );
    }
    t.samples.extend(tot.samples.iter().cloned());
    Ok(tot)
}

/// Every slave has the master's MTU and the master's multicast groups.
fn state_matches(t: &mut T, want_groups: &[String]) -> Res<()> {
    let r = t.roles.clone();
    let devs = netdevs(t.g())?;
    let mtu = |n: &str| devs.iter().find(|d| d.name == n).map(|d| d.mtu);
    let m = mtu(&r.master);
    for s in [r.standby.clone(), r.primary.clone()].into_iter().flatten() {
        ensure!(mtu(&s) == m, "{s} has MTU {:?}, the master {:?}", mtu(&s), m);
        let groups = t.ok(&format!("{IP} maddr show dev {s}"))?;
        for g in want_groups {
            ensure!(groups.contains(g.as_str()), "{s} lacks the master's group {g}: {groups}");
        }
    }
    Ok(())
}

fn group(i: usize) -> String {
    format!("01:00:5e:01:{:02x}:{:02x}", (i / 256) % 128, i % 256)
}

/// Unplug/plug cycles under traffic, interleaved with primary link flaps,
/// MTU changes on the master (with and without a primary) and multicast
/// joins and leaves; the path and the counters are checked every 10 cycles.
fn stress(t: &mut T) -> Res<()> {
    let n = c()?.cycles;
    let (r, mut f) = start(t)?;
    steady(t, &f, &r, true, 0, "before the cycles")?;
    let m = r.master.clone();
    let begin = t.master_stats()?;
    let started = Instant::now();
    let mut groups: Vec<String> = Vec::new();
    let mut ops: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..n {
        transition(t, &mut f, "unplug", Some(t.vm.path(false, 0)), unplug_action(0))?;
        *ops.entry("unplug").or_default() += 1;
        if i % 4 == 0 {
            t.ok(&format!("{IP} link set {m} mtu {}", if i % 8 == 0 { 1400 } else { 1500 }))?;
            *ops.entry("mtu without primary").or_default() += 1;
        }
        if i % 4 == 1 {
            groups.push(group(i));
            t.ok(&format!("{IP} maddr add {} dev {m}", groups.last().unwrap()))?;
            *ops.entry("multicast join").or_default() += 1;
        }
        transition(t, &mut f, "replug", Some(t.vm.path(true, 0)), plug_action(0))?;
        *ops.entry("plug").or_default() += 1;
        let p = t.roles.primary()?.to_string();
        if i % 4 == 2 {
            transition(t, &mut f, "primary down", Some(t.vm.path(false, 0)), |t| {
                t.ok(&format!("{IP} link set {p} down")).map(drop)
            })?;
            transition(t, &mut f, "primary up", Some(t.vm.path(true, 0)), |t| {
                t.ok(&format!("{IP} link set {p} up")).map(drop)
            })?;
            *ops.entry("primary link flap").or_default() += 1;
        }
        if i % 4 == 3 {
            if let Some(g) = groups.pop() {
                t.ok(&format!("{IP} maddr del {g} dev {m}"))?;
                *ops.entry("multicast leave").or_default() += 1;
            }
            let mtu = if i % 8 == 3 { 1450 } else { 1500 };
            transition(t, &mut f, "mtu with primary (it resets)", Some(t.vm.path(true, 0)), |t| {
                t.ok(&format!("{IP} link set {m} mtu {mtu}")).map(drop)
            })?;
            *ops.entry("mtu with primary").or_default() += 1;
        }
        if i % 10 == 9 || i + 1 == n {
            let r = t.roles.clone();
            steady(t, &f, &r, true, 0, &format!("cycle {}", i + 1))?;
            state_matches(t, &groups)?;
        }
        progress(format!(
            "  {}: stress: cycle {}/{n}, {:.0} s",
            t.stack.name,
            i + 1,
            started.elapsed().as_secs_f64()
        ));
    }
    let end = t.master_stats()?;
    t.monotonic(&format!("{n} stress cycles"), &begin, &end)?;
    let ops: Vec<String> = ops.iter().map(|(k, v)| format!("{v} {k}")).collect();
    t.rel(
        "operations",
        format!("{n} cycles in {:.0} s: {}", started.elapsed().as_secs_f64(), ops.join(", ")),
    );
    report(t, f).map(drop)
}

/// Removes and reloads virtio_net, or virtio_net and the failover module(s),
/// with traffic running: with and without a primary attached, the master up
/// and down. After each reload the new master has its slaves and carries the
/// traffic on the primary. (A primary unplugged before the reload comes back:
/// QEMU plugs a failover primary again when the new virtio_net acks STANDBY.)
fn reloads(t: &mut T) -> Res<()> {
    let n = c()?.reloads;
    suite::up(t)?;
    let failover = t.stack.failover.clone();
    let names = t.stack.module_names();
    let started = Instant::now();
    for i in 0..n {
        let (with_primary, master_up, all) = (i % 2 == 0, i % 4 < 2, i % 3 != 2);
        if !with_primary {
            t.vm.unplug(0)?;
            suite::roles(t, 0, "primary gone", |r| r.primary.is_none())?;
        }
        let m = t.roles.master.clone();
        if !master_up {
            t.ok(&format!("{IP} link set {m} down"))?;
        }
        // A ping that outlives the master it was started on.
        t.ok(
            "rm -f /tmp/rl.stop; (while [ ! -e /tmp/rl.stop ]; do ping -i 0.1 -w 600 192.168.100.1 >/dev/null 2>&1 & \
             echo $! >/tmp/rl.pid; wait $!; sleep 0.2; done) &",
        )?;
        let mut cmd = "rmmod virtio_net".to_string();
        if all {
            cmd += &names.iter().rev().map(|m| format!(" && rmmod {m}")).collect::<String>();
            cmd += &failover.iter().map(|m| format!(" && insmod {MODULE_DIR}/{m}")).collect::<String>();
        }
        cmd += &format!(" && insmod {MODULE_DIR}/virtio_net.ko");
        t.ok(&cmd)?;
        complete(t, 0)?;
        addr(t, 0)?;
        let f = flow(t, "r", 0, true)?;
        let r = t.roles.clone();
        steady(t, &f, &r, true, 0, &format!("reload {}", i + 1))?;
        let rp = resp(t)?;
        f.stop(t.g(), &rp)?;
        t.ok("touch /tmp/rl.stop; kill $(cat /tmp/rl.pid); sleep 0.3")?;
        progress(format!(
            "  {}: reloads: {}/{n} ({} primary, master {}, {}), {:.0} s",
            t.stack.name,
            i + 1,
            if with_primary { "with" } else { "without" },
            if master_up { "up" } else { "down" },
            if all { "virtio_net and the failover module" } else { "virtio_net" },
            started.elapsed().as_secs_f64()
        ));
    }
    t.rel("operations", format!("{n} load/unload cycles in {:.0} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Starts readers of every counter interface, one per vCPU, niced and with
/// a pause per round so that the guest agent still gets the CPU; returns their pids.
fn stats_readers(t: &mut T) -> Res<String> {
    let loop_ = format!(
        "nice -n 19 sh -c 'while [ ! -e /tmp/st.stop ]; do cat /proc/net/dev; {IP} -s link; \
         cat /sys/class/net/*/statistics/*; sleep 0.1; done' >/dev/null 2>&1"
    );
    let pids = t.ok(&format!("rm -f /tmp/st.stop; {loop_} & echo $!; {loop_} & echo $!"))?;
    Ok(pids.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Starts `device_del` of the primary and returns at once (QEMU unplugs it meanwhile).
fn unplug_async(t: &mut T) -> Res<()> {
    t.vm.qmp.events.retain(|v| v["event"] != "DEVICE_DELETED");
    t.vm.qmp.execute("device_del", json!({ "id": "primary0" })).map(drop)
}

fn unplug_wait(t: &mut T) -> Res<()> {
    let is = |d: &serde_json::Value| d["device"] == "primary0";
    t.vm.qmp.wait_event("DEVICE_DELETED", is, Duration::from_secs(120))?;
    suite::roles(t, 0, "primary gone", |r| r.primary.is_none()).map(drop)
}

/// Races on the guest's two vCPUs, with counter readers running on both:
/// rename vs unplug, MTU change vs plug, link down vs unplug, multicast
/// storm vs plug. Each race runs for `race_secs`; after all of them the
/// master has both slaves with its state, and carries traffic on the primary.
fn races(t: &mut T) -> Res<()> {
    let secs = c()?.race_secs;
    let (_, f) = start(t)?;
    let readers = stats_readers(t)?;
    let m = t.roles.master.clone();
    let mut done: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    let mut groups = Vec::new();
    for race in ["rename vs unplug", "link down vs unplug", "MTU change vs plug", "multicast storm vs plug"] {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until || !done.contains_key(race) {
            let p = t.roles.primary()?.to_string();
            match race {
                "rename vs unplug" => {
                    unplug_async(t)?;
                    let _ = t.g().run(&format!("{IP} link set {p} name rc{}", done.len()));
                    unplug_wait(t)?;
                }
                "link down vs unplug" => {
                    unplug_async(t)?;
                    let _ = t.g().run(&format!("{IP} link set {p} down"));
                    unplug_wait(t)?;
                }
                "MTU change vs plug" => {
                    t.vm.unplug(0)?;
                    t.vm.plug(0)?;
                    let _ = t
                        .g()
                        .run(&format!("for v in 1400 1500 1450 1500; do {IP} link set {m} mtu $v; done"));
                }
                _ => {
                    t.vm.unplug(0)?;
                    t.g().ok(&format!(
                        "(i=0; while [ $i -lt 20 ]; do {IP} maddr add 01:00:5e:02:00:$((i % 50 + 10)) dev {m}; \
                         {IP} maddr del 01:00:5e:02:00:$((i % 50 + 10)) dev {m}; i=$((i+1)); done) \
                         >/dev/null 2>&1 & echo $! > /tmp/storm.pid"
                    ))?;
                    t.vm.plug(0)?;
                    let wait = "while kill -0 $(cat /tmp/storm.pid) 2>/dev/null; do sleep 0.2; done";
                    t.g().run_timeout(wait, Duration::from_secs(600))?;
                }
            }
            if race.ends_with("unplug") {
                t.vm.plug(0)?;
            }
            complete(t, 0)?;
            *done.entry(race).or_default() += 1;
        }
        progress(format!("  {}: races: {race} x{}", t.stack.name, done[race]));
    }
    t.ok("touch /tmp/st.stop")?;
    let wait = format!("for p in {readers}; do while kill -0 $p 2>/dev/null; do sleep 0.2; done; done");
    t.g().run_timeout(&wait, Duration::from_secs(300))?;
    groups.push(group(7));
    t.ok(&format!("{IP} maddr add {} dev {m}", groups[0]))?;
    let r = complete(t, 0)?;
    crate::net::wait_attr(t.g(), &r.master, "carrier", "1", Duration::from_secs(60))?;
    steady(t, &f, &r, true, 0, "after the races")?;
    state_matches(t, &groups)?;
    let d: Vec<String> = done.iter().map(|(k, v)| format!("{k} x{v}")).collect();
    t.rel(
        "operations",
        format!("{} in {:.0} s, stats readers on both vCPUs", d.join(", "), started.elapsed().as_secs_f64()),
    );
    report(t, f).map(drop)
}

/// splitmix64: a seeded sequence that replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FUZZ_OPS: &[&str] = &[
    "unplug",
    "plug",
    "primary flap",
    "master mtu",
    "join",
    "leave",
    "rename primary",
    "rename standby",
    "master down/up",
    "reload virtio_net",
    "stats",
];

/// A seeded random sequence of the operations above for `fuzz_secs`; after
/// each step the topology is what the step must leave, and at the end the
/// master carries traffic on the right path with its state on every slave.
/// A failure names the seed and the step; `--seed` replays it.
fn fuzz(t: &mut T) -> Res<()> {
    let cfg = c()?;
    let seed = cfg.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    t.rel("seed", format!("{seed} (replay: nf-harness --debug --only fuzz --seed {seed})"));
    let mut rng = Rng(seed);
    suite::up(t)?;
    let started = Instant::now();
    let mut plugged = true;
    let mut groups: Vec<String> = Vec::new();
    let mut log: Vec<String> = Vec::new();
    let mut step = 0;
    while started.elapsed() < Duration::from_secs(cfg.fuzz_secs) {
        step += 1;
        let op = FUZZ_OPS[rng.below(FUZZ_OPS.len() as u64) as usize];
        let arg = rng.below(1000);
        log.push(op.to_string());
        let r = fuzz_step(t, op, arg, &mut plugged, &mut groups)
            .and_then(|()| {
                if plugged {
                    complete(t, 0).map(drop)
                } else {
                    suite::roles(t, 0, "standby only", |r| r.primary.is_none()).map(drop)
                }
            })
            .ctx(format!("fuzz seed {seed}, step {step} ({op} {arg}); replay with --seed {seed}"));
        r?;
    }
    if !plugged {
        t.vm.plug(0)?;
        complete(t, 0)?;
    }
    let r = complete(t, 0)?;
    crate::net::wait_attr(t.g(), &r.master, "carrier", "1", Duration::from_secs(60))?;
    let f = flow(t, "z", 0, true)?;
    steady(t, &f, &r, true, 0, "after the random sequence")?;
    state_matches(t, &groups)?;
    let rp = resp(t)?;
    f.stop(t.g(), &rp)?;
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &log {
        *per.entry(o.as_str()).or_default() += 1;
    }
    let per: Vec<String> = per.iter().map(|(k, v)| format!("{v} {k}")).collect();
    t.rel(
        "operations",
        format!("{step} steps in {:.0} s: {}", started.elapsed().as_secs_f64(), per.join(", ")),
    );
    Ok(())
}

fn fuzz_step(t: &mut T, op: &str, arg: u64, plugged: &mut bool, groups: &mut Vec<String>) -> Res<()> {
    let r = t.roles.clone();
    let m = r.master.clone();
    match op {
        "unplug" if *plugged => {
            t.vm.unplug(0)?;
            *plugged = false;
        }
        "plug" if !*plugged => {
            t.vm.plug(0)?;
            *plugged = true;
        }
        "primary flap" if *plugged => {
            let p = r.primary()?;
            t.ok(&format!("{IP} link set {p} down && {IP} link set {p} up"))?;
        }
        "master mtu" => {
            t.ok(&format!("{IP} link set {m} mtu {}", 1280 + arg % 221))?;
        }
        "join" => {
            groups.push(group(arg as usize));
            if t.g().run(&format!("{IP} maddr add {} dev {m}", groups.last().unwrap()))?.0 != 0 {
                groups.pop();
            }
        }
        "leave" if !groups.is_empty() => {
            let g = groups.remove(arg as usize % groups.len());
            t.ok(&format!("{IP} maddr del {g} dev {m}"))?;
        }
        "rename primary" if *plugged => {
            t.ok(&format!("{IP} link set {} name fp{arg}", r.primary()?))?;
        }
        "rename standby" => {
            t.ok(&format!("{IP} link set {} name fs{arg}", r.standby()?))?;
        }
        "master down/up" => {
            t.ok(&format!("{IP} link set {m} down && {IP} link set {m} up"))?;
        }
        "reload virtio_net" => {
            t.ok(&format!("rmmod virtio_net && insmod {MODULE_DIR}/virtio_net.ko"))?;
            // The new master has none of the old one's state.
            groups.clear();
            // The new driver negotiates VIRTIO_NET_F_STANDBY again, and QEMU
            // then adds the paired primary back if it is missing
            // (failover_add_primary() in hw/net/virtio-net.c).
            *plugged = true;
            suite::roles(t, 0, "a new master", |r| r.standby.is_some())?;
            addr(t, 0)?;
        }
        "stats" => {
            t.ok(&format!(
                "cat /proc/net/dev >/dev/null; {IP} -s link >/dev/null; cat /sys/class/net/{m}/statistics/*"
            ))?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_its_sequence() {
        let seq = |s| {
            let mut r = Rng(s);
            (0..20).map(|_| r.below(11)).collect::<Vec<_>>()
        };
        assert_eq!(seq(42), seq(42));
        assert_ne!(seq(42), seq(43));
    }

    #[test]
    fn reliability_scenarios_run_only_in_debug_runs() {
        assert!(runs_in("stress", true) && !runs_in("stress", false));
        assert!(runs_in("unplug_cycles", false) && !runs_in("unplug_cycles", true));
        assert!(runs_in("netns_move", true) && runs_in("netns_move", false));
        assert!(!runs_in("mtu_refused", true) && runs_in("mtu_refused", false));
        assert!(runs_in("mac_change", false));
    }
}
