// SPDX-License-Identifier: GPL-2.0

//! An RCU-published reference to a device (`struct net_device __rcu *` with
//! `rcu_assign_pointer()`, `rcu_dereference()` and `rtnl_dereference()`).

use super::{bindings as b, might_sleep, NetDev, NetDevRef, ReadSide, Rtnl};
use core::{
    cell::UnsafeCell,
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};

/// An RCU-protected pointer to a device, owning a tracked reference to it.
///
/// # Invariants
///
/// `published` is null or the device of `owner`'s [`NetDevRef`] (`owner` is
/// `None` when it is null); both change only under RTNL, in [`Self::replace`],
/// and `owner` is only accessed under RTNL, in methods of this type that call
/// no code that could use the slot meanwhile (or with `&mut self`). A
/// replaced reference is released only after an RCU grace period. So a
/// pointer read under RCU stays valid for the read-side section, and one read
/// under RTNL for as long as both the slot is borrowed and, since the slot's
/// reference may be the last, RTNL is held, if the device is registered (see
/// [`ReadSide`]).
pub(crate) struct Slot {
    published: AtomicPtr<b::net_device>,
    owner: UnsafeCell<Option<NetDevRef>>,
}

// SAFETY: `published` is atomic; `owner` is only reached under RTNL, one
// access at a time (type invariant), and `NetDevRef` is `Send` and `Sync`.
unsafe impl Sync for Slot {}

impl Slot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self {
            published: AtomicPtr::new(ptr::null_mut()),
            owner: UnsafeCell::new(None),
        }
    }

    fn load(&self) -> *mut b::net_device {
        self.published.load(Ordering::Acquire)
    }

    /// The device in the slot (`rcu_dereference()`, `rtnl_dereference()`),
    /// borrowed for as long as the slot and the proof. Under RTNL, a device
    /// that is no longer registered reads as absent.
    pub(crate) fn get<'a, P: ReadSide>(&'a self, _: &'a P) -> Option<&'a NetDev> {
        let p = self.load();
        // SAFETY: Non-null: a device this slot holds a reference to (type
        // invariant), valid while the slot is borrowed.
        let dev = (!p.is_null()).then(|| unsafe { NetDev::from_raw(p) })?;
        // INVARIANT: Per the proof, `dev` stays valid for `'a`, even if the
        // slot's reference is released meanwhile.
        P::outlives_release(dev).then_some(dev)
    }

    /// A new tracked reference to the device in the slot, registered or not:
    /// it keeps the device allocated for as long as it lives. May sleep.
    pub(crate) fn get_ref(&self, _: &Rtnl) -> Option<NetDevRef> {
        // SAFETY: RTNL is held, and `hold()` does not use the slot (type
        // invariant).
        unsafe { &*self.owner.get() }.as_ref().map(|d| d.hold())
    }

    /// Whether the slot holds a device (a comparison, no dereference).
    pub(crate) fn is_occupied(&self) -> bool {
        !self.published.load(Ordering::Relaxed).is_null()
    }

    /// Whether the slot holds `dev`'s master upper device (a comparison).
    pub(crate) fn holds_master_upper_of(&self, r: &Rtnl, dev: &NetDev) -> bool {
        let upper = dev.master_upper_ptr(r);
        !upper.is_null() && ptr::eq(self.published.load(Ordering::Relaxed), upper)
    }

    /// Whether `dev` is in the slot (a comparison, no dereference).
    pub(crate) fn holds(&self, dev: &NetDev) -> bool {
        ptr::eq(self.published.load(Ordering::Relaxed), dev.as_raw())
    }

    /// Publishes `dev` (`rcu_assign_pointer()`) and returns the previous one,
    /// after a grace period (`synchronize_net()`) when there was one: no RCU
    /// reader uses it any more. May sleep.
    pub(crate) fn replace(&self, _: &Rtnl, dev: Option<NetDevRef>) -> Option<NetDevRef> {
        let new = dev.as_ref().map_or(ptr::null_mut(), |d| d.as_raw());
        // SAFETY: RTNL is held and nothing else uses `owner` during this
        // statement (type invariant).
        let old = core::mem::replace(unsafe { &mut *self.owner.get() }, dev);
        // INVARIANT: `published` follows `owner`, under RTNL.
        self.published.store(new, Ordering::Release);
        if old.is_some() {
            might_sleep();
            // SAFETY: `synchronize_net()` may be called in process context.
            unsafe { b::synchronize_net() };
        }
        old
    }
}
