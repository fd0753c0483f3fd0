//! One QEMU guest: q35 under TCG with a virtio-net standby (failover=on) and an
//! e1000e primary with the same MAC that is hot-plugged through QMP.

use crate::guest::Guest;
use crate::pcap;
use crate::qmp::Qmp;
use crate::util::{poll, Context, Res};
use crate::{bail, ensure};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const MAC: &str = "52:54:00:12:34:56";
pub const PRIMARY_ID: &str = "primary0";
pub const UNPLUG_TIMEOUT: Duration = Duration::from_secs(60);
const CMDLINE: &str = "console=ttyS0 loglevel=7 printk.time=1 panic=-1";

/// How the primary of each pair is requested when QEMU starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Primary {
    /// `device_add` with `failover_pair_id`: QEMU plugs it once virtio_net acks STANDBY.
    Failover,
    /// `device_add` without `failover_pair_id`: plugged at once, an ordinary NIC to QEMU.
    Plain,
    /// Not requested.
    Absent,
}

/// What a guest is made of.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Failover pairs: pair `i` is virtio-net `standby{i}` and e1000e `primary{i}` with MAC `mac(i)`.
    pub pairs: usize,
    pub primary: Primary,
    /// Backends: unix datagram sockets to this responder socket instead of slirp.
    pub responder: Option<PathBuf>,
    /// Starts QEMU as a migration destination on this port (the guest does not boot).
    pub incoming: Option<u16>,
    /// Prefix of the backend socket names, which the responder reports as path names.
    pub prefix: &'static str,
    /// Free pcie-root-ports `rpx0`.. for devices added at run time.
    pub spare_ports: usize,
    /// `-icount shift=0,sleep=off`: the guest clock counts guest instructions
    /// (1 ns each), whatever the host's load (the benchmark).
    pub icount: bool,
    /// vCPUs.
    pub smp: usize,
    /// QEMU's device for the primaries (`e1000e`; `vmxnet3` is multi-queue).
    pub primary_driver: &'static str,
    /// The virtio-net devices offer VIRTIO_NET_F_STANDBY (`failover=on`).
    pub standby: bool,
    /// Slirp backends with `restrict=on`: the guest's frames reach no host or network.
    pub restrict: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            pairs: 1,
            primary: Primary::Failover,
            responder: None,
            incoming: None,
            prefix: "",
            spare_ports: 0,
            icount: false,
            smp: 2,
            primary_driver: "e1000e",
            standby: true,
            restrict: false,
        }
    }
}

pub struct Vm {
    child: Child,
    pub guest: Guest,
    pub qmp: Qmp,
    pub dir: PathBuf,
    pub spec: Spec,
    sockets: PathBuf,
}

/// Echo requests from the guest's MAC seen so far on each backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wire {
    pub standby: u64,
    pub primary: u64,
}

/// QEMU's id of the backend of pair `pair`'s standby (`sb`) or primary (`pr`).
fn netdev(role: &str, pair: usize) -> String {
    if pair == 0 {
        format!("n{role}")
    } else {
        format!("n{role}{pair}")
    }
}

pub fn mac(pair: usize) -> String {
    format!("52:54:00:12:34:{:02x}", 0x56 + pair)
}

/// QMP `device_add` arguments of pair `pair`'s primary, a `driver` device.
pub fn pair_primary_args(pair: usize, failover: bool, driver: &str) -> Value {
    let mut a = json!({
        "driver": driver, "id": format!("primary{pair}"), "bus": format!("rp{}", 2 * pair + 1),
        "netdev": netdev("pr", pair), "mac": mac(pair), "romfile": "",
    });
    if failover {
        a["failover_pair_id"] = json!(format!("standby{pair}"));
    }
    a
}

impl Vm {
    /// The default guest: one pair on slirp, the primary requested with `failover_pair_id`
    /// (QEMU keeps it hidden until the guest's virtio_net acks VIRTIO_NET_F_STANDBY).
    pub fn boot(kdir: &Path, initrd: &Path, dir: &Path) -> Res<Vm> {
        Vm::start(kdir, initrd, dir, &Spec::default())
    }

    /// Starts QEMU, connects the agent and QMP, requests the primaries as `spec`
    /// says, and waits for the guest agent unless QEMU is a migration destination.
    pub fn start(kdir: &Path, initrd: &Path, dir: &Path, spec: &Spec) -> Res<Vm> {
        if dir.exists() {
            fs::remove_dir_all(dir).ctx(dir.display())?;
        }
        fs::create_dir_all(dir).ctx(dir.display())?;
        let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let sockets = sock_dir()?;
        let sock = |name: &str| sockets.join(name).to_string_lossy().into_owned();
        let kernel = kdir.join("arch/x86/boot/bzImage");
        ensure!(kernel.is_file(), "{} missing", kernel.display());
        let log = fs::File::create(dir.join("qemu.log"))?;
        let icount = if spec.icount { " -icount shift=0,sleep=off" } else { "" };
        let cpus = format!("-smp {}{icount}", spec.smp);
        let mut args: Vec<String> =
            format!("-machine q35 -accel tcg {cpus} -m 512 -nodefaults -nographic -no-reboot")
                .split_whitespace()
                .map(String::from)
                .collect();
        let mut pairs = vec![
            ("-kernel", kernel.to_string_lossy().into_owned()),
            ("-initrd", initrd.to_string_lossy().into_owned()),
            ("-append", CMDLINE.to_string()),
            ("-serial", format!("file:{}", p("console.log"))),
            ("-chardev", format!("socket,id=agent,path={},server=on,wait=on", sock("agent.sock"))),
            ("-serial", "chardev:agent".to_string()),
            ("-qmp", format!("unix:{},server=on,wait=off", sock("qmp.sock"))),
        ];
        for i in 0..spec.pairs {
            let n = if i == 0 { String::new() } else { i.to_string() };
            for (role, port) in [("sb", 2 * i), ("pr", 2 * i + 1)] {
                pairs.push(("-device", format!("pcie-root-port,id=rp{port},chassis={}", port + 1)));
                let id = netdev(role, i);
                pairs.push((
                    "-netdev",
                    match &spec.responder {
                        None if spec.restrict => format!("user,id={id},restrict=on"),
                        None => format!("user,id={id}"),
                        Some(r) => format!(
                            "dgram,id={id},local.type=unix,local.path={},remote.type=unix,remote.path={}",
                            sock(&format!("{}{id}.sock", spec.prefix)),
                            r.display()
                        ),
                    },
                ));
                let file = if role == "sb" { "standby" } else { "primary" };
                pairs.push((
                    "-object",
                    format!("filter-dump,id=fd{id},netdev={id},file={}", p(&format!("{file}{n}.pcap"))),
                ));
            }
            pairs.push((
                "-device",
                format!(
                    "virtio-net-pci,bus=rp{},id=standby{i},netdev={},mac={},failover={}",
                    2 * i,
                    netdev("sb", i),
                    mac(i),
                    if spec.standby { "on" } else { "off" }
                ),
            ));
        }
        for i in 0..spec.spare_ports {
            pairs.push(("-device", format!("pcie-root-port,id=rpx{i},chassis={}", 100 + i)));
        }
        if let Some(port) = spec.incoming {
            pairs.push(("-incoming", format!("tcp:127.0.0.1:{port}")));
        }
        for (k, v) in pairs {
            args.extend([k.to_string(), v]);
        }
        let quoted: Vec<String> =
            args.iter().map(|a| if a.contains(' ') { format!("'{a}'") } else { a.clone() }).collect();
        fs::write(dir.join("qemu.cmdline"), format!("qemu-system-x86_64 {}\n", quoted.join(" ")))?;
        let mut child = Command::new("qemu-system-x86_64")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .ctx("starting qemu-system-x86_64")?;
        let started = (|| {
            let guest = Guest::connect(&sockets.join("agent.sock"), Duration::from_secs(30))?;
            let qmp = Qmp::connect(&sockets.join("qmp.sock"), Duration::from_secs(30))?;
            Ok::<_, crate::util::Error>((guest, qmp))
        })();
        let (guest, qmp) = match started {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = fs::remove_dir_all(&sockets);
                let qlog = fs::read_to_string(dir.join("qemu.log")).unwrap_or_default();
                bail!("{e}; qemu: {}", qlog.trim());
            }
        };
        let mut vm = Vm { child, guest, qmp, dir: dir.to_path_buf(), spec: spec.clone(), sockets };
        if spec.primary != Primary::Absent {
            for i in 0..spec.pairs {
                let a = pair_primary_args(i, spec.primary == Primary::Failover, spec.primary_driver);
                vm.qmp.device_add(&a)?;
            }
        }
        if spec.incoming.is_none() {
            // The debug kernel boots in about 35 s alone, several times that on a loaded host.
            let boot = if crate::debug::counts().is_some() { 480 } else { 120 };
            if let Err(e) = vm.guest.wait_ready(Duration::from_secs(boot)) {
                bail!("{e}; console tail: {}", tail(&vm.console(), 15));
            }
        }
        Ok(vm)
    }

    /// The responder's name for the backend of pair `pair`'s standby or primary.
    pub fn path(&self, primary: bool, pair: usize) -> String {
        format!("{}{}", self.spec.prefix, netdev(if primary { "pr" } else { "sb" }, pair))
    }

    /// The socket of that backend, where frames for the guest go.
    pub fn backend(&self, primary: bool, pair: usize) -> PathBuf {
        self.sockets.join(format!("{}.sock", self.path(primary, pair)))
    }

    pub fn console(&self) -> String {
        String::from_utf8_lossy(&fs::read(self.dir.join("console.log")).unwrap_or_default()).into_owned()
    }

    /// Waits until the guest kernel log (ttyS0) contains `needle`.
    pub fn wait_console(&self, needle: &str, timeout: Duration) -> Res<()> {
        let found =
            poll(timeout, Duration::from_millis(200), || Ok(self.console().contains(needle).then_some(())))?;
        ensure!(found.is_some(), "kernel log has no \"{needle}\" after {}s", timeout.as_secs());
        Ok(())
    }

    pub fn wire(&self) -> Res<Wire> {
        let mac = pcap::parse_mac(MAC);
        Ok(Wire {
            standby: pcap::echo_requests(&self.dir.join("standby.pcap"), &mac)?,
            primary: pcap::echo_requests(&self.dir.join("primary.pcap"), &mac)?,
        })
    }

    pub fn plug_primary(&mut self) -> Res<()> {
        self.plug(0)
    }

    pub fn unplug_primary(&mut self) -> Res<()> {
        self.qmp.device_del(PRIMARY_ID, UNPLUG_TIMEOUT)
    }

    pub fn plug(&mut self, pair: usize) -> Res<()> {
        self.qmp.device_add(&pair_primary_args(pair, true, self.spec.primary_driver))
    }

    pub fn unplug(&mut self, pair: usize) -> Res<()> {
        self.qmp.device_del(&format!("primary{pair}"), UNPLUG_TIMEOUT)
    }

    /// Where each vCPU is (`info registers -a`, symbols from System.map), to diagnose a hung guest.
    pub fn cpus(&mut self, kdir: &Path) -> String {
        let cmd = json!({ "command-line": "info registers -a" });
        let Ok(regs) = self.qmp.execute("human-monitor-command", cmd) else {
            return "no answer from QEMU".into();
        };
        let map = fs::read_to_string(kdir.join("System.map")).unwrap_or_default();
        let mut syms: Vec<(u64, &str)> = map
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                Some((u64::from_str_radix(w.first()?, 16).ok()?, *w.get(2)?))
            })
            .collect();
        syms.sort();
        let end = syms.iter().find(|(_, n)| *n == "_end").map_or(0, |s| s.0);
        let rips = regs
            .as_str()
            .unwrap_or("")
            .split("RIP=")
            .skip(1)
            .filter_map(|r| u64::from_str_radix(r.get(..16)?, 16).ok());
        let at: Vec<String> = rips
            .map(|rip| match syms.partition_point(|s| s.0 <= rip) {
                i if i > 0 && rip < end => format!("{}+{:#x}", syms[i - 1].1, rip - syms[i - 1].0),
                _ => format!("{rip:#x} (module or user)"),
            })
            .collect();
        format!("vCPUs at {}", at.join(", "))
    }

    /// Asks QEMU to quit and waits for it; kills it if it does not go.
    pub fn shutdown(mut self) {
        let _ = self.qmp.execute("quit", json!({}));
        let gone = poll(Duration::from_secs(10), Duration::from_millis(100), || {
            Ok(self.child.try_wait()?.map(drop))
        });
        if !matches!(gone, Ok(Some(()))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs::remove_dir_all(&self.sockets);
    }
}

/// A short private directory for the unix sockets (their paths are limited to 107 bytes).
pub fn sock_dir() -> Res<PathBuf> {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("nfh-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).ctx(d.display())?;
    Ok(d)
}

pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
