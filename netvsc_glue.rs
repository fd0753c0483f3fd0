// SPDX-License-Identifier: GPL-2.0

//! The 2-netdev model: a paravirtual driver's own netdev is the failover
//! master and the VF with the same permanent MAC its only slave; the driver
//! supplies the callbacks and the rx handler (a `struct failover_ops`, held
//! as [`RegisteredOps`]) through the exported `failover_register()`, as Hyper-V netvsc
//! did in 4.18. The same notifier, registry and matching rule serve both
//! models, and the core calls the driver's callbacks in the contexts and
//! order of the C core.
//!
//! The unregister contract differs from C's: `failover_unregister()` must be
//! called with RTNL held (as its in-tree callers hold it; the crate root's
//! shim warns about a caller that does not and takes RTNL for it), and
//! releases the slave the driver left attached, through the driver's own
//! callbacks or, if they refuse, by undoing what the core did to it; the C
//! core leaves it with the driver's rx handler and a master that is about to
//! go away. Only the failover's own slaves are released: lowers enslaved to
//! its master that its ops registered, each once.

#![forbid(unsafe_code)]

use crate::{
    failover_core::{self, Failover},
    netdev::{NetDev, RegisteredOps, Rtnl},
};
use kernel::{prelude::*, sync::Arc};

/// `failover_register()` for a C driver's ops.
pub(crate) fn failover_register(dev: &NetDev, ops: RegisteredOps) -> Result<Arc<Failover>> {
    failover_core::register(dev, ops)
}

/// `failover_unregister()`: releases the slaves these ops registered and that
/// are still attached, whether the ops agree or not, then the master. Only
/// the failover's own slaves (lowers whose master upper is the master and
/// that its ops registered), each once: a lower that is another master's
/// slave, or that these ops did not register, is left alone.
pub(crate) fn failover_unregister(r: &Rtnl, fo: &Failover) {
    if let Some((master, ops)) = fo.get(r) {
        // A failover master has at most two slaves (a primary and a standby).
        for slave in master.failover_lowers::<2>(r) {
            if ops.slave_of(r, slave, &master) {
                failover_core::release(r, slave, &master, ops, true);
            }
        }
    }
    failover_core::unregister(r, fo);
}
