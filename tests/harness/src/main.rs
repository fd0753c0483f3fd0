//! nf-harness: boots QEMU guests with a virtio-net/e1000e failover pair and
//! checks the net_failover master of the C modules and of the Rust module.

mod badinput;
mod bench;
mod chart;
mod debug;
mod faults;
mod guest;
mod hotpath;
mod initramfs;
mod install;
mod ktap;
mod links;
mod logscan;
mod net;
mod opendelay;
mod pcap;
mod qmp;
mod reliability;
mod report;
mod responder;
mod scenarios;
mod stack;
mod suite;
mod traffic;
mod twonetdev;
mod udp;
mod util;
mod vm;
mod watch;

use report::{Outcome, Status};
use scenarios::{Scenario, T};
use stack::Stack;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use util::{progress, Res};

const USAGE: &str = "usage: nf-harness --kdir KDIR [--rust-module PATH] [--kunit-module PATH]
                  [--module PATH]... [--only NAME[,NAME...]] [--stack c|rust] [--out DIR] [--demo] [--bench [--suite DIR]]
                  [--install-root ROOT --expect rust|c]
                  [--debug [--soak] [--cycles N] [--reloads N] [--race-secs N]
                   [--fuzz-secs N] [--seed N] [--fault-max N]]

Runs every scenario on the `c` stack (failover.ko + net_failover.ko) and the
`rust` stack (--rust-module) in fresh QEMU guests. --demo boots one guest
(--stack, default c) and narrates a ping / unplug / re-plug cycle.

--debug: KDIR is the debug kernel (tests/setup.sh --debug); runs the
reliability scenarios (stress, reloads, races, bad input, injected faults, a
seeded random sequence, the planted leak and use-after-free) with the test
command's slice of counts, or the full counts with --soak; each count can be
set. Every guest is checked at the end: all modules unload, no netdev is
left, kmemleak finds nothing. --seed replays a random sequence.

--bench: KDIR is the benchmark kernel (tests/setup.sh --bench); measures the
per-packet cost in guest instructions (QEMU -icount, one vCPU) of the bare
e1000e, the C master, ours and bonding active-backup, TX and RX at 64 and
1500 B, dev_get_stats(), and flows over a multi-queue vmxnet3 primary; writes
bench.md, bench.csv and bench.png into --out. Needs --module for pktgen.ko,
bonding.ko, vmxnet3.ko and nf_debugtest.ko. --suite DIR: the results of a
suite run (unplug_cycles, migration) for the switchover figures and
timeline.png.

--install-root: boots one guest whose /lib/modules is ROOT's (the kernel's
modules_install into ROOT, with or without `make install
INSTALL_MOD_PATH=ROOT`) and Debian's kmod, runs `modprobe virtio_net`, and
checks that kmod loaded ours (--expect rust) or the C modules (--expect c)
and that the failover group formed.";

#[derive(Default)]
struct Opts {
    kdir: PathBuf,
    rust_module: Option<PathBuf>,
    kunit_module: Option<PathBuf>,
    extra: Vec<PathBuf>,
    only: Option<String>,
    stack: Option<String>,
    out: PathBuf,
    demo: bool,
    bench: bool,
    suite: Option<PathBuf>,
    debug: Option<debug::Counts>,
    install_root: Option<PathBuf>,
    expect: Option<String>,
}

fn parse_args() -> Result<Opts, String> {
    let mut o =
        Opts { out: Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("out"), ..Opts::default() };
    let mut kdir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--kdir" => kdir = Some(PathBuf::from(val()?)),
            "--rust-module" => o.rust_module = Some(val()?.into()),
            "--kunit-module" => o.kunit_module = Some(val()?.into()),
            "--module" => o.extra.push(val()?.into()),
            "--only" => o.only = Some(val()?),
            "--stack" => o.stack = Some(val()?),
            "--out" => o.out = val()?.into(),
            "--demo" => o.demo = true,
            "--bench" => o.bench = true,
            "--suite" => o.suite = Some(val()?.into()),
            "--install-root" => o.install_root = Some(val()?.into()),
            "--expect" => o.expect = Some(val()?),
            "--debug" => o.debug = Some(o.debug.take().unwrap_or(debug::SLICE)),
            "--soak" => {
                let seed = o.debug.as_ref().and_then(|c| c.seed);
                o.debug = Some(debug::Counts { seed, ..debug::SOAK });
            }
            "--cycles" | "--reloads" | "--race-secs" | "--fuzz-secs" | "--seed" | "--fault-max" => {
                let n: u64 = val()?.parse().map_err(|e| format!("{a}: {e}"))?;
                let c = o.debug.get_or_insert(debug::SLICE);
                match a.as_str() {
                    "--cycles" => c.cycles = n as usize,
                    "--reloads" => c.reloads = n as usize,
                    "--race-secs" => c.race_secs = n,
                    "--fuzz-secs" => c.fuzz_secs = n,
                    "--fault-max" => c.fault_max = n as usize,
                    _ => c.seed = Some(n),
                }
            }
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    o.kdir = kdir.ok_or("--kdir is required")?;
    if let Some(s) = &o.stack {
        if s != "c" && s != "rust" {
            return Err(format!("--stack must be c or rust, not {s}"));
        }
    }
    for n in o.only.iter().flat_map(|n| n.split(',')) {
        if !all_scenarios().any(|s| s.name == n) {
            let names: Vec<_> = all_scenarios().map(|s| s.name).collect();
            return Err(format!("no scenario {n}; scenarios: {}", names.join(", ")));
        }
    }

    Ok(o)
}

fn all_scenarios() -> impl Iterator<Item = &'static Scenario> {
    scenarios::ALL.iter().chain(suite::ALL).chain(reliability::ALL)
}

/// The scenarios of this run: the reliability ones on the debug kernel, the others otherwise.
fn scenarios_of(o: &Opts) -> impl Iterator<Item = &'static Scenario> + '_ {
    all_scenarios().filter(move |s| reliability::runs_in(s.name, o.debug.is_some()))
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn build_initramfs(o: &Opts) -> Res<PathBuf> {
    let mut mods: Vec<PathBuf> = [
        "net/core/failover.ko",
        "drivers/net/net_failover.ko",
        "drivers/net/ethernet/intel/e1000e/e1000e.ko",
        "drivers/net/virtio_net.ko",
    ]
    .iter()
    .map(|m| o.kdir.join(m))
    .collect();
    mods.extend(o.rust_module.iter().chain(&o.kunit_module).chain(&o.extra).filter(|p| p.is_file()).cloned());
    for m in &mods {
        ensure!(m.is_file(), "{} missing", m.display());
    }
    let dest = o.out.join("initramfs.cpio.gz");
    initramfs::build(&dest, &mods)?;
    Ok(dest)
}

/// Boots a guest, loads the stack and waits for the failover topology if the
/// scenario needs it; a suite scenario gets its own guest and responder, and
/// loads the modules itself.
fn start<'a>(o: &Opts, initrd: &Path, stack: &'a Stack, dir: &Path, sc: &Scenario) -> Res<T<'a>> {
    let Some(mut spec) = suite::spec(sc.name).or_else(|| reliability::spec(sc.name)) else {
        let spec = badinput::spec(sc.name).unwrap_or_default();
        let mut vm = vm::Vm::start(&o.kdir, initrd, dir, &spec)?;
        let base = if o.debug.is_some() { Some(debug::arm(&mut vm.guest)?) } else { None };
        if sc.topology {
            stack.load(&mut vm.guest)?;
        } else {
            stack.load_failover(&mut vm.guest)?;
        }
        let mut t = T::new(vm, stack, o.kunit_module.as_deref().map(file_name));
        t.base = base;
        if sc.topology {
            t.wait_topology()?;
        }
        return Ok(t);
    };
    let resp = match spec.responder {
        Some(_) => Some(responder::Responder::start(&vm::sock_dir()?)?),
        None => None,
    };
    spec.responder = resp.as_ref().map(|r| r.path.clone());
    let mut vm = vm::Vm::start(&o.kdir, initrd, dir, &spec)?;
    let base = if o.debug.is_some() { Some(debug::arm(&mut vm.guest)?) } else { None };
    let mut t = T::new(vm, stack, None);
    t.base = base;
    t.resp = resp;
    t.env =
        Some(scenarios::Env { kdir: o.kdir.clone(), initrd: initrd.to_path_buf(), dir: dir.to_path_buf() });
    Ok(t)
}

/// The guest kernel logs of a run: its console.log and those of guests in subdirectories.
fn consoles(dir: &Path) -> String {
    let mut paths = vec![dir.join("console.log")];
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut subs: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("console.log")).collect();
        subs.sort();
        paths.extend(subs.into_iter().filter(|p| p.is_file()));
    }
    paths
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned())
        .collect()
}

/// Where a scenario's run on a stack keeps its guests' files: `<stack>-<scenario><suffix>`.
fn run_dir(o: &Opts, stack: &Stack, sc: &Scenario, suffix: &str) -> PathBuf {
    o.out.join(format!("{}-{}{suffix}", stack.name, sc.name))
}

fn run_one(o: &Opts, initrd: &Path, sc: &Scenario, stack: &Stack) -> Vec<Outcome> {
    let mut out = Outcome {
        stack: stack.name.into(),
        name: sc.name.into(),
        status: Status::Skip,
        reason: String::new(),
        secs: 0.0,
        notes: Vec::new(),
        log: Vec::new(),
        samples: Vec::new(),
        observed: Vec::new(),
        rel: Vec::new(),
        hung: false,
    };
    if let Some(why) = &stack.skip {
        out.reason = why.clone();
        return vec![out];
    }
    if sc.name == "kunit" && o.kunit_module.is_none() {
        out.reason = "no --kunit-module given".into();
        return vec![out];
    }
    if matches!(sc.name, "two_netdev" | "non_ethernet")
        && !o.extra.iter().any(|m| m.ends_with("nf_pvtest.ko"))
    {
        out.reason = "no --module nf_pvtest.ko given".into();
        return vec![out];
    }
    let id = out.id();
    progress(format!("{id}: booting"));
    let started = Instant::now();
    let dir = run_dir(o, stack, sc, "");
    let mut cases = Vec::new();
    let mut planted = Vec::new();
    let mut skipped = None;
    let result = match start(o, initrd, stack, &dir, sc) {
        Ok(mut t) => {
            progress(format!("{id}: {}", if sc.topology { t.roles.to_string() } else { "running".into() }));
            let mut r = (sc.run)(&mut t);
            if r.is_ok() {
                if let Some(base) = t.base.take() {
                    r = debug::teardown(&mut t, &base);
                }
            }
            if let Err(e) = &mut r {
                if e.0.contains("timed out after") {
                    let probe = t.vm.guest.run_timeout("echo alive", Duration::from_secs(5));
                    out.hung = probe.is_err();
                    let log = vm::tail(&t.vm.console(), 25);
                    e.0 =
                        format!("{}; {}; then: {probe:?}; kernel log tail:\n{log}", e.0, t.vm.cpus(&o.kdir));
                }
            }
            out.notes = std::mem::take(&mut t.notes);
            out.samples = std::mem::take(&mut t.samples);
            out.observed = std::mem::take(&mut t.observed);
            out.rel = std::mem::take(&mut t.rel);
            cases = std::mem::take(&mut t.cases);
            planted = std::mem::take(&mut t.planted);
            skipped = t.skipped.take();
            if let Some(resp) = &t.resp {
                let _ = resp.dump(&dir.join("responder.tsv"));
                let _ = std::fs::remove_dir_all(resp.path.parent().unwrap_or(&dir));
            }
            t.vm.shutdown();
            r
        }
        Err(e) => Err(e),
    };
    planted.extend_from_slice(stack.known_bugs());
    let scan = logscan::scan(&consoles(&dir), &planted);
    let prefix = |k: &String| {
        if k.starts_with("planted") || k.starts_with("kernel bug") {
            ""
        } else {
            "known C bug: "
        }
    };
    let mut known: Vec<String> = scan.known.iter().map(|k| format!("{}{k}", prefix(k))).collect();
    known.dedup_by(|a, b| a.split(": ").nth(1) == b.split(": ").nth(1));
    out.notes.extend(known);
    out.secs = started.elapsed().as_secs_f64();
    out.log = scan.unexpected.clone();
    (out.status, out.reason) = match result {
        Err(e) => (Status::Fail, e.to_string()),
        Ok(()) if !scan.unexpected.is_empty() => {
            (Status::Fail, format!("kernel log: {} (see {}/console.log)", scan.unexpected[0], dir.display()))
        }
        Ok(()) => match skipped {
            Some(why) => (Status::Skip, why),
            None => (Status::Pass, String::new()),
        },
    };
    progress(format!("{id}: {} in {:.1}s", out.status.word(), out.secs));
    let mut all = Vec::new();
    if !cases.is_empty() && out.status == Status::Pass {
        for (name, ok, reason) in cases {
            let status = match ok {
                Some(true) => Status::Pass,
                Some(false) => Status::Fail,
                None => Status::Skip,
            };
            all.push(Outcome {
                name: format!("kunit/{name}"),
                status,
                reason,
                secs: 0.0,
                notes: vec![],
                log: vec![],
                samples: vec![],
                observed: vec![],
                rel: vec![],
                hung: false,
                ..out.clone()
            });
        }
        if let Some(first) = all.first_mut() {
            first.notes = out.notes;
            first.secs = out.secs;
        }
    } else {
        all.push(out);
    }
    all
}

fn run_bench(o: &Opts) -> Res<bool> {
    std::fs::create_dir_all(&o.out)?;
    progress("building initramfs");
    let initrd = build_initramfs(o)?;
    bench::run(o, &initrd)
}

fn run_all(o: &Opts) -> Res<bool> {
    std::fs::create_dir_all(&o.out)?;
    progress("building initramfs");
    let initrd = build_initramfs(o)?;
    let stacks: Vec<Stack> = [Stack::c(), Stack::rust(o.rust_module.as_deref())]
        .into_iter()
        .filter(|s| o.stack.as_deref().is_none_or(|w| w == s.name))
        .collect();
    let mut all: Vec<Outcome> = Vec::new();
    if let Some(c) = &o.debug {
        debug::set(c.clone());
        progress(format!("debug run: {c:?}"));
    }
    for sc in scenarios_of(o).filter(|s| o.only.as_deref().is_none_or(|n| n.split(',').any(|n| n == s.name)))
    {
        for stack in &stacks {
            if stack.is_c() && (sc.rust_only || o.debug.is_some() && reliability::ours_only_in_debug(sc.name))
            {
                continue;
            }
            let mut rs = run_one(o, &initrd, sc, stack);
            if let Some(first) = rs.iter().find(|r| r.hung && stack.is_c()) {
                // The C modules are the reference, not what is under test: a
                // guest that stops answering on their stack gets one more
                // attempt, and the first one's failure stays in the notes.
                // On our stack a hang is a failure.
                let why = first.reason.lines().next().unwrap_or_default().to_string();
                let (dir, kept) = (run_dir(o, stack, sc, ""), run_dir(o, stack, sc, "-hung"));
                let _ = std::fs::remove_dir_all(&kept);
                let kept = match std::fs::rename(&dir, &kept) {
                    Ok(()) => kept,
                    Err(_) => dir,
                };
                // What the first guest's kernel logged stays in the record.
                let scan = logscan::scan(&consoles(&kept), stack.known_bugs());
                progress(format!("{}: the guest stopped answering; a second attempt", first.id()));
                rs = run_one(o, &initrd, sc, stack);
                if let Some(r) = rs.first_mut() {
                    let mut notes = vec![format!(
                        "second attempt; the first one's guest stopped answering ({}): {why}",
                        kept.display()
                    )];
                    notes.extend(scan.unexpected.iter().map(|l| format!("first attempt's kernel log: {l}")));
                    notes.extend(scan.known.iter().map(|l| format!("first attempt: {l}")));
                    notes.append(&mut r.notes);
                    r.notes = notes;
                }
            }
            for r in rs {
                println!("{}", r.line());
                for n in &r.notes {
                    println!("    note: {n}");
                }
                for l in &r.log {
                    println!("    log: {l}");
                }
                all.push(r);
            }
        }
    }
    report::write(&o.out, &all)?;
    if o.debug.is_some() {
        report::write_reliability(&o.out, &all)?;
    }
    let diffs: Vec<&String> = all.iter().flat_map(|r| &r.notes).filter(|n| n.starts_with("C: ")).collect();
    if !diffs.is_empty() {
        println!("\nC-vs-Rust differences (known C bugs):");
        for d in diffs {
            println!("  {d}");
        }
    }
    let (p, f, s) = (
        report::count(&all, Status::Pass),
        report::count(&all, Status::Fail),
        report::count(&all, Status::Skip),
    );
    println!("\nresults: {}", o.out.join("results.md").display());
    println!("{s} skipped");
    println!("{p} passed, {f} failed");
    Ok(f == 0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let guest_mode = match args.first().map(String::as_str) {
        Some("--guest-udp") => Some(udp::run as fn(&[String]) -> Result<(), String>),
        Some("--guest-watch") => Some(watch::run as fn(&[String]) -> Result<(), String>),
        Some("--guest-links") => Some(links::run as fn(&[String]) -> Result<(), String>),
        _ => None,
    };
    if let Some(run) = guest_mode {
        return match run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("nf-harness: {e}");
                ExitCode::from(2)
            }
        };
    }
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("nf-harness: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let r = if let Some(root) = &o.install_root {
        match o.expect.as_deref() {
            Some(e) => install::run(&o.kdir, &o.out, root, e),
            None => Err(util::Error("--install-root needs --expect rust|c".into())),
        }
    } else if o.demo {
        demo::run(&o)
    } else if o.bench {
        run_bench(&o)
    } else {
        run_all(&o)
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("nf-harness: {e}");
            ExitCode::FAILURE
        }
    }
}

mod demo;
