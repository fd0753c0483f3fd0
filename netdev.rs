// SPDX-License-Identifier: GPL-2.0

//! Thin safe wrappers over the netdev C API used by the failover code.
//!
//! This is the only file of the module with `unsafe` code and raw pointers:
//! the core (`failover_core.rs`), the 3-netdev model (`virtio_standby.rs`) and
//! the master (`net_failover.rs`) are safe Rust on top of it. Bindings are
//! generated at build time from `include/net_failover_rs.h`; static-inline
//! helpers live in `nf_helpers.c`.

use crate::failover_core::FailoverOps;
use crate::policy::{Candidate, Link, MasterFeatures, SlaveFeatures};
use core::{
    cell::UnsafeCell,
    fmt,
    marker::PhantomData,
    ops::Deref,
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
};
use kernel::{
    error::{to_result, Error},
    ffi::c_void,
    prelude::*,
    sync::Arc,
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// Generated bindings of `include/net_failover_rs.h`.
#[allow(
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    improper_ctypes,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]
pub(crate) mod bindings {
    type __kernel_size_t = usize;
    type __kernel_ssize_t = isize;
    type __kernel_ptrdiff_t = isize;
    include!("nf_bindings_generated.rs");
}
use bindings as b;

/// Number of `u64` counters in `struct rtnl_link_stats64`.
pub(crate) const NSTATS: usize = core::mem::size_of::<b::rtnl_link_stats64>() / 8;
/// The counters of `struct rtnl_link_stats64`, in their C order.
pub(crate) type Counters = [u64; NSTATS];

// The policy's feature bits are the kernel's.
const _: () = {
    use crate::policy::features as f;
    assert!(f::FAILOVER_VLAN == b::NF_VLAN_FEATURES);
    assert!(f::FAILOVER_ENC == b::NF_ENC_FEATURES);
    assert!(f::GSO_ENCAP_ALL == b::NF_GSO_ENCAP_ALL);
    assert!(f::ALL_FOR_ALL == b::NF_ALL_FOR_ALL);
    assert!(f::VLAN_CHALLENGED == b::NF_VLAN_CHALLENGED);
    assert!(f::ONE_FOR_ALL == b::NF_ONE_FOR_ALL);
    assert!(f::CSUM_MASK == b::NF_CSUM_MASK);
    assert!(core::mem::size_of::<b::rtnl_link_stats64>() == NSTATS * 8);
};

const IFF_FAILOVER: u64 = b::netdev_priv_flags_IFF_FAILOVER as u64;
const IFF_SLAVE_FLAGS: u64 =
    b::netdev_priv_flags_IFF_FAILOVER_SLAVE as u64 | b::netdev_priv_flags_IFF_NO_ADDRCONF as u64;
const IFF_DST_RELEASE: u64 = b::netdev_priv_flags_IFF_XMIT_DST_RELEASE as u64;
const IFF_DST_RELEASE_PERM: u64 = b::netdev_priv_flags_IFF_XMIT_DST_RELEASE_PERM as u64;

/// Proof that the caller holds the RTNL lock.
///
/// # Invariants
///
/// RTNL is held for as long as a value of this type exists.
pub(crate) struct Rtnl(PhantomData<*mut ()>);

impl Rtnl {
    /// # Safety
    ///
    /// The caller holds RTNL for the lifetime of the returned token.
    unsafe fn assume() -> Self {
        Rtnl(PhantomData)
    }
}

/// RTNL, held until this guard is dropped.
pub(crate) struct RtnlGuard(Rtnl);

/// Takes RTNL.
pub(crate) fn rtnl_lock() -> RtnlGuard {
    // SAFETY: FFI call; may sleep, as every caller of this function may.
    unsafe { b::rtnl_lock() };
    // INVARIANT: RTNL was taken above and is released on drop.
    RtnlGuard(Rtnl(PhantomData))
}

impl Deref for RtnlGuard {
    type Target = Rtnl;
    fn deref(&self) -> &Rtnl {
        &self.0
    }
}

impl Drop for RtnlGuard {
    fn drop(&mut self) {
        // SAFETY: RTNL was taken by `rtnl_lock()`.
        unsafe { b::rtnl_unlock() };
    }
}

/// Proof of an RCU read-side critical section.
///
/// # Invariants
///
/// An RCU read-side critical section is held for as long as the value exists.
pub(crate) struct Rcu(PhantomData<*mut ()>);

/// Runs `f` in an RCU read-side critical section.
pub(crate) fn rcu_read<R>(f: impl FnOnce(&Rcu) -> R) -> R {
    // SAFETY: FFI call, paired with the unlock below.
    unsafe { b::nf_rcu_read_lock() };
    let r = f(&Rcu(PhantomData));
    // SAFETY: The lock above.
    unsafe { b::nf_rcu_read_unlock() };
    r
}

/// Either proof under which a slave pointer may be read: RTNL (the updaters'
/// lock) or an RCU read-side section.
pub(crate) trait ReadSide {}
impl ReadSide for Rtnl {}
impl ReadSide for Rcu {}

/// Data that RTNL protects, in a `static`.
///
/// # Invariants
///
/// `busy` is set while a `with()` call holds a reference to the data.
pub(crate) struct RtnlCell<T> {
    busy: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: The data is only reached under RTNL, one borrow at a time.
unsafe impl<T: Send> Sync for RtnlCell<T> {}

impl<T> RtnlCell<T> {
    /// Creates the cell.
    pub(crate) const fn new(data: T) -> Self {
        Self {
            busy: AtomicBool::new(false),
            data: UnsafeCell::new(data),
        }
    }

    /// Runs `f` on the data. Nested calls are a bug and panic.
    pub(crate) fn with<R>(&self, _: &Rtnl, f: impl FnOnce(&mut T) -> R) -> R {
        assert!(!self.busy.swap(true, Ordering::Relaxed));
        // SAFETY: RTNL serialises all callers and `busy` excludes nesting, so
        // this is the only reference to the data.
        let r = f(unsafe { &mut *self.data.get() });
        self.busy.store(false, Ordering::Relaxed);
        r
    }
}

/// A network device.
///
/// # Invariants
///
/// Wraps a valid `struct net_device` that stays alive while it is borrowed
/// (by a reference, RTNL or RCU; see [`Slot`]).
#[repr(transparent)]
pub(crate) struct NetDev(Opaque<b::net_device>);

// SAFETY: `struct net_device` is used from any thread; fields the wrappers
// change are serialised by RTNL, as in C.
unsafe impl Send for NetDev {}
// SAFETY: As above.
unsafe impl Sync for NetDev {}

// SAFETY: `dev_hold`/`dev_put` keep the device alive.
unsafe impl AlwaysRefCounted for NetDev {
    fn inc_ref(&self) {
        // SAFETY: The device is valid.
        unsafe { b::nf_dev_hold(self.raw()) };
    }
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference.
        unsafe { b::nf_dev_put(obj.as_ptr().cast()) };
    }
}

macro_rules! field {
    ($dev:expr, $f:ident) => {
        // SAFETY: The device is valid (type invariant); a plain read as in C.
        unsafe { (*$dev.raw()).$f }
    };
}

impl NetDev {
    /// # Safety
    ///
    /// `p` is a valid `net_device` that outlives `'a`.
    unsafe fn from_raw<'a>(p: *const b::net_device) -> &'a Self {
        // SAFETY: `NetDev` is a transparent wrapper; validity from the caller.
        unsafe { &*p.cast() }
    }

    fn raw(&self) -> *mut b::net_device {
        self.0.get()
    }

    /// The interface name.
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `name` is NUL-terminated and lives as long as the device.
        unsafe { CStr::from_char_ptr((*self.raw()).name.as_ptr()) }
    }

    /// Whether this is an Ethernet device.
    pub(crate) fn is_ether(&self) -> bool {
        u32::from(field!(self, type_)) == b::ARPHRD_ETHER
    }

    /// The permanent MAC address, the failover matching key.
    pub(crate) fn perm_addr(&self) -> [u8; 6] {
        let a = field!(self, perm_addr);
        [a[0], a[1], a[2], a[3], a[4], a[5]]
    }

    /// Whether both devices are in the same network namespace.
    pub(crate) fn same_netns(&self, other: &NetDev) -> bool {
        // SAFETY: Both devices are valid.
        unsafe { b::nf_same_netns(self.raw(), other.raw()) }
    }

    /// Running and carrier state.
    pub(crate) fn link(&self) -> Link {
        // SAFETY: The device is valid.
        unsafe {
            Link {
                running: b::nf_running(self.raw()),
                carrier: b::nf_carrier_ok(self.raw()),
            }
        }
    }

    /// How the role decision sees this device next to `master`.
    pub(crate) fn candidate(&self, master: &NetDev) -> Candidate {
        // SAFETY: Both devices are valid.
        let (parent, mparent, pci) = unsafe {
            (
                (*self.raw()).dev.parent,
                (*master.raw()).dev.parent,
                b::nf_parent_is_pci(self.raw()),
            )
        };
        Candidate {
            shares_parent: parent == mparent,
            pci_parent: pci,
            vlan_challenged: field!(self, features) & b::NF_VLAN_CHALLENGED != 0,
        }
    }

    /// The MTU.
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: The device is valid; `READ_ONCE(dev->mtu)`.
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.raw()).mtu)) }
    }

    /// `(min_mtu, max_mtu)`.
    pub(crate) fn mtu_range(&self) -> (u32, u32) {
        (field!(self, min_mtu), field!(self, max_mtu))
    }

    /// Sets `min_mtu` and `max_mtu`.
    pub(crate) fn set_mtu_range(&self, _: &Rtnl, (min, max): (u32, u32)) {
        // SAFETY: The device is valid and RTNL serialises writers.
        unsafe { ((*self.raw()).min_mtu, (*self.raw()).max_mtu) = (min, max) };
    }

    /// Records `mtu` as the device's MTU (`ndo_change_mtu` of the master).
    pub(crate) fn write_mtu(&self, _: &Rtnl, mtu: u32) {
        // SAFETY: The device is valid; `WRITE_ONCE(dev->mtu, mtu)`.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!((*self.raw()).mtu), mtu) };
    }

    /// `dev_set_mtu()`.
    pub(crate) fn set_mtu(&self, _: &Rtnl, mtu: u32) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { b::dev_set_mtu(self.raw(), mtu as i32) })
    }

    fn priv_flags(&self) -> u64 {
        // SAFETY: The device is valid; the union member is the bitfield view.
        unsafe { (*self.raw()).__bindgen_anon_1.__bindgen_anon_1.priv_flags() as u64 }
    }

    fn update_priv_flags(&self, _: &Rtnl, set: u64, clear: u64) {
        let v = (self.priv_flags() & !clear) | set;
        // SAFETY: The device is valid; RTNL serialises writers of priv_flags.
        unsafe {
            (*self.raw())
                .__bindgen_anon_1
                .__bindgen_anon_1
                .set_priv_flags(v as _)
        };
    }

    /// `netif_is_failover()`.
    pub(crate) fn is_failover(&self) -> bool {
        self.priv_flags() & IFF_FAILOVER != 0
    }

    /// Sets or clears `IFF_FAILOVER`.
    pub(crate) fn set_failover(&self, r: &Rtnl, on: bool) {
        self.update_priv_flags(r, if on { IFF_FAILOVER } else { 0 }, IFF_FAILOVER);
    }

    /// `netif_is_failover_slave()`.
    pub(crate) fn is_failover_slave(&self) -> bool {
        self.priv_flags() & b::netdev_priv_flags_IFF_FAILOVER_SLAVE as u64 != 0
    }

    /// Sets or clears `IFF_FAILOVER_SLAVE | IFF_NO_ADDRCONF`.
    pub(crate) fn set_slave_flags(&self, r: &Rtnl, on: bool) {
        self.update_priv_flags(r, if on { IFF_SLAVE_FLAGS } else { 0 }, IFF_SLAVE_FLAGS);
    }

    /// `dev_open()`.
    pub(crate) fn open(&self, _: &Rtnl) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { b::dev_open(self.raw(), ptr::null_mut()) })
    }

    /// `dev_close()`.
    pub(crate) fn close(&self, _: &Rtnl) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::dev_close(self.raw()) };
    }

    /// `dev_get_stats()`: the device's counters.
    pub(crate) fn stats(&self) -> Counters {
        let mut s = b::rtnl_link_stats64::default();
        // SAFETY: The device is valid; `s` is the storage to fill.
        unsafe { b::dev_get_stats(self.raw(), &mut s) };
        // SAFETY: `rtnl_link_stats64` is `NSTATS` u64 and nothing else.
        unsafe { core::mem::transmute::<b::rtnl_link_stats64, Counters>(s) }
    }

    /// What the master's features are computed from.
    pub(crate) fn slave_features(&self) -> SlaveFeatures {
        let both = IFF_DST_RELEASE | IFF_DST_RELEASE_PERM;
        SlaveFeatures {
            vlan_features: field!(self, vlan_features),
            hw_enc_features: field!(self, hw_enc_features),
            hard_header_len: field!(self, hard_header_len),
            dst_release: self.priv_flags() & both == both,
        }
    }

    /// Applies features computed for a master and announces the change.
    pub(crate) fn apply_features(&self, r: &Rtnl, f: MasterFeatures) {
        // SAFETY: The device is valid and RTNL serialises writers.
        unsafe {
            (*self.raw()).vlan_features = f.vlan_features;
            (*self.raw()).hw_enc_features = f.hw_enc_features;
            (*self.raw()).hard_header_len = f.hard_header_len;
        }
        self.update_priv_flags(
            r,
            if f.dst_release { IFF_DST_RELEASE } else { 0 },
            IFF_DST_RELEASE,
        );
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::netdev_change_features(self.raw()) };
    }

    /// `netdev_master_upper_dev_get()`: the device this one is enslaved to.
    pub(crate) fn master_upper<'a>(&self, _: &'a Rtnl) -> Option<&'a NetDev> {
        // SAFETY: The device is valid and RTNL is held; the upper stays
        // registered while RTNL is held.
        let p = unsafe { b::netdev_master_upper_dev_get(self.raw()) };
        // SAFETY: As above.
        (!p.is_null()).then(|| unsafe { NetDev::from_raw(p) })
    }

    /// The first lower device of this master that is a failover slave.
    pub(crate) fn first_failover_lower<'a>(&self, _: &'a Rtnl) -> Option<&'a NetDev> {
        // SAFETY: The device is valid and RTNL protects its lower list.
        let p = unsafe { b::nf_first_failover_lower(self.raw()) };
        // SAFETY: A registered device, alive under RTNL.
        (!p.is_null()).then(|| unsafe { NetDev::from_raw(p) })
    }

    /// `vlan_uses_dev()`.
    pub(crate) fn uses_vlans(&self, _: &Rtnl) -> bool {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::vlan_uses_dev(self.raw()) }
    }

    /// `vlan_vid_add()`.
    pub(crate) fn vid_add(&self, _: &Rtnl, proto: u16, vid: u16) -> Result {
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { b::vlan_vid_add(self.raw(), proto, vid) })
    }

    /// `vlan_vid_del()`.
    pub(crate) fn vid_del(&self, _: &Rtnl, proto: u16, vid: u16) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::vlan_vid_del(self.raw(), proto, vid) };
    }

    /// `vlan_vids_add_by_dev()`: copies `from`'s VLAN IDs to this device.
    pub(crate) fn vids_add_from(&self, _: &Rtnl, from: &NetDev) -> Result {
        // SAFETY: Both devices are valid and RTNL is held.
        to_result(unsafe { b::vlan_vids_add_by_dev(self.raw(), from.raw()) })
    }

    /// `vlan_vids_del_by_dev()`.
    pub(crate) fn vids_del_from(&self, _: &Rtnl, from: &NetDev) {
        // SAFETY: Both devices are valid and RTNL is held.
        unsafe { b::vlan_vids_del_by_dev(self.raw(), from.raw()) };
    }

    /// Syncs `master`'s unicast and multicast lists to this device; `lock`
    /// takes the master's address lock (not held by the caller).
    pub(crate) fn sync_addrs(&self, master: &NetDev, lock: bool) {
        // SAFETY: Both devices are valid.
        unsafe { b::nf_sync_addrs(self.raw(), master.raw(), lock) };
    }

    /// Undoes `sync_addrs()`.
    pub(crate) fn unsync_addrs(&self, _: &Rtnl, master: &NetDev) {
        // SAFETY: Both devices are valid.
        unsafe { b::nf_unsync_addrs(self.raw(), master.raw()) };
    }

    /// `netdev_lower_state_changed()`.
    pub(crate) fn lower_state_changed(&self, _: &Rtnl, (link_up, tx_enabled): (bool, bool)) {
        let mut info = b::netdev_lag_lower_state_info::default();
        info.set_link_up(link_up.into());
        info.set_tx_enabled(tx_enabled.into());
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::netdev_lower_state_changed(self.raw(), ptr::addr_of_mut!(info).cast()) };
    }

    /// Sends `NETDEV_JOIN` for this device.
    pub(crate) fn notify_join(&self, _: &Rtnl) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::call_netdevice_notifiers(b::netdev_cmd_NETDEV_JOIN as _, self.raw()) };
    }

    /// Installs `handler` with `master` as its data.
    pub(crate) fn rx_handler_register(
        &self,
        _: &Rtnl,
        h: Option<RxHandler>,
        master: &NetDev,
    ) -> Result {
        // SAFETY: Both devices are valid, RTNL is held and the handler
        // expects the master as its data.
        to_result(unsafe {
            b::netdev_rx_handler_register(self.raw(), h.map(|h| h.0), master.raw().cast())
        })
    }

    /// `netdev_rx_handler_unregister()`.
    pub(crate) fn rx_handler_unregister(&self, _: &Rtnl) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::netdev_rx_handler_unregister(self.raw()) };
    }

    /// Links `master` as this device's active-backup LAG master.
    pub(crate) fn upper_link(&self, _: &Rtnl, master: &NetDev) -> Result {
        let mut info = b::netdev_lag_upper_info {
            tx_type: b::netdev_lag_tx_type_NETDEV_LAG_TX_TYPE_ACTIVEBACKUP,
            hash_type: b::netdev_lag_hash_NETDEV_LAG_HASH_NONE,
        };
        // SAFETY: Both devices are valid and RTNL is held.
        to_result(unsafe {
            b::netdev_master_upper_dev_link(
                self.raw(),
                master.raw(),
                ptr::null_mut(),
                ptr::addr_of_mut!(info).cast(),
                ptr::null_mut(),
            )
        })
    }

    /// `netdev_upper_dev_unlink()`.
    pub(crate) fn upper_unlink(&self, _: &Rtnl, master: &NetDev) {
        // SAFETY: Both devices are valid and RTNL is held.
        unsafe { b::netdev_upper_dev_unlink(self.raw(), master.raw()) };
    }

    /// Calls `f` on each device in this device's network namespace.
    pub(crate) fn for_each_in_netns(&self, _: &Rtnl, mut f: impl FnMut(&NetDev)) {
        let mut pos = ptr::null_mut();
        loop {
            // SAFETY: RTNL protects the list; `pos` is null or on it.
            pos = unsafe { b::nf_netns_next(self.raw(), pos) };
            if pos.is_null() {
                return;
            }
            // SAFETY: A registered device, alive under RTNL.
            f(unsafe { NetDev::from_raw(pos) });
        }
    }

    /// `netif_carrier_off()`.
    pub(crate) fn carrier_off(&self, _: &Rtnl) {
        // SAFETY: The device is valid.
        unsafe { b::netif_carrier_off(self.raw()) };
    }

    /// Carrier on and TX queues woken.
    pub(crate) fn wake(&self) {
        // SAFETY: The device is valid.
        unsafe {
            b::netif_carrier_on(self.raw());
            b::nf_tx_wake_all(self.raw());
        }
    }

    /// `netif_tx_disable()`.
    pub(crate) fn tx_disable(&self) {
        // SAFETY: The device is valid.
        unsafe { b::nf_tx_disable(self.raw()) };
    }

    /// `real_num_tx_queues`.
    pub(crate) fn real_num_tx_queues(&self) -> u16 {
        field!(self, real_num_tx_queues) as u16
    }

    /// `__ethtool_get_link_ksettings()` into `out`.
    pub(crate) fn link_ksettings(&self, _: &Rtnl, out: &mut LinkKsettings) -> Result {
        // SAFETY: The device is valid, RTNL is held, `out` wraps a valid struct.
        to_result(unsafe { b::__ethtool_get_link_ksettings(self.raw(), out.0) })
    }

    /// Logs `args` at info level with the device's prefix, as `netdev_info()`.
    pub(crate) fn info(&self, args: fmt::Arguments<'_>) {
        // SAFETY: The device is valid; `%pA` takes a `fmt::Arguments`.
        unsafe { b::nf_log(self.raw(), false, ptr::addr_of!(args).cast()) };
    }

    /// Logs `args` at error level with the device's prefix, as `netdev_err()`.
    pub(crate) fn err(&self, args: fmt::Arguments<'_>) {
        // SAFETY: As in `info()`.
        unsafe { b::nf_log(self.raw(), true, ptr::addr_of!(args).cast()) };
    }
}

impl PartialEq for NetDev {
    fn eq(&self, other: &Self) -> bool {
        ptr::eq(self, other)
    }
}

/// An RCU-protected reference to a slave, owning a `dev_hold()` reference.
///
/// # Invariants
///
/// The pointer is null or a device this slot holds a reference to. A device
/// is freed only in `netdev_run_todo()`, after `rtnl_unlock()` and after the
/// `synchronize_net()` that follows its `NETDEV_UNREGISTER`: a pointer read
/// under RTNL stays valid while RTNL is held, one read under RCU for the
/// read-side section.
pub(crate) struct Slot(AtomicPtr<b::net_device>);

impl Slot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self(AtomicPtr::new(ptr::null_mut()))
    }

    /// The device in the slot (`rcu_dereference()`/`rtnl_dereference()`).
    pub(crate) fn get<'a>(&self, _: &'a impl ReadSide) -> Option<&'a NetDev> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: Per the invariants, valid for the read side's lifetime.
        (!p.is_null()).then(|| unsafe { NetDev::from_raw(p) })
    }

    /// Whether `dev` is in the slot.
    pub(crate) fn holds(&self, dev: &NetDev) -> bool {
        ptr::eq(self.0.load(Ordering::Relaxed), dev.raw())
    }

    /// Publishes `dev` (`rcu_assign_pointer()`) and returns the previous one.
    pub(crate) fn replace(&self, _: &Rtnl, dev: Option<ARef<NetDev>>) -> Option<ARef<NetDev>> {
        let new = dev.map_or(ptr::null_mut(), |d| ARef::into_raw(d).as_ptr().cast());
        let old = self.0.swap(new, Ordering::AcqRel);
        // SAFETY: The slot owned a reference to `old`; it is handed back.
        NonNull::new(old).map(|p| unsafe { ARef::from_raw(p.cast()) })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let p = *self.0.get_mut();
        if let Some(p) = NonNull::new(p) {
            // SAFETY: The slot owned this reference.
            drop(unsafe { ARef::<NetDev>::from_raw(p.cast()) });
        }
    }
}

/// An rx handler, as installed on slaves by the failover core.
#[derive(Clone, Copy)]
pub(crate) struct RxHandler(unsafe extern "C" fn(*mut *mut b::sk_buff) -> b::rx_handler_result_t);

/// A socket buffer handed to `ndo_start_xmit`.
///
/// # Invariants
///
/// Owns the skb; it must be consumed by [`SkBuff::xmit_via`] or
/// [`SkBuff::drop_on`].
#[must_use]
pub(crate) struct SkBuff(NonNull<b::sk_buff>);

/// The result of `ndo_start_xmit`.
pub(crate) struct TxResult(b::netdev_tx_t);

impl SkBuff {
    /// Hands the buffer to `dev`'s queue (`dev_queue_xmit()`), with the queue
    /// mapping saved by `select_queue`.
    pub(crate) fn xmit_via(self, dev: &NetDev) -> TxResult {
        // SAFETY: We own the skb; the device is valid under the caller's RCU.
        TxResult(unsafe { b::nf_queue_xmit(self.0.as_ptr(), dev.raw()) })
    }

    /// Frees the buffer and counts it in `master`'s `tx_dropped`.
    pub(crate) fn drop_on(self, master: &NetDev) -> TxResult {
        // SAFETY: We own the skb.
        unsafe { b::nf_drop_xmit(self.0.as_ptr(), master.raw()) };
        TxResult(b::netdev_tx_NETDEV_TX_OK)
    }
}

/// A socket buffer borrowed by `ndo_select_queue`.
///
/// # Invariants
///
/// Points to a valid skb for `'a`.
pub(crate) struct SkBuffRef<'a>(NonNull<b::sk_buff>, PhantomData<&'a ()>);

impl SkBuffRef<'_> {
    /// The queue `dev` would pick for this buffer.
    pub(crate) fn pick_tx(&self, dev: &NetDev, sb_dev: Option<&NetDev>) -> u16 {
        let sb = sb_dev.map_or(ptr::null_mut(), NetDev::raw);
        // SAFETY: The skb and devices are valid during the callback.
        unsafe { b::nf_pick_tx(dev.raw(), self.0.as_ptr(), sb) }
    }

    /// The recorded RX queue, or 0.
    pub(crate) fn rx_queue(&self) -> u16 {
        // SAFETY: The skb is valid during the callback.
        unsafe { b::nf_rx_queue(self.0.as_ptr()) }
    }

    /// Saves the current queue mapping for the slave's own queue selection.
    pub(crate) fn save_queue_mapping(&self) {
        // SAFETY: The skb is valid during the callback and not shared yet.
        unsafe { b::nf_save_queue_mapping(self.0.as_ptr()) };
    }
}

/// `struct ethtool_link_ksettings` to fill.
///
/// # Invariants
///
/// Points to a valid struct during the ethtool callback that made it.
pub(crate) struct LinkKsettings(*mut b::ethtool_link_ksettings);

impl LinkKsettings {
    /// Reports duplex, port and speed as unknown.
    pub(crate) fn set_unknown(&mut self) {
        // SAFETY: Points to a valid struct during the callback.
        let base = unsafe { &mut (*self.0).base };
        base.duplex = b::DUPLEX_UNKNOWN as u8;
        base.port = b::PORT_OTHER as u8;
        base.speed = b::SPEED_UNKNOWN as u32;
    }
}

/// The driver side of a master netdev created by [`create_master`].
pub(crate) trait MasterOps: Sized + 'static {
    /// Private data, in `netdev_priv()`.
    type Priv: Send + Sync;
    /// ethtool driver name.
    const DRIVER: &'static CStr;
    /// ethtool driver version.
    const VERSION: &'static CStr;
    /// The ops tables, from [`vtables`], in a `static`.
    fn vtables() -> &'static Vtables;
    /// `ndo_open`.
    fn open(dev: &Master<Self>, r: &Rtnl) -> Result;
    /// `ndo_stop`.
    fn stop(dev: &Master<Self>, r: &Rtnl);
    /// `ndo_start_xmit`, in an RCU-bh read-side section.
    fn start_xmit(dev: &Master<Self>, rcu: &Rcu, skb: SkBuff) -> TxResult;
    /// `ndo_select_queue`, in an RCU read-side section.
    fn select_queue(dev: &Master<Self>, rcu: &Rcu, skb: &SkBuffRef<'_>, sb: Option<&NetDev>)
        -> u16;
    /// `ndo_get_stats64`.
    fn get_stats(dev: &Master<Self>) -> Counters;
    /// `ndo_change_mtu`.
    fn change_mtu(dev: &Master<Self>, r: &Rtnl, mtu: u32) -> Result;
    /// `ndo_set_rx_mode`, with the master's address lock held.
    fn set_rx_mode(dev: &Master<Self>, rcu: &Rcu);
    /// `ndo_vlan_rx_add_vid`.
    fn vlan_add(dev: &Master<Self>, r: &Rtnl, proto: u16, vid: u16) -> Result;
    /// `ndo_vlan_rx_kill_vid`.
    fn vlan_kill(dev: &Master<Self>, r: &Rtnl, proto: u16, vid: u16);
    /// `get_link_ksettings` of ethtool.
    fn link_ksettings(dev: &Master<Self>, r: &Rtnl, out: &mut LinkKsettings) -> Result;
    /// The rx handler on a slave `from`: `true` passes the frame up through
    /// the master, `false` leaves it to exact-match handlers of `from`.
    fn rx_to_master(dev: &Master<Self>, rcu: &Rcu, from: &NetDev) -> bool;
}

/// A master netdev whose private data is a `T::Priv`.
///
/// # Invariants
///
/// The device was created by [`create_master::<T>`]: its `netdev_ops` are
/// `T`'s and its private area holds an initialised `T::Priv`.
#[repr(transparent)]
pub(crate) struct Master<T: MasterOps>(NetDev, PhantomData<T>);

impl<T: MasterOps> Deref for Master<T> {
    type Target = NetDev;
    fn deref(&self) -> &NetDev {
        &self.0
    }
}

impl<T: MasterOps> Master<T> {
    /// # Safety
    ///
    /// `p` is a valid device created by [`create_master::<T>`].
    unsafe fn from_raw<'a>(p: *const b::net_device) -> &'a Self {
        // SAFETY: Transparent wrappers; validity from the caller.
        unsafe { &*p.cast() }
    }

    /// `dev` as a `T` master, if it is one.
    pub(crate) fn try_from(dev: &NetDev) -> Option<&Self> {
        let ours = ptr::eq(field!(dev, netdev_ops), &T::vtables().ndo);
        // SAFETY: Only `create_master::<T>` installs `T`'s ops.
        ours.then(|| unsafe { Self::from_raw(dev.raw()) })
    }

    /// The private data.
    pub(crate) fn data(&self) -> &T::Priv {
        // SAFETY: Per the invariants, the private area holds a `T::Priv`.
        unsafe { &*b::nf_netdev_priv(self.raw()).cast() }
    }
}

/// The C ops tables of a master type.
pub(crate) struct Vtables {
    ndo: b::net_device_ops,
    ethtool: b::ethtool_ops,
}

// SAFETY: Immutable tables of function pointers.
unsafe impl Sync for Vtables {}

/// The ops tables for masters of type `T`.
pub(crate) const fn vtables<T: MasterOps>() -> Vtables {
    // SAFETY: All-zero is a valid value of these C structs (no callbacks).
    let (mut ndo, mut ethtool): (b::net_device_ops, b::ethtool_ops) =
        unsafe { (core::mem::zeroed(), core::mem::zeroed()) };
    ndo.ndo_open = Some(Tramp::<T>::open);
    ndo.ndo_stop = Some(Tramp::<T>::stop);
    ndo.ndo_start_xmit = Some(Tramp::<T>::start_xmit);
    ndo.ndo_select_queue = Some(Tramp::<T>::select_queue);
    ndo.ndo_get_stats64 = Some(Tramp::<T>::get_stats64);
    ndo.ndo_change_mtu = Some(Tramp::<T>::change_mtu);
    ndo.ndo_set_rx_mode = Some(Tramp::<T>::set_rx_mode);
    ndo.ndo_vlan_rx_add_vid = Some(Tramp::<T>::vlan_add);
    ndo.ndo_vlan_rx_kill_vid = Some(Tramp::<T>::vlan_kill);
    ndo.ndo_validate_addr = Some(b::eth_validate_addr);
    ndo.ndo_features_check = Some(b::passthru_features_check);
    ethtool.get_drvinfo = Some(Tramp::<T>::get_drvinfo);
    ethtool.get_link = Some(b::ethtool_op_get_link);
    ethtool.get_link_ksettings = Some(Tramp::<T>::get_link_ksettings);
    Vtables { ndo, ethtool }
}

/// The rx handler of masters of type `T`.
pub(crate) fn rx_handler<T: MasterOps>() -> RxHandler {
    RxHandler(Tramp::<T>::handle_frame)
}

struct Tramp<T>(PhantomData<T>);

// Every callback below is called by the networking core on a device created
// by `create_master::<T>()` (its ops tables are `T`'s), in the context the
// core documents for it: RTNL for open/stop/change_mtu/vid/ethtool, BH off
// (an RCU read side) for start_xmit, the address lock for set_rx_mode;
// select_queue and set_rx_mode take their own RCU read lock.
impl<T: MasterOps> Tramp<T> {
    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn open(dev: *mut b::net_device) -> i32 {
        // SAFETY: See above.
        let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
        T::open(m, &r).err().map_or(0, Error::to_errno)
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn stop(dev: *mut b::net_device) -> i32 {
        // SAFETY: See above.
        let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
        T::stop(m, &r);
        0
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn start_xmit(
        skb: *mut b::sk_buff,
        dev: *mut b::net_device,
    ) -> b::netdev_tx_t {
        // SAFETY: See above; the core hands over a non-null skb.
        let (m, skb) = unsafe {
            (
                Master::<T>::from_raw(dev),
                SkBuff(NonNull::new_unchecked(skb)),
            )
        };
        T::start_xmit(m, &Rcu(PhantomData), skb).0
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn select_queue(
        dev: *mut b::net_device,
        skb: *mut b::sk_buff,
        sb_dev: *mut b::net_device,
    ) -> u16 {
        // SAFETY: See above; `sb_dev` is null or valid.
        let (m, sb) = unsafe {
            (
                Master::<T>::from_raw(dev),
                (!sb_dev.is_null()).then(|| NetDev::from_raw(sb_dev)),
            )
        };
        // SAFETY: Non-null during the callback.
        let skb = SkBuffRef(unsafe { NonNull::new_unchecked(skb) }, PhantomData);
        // AF_PACKET's qdisc bypass calls this outside any RCU section.
        rcu_read(|rcu| T::select_queue(m, rcu, &skb, sb))
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn get_stats64(dev: *mut b::net_device, out: *mut b::rtnl_link_stats64) {
        // SAFETY: See above.
        let s = T::get_stats(unsafe { Master::<T>::from_raw(dev) });
        // SAFETY: `out` is valid storage of `NSTATS` u64 counters.
        unsafe { out.cast::<Counters>().write(s) };
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn change_mtu(dev: *mut b::net_device, mtu: i32) -> i32 {
        // SAFETY: See above.
        let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
        T::change_mtu(m, &r, mtu as u32)
            .err()
            .map_or(0, Error::to_errno)
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn set_rx_mode(dev: *mut b::net_device) {
        // SAFETY: See above.
        let m = unsafe { Master::<T>::from_raw(dev) };
        rcu_read(|rcu| T::set_rx_mode(m, rcu));
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn vlan_add(dev: *mut b::net_device, proto: u16, vid: u16) -> i32 {
        // SAFETY: See above.
        let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
        T::vlan_add(m, &r, proto, vid)
            .err()
            .map_or(0, Error::to_errno)
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn vlan_kill(dev: *mut b::net_device, proto: u16, vid: u16) -> i32 {
        // SAFETY: See above.
        let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
        T::vlan_kill(m, &r, proto, vid);
        0
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn get_drvinfo(_dev: *mut b::net_device, info: *mut b::ethtool_drvinfo) {
        let copy = |dst: &mut [u8], src: &CStr| {
            let n = src.len().min(dst.len() - 1);
            dst[..n].copy_from_slice(&src.as_bytes()[..n]);
            dst[n] = 0;
        };
        // SAFETY: `info` is valid during the callback.
        let info = unsafe { &mut *info };
        copy(&mut info.driver, T::DRIVER);
        copy(&mut info.version, T::VERSION);
    }

    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn get_link_ksettings(
        dev: *mut b::net_device,
        cmd: *mut b::ethtool_link_ksettings,
    ) -> i32 {
        // SAFETY: See above.
        let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
        T::link_ksettings(m, &r, &mut LinkKsettings(cmd))
            .err()
            .map_or(0, Error::to_errno)
    }

    /// Installed on slaves with the master as handler data; runs in softirq
    /// under RCU.
    ///
    /// # Safety
    ///
    /// Only called by the networking core, as described above.
    unsafe extern "C" fn handle_frame(pskb: *mut *mut b::sk_buff) -> b::rx_handler_result_t {
        // SAFETY: The core passes a valid skb received on a slave.
        let (skb, from) = unsafe { (*pskb, NetDev::from_raw(b::nf_skb_dev(*pskb))) };
        // SAFETY: `rcu_dereference(skb->dev->rx_handler_data)`.
        let data = unsafe { ptr::read_volatile(ptr::addr_of!((*from.raw()).rx_handler_data)) };
        // SAFETY: The failover core installs this handler with a `T` master
        // as its data, and unregisters it before the master goes away.
        let master = unsafe { Master::<T>::from_raw(data.cast()) };
        if !T::rx_to_master(master, &Rcu(PhantomData), from) {
            return b::rx_handler_result_RX_HANDLER_EXACT;
        }
        // SAFETY: The skb is ours during the callback.
        unsafe { b::nf_skb_set_dev(skb, master.raw()) };
        b::rx_handler_result_RX_HANDLER_ANOTHER
    }
}

/// Allocates and registers a master netdev for `standby` (as
/// `net_failover_create()` does): `queues` TX and RX queues, the standby's
/// namespace, parent device, MAC and MTU range, carrier off.
pub(crate) fn create_master<T: MasterOps>(
    standby: &NetDev,
    queues: u32,
    hw_features: u64,
    init: impl PinInit<T::Priv, Error>,
) -> Result<ARef<NetDev>> {
    const { assert!(core::mem::align_of::<T::Priv>() <= 32) }; // NETDEV_ALIGN
    let sz = core::mem::size_of::<T::Priv>() as i32;
    // SAFETY: FFI call.
    let raw = unsafe { b::alloc_etherdev_mqs(sz, queues, queues) };
    if raw.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: A new device with a zeroed private area of the right size and
    // `NETDEV_ALIGN`ed; it is freed on failure.
    unsafe {
        if let Err(e) = init.__pinned_init(b::nf_netdev_priv(raw).cast()) {
            b::free_netdev(raw);
            return Err(e);
        }
        b::nf_dev_net_copy(raw, standby.raw());
        let s = &*standby.raw();
        b::dev_addr_mod(raw, 0, s.dev_addr.cast(), b::ETH_ALEN as usize);
        let d = &mut *raw;
        d.dev.parent = s.dev.parent;
        d.netdev_ops = &T::vtables().ndo;
        d.ethtool_ops = &T::vtables().ethtool;
        let pf = &mut d.__bindgen_anon_1.__bindgen_anon_1;
        let keep = !(IFF_DST_RELEASE | b::netdev_priv_flags_IFF_TX_SKB_SHARING as u64);
        pf.set_priv_flags(
            ((pf.priv_flags() as u64 & keep)
                | b::netdev_priv_flags_IFF_UNICAST_FLT as u64
                | b::netdev_priv_flags_IFF_NO_QUEUE as u64) as _,
        );
        pf.set_lltx(1);
        d.set_netns_immutable(1);
        d.hw_features = hw_features;
        d.features |= hw_features;
        (d.min_mtu, d.max_mtu) = (s.min_mtu, s.max_mtu);
        if let Err(e) = to_result(b::register_netdev(raw)) {
            drop_master::<T>(raw);
            return Err(e);
        }
        b::netif_carrier_off(raw);
        // The allocation's own reference stays until `free_netdev()`.
        Ok(ARef::from(NetDev::from_raw(raw)))
    }
}

/// # Safety
///
/// `raw` was allocated by `create_master::<T>` and is not registered.
unsafe fn drop_master<T: MasterOps>(raw: *mut b::net_device) {
    // SAFETY: Per the caller, the private area holds an initialised `T::Priv`
    // that nothing uses any more.
    unsafe {
        ptr::drop_in_place(b::nf_netdev_priv(raw).cast::<T::Priv>());
        b::free_netdev(raw);
    }
}

/// Tears down a master made by [`create_master`]: detaches it, runs `f`
/// under RTNL (to release the slaves and every other reference), drops
/// `dev`, unregisters and frees the device.
pub(crate) fn destroy_master<T: MasterOps>(dev: ARef<NetDev>, f: impl FnOnce(&Master<T>, &Rtnl)) {
    if Master::<T>::try_from(&dev).is_none() {
        pr_err!("failover: {} is not a master to destroy\n", dev.name());
        return;
    }
    let raw = dev.raw();
    // SAFETY: The device is valid.
    unsafe { b::netif_device_detach(raw) };
    {
        let r = rtnl_lock();
        // SAFETY: A `T` master (checked above); the device stays allocated
        // until `drop_master` below.
        f(unsafe { Master::<T>::from_raw(raw) }, &r);
        drop(dev);
        // SAFETY: The device is registered and RTNL is held.
        unsafe { b::nf_unregister_netdevice(raw) };
    }
    // SAFETY: Unregistered above, and `rtnl_unlock()` waited for the last
    // references; only the allocation is left.
    unsafe { drop_master::<T>(raw) };
}

/// A netdevice notifier with a `'static` handler.
///
/// # Invariants
///
/// `nb` is the first field (`repr(C)`), so the callback finds `self` from it.
#[repr(C)]
pub(crate) struct NetdevNotifier {
    nb: Opaque<b::notifier_block>,
    handler: fn(&Rtnl, NetdevEvent, &NetDev) -> bool,
}

// SAFETY: The block is only touched by the notifier chain, under its lock.
unsafe impl Sync for NetdevNotifier {}

/// A netdevice event the failover core acts on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetdevEvent {
    /// `NETDEV_REGISTER`.
    Register,
    /// `NETDEV_UNREGISTER`.
    Unregister,
    /// `NETDEV_UP`, `NETDEV_DOWN` or `NETDEV_CHANGE`.
    LinkChange,
    /// `NETDEV_CHANGENAME`.
    ChangeName,
}

impl NetdevNotifier {
    /// A notifier calling `handler`; it returns whether it acted (NOTIFY_OK).
    pub(crate) const fn new(handler: fn(&Rtnl, NetdevEvent, &NetDev) -> bool) -> Self {
        Self {
            nb: Opaque::new(b::notifier_block {
                notifier_call: Some(Self::call),
                next: ptr::null_mut(),
                priority: 0,
            }),
            handler,
        }
    }

    /// `register_netdevice_notifier()`; replays `Register` for existing devices.
    pub(crate) fn register(&'static self) -> Result {
        // SAFETY: A static block, unregistered before the module goes away.
        to_result(unsafe { b::register_netdevice_notifier(self.nb.get()) })
    }

    /// `unregister_netdevice_notifier()`.
    pub(crate) fn unregister(&'static self) {
        // SAFETY: Registered by `register()`.
        unsafe { b::unregister_netdevice_notifier(self.nb.get()) };
    }

    /// # Safety
    ///
    /// Only called by the netdevice notifier chain, on a block registered by
    /// [`Self::register`].
    unsafe extern "C" fn call(nb: *mut b::notifier_block, ev: usize, info: *mut c_void) -> i32 {
        let ev = match ev as u32 {
            b::netdev_cmd_NETDEV_REGISTER => NetdevEvent::Register,
            b::netdev_cmd_NETDEV_UNREGISTER => NetdevEvent::Unregister,
            b::netdev_cmd_NETDEV_UP | b::netdev_cmd_NETDEV_DOWN | b::netdev_cmd_NETDEV_CHANGE => {
                NetdevEvent::LinkChange
            }
            b::netdev_cmd_NETDEV_CHANGENAME => NetdevEvent::ChangeName,
            _ => return b::NOTIFY_DONE as i32,
        };
        // SAFETY: `nb` is the first field of a `NetdevNotifier` (repr(C));
        // netdevice notifiers run under RTNL with a valid device in `info`.
        let acted = unsafe {
            let this = &*nb.cast::<Self>();
            (this.handler)(
                &Rtnl::assume(),
                ev,
                NetDev::from_raw(b::nf_notifier_dev(info)),
            )
        };
        (if acted { b::NOTIFY_OK } else { b::NOTIFY_DONE }) as i32
    }
}

// The C API of include/net/net_failover.h; nf_helpers.c exports it.

/// A new failover as C's `struct failover *`, or `ERR_PTR(err)`.
fn to_c(fo: Result<Arc<crate::failover_core::Failover>>) -> *mut b::failover {
    match fo {
        Ok(fo) => Arc::into_raw(fo).cast_mut().cast(),
        Err(e) => e.to_errno() as isize as *mut b::failover,
    }
}

/// `struct failover *net_failover_create(struct net_device *standby_dev)`.
///
/// # Safety
///
/// `standby` is a valid, not yet registered, net_device; called without RTNL.
#[no_mangle]
pub(crate) unsafe extern "C" fn net_failover_create(
    standby: *mut b::net_device,
) -> *mut b::failover {
    // SAFETY: Per the caller.
    to_c(crate::create(unsafe { NetDev::from_raw(standby) }))
}

/// `void net_failover_destroy(struct failover *failover)`.
///
/// # Safety
///
/// `fo` is null or was returned by `net_failover_create()` and is not used
/// again; called without RTNL.
#[no_mangle]
pub(crate) unsafe extern "C" fn net_failover_destroy(fo: *mut b::failover) {
    if !fo.is_null() {
        // SAFETY: Per the caller, from `Arc::into_raw` in `net_failover_create`.
        crate::destroy(unsafe { Arc::from_raw(fo.cast_const().cast()) });
    }
}

/// A C driver's `struct failover_ops`, as the core's [`FailoverOps`]: the
/// callbacks run in the same contexts and order as under the C core.
#[repr(transparent)]
pub(crate) struct COps(b::failover_ops);

// SAFETY: A table of function pointers that the core calls under RTNL.
unsafe impl Sync for COps {}
// SAFETY: As above.
unsafe impl Send for COps {}

type CCallback = Option<unsafe extern "C" fn(*mut b::net_device, *mut b::net_device) -> i32>;

impl COps {
    /// Calls `f` if the driver set it; `missing` is the result otherwise.
    fn call(f: CCallback, missing: Result, slave: &NetDev, master: &NetDev) -> Result {
        // SAFETY: The driver's callback, given the devices the C core gives it,
        // under RTNL.
        // Any non-zero return is a refusal or failure, as for the C core.
        f.map_or(missing, |f| match unsafe { f(slave.raw(), master.raw()) } {
            0 => Ok(()),
            _ => Err(EINVAL),
        })
    }
}

impl FailoverOps for COps {
    fn pre_register(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        Self::call(self.0.slave_pre_register, Ok(()), slave, master)
    }
    fn register(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        Self::call(self.0.slave_register, Err(EINVAL), slave, master)
    }
    fn pre_unregister(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        Self::call(self.0.slave_pre_unregister, Ok(()), slave, master)
    }
    fn unregister(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) -> Result {
        Self::call(self.0.slave_unregister, Err(EINVAL), slave, master)
    }
    fn link_change(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) {
        let _ = Self::call(self.0.slave_link_change, Ok(()), slave, master);
    }
    fn name_change(&self, _: &Rtnl, slave: &NetDev, master: &NetDev) {
        let _ = Self::call(self.0.slave_name_change, Ok(()), slave, master);
    }
    fn rx_handler(&self) -> Option<RxHandler> {
        self.0.slave_handle_frame.map(RxHandler)
    }
}

/// Runs `f` under the caller's RTNL (the contract of the exports below). If
/// nobody holds RTNL the caller broke it: warn and take RTNL here.
///
/// # Safety
///
/// The caller holds RTNL or nobody does.
unsafe fn with_rtnl<R>(f: impl FnOnce(&Rtnl) -> R) -> R {
    // SAFETY: FFI call.
    if unsafe { b::rtnl_is_locked() } != 0 {
        // SAFETY: Held, by the caller (its contract).
        f(&unsafe { Rtnl::assume() })
    } else {
        pr_warn!("failover: called without RTNL\n");
        f(&rtnl_lock())
    }
}

// The C API of include/net/failover.h, for 2-netdev drivers.

/// `struct failover *failover_register(struct net_device *dev, struct failover_ops *ops)`.
///
/// # Safety
///
/// `dev` is a registered net_device and `ops` a table that stays valid until
/// `failover_unregister()`; called without RTNL.
#[no_mangle]
pub(crate) unsafe extern "C" fn failover_register(
    dev: *mut b::net_device,
    ops: *mut b::failover_ops,
) -> *mut b::failover {
    if dev.is_null() || ops.is_null() {
        return to_c(Err(EINVAL));
    }
    // SAFETY: Per the caller; `COps` is a transparent wrapper.
    let (dev, ops) = unsafe { (NetDev::from_raw(dev), &*ops.cast::<COps>()) };
    to_c(crate::netvsc_glue::register(dev, ops))
}

/// `void failover_unregister(struct failover *failover)`.
///
/// # Safety
///
/// `fo` was returned by `failover_register()` and is not used again; the
/// caller holds RTNL (as its in-tree callers do; the C core does not need it).
#[no_mangle]
pub(crate) unsafe extern "C" fn failover_unregister(fo: *mut b::failover) {
    if !fo.is_null() {
        // SAFETY: Per the caller, from `Arc::into_raw` in `failover_register`.
        let fo = unsafe { Arc::from_raw(fo.cast_const().cast()) };
        // SAFETY: The caller holds RTNL.
        unsafe { with_rtnl(|r| crate::failover_core::unregister(r, &fo)) };
    }
}

/// `int failover_slave_unregister(struct net_device *slave_dev)`: returns
/// `NOTIFY_OK` if the slave was released, else `NOTIFY_DONE`.
///
/// # Safety
///
/// `slave` is a valid net_device; the caller holds RTNL.
#[no_mangle]
pub(crate) unsafe extern "C" fn failover_slave_unregister(slave: *mut b::net_device) -> i32 {
    // SAFETY: Per the caller.
    let slave = unsafe { NetDev::from_raw(slave) };
    // SAFETY: The caller holds RTNL.
    let done = unsafe { with_rtnl(|r| crate::failover_core::slave_unregister(r, slave)) };
    (if done { b::NOTIFY_OK } else { b::NOTIFY_DONE }) as i32
}
