// SPDX-License-Identifier: GPL-2.0

//! The operations of a master netdev: the `#[vtable]` trait that becomes its
//! `net_device_ops` and `ethtool_ops`, the C tables built from it, their
//! callbacks, and the rx handler a master installs on its slaves.

use super::{
    bindings as b,
    device::read_once,
    ethtool::{fill_drvinfo, GString, LinkKsettings, StatNames},
    might_sleep,
    skbuff::skb_dev,
    AddrLock, Master, NetDev, NetDevRef, Rcu, Rtnl, RtnlVec, SkBuff, SkBuffRef, TxResult,
};
use core::{marker::PhantomData, ptr};
use kernel::{
    build_error,
    error::{from_result, to_result, VTABLE_DEFAULT_ERROR},
    ffi::c_void,
    prelude::*,
    sync::Arc,
    types::Opaque,
};

/// Number of `u64` counters in `struct rtnl_link_stats64`.
pub(crate) const NSTATS: usize = core::mem::size_of::<b::rtnl_link_stats64>() / 8;
/// The counters of `struct rtnl_link_stats64`, in their C order.
pub(crate) type Counters = [u64; NSTATS];
const _: () = assert!(core::mem::size_of::<b::rtnl_link_stats64>() == NSTATS * 8);

/// Indices in [`Counters`] of fields of `struct rtnl_link_stats64`.
pub(crate) mod counter {
    use super::b::rtnl_link_stats64 as S;
    use core::mem::offset_of;
    /// `tx_packets`.
    pub(crate) const TX_PACKETS: usize = offset_of!(S, tx_packets) / 8;
    /// `tx_bytes`.
    pub(crate) const TX_BYTES: usize = offset_of!(S, tx_bytes) / 8;
    /// `tx_dropped`.
    pub(crate) const TX_DROPPED: usize = offset_of!(S, tx_dropped) / 8;
    /// `rx_packets`.
    pub(crate) const RX_PACKETS: usize = offset_of!(S, rx_packets) / 8;
    /// `rx_bytes`.
    pub(crate) const RX_BYTES: usize = offset_of!(S, rx_bytes) / 8;
    /// `rx_dropped`.
    pub(crate) const RX_DROPPED: usize = offset_of!(S, rx_dropped) / 8;
}

/// The operations of a master netdev of this type; each becomes the C
/// callback of the same name (`ndo_*`, ethtool's `get_link_ksettings` and
/// `get_ethtool_stats`), and those not implemented stay NULL, as C leaves
/// them. The context of each is a proof parameter.
#[vtable]
pub(crate) trait MasterOps: Sized + 'static {
    /// Private data, in `netdev_priv()`.
    type Priv: Send + Sync;
    /// The ethtool driver name.
    const DRIVER: &'static CStr;
    /// The ethtool driver version.
    const VERSION: &'static CStr;

    /// The names of the counters that [`Self::get_ethtool_stats`] fills:
    /// ethtool's `get_sset_count` and `get_strings` for `ETH_SS_STATS`.
    const STATS: StatNames = StatNames::new(&[]);

    /// The C tables of this type: a `static` holding [`Vtables::new()`].
    fn vtables() -> &'static Vtables<Self>;

    /// `ndo_open`.
    fn open(_dev: &Master<Self>, _r: &Rtnl) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_stop`.
    fn stop(_dev: &Master<Self>, _r: &Rtnl) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_start_xmit`, with BH off.
    fn start_xmit(dev: &Master<Self>, rcu: &Rcu, skb: SkBuff) -> TxResult;
    /// `ndo_select_queue`, in an RCU read-side section.
    fn select_queue(
        _dev: &Master<Self>,
        _rcu: &Rcu,
        _skb: &SkBuffRef<'_>,
        _sb_dev: Option<&NetDev>,
    ) -> u16 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_get_stats64`, in any context.
    fn get_stats64(_dev: &Master<Self>) -> Counters {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_change_mtu`.
    fn change_mtu(_dev: &Master<Self>, _r: &Rtnl, _mtu: u32) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_set_mac_address` with the new address: an error refuses it.
    fn set_mac_address(_dev: &Master<Self>, _r: &Rtnl, _addr: &[u8; 6]) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_set_rx_mode`, with the device's address lock held.
    fn set_rx_mode(_dev: &Master<Self>, _lock: &AddrLock<'_>, _rcu: &Rcu) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_vlan_rx_add_vid`.
    fn vlan_rx_add_vid(_dev: &Master<Self>, _r: &Rtnl, _proto: u16, _vid: u16) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_vlan_rx_kill_vid`.
    fn vlan_rx_kill_vid(_dev: &Master<Self>, _r: &Rtnl, _proto: u16, _vid: u16) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// ethtool's `get_link_ksettings`.
    fn get_link_ksettings(_dev: &Master<Self>, _r: &Rtnl, _cmd: &mut LinkKsettings<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// ethtool's `get_ethtool_stats`, in any context: one value per name of
    /// [`Self::STATS`], in their order.
    fn get_ethtool_stats(_dev: &Master<Self>, _data: &mut [u64]) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// The rx handler on the slave `from`, in softirq: `true` passes the frame
    /// up through the master, `false` leaves it to `from`'s exact-match
    /// handlers. Installed with [`RxHandler::new`], whose `standby` it gets
    /// (a constant of each of its two instances).
    fn handle_frame(_dev: &Master<Self>, _rcu: &Rcu, _from: &NetDev, _standby: bool) -> bool {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The C ops tables of the masters of type `T`.
///
/// Only [`Vtables::new`] makes one, and it fills it with `T`'s callbacks. The
/// tables are interior-mutable C objects, so a `&'static Vtables<T>` cannot
/// come from a promoted constant: it is a `static` (or leaked) object with an
/// address of its own, which no other live object shares. That makes
/// "`dev->netdev_ops` is `T::vtables()`'s table" a sound test that a device
/// is a `T` master (see [`Master::try_from`]).
pub(crate) struct Vtables<T: MasterOps> {
    ndo: Opaque<b::net_device_ops>,
    ethtool: Opaque<b::ethtool_ops>,
    _type: PhantomData<fn() -> T>,
}

// SAFETY: The tables are never written after `new()`; the C core only reads them.
unsafe impl<T: MasterOps> Sync for Vtables<T> {}

impl<T: MasterOps> Vtables<T> {
    /// The tables of `T`, for a `static`.
    pub(crate) const fn new() -> Self {
        // SAFETY: All-zero is a valid value of these C structs (no callbacks).
        let (mut ndo, mut ethtool): (b::net_device_ops, b::ethtool_ops) =
            unsafe { (core::mem::zeroed(), core::mem::zeroed()) };
        macro_rules! op {
            ($has:ident, $cb:ident) => {
                if T::$has {
                    Some(Adapter::<T>::$cb)
                } else {
                    None
                }
            };
        }
        ndo.ndo_open = op!(HAS_OPEN, open_callback);
        ndo.ndo_stop = op!(HAS_STOP, stop_callback);
        ndo.ndo_start_xmit = Some(Adapter::<T>::start_xmit_callback);
        ndo.ndo_select_queue = op!(HAS_SELECT_QUEUE, select_queue_callback);
        ndo.ndo_get_stats64 = op!(HAS_GET_STATS64, get_stats64_callback);
        ndo.ndo_change_mtu = op!(HAS_CHANGE_MTU, change_mtu_callback);
        ndo.ndo_set_mac_address = op!(HAS_SET_MAC_ADDRESS, set_mac_address_callback);
        ndo.ndo_set_rx_mode = op!(HAS_SET_RX_MODE, set_rx_mode_callback);
        ndo.ndo_vlan_rx_add_vid = op!(HAS_VLAN_RX_ADD_VID, vlan_rx_add_vid_callback);
        ndo.ndo_vlan_rx_kill_vid = op!(HAS_VLAN_RX_KILL_VID, vlan_rx_kill_vid_callback);
        ndo.ndo_validate_addr = Some(b::eth_validate_addr);
        ndo.ndo_features_check = Some(b::passthru_features_check);
        ethtool.get_drvinfo = Some(Adapter::<T>::get_drvinfo_callback);
        ethtool.get_link = Some(b::ethtool_op_get_link);
        ethtool.get_link_ksettings = op!(HAS_GET_LINK_KSETTINGS, get_link_ksettings_callback);
        // The ethtool core warns on a count of 0 (`WARN_ON_ONCE(!n_stats)`).
        assert!(!T::HAS_GET_ETHTOOL_STATS || T::STATS.len() > 0);
        ethtool.get_sset_count = op!(HAS_GET_ETHTOOL_STATS, get_sset_count_callback);
        ethtool.get_strings = op!(HAS_GET_ETHTOOL_STATS, get_strings_callback);
        ethtool.get_ethtool_stats = op!(HAS_GET_ETHTOOL_STATS, get_ethtool_stats_callback);
        Self {
            ndo: Opaque::new(ndo),
            ethtool: Opaque::new(ethtool),
            _type: PhantomData,
        }
    }

    pub(super) fn ndo(&self) -> *const b::net_device_ops {
        self.ndo.get()
    }

    pub(super) fn ethtool(&self) -> *const b::ethtool_ops {
        self.ethtool.get()
    }
}

type RxHandlerFn = unsafe extern "C" fn(*mut *mut b::sk_buff) -> b::rx_handler_result_t;

/// An rx handler and the master it was made for, to install on a slave with
/// [`NetDev::rx_handler_register`].
///
/// # Invariants
///
/// `func` expects `master` as its `rx_handler_data`, and nothing but
/// [`NetDev::rx_handler_register`] installs `func` with `master` as its data.
pub(crate) struct RxHandler<'a> {
    func: RxHandlerFn,
    master: &'a NetDev,
}

impl<'a> RxHandler<'a> {
    /// `T`'s [`MasterOps::handle_frame`], for `master`, with `standby`.
    pub(crate) fn new<T: MasterOps>(master: &'a Master<T>, standby: bool) -> Self {
        const { assert!(T::HAS_HANDLE_FRAME) };
        // INVARIANT: `handle_frame_callback::<T, _>` expects a `T` master.
        let func: RxHandlerFn = if standby {
            Adapter::<T>::handle_frame_callback::<true>
        } else {
            Adapter::<T>::handle_frame_callback::<false>
        };
        Self { func, master }
    }

    /// A C driver's handler, for `master`.
    ///
    /// # Safety
    ///
    /// `func` is a valid rx handler that expects `master` as its data, stays
    /// valid until it is unregistered, and is installed with `master` as its
    /// data only through [`NetDev::rx_handler_register`].
    pub(crate) unsafe fn from_raw(func: RxHandlerFn, master: &'a NetDev) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { func, master }
    }
}

/// An installed rx handler: the device it is on (only compared), the handler,
/// and the reference to its master (its data) that it keeps while installed.
struct Installed {
    slave: *mut b::net_device,
    func: RxHandlerFn,
    master: NetDevRef,
}

// SAFETY: `slave` is only compared, never dereferenced; the rest is a
// function pointer and a `NetDevRef`, which is `Send` and `Sync`.
unsafe impl Send for Installed {}
// SAFETY: As above.
unsafe impl Sync for Installed {}

/// The rx handlers installed by [`NetDev::rx_handler_register`], at most one
/// per device: their master references, with their trackers, live here (the
/// C handler's data is the bare master) until the handler is removed.
static INSTALLED: RtnlVec<Installed> = RtnlVec::new();

impl Installed {
    /// Whether this handler is still the one installed on its device.
    fn is_installed(&self, _: &Rtnl, slave: &NetDev) -> bool {
        // SAFETY: The device is valid and RTNL (held) protects both pointers
        // (`rtnl_dereference()`).
        let (func, data) = unsafe {
            (
                (*slave.as_raw()).rx_handler,
                (*slave.as_raw()).rx_handler_data,
            )
        };
        func.is_some_and(|f| ptr::fn_addr_eq(f, self.func)) && data == self.master.as_raw().cast()
    }

    /// `slave`'s entry in [`INSTALLED`].
    fn find(r: &Rtnl, slave: &NetDev) -> Option<Arc<Self>> {
        (0..)
            .map_while(|i| INSTALLED.get(r, i))
            .find(|e| ptr::eq(e.slave, slave.as_raw()))
    }

    /// Takes `slave`'s entry out of [`INSTALLED`].
    fn take(r: &Rtnl, slave: &NetDev) -> Option<Arc<Self>> {
        let e = Self::find(r, slave)?;
        INSTALLED.remove(r, &e);
        Some(e)
    }
}

impl NetDev {
    /// `netdev_rx_handler_register()`: installs `handler`, if there is one,
    /// with the master it was made for as its data. The handler keeps a
    /// tracked reference to the master until [`Self::rx_handler_unregister`].
    /// May sleep.
    pub(crate) fn rx_handler_register(&self, r: &Rtnl, handler: Option<RxHandler<'_>>) -> Result {
        might_sleep();
        let Some(handler) = handler else {
            return Ok(());
        };
        if let Some(old) = Installed::find(r, self) {
            if old.is_installed(r, self) {
                // Still installed: the C call would refuse with `EBUSY` too.
                return Err(EBUSY);
            }
            // Removed behind our back (its remover waited for readers): stale.
            INSTALLED.remove(r, &old);
        }
        let entry = Arc::new(
            Installed {
                slave: self.as_raw(),
                func: handler.func,
                master: handler.master.hold(),
            },
            GFP_KERNEL,
        )?;
        let data = entry.master.as_raw();
        INSTALLED.push(r, entry)?;
        // SAFETY: The device is valid and RTNL is held; `data` is what `func`
        // expects (an `RxHandler` invariant), kept alive by the reference in
        // `INSTALLED` until the handler is removed.
        let ret = unsafe {
            b::netdev_rx_handler_register(self.as_raw(), Some(handler.func), data.cast())
        };
        if ret != 0 {
            // Not installed: its reference goes.
            drop(Installed::take(r, self));
        }
        to_result(ret)
    }

    /// `netdev_rx_handler_unregister()`, if the installed handler is one that
    /// [`Self::rx_handler_register`] installed; drops the master reference it
    /// kept. Returns whether a handler was removed. May sleep.
    pub(crate) fn rx_handler_unregister(&self, r: &Rtnl) -> bool {
        might_sleep();
        let Some(entry) = Installed::take(r, self) else {
            return false;
        };
        if !entry.is_installed(r, self) {
            return false;
        }
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::netdev_rx_handler_unregister(self.as_raw()) };
        // `netdev_rx_handler_unregister()` waited for readers: `entry`, the
        // last user of the master reference, may go.
        drop(entry);
        true
    }
}

/// The C callbacks of `T`'s tables.
struct Adapter<T: MasterOps>(PhantomData<T>);

impl<T: MasterOps> Adapter<T> {
    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn open_callback(dev: *mut b::net_device) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master; `ndo_open`
            // runs under RTNL (`dev_open()`).
            let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
            T::open(m, &r)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn stop_callback(dev: *mut b::net_device) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master; `ndo_stop`
            // runs under RTNL (`dev_close()`).
            let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
            T::stop(m, &r)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn start_xmit_callback(
        skb: *mut b::sk_buff,
        dev: *mut b::net_device,
    ) -> b::netdev_tx_t {
        // SAFETY: `dev` has `T`'s ops, so it is a `T` master; the core hands
        // over a valid skb and calls `ndo_start_xmit` with BH off
        // (`__dev_queue_xmit()`'s `rcu_read_lock_bh()`, or netpoll's IRQs off).
        let (m, skb, rcu) = unsafe {
            (
                Master::<T>::from_raw(dev),
                SkBuff::from_raw(skb),
                Rcu::assume(),
            )
        };
        T::start_xmit(m, &rcu, skb).0
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn select_queue_callback(
        dev: *mut b::net_device,
        skb: *mut b::sk_buff,
        sb_dev: *mut b::net_device,
    ) -> u16 {
        // SAFETY: `dev` has `T`'s ops, so it is a `T` master; `skb` is a valid
        // skb not yet queued, and `sb_dev` null or a registered device, for
        // the duration of the call.
        let (m, skb, sb) = unsafe {
            (
                Master::<T>::from_raw(dev),
                SkBuffRef::from_raw(skb),
                (!sb_dev.is_null()).then(|| NetDev::from_raw(sb_dev)),
            )
        };
        // AF_PACKET's qdisc bypass calls this outside any RCU section.
        super::rcu_read(|rcu| T::select_queue(m, rcu, &skb, sb))
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn get_stats64_callback(
        dev: *mut b::net_device,
        out: *mut b::rtnl_link_stats64,
    ) {
        // SAFETY: `dev` has `T`'s ops, so it is a `T` master.
        let s = T::get_stats64(unsafe { Master::<T>::from_raw(dev) });
        // SAFETY: `out` is a valid `struct rtnl_link_stats64`, which is
        // `NSTATS` `u64` counters (checked at build time above).
        unsafe { out.cast::<Counters>().write(s) };
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn change_mtu_callback(dev: *mut b::net_device, mtu: i32) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master;
            // `ndo_change_mtu` runs under RTNL (`dev_set_mtu()`).
            let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
            T::change_mtu(m, &r, u32::try_from(mtu)?)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn set_mac_address_callback(dev: *mut b::net_device, sa: *mut c_void) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master;
            // `dev_set_mac_address()` calls `ndo_set_mac_address` under RTNL,
            // with a `struct sockaddr` of the device's type whose `sa_data`
            // starts with `dev->addr_len` initialised bytes (the rest may be
            // uninitialised). A master is an Ethernet device
            // (`NewMaster::alloc_etherdev_mq()`), so those are `ETH_ALEN`
            // bytes, and only they are read, by value.
            let (m, r, addr) = unsafe {
                let data = ptr::addr_of!((*sa.cast::<b::sockaddr>()).__bindgen_anon_1);
                let addr = data.cast::<[u8; 6]>().read();
                (Master::<T>::from_raw(dev), Rtnl::assume(), addr)
            };
            T::set_mac_address(m, &r, &addr)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn set_rx_mode_callback(dev: *mut b::net_device) {
        // SAFETY: `dev` has `T`'s ops, so it is a `T` master.
        let m = unsafe { Master::<T>::from_raw(dev) };
        // SAFETY: `__dev_set_rx_mode()` calls `ndo_set_rx_mode` with the
        // device's address lock held, for the duration of the call.
        let lock = unsafe { AddrLock::assume(m) };
        super::rcu_read(|rcu| T::set_rx_mode(m, &lock, rcu));
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn vlan_rx_add_vid_callback(
        dev: *mut b::net_device,
        proto: u16,
        vid: u16,
    ) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master;
            // `vlan_vid_add()` calls `ndo_vlan_rx_add_vid` under RTNL.
            let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
            T::vlan_rx_add_vid(m, &r, proto, vid)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the networking core, through `T`'s `net_device_ops`.
    unsafe extern "C" fn vlan_rx_kill_vid_callback(
        dev: *mut b::net_device,
        proto: u16,
        vid: u16,
    ) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master;
            // `vlan_vid_del()` calls `ndo_vlan_rx_kill_vid` under RTNL.
            let (m, r) = unsafe { (Master::<T>::from_raw(dev), Rtnl::assume()) };
            T::vlan_rx_kill_vid(m, &r, proto, vid)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the ethtool core, through `T`'s `ethtool_ops`.
    unsafe extern "C" fn get_drvinfo_callback(
        _dev: *mut b::net_device,
        info: *mut b::ethtool_drvinfo,
    ) {
        // SAFETY: The ethtool core passes a valid struct that only this
        // callback uses while it runs.
        fill_drvinfo(unsafe { &mut *info }, T::DRIVER, T::VERSION);
    }

    /// # Safety
    ///
    /// Only called by the ethtool core, through `T`'s `ethtool_ops`.
    unsafe extern "C" fn get_link_ksettings_callback(
        dev: *mut b::net_device,
        cmd: *mut b::ethtool_link_ksettings,
    ) -> i32 {
        from_result(|| {
            // SAFETY: `dev` has `T`'s ops, so it is a `T` master; the ethtool
            // core calls this under RTNL with a valid `cmd` that only this
            // callback uses while it runs.
            let (m, r, mut cmd) = unsafe {
                (
                    Master::<T>::from_raw(dev),
                    Rtnl::assume(),
                    LinkKsettings::from_raw(cmd),
                )
            };
            T::get_link_ksettings(m, &r, &mut cmd)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the ethtool core, through `T`'s `ethtool_ops`.
    unsafe extern "C" fn get_sset_count_callback(_dev: *mut b::net_device, sset: i32) -> i32 {
        if sset == b::ethtool_stringset_ETH_SS_STATS as i32 {
            // Fits (a `StatNames` invariant).
            T::STATS.len() as i32
        } else {
            -(b::EOPNOTSUPP as i32)
        }
    }

    /// # Safety
    ///
    /// Only called by the ethtool core, through `T`'s `ethtool_ops`.
    unsafe extern "C" fn get_strings_callback(_dev: *mut b::net_device, sset: u32, data: *mut u8) {
        if sset != b::ethtool_stringset_ETH_SS_STATS || data.is_null() {
            return;
        }
        // SAFETY: The ethtool core passes room for as many strings as
        // `get_sset_count` returned for `sset` (`__ethtool_get_strings()`
        // after `__ethtool_get_sset_count()`), which is `T::STATS.len()`, a
        // constant, and only this callback uses it while it runs; a string
        // is bytes, aligned as `u8`.
        let out =
            unsafe { core::slice::from_raw_parts_mut(data.cast::<GString>(), T::STATS.len()) };
        T::STATS.write(out);
    }

    /// # Safety
    ///
    /// Only called by the ethtool core, through `T`'s `ethtool_ops`.
    unsafe extern "C" fn get_ethtool_stats_callback(
        dev: *mut b::net_device,
        _stats: *mut b::ethtool_stats,
        data: *mut u64,
    ) {
        if data.is_null() {
            return;
        }
        // SAFETY: `dev` has `T`'s ops, so it is a `T` master; the ethtool
        // core passes room for as many values as `get_sset_count` returned
        // for `ETH_SS_STATS` (`ethtool_get_stats()`), which is
        // `T::STATS.len()`, a constant, and only this callback uses it while
        // it runs.
        let (m, data) = unsafe {
            (
                Master::<T>::from_raw(dev),
                core::slice::from_raw_parts_mut(data, T::STATS.len()),
            )
        };
        T::get_ethtool_stats(m, data);
    }

    /// # Safety
    ///
    /// Only called by the networking core, as the rx handler installed from
    /// an [`RxHandler::new::<T>`] with `STANDBY`.
    unsafe extern "C" fn handle_frame_callback<const STANDBY: bool>(
        pskb: *mut *mut b::sk_buff,
    ) -> b::rx_handler_result_t {
        // SAFETY: `__netif_receive_skb_core()` calls rx handlers in softirq
        // under `rcu_read_lock()`, with a valid skb received on a registered
        // device.
        let (skb, rcu) = unsafe { (*pskb, Rcu::assume()) };
        // SAFETY: As above: `skb->dev` is the registered slave.
        let from = unsafe { NetDev::from_raw(*skb_dev(skb)) };
        let data = read_once!(from, rx_handler_data);
        // SAFETY: This callback is installed only from `RxHandler::new::<T>`,
        // with a `T` master as its data and a reference (in `INSTALLED`) that
        // keeps the master alive until the handler is unregistered.
        let master = unsafe { Master::<T>::from_raw(data.cast()) };
        if !T::handle_frame(master, &rcu, from, STANDBY) {
            return b::rx_handler_result_RX_HANDLER_EXACT;
        }
        // SAFETY: The skb belongs to the receive path that called us.
        unsafe { *skb_dev(skb) = master.as_raw() };
        b::rx_handler_result_RX_HANDLER_ANOTHER
    }
}
