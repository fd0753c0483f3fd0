//! nf-harness: boots QEMU guests with a virtio-net/e1000e failover pair and
//! checks the net_failover master of the C modules and of the Rust module.

mod guest;
mod initramfs;
mod ktap;
mod logscan;
mod net;
mod pcap;
mod qmp;
mod report;
mod scenarios;
mod stack;
mod twonetdev;
mod badinput;
mod util;
mod vm;

use report::{Outcome, Status};
use scenarios::{Scenario, T};
use stack::Stack;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use util::{progress, Res};

const USAGE: &str = "usage: nf-harness --kdir KDIR [--rust-module PATH] [--kunit-module PATH]
                  [--module PATH]... [--only NAME] [--stack c|rust] [--out DIR] [--demo]

Runs every scenario on the `c` stack (failover.ko + net_failover.ko) and the
`rust` stack (--rust-module) in fresh QEMU guests. --demo boots one guest
(--stack, default c) and narrates a ping / unplug / re-plug cycle.";

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
    if let Some(n) = &o.only {
        if !scenarios::ALL.iter().any(|s| s.name == n) {
            let names: Vec<_> = scenarios::ALL.iter().map(|s| s.name).collect();
            return Err(format!("no scenario {n}; scenarios: {}", names.join(", ")));
        }
    }
    Ok(o)
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

/// Boots a guest, loads the stack and waits for the failover topology if the scenario needs it.
fn start<'a>(o: &Opts, initrd: &Path, stack: &'a Stack, dir: &Path, topology: bool) -> Res<T<'a>> {
    let mut vm = vm::Vm::boot(&o.kdir, initrd, dir)?;
    if topology {
        stack.load(&mut vm.guest)?;
    } else {
        stack.load_failover(&mut vm.guest)?;
    }
    let mut t = T::new(vm, stack, o.kunit_module.as_deref().map(file_name));
    if topology {
        t.wait_topology()?;
    }
    Ok(t)
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
    };
    if let Some(why) = &stack.skip {
        out.reason = why.clone();
        return vec![out];
    }
    if sc.name == "kunit" && o.kunit_module.is_none() {
        out.reason = "no --kunit-module given".into();
        return vec![out];
    }
    if matches!(sc.name, "two_netdev" | "non_ethernet") && !o.extra.iter().any(|m| m.ends_with("nf_pvtest.ko")) {
        out.reason = "no --module nf_pvtest.ko given".into();
        return vec![out];
    }
    let id = out.id();
    progress(format!("{id}: booting"));
    let started = Instant::now();
    let dir = o.out.join(format!("{}-{}", stack.name, sc.name));
    let mut cases = Vec::new();
    let result = match start(o, initrd, stack, &dir, sc.topology) {
        Ok(mut t) => {
            progress(format!("{id}: {}", if sc.topology { t.roles.to_string() } else { "running".into() }));
            let r = (sc.run)(&mut t);
            out.notes = std::mem::take(&mut t.notes);
            cases = std::mem::take(&mut t.cases);
            t.vm.shutdown();
            r
        }
        Err(e) => Err(e),
    };
    let console = std::fs::read(dir.join("console.log")).unwrap_or_default();
    let scan = logscan::scan(&String::from_utf8_lossy(&console), stack.known_bugs());
    let mut known: Vec<String> = scan.known.iter().map(|k| format!("known C bug: {k}")).collect();
    known.dedup_by(|a, b| a.split(": ").nth(1) == b.split(": ").nth(1));
    out.notes.extend(known);
    out.secs = started.elapsed().as_secs_f64();
    out.log = scan.unexpected.clone();
    (out.status, out.reason) = match result {
        Err(e) => (Status::Fail, e.to_string()),
        Ok(()) if !scan.unexpected.is_empty() => {
            (Status::Fail, format!("kernel log: {} (see {}/console.log)", scan.unexpected[0], dir.display()))
        }
        Ok(()) => (Status::Pass, String::new()),
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

fn run_all(o: &Opts) -> Res<bool> {
    std::fs::create_dir_all(&o.out)?;
    progress("building initramfs");
    let initrd = build_initramfs(o)?;
    let stacks: Vec<Stack> = [Stack::c(), Stack::rust(o.rust_module.as_deref())]
        .into_iter()
        .filter(|s| o.stack.as_deref().is_none_or(|w| w == s.name))
        .collect();
    let mut all: Vec<Outcome> = Vec::new();
    for sc in scenarios::ALL.iter().filter(|s| o.only.as_deref().is_none_or(|n| n == s.name)) {
        for stack in &stacks {
            if sc.rust_only && stack.is_c() {
                continue;
            }
            for r in run_one(o, &initrd, sc, stack) {
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
    let r = if o.demo { demo::run(&o) } else { run_all(&o) };
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
