// SPDX-License-Identifier: GPL-2.0

//! Failover for paravirtual drivers (drivers/net/net_failover.c and
//! net/core/failover.c in Rust).
//!
//! `net_failover_create()` makes a master netdev for a paravirtual device
//! (virtio-net with `VIRTIO_NET_F_STANDBY`) and registers it with the failover
//! core; the core then enslaves the paravirtual device as the standby and a
//! PCI device with the same permanent MAC as the primary. The master
//! transmits on the primary whenever it is running with carrier, else on the
//! standby. `failover_register()` serves the 2-netdev model, where the
//! paravirtual device is itself the master.
//!
//! The modules:
//!
//! - [`master`]: the master netdev's operations;
//! - [`virtio_standby`]: the 3-netdev model, `net_failover_create()` and
//!   `net_failover_destroy()`;
//! - [`netvsc_glue`]: the 2-netdev model of `failover_register()`;
//! - [`failover_core`]: the registry and the netdevice notifier;
//! - [`link_kind`]: the link kind of the masters (opt-in, not in C);
//! - [`open_delay`]: a new primary opened after a delay, for udev (opt-in,
//!   not in C);
//! - [`policy`]: the policy as pure functions;
//! - [`netdev`]: the netdev abstractions, the only module with `unsafe` code
//!   besides this file's C entry points.
//!
//! Differences from the C driver are listed in
//! Documentation/networking/net_failover_rs.rst.

mod failover_core;
mod link_kind;
mod master;
mod netdev;
mod netvsc_glue;
mod open_delay;
mod path_stats;
pub mod policy;
mod virtio_standby;

#[cfg(nf_attempt)]
#[path = "tests/soundness/attempts.rs"]
mod attempts;

use failover_core::Failover;
use kernel::{prelude::*, sync::Arc, types::ForeignOwnable};
use netdev::{bindings as b, with_callers_rtnl, NetDev, RegisteredOps, Unregistered};
use netvsc_glue as glue;
use virtio_standby::NetFailoverGroup;

module! {
    type: NetFailoverModule,
    name: "net_failover_rs",
    author: "The net_failover_rs authors",
    description: "Failover driver for Paravirtual drivers (Rust)",
    license: "GPL v2",
}

/// The core's registration and, with `link_kind=1`, the link kind's.
/// Held for their `Drop` only, hence never read.
#[allow(dead_code)]
struct NetFailoverModule(failover_core::Core, link_kind::Registration);

impl kernel::Module for NetFailoverModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self(failover_core::Core::new()?, link_kind::register()?))
    }
}

/// A new failover as C's `struct failover *`, or `ERR_PTR(err)`.
fn to_failover<T: ForeignOwnable>(r: Result<T>) -> *mut b::failover {
    r.map_or_else(Error::to_ptr, |fo| fo.into_foreign().cast_mut().cast())
}

/// `struct failover *net_failover_create(struct net_device *standby_dev)`.
///
/// # Safety
///
/// Only called by a paravirtual driver (virtio_net's probe) with its device,
/// valid, not registered yet and left alone during the call; without RTNL.
#[no_mangle]
unsafe extern "C" fn net_failover_create(standby: *mut b::net_device) -> *mut b::failover {
    // SAFETY: Per the function's safety section.
    let standby = unsafe { Unregistered::from_raw(standby) };
    to_failover(virtio_standby::create(standby))
}

/// `void net_failover_destroy(struct failover *failover)`.
///
/// # Safety
///
/// Only called with NULL or a value of `net_failover_create()`, once; without
/// RTNL.
#[no_mangle]
unsafe extern "C" fn net_failover_destroy(fo: *mut b::failover) {
    if !fo.is_null() {
        // SAFETY: From `into_foreign()` in `net_failover_create()`, given back once.
        drop(unsafe { KBox::<NetFailoverGroup>::from_foreign(fo.cast_const().cast()) });
    }
}

/// `struct failover *failover_register(struct net_device *dev, struct failover_ops *ops)`.
///
/// # Safety
///
/// Only called by a 2-netdev driver with its registered device and an ops
/// table that follows `failover.h` (the driver installs no rx handler on its
/// slaves itself) and stays valid and unchanged until `failover_unregister()`
/// has returned and the RTNL section it was called in has ended; without RTNL.
#[no_mangle]
unsafe extern "C" fn failover_register(
    dev: *mut b::net_device,
    ops: *mut b::failover_ops,
) -> *mut b::failover {
    let Some(ops) = core::ptr::NonNull::new(ops).filter(|_| !dev.is_null()) else {
        return EINVAL.to_ptr();
    };
    // SAFETY: Per the function's safety section.
    let dev = unsafe { NetDev::from_raw(dev) };
    // SAFETY: Per the function's safety section; `failover_unregister()`
    // retires the ops under its caller's RTNL.
    let ops = unsafe { RegisteredOps::from_c(ops, dev) };
    to_failover(netvsc_glue::failover_register(dev, ops))
}

/// `void failover_unregister(struct failover *failover)`.
///
/// Unlike C's, it must be called with RTNL held (as the in-tree callers do):
/// a caller without it is warned about and waits for RTNL (see
/// `with_callers_rtnl()`), which lockdep detects exactly.
///
/// # Safety
///
/// Only called with a value of `failover_register()` (an opaque handle),
/// once, with RTNL held.
#[no_mangle]
unsafe extern "C" fn failover_unregister(fo: *mut b::failover) {
    if !fo.is_null() {
        // SAFETY: From `into_foreign()` in `failover_register()`, given back once.
        let fo = unsafe { Arc::<Failover>::from_foreign(fo.cast_const().cast()) };
        // SAFETY: The caller holds RTNL (safety section): a holder is this thread.
        unsafe { with_callers_rtnl("failover_unregister", |r| glue::failover_unregister(r, &fo)) };
    }
}

/// `int failover_slave_unregister(struct net_device *slave_dev)`: `NOTIFY_OK`
/// if the slave was released, else `NOTIFY_DONE`.
///
/// # Safety
///
/// Only called with a registered device, with RTNL held.
#[no_mangle]
unsafe extern "C" fn failover_slave_unregister(slave: *mut b::net_device) -> i32 {
    // SAFETY: Per the function's safety section.
    let slave = unsafe { NetDev::from_raw(slave) };
    let release = |r: &_| failover_core::slave_unregister(r, slave);
    // SAFETY: The caller holds RTNL (safety section): a holder is this thread.
    let done = unsafe { with_callers_rtnl("failover_slave_unregister", release) };
    (if done { b::NOTIFY_OK } else { b::NOTIFY_DONE }) as i32
}
