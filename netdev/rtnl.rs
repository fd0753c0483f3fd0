// SPDX-License-Identifier: GPL-2.0

//! The RTNL lock (`linux/rtnetlink.h`): a proof that it is held, the guard
//! that holds it, and data it protects.

use super::bindings as b;
use core::{cell::UnsafeCell, marker::PhantomData, ops::Deref};
use kernel::{prelude::*, sync::Arc};

/// Proof that the current thread holds RTNL.
///
/// Methods that need RTNL take a `&Rtnl`; a reference read under it borrows
/// the proof, so it cannot outlive the lock.
///
/// # Invariants
///
/// RTNL is held by the current thread for as long as a value of this type
/// exists. The type is neither `Send` nor `Sync`.
pub(crate) struct Rtnl(PhantomData<*mut ()>);

impl Rtnl {
    /// Makes the proof for a context where RTNL is known to be held.
    ///
    /// # Safety
    ///
    /// The current thread holds RTNL for as long as the returned value exists.
    pub(crate) unsafe fn assume() -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self(PhantomData)
    }
}

/// RTNL, held until this guard is dropped (`rtnl_lock()`/`rtnl_unlock()`).
#[must_use = "RTNL is released when the guard is dropped"]
pub(crate) struct RtnlGuard(Rtnl);

/// `rtnl_lock()`: takes RTNL. May sleep.
#[track_caller]
pub(crate) fn rtnl_lock() -> RtnlGuard {
    super::might_sleep();
    // SAFETY: `rtnl_lock()` may be called from any sleepable context.
    unsafe { b::rtnl_lock() };
    // SAFETY: RTNL was taken above and is released only when the guard drops.
    RtnlGuard(unsafe { Rtnl::assume() })
}

/// `rtnl_trylock()`: takes RTNL if no one holds it. Never sleeps on RTNL, so
/// work that a holder waits for (`cancel_delayed_work_sync()`) may use it.
pub(crate) fn rtnl_trylock() -> Option<RtnlGuard> {
    // SAFETY: `rtnl_trylock()` may be called from any process context.
    let taken = unsafe { b::rtnl_trylock() } != 0;
    // SAFETY: RTNL was taken above and is released only when the guard drops.
    taken.then(|| RtnlGuard(unsafe { Rtnl::assume() }))
}

/// Whether the current thread holds RTNL, as far as the kernel can tell.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RtnlHolder {
    /// The current thread holds it (lockdep says so: exact).
    Current,
    /// The current thread does not hold it (lockdep says so), or no thread
    /// does.
    NotCurrent,
    /// Some thread holds it, and without lockdep (no `CONFIG_PROVE_LOCKING`,
    /// or lockdep turned off after a report) which one cannot be told: this is
    /// all `ASSERT_RTNL()` checks (`rtnl_is_locked()`).
    Unknown,
}

/// Who holds RTNL: with lockdep, `lockdep_rtnl_is_held()`; else
/// `rtnl_is_locked()`.
pub(crate) fn rtnl_holder() -> RtnlHolder {
    // SAFETY: Only reads lockdep's state of the current task or the mutex's.
    match unsafe { b::nf_rtnl_held_by_current() } {
        1 => RtnlHolder::Current,
        0 => RtnlHolder::NotCurrent,
        _ => RtnlHolder::Unknown,
    }
}

/// Runs `f` under the caller's RTNL, for a C entry point `api` whose callers
/// must hold it. A caller that does not is reported with a log line naming
/// `api`, and RTNL is taken for it: `f` then waits until any other holder has
/// released RTNL, so it never runs unserialised.
///
/// With lockdep the check is exact. Without it, a caller without RTNL while
/// another thread holds it cannot be told from one that holds it (as with
/// every `ASSERT_RTNL()`): the safety condition below covers that case.
///
/// # Safety
///
/// If lockdep cannot tell who holds RTNL ([`RtnlHolder::Unknown`]) and some
/// thread holds it, that thread is the current one.
#[track_caller]
pub(crate) unsafe fn with_callers_rtnl<R>(api: &str, f: impl FnOnce(&Rtnl) -> R) -> R {
    match rtnl_holder() {
        // SAFETY: Lockdep says the current thread holds RTNL; it cannot
        // release it while `f` runs.
        RtnlHolder::Current => f(&unsafe { Rtnl::assume() }),
        // SAFETY: Held by some thread, the current one per the caller; it
        // cannot release it while `f` runs.
        RtnlHolder::Unknown => f(&unsafe { Rtnl::assume() }),
        RtnlHolder::NotCurrent => {
            pr_warn!(
                "{api}() called without RTNL held (its callers must hold RTNL): taking RTNL\n"
            );
            f(&rtnl_lock())
        }
    }
}

impl Deref for RtnlGuard {
    type Target = Rtnl;
    fn deref(&self) -> &Rtnl {
        &self.0
    }
}

impl Drop for RtnlGuard {
    fn drop(&mut self) {
        // SAFETY: The guard took RTNL in `rtnl_lock()` and still holds it.
        unsafe { b::rtnl_unlock() };
    }
}

/// A list of shared objects that RTNL protects, for a `static`.
///
/// Elements are handed out as clones of their [`Arc`], so no reference into
/// the list is ever alive while it changes, and no callback runs while it is
/// borrowed: accesses cannot nest.
///
/// # Invariants
///
/// `list` is only accessed with RTNL held, within a method of this type that
/// calls no code outside this file while the access lasts.
pub(crate) struct RtnlVec<T> {
    list: UnsafeCell<KVec<Option<Arc<T>>>>,
}

// SAFETY: The list is only reached under RTNL, one access at a time (type
// invariant); it hands out `Arc<T>` clones, which are `Send` for these `T`.
unsafe impl<T: Send + Sync> Sync for RtnlVec<T> {}

impl<T> RtnlVec<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            list: UnsafeCell::new(KVec::new()),
        }
    }

    /// Appends `item` (into the first free place: the list stays in order).
    pub(crate) fn push(&self, _: &Rtnl, item: Arc<T>) -> Result {
        // SAFETY: RTNL is held and this is the only access (type invariant).
        let list = unsafe { &mut *self.list.get() };
        match list.iter_mut().find(|e| e.is_none()) {
            Some(free) => *free = Some(item),
            None => {
                // On failure `item` is dropped after this access ends.
                list.reserve(1, GFP_KERNEL)?;
                list.push(Some(item), GFP_KERNEL)?;
            }
        }
        Ok(())
    }

    /// The `i`-th element, in the order they were pushed.
    pub(crate) fn get(&self, _: &Rtnl, i: usize) -> Option<Arc<T>> {
        // SAFETY: RTNL is held and this is the only access (type invariant).
        let list = unsafe { &*self.list.get() };
        list.get(i).and_then(Clone::clone)
    }

    /// Removes `item`; returns whether it was in the list.
    pub(crate) fn remove(&self, _: &Rtnl, item: &T) -> bool {
        let old = {
            // SAFETY: RTNL is held and this is the only access (type invariant).
            let list = unsafe { &mut *self.list.get() };
            let Some(i) = list
                .iter()
                .position(|e| e.as_ref().is_some_and(|e| core::ptr::eq(&**e, item)))
            else {
                return false;
            };
            let old = list[i].take();
            list[i..].rotate_left(1);
            if list.first().is_some_and(Option::is_none) {
                // Empty: free the storage too.
                *list = KVec::new();
            }
            old
        };
        // Dropped after the access: `T::drop` may use the list.
        drop(old);
        true
    }

    /// Empties the list and frees its storage.
    pub(crate) fn clear(&self, _: &Rtnl) {
        // SAFETY: RTNL is held and this is the only access (type invariant).
        let old = core::mem::replace(unsafe { &mut *self.list.get() }, KVec::new());
        drop(old);
    }
}
