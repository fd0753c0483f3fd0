//! Guest-side view of the failover netdevs, read through sysfs and the agent.

use crate::guest::Guest;
use crate::util::{poll, Res};
use crate::vm::{Vm, Wire};
use crate::{bail, ensure};
use std::fmt;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Netdev {
    pub name: String,
    pub driver: String,
    pub master: Option<String>,
    pub address: String,
    pub mtu: u32,
    pub flags: u32,
}

pub const IFF_UP: u32 = 0x1;
pub const IFF_SLAVE: u32 = 0x800;

const LIST: &str = r#"for d in /sys/class/net/*; do n=${d##*/}; [ -e $d/device ] || continue; drv=$(readlink $d/device/driver); m=$(readlink $d/master); echo "$n|${drv##*/}|${m##*/}|$(cat $d/address)|$(cat $d/mtu)|$(cat $d/flags)"; done"#;

/// Netdevs backed by a device (virtual ones such as lo and sit0 are left out).
pub fn netdevs(g: &mut Guest) -> Res<Vec<Netdev>> {
    let out = g.ok(LIST)?;
    let mut devs = Vec::new();
    for line in out.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('|').collect();
        ensure!(f.len() == 6, "bad netdev line: {line}");
        devs.push(Netdev {
            name: f[0].into(),
            driver: f[1].into(),
            master: Some(f[2].to_string()).filter(|m| !m.is_empty()),
            address: f[3].into(),
            mtu: f[4].parse().unwrap_or(0),
            flags: u32::from_str_radix(f[5].trim_start_matches("0x"), 16).unwrap_or(0),
        });
    }
    Ok(devs)
}

/// The failover netdevs, found by driver and `master` links rather than by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Roles {
    pub master: String,
    pub standby: Option<String>,
    pub primary: Option<String>,
    /// The primary's upper device, if it has one.
    pub primary_master: Option<String>,
}

impl Roles {
    /// The failover netdevs with MAC `mac`.
    pub fn find_for(devs: &[Netdev], mac: &str) -> Res<Roles> {
        let devs: Vec<Netdev> = devs.iter().filter(|d| d.address == mac).cloned().collect();
        let virtio: Vec<&Netdev> = devs.iter().filter(|d| d.driver == "virtio_net").collect();
        let masters: Vec<&&Netdev> = virtio.iter().filter(|d| d.master.is_none()).collect();
        ensure!(masters.len() == 1, "expected one failover master, netdevs: {devs:?}");
        let master = masters[0].name.clone();
        let standby = virtio.iter().find(|d| d.master.as_ref() == Some(&master));
        // The primary: the e1000e (or the benchmark's vmxnet3) with that MAC.
        let primaries: Vec<&Netdev> =
            devs.iter().filter(|d| matches!(d.driver.as_str(), "e1000e" | "vmxnet3")).collect();
        ensure!(primaries.len() <= 1, "more than one primary netdev: {devs:?}");
        Ok(Roles {
            standby: standby.map(|d| d.name.clone()),
            primary: primaries.first().map(|d| d.name.clone()),
            primary_master: primaries.first().and_then(|d| d.master.clone()),
            master,
        })
    }

    pub fn complete(&self) -> bool {
        self.standby.is_some() && self.primary_master.as_ref() == Some(&self.master)
    }

    pub fn standby(&self) -> Res<&str> {
        self.standby.as_deref().ok_or_else(|| crate::util::Error("no standby slave".into()))
    }

    pub fn primary(&self) -> Res<&str> {
        self.primary.as_deref().ok_or_else(|| crate::util::Error("no primary netdev".into()))
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        write!(f, "master {}, standby {}, primary {}", self.master, o(&self.standby), o(&self.primary))?;
        match (&self.primary, &self.primary_master) {
            (Some(_), None) => write!(f, " (not enslaved)"),
            _ => Ok(()),
        }
    }
}

/// Polls until the roles satisfy `want`.
pub fn wait_roles(g: &mut Guest, what: &str, timeout: Duration, want: impl Fn(&Roles) -> bool) -> Res<Roles> {
    wait_roles_for(g, crate::vm::MAC, what, timeout, want)
}

/// Polls until the roles of the netdevs with MAC `mac` satisfy `want`.
pub fn wait_roles_for(
    g: &mut Guest,
    mac: &str,
    what: &str,
    timeout: Duration,
    want: impl Fn(&Roles) -> bool,
) -> Res<Roles> {
    let mut last = String::from("no failover master");
    let r = poll(timeout, Duration::from_millis(300), || {
        let devs = netdevs(g)?;
        match Roles::find_for(&devs, mac) {
            Ok(r) if want(&r) => Ok(Some(r)),
            Ok(r) => {
                last = r.to_string();
                Ok(None)
            }
            Err(e) => {
                last = e.to_string();
                Ok(None)
            }
        }
    })?;
    match r {
        Some(r) => Ok(r),
        None => bail!("timed out after {}s waiting for {what}; last seen: {last}", timeout.as_secs()),
    }
}

pub fn wait_attr(g: &mut Guest, dev: &str, attr: &str, value: &str, timeout: Duration) -> Res<()> {
    let path = format!("/sys/class/net/{dev}/{attr}");
    let r = poll(timeout, Duration::from_millis(300), || {
        Ok((g.run(&format!("cat {path}"))?.1.trim() == value).then_some(()))
    })?;
    ensure!(r.is_some(), "{path} is not {value} after {}s", timeout.as_secs());
    Ok(())
}

pub const COUNTERS: [&str; 4] = ["tx_packets", "rx_packets", "tx_bytes", "rx_bytes"];

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats(pub [u64; 4]);

impl Stats {
    pub fn read(g: &mut Guest, dev: &str) -> Res<Stats> {
        let files: Vec<String> =
            COUNTERS.iter().map(|c| format!("/sys/class/net/{dev}/statistics/{c}")).collect();
        let out = g.ok(&format!("cat {}", files.join(" ")))?;
        let v: Vec<u64> = out.split_whitespace().map(|s| s.parse().unwrap_or(0)).collect();
        ensure!(v.len() == 4, "bad statistics of {dev}: {out}");
        Ok(Stats([v[0], v[1], v[2], v[3]]))
    }

    /// Counters that went down from `self` to `later`, as "name a -> b".
    pub fn decreases(&self, later: &Stats) -> Vec<String> {
        COUNTERS
            .iter()
            .zip(self.0.iter().zip(later.0.iter()))
            .filter(|(_, (a, b))| b < a)
            .map(|(n, (a, b))| format!("{n} {a} -> {b}"))
            .collect()
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [tp, rp, tb, rb] = self.0;
        write!(f, "tx_packets {tp} rx_packets {rp} tx_bytes {tb} rx_bytes {rb}")
    }
}

pub const PEER: &str = "10.0.2.2";

/// Result of one batch of pings and where its echo requests went.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub sent: u64,
    pub received: u64,
    /// Echo requests from the guest's MAC captured per backend.
    pub wire: Wire,
    /// tx_packets deltas of the slaves (None if the slave was absent).
    pub tx_standby: Option<u64>,
    pub tx_primary: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Path {
    Standby,
    Primary,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Path::Standby => "standby",
            Path::Primary => "primary",
        })
    }
}

impl Batch {
    pub fn loss_pct(&self) -> u64 {
        (self.sent.saturating_sub(self.received) * 100).checked_div(self.sent).unwrap_or(100)
    }

    /// Checks that every echo request left through `path`, on the wire and in the slave counters.
    pub fn check_path(&self, path: Path) -> Res<()> {
        let (on, off, tx_on, tx_off) = match path {
            Path::Primary => (self.wire.primary, self.wire.standby, self.tx_primary, self.tx_standby),
            Path::Standby => (self.wire.standby, self.wire.primary, self.tx_standby, self.tx_primary),
        };
        ensure!(self.sent > 0, "no pings sent ({self})");
        ensure!(on == self.sent && off == 0, "echo requests not all via {path} ({self})");
        ensure!(tx_on.unwrap_or(0) >= self.sent, "{path} tx_packets did not count the pings ({self})");
        ensure!(tx_off.unwrap_or(0) < self.sent, "the other slave's tx_packets grew too ({self})");
        Ok(())
    }
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "{}/{} replies, {}% loss; echo requests on wire: standby {} primary {}; slave tx_packets +{} standby +{} primary",
            self.received, self.sent, self.loss_pct(), self.wire.standby, self.wire.primary,
            o(self.tx_standby), o(self.tx_primary)
        )
    }
}

fn tx_packets(g: &mut Guest, dev: Option<&str>) -> Res<Option<u64>> {
    match dev {
        Some(d) => Ok(Some(g.read(&format!("/sys/class/net/{d}/statistics/tx_packets"))?.parse()?)),
        None => Ok(None),
    }
}

/// Sends `n` pings to the slirp gateway through the master and measures the path.
pub fn ping_batch(vm: &mut Vm, roles: &Roles, n: u32) -> Res<Batch> {
    let sb0 = tx_packets(&mut vm.guest, roles.standby.as_deref())?;
    let pr0 = tx_packets(&mut vm.guest, roles.primary.as_deref())?;
    let w0 = vm.wire()?;
    let (_, out) = vm.guest.run(&format!("ping -c {n} -W 1 -i 0.2 {PEER}"))?;
    let w1 = vm.wire()?;
    let sb1 = tx_packets(&mut vm.guest, roles.standby.as_deref())?;
    let pr1 = tx_packets(&mut vm.guest, roles.primary.as_deref())?;
    let Some(summary) = out.lines().find(|l| l.contains("packets transmitted")) else {
        bail!("ping printed no summary: {out}");
    };
    let nums: Vec<u64> = summary.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    ensure!(nums.len() >= 2, "cannot parse ping summary: {summary}");
    let delta = |a: Option<u64>, b: Option<u64>| Some(b?.wrapping_sub(a?));
    Ok(Batch {
        sent: nums[0],
        received: nums[1],
        wire: Wire { standby: w1.standby - w0.standby, primary: w1.primary - w0.primary },
        tx_standby: delta(sb0, sb1),
        tx_primary: delta(pr0, pr1),
    })
}
