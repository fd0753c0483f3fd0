//! Allocation failures injected at each allocation of the two paths that
//! build failover state, one allocation per bind, each unwinding completely:
//!
//! * creation: virtio0 is unbound from virtio_net and bound again; its probe
//!   calls `net_failover_create()` (the master, its registration with the
//!   failover core, the existing primary's enslavement), then registers the
//!   standby, which the NETDEV_REGISTER notifier enslaves;
//! * slave registration: the e1000e PCI function is unbound and bound again
//!   under the up, addressed master: `register_netdev()` -> NETDEV_REGISTER ->
//!   enslavement, which opens the slave.
//!
//! The guest's failslab and fail_page_alloc fail nothing by probability, fail
//! sleeping allocations and order-0 pages too, dump a stack per failure, and
//! their stack filter (FAULT_INJECTION_STACKTRACE_FILTER) requires a return
//! address in the failover module's text: `fail-nth` then counts exactly the
//! allocations made below the module's code. `fail-nth` counts for the task
//! that wrote it, so the agent's shell writes it and binds with builtins
//! (`echo`, `read`) in one process; the bind's probe runs in that task.
//!
//! For N = 1, 1 + step, ...: the N-th allocation fails; `fail-nth` reads 0
//! after the bind (the injection happened) and the log has its dump, with the
//! module and `bind_store` in its trace (unless the allocation was
//! `__GFP_NOWARN`: no dump); the bind's outcome is recorded; nothing may be
//! half-registered (a failed creation leaves no master or standby, the
//! module references as they were and no upper link; a slave is enslaved or
//! standalone without links); the topology is then restored without
//! injection, which proves the slaves can be enslaved again (no rx handler
//! left). The sweep ends when `fail-nth` is still positive after the bind:
//! the path made fewer than N allocations. After both sweeps kmemleak is read
//! (virtio_net's own probe-error-path leaks are a named kernel bug, not a
//! failure); then a normal unplug, re-plug and ping must work.

use crate::debug::{self, counts};
use crate::initramfs::IP;
use crate::logscan::{self, Known};
use crate::net::{Roles, IFF_UP};
use crate::scenarios::T;
use crate::suite::{self, complete};
use crate::util::{progress, Res};
use crate::vm::MAC;
use crate::{bail, ensure};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DEBUGFS: &str = "/sys/kernel/debug";
const PAGE: u64 = 4096;
/// A fail-nth larger than any path's allocation count: the counting run.
const COUNT_ALL: u64 = 1_000_000;
/// The outcome of a bind that left the full topology.
const ABSORBED: &str = "bind ok, full topology";
/// The injected failure's first log line.
const FORCED: &str = "FAULT_INJECTION: forcing a failure";

/// Text address range of each module: its lowest and highest text symbol.
pub fn text_ranges(out: &str) -> BTreeMap<String, (u64, u64)> {
    let mut m = BTreeMap::new();
    for l in out.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() != 3 {
            continue;
        }
        let (Ok(lo), Ok(hi)) = (u64::from_str_radix(w[1], 16), u64::from_str_radix(w[2], 16)) else {
            continue;
        };
        m.insert(w[0].trim_matches(|c| c == '[' || c == ']').to_string(), (lo, hi));
    }
    m
}

/// The filter range `[start, end)` for `mods` (the stack's modules): from
/// their first text symbol's page to their last text symbol rounded up to a
/// page; one page more if no other module's text is there (a module's text
/// is page-aligned and followed by a guard page, so a last function that
/// crosses a page boundary stays covered). No other module's text may fall
/// inside.
pub fn filter_range(ranges: &BTreeMap<String, (u64, u64)>, mods: &[String]) -> Res<(u64, u64)> {
    let mut span: Option<(u64, u64)> = None;
    for m in mods {
        let Some(&(lo, hi)) = ranges.get(m) else {
            bail!("no text symbols of [{m}] in /proc/kallsyms (modules: {:?})", ranges.keys())
        };
        ensure!(lo != 0 && hi >= lo, "[{m}] text symbols at {lo:#x}..{hi:#x}: addresses hidden?");
        span = Some(span.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
    }
    let Some((lo, hi)) = span else { bail!("no module to filter on") };
    let start = lo & !(PAGE - 1);
    let mut end = (hi + 1).div_ceil(PAGE) * PAGE;
    let others = || ranges.iter().filter(|(n, _)| !mods.contains(n));
    if !others().any(|(_, &(a, b))| a < end + PAGE && b >= end) {
        end += PAGE;
    }
    if let Some((n, (a, b))) = others().find(|(_, &(a, b))| a < end && b >= start) {
        bail!("[{n}] text {a:#x}..{b:#x} lies in the filter range {start:#x}..{end:#x} of {mods:?}");
    }
    Ok((start, end))
}

/// The runtime text range of kmemleak's own code (mm/kmemleak.o's .text):
/// its metadata allocation for each tracked object runs below the module's
/// frames too and falls back to a pool when it fails, so the filter rejects
/// it. `objdump -t` gives the object's .text functions (offset, size, name),
/// System.map their addresses (the debug kernel has no KASLR); the base
/// that most functions agree on wins.
pub fn object_text(objdump: &str, system_map: &str) -> Option<(u64, u64)> {
    let mut funcs = Vec::new();
    for l in objdump.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        let Some(i) = w.iter().position(|x| *x == ".text") else { continue };
        if !w[..i].contains(&"F") || w.len() != i + 3 {
            continue;
        }
        let (Ok(off), Ok(size)) = (u64::from_str_radix(w[0], 16), u64::from_str_radix(w[i + 1], 16)) else {
            continue;
        };
        funcs.push((w[i + 2], off, size));
    }
    let mut addrs: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for l in system_map.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() == 3 && (w[1] == "t" || w[1] == "T") {
            if let Ok(a) = u64::from_str_radix(w[0], 16) {
                addrs.entry(w[2]).or_default().push(a);
            }
        }
    }
    let mut votes: BTreeMap<u64, usize> = BTreeMap::new();
    for (name, off, _) in &funcs {
        if let Some([a]) = addrs.get(name).map(Vec::as_slice) {
            *votes.entry(a.wrapping_sub(*off)).or_default() += 1;
        }
    }
    let (&base, &n) = votes.iter().max_by_key(|(_, n)| **n)?;
    let len = funcs.iter().map(|(_, o, s)| o + s).max()?;
    (n * 2 > funcs.len() && len < 1 << 20).then_some((base, base + len))
}

fn kmemleak_text(t: &T) -> Option<(u64, u64)> {
    let kdir = &t.env.as_ref()?.kdir;
    let out =
        std::process::Command::new("objdump").arg("-t").arg(kdir.join("mm/kmemleak.o")).output().ok()?;
    let map = std::fs::read_to_string(kdir.join("System.map")).ok()?;
    object_text(&String::from_utf8_lossy(&out.stdout), &map)
}

/// A debugfs number, decimal or 0x-prefixed hex.
fn debugfs_num(v: &str) -> Option<u64> {
    match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

/// fail-nth written and read back by one shell with builtins.
const TRIAL: &str =
    "echo 7 > /proc/self/fail-nth; read v < /proc/self/fail-nth; echo 0 > /proc/self/fail-nth; \
                     read w < /proc/self/fail-nth; echo \"$v $w\"";

const KALLSYMS: &str = r#"awk 'NF >= 4 && ($2 == "t" || $2 == "T") { m = $4; a = $1 ""; if (!(m in lo) || a < lo[m]) lo[m] = a; if (!(m in hi) || a > hi[m]) hi[m] = a } END { for (m in lo) print m, lo[m], hi[m] }' /proc/kallsyms"#;

/// What one iteration (unbind, bind with injection, restore) reported.
#[derive(Debug, Default, PartialEq)]
pub struct Bind {
    pub rc: i32,
    /// fail-nth after the bind: 0 if the N-th allocation failed.
    pub left: u64,
    /// The shell's error message for a failed write (`sh: write error: ...`).
    pub err: String,
    /// The module references with the device unbound, and after the bind.
    pub refs_unbound: String,
    pub refs: String,
    /// Whether the device has a driver after the bind.
    pub bound: bool,
    /// Multicast addresses per netdev after the bind (/proc/net/dev_mcast).
    pub mc: BTreeMap<String, Vec<String>>,
    /// The pair's netdevs after the bind, and after the restore.
    pub devs: Vec<Nd>,
    pub after: Vec<Nd>,
    /// What went wrong in the restore, if anything did.
    pub restore: Vec<String>,
    /// The kernel log of the bind.
    pub log: String,
    /// The kernel log of the unbind this iteration starts with: the
    /// aftermath of the previous iteration's injected failure.
    pub unbind_log: String,
    /// The kernel log of the restore (binding again after the injected
    /// failure), where its aftermath may show.
    pub restore_log: String,
    /// Seconds of each phase: unbind, injected bind, state and log, bind
    /// again, wait for the slaves, master up.
    pub phases: Vec<(String, f64)>,
}

/// Parses the output of [`iteration_cmd`].
pub fn parse_bind(out: &str) -> Res<Bind> {
    let mut b = Bind::default();
    let (before, after) = out.split_once("@@AFTER").unwrap_or((out, ""));
    let Some(line) = before.lines().find_map(|l| l.strip_prefix("@@FI ")) else {
        bail!("no injection result in: {out}")
    };
    let field = |k: &str| {
        line.split_whitespace().find_map(|w| w.strip_prefix(k)).map(str::to_string).unwrap_or_default()
    };
    b.rc = field("rc=").parse().map_err(|_| crate::util::Error(format!("bad rc in {line}")))?;
    b.left = field("left=").parse().map_err(|_| crate::util::Error(format!("bad fail-nth in {line}")))?;
    b.err = line.split_once("err=").map_or("", |(_, e)| e).trim().to_string();
    let tagged = |k: &str| before.lines().find_map(|l| l.strip_prefix(k)).unwrap_or("").trim().to_string();
    b.refs_unbound = tagged("@@REF0 ");
    b.refs = tagged("@@REF ");
    b.bound = tagged("@@BOUND ") == "1";
    b.devs = parse_list(before);
    for l in before.lines().filter_map(|l| l.strip_prefix("@@MC ")) {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() == 5 {
            b.mc.entry(w[1].to_string()).or_default().push(w[4].to_string());
        }
    }
    b.after = parse_list(after);
    b.restore = out.lines().filter_map(|l| l.strip_prefix("@@RESTORE ")).map(str::to_string).collect();
    let log = |tag: &str| before.lines().filter_map(|l| l.strip_prefix(tag)).collect::<Vec<_>>().join("\n");
    (b.unbind_log, b.log, b.restore_log) = (log("@@ULOG "), log("@@LOG "), log("@@RLOG "));
    let stamps: Vec<(&str, f64)> = out
        .lines()
        .filter_map(|l| l.strip_prefix("@@T "))
        .filter_map(|l| l.split_once(' ').and_then(|(p, t)| Some((p, t.trim().parse().ok()?))))
        .collect();
    b.phases = stamps.windows(2).map(|w| (w[1].0.to_string(), w[1].1 - w[0].1)).collect();
    Ok(b)
}

/// The errno name of a shell write error (`sh: write error: Cannot allocate memory`).
pub fn errno(err: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("Cannot allocate memory", "-ENOMEM"),
        ("Operation not permitted", "-EPERM"),
        ("Invalid argument", "-EINVAL"),
        ("No such device or address", "-ENXIO"),
        ("No such device", "-ENODEV"),
        ("Device or resource busy", "-EBUSY"),
        ("File exists", "-EEXIST"),
        ("No space left on device", "-ENOSPC"),
        ("Input/output error", "-EIO"),
        ("Resource temporarily unavailable", "-EAGAIN"),
        ("Operation not supported", "-EOPNOTSUPP"),
        ("No such file or directory", "-ENOENT"),
        ("Bad address", "-EFAULT"),
        ("Out of memory", "-ENOMEM"),
    ];
    match NAMES.iter().find(|(m, _)| err.contains(m)) {
        Some((_, n)) => n.to_string(),
        None if err.is_empty() => "an error".into(),
        None => format!("\"{}\"", err.rsplit(": ").next().unwrap_or(err)),
    }
}

/// One iteration in one guest command: unbinds `p`'s device, binds it with
/// the `n`-th allocation below the filter failing, all in the agent's shell
/// task (builtins only between the two fail-nth accesses); prints the result,
/// the state and the kernel log of the bind; then restores the master with
/// both slaves (binding again if the bind failed or a slave is not enslaved),
/// up with `addr`, and prints the restore's kernel log and the state again.
/// The unbind's kernel log is printed too: it belongs to the previous
/// iteration's injected failure.
fn iteration_cmd(p: &Path, n: u64, refs: &str, addr: &str) -> String {
    let (dev, drv, bound) = (&p.dev, p.drv, p.bound());
    let t = |phase: &str| format!("read up _ < /proc/uptime; echo \"@@T {phase} $up\"; ");
    format!(
        "refs() {{ r=; for f in {refs}; do read x < $f; r=\"$r $x\"; done; }}; \
         slaves() {{ k=0; for l in /sys/class/net/*/master; do [ -e $l ] && k=$((k+1)); done; }}; \
         {}echo {dev} > {drv}/unbind || exit 9; {}refs; echo \"@@REF0$r\"; dmesg -c | sed 's/^/@@ULOG /'; \
         echo {n} > /proc/self/fail-nth; echo {dev} > {drv}/bind 2>/tmp/fi.err; rc=$?; \
         read left < /proc/self/fail-nth; echo 0 > /proc/self/fail-nth; {}\
         e=; read e < /tmp/fi.err; echo \"@@FI rc=$rc left=$left err=$e\"; \
         b=0; [ -e {bound} ] && b=1; echo \"@@BOUND $b\"; refs; echo \"@@REF$r\"; {LIST}; \
         while read l; do echo \"@@MC $l\"; done < /proc/net/dev_mcast; \
         dmesg -c | sed 's/^/@@LOG /'; {}\
         slaves; if [ $rc != 0 ] || [ $k != 2 ]; then [ -e {bound} ] && echo {dev} > {drv}/unbind; \
         echo {dev} > {drv}/bind || echo '@@RESTORE bind failed'; fi; {}\
         i=0; slaves; while [ $k != 2 ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); slaves; done; {}\
         m=; for l in /sys/class/net/*/master; do [ -e $l ] && cd -P $l && m=${{PWD##*/}} && break; done; cd /; \
         fl=0; [ -n \"$m\" ] && read fl < /sys/class/net/$m/flags; \
         if [ -z \"$m\" ]; then echo '@@RESTORE no master with slaves'; \
         elif [ $(( fl & 1 )) = 0 ]; then \
         echo \"addr replace {addr} dev $m\" > /tmp/fi.ip; echo \"link set $m up\" >> /tmp/fi.ip; \
         {IP} -batch /tmp/fi.ip || echo '@@RESTORE master up failed'; fi; \
         {}dmesg | sed 's/^/@@RLOG /'; echo @@AFTER; {LIST}",
        t("start"),
        t("unbound"),
        t("bound"),
        t("checked"),
        t("rebound"),
        t("enslaved"),
        t("up")
    )
}

/// One injected failure's stack dump.
#[derive(Debug, Default, PartialEq)]
pub struct Dump {
    /// The fault attribute: failslab or fail_page_alloc.
    pub attr: String,
    /// Its trace, innermost first, without offsets or unreliable (`? `) entries;
    /// a module's frame keeps its `[module]` tag.
    pub frames: Vec<String>,
}

/// Strips a log line's `[   12.345678] ` stamp.
fn unstamp(l: &str) -> &str {
    let t = l.trim_start();
    match t.strip_prefix('[').and_then(|r| r.split_once("] ")) {
        Some((ts, rest)) if ts.trim().parse::<f64>().is_ok() => rest,
        _ => t,
    }
}

/// The injected failures' dumps in `log`.
pub fn dumps(log: &str) -> Vec<Dump> {
    let mut out: Vec<Dump> = Vec::new();
    let mut in_trace = false;
    for l in log.lines().map(unstamp) {
        if l.contains(FORCED) {
            out.push(Dump::default());
            in_trace = false;
            continue;
        }
        let Some(d) = out.last_mut() else { continue };
        if d.attr.is_empty() && d.frames.is_empty() {
            if let Some(a) = l.strip_prefix("name ") {
                d.attr = a.split(',').next().unwrap_or("").to_string();
                continue;
            }
        }
        if l.starts_with("Call Trace:") {
            in_trace = true;
            continue;
        }
        if !in_trace {
            continue;
        }
        let f = l.trim();
        if f.starts_with("</TASK>") || f.is_empty() || !l.starts_with(' ') {
            in_trace = false;
            continue;
        }
        if f.starts_with('<') || f.starts_with("? ") {
            continue;
        }
        let func = f.split(['+', ' ']).next().unwrap_or(f);
        let tag = f.rsplit_once(' ').map(|(_, t)| t).filter(|t| t.starts_with('['));
        d.frames.push(match tag {
            Some(t) => format!("{func} {t}"),
            None => func.to_string(),
        });
    }
    out
}

/// Functions of the fault injection and of the allocators, skipped to find
/// who asked for the memory.
const ALLOCATOR: &[&str] = &[
    "dump_stack",
    "should_fail",
    "fail_dump",
    "slab_pre_alloc_hook",
    "slab_alloc",
    "kmem_cache_alloc",
    "__kmem_cache_alloc",
    "kmalloc",
    "__kmalloc",
    "__do_kmalloc",
    "__kvmalloc",
    "kvmalloc",
    "kvzalloc",
    "kzalloc",
    "kcalloc",
    "krealloc",
    "__krealloc",
    "alloc_pages",
    "__alloc_pages",
    "prepare_alloc_pages",
    "__alloc_frozen_pages",
    "alloc_slab_page",
    "allocate_slab",
    "new_slab",
    "___slab_alloc",
    "__slab_alloc",
    "__get_free_pages",
    "get_zeroed_page",
    "__vmalloc",
    "vmalloc",
    "vzalloc",
    "__get_vm_area",
    "alloc_vmap_area",
    "kstrdup",
    "kstrndup",
    "kmemdup",
    "kvasprintf",
    "kasprintf",
    "folio_alloc",
    "__folio_alloc",
    "alloc_frozen_pages",
];

fn fname(frame: &str) -> &str {
    frame.split(' ').next().unwrap_or(frame)
}

impl Dump {
    /// Who allocated: the first frame past the allocator, and its caller.
    pub fn site(&self) -> String {
        let mut rest = self.frames.iter().skip_while(|f| ALLOCATOR.iter().any(|a| fname(f).starts_with(a)));
        match (rest.next(), rest.next()) {
            (Some(a), Some(b)) => format!("{} < {}", fname(a), fname(b)),
            (Some(a), None) => fname(a).to_string(),
            _ => "?".into(),
        }
    }

    /// The innermost frame in `module` and its depth in the trace.
    pub fn module_frame(&self, mods: &[String]) -> Option<(usize, String)> {
        let tags: Vec<String> = mods.iter().map(|m| format!("[{m}]")).collect();
        let i = self.frames.iter().position(|f| tags.iter().any(|t| f.ends_with(t.as_str())))?;
        Some((i, fname(&self.frames[i]).to_string()))
    }

    pub fn through(&self, func: &str) -> bool {
        self.frames.iter().any(|f| fname(f) == func)
    }
}

/// A netdev with the pair's MAC, as the listing shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Nd {
    pub name: String,
    pub driver: String,
    pub master: Option<String>,
    /// phys_port_name: `sby` for the standby.
    pub port: String,
    /// Its adjacency links: `upper_X`, `lower_X`.
    pub links: Vec<String>,
    pub up: bool,
}

/// The netdevs with a device, one `@@ND` line each, with shell builtins only
/// (a fork costs on the debug kernel): `cd -P` resolves the links.
const LIST: &str = r#"for d in /sys/class/net/*; do [ -e $d/device ] || continue; n=${d##*/}; drv=; m=; p=; cd -P $d/device/driver 2>/dev/null && drv=${PWD##*/}; cd -P $d/master 2>/dev/null && m=${PWD##*/}; read p 2>/dev/null < $d/phys_port_name; cd $d; set -- upper_* lower_*; read a < $d/address; read fl < $d/flags; echo "@@ND $n|$drv|$m|$p|$*|$a|$fl"; done; cd /"#;

pub fn parse_list(out: &str) -> Vec<Nd> {
    out.lines()
        .filter_map(|l| l.strip_prefix("@@ND "))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f.len() == 7 && f[5] == MAC).then(|| Nd {
                name: f[0].into(),
                driver: f[1].into(),
                master: Some(f[2].to_string()).filter(|m| !m.is_empty()),
                port: f[3].into(),
                links: f[4].split_whitespace().filter(|w| !w.contains('*')).map(String::from).collect(),
                up: u32::from_str_radix(f[6].trim_start_matches("0x"), 16).unwrap_or(0) & IFF_UP != 0,
            })
        })
        .collect()
}

/// The pair's netdevs by role.
#[derive(Debug, Default)]
pub struct View {
    pub master: Option<Nd>,
    pub standby: Option<Nd>,
    pub primary: Option<Nd>,
    /// What does not fit the roles (two primaries, two masters...).
    pub odd: Vec<String>,
}

pub fn view(devs: &[Nd]) -> View {
    let mut v = View::default();
    for d in devs {
        let slot = match (d.driver.as_str(), d.port.as_str()) {
            ("virtio_net", "sby") => &mut v.standby,
            ("virtio_net", _) => &mut v.master,
            ("e1000e", _) => &mut v.primary,
            _ => {
                v.odd.push(format!("{} (driver {})", d.name, d.driver));
                continue;
            }
        };
        match slot {
            Some(o) => v.odd.push(format!("two netdevs in one role: {} and {}", o.name, d.name)),
            None => *slot = Some(d.clone()),
        }
    }
    v
}

impl View {
    /// Problems of a slave `s` that must be enslaved to the master or standalone.
    fn slave(&self, what: &str, s: &Nd, p: &mut Vec<String>) -> bool {
        let m = self.master.as_ref().map(|m| m.name.as_str());
        match s.master.as_deref() {
            Some(x) if Some(x) == m => {
                if s.links != [format!("upper_{x}")] {
                    p.push(format!("{what} {} enslaved to {x} with links {:?}", s.name, s.links));
                }
                let lower = format!("lower_{}", s.name);
                if !self.master.as_ref().is_some_and(|m| m.links.contains(&lower)) {
                    p.push(format!("{what} {} enslaved but the master has no {lower}", s.name));
                }
                true
            }
            Some(x) => {
                p.push(format!("{what} {} has master {x}, not the failover master {m:?}", s.name));
                false
            }
            None => {
                if !s.links.is_empty() {
                    p.push(format!("standalone {what} {} has links {:?}", s.name, s.links));
                }
                // Nothing else opens a new or released slave in the guest.
                if s.up {
                    p.push(format!("standalone {what} {} left open", s.name));
                }
                false
            }
        }
    }

    /// The master's lower links must be exactly its enslaved slaves.
    fn master_links(&self, p: &mut Vec<String>) {
        let Some(m) = &self.master else { return };
        let mut want: Vec<String> = [&self.standby, &self.primary]
            .into_iter()
            .flatten()
            .filter(|s| s.master.as_deref() == Some(m.name.as_str()))
            .map(|s| format!("lower_{}", s.name))
            .collect();
        want.sort();
        let mut have = m.links.clone();
        have.sort();
        if have != want {
            p.push(format!("master {} has links {have:?}, its slaves make {want:?}", m.name));
        }
        if m.master.is_some() {
            p.push(format!("master {} has a master", m.name));
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Creation,
    Slave,
}

/// A path and how to trigger it.
struct Path {
    which: Which,
    name: &'static str,
    /// The device name written to the driver's bind and unbind files.
    dev: String,
    drv: &'static str,
}

impl Path {
    fn bound(&self) -> String {
        let bus = if self.which == Which::Creation { "virtio" } else { "pci" };
        format!("/sys/bus/{bus}/devices/{}/driver", self.dev)
    }
}

/// The virtio device and the e1000e PCI function of the pair.
struct Devs {
    virtio: String,
    pci: String,
}

const VIRTIO: &str = "/sys/bus/virtio/drivers/virtio_net";
const E1000E: &str = "/sys/bus/pci/drivers/e1000e";

/// What the scenario learnt; on our stack any problem fails it.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
}

/// The files of the stack's module references (`/sys/module/X/refcnt`).
fn ref_files(t: &T) -> String {
    t.stack.module_names().iter().map(|n| format!("/sys/module/{n}/refcnt")).collect::<Vec<_>>().join(" ")
}

/// The master with both slaves, up.
fn complete_view(v: &View) -> bool {
    let Some(m) = &v.master else { return false };
    m.up && [&v.standby, &v.primary]
        .iter()
        .all(|s| s.as_ref().is_some_and(|s| s.master.as_ref() == Some(&m.name)))
}

/// Waits for the master with both slaves; brings it up with its address if
/// it is down (a new master), without waiting for carrier.
fn complete_up(t: &mut T) -> Res<Roles> {
    let r = complete(t, 0)?;
    let m = &r.master;
    let flags = t.g().read(&format!("/sys/class/net/{m}/flags"))?;
    if u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0) & IFF_UP == 0 {
        t.ok(&format!("{IP} addr replace {} dev {m} && {IP} link set {m} up", master_addr()))?;
    }
    Ok(r)
}

fn master_addr() -> String {
    let [a, b, c, _] = crate::responder::IPS[0];
    format!("{a}.{b}.{c}.2/24")
}

/// Runs one iteration. If its restore did not bring back the master with
/// both slaves, up, says why in `restore` and tries harder: both devices
/// unbound and bound again.
fn iterate(t: &mut T, p: &Path, devs: &Devs, n: u64) -> Res<Bind> {
    let cmd = iteration_cmd(p, n, &ref_files(t), &master_addr());
    let (rc, out) = t.g().run_timeout(&cmd, Duration::from_secs(300))?;
    ensure!(rc == 0, "{}: N={n}: the iteration exited {rc} (unbind failed?): {}", p.name, vm_tail(&out));
    let mut b = parse_bind(&out)?;
    let v = view(&b.after);
    if b.restore.is_empty() && !complete_view(&v) {
        b.restore.push(format!("not the full topology after binding again: {v:?}"));
    }
    if b.restore.is_empty() {
        let name = |d: &Option<Nd>| d.as_ref().map(|d| d.name.clone());
        t.roles = Roles {
            master: name(&v.master).unwrap_or_default(),
            standby: name(&v.standby),
            primary: name(&v.primary),
            primary_master: v.primary.as_ref().and_then(|p| p.master.clone()),
        };
        return Ok(b);
    }
    {
        let Devs { virtio, pci } = devs;
        t.g().run(&format!(
            "echo {pci} > {E1000E}/unbind; echo {virtio} > {VIRTIO}/unbind; echo {virtio} > {VIRTIO}/bind; \
             echo {pci} > {E1000E}/bind"
        ))?;
    }
    complete_up(t)?;
    Ok(b)
}

fn vm_tail(s: &str) -> String {
    crate::vm::tail(s, 10)
}

/// The failover log lines of a bind (errors and registrations).
fn failover_lines(log: &str) -> Vec<String> {
    const KEYS: &[&str] = &[
        "failover",
        "can not",
        "Opening slave",
        "unable to change mtu",
        "Failed to add vlan",
        "Unable to",
        "probe with driver",
        "failed with error",
    ];
    log.lines()
        .map(unstamp)
        .filter(|l| !l.starts_with(' ') && !l.starts_with("Modules linked in"))
        .filter(|l| KEYS.iter().any(|k| l.contains(k)) && !l.contains("registered"))
        .map(str::to_string)
        .collect()
}

/// Checks the state one injected bind left; returns its outcome.
fn check(p: &Path, b: &Bind, refs_bound: &str, probs: &mut Vec<String>) -> String {
    let v = view(&b.devs);
    probs.extend(v.odd.iter().cloned());
    let (bound, now) = (b.bound, &b.refs);
    let refs = (&b.refs_unbound, refs_bound);
    let lines = failover_lines(&b.log);
    let line = lines.first().map(|l| format!(" (\"{l}\")")).unwrap_or_default();
    if b.rc != 0 {
        if bound {
            probs.push(format!("the bind failed ({}) but {} has a driver", b.err, p.dev));
        }
        let e = errno(&b.err);
        match p.which {
            Which::Creation => {
                for s in [&v.master, &v.standby].into_iter().flatten() {
                    probs.push(format!("failed creation left {} ({:?})", s.name, s));
                }
                match &v.primary {
                    Some(pr) => {
                        if pr.master.is_some() || !pr.links.is_empty() {
                            probs.push(format!("failed creation left the primary with {:?}", pr));
                        }
                    }
                    None => probs.push("the primary vanished in a failed creation".into()),
                }
                if now != refs.0 {
                    probs.push(format!("module references {now} after a failed creation, {} before", refs.0));
                }
                format!("bind {e}, nothing left")
            }
            Which::Slave => {
                if let Some(pr) = &v.primary {
                    probs.push(format!("failed primary probe left {} ({pr:?})", pr.name));
                }
                match &v.standby {
                    Some(s) => {
                        v.slave("standby", s, probs);
                    }
                    None => probs.push("the standby vanished".into()),
                }
                v.master_links(probs);
                if now != refs.0 {
                    probs.push(format!("module references {now} after the failed probe, {} before", refs.0));
                }
                format!("bind {e}, no primary left{line}")
            }
        }
    } else {
        if !bound {
            probs.push(format!("the bind succeeded but {} has no driver", p.dev));
        }
        let Some(m) = &v.master else {
            probs.push("the bind succeeded without a master".into());
            return "bind ok, no master".into();
        };
        if p.which == Which::Slave && !m.up {
            probs.push(format!("master {} went down", m.name));
        }
        let mut out = Vec::new();
        for (what, s) in [("standby", &v.standby), ("primary", &v.primary)] {
            match s {
                Some(s) => {
                    if !v.slave(what, s, probs) {
                        out.push(format!("{what} left standalone"));
                    } else if let Some(miss) = missing_mc(&b.mc, &m.name, &s.name) {
                        out.push(format!("{what} lacks the master's multicast {miss}"));
                    }
                }
                None => probs.push(format!("the bind succeeded without a {what}")),
            }
        }
        v.master_links(probs);
        if now != refs.1 {
            probs.push(format!("module references {now} after the bind, {} with the topology", refs.1));
        }
        if out.is_empty() {
            ABSORBED.to_string()
        } else {
            format!("bind ok, {}{line}", out.join(", "))
        }
    }
}

/// The master's multicast addresses that slave `s` lacks, if any.
fn missing_mc(mc: &BTreeMap<String, Vec<String>>, m: &str, s: &str) -> Option<String> {
    let have = mc.get(s).cloned().unwrap_or_default();
    let miss: Vec<&String> = mc.get(m)?.iter().filter(|a| !have.contains(a)).collect();
    (!miss.is_empty()).then(|| miss.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" "))
}

/// Splats in a bind's log other than the injected failure's dump.
fn splats(t: &mut T, log: &str) -> Vec<String> {
    let s = logscan::scan(log, t.stack.known_bugs());
    s.unexpected.iter().map(|l| unstamp(l).to_string()).collect()
}

/// A splat `line` after the `nth` allocation of path `path` failed at `site`:
/// a problem, and on the C stack a known C bug for the final log scan.
fn after_failure(t: &mut T, path: &str, nth: u64, site: &str, line: &str, probs: &mut Vec<String>) {
    probs.push(format!("splat after the failure at {site}: {line}"));
    if t.stack.is_c() {
        let pat: &'static str = Box::leak(splat_pattern(line).into_boxed_str());
        let what: &'static str =
            Box::leak(format!("{path} N={nth} injected at {site}: {line}").into_boxed_str());
        t.planted.push(Known { pattern: pat, what });
    }
}

/// A splat line's pattern to accept it as a known C bug in the final log scan.
fn splat_pattern(line: &str) -> String {
    match line.split_once(" at ") {
        Some((h, at)) if h.starts_with("WARNING:") => {
            format!(" at {}", at.split_whitespace().next().unwrap_or(at))
        }
        _ => line.to_string(),
    }
}

struct Sweep {
    count: Option<u64>,
    injected: u64,
    swept: u64,
    nowarn: u64,
    /// Outcome -> how many, and the first's failover log line.
    outcomes: BTreeMap<String, (u64, String)>,
    sites: BTreeMap<String, u64>,
    deepest: usize,
    /// Every `step`-th allocation is injected, from the `first`.
    step: u64,
    first: u64,
    /// Seconds per phase of the iterations, summed.
    phases: BTreeMap<String, f64>,
    /// kmemleak's metadata allocations in the counting run, rejected by the
    /// filter (counted in full sweeps only).
    kmemleak: Option<u64>,
    secs: f64,
}

/// Binds without injection with fail-nth counting: the path's allocations
/// in the range.
fn count_run(t: &mut T, p: &Path, devs: &Devs) -> Res<u64> {
    let b = iterate(t, p, devs, COUNT_ALL)?;
    ensure!(
        b.rc == 0 && b.restore.is_empty(),
        "{}: the bind without injection failed: {} {:?}",
        p.name,
        b.err,
        b.restore
    );
    Ok(COUNT_ALL - b.left)
}

/// Sets the range whose frames keep an allocation out of the count (None: none).
fn set_reject(t: &mut T, r: Option<(u64, u64)>) -> Res<()> {
    let (a, b) = r.unwrap_or((0, 0));
    t.ok(&format!(
        "for d in {DEBUGFS}/failslab {DEBUGFS}/fail_page_alloc; do echo {a} > $d/reject-start && echo {b} > $d/reject-end || exit 1; done"
    ))
    .map(drop)
}

fn sweep(t: &mut T, p: &Path, devs: &Devs, cfg: &SweepCfg, f: &mut Findings) -> Res<Sweep> {
    let started = Instant::now();
    let mods = &cfg.mods;
    let refs_bound = t.ok(&format!("cat {}", ref_files(t)))?.split_whitespace().collect::<Vec<_>>().join(" ");
    let c = t.stack.name;
    let mut s = Sweep {
        count: None,
        injected: 0,
        swept: 0,
        nowarn: 0,
        step: 1,
        first: 1,
        phases: BTreeMap::new(),
        outcomes: BTreeMap::new(),
        sites: BTreeMap::new(),
        deepest: 0,
        kmemleak: None,
        secs: 0.0,
    };
    // The counting runs: no injection, the path's allocations in the range,
    // with kmemleak's metadata allocations and without them.
    let all = if cfg.max == 0 {
        set_reject(t, None)?;
        Some(count_run(t, p, devs)?)
    } else {
        None
    };
    set_reject(t, cfg.reject)?;
    let est = count_run(t, p, devs)?;
    ensure!(
        est > 0,
        "{}: the path made no allocation below {mods:?}: the stack filter or fail-nth is broken",
        p.name
    );
    s.kmemleak = all.map(|a| a.saturating_sub(est));
    s.step = if cfg.max == 0 { 1 } else { est.div_ceil(cfg.max).max(1) };
    progress(format!(
        "  {c}: faults: {}: {est} allocations below {mods:?} in the counting run{}, \
         injecting every {}",
        p.name,
        all.map(|a| format!(" ({a} with kmemleak's)")).unwrap_or_default(),
        s.step
    ));
    let cap = 3 * est + 100;
    let mut n = 1 + cfg.seed % s.step;
    s.first = n;
    let mut prev: Option<(u64, String)> = None;
    while n <= cap {
        let it = Instant::now();
        let b = iterate(t, p, devs, n)?;
        let mut probs = Vec::new();
        // The unbind this iteration starts with ends the previous injected
        // failure's iteration: its splats follow that failure.
        if let Some((pn, ps)) = prev.take() {
            for l in splats(t, &b.unbind_log) {
                after_failure(t, &p.name, pn, &ps, &l, &mut probs);
            }
        }
        let ds = dumps(&b.log);
        if b.left > 0 {
            s.count = Some(n - b.left);
            ensure!(ds.is_empty(), "{}: N={n}: {} dumps without an injection", p.name, ds.len());
            let outcome = check(p, &b, &refs_bound, &mut probs);
            if outcome != ABSORBED {
                probs.push(format!("the bind without injection ended: {outcome}"));
            }
            probs.extend(b.restore.iter().map(|r| format!("restoring: {r}")));
            f.problems.extend(probs.into_iter().map(|x| format!("{}: N={n} (no injection): {x}", p.name)));
            progress(format!(
                "  {c}: faults: {} N={n}: no injection, {} allocations: {outcome}",
                p.name,
                n - b.left
            ));
            break;
        }
        s.swept += 1;
        s.injected += 1;
        for (k, v) in &b.phases {
            *s.phases.entry(k.clone()).or_default() += v;
        }
        match ds.as_slice() {
            [] => s.nowarn += 1,
            [d] => {
                *s.sites.entry(d.site()).or_default() += 1;
                match d.module_frame(mods) {
                    Some((depth, _)) => s.deepest = s.deepest.max(depth),
                    None => probs.push(format!(
                        "the injected failure's trace has no frame of {mods:?}: {:?}",
                        d.frames
                    )),
                }
                if !d.through("bind_store") {
                    probs.push(format!(
                        "the injected failure's trace is not below bind_store: {:?}",
                        d.frames
                    ));
                }
            }
            _ => probs.push(format!("{} injected failures in one bind", ds.len())),
        }
        let site = ds.first().map(Dump::site).unwrap_or_else(|| "a __GFP_NOWARN allocation".into());
        let mut outcome = check(p, &b, &refs_bound, &mut probs);
        if outcome == ABSORBED {
            outcome = format!("bind ok, full topology: the failure at {site} absorbed");
        }
        let (key, example) = outcome.split_once(" (\"").unwrap_or((&outcome, ""));
        let e = s.outcomes.entry(key.to_string()).or_insert((0, example.trim_end_matches("\")").to_string()));
        e.0 += 1;
        // Splats in this bind and its restore follow this injection.
        for l in splats(t, &b.log).into_iter().chain(splats(t, &b.restore_log)) {
            after_failure(t, &p.name, n, &site, &l, &mut probs);
        }
        prev = Some((n, site.clone()));
        probs.extend(b.restore.iter().map(|r| format!("after {outcome} at {site}, restoring: {r}")));
        let had = !probs.is_empty();
        f.problems.extend(probs.iter().map(|x| format!("{}: N={n}: {x}", p.name)));
        let ph: Vec<String> = b.phases.iter().map(|(k, v)| format!("{k} {v:.1}")).collect();
        progress(format!(
            "  {c}: faults: {} N={n}/{est}: {outcome}{}{} ({:.1} s: {})",
            p.name,
            ds.first().map(|d| format!(" [{} at {}]", d.attr, d.site())).unwrap_or(" [no dump]".into()),
            if had { " PROBLEM" } else { "" },
            it.elapsed().as_secs_f64(),
            ph.join(", ")
        ));
        n += s.step;
    }
    ensure!(
        s.count.is_some(),
        "{}: fail-nth still reached 0 at N={cap}, 3x the counting run's {est}",
        p.name
    );
    s.secs = started.elapsed().as_secs_f64();
    Ok(s)
}

/// How the sweeps filter and how many allocations they inject.
struct SweepCfg {
    mods: Vec<String>,
    reject: Option<(u64, u64)>,
    /// At most this many injections per path (0: every allocation).
    max: u64,
    /// With a step above 1, the first N is 1 + seed % step: successive runs
    /// inject different allocations; `--seed` replays one.
    seed: u64,
}

/// Leaks that kernel code outside the failover modules makes on its own
/// error path (the backtrace has a frame of `.0`, none of the failover
/// modules): reported, not failed.
const KERNEL_LEAKS: &[(&str, &str)] = &[(
    "virtnet_probe",
    "virtio_net's probe error path (virtnet_probe() failing after init_vqs(), here because \
     net_failover_create() failed): its free_vqs/free labels free the netdev without kfree(vi->rss_hdr) and \
     without resetting the XPS maps virtnet_set_affinity() made (drivers/net/virtio_net.c)",
)];

/// kmemleak's log line for leaks that are all a known kernel bug's.
pub const KERNEL_LEAK_LOG: Known = Known {
    pattern: "new suspected memory leaks",
    what: "kernel bug, not the failover code's: kmemleak found leaks of virtio_net's probe error path \
           (see the faults figures and the teardown's notes)",
};

/// A kmemleak report's size and the functions of its backtrace.
pub fn leak_trace(report: &str) -> (String, Vec<String>) {
    let size = report.split("(size ").nth(1).and_then(|r| r.split(')').next()).unwrap_or("?").to_string();
    let frames = report
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("backtrace"))
        .skip(1)
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let l = l.rsplit("] ").next().filter(|_| l.starts_with("[<")).unwrap_or(l);
            let tag = l.rsplit_once(' ').map(|(_, t)| t).filter(|t| t.starts_with('['));
            let f = l.split(['+', ' ']).next().unwrap_or(l);
            tag.map_or(f.to_string(), |t| format!("{f} {t}"))
        })
        .collect();
    (size, frames)
}

/// Every module text symbol of `/proc/kallsyms`: address, name, `[module]`.
const MODULE_SYMS: &str = r#"awk 'NF >= 4 && ($2 == "t" || $2 == "T") { print $1, $3, $4 }' /proc/kallsyms"#;

/// The module text symbols of [`MODULE_SYMS`]'s output, sorted by address.
pub fn module_syms(out: &str) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = out
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let a = u64::from_str_radix(w.first()?, 16).ok().filter(|&a| a != 0)?;
            (w.len() == 3 && w[2].starts_with('[')).then(|| (a, format!("{} {}", w[1], w[2])))
        })
        .collect();
    v.sort();
    v
}

/// `report` with each raw backtrace address (a frame of a module unloaded
/// since) named by `syms` as `f+0xoff/0x0 [m]`, if it lies at most 64 KiB
/// past a symbol of theirs.
pub fn symbolize(report: &str, syms: &[(u64, String)]) -> String {
    let mut out = String::new();
    for l in report.lines() {
        let t = l.trim();
        let raw = t.strip_prefix("0x").and_then(|h| u64::from_str_radix(h, 16).ok());
        let sym = raw.and_then(|a| {
            let i = syms.partition_point(|(s, _)| *s <= a);
            let (s, name) = syms.get(i.checked_sub(1)?)?;
            (a - s < 0x10000).then(|| (a - s, name))
        });
        match sym {
            Some((off, name)) => {
                let (f, m) = name.split_once(' ').unwrap_or((name, ""));
                out += &format!("{}{f}+{off:#x}/0x0 {m}\n", &l[..l.len() - l.trim_start().len()]);
            }
            None => out += &format!("{l}\n"),
        }
    }
    out
}

/// Whose a leak is: Some(known kernel bug) if kernel code outside `mods` made it.
pub fn kernel_leak(frames: &[String], mods: &[String]) -> Option<&'static str> {
    let ours = frames.iter().any(|f| mods.iter().any(|m| f.ends_with(&format!("[{m}]"))));
    if ours {
        return None;
    }
    KERNEL_LEAKS.iter().find(|(f, _)| frames.iter().any(|x| fname(x) == *f)).map(|(_, what)| *what)
}

/// kmemleak after the sweeps: reported, then cleared (the teardown scans
/// again). Leaks of the failover code are problems; those of a known kernel
/// bug are figures.
fn leaks_after(t: &mut T, what: &str, mods: &[String], f: &mut Findings) -> Res<()> {
    let leaks = debug::leaks(t.g())?;
    // An object the sweeps leaked may be reported only by the teardown's
    // scan, once the modules that allocated it are gone: their symbols name
    // its raw addresses then.
    t.module_syms = module_syms(&t.ok(MODULE_SYMS)?);
    let mut ours: BTreeMap<String, usize> = BTreeMap::new();
    let mut kernel: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for l in &leaks {
        let (size, frames) = leak_trace(l);
        let short: Vec<&str> = frames.iter().take(4).map(|f| fname(f)).collect();
        let key = format!("{size} bytes from {}", short.join(" < "));
        match kernel_leak(&frames, mods) {
            Some(k) => *kernel.entry(k).or_default().entry(key).or_default() += 1,
            None => *ours.entry(format!("{key}: {}", debug::leak_summary(l))).or_default() += 1,
        }
    }
    if !leaks.is_empty() {
        progress(format!("  {}: kmemleak after {what}:\n{}", t.stack.name, leaks.join("\n")));
    }
    let mut fig = format!("{} reports", leaks.len());
    for (k, keys) in &kernel {
        let n: usize = keys.values().sum();
        let keys: Vec<String> = keys.iter().map(|(k, n)| format!("{n} x {k}")).collect();
        fig += &format!("; {n} not the failover code's but a kernel bug, {k}: {}", keys.join(", "));
    }
    for (l, n) in &ours {
        fig += &format!("; {n} x {l}");
        f.problems.push(format!("{what}: kmemleak: {n} x {l}"));
    }
    // The teardown's scan may find more of these (kmemleak reports an object
    // once nothing points to it, which may come later): `module_syms`, taken
    // above, names their frames then (see `debug::teardown`).
    if !kernel.is_empty() && ours.is_empty() {
        // kmemleak's scan logged "N new suspected memory leaks": these.
        t.planted.push(KERNEL_LEAK_LOG);
    }
    t.rel(&format!("{what}: kmemleak"), fig);
    t.ok(&format!("echo clear > {DEBUGFS}/kmemleak")).map(drop)
}

pub fn faults(t: &mut T) -> Res<()> {
    let max = counts().map_or(0, |c| c.fault_max) as u64;
    suite::up(t)?;
    let names = t.stack.module_names();

    // Before the filter, the shell's own allocations count: the same task
    // writes fail-nth and reads it (unchanged would mean another task read it).
    let unfiltered = t.ok(TRIAL)?;
    let v: Vec<u64> = unfiltered.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    ensure!(
        v.len() == 2 && v[0] < 7 && v[1] == 0,
        "fail-nth of the agent's shell, unfiltered: {unfiltered:?}"
    );
    let ranges = text_ranges(&t.ok(KALLSYMS)?);
    // C's failover core is a module of its own: both are the failover code,
    // if no other module's text lies between them.
    let (mods, (start, end), why) = match filter_range(&ranges, &names) {
        Ok(r) => (names.clone(), r, String::new()),
        Err(e) if names.len() > 1 => {
            let last = names[names.len() - 1..].to_vec();
            (last.clone(), filter_range(&ranges, &last)?, format!(" (not the span of {names:?}: {e})"))
        }
        Err(e) => return Err(e),
    };
    let module = mods.iter().map(|m| format!("[{m}]")).collect::<Vec<_>>().join("+");
    let mut cfg = String::new();
    for (k, v) in [
        ("probability", "0".to_string()),
        ("verbose", "2".into()),
        ("stacktrace-depth", "32".into()),
        ("require-start", start.to_string()),
        ("require-end", end.to_string()),
        ("reject-start", "0".into()),
        ("reject-end", "0".into()),
        ("ignore-gfp-wait", "0".into()),
    ] {
        cfg += &format!("if [ -e $d/{k} ]; then echo {v} > $d/{k} || exit 1; fi; ");
    }
    t.ok(&format!(
        "for d in {DEBUGFS}/fail*; do [ -e $d/require-start ] || continue; {cfg}done; \
         echo 0 > {DEBUGFS}/fail_page_alloc/min-order"
    ))?;
    let shown = t.ok(&format!("grep -H . {DEBUGFS}/failslab/* {DEBUGFS}/fail_page_alloc/*"))?;
    for (attr, want) in [
        ("failslab/require-start", start.to_string()),
        ("failslab/require-end", end.to_string()),
        ("fail_page_alloc/require-start", start.to_string()),
        ("fail_page_alloc/require-end", end.to_string()),
        ("failslab/ignore-gfp-wait", "N".into()),
        ("fail_page_alloc/ignore-gfp-wait", "N".into()),
        ("fail_page_alloc/min-order", "0".into()),
        ("failslab/probability", "0".into()),
        ("fail_page_alloc/probability", "0".into()),
    ] {
        let file = format!("{DEBUGFS}/{attr}:");
        let have = shown.lines().find_map(|l| l.strip_prefix(&file)).unwrap_or("");
        ensure!(
            have == want || debugfs_num(have).is_some_and(|h| Some(h) == debugfs_num(&want)),
            "fault injection not configured: {attr} is {have:?}, not {want}; all:\n{shown}"
        );
    }
    // One task writes fail-nth and reads it back with builtins; the filter
    // keeps the shell's own allocations (opening the file) out of the count.
    let trial = t.ok(TRIAL)?;
    ensure!(trial.trim() == "7 0", "fail-nth written and read by shell builtins: {trial:?}, not \"7 0\"");
    t.rel(
        "fail-nth trial",
        format!(
            "7 written, {} read back by the same shell unfiltered (its own allocations), 7 filtered",
            v[0]
        ),
    );

    let reject = kmemleak_text(t);
    let rej = match reject {
        Some((a, b)) => format!("rejecting kmemleak's text {a:#x}..{b:#x}"),
        None => "kmemleak's text not found: its metadata allocations are counted".into(),
    };
    t.rel(
        "filter",
        format!(
            "{module} text {start:#x}..{end:#x} ({} KiB){why}, stacktrace-depth 32, {rej}, {}",
            (end - start) / 1024,
            if max == 0 {
                "every allocation".to_string()
            } else {
                format!("at most {max} injections per path")
            }
        ),
    );

    let r = t.roles.clone();
    let virtio = t.ok(&format!("readlink /sys/class/net/{}/device", r.master))?;
    let pci = t.ok(&format!("readlink /sys/class/net/{}/device", r.primary()?))?;
    let base = |s: &str| s.trim().rsplit('/').next().unwrap_or("").to_string();
    let devs = Devs { virtio: base(&virtio), pci: base(&pci) };
    let paths = [
        Path { which: Which::Creation, name: "creation", dev: devs.virtio.clone(), drv: VIRTIO },
        Path { which: Which::Slave, name: "slave registration", dev: devs.pci.clone(), drv: E1000E },
    ];
    let seed = counts().and_then(|c| c.seed).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let cfg = SweepCfg { mods, reject, max, seed };
    let mut f = Findings::default();
    t.ok(&format!("echo clear > {DEBUGFS}/kmemleak"))?;
    for p in &paths {
        let s = sweep(t, p, &devs, &cfg, &mut f)?;
        let n = p.name;
        let count = s.count.unwrap_or(0);
        t.rel(
            &format!("{n}: allocations"),
            format!(
                "{count} below {module}{}; {} swept (every {}), {} injected ({} with a dump, {} __GFP_NOWARN without)",
                s.kmemleak.map(|k| format!(" (and {k} of kmemleak's metadata, not counted)")).unwrap_or_default(),
                s.swept,
                if s.step == 1 {
                    "one".to_string()
                } else {
                    format!("{}th from N={}, seed {seed}", s.step, s.first)
                },
                s.injected,
                s.injected - s.nowarn,
                s.nowarn
            ),
        );
        ensure!(s.injected == s.swept, "{n}: {} swept, {} injected", s.swept, s.injected);
        let o: Vec<String> = s
            .outcomes
            .iter()
            .map(|(k, (v, e))| match e.as_str() {
                "" => format!("{v} x {k}"),
                e => format!("{v} x {k} (first: \"{e}\")"),
            })
            .collect();
        t.rel(&format!("{n}: outcomes"), o.join("; "));
        let mut sites: Vec<(&String, &u64)> = s.sites.iter().collect();
        sites.sort_by(|a, b| b.1.cmp(a.1));
        let sites: Vec<String> = sites.iter().take(12).map(|(k, v)| format!("{k} x{v}")).collect();
        t.rel(&format!("{n}: allocation sites (most injected)"), sites.join(", "));
        t.rel(
            &format!("{n}: deepest {module} frame"),
            format!("trace entry {} of the 32 the filter walks", s.deepest),
        );
        t.rel(
            &format!("{n}: time"),
            format!(
                "{:.0} s, {:.1} s per injection (in the guest, per injection: {})",
                s.secs,
                s.secs / (s.swept.max(1) as f64),
                ["unbound", "bound", "checked", "rebound", "enslaved", "up"]
                    .iter()
                    .map(|k| format!(
                        "{k} {:.1}",
                        s.phases.get(*k).copied().unwrap_or(0.0) / s.swept.max(1) as f64
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    leaks_after(t, "the sweeps", &cfg.mods, &mut f)?;

    // A normal unplug and re-plug, and traffic through the master.
    t.vm.unplug(0)?;
    suite::roles(t, 0, "primary gone", |r: &Roles| r.primary.is_none())?;
    t.vm.plug(0)?;
    let r = complete_up(t)?;
    // With carrier on the primary: C drops the replies that come through the
    // standby while a registered primary has none (a known C bug, measured
    // by the suite), which is not what this check is about.
    let p = r.primary.unwrap_or_default();
    crate::net::wait_attr(t.g(), &p, "carrier", "1", Duration::from_secs(120))?;
    let [a, b, c, _] = crate::responder::IPS[0];
    let ping = t
        .g()
        .run_timeout(&format!("ping -c 5 -i 0.3 -W 5 {a}.{b}.{c}.1 | tail -2"), Duration::from_secs(60))?
        .1;
    ensure!(!ping.contains(" 0 packets received"), "no ping reply after the sweeps: {ping}");
    t.rel("after the sweeps", format!("unplug, re-plug, ping: {}", ping.lines().last().unwrap_or("").trim()));

    if !f.problems.is_empty() {
        if !t.stack.is_c() {
            bail!("{} problems: {}", f.problems.len(), f.problems.join("; "));
        }
        for p in std::mem::take(&mut f.problems) {
            t.known_c(p, "injected allocation failure not unwound")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_range_covers_the_module_text_and_no_other() {
        let r = text_ranges(
            "net_failover_rs ffffffffc0200000 ffffffffc0205f10\n[e1000e] ffffffffc0210000 ffffffffc0230000\nbad line\n",
        );
        assert_eq!(r["net_failover_rs"], (0xffffffffc0200000, 0xffffffffc0205f10));
        let m = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            filter_range(&r, &m(&["net_failover_rs"])).unwrap(),
            (0xffffffffc0200000, 0xffffffffc0207000)
        );
        // Another module's text right after the last page: no extra page.
        let r = text_ranges("a ffffffffc0200000 ffffffffc0205f10\nb ffffffffc0206000 ffffffffc0209000\n");
        assert_eq!(filter_range(&r, &m(&["a"])).unwrap(), (0xffffffffc0200000, 0xffffffffc0206000));
        assert_eq!(filter_range(&r, &m(&["a", "b"])).unwrap(), (0xffffffffc0200000, 0xffffffffc020b000));
        let r = text_ranges("a ffffffffc0200000 ffffffffc0205f10\nb ffffffffc0203000 ffffffffc0204000\n");
        assert!(filter_range(&r, &m(&["a"])).is_err());
        assert!(filter_range(&r, &m(&["c"])).is_err());
        assert!(filter_range(&r, &[]).is_err());
        assert!(filter_range(&text_ranges("a 0000000000000000 0000000000000000\n"), &m(&["a"])).is_err());
    }

    #[test]
    fn an_objects_text_is_found_in_the_system_map() {
        let od = "0000000000000260 l     F .text\t000000000000007a __create_object\n\
                  0000000000000000 g     F .text\t0000000000000062 kmemleak_alloc\n\
                  0000000000000300 l     F .text\t0000000000000100 scan_block\n\
                  0000000000000000 l     F .init.text\t0000000000000010 kmemleak_init\n";
        let map = "ffffffff81100000 T kmemleak_alloc\nffffffff81100260 t __create_object\n\
                   ffffffff81100300 t scan_block\nffffffff81200300 t scan_block\nffffffff81300000 T kmemleak_init\n";
        assert_eq!(object_text(od, map), Some((0xffffffff81100000, 0xffffffff81100400)));
        assert_eq!(object_text(od, "ffffffff81100000 T kmemleak_alloc\n"), None);
        assert_eq!(object_text("", map), None);
    }

    #[test]
    fn an_iteration_parses() {
        let out = format!(
            "@@REF0 0\n@@FI rc=1 left=0 err=sh: write error: Cannot allocate memory\n@@BOUND 0\n@@REF 0\n\
             @@ND eth2|e1000e|||upper_* lower_*|{MAC}|0x1003\n@@LOG [    1.5] FAULT_INJECTION: forcing a failure.\n\
             @@LOG [    1.6] x\n@@AFTER\n@@ND eth0|virtio_net||||{MAC}|0x1003\n@@RESTORE bind failed\n"
        );
        let b = parse_bind(&out).unwrap();
        assert_eq!((b.rc, b.left, b.bound), (1, 0, false));
        assert_eq!((b.refs_unbound.as_str(), b.refs.as_str()), ("0", "0"));
        assert_eq!(errno(&b.err), "-ENOMEM");
        assert_eq!(b.log, "[    1.5] FAULT_INJECTION: forcing a failure.\n[    1.6] x");
        assert_eq!((b.devs.len(), b.devs[0].name.as_str(), b.after[0].name.as_str()), (1, "eth2", "eth0"));
        assert_eq!(b.restore, vec!["bind failed".to_string()]);
        let mc = parse_bind(
            "@@FI rc=0 left=0 err=\n@@MC 2    eth0            1     0     333300000001\n\
             @@MC 2    eth0            1     0     01005e000001\n@@MC 3    eth1            1     0     333300000001\n",
        )
        .unwrap()
        .mc;
        assert_eq!(missing_mc(&mc, "eth0", "eth1").as_deref(), Some("01005e000001"));
        assert_eq!(missing_mc(&mc, "eth1", "eth0"), None);
        let b = parse_bind("@@T start 10.00\n@@T unbound 11.50\n@@FI rc=0 left=12 err=\n@@T bound 14.00\n")
            .unwrap();
        assert_eq!(b.phases, vec![("unbound".to_string(), 1.5), ("bound".to_string(), 2.5)]);
        assert_eq!((b.rc, b.left, b.err.as_str(), b.log.as_str()), (0, 12, "", ""));
        assert!(parse_bind("nothing").is_err());
        assert_eq!(errno("sh: write error: No such device"), "-ENODEV");
        assert_eq!(errno("sh: write error: Weird"), "\"Weird\"");
        let p = Path { which: Which::Slave, name: "s", dev: "0000:02:00.0".into(), drv: E1000E };
        let cmd = iteration_cmd(&p, 3, "/sys/module/m/refcnt", "1.2.3.4/24");
        assert!(cmd.contains(
            "echo 3 > /proc/self/fail-nth; echo 0000:02:00.0 > /sys/bus/pci/drivers/e1000e/bind 2>"
        ));
        assert!(cmd.contains("[ -e /sys/bus/pci/devices/0000:02:00.0/driver ]"));
        assert!(!cmd.contains('\n'));
    }

    const DUMP: &str = "[   40.100000] FAULT_INJECTION: forcing a failure.\n\
        [   40.100001] name failslab, interval 1, probability 0, space 0, times 1\n\
        [   40.100002] CPU: 1 UID: 0 PID: 90 Comm: sh Not tainted 6.12.57 #1\n\
        [   40.100003] Call Trace:\n\
        [   40.100004]  <TASK>\n\
        [   40.100005]  dump_stack_lvl+0x7d/0xa0\n\
        [   40.100006]  should_fail_ex+0x3b2/0x4c0\n\
        [   40.100007]  ? kobject_uevent_env+0x1/0x2\n\
        [   40.100008]  should_failslab+0xc2/0x120\n\
        [   40.100009]  __kmalloc_cache_noprof+0x6c/0x3a0\n\
        [   40.100010]  kobject_uevent_env+0x1f5/0xd00\n\
        [   40.100011]  netdev_register_kobject+0x1/0x2\n\
        [   40.100012]  register_netdevice+0x1/0x2\n\
        [   40.100013]  net_failover_create+0x2a1/0x5e0 [net_failover]\n\
        [   40.100014]  virtnet_probe+0x1/0x2 [virtio_net]\n\
        [   40.100015]  bind_store+0x1/0x2\n\
        [   40.100016]  </TASK>\n\
        [   40.100017] virtio_net virtio0: Unable to register failover_dev!\n";

    #[test]
    fn a_dump_names_its_site_and_module_frame() {
        let d = dumps(DUMP);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].attr, "failslab");
        assert_eq!(d[0].site(), "kobject_uevent_env < netdev_register_kobject");
        let m = |s: &str| vec![s.to_string()];
        assert_eq!(d[0].module_frame(&m("net_failover")), Some((7, "net_failover_create".into())));
        assert_eq!(d[0].module_frame(&m("net_failover_rs")), None);
        assert_eq!(
            d[0].module_frame(&["failover".into(), "virtio_net".into()]),
            Some((8, "virtnet_probe".into()))
        );
        assert!(d[0].through("bind_store") && d[0].through("virtnet_probe") && !d[0].through("bind"));
        assert!(!d[0].frames.iter().any(|f| f.contains("TASK") || f.starts_with('?')));
        assert_eq!(failover_lines(DUMP), vec!["virtio_net virtio0: Unable to register failover_dev!"]);
        assert!(dumps("nothing\n").is_empty());
        assert!(logscan::scan(DUMP, &[]).unexpected.is_empty());
    }

    #[test]
    fn the_listing_gives_roles_and_links() {
        let out = format!(
            "@@ND eth0|virtio_net||||{MAC}|0x1003\n@@ND eth1|virtio_net|eth0|sby|upper_eth0|{MAC}|0x1003\n\
             @@ND eth2|e1000e|||upper_* lower_*|{MAC}|0x1002\n@@ND lo|||||00:00:00:00:00:00|0x9\n"
        );
        let devs = parse_list(&out);
        assert_eq!(devs.len(), 3);
        let mut v = view(&devs);
        assert!(v.odd.is_empty());
        assert_eq!(v.master.as_ref().unwrap().name, "eth0");
        assert!(v.master.as_ref().unwrap().up && !v.primary.as_ref().unwrap().up);
        assert!(v.primary.as_ref().unwrap().links.is_empty());
        let mut p = Vec::new();
        assert!(!v.slave("primary", &v.primary.clone().unwrap(), &mut p));
        assert!(v.slave("standby", &v.standby.clone().unwrap(), &mut p));
        assert_eq!(p, vec!["standby eth1 enslaved but the master has no lower_eth1".to_string()]);
        v.master.as_mut().unwrap().links = vec!["lower_eth1".into()];
        let mut p = Vec::new();
        v.master_links(&mut p);
        assert!(p.is_empty(), "{p:?}");
        v.master.as_mut().unwrap().links.push("lower_eth9".into());
        v.master_links(&mut p);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn leaks_are_told_apart() {
        let r = "unreferenced object 0xffff888006712c80 (size 64):\n  comm \"sh\", pid 93\n  hex dump (first 32 bytes):\n    00 00\n  \
                 backtrace (crc 9bacb10):\n    __kmalloc_node_noprof+0x1bd/0x380\n    __netif_set_xps_queue+0x59f/0x1690\n    \
                 virtnet_probe+0x1de6/0x3a20 [virtio_net]\n    bind_store+0xd1/0x100\n";
        let (size, frames) = leak_trace(r);
        assert_eq!(size, "64");
        assert_eq!(frames[2], "virtnet_probe [virtio_net]");
        let m = vec!["net_failover_rs".to_string()];
        assert!(kernel_leak(&frames, &m).is_some());
        let mut f2 = frames.clone();
        f2.insert(2, "net_failover_create [net_failover_rs]".into());
        assert!(kernel_leak(&f2, &m).is_none());
        assert!(kernel_leak(&frames[..2], &m).is_none());
        let (_, old) =
            leak_trace("x (size 8):\n  backtrace:\n    [<ffffffff81000000>] kmalloc_trace+0x1/0x2\n");
        assert_eq!(old, vec!["kmalloc_trace".to_string()]);
    }

    #[test]
    fn raw_addresses_are_named_by_an_earlier_kallsyms() {
        let syms = module_syms(
            "ffffffffa00c0000 virtnet_set_affinity [virtio_net]\nffffffffa00c2000 virtnet_probe [virtio_net]\n\
             ffffffffa0000000 nf_create [net_failover_rs]\n0000000000000000 hidden [x]\nffffffff81000000 T _text\n",
        );
        assert_eq!(syms.len(), 3);
        // The report the teardown's scan gave after the sweeps in one run.
        let r = "unreferenced object 0xffff888004556280 (size 64):\n  comm \"sh\", pid 124\n  backtrace (crc 9bacb10):\n    \
                 __kmalloc_node_noprof+0x1bd/0x380\n    __netif_set_xps_queue+0x59f/0x1690\n    0xffffffffa00c0386\n    \
                 0xffffffffa00c27d6\n    virtio_dev_probe+0x59f/0x8b0\n    0xffffffffa0200000\n";
        let named = symbolize(r, &syms);
        let (_, frames) = leak_trace(&named);
        assert_eq!(
            frames[2..5],
            ["virtnet_set_affinity [virtio_net]", "virtnet_probe [virtio_net]", "virtio_dev_probe"]
        );
        assert_eq!(frames[5], "0xffffffffa0200000", "too far past any symbol: left raw");
        let m = vec!["net_failover_rs".to_string()];
        assert!(kernel_leak(&frames, &m).is_some());
        assert!(kernel_leak(&leak_trace(r).1, &m).is_none(), "unnamed, it is not known");
        let ours = symbolize(&r.replace("0xffffffffa00c27d6", "0xffffffffa0000040"), &syms);
        assert!(kernel_leak(&leak_trace(&ours).1, &m).is_none(), "a frame of ours: ours");
    }

    #[test]
    fn a_warning_is_accepted_by_its_place() {
        assert_eq!(
            splat_pattern("WARNING: CPU: 1 PID: 9 at net/core/dev.c:123 foo+0x1/0x2"),
            " at net/core/dev.c:123"
        );
        assert_eq!(
            splat_pattern("BUG: KASAN: slab-use-after-free in x"),
            "BUG: KASAN: slab-use-after-free in x"
        );
    }
}
