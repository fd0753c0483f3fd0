//! The test scenarios. Each runs in a freshly booted guest whose stack is
//! loaded and whose failover master has both slaves.

use crate::guest::Guest;
use crate::initramfs::IP;
use crate::net::{self, netdevs, ping_batch, wait_attr, wait_roles, Batch, Path, Roles, Stats};
use crate::responder::Responder;
use crate::stack::Stack;
use crate::traffic::Sample;
use crate::util::{Context, Res};
use crate::vm::{Vm, MAC};
use crate::{bail, ensure, ktap};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&mut T) -> Res<()>,
    /// Runs only on the rust stack.
    pub rust_only: bool,
    /// Needs the whole stack loaded and the master with both slaves before it starts.
    /// Scenarios with their own guest (`suite::spec`) load the modules themselves.
    pub topology: bool,
}

pub const ALL: &[Scenario] = &[
    Scenario { name: "topology", run: topology, rust_only: false, topology: true },
    Scenario {
        name: "traffic_follows_primary",
        run: traffic_follows_primary,
        rust_only: false,
        topology: true,
    },
    Scenario { name: "mtu", run: mtu, rust_only: false, topology: true },
    Scenario { name: "unload", run: unload, rust_only: false, topology: true },
    Scenario { name: "link_kind", run: crate::links::link_kind, rust_only: false, topology: true },
    Scenario { name: "open_delay", run: crate::opendelay::open_delay, rust_only: false, topology: true },
    Scenario { name: "kunit", run: kunit, rust_only: true, topology: false },
    Scenario { name: "two_netdev", run: crate::twonetdev::two_netdev, rust_only: false, topology: false },
    Scenario { name: "mtu_refused", run: crate::badinput::mtu_refused, rust_only: false, topology: true },
    Scenario { name: "non_ethernet", run: crate::badinput::non_ethernet, rust_only: false, topology: false },
    Scenario {
        name: "nonether_slave",
        run: crate::badinput::nonether_slave,
        rust_only: false,
        topology: true,
    },
    Scenario { name: "nonpci_slave", run: crate::badinput::nonpci_slave, rust_only: false, topology: true },
    Scenario { name: "second_slaves", run: crate::badinput::second_slaves, rust_only: false, topology: true },
    Scenario { name: "mac_change", run: crate::badinput::mac_change, rust_only: false, topology: true },
    Scenario { name: "netns_move", run: crate::badinput::netns_move, rust_only: false, topology: true },
    Scenario {
        name: "enslaved_elsewhere",
        run: crate::badinput::enslaved_elsewhere,
        rust_only: false,
        topology: false,
    },
    Scenario {
        name: "destroy_with_slaves",
        run: crate::badinput::destroy_with_slaves,
        rust_only: false,
        topology: true,
    },
];

pub const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
const LINK_TIMEOUT: Duration = Duration::from_secs(30);
const PINGS: u32 = 20;

/// State of one scenario run.
pub struct T<'a> {
    pub vm: Vm,
    pub stack: &'a Stack,
    pub roles: Roles,
    pub kunit_module: Option<String>,
    /// Observations worth reporting (known C differences, loss figures...).
    pub notes: Vec<String>,
    /// Sub-results (KUnit cases): name, passed, reason.
    pub cases: Vec<ktap::Case>,
    /// The host-side peer, for guests on datagram backends.
    pub resp: Option<Responder>,
    /// Loss and switch time per transition.
    pub samples: Vec<Sample>,
    /// Behaviour to compare between the stacks: what, and what was seen.
    pub observed: Vec<(String, String)>,
    /// Where to boot more guests (migration destinations).
    pub env: Option<Env>,
    /// Figures of a reliability run (cycles, seeds, leaks...): what, value.
    pub rel: Vec<(String, String)>,
    /// The guest before the scenario loaded anything, in a debug run.
    pub base: Option<crate::debug::Baseline>,
    /// Splats the scenario plants on purpose (the checkers' self-test).
    pub planted: Vec<crate::logscan::Known>,
    /// Module text symbols (address, `name [module]`), sorted, from a
    /// `/proc/kallsyms` taken while the modules were loaded: they name the
    /// raw addresses of kmemleak reports made after the modules are gone.
    pub module_syms: Vec<(u64, String)>,
    /// Why the scenario could not run here, if it could not (see [`T::skip`]).
    pub skipped: Option<String>,
}

pub struct Env {
    pub kdir: PathBuf,
    pub initrd: PathBuf,
    pub dir: PathBuf,
}

impl<'a> T<'a> {
    pub fn new(vm: Vm, stack: &'a Stack, kunit_module: Option<String>) -> Self {
        let roles = Roles { master: String::new(), standby: None, primary: None, primary_master: None };
        T {
            vm,
            stack,
            roles,
            kunit_module,
            notes: Vec::new(),
            cases: Vec::new(),
            resp: None,
            samples: Vec::new(),
            observed: Vec::new(),
            env: None,
            rel: Vec::new(),
            base: None,
            planted: Vec::new(),
            module_syms: Vec::new(),
            skipped: None,
        }
    }

    /// Records a figure for the reliability section, and notes it.
    pub fn rel(&mut self, what: &str, value: String) {
        self.note(format!("{what}: {value}"));
        self.rel.push((what.into(), value));
    }

    /// Ends the scenario as skipped (the runner reports `why`), e.g. when
    /// the guest kernel lacks a feature it needs. Return its value.
    pub fn skip(&mut self, why: impl Into<String>) -> Res<()> {
        self.skipped = Some(why.into());
        Ok(())
    }

    pub fn g(&mut self) -> &mut Guest {
        &mut self.vm.guest
    }

    pub fn ok(&mut self, cmd: &str) -> Res<String> {
        self.vm.guest.ok(cmd)
    }

    pub fn note(&mut self, s: String) {
        crate::util::progress(format!("  {}: {s}", self.stack.name));
        self.notes.push(s);
    }

    /// Records a behaviour to compare between the stacks, and notes it.
    pub fn observe(&mut self, what: &str, seen: String) {
        self.note(format!("{what}: {seen}"));
        self.observed.push((what.into(), seen));
    }

    /// A behaviour the C module is known to get wrong: a note on C, a failure otherwise.
    pub fn known_c(&mut self, what: String, bug: &str) -> Res<()> {
        if !self.stack.is_c() {
            bail!("{what}");
        }
        self.note(format!("C: {what} (known bug: {bug})"));
        Ok(())
    }

    pub fn wait_topology(&mut self) -> Res<()> {
        self.roles = wait_roles(self.g(), "master with both slaves", BOOT_TIMEOUT, Roles::complete)?;
        Ok(())
    }

    pub fn master_up(&mut self) -> Res<()> {
        let m = self.roles.master.clone();
        self.ok(&format!("{IP} addr add 10.0.2.15/24 dev {m} && {IP} link set {m} up"))?;
        wait_attr(self.g(), &m, "carrier", "1", LINK_TIMEOUT)?;
        self.wait_primary_link()
    }

    fn wait_primary_link(&mut self) -> Res<()> {
        match self.roles.primary.clone() {
            Some(p) => wait_attr(self.g(), &p, "carrier", "1", LINK_TIMEOUT),
            None => Ok(()),
        }
    }

    pub fn master_stats(&mut self) -> Res<Stats> {
        let m = self.roles.master.clone();
        Stats::read(self.g(), &m)
    }

    pub fn unplug(&mut self) -> Res<()> {
        self.vm.unplug_primary()?;
        self.roles = wait_roles(self.g(), "primary gone", LINK_TIMEOUT, |r| r.primary.is_none())?;
        Ok(())
    }

    pub fn replug(&mut self) -> Res<()> {
        self.vm.plug_primary()?;
        self.roles = wait_roles(self.g(), "primary enslaved again", BOOT_TIMEOUT, Roles::complete)?;
        Ok(())
    }

    /// Pings through the master, checks the path and that the master counted the pings.
    pub fn ping_via(&mut self, path: Path, what: &str) -> Res<Batch> {
        let before = self.master_stats()?;
        let roles = self.roles.clone();
        let b = ping_batch(&mut self.vm, &roles, PINGS)?;
        let after = self.master_stats()?;
        self.note(format!("{what}: {b}"));
        ensure!(b.received > 0, "{what}: no ping replies ({b})");
        b.check_path(path).ctx(what)?;
        let tx = after.0[0].wrapping_sub(before.0[0]);
        ensure!(
            after.0[0] >= before.0[0] && tx >= b.sent,
            "{what}: master tx_packets {} -> {} for {} pings",
            before.0[0],
            after.0[0],
            b.sent
        );
        Ok(b)
    }

    /// Master counters must never go down.
    pub fn monotonic(&mut self, event: &str, before: &Stats, after: &Stats) -> Res<()> {
        let down = before.decreases(after);
        if down.is_empty() {
            return Ok(());
        }
        self.known_c(format!("master {} after {event}", down.join(", ")), "master counters reset on unplug")
    }

    pub fn ip_link(&mut self, dev: &str) -> Res<Value> {
        let out = self.ok(&format!("{IP} -d -j link show dev {dev}"))?;
        let v: Value = serde_json::from_str(&out).ctx("ip -j output")?;
        Ok(v[0].clone())
    }

    fn mtus(&mut self) -> Res<Vec<(String, u32)>> {
        Ok(netdevs(self.g())?.into_iter().map(|d| (d.name, d.mtu)).collect())
    }
}

fn topology(t: &mut T) -> Res<()> {
    let r = t.roles.clone();
    let (m, sb, pr) = (r.master.as_str(), r.standby()?, r.primary()?);
    let devs = netdevs(t.g())?;
    ensure!(devs.len() == 3, "expected 3 netdevs, found {devs:?}");
    for d in &devs {
        ensure!(d.address == MAC, "{} has MAC {}, expected {MAC}", d.name, d.address);
    }
    let parent = |t: &mut T, d: &str| t.ok(&format!("readlink -f /sys/class/net/{d}/device"));
    ensure!(parent(t, m)? == parent(t, sb)?, "master and standby have different parents");
    let port = t.g().read(&format!("/sys/class/net/{sb}/phys_port_name"))?;
    ensure!(port == "sby", "standby phys_port_name is {port:?}, expected \"sby\"");

    let info = t.ok(&format!("ethtool -i {m}"))?;
    let driver = info.lines().find_map(|l| l.strip_prefix("driver: ")).unwrap_or("");
    ensure!(driver == "net_failover", "ethtool -i {m}: driver {driver:?}, expected net_failover");

    t.ok(&format!("{IP} link set {m} up"))?;
    // The slaves carry IFF_SLAVE on ours, as bonding's and netvsc's do; C
    // sets none on its slaves.
    let want_slave = !t.stack.is_c();
    for d in netdevs(t.g())? {
        ensure!(d.flags & net::IFF_UP != 0, "{} is not UP after the master went up", d.name);
        let slave = d.flags & net::IFF_SLAVE != 0;
        let want = want_slave && d.name != m;
        ensure!(slave == want, "{}: IFF_SLAVE {slave}, expected {want}", d.name);
    }
    let ml = t.ip_link(m)?;
    ensure!(ml.get("linkinfo").is_none(), "master has a link kind: {}", ml["linkinfo"]);
    ensure!(ml.get("master").is_none(), "master has an upper device");
    for s in [sb, pr] {
        let sl = t.ip_link(s)?;
        ensure!(sl["master"] == m, "{s}: ip link shows master {}, expected {m}", sl["master"]);
        let flags = sl["flags"].as_array().cloned().unwrap_or_default();
        let shown = flags.iter().any(|f| f == "SLAVE");
        ensure!(shown == want_slave, "{s}: ip link shows SLAVE: {shown}, expected {want_slave}");
        let (rc, out) = t.g().run(&format!("{IP} link set {s} nomaster"))?;
        ensure!(rc != 0, "ip link set {s} nomaster succeeded");
        ensure!(out.contains("Operation not supported"), "ip link set {s} nomaster: {out}");
    }
    let now = wait_roles(t.g(), "", LINK_TIMEOUT, |_| true)?;
    ensure!(now == t.roles, "roles changed after nomaster: {now}");
    wait_attr(t.g(), m, "carrier", "1", LINK_TIMEOUT)?;
    carrier(t)?;

    for line in [
        format!("failover master:{m} registered"),
        format!("failover standby slave:{sb} registered"),
        format!("failover primary slave:{pr} registered"),
    ] {
        t.vm.wait_console(&line, Duration::from_secs(5))?;
    }
    Ok(())
}

/// The master has carrier while either slave is ready, and loses it when neither is.
/// The virtio link is toggled from QEMU; the primary is set down in the guest,
/// because QEMU 7.2's e1000e raises no link interrupt on set_link.
fn carrier(t: &mut T) -> Res<()> {
    let r = t.roles.clone();
    let (m, sb, pr) = (r.master.as_str(), r.standby()?, r.primary()?);
    t.vm.qmp.set_link("standby0", false)?;
    wait_attr(t.g(), sb, "carrier", "0", LINK_TIMEOUT)?;
    wait_attr(t.g(), m, "carrier", "1", LINK_TIMEOUT).ctx("standby link down")?;
    t.ok(&format!("{IP} link set {pr} down"))?;
    wait_attr(t.g(), m, "carrier", "0", LINK_TIMEOUT).ctx("standby link down, primary down")?;
    t.vm.qmp.set_link("standby0", true)?;
    wait_attr(t.g(), m, "carrier", "1", LINK_TIMEOUT).ctx("standby link up, primary down")?;
    t.ok(&format!("{IP} link set {pr} up"))?;
    wait_attr(t.g(), pr, "carrier", "1", LINK_TIMEOUT)
}

fn traffic_follows_primary(t: &mut T) -> Res<()> {
    t.master_up()?;
    let start = t.master_stats()?;
    t.ping_via(Path::Primary, "with primary")?;

    let before = t.master_stats()?;
    t.unplug()?;
    let after = t.master_stats()?;
    t.note(format!("master before unplug: {before}; after: {after}"));
    t.monotonic("unplug", &before, &after)?;
    t.ping_via(Path::Standby, "after unplug")?;

    let before = t.master_stats()?;
    t.replug()?;
    t.wait_primary_link()?;
    let after = t.master_stats()?;
    t.monotonic("re-plug", &before, &after)?;
    t.ping_via(Path::Primary, "after re-plug")?;

    let end = t.master_stats()?;
    t.monotonic("the whole unplug/re-plug cycle", &start, &end)
}

fn mtu(t: &mut T) -> Res<()> {
    let m = t.roles.master.clone();
    t.ok(&format!("{IP} link set {m} mtu 1400"))?;
    let all = t.mtus()?;
    ensure!(all.iter().all(|(_, v)| *v == 1400), "after master mtu 1400: {all:?}");

    let pr = t.roles.primary()?.to_string();
    let max = |v: &Value| v["max_mtu"].as_u64().unwrap_or(0);
    let (mmax, pmax) = (max(&t.ip_link(&m)?), max(&t.ip_link(&pr)?));
    ensure!(mmax == pmax && mmax > 0, "master max_mtu {mmax}, primary max_mtu {pmax}");
    for bad in [pmax + 1, 20000] {
        let (rc, out) = t.g().run(&format!("{IP} link set {m} mtu {bad}"))?;
        ensure!(rc != 0, "master mtu {bad} above the primary's max {pmax} was accepted");
        let all = t.mtus()?;
        ensure!(all.iter().all(|(_, v)| *v == 1400), "after refused mtu {bad} ({}): {all:?}", out.trim());
        t.note(format!("mtu {bad} (primary max_mtu {pmax}) refused: {}", out.trim()));
    }

    t.unplug()?;
    let sb = t.roles.standby()?.to_string();
    let (mmax, smax) = (max(&t.ip_link(&m)?), max(&t.ip_link(&sb)?));
    ensure!(mmax == smax, "without primary: master max_mtu {mmax}, standby max_mtu {smax}");
    t.replug()?;
    let all = t.mtus()?;
    ensure!(all.iter().all(|(_, v)| *v == 1400), "after re-plug: {all:?}");
    let mmax = max(&t.ip_link(&m)?);
    ensure!(mmax == pmax, "after re-plug: master max_mtu {mmax}, expected {pmax}");
    t.ok(&format!("{IP} link set {m} mtu 1500"))?;
    let all = t.mtus()?;
    ensure!(all.iter().all(|(_, v)| *v == 1500), "after master mtu 1500: {all:?}");
    Ok(())
}

fn unload(t: &mut T) -> Res<()> {
    t.master_up()?;
    t.ping_via(Path::Primary, "before unload")?;
    let r = t.roles.clone();
    let (m, sb, pr) = (r.master.clone(), r.standby()?.to_string(), r.primary()?.to_string());

    t.ok("rmmod virtio_net")?;
    let devs = netdevs(t.g())?;
    ensure!(devs.len() == 1 && devs[0].name == pr, "after rmmod virtio_net: {devs:?}");
    ensure!(devs[0].master.is_none(), "{pr} still has master {:?}", devs[0].master);
    let sl = t.ip_link(&pr)?;
    ensure!(sl.get("master").is_none(), "{pr} still shows a master");
    for line in [
        format!("failover primary slave:{pr} unregistered"),
        format!("failover standby slave:{sb} unregistered"),
        format!("failover master:{m} unregistered"),
    ] {
        t.vm.wait_console(&line, Duration::from_secs(5))?;
    }

    t.stack.unload_failover(&mut t.vm.guest)?;
    let lsmod = t.ok("cat /proc/modules")?;
    for name in t.stack.module_names() {
        ensure!(!lsmod.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} still loaded");
    }

    t.stack.load_failover(&mut t.vm.guest)?;
    t.ok(&format!("insmod {}/virtio_net.ko", crate::initramfs::MODULE_DIR))?;
    t.wait_topology()?;
    ensure!(t.roles.primary.as_deref() == Some(pr.as_str()), "reloaded: {}", t.roles);
    t.master_up()?;
    t.ping_via(Path::Primary, "after reload")?;
    Ok(())
}

fn kunit(t: &mut T) -> Res<()> {
    let Some(module) = t.kunit_module.clone() else { bail!("no KUnit module") };
    t.ok("dmesg -c >/dev/null")?;
    t.ok(&format!("insmod {}/{module}", crate::initramfs::MODULE_DIR))?;
    let log = t.ok("dmesg")?;
    let report = ktap::parse(&log);
    ensure!(!report.cases.is_empty(), "no KUnit cases in the log after loading {module}");
    ensure!(!report.suites.is_empty(), "no KUnit suite result in the log");
    if let Some((pass, fail, skip)) = report.totals {
        t.note(format!("KUnit totals: pass:{pass} fail:{fail} skip:{skip}"));
    }
    t.cases = report.cases;
    Ok(())
}
