// SPDX-License-Identifier: GPL-2.0

//! `include/net/failover.h`: the callbacks of a failover master, a C
//! driver's `struct failover_ops` as those callbacks, and the callbacks of a
//! registered failover, which end when it is unregistered.

use super::{bindings as b, netdev_err, NetDev, Rtnl, RxHandler};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
};
use kernel::prelude::*;

/// What [`FailoverOps::slave_handle_frame`] gives: the rx handler for a new
/// slave, if any.
pub(crate) type SlaveRxHandler<'a> = Option<RxHandler<'a>>;

/// The callbacks of a failover master (`struct failover_ops`), called by the
/// failover core under RTNL with the slave and the master. Errors of the
/// `*_pre_*` callbacks mean "not mine" or "refused".
pub(crate) trait FailoverOps: Send + Sync {
    /// `slave_pre_register`: may refuse `slave` before anything is done to it.
    fn slave_pre_register(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// `slave_register`: enslaves `slave`; the rx handler and the upper link
    /// are set up already and are undone if this fails.
    fn slave_register(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// `slave_pre_unregister`: may refuse to release `slave`.
    fn slave_pre_unregister(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// `slave_unregister`: releases `slave`; the rx handler and upper link
    /// are gone already.
    fn slave_unregister(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// `slave_link_change`: `slave` went up or down or changed carrier.
    fn slave_link_change(&self, r: &Rtnl, slave: &NetDev, master: &NetDev);
    /// `slave_name_change`: `slave` was renamed.
    fn slave_name_change(&self, r: &Rtnl, slave: &NetDev, master: &NetDev);
    /// `slave_handle_frame`: the rx handler for `slave`, a new slave of
    /// `master`, if any.
    fn slave_handle_frame<'a>(
        &self,
        r: &Rtnl,
        slave: &NetDev,
        master: &'a NetDev,
    ) -> SlaveRxHandler<'a>;
    /// Whether `slave` is a slave of `master` that these ops registered
    /// (`slave_register` succeeded) and have not unregistered since.
    fn slave_of(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> bool;
}

/// A C driver's `struct failover_ops`, as [`FailoverOps`]: its callbacks run
/// in the same contexts and order as under the C core, and only in that
/// order: with the master it was registered for, `slave_register` for a
/// device the core linked to it, and the other slave callbacks only for the
/// slave so registered (the C callbacks take and drop references on that
/// basis). Calls out of order are refused with `EINVAL` without reaching C.
/// One slave at a time, as the 2-netdev model has: a second is refused with
/// `EBUSY` and a log line (the C core would offer it to the driver).
///
/// # Invariants
///
/// `table` is a valid table whose callbacks follow `failover.h`'s contract
/// (RTNL held; the handler expects the master as its data), for as long as
/// [`RegisteredOps::get`] lends it; `master` is the device it was registered
/// for and `slave` null or the device given to a `slave_register` since, not
/// yet to `slave_unregister` (both only compared); `slave` changes under RTNL.
pub(crate) struct COps {
    table: NonNull<b::failover_ops>,
    master: *mut b::net_device,
    slave: AtomicPtr<b::net_device>,
}

// SAFETY: A table of function pointers that the core reads under RTNL, and
// pointers that are only compared.
unsafe impl Sync for COps {}
// SAFETY: As above.
unsafe impl Send for COps {}

type CCallback = Option<unsafe extern "C" fn(*mut b::net_device, *mut b::net_device) -> i32>;

impl COps {
    fn table(&self) -> &b::failover_ops {
        // SAFETY: Valid while `self` is reachable (type invariant; see
        // `RegisteredOps::get`).
        unsafe { self.table.as_ref() }
    }

    /// Whether `master` is the device these ops were registered for.
    fn bound_to(&self, master: &NetDev) -> bool {
        ptr::eq(master.as_raw(), self.master)
    }

    /// Whether `master` is ours and `slave` the slave we registered.
    fn registered(&self, slave: &NetDev, master: &NetDev) -> bool {
        self.bound_to(master) && ptr::eq(self.slave.load(Ordering::Relaxed), slave.as_raw())
    }

    /// Calls `f` if the driver set it; `missing` is the result otherwise.
    /// Any non-zero return is a refusal or failure, as for the C core.
    fn call(_: &Rtnl, f: CCallback, missing: Result, slave: &NetDev, master: &NetDev) -> Result {
        let Some(f) = f else { return missing };
        // SAFETY: The driver's callback (type invariant), given the devices
        // and the context the C core gives it: RTNL, which the caller holds.
        match unsafe { f(slave.as_raw(), master.as_raw()) } {
            0 => Ok(()),
            _ => Err(EINVAL),
        }
    }
}

impl FailoverOps for COps {
    fn slave_pre_register(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        if !self.bound_to(master) {
            return Err(EINVAL);
        }
        Self::call(r, self.table().slave_pre_register, Ok(()), slave, master)
    }
    fn slave_register(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        let linked = slave.has_master_upper(r, master) && slave.is_failover_slave(r);
        if !self.bound_to(master) || !linked {
            return Err(EINVAL);
        }
        if !self.slave.load(Ordering::Relaxed).is_null() {
            let name = slave.name(r);
            netdev_err!(
                master,
                "{name} not enslaved: the 2-netdev master has a slave already"
            );
            return Err(EBUSY);
        }
        // Recorded first: the driver's callback may cause the slave's events.
        self.slave.store(slave.as_raw(), Ordering::Relaxed);
        Self::call(r, self.table().slave_register, Err(EINVAL), slave, master)
            .inspect_err(|_| self.slave.store(ptr::null_mut(), Ordering::Relaxed))
    }
    fn slave_pre_unregister(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        if !self.registered(slave, master) {
            return Err(EINVAL);
        }
        Self::call(r, self.table().slave_pre_unregister, Ok(()), slave, master)
    }
    fn slave_unregister(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        if !self.registered(slave, master) {
            return Err(EINVAL);
        }
        self.slave.store(ptr::null_mut(), Ordering::Relaxed);
        Self::call(r, self.table().slave_unregister, Err(EINVAL), slave, master)
    }
    fn slave_link_change(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) {
        if self.registered(slave, master) {
            let _ = Self::call(r, self.table().slave_link_change, Ok(()), slave, master);
        }
    }
    fn slave_name_change(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) {
        if self.registered(slave, master) {
            let _ = Self::call(r, self.table().slave_name_change, Ok(()), slave, master);
        }
    }
    fn slave_handle_frame<'a>(
        &self,
        _r: &Rtnl,
        _slave: &NetDev,
        master: &'a NetDev,
    ) -> SlaveRxHandler<'a> {
        let f = self
            .table()
            .slave_handle_frame
            .filter(|_| self.bound_to(master))?;
        // SAFETY: `failover.h`'s contract (type invariant): the handler
        // expects the master it was registered for, which `master` is, as its
        // data, and the driver leaves its installation to the failover core.
        Some(unsafe { RxHandler::from_raw(f, master) })
    }
    fn slave_of(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) -> bool {
        self.registered(slave, master)
    }
}

enum Ops {
    Rust(&'static dyn FailoverOps),
    C(COps),
}

/// The callbacks of a registered failover, reachable until [`Self::retire`].
///
/// # Invariants
///
/// The callbacks are valid while `live` is set, and until the end of the RTNL
/// section that clears it (only [`Self::retire`] does, under RTNL).
pub(crate) struct RegisteredOps {
    ops: Ops,
    live: AtomicBool,
}

impl RegisteredOps {
    /// Callbacks implemented in Rust.
    pub(crate) fn new(ops: &'static dyn FailoverOps) -> Self {
        Self {
            ops: Ops::Rust(ops),
            live: AtomicBool::new(true),
        }
    }

    /// A C driver's `struct failover_ops`, registered for `master`.
    ///
    /// # Safety
    ///
    /// `ops` is a valid table whose callbacks follow `failover.h`'s contract
    /// (the driver installs no rx handler on the slaves itself) and stay valid
    /// and unchanged until [`Self::retire`] is called and the RTNL section it
    /// is called in has ended.
    pub(crate) unsafe fn from_c(ops: NonNull<b::failover_ops>, master: &NetDev) -> Self {
        // INVARIANT: Per the caller; no slave registered yet.
        Self {
            ops: Ops::C(COps {
                table: ops,
                master: master.as_raw(),
                slave: AtomicPtr::new(ptr::null_mut()),
            }),
            live: AtomicBool::new(true),
        }
    }

    /// The callbacks, for as long as RTNL is held, unless retired.
    pub(crate) fn get<'a>(&'a self, _: &'a Rtnl) -> Option<&'a dyn FailoverOps> {
        // Retiring needs RTNL, which the caller holds for `'a`.
        self.live
            .load(Ordering::Relaxed)
            .then_some(match &self.ops {
                Ops::Rust(ops) => *ops,
                Ops::C(ops) => ops,
            })
    }

    /// Ends the callbacks (`failover_unregister()`).
    pub(crate) fn retire(&self, _: &Rtnl) {
        self.live.store(false, Ordering::Relaxed);
    }
}
