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

pub struct Vm {
    child: Child,
    pub guest: Guest,
    pub qmp: Qmp,
    pub dir: PathBuf,
    sockets: PathBuf,
}

/// Echo requests from the guest's MAC seen so far on each backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wire {
    pub standby: u64,
    pub primary: u64,
}

pub fn primary_args() -> Value {
    json!({
        "driver": "e1000e", "id": PRIMARY_ID, "bus": "rp1", "netdev": "npr",
        "mac": MAC, "failover_pair_id": "standby0", "romfile": "",
    })
}

impl Vm {
    /// Starts QEMU, connects the agent and QMP, and requests the primary, which
    /// QEMU keeps hidden until the guest's virtio_net acks VIRTIO_NET_F_STANDBY.
    pub fn boot(kdir: &Path, initrd: &Path, dir: &Path) -> Res<Vm> {
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
        let mut args: Vec<String> = "-machine q35 -accel tcg -smp 2 -m 512 -nodefaults -nographic \
            -no-reboot -device pcie-root-port,id=rp0,chassis=1 -device pcie-root-port,id=rp1,chassis=2 \
            -netdev user,id=nsb -netdev user,id=npr"
            .split_whitespace()
            .map(String::from)
            .collect();
        let pairs = [
            ("-kernel", kernel.to_string_lossy().into_owned()),
            ("-initrd", initrd.to_string_lossy().into_owned()),
            ("-append", CMDLINE.to_string()),
            ("-serial", format!("file:{}", p("console.log"))),
            ("-chardev", format!("socket,id=agent,path={},server=on,wait=on", sock("agent.sock"))),
            ("-serial", "chardev:agent".to_string()),
            ("-qmp", format!("unix:{},server=on,wait=off", sock("qmp.sock"))),
            ("-object", format!("filter-dump,id=fd0,netdev=nsb,file={}", p("standby.pcap"))),
            ("-object", format!("filter-dump,id=fd1,netdev=npr,file={}", p("primary.pcap"))),
            ("-device", format!("virtio-net-pci,bus=rp0,id=standby0,netdev=nsb,mac={MAC},failover=on")),
        ];
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
        let mut vm = Vm { child, guest, qmp, dir: dir.to_path_buf(), sockets };
        vm.qmp.device_add(&primary_args())?;
        if let Err(e) = vm.guest.wait_ready(Duration::from_secs(120)) {
            bail!("{e}; console tail: {}", tail(&vm.console(), 15));
        }
        Ok(vm)
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
        self.qmp.device_add(&primary_args())
    }

    pub fn unplug_primary(&mut self) -> Res<()> {
        self.qmp.device_del(PRIMARY_ID, UNPLUG_TIMEOUT)
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
fn sock_dir() -> Res<PathBuf> {
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
