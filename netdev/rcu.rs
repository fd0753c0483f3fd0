// SPDX-License-Identifier: GPL-2.0

//! RCU read-side critical sections (`linux/rcupdate.h`) as a proof, and the
//! sealed trait of the proofs under which an RCU-published pointer may be read.

use super::{NetDev, Rtnl};
use core::marker::PhantomData;

/// Proof of an RCU read-side critical section.
///
/// # Invariants
///
/// The current thread is in an RCU read-side critical section (or has BH or
/// preemption disabled, which is one since the RCU flavours were merged) for
/// as long as a value of this type exists. The type is neither `Send` nor
/// `Sync`.
pub(crate) struct Rcu(PhantomData<*mut ()>);

impl Rcu {
    /// Makes the proof for a context that is known to be an RCU read side.
    ///
    /// # Safety
    ///
    /// The current thread is in an RCU read-side critical section, or has BH
    /// or preemption disabled, for as long as the returned value exists.
    pub(crate) unsafe fn assume() -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self(PhantomData)
    }
}

/// Runs `f` in an RCU read-side critical section (`rcu_read_lock()` ...
/// `rcu_read_unlock()`). `f` must not sleep (see the module documentation of
/// [`super`]); what it reads under the proof cannot leave it.
pub(crate) fn rcu_read<R>(f: impl FnOnce(&Rcu) -> R) -> R {
    read_lock();
    // SAFETY: The read-side section lasts until the unlock below, after the
    // proof is gone.
    let r = f(&unsafe { Rcu::assume() });
    read_unlock();
    r
}

/// `rcu_read_lock()` and `rcu_read_unlock()` of a kernel with neither
/// preemptible RCU, nor a preempt count, nor lock debugging: there
/// `__rcu_read_lock()` is `preempt_disable()`, which is `barrier()`, and the
/// lockdep and sparse parts are empty, so both are a compiler barrier, inline
/// (the per-packet `ndo_select_queue` takes them).
#[cfg(not(any(CONFIG_PREEMPT_RCU, CONFIG_PREEMPT_COUNT, CONFIG_DEBUG_LOCK_ALLOC)))]
fn read_lock() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}
#[cfg(not(any(CONFIG_PREEMPT_RCU, CONFIG_PREEMPT_COUNT, CONFIG_DEBUG_LOCK_ALLOC)))]
fn read_unlock() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// `rcu_read_lock()`, the C function, for every other kernel.
#[cfg(any(CONFIG_PREEMPT_RCU, CONFIG_PREEMPT_COUNT, CONFIG_DEBUG_LOCK_ALLOC))]
fn read_lock() {
    // SAFETY: `rcu_read_lock()` may be called in any context; `rcu_read`
    // pairs it with `read_unlock()`.
    unsafe { super::bindings::nf_rcu_read_lock() };
}
/// `rcu_read_unlock()`, the C function, for every other kernel.
#[cfg(any(CONFIG_PREEMPT_RCU, CONFIG_PREEMPT_COUNT, CONFIG_DEBUG_LOCK_ALLOC))]
fn read_unlock() {
    // SAFETY: Ends the section `read_lock()` began in `rcu_read`.
    unsafe { super::bindings::nf_rcu_read_unlock() };
}

mod private {
    use super::NetDev;

    /// Implemented only by the proofs of this folder.
    #[allow(unreachable_pub)]
    pub trait Sealed {
        /// Whether a device that a reference held elsewhere keeps allocated
        /// stays valid for as long as this proof, once that reference is gone.
        fn outlives_release(dev: &NetDev) -> bool;
    }
    impl Sealed for super::Rtnl {
        /// A registered device is freed only after the todo list of the RTNL
        /// section that unregisters it, so not before this one ends; one that
        /// is already unregistering may belong to an earlier section's list.
        fn outlives_release(dev: &NetDev) -> bool {
            dev.is_registered()
        }
    }
    impl Sealed for super::Rcu {
        /// RCU-published references are released only after a grace period
        /// (see `Slot::replace`).
        fn outlives_release(_: &NetDev) -> bool {
            true
        }
    }
}

/// A proof under which an RCU-published pointer may be read: RTNL (the
/// updaters' lock) or an RCU read-side section. Sealed: only [`Rtnl`] and
/// [`Rcu`] implement it.
pub(crate) trait ReadSide: private::Sealed {}
impl ReadSide for Rtnl {}
impl ReadSide for Rcu {}
