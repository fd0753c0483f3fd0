// SPDX-License-Identifier: GPL-2.0

//! The 2-netdev model: a paravirtual driver's own netdev is the failover
//! master and the VF with the same permanent MAC its only slave; the driver
//! supplies the callbacks (`struct failover_ops`) and the rx handler through
//! the exported `failover_register()`, as Hyper-V netvsc did in 4.18.
//!
//! The C ops table becomes the core's [`FailoverOps`] through `COps` (in the
//! FFI layer): the same notifier, registry and matching rule serve both
//! models, and the core calls the driver's callbacks in the contexts and
//! order of the C core. Unlike the C core, `failover_unregister()` releases a
//! slave the driver left attached instead of leaving it with the driver's rx
//! handler and a master that is about to go away.

use crate::{
    failover_core::{self, Failover},
    netdev::{COps, NetDev},
};
use kernel::{prelude::*, sync::Arc};

/// `failover_register()` for a C driver's ops.
pub(crate) fn register(master: &NetDev, ops: &'static COps) -> Result<Arc<Failover>> {
    failover_core::register(master, ops)
}
