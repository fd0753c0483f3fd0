// SPDX-License-Identifier: GPL-2.0

//! `struct delayed_work` (`linux/workqueue.h`) on a master: a function that
//! runs on the master under RTNL some time after it was scheduled, as
//! hv_netvsc's delayed VF takeover does (the 6.12 `kernel` crate has no
//! delayed work).

use super::{bindings as b, might_sleep, rtnl_trylock, Master, MasterOps, NetDevRef, Rtnl};
use kernel::{new_spinlock, prelude::*, sync::SpinLock, types::Opaque};

/// How long a work that found RTNL taken waits before it tries again
/// (hv_netvsc's `VF_TAKEOVER_INT`, `HZ / 10`).
const RETRY_MS: u32 = 100;

/// A delayed work on a `T` master: `f(master, rtnl)` runs some milliseconds
/// after [`DelayedWork::schedule`], in process context, under RTNL, if the
/// master is still registered then.
///
/// RTNL is taken with `rtnl_trylock()`, and while that fails the work queues
/// itself again [`RETRY_MS`] later: so [`DelayedWork::cancel_sync`] may be
/// called with RTNL held (a running work then fails to queue itself again
/// and returns). A scheduled work holds a reference on its master, so the
/// master, and its private data where the work may live, stay allocated
/// until it has run or been cancelled; dropping the work cancels it and
/// waits for a running `f`. It is thus sound wherever it lives.
///
/// # Invariants
///
/// `work` was set up by `INIT_DELAYED_WORK()` with [`DelayedWork::run`] and is
/// the first field (`repr(C)`): a `work_struct *` of it points to the
/// `DelayedWork`. `dev` holds a reference to the `T` master a scheduling
/// named from that scheduling until its run, or its cancellation, takes it
/// (under the lock): it is `Some` whenever `work` is pending.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct DelayedWork<T: MasterOps> {
    #[pin]
    work: Opaque<b::delayed_work>,
    #[pin]
    dev: SpinLock<Option<NetDevRef>>,
    f: fn(&Master<T>, &Rtnl),
}

// SAFETY: The workqueue functions that touch `work` may be called from any
// thread, `dev` is behind a lock, and `f` is a plain function.
unsafe impl<T: MasterOps> Send for DelayedWork<T> {}
// SAFETY: As above: every method takes `&self` and is thread-safe.
unsafe impl<T: MasterOps> Sync for DelayedWork<T> {}

impl<T: MasterOps> DelayedWork<T> {
    /// `INIT_DELAYED_WORK()` of a work that runs `f`.
    pub(crate) fn new(f: fn(&Master<T>, &Rtnl)) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            // SAFETY: `p` is the field's memory, pinned; `INIT_DELAYED_WORK()`
            // initialises it.
            work <- Opaque::ffi_init(|p| unsafe { b::nf_init_delayed_work(p, Some(Self::run)) }),
            dev <- new_spinlock!(None, "DelayedWork::dev"),
            f,
        }? Error)
    }

    /// `schedule_delayed_work(work, msecs_to_jiffies(ms))` to run on `m`;
    /// false if it was already scheduled (on whichever master), which it
    /// stays. May sleep (it takes a tracked reference on `m`).
    pub(crate) fn schedule(&self, m: &Master<T>, ms: u32) -> bool {
        self.queue(m.hold(), ms)
    }

    /// Queues the work to run on `dev` in `ms`; else gives `dev` up.
    fn queue(&self, dev: NetDevRef, ms: u32) -> bool {
        let (queued, unused) = {
            let mut slot = self.dev.lock();
            if slot.is_some() {
                (false, Some(dev))
            } else {
                *slot = Some(dev);
                // SAFETY: `work` is initialised (type invariant); the
                // reference it needs when it runs is in `dev` (set above,
                // under the lock its run takes it with).
                let queued = unsafe {
                    b::nf_schedule_delayed_work(self.work.get(), b::nf_msecs_to_jiffies(ms))
                };
                // Not queued (disabled by a `cancel_sync()` under way): the
                // invariant wants `None` back.
                (queued, if queued { None } else { slot.take() })
            }
        };
        drop(unused);
        queued
    }

    /// `cancel_delayed_work_sync()`: the work is not pending or running when
    /// it returns (unless scheduled again meanwhile); true if it was
    /// pending. May sleep; may be called with RTNL held.
    pub(crate) fn cancel_sync(&self) -> bool {
        might_sleep();
        // SAFETY: `work` is initialised (type invariant); its run takes RTNL
        // only with `rtnl_trylock()`, so waiting for it cannot deadlock.
        let pending = unsafe { b::cancel_delayed_work_sync(self.work.get()) };
        if pending {
            // The cancelled scheduling's reference (type invariant).
            let dev = self.dev.lock().take();
            drop(dev);
        }
        pending
    }

    /// The work function.
    ///
    /// # Safety
    ///
    /// Only called by the workqueue with the `work_struct` of a
    /// `DelayedWork<T>`'s `work`, which it set up.
    unsafe extern "C" fn run(work: *mut b::work_struct) {
        // SAFETY: `work` is the first field of a `DelayedWork<T>` (type
        // invariant; `work_struct` is the first field of `delayed_work`),
        // which stays valid while this runs: its drop waits for it.
        let this = unsafe { &*work.cast::<Self>() };
        let Some(dev) = this.dev.lock().take() else {
            // Taken by a `cancel_sync()` that raced with this run.
            return;
        };
        let Some(r) = rtnl_trylock() else {
            this.queue(dev, RETRY_MS);
            return;
        };
        if dev.is_registered() {
            // SAFETY: `dev` is a `T` master (type invariant: set from a
            // `&Master<T>`), registered (checked under RTNL, which
            // unregistering takes), and our reference keeps it and its
            // private data allocated while it is borrowed here.
            (this.f)(unsafe { Master::<T>::from_raw(dev.as_raw()) }, &r);
        }
        // Given up before RTNL: `rtnl_unlock()` may wait for the references
        // of devices `f` unregistered.
        drop(dev);
        drop(r);
    }
}

#[pinned_drop]
impl<T: MasterOps> PinnedDrop for DelayedWork<T> {
    fn drop(self: Pin<&mut Self>) {
        // No one else can schedule it any more: once cancelled it stays so,
        // and the memory can go.
        self.cancel_sync();
    }
}
