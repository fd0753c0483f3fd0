//! The failover implementations under test and how to load them in the guest.

use crate::guest::Guest;
use crate::initramfs::MODULE_DIR;
use crate::logscan::Known;
use crate::util::Res;

pub struct Stack {
    pub name: &'static str,
    /// Failover module files, in load order.
    pub failover: Vec<String>,
    /// Why the stack cannot run, if it cannot.
    pub skip: Option<String>,
}

pub const DRIVERS: [&str; 2] = ["e1000e.ko", "virtio_net.ko"];

/// Splats the C modules are known to produce; they are reported, not failed.
const C_KNOWN: &[Known] = &[
    Known {
        pattern: "INFO: trying to register non-static key",
        what: "net_failover stats_lock is never initialised (known bug: uninitialised stats_lock)",
    },
    Known {
        pattern: "BUG: spinlock bad magic",
        what: "net_failover stats_lock is never initialised (known bug: uninitialised stats_lock)",
    },
    Known {
        pattern: "new suspected memory leaks",
        what: "kmemleak reports on the C stack (known bug: memory leak; listed in the reliability section)",
    },
    Known {
        pattern: "net/core/failover.c:282 suspicious rcu_dereference_check() usage",
        what: "failover_unregister() uses rcu_dereference() outside RCU (known bug: rcu_dereference outside RCU)",
    },
];

fn module_name(file: &str) -> String {
    file.trim_end_matches(".ko").replace('-', "_")
}

impl Stack {
    pub fn c() -> Stack {
        Stack { name: "c", failover: vec!["failover.ko".into(), "net_failover.ko".into()], skip: None }
    }

    pub fn rust(module: Option<&std::path::Path>) -> Stack {
        let skip = match module {
            None => Some("no --rust-module given".to_string()),
            Some(p) if !p.is_file() => Some(format!("{} does not exist", p.display())),
            Some(_) => None,
        };
        let file = module
            .and_then(|p| p.file_name())
            .map_or("net_failover_rs.ko".into(), |n| n.to_string_lossy().into_owned());
        Stack { name: "rust", failover: vec![file], skip }
    }

    pub fn is_c(&self) -> bool {
        self.name == "c"
    }

    pub fn known_bugs(&self) -> &'static [Known] {
        if self.is_c() {
            C_KNOWN
        } else {
            &[]
        }
    }

    pub fn load_failover(&self, g: &mut Guest) -> Res<()> {
        for m in &self.failover {
            g.ok(&format!("insmod {MODULE_DIR}/{m}"))?;
        }
        Ok(())
    }

    /// Loads the failover module(s), then e1000e, then virtio_net.
    pub fn load(&self, g: &mut Guest) -> Res<()> {
        self.load_failover(g)?;
        for m in DRIVERS {
            g.ok(&format!("insmod {MODULE_DIR}/{m}"))?;
        }
        Ok(())
    }

    pub fn unload_failover(&self, g: &mut Guest) -> Res<()> {
        for m in self.failover.iter().rev() {
            g.ok(&format!("rmmod {}", module_name(m)))?;
        }
        Ok(())
    }

    pub fn module_names(&self) -> Vec<String> {
        self.failover.iter().map(|m| module_name(m)).collect()
    }
}
