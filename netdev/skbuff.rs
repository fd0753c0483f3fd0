// SPDX-License-Identifier: GPL-2.0

//! `struct sk_buff` (`linux/skbuff.h`) as `ndo_start_xmit` owns it and as
//! `ndo_select_queue` borrows it.

use super::{bindings as b, NetDev};
use core::{marker::PhantomData, mem::ManuallyDrop, ptr::NonNull};

/// A socket buffer owned by the caller; freed on drop
/// (`dev_kfree_skb_any()`, which any context may call).
///
/// # Invariants
///
/// Owns a valid skb that nothing else uses.
pub(crate) struct SkBuff(NonNull<b::sk_buff>);

// SAFETY: An skb that nothing else uses may be handed to any thread.
unsafe impl Send for SkBuff {}

/// The value `ndo_start_xmit` returns (`netdev_tx_t`).
pub(crate) struct TxResult(pub(super) b::netdev_tx_t);

impl SkBuff {
    /// # Safety
    ///
    /// `skb` is a valid skb whose ownership passes to the returned value.
    pub(super) unsafe fn from_raw(skb: *mut b::sk_buff) -> Self {
        // SAFETY: Non-null per the caller.
        Self(unsafe { NonNull::new_unchecked(skb) })
    }

    fn into_raw(self) -> *mut b::sk_buff {
        ManuallyDrop::new(self).0.as_ptr()
    }

    /// Transmits on `dev` (`skb->dev = dev; dev_queue_xmit(skb)`), with the
    /// queue mapping saved by [`SkBuffRef::save_queue_mapping`].
    pub(crate) fn dev_queue_xmit(self, dev: &NetDev) -> TxResult {
        let skb = self.into_raw();
        // SAFETY: The skb is ours (type invariant): its fields are ours to
        // write, and its control block holds the `qdisc_skb_cb` that
        // `save_queue_mapping` wrote. `__dev_queue_xmit()` takes it over; the
        // device is valid. This is `dev_queue_xmit()`, a static inline.
        TxResult(unsafe {
            *skb_dev(skb) = dev.as_raw();
            (*skb).queue_mapping = (*qdisc_cb(skb)).__bindgen_anon_1.slave_dev_queue_mapping;
            b::__dev_queue_xmit(skb, core::ptr::null_mut())
        })
    }

    /// Frees the buffer and counts it in `dev`'s `tx_dropped`, as a device
    /// that drops a frame it was asked to send.
    pub(crate) fn tx_drop(self, dev: &NetDev) -> TxResult {
        // SAFETY: The device is valid; an atomic per-CPU counter.
        unsafe { b::nf_dev_core_stats_tx_dropped_inc(dev.as_raw()) };
        drop(self);
        TxResult(b::netdev_tx_NETDEV_TX_OK)
    }
}

/// `&skb->dev` (a member of anonymous unions in the C struct).
///
/// # Safety
///
/// `skb` is valid.
pub(super) unsafe fn skb_dev(skb: *mut b::sk_buff) -> *mut *mut b::net_device {
    // SAFETY: `skb` is valid (caller); taking a field's address reads nothing.
    unsafe {
        core::ptr::addr_of_mut!(
            (*skb)
                .__bindgen_anon_1
                .__bindgen_anon_1
                .__bindgen_anon_1
                .dev
        )
    }
}

/// `qdisc_skb_cb(skb)`: the control block as the qdisc layer uses it.
///
/// # Safety
///
/// `skb` is valid.
unsafe fn qdisc_cb(skb: *mut b::sk_buff) -> *mut b::qdisc_skb_cb {
    const {
        assert!(core::mem::size_of::<b::qdisc_skb_cb>() <= core::mem::size_of::<[u8; 48]>());
        assert!(core::mem::align_of::<b::qdisc_skb_cb>() <= 8);
    }
    // SAFETY: `skb` is valid (caller); `cb` is 48 bytes, 8-aligned, and
    // `qdisc_skb_cb` fits in it (checked above), as the C macro assumes.
    unsafe { core::ptr::addr_of_mut!((*skb).cb).cast() }
}

impl Drop for SkBuff {
    fn drop(&mut self) {
        // SAFETY: The skb is ours (type invariant) and freed once.
        unsafe { b::nf_dev_kfree_skb_any(self.0.as_ptr()) };
    }
}

/// A socket buffer borrowed for `'a`.
///
/// # Invariants
///
/// Points to a valid skb, not yet shared with any other thread, for `'a`.
pub(crate) struct SkBuffRef<'a>(NonNull<b::sk_buff>, PhantomData<&'a mut b::sk_buff>);

impl SkBuffRef<'_> {
    /// # Safety
    ///
    /// `skb` is valid and not shared for the returned value's lifetime.
    pub(super) unsafe fn from_raw(skb: *mut b::sk_buff) -> Self {
        // SAFETY: Non-null per the caller.
        Self(unsafe { NonNull::new_unchecked(skb) }, PhantomData)
    }

    /// The queue `dev` would pick for this buffer (its `ndo_select_queue`, or
    /// `netdev_pick_tx()`).
    pub(crate) fn pick_tx(&self, dev: &NetDev, sb_dev: Option<&NetDev>) -> u16 {
        let sb = sb_dev.map_or(core::ptr::null_mut(), NetDev::as_raw);
        let (raw, skb) = (dev.as_raw(), self.0.as_ptr());
        // SAFETY: The device is valid; `netdev_ops` (read once, as the core
        // does) points to the driver's table, which outlives the device.
        let select = unsafe {
            (*core::ptr::read_volatile(core::ptr::addr_of!((*raw).netdev_ops))).ndo_select_queue
        };
        // SAFETY: The skb and the devices are valid; `ndo_select_queue` and
        // `netdev_pick_tx()` are called in the caller's context, as
        // `netdev_core_pick_tx()` calls them.
        unsafe {
            match select {
                Some(f) => f(raw, skb, sb),
                None => b::netdev_pick_tx(raw, skb, core::ptr::null_mut()),
            }
        }
    }

    /// `skb_get_rx_queue()` if `skb_rx_queue_recorded()`, else 0.
    pub(crate) fn rx_queue(&self) -> u16 {
        // SAFETY: The skb is valid and not shared (type invariant).
        let mapping = unsafe { (*self.0.as_ptr()).queue_mapping };
        // `skb_record_rx_queue()` stores the queue plus one.
        mapping.saturating_sub(1)
    }

    /// Saves `skb->queue_mapping` in `qdisc_skb_cb(skb)` for the slave's own
    /// queue selection in [`SkBuff::dev_queue_xmit`].
    pub(crate) fn save_queue_mapping(&self) {
        let skb = self.0.as_ptr();
        // SAFETY: The skb is valid and not shared (type invariant): its
        // control block is the caller's to write.
        unsafe { (*qdisc_cb(skb)).__bindgen_anon_1.slave_dev_queue_mapping = (*skb).queue_mapping };
    }
}
