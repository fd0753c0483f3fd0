// SPDX-License-Identifier: GPL-2.0

//! `struct net_device` (`linux/netdevice.h`): a registered device, a tracked
//! reference to one, one being set up by its driver, and the proof that a
//! device's address lock is held.

use super::{bindings as b, ethtool::LinkKsettings, might_sleep, Rtnl};
use core::{
    marker::PhantomData,
    ops::Deref,
    ptr::{self, NonNull},
};
use kernel::{error::to_result, prelude::*, types::Opaque};

/// A registered network device.
///
/// # Invariants
///
/// Wraps a valid `struct net_device` that has been registered, so that its
/// memory is freed only after its reference count drops to zero and an RCU
/// grace period has passed (`netdev_run_todo()`): a `&NetDev` stays valid
/// while it is borrowed, and a [`NetDevRef`] for as long as it exists. Fields
/// that RTNL writers change are read only with the [`Rtnl`] proof or with a
/// `READ_ONCE`-style volatile read.
#[repr(transparent)]
pub(crate) struct NetDev(Opaque<b::net_device>);

// SAFETY: A `struct net_device` is used from any thread; every access here is
// either under RTNL (proof parameter), atomic, or a `READ_ONCE`-style read.
unsafe impl Send for NetDev {}
// SAFETY: As above.
unsafe impl Sync for NetDev {}

/// A tracked reference to a registered device: `netdev_hold()` with a
/// `netdevice_tracker` of its own, `netdev_put()` with it on drop. With
/// `CONFIG_NET_DEV_REFCNT_TRACKER`, a reference that is never dropped is
/// reported with the stack that took it when the device waits for its users
/// (`unregister_netdevice: waiting for ...`); without it the tracker is empty
/// and this is `dev_hold()`/`dev_put()`.
///
/// Made by [`NetDev::hold`]. A second reference to the same device is
/// `hold()` again, through `Deref`: there is no `Clone`, which could not say
/// whether the tracker may be allocated with `GFP_KERNEL`.
///
/// The value may move: the tracker is a pointer to a `struct ref_tracker`
/// on the heap (or nothing), which does not point back to it.
///
/// # Invariants
///
/// `dev` points to a valid [`NetDev`] (registered, or unregistering since) on
/// which the value owns one reference, taken by `netdev_hold()` with
/// `tracker`; `tracker` is used for nothing else and released by
/// `netdev_put()` in `drop`.
pub(crate) struct NetDevRef {
    dev: NonNull<NetDev>,
    tracker: Opaque<b::netdevice_tracker>,
}

// SAFETY: The reference may be dropped on any thread (`netdev_put()` may be
// called in any context), and `NetDev` is `Send` and `Sync`.
unsafe impl Send for NetDevRef {}
// SAFETY: A shared `NetDevRef` only gives `&NetDev`, which is `Sync`; the
// tracker is not reached through it.
unsafe impl Sync for NetDevRef {}

impl Deref for NetDevRef {
    type Target = NetDev;
    fn deref(&self) -> &NetDev {
        // SAFETY: The reference keeps the device valid (type invariant).
        unsafe { self.dev.as_ref() }
    }
}

impl Drop for NetDevRef {
    fn drop(&mut self) {
        // SAFETY: The value owns a reference taken with this tracker (type
        // invariant), given up here, once.
        unsafe { b::nf_netdev_put(self.dev.as_ptr().cast(), self.tracker.get()) };
    }
}

impl PartialEq for NetDev {
    fn eq(&self, other: &Self) -> bool {
        ptr::eq(self, other)
    }
}

/// Reads a field of the device at `$dev` (`&NetDev`) as `READ_ONCE()` does.
macro_rules! read_once {
    ($dev:expr, $($f:tt)+) => {
        // SAFETY: The device is valid (type invariant); a volatile read of a
        // field that writers update with single stores, as `READ_ONCE()`.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*$dev.as_raw()).$($f)+)) }
    };
}

/// Reads a field of the device at `$dev` that only RTNL holders write; the
/// caller has the [`Rtnl`] proof.
macro_rules! under_rtnl {
    ($dev:expr, $($f:tt)+) => {
        // SAFETY: The device is valid (type invariant) and the caller holds
        // RTNL (its `&Rtnl`), which excludes every writer of this field.
        unsafe { (*$dev.as_raw()).$($f)+ }
    };
}
pub(super) use read_once;

const IFF_FAILOVER: u64 = b::netdev_priv_flags_IFF_FAILOVER as u64;
const IFF_FAILOVER_SLAVE: u64 = b::netdev_priv_flags_IFF_FAILOVER_SLAVE as u64;
const IFF_NO_ADDRCONF: u64 = b::netdev_priv_flags_IFF_NO_ADDRCONF as u64;
pub(super) const IFF_XMIT_DST_RELEASE: u64 = b::netdev_priv_flags_IFF_XMIT_DST_RELEASE as u64;
const IFF_XMIT_DST_RELEASE_PERM: u64 = b::netdev_priv_flags_IFF_XMIT_DST_RELEASE_PERM as u64;

impl NetDev {
    /// # Safety
    ///
    /// `p` is a valid, registered `net_device` that outlives `'a`.
    pub(crate) unsafe fn from_raw<'a>(p: *const b::net_device) -> &'a Self {
        // SAFETY: `NetDev` is a transparent wrapper; validity from the caller.
        unsafe { &*p.cast() }
    }

    /// The C device.
    pub(crate) fn as_raw(&self) -> *mut b::net_device {
        self.0.get()
    }

    /// `netdev_hold(dev, &tracker, GFP_KERNEL)`: a tracked reference. May
    /// sleep (the tracker is allocated with `GFP_KERNEL`). Atomic contexts
    /// (the TX path, the rx handler, stats) take no references: they borrow
    /// devices under RCU.
    #[track_caller]
    pub(crate) fn hold(&self) -> NetDevRef {
        might_sleep();
        let r = NetDevRef {
            dev: NonNull::from(self),
            tracker: Opaque::uninit(),
        };
        // SAFETY: The device is valid (type invariant) and registered, so a
        // reference keeps it allocated; `netdev_hold()` takes one and stores
        // its tracker (if the kernel tracks references) in `r.tracker`.
        unsafe { b::nf_netdev_hold(self.as_raw(), r.tracker.get(), kernel::bindings::GFP_KERNEL) };
        // INVARIANT: `r` owns the reference taken above with its tracker.
        r
    }

    /// `p` as a device borrowed for an RTNL section, if it is registered:
    /// then it is freed only after that section ends.
    ///
    /// # Safety
    ///
    /// `p` is null or a device that is valid now and that RTNL, held for
    /// `'a`, keeps from being unlinked from where `p` was read.
    unsafe fn from_raw_rtnl<'a>(p: *const b::net_device, _: &'a Rtnl) -> Option<&'a Self> {
        // SAFETY: Valid now, per the caller.
        let dev = (!p.is_null()).then(|| unsafe { Self::from_raw(p) })?;
        dev.is_registered().then_some(dev)
    }

    /// `READ_ONCE(dev->reg_state) == NETREG_REGISTERED`.
    pub(crate) fn is_registered(&self) -> bool {
        u32::from(read_once!(self, reg_state)) == b::netdev_reg_state_NETREG_REGISTERED
    }

    /// The interface name (`dev->name`), which RTNL keeps from changing.
    pub(crate) fn name<'a>(&'a self, _: &'a Rtnl) -> &'a CStr {
        // SAFETY: The device is valid; `name` is NUL-terminated and only
        // changed under RTNL, which the caller holds for `'a`.
        unsafe { CStr::from_char_ptr((*self.as_raw()).name.as_ptr()) }
    }

    /// Whether this is an Ethernet device (`dev->type == ARPHRD_ETHER`).
    pub(crate) fn is_ether(&self) -> bool {
        u32::from(read_once!(self, type_)) == b::ARPHRD_ETHER
    }

    /// The permanent MAC address, the failover matching key.
    pub(crate) fn perm_addr(&self, _: &Rtnl) -> [u8; 6] {
        let a = under_rtnl!(self, perm_addr);
        [a[0], a[1], a[2], a[3], a[4], a[5]]
    }

    /// Whether both devices are in the same network namespace
    /// (`net_eq(dev_net(a), dev_net(b))`).
    pub(crate) fn same_netns(&self, _: &Rtnl, other: &NetDev) -> bool {
        // SAFETY: Both devices are valid; their namespaces change only under
        // RTNL, which the caller holds.
        unsafe { b::nf_dev_net(self.as_raw()) == b::nf_dev_net(other.as_raw()) }
    }

    /// `netif_running()`.
    pub(crate) fn is_running(&self) -> bool {
        self.running_and_carrier().0
    }

    /// `(netif_running(), netif_carrier_ok())` from one read of `dev->state`,
    /// inline: `test_bit(__LINK_STATE_START, ...)` and
    /// `!test_bit(__LINK_STATE_NOCARRIER, ...)`. `test_bit()` is one
    /// `READ_ONCE()` of the word; writers use atomic bit operations.
    pub(crate) fn running_and_carrier(&self) -> (bool, bool) {
        let state: kernel::ffi::c_ulong = read_once!(self, state);
        (
            state & (1 << b::netdev_state_t___LINK_STATE_START) != 0,
            state & (1 << b::netdev_state_t___LINK_STATE_NOCARRIER) == 0,
        )
    }

    /// Whether both devices have the same parent device (`dev->dev.parent`).
    pub(crate) fn shares_parent(&self, _: &Rtnl, other: &NetDev) -> bool {
        under_rtnl!(self, dev.parent) == under_rtnl!(other, dev.parent)
    }

    /// Whether the parent device is a PCI device.
    pub(crate) fn parent_is_pci(&self, _: &Rtnl) -> bool {
        let parent = under_rtnl!(self, dev.parent);
        // SAFETY: The parent of a registered device outlives it.
        !parent.is_null() && unsafe { b::nf_dev_is_pci(parent) }
    }

    /// `dev->features`.
    pub(crate) fn features(&self, _: &Rtnl) -> u64 {
        under_rtnl!(self, features)
    }

    /// `dev->vlan_features`.
    pub(crate) fn vlan_features(&self, _: &Rtnl) -> u64 {
        under_rtnl!(self, vlan_features)
    }

    /// `dev->hw_enc_features`.
    pub(crate) fn hw_enc_features(&self, _: &Rtnl) -> u64 {
        under_rtnl!(self, hw_enc_features)
    }

    /// `dev->hard_header_len`.
    pub(crate) fn hard_header_len(&self, _: &Rtnl) -> u16 {
        under_rtnl!(self, hard_header_len)
    }

    /// `READ_ONCE(dev->mtu)`.
    pub(crate) fn mtu(&self) -> u32 {
        read_once!(self, mtu)
    }

    /// `(dev->min_mtu, dev->max_mtu)`.
    pub(crate) fn mtu_range(&self, _: &Rtnl) -> (u32, u32) {
        (under_rtnl!(self, min_mtu), under_rtnl!(self, max_mtu))
    }

    /// `READ_ONCE(dev->real_num_tx_queues)`.
    pub(crate) fn real_num_tx_queues(&self) -> u16 {
        read_once!(self, real_num_tx_queues) as u16
    }

    pub(super) fn priv_flags(&self, _: &Rtnl) -> u64 {
        under_rtnl!(self, __bindgen_anon_1.__bindgen_anon_1.priv_flags()) as u64
    }

    pub(super) fn update_priv_flags(&self, r: &Rtnl, set: u64, clear: u64) {
        let v = (self.priv_flags(r) & !clear) | set;
        // SAFETY: The device is valid; RTNL (held by the caller) serialises
        // the writers of `priv_flags`.
        unsafe {
            (*self.as_raw())
                .__bindgen_anon_1
                .__bindgen_anon_1
                .set_priv_flags(v as _)
        };
    }

    /// `netif_is_failover()`: `IFF_FAILOVER` is set.
    pub(crate) fn is_failover(&self, r: &Rtnl) -> bool {
        self.priv_flags(r) & IFF_FAILOVER != 0
    }

    /// Sets or clears `IFF_FAILOVER`.
    pub(crate) fn set_failover(&self, r: &Rtnl, on: bool) {
        self.update_priv_flags(r, if on { IFF_FAILOVER } else { 0 }, IFF_FAILOVER);
    }

    /// `netif_is_failover_slave()`: `IFF_FAILOVER_SLAVE` is set.
    pub(crate) fn is_failover_slave(&self, r: &Rtnl) -> bool {
        self.priv_flags(r) & IFF_FAILOVER_SLAVE != 0
    }

    /// Sets or clears `IFF_FAILOVER_SLAVE`, as the failover core does when it
    /// enslaves or releases a device (with [`Self::set_slave_marks`]).
    pub(crate) fn set_failover_slave(&self, r: &Rtnl, on: bool) {
        let f = IFF_FAILOVER_SLAVE;
        self.update_priv_flags(r, if on { f } else { 0 }, f);
    }

    /// The hardware address (`dev->dev_addr`).
    pub(crate) fn dev_addr(&self, _: &Rtnl) -> [u8; 6] {
        // SAFETY: The device is valid and RTNL, which the caller holds,
        // serialises the writers of its address.
        unsafe { dev_addr(self.as_raw()) }
    }

    /// Sets or clears what userspace sees of a slave: `IFF_SLAVE` and
    /// `IFF_NO_ADDRCONF` (no IPv6 address configuration).
    pub(crate) fn set_slave_marks(&self, _: &Rtnl, on: bool) {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { set_slave_marks(self.as_raw(), on) };
    }

    /// Whether both `IFF_XMIT_DST_RELEASE` and `IFF_XMIT_DST_RELEASE_PERM`
    /// are set.
    pub(crate) fn xmit_dst_release(&self, r: &Rtnl) -> bool {
        let both = IFF_XMIT_DST_RELEASE | IFF_XMIT_DST_RELEASE_PERM;
        self.priv_flags(r) & both == both
    }

    /// `dev_open()`.
    pub(crate) fn open(&self, _: &Rtnl) -> Result {
        might_sleep();
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { b::dev_open(self.as_raw(), ptr::null_mut()) })
    }

    /// `dev_close()`.
    pub(crate) fn close(&self, _: &Rtnl) {
        might_sleep();
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::dev_close(self.as_raw()) };
    }

    /// `dev_set_mtu()`.
    pub(crate) fn set_mtu(&self, _: &Rtnl, mtu: u32) -> Result {
        might_sleep();
        let mtu = i32::try_from(mtu).map_err(|_| EINVAL)?;
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { b::dev_set_mtu(self.as_raw(), mtu) })
    }

    /// `dev_get_stats()`: the device's counters, in `rtnl_link_stats64` order.
    pub(crate) fn get_stats(&self) -> super::Counters {
        let mut s = core::mem::MaybeUninit::<b::rtnl_link_stats64>::uninit();
        // SAFETY: The device is valid; `s` is the storage to fill.
        unsafe { b::dev_get_stats(self.as_raw(), s.as_mut_ptr()) };
        // SAFETY: `dev_get_stats()` writes every field of its storage on every
        // path (it clears it before `ndo_get_stats64`, and
        // `netdev_stats_to_stats64()` copies then clears the rest), so `s` is
        // initialised; `rtnl_link_stats64` is `NSTATS` `u64` and nothing else
        // (checked at build time in `ops.rs`).
        unsafe { core::mem::transmute::<b::rtnl_link_stats64, super::Counters>(s.assume_init()) }
    }

    /// `netdev_master_upper_dev_get()`, as a pointer only to compare.
    pub(super) fn master_upper_ptr(&self, _: &Rtnl) -> *mut b::net_device {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::netdev_master_upper_dev_get(self.as_raw()) }
    }

    /// Whether `master` is this device's master upper (a comparison).
    pub(crate) fn has_master_upper(&self, r: &Rtnl, master: &NetDev) -> bool {
        ptr::eq(self.master_upper_ptr(r), master.as_raw())
    }

    /// The lower devices that are failover slaves enslaved to this one
    /// (`netdev_for_each_lower_dev()` with `netif_is_failover_slave()` and
    /// this device as their master upper), at most `N`, as a snapshot: no
    /// other code runs while the adjacency list is walked, so the caller may
    /// release them one by one. They stay valid for the RTNL section (a
    /// registered device is freed only after the section that unregisters it).
    pub(crate) fn failover_lowers<'a, const N: usize>(
        &self,
        r: &'a Rtnl,
    ) -> impl Iterator<Item = &'a NetDev> {
        let (mut found, mut n): ([Option<&'a NetDev>; N], usize) = ([None; N], 0);
        // SAFETY: The device is valid; the list head is where the macro starts.
        let mut iter = unsafe { (*self.as_raw()).adj_list.lower.next };
        while n < N {
            // SAFETY: RTNL protects the adjacency list, which nothing changes
            // during this walk (it calls no code that could); `iter` is on it.
            let p = unsafe { b::netdev_lower_get_next(self.as_raw(), &mut iter) };
            if p.is_null() {
                break;
            }
            // SAFETY: A lower device, which the adjacency list (RTNL) keeps.
            match unsafe { Self::from_raw_rtnl(p.cast(), r) } {
                Some(l) if l.is_failover_slave(r) && l.has_master_upper(r, self) => {
                    found[n] = Some(l);
                    n += 1;
                }
                _ => {}
            }
        }
        found.into_iter().flatten()
    }

    /// `for_each_netdev()` of this device's network namespace.
    pub(crate) fn for_each_netdev_in_netns(&self, r: &Rtnl, mut f: impl FnMut(&NetDev)) {
        let mut pos = ptr::null_mut();
        loop {
            // SAFETY: RTNL protects the list, and `f` cannot take a device off
            // it: nothing here unregisters a device without taking RTNL, which
            // would deadlock instead. `pos` is null or on the list.
            pos = unsafe { b::nf_netns_next(self.as_raw(), pos) };
            // SAFETY: Null or a device on the list, which RTNL keeps.
            match unsafe { Self::from_raw_rtnl(pos, r) } {
                Some(dev) => f(dev),
                None if pos.is_null() => return,
                None => {}
            }
        }
    }

    /// `vlan_uses_dev()`.
    pub(crate) fn vlan_uses_dev(&self, _: &Rtnl) -> bool {
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::vlan_uses_dev(self.as_raw()) }
    }

    /// `vlan_vid_add()`.
    pub(crate) fn vlan_vid_add(&self, _: &Rtnl, proto: u16, vid: u16) -> Result {
        might_sleep();
        // SAFETY: The device is valid and RTNL is held.
        to_result(unsafe { b::vlan_vid_add(self.as_raw(), proto, vid) })
    }

    /// `vlan_vid_del()`.
    pub(crate) fn vlan_vid_del(&self, _: &Rtnl, proto: u16, vid: u16) {
        might_sleep();
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::vlan_vid_del(self.as_raw(), proto, vid) };
    }

    /// `vlan_vids_add_by_dev()`: adds `by_dev`'s VLAN IDs to this device.
    pub(crate) fn vlan_vids_add_by_dev(&self, _: &Rtnl, by_dev: &NetDev) -> Result {
        might_sleep();
        // SAFETY: Both devices are valid and RTNL is held.
        to_result(unsafe { b::vlan_vids_add_by_dev(self.as_raw(), by_dev.as_raw()) })
    }

    /// `vlan_vids_del_by_dev()`.
    pub(crate) fn vlan_vids_del_by_dev(&self, _: &Rtnl, by_dev: &NetDev) {
        might_sleep();
        // SAFETY: Both devices are valid and RTNL is held.
        unsafe { b::vlan_vids_del_by_dev(self.as_raw(), by_dev.as_raw()) };
    }

    /// `netif_addr_lock_bh()`: takes this device's address lock, with BH off.
    pub(crate) fn addr_lock_bh(&self) -> AddrLockGuard<'_> {
        // SAFETY: The device is valid; unlocked when the guard drops.
        unsafe { b::nf_netif_addr_lock_bh(self.as_raw()) };
        // SAFETY: Taken above, released by the guard.
        AddrLockGuard(unsafe { AddrLock::assume(self) })
    }

    /// `dev_uc_sync_multiple()`: syncs the unicast list of the locked device.
    pub(crate) fn uc_sync_multiple(&self, from: &AddrLock<'_>) -> Result {
        // SAFETY: Both devices are valid and `from`'s address lock is held.
        to_result(unsafe { b::dev_uc_sync_multiple(self.as_raw(), from.dev.as_raw()) })
    }

    /// `dev_mc_sync_multiple()`: syncs the multicast list of the locked device.
    pub(crate) fn mc_sync_multiple(&self, from: &AddrLock<'_>) -> Result {
        // SAFETY: Both devices are valid and `from`'s address lock is held.
        to_result(unsafe { b::dev_mc_sync_multiple(self.as_raw(), from.dev.as_raw()) })
    }

    /// `dev_uc_sync_multiple()` and `dev_mc_sync_multiple()` from the locked
    /// device; an address that cannot be added (out of memory) is left out,
    /// as the C driver leaves it.
    pub(crate) fn addrs_sync_multiple(&self, from: &AddrLock<'_>) {
        let _ = self.uc_sync_multiple(from);
        let _ = self.mc_sync_multiple(from);
    }

    /// `dev_uc_unsync()` and `dev_mc_unsync()`.
    pub(crate) fn addrs_unsync(&self, r: &Rtnl, from: &NetDev) {
        self.uc_unsync(r, from);
        self.mc_unsync(r, from);
    }

    /// `dev_uc_unsync()`; takes `from`'s address lock itself.
    pub(crate) fn uc_unsync(&self, _: &Rtnl, from: &NetDev) {
        might_sleep();
        // SAFETY: Both devices are valid; called in process context.
        unsafe { b::dev_uc_unsync(self.as_raw(), from.as_raw()) };
    }

    /// `dev_mc_unsync()`; takes `from`'s address lock itself.
    pub(crate) fn mc_unsync(&self, _: &Rtnl, from: &NetDev) {
        might_sleep();
        // SAFETY: Both devices are valid; called in process context.
        unsafe { b::dev_mc_unsync(self.as_raw(), from.as_raw()) };
    }

    /// `netdev_lower_state_changed()` with `link_up` and `tx_enabled`.
    pub(crate) fn lower_state_changed(&self, _: &Rtnl, (link_up, tx_enabled): (bool, bool)) {
        might_sleep();
        let mut info = b::netdev_lag_lower_state_info::default();
        info.set_link_up(link_up.into());
        info.set_tx_enabled(tx_enabled.into());
        // SAFETY: The device is valid, RTNL is held and `info` outlives the call.
        unsafe { b::netdev_lower_state_changed(self.as_raw(), ptr::addr_of_mut!(info).cast()) };
    }

    /// `call_netdevice_notifiers(NETDEV_JOIN, dev)`.
    pub(crate) fn notify_join(&self, _: &Rtnl) {
        might_sleep();
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::call_netdevice_notifiers(b::netdev_cmd_NETDEV_JOIN as _, self.as_raw()) };
    }

    /// `netdev_master_upper_dev_link()` to `master`, as an active-backup LAG
    /// lower device.
    pub(crate) fn master_upper_dev_link(&self, _: &Rtnl, master: &NetDev) -> Result {
        might_sleep();
        let mut info = b::netdev_lag_upper_info {
            tx_type: b::netdev_lag_tx_type_NETDEV_LAG_TX_TYPE_ACTIVEBACKUP,
            hash_type: b::netdev_lag_hash_NETDEV_LAG_HASH_NONE,
        };
        // SAFETY: Both devices are valid, RTNL is held and `info` outlives
        // the call.
        to_result(unsafe {
            b::netdev_master_upper_dev_link(
                self.as_raw(),
                master.as_raw(),
                ptr::null_mut(),
                ptr::addr_of_mut!(info).cast(),
                ptr::null_mut(),
            )
        })
    }

    /// `netdev_upper_dev_unlink()`.
    pub(crate) fn upper_dev_unlink(&self, _: &Rtnl, master: &NetDev) {
        might_sleep();
        // SAFETY: Both devices are valid and RTNL is held.
        unsafe { b::netdev_upper_dev_unlink(self.as_raw(), master.as_raw()) };
    }

    /// `__ethtool_get_link_ksettings()` into `out`.
    pub(crate) fn get_link_ksettings(&self, _: &Rtnl, out: &mut LinkKsettings<'_>) -> Result {
        might_sleep();
        // SAFETY: The device is valid, RTNL is held and `out` wraps a valid
        // struct (its invariant).
        to_result(unsafe { b::__ethtool_get_link_ksettings(self.as_raw(), out.as_raw()) })
    }
}

const IFF_SLAVE: u32 = b::net_device_flags_IFF_SLAVE;

/// `dev->dev_addr` of the device at `p`.
///
/// # Safety
///
/// `p` is a valid device whose address nobody changes during the call (RTNL
/// is held, or the device is not registered).
unsafe fn dev_addr(p: *mut b::net_device) -> [u8; 6] {
    // SAFETY: Valid, with `ETH_ALEN` bytes at `dev_addr` (the caller's
    // Ethernet devices; any device has `MAX_ADDR_LEN` allocated).
    let a = unsafe { core::slice::from_raw_parts((*p).dev_addr, 6) };
    [a[0], a[1], a[2], a[3], a[4], a[5]]
}

/// Sets (`on`) or clears `IFF_SLAVE` in `dev->flags` and `IFF_NO_ADDRCONF`
/// in `dev->priv_flags` of the device at `p`.
///
/// # Safety
///
/// `p` is a valid device and the caller holds RTNL, which serialises the
/// writers of both fields.
unsafe fn set_slave_marks(p: *mut b::net_device, on: bool) {
    let set = |v: u64, bit: u64| if on { v | bit } else { v & !bit };
    // SAFETY: `p` is valid and RTNL excludes other writers (the function's
    // safety section); `flags` is read locklessly (`dev_get_flags()` under
    // RCU), so the new value is one store, as `WRITE_ONCE()`.
    unsafe {
        let flags = ptr::addr_of_mut!((*p).flags);
        flags.write_volatile(set(flags.read().into(), IFF_SLAVE.into()) as u32);
    }
    // SAFETY: As above for `priv_flags`, the active field of its union (the
    // bitfield view of `priv_flags_fast`).
    let pf = unsafe { &mut (*p).__bindgen_anon_1.__bindgen_anon_1 };
    pf.set_priv_flags(set(pf.priv_flags() as u64, IFF_NO_ADDRCONF) as _);
}

/// A device inside `register_netdevice()` that is not registered: at
/// `NETDEV_POST_INIT`, before its uevent and its first `RTM_NEWLINK`, or at
/// `NETDEV_PRE_UNINIT` after its registration failed.
///
/// # Invariants
///
/// Wraps a valid `struct net_device` that is being registered under RTNL,
/// valid while borrowed.
#[repr(transparent)]
pub(crate) struct Registering(Opaque<b::net_device>);

impl Registering {
    /// # Safety
    ///
    /// `p` is a valid `net_device` inside `register_netdevice()`, which holds
    /// RTNL, for `'a`.
    pub(crate) unsafe fn from_raw<'a>(p: *const b::net_device) -> &'a Self {
        // SAFETY: A transparent wrapper; validity from the caller.
        unsafe { &*p.cast() }
    }

    fn as_raw(&self) -> *mut b::net_device {
        self.0.get()
    }

    /// The hardware address (`dev->dev_addr`): the driver's, before
    /// `perm_addr` is filled in from it.
    pub(crate) fn dev_addr(&self, _: &Rtnl) -> [u8; 6] {
        // SAFETY: Valid (type invariant) and RTNL is held.
        unsafe { dev_addr(self.as_raw()) }
    }

    /// Whether this is an Ethernet device (`dev->type == ARPHRD_ETHER`).
    pub(crate) fn is_ether(&self) -> bool {
        // SAFETY: Valid (type invariant); set by the driver before registering.
        u32::from(unsafe { (*self.as_raw()).type_ }) == b::ARPHRD_ETHER
    }

    /// Whether it is in `other`'s network namespace.
    pub(crate) fn same_netns(&self, _: &Rtnl, other: &NetDev) -> bool {
        // SAFETY: Both devices are valid; namespaces change only under RTNL,
        // which the caller holds.
        unsafe { b::nf_dev_net(self.as_raw()) == b::nf_dev_net(other.as_raw()) }
    }

    /// See [`NetDev::set_slave_marks`].
    pub(crate) fn set_slave_marks(&self, _: &Rtnl, on: bool) {
        // SAFETY: Valid (type invariant) and RTNL is held.
        unsafe { set_slave_marks(self.as_raw(), on) };
    }
}

/// A `struct net_device` that its driver is still setting up: not registered,
/// so not reference-counted (`free_netdev()` frees it at once).
///
/// # Invariants
///
/// Wraps a valid `struct net_device` that nobody else changes while it is
/// borrowed.
#[repr(transparent)]
pub(crate) struct Unregistered(Opaque<b::net_device>);

impl Unregistered {
    /// # Safety
    ///
    /// `p` is a valid `net_device` that nobody changes during `'a`.
    pub(crate) unsafe fn from_raw<'a>(p: *const b::net_device) -> &'a Self {
        // SAFETY: A transparent wrapper; validity from the caller.
        unsafe { &*p.cast() }
    }

    pub(super) fn as_raw(&self) -> *mut b::net_device {
        self.0.get()
    }

    /// The parent device (`dev->dev.parent`), if any.
    pub(crate) fn parent(&self) -> Option<&kernel::device::Device> {
        // SAFETY: The device is valid and unchanged while borrowed.
        let p = unsafe { (*self.as_raw()).dev.parent };
        // SAFETY: A parent outlives its children; `struct device` is the
        // kernel's type.
        (!p.is_null()).then(|| unsafe { kernel::device::Device::as_ref(p.cast()) })
    }
}

/// Proof that `dev`'s address lock (`netif_addr_lock()`) is held.
///
/// # Invariants
///
/// The address lock of `dev` is held for as long as the value exists.
pub(crate) struct AddrLock<'a> {
    dev: &'a NetDev,
    _not_send: PhantomData<*mut ()>,
}

impl<'a> AddrLock<'a> {
    /// # Safety
    ///
    /// `dev`'s address lock is held for as long as the returned value exists.
    pub(crate) unsafe fn assume(dev: &'a NetDev) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            dev,
            _not_send: PhantomData,
        }
    }
}

/// A device's address lock, held with BH off until the guard is dropped.
#[must_use = "the address lock is released when the guard is dropped"]
pub(crate) struct AddrLockGuard<'a>(AddrLock<'a>);

impl<'a> Deref for AddrLockGuard<'a> {
    type Target = AddrLock<'a>;
    fn deref(&self) -> &AddrLock<'a> {
        &self.0
    }
}

impl Drop for AddrLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: Taken by `addr_lock_bh()`, still held by this guard.
        unsafe { b::nf_netif_addr_unlock_bh(self.0.dev.as_raw()) };
    }
}
