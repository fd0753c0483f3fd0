//! Builds the guest's initramfs: busybox, the agent /init, kernel modules,
//! iproute2's `ip` and `ethtool` from the host and the harness binary itself
//! (the guest's UDP sender), with their shared libraries.

use crate::util::{Context, Res};
use crate::{bail, ensure};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const MODULE_DIR: &str = "/lib/modules";
/// iproute2's ip; a bare `ip` would run busybox's applet.
pub const IP: &str = "/usr/sbin/ip";

const INIT: &str = r#"#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /tmp /run
stty -F /dev/ttyS1 raw -echo
exec </dev/ttyS1 >/dev/ttyS1 2>&1
echo @@READY
# In a subshell: background jobs of the commands are orphaned to PID 1, and
# their exit signals must not interrupt the agent's read.
(
while read -r id cmd; do
	sh -c "$cmd" </dev/null 2>&1
	rc=$?
	echo
	echo "@@END $id $rc"
done
)
poweroff -f
"#;

/// newc cpio archive writer.
struct Cpio {
    data: Vec<u8>,
    ino: u32,
    dirs: BTreeSet<String>,
}

impl Cpio {
    fn new() -> Self {
        Cpio { data: Vec::new(), ino: 0, dirs: BTreeSet::new() }
    }

    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), body: &[u8]) {
        self.ino += 1;
        let name = name.trim_start_matches('/');
        let fields =
            [self.ino, mode, 0, 0, 1, 0, body.len() as u32, 0, 0, rdev.0, rdev.1, name.len() as u32 + 1, 0];
        self.data.extend_from_slice(b"070701");
        for f in fields {
            self.data.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(body);
        self.pad();
    }

    fn dir(&mut self, path: &str) {
        let mut cur = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            cur = format!("{cur}/{part}");
            if self.dirs.insert(cur.clone()) {
                self.entry(&cur.clone(), 0o040755, (0, 0), &[]);
            }
        }
    }

    fn file(&mut self, path: &str, mode: u32, body: &[u8]) {
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entry(path, 0o100000 | mode, (0, 0), body);
    }

    fn host_file(&mut self, path: &str, host: &Path) -> Res<()> {
        let body = std::fs::read(host).ctx(host.display())?;
        self.file(path, 0o755, &body);
        Ok(())
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.data
    }
}

fn find_host(name: &str) -> Res<PathBuf> {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("{name} not found on the host (install it: tests/setup.sh does)")
}

/// Shared libraries (and the ELF interpreter) that `bin` needs, as ldd lists them.
fn shared_libs(bin: &Path) -> Res<Vec<PathBuf>> {
    let out = Command::new("ldd").arg(bin).output().ctx("running ldd")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')))
        .map(PathBuf::from)
        .collect())
}

/// Writes a gzip-compressed initramfs with `modules` under /lib/modules.
pub fn build(dest: &Path, modules: &[PathBuf]) -> Res<()> {
    build_with(dest, modules, None)
}

/// Adds the host tree `dir` at `at`: directories, files and symbolic links as they are.
fn tree(c: &mut Cpio, at: &str, dir: &Path) -> Res<()> {
    c.dir(at);
    let mut entries: Vec<_> = std::fs::read_dir(dir).ctx(dir.display())?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = format!("{at}/{}", e.file_name().to_string_lossy());
        let ty = e.file_type()?;
        if ty.is_symlink() {
            let target = std::fs::read_link(e.path())?;
            c.entry(&path, 0o120777, (0, 0), target.to_string_lossy().as_bytes());
        } else if ty.is_dir() {
            tree(c, &path, &e.path())?;
        } else {
            c.file(&path, 0o644, &std::fs::read(e.path()).ctx(e.path().display())?);
        }
    }
    Ok(())
}

/// Debian's kmod and the names it answers to.
const KMOD_TOOLS: [&str; 6] = ["modprobe", "depmod", "modinfo", "lsmod", "insmod", "rmmod"];

/// As [`build`], plus, with `modules_tree` (a `lib/modules/<release>`
/// directory), that tree at /lib/modules/<release> and the host's kmod as
/// modprobe, depmod, modinfo, lsmod, insmod and rmmod in /usr/sbin (ahead of
/// busybox's applets in the guest's PATH).
pub fn build_with(dest: &Path, modules: &[PathBuf], modules_tree: Option<&Path>) -> Res<()> {
    let mut c = Cpio::new();
    for d in ["/proc", "/sys", "/dev", "/tmp", "/run", "/etc", "/usr/sbin", MODULE_DIR] {
        c.dir(d);
    }
    c.entry("/dev/console", 0o020600, (5, 1), &[]);
    let busybox = find_host("busybox")?;
    ensure!(
        shared_libs(&busybox)?.is_empty(),
        "{} is dynamically linked; install busybox-static",
        busybox.display()
    );
    c.host_file("/bin/busybox", &busybox)?;
    c.entry("/bin/sh", 0o120777, (0, 0), b"busybox");
    c.file("/init", 0o755, INIT.as_bytes());
    let mut libs = BTreeSet::new();
    for tool in ["ip", "ethtool"] {
        let bin = find_host(tool)?;
        c.host_file(&format!("/usr/sbin/{tool}"), &bin)?;
        libs.extend(shared_libs(&bin)?);
    }
    if let Some(t) = modules_tree {
        let Some(release) = t.file_name().and_then(|n| n.to_str()) else {
            bail!("bad modules tree {}", t.display())
        };
        tree(&mut c, &format!("{MODULE_DIR}/{release}"), t)?;
        let kmod = find_host("kmod")?;
        c.host_file("/usr/bin/kmod", &kmod)?;
        libs.extend(shared_libs(&kmod)?);
        for tool in KMOD_TOOLS {
            c.entry(&format!("/usr/sbin/{tool}"), 0o120777, (0, 0), b"/usr/bin/kmod");
        }
    }
    let me = std::env::current_exe().ctx("locating the harness binary")?;
    c.host_file(crate::udp::GUEST_BIN, &me)?;
    libs.extend(shared_libs(&me)?);
    for lib in libs {
        c.host_file(&lib.to_string_lossy(), &lib)?;
    }
    for m in modules {
        let Some(name) = m.file_name().and_then(|n| n.to_str()) else {
            bail!("bad module path {}", m.display())
        };
        c.host_file(&format!("{MODULE_DIR}/{name}"), m)?;
    }
    let out = std::fs::File::create(dest).ctx(dest.display())?;
    let mut gz = Command::new("gzip")
        .args(["-n", "-1", "-c"])
        .stdin(Stdio::piped())
        .stdout(out)
        .spawn()
        .ctx("running gzip")?;
    gz.stdin.take().unwrap().write_all(&c.finish())?;
    ensure!(gz.wait()?.success(), "gzip failed");
    Ok(())
}
