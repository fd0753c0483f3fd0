// SPDX-License-Identifier: GPL-2.0

//! `struct rtnl_link_ops` (`net/rtnetlink.h`) for devices a driver registers
//! itself, as bonding does for the devices it creates without netlink: the
//! ops only describe such a device (`IFLA_INFO_KIND`) and its slaves
//! (`IFLA_INFO_SLAVE_KIND`, `IFLA_INFO_SLAVE_DATA`) to rtnetlink. They create
//! nothing: `ip link add type KIND` is refused with [`LinkKind::REFUSAL`] (the
//! table has `validate` and neither `alloc` nor `setup`, so rtnetlink never
//! allocates a device for it), and `dellink` (which the table must have:
//! `rtnl_link_unregister()` calls it on every device that still uses the
//! ops, without a NULL check) is [`LinkKind::dellink`], which queues nothing.
//!
//! A device whose `dellink` does not unregister it must never be in a
//! namespace that exits (the namespace's cleanup calls `dellink` and then
//! frees the namespace under it), so [`NewMaster::set_link_ops`] devices are
//! registered only in the initial namespace and only when they cannot move
//! (`netns_immutable`), and [`Registration`] clears the ops before it
//! unregisters the device.
//!
//! [`NewMaster::set_link_ops`]: super::NewMaster::set_link_ops
//! [`Registration`]: super::Registration

use super::{bindings as b, might_sleep, NetDev, Rtnl};
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{error::to_result, ffi, prelude::*, types::Opaque};

/// The description of a kind of link a driver registers itself.
pub(crate) trait LinkKind: Sized + 'static {
    /// `IFLA_INFO_KIND` of the devices and `IFLA_INFO_SLAVE_KIND` of their
    /// slaves.
    const KIND: &'static CStr;
    /// The extended ack message of a refused `ip link add` (or `set`) with
    /// this kind (`-EOPNOTSUPP`).
    const REFUSAL: &'static CStr;
    /// How many attributes [`LinkKind::fill_slave_info`] puts at most: what
    /// `get_slave_size` reports.
    const SLAVE_ATTRS: usize;

    /// Fills a slave's `IFLA_INFO_SLAVE_DATA` nest. Called under RTNL for
    /// every dump and notification of `slave`, whose master is `master`.
    fn fill_slave_info(
        r: &Rtnl,
        master: &NetDev,
        slave: &NetDev,
        info: &mut SlaveInfo<'_>,
    ) -> Result;

    /// `ip link del` of a device of this kind, or `rtnl_link_unregister()`
    /// meeting one. The device stays registered: `dellink` cannot refuse,
    /// and the request then succeeds.
    fn dellink(r: &Rtnl, dev: &NetDev);
}

/// The size of an `u8` netlink attribute (`nla_total_size(1)`).
const NLA_TOTAL_SIZE_U8: usize = (core::mem::size_of::<b::nlattr>() + 1 + 3) & !3;

/// A slave's `IFLA_INFO_SLAVE_DATA` nest being filled.
///
/// # Invariants
///
/// `skb` is the netlink message rtnetlink's `fill_slave_info` call fills, with
/// the nest open, writable for `'a`; `left` more attributes may be put.
pub(crate) struct SlaveInfo<'a> {
    skb: NonNull<b::sk_buff>,
    left: usize,
    _skb: PhantomData<&'a mut b::sk_buff>,
}

impl SlaveInfo<'_> {
    /// `nla_put_u8(skb, attr, value)`; `EMSGSIZE` beyond
    /// [`LinkKind::SLAVE_ATTRS`] attributes or the message's room.
    pub(crate) fn put_u8(&mut self, attr: u16, value: u8) -> Result {
        self.left = self.left.checked_sub(1).ok_or_else(emsgsize)?;
        let data: *const u8 = &value;
        // SAFETY: `skb` is the message being filled (type invariant);
        // `nla_put()` checks its room and copies one byte from `data`.
        to_result(unsafe { b::nla_put(self.skb.as_ptr(), attr.into(), 1, data.cast()) })
    }
}

fn emsgsize() -> Error {
    Error::from_errno(-(b::EMSGSIZE as i32))
}

/// The `rtnl_link_ops` table of the links of kind `T`.
///
/// Only [`LinkOps::new`] makes one; like [`super::Vtables`], it is a `static`
/// (an interior-mutable C object: `rtnl_link_register()` links it in a list).
pub(crate) struct LinkOps<T: LinkKind> {
    ops: Opaque<b::rtnl_link_ops>,
    registered: AtomicBool,
    _type: PhantomData<fn() -> T>,
}

// SAFETY: The table is written by `new()` and, under RTNL, by
// `rtnl_link_register()`/`rtnl_link_unregister()` (its list links); the
// flag is atomic.
unsafe impl<T: LinkKind> Sync for LinkOps<T> {}

impl<T: LinkKind> LinkOps<T> {
    /// The table of `T`, for a `static`.
    pub(crate) const fn new() -> Self {
        // SAFETY: All-zero is a valid `rtnl_link_ops` (no callbacks, no
        // attributes).
        let mut ops: b::rtnl_link_ops = unsafe { core::mem::zeroed() };
        ops.kind = T::KIND.as_char_ptr();
        ops.validate = Some(Self::validate_callback);
        ops.dellink = Some(Self::dellink_callback);
        ops.get_slave_size = Some(Self::get_slave_size_callback);
        ops.fill_slave_info = Some(Self::fill_slave_info_callback);
        Self {
            ops: Opaque::new(ops),
            registered: AtomicBool::new(false),
            _type: PhantomData,
        }
    }

    /// `rtnl_link_register()`: makes the kind known to rtnetlink until the
    /// registration is dropped. May sleep; takes RTNL.
    #[track_caller]
    pub(crate) fn register(&'static self) -> Result<LinkRegistration<T>> {
        might_sleep();
        // SAFETY: The table is `'static` and complete; `rtnl_link_register()`
        // takes RTNL and refuses a kind that is registered already (this
        // table included), so the table is in its list at most once.
        to_result(unsafe { b::rtnl_link_register(self.ops.get()) })?;
        self.registered.store(true, Ordering::Release);
        // INVARIANT: Registered above.
        Ok(LinkRegistration(self))
    }

    /// Whether the table is registered (a [`LinkRegistration`] of it exists).
    pub(crate) fn is_registered(&self) -> bool {
        self.registered.load(Ordering::Acquire)
    }

    pub(super) fn as_raw(&'static self) -> *const b::rtnl_link_ops {
        self.ops.get()
    }

    /// `validate`: refuses every request that names this kind.
    unsafe extern "C" fn validate_callback(
        _tb: *mut *mut b::nlattr,
        _data: *mut *mut b::nlattr,
        extack: *mut b::netlink_ext_ack,
    ) -> ffi::c_int {
        // SAFETY: `extack` is NULL or the request's ack, which rtnetlink
        // passes; the message is `'static`.
        unsafe { b::nf_nl_set_err_msg(extack, T::REFUSAL.as_char_ptr()) };
        super::eopnotsupp().to_errno()
    }

    /// `dellink`: queues nothing on `_head`.
    unsafe extern "C" fn dellink_callback(dev: *mut b::net_device, _head: *mut b::list_head) {
        // SAFETY: rtnetlink calls `dellink` with a registered device of this
        // kind, under RTNL (`rtnl_delete_link()`, `__rtnl_kill_links()` and
        // the namespace cleanup all hold it).
        let (dev, r) = unsafe { (NetDev::from_raw(dev), Rtnl::assume()) };
        T::dellink(&r, dev);
    }

    /// `get_slave_size`: room for [`LinkKind::SLAVE_ATTRS`] `u8` attributes.
    unsafe extern "C" fn get_slave_size_callback(
        _dev: *const b::net_device,
        _slave: *const b::net_device,
    ) -> usize {
        T::SLAVE_ATTRS * NLA_TOTAL_SIZE_U8
    }

    /// `fill_slave_info`: [`LinkKind::fill_slave_info`].
    unsafe extern "C" fn fill_slave_info_callback(
        skb: *mut b::sk_buff,
        dev: *const b::net_device,
        slave: *const b::net_device,
    ) -> ffi::c_int {
        // SAFETY: rtnetlink (`rtnl_link_slave_info_fill()`) calls it with the
        // message it fills, the nest open, and `slave`'s master `dev` (whose
        // ops are these), both registered, under RTNL: it has just read the
        // master with `netdev_master_upper_dev_get()`, which asserts RTNL.
        let (dev, slave, r) = unsafe {
            (
                NetDev::from_raw(dev),
                NetDev::from_raw(slave),
                Rtnl::assume(),
            )
        };
        let Some(skb) = NonNull::new(skb) else {
            return emsgsize().to_errno();
        };
        // INVARIANT: The message of this call, for its duration.
        let mut info = SlaveInfo {
            skb,
            left: T::SLAVE_ATTRS,
            _skb: PhantomData,
        };
        match T::fill_slave_info(&r, dev, slave, &mut info) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }
}

/// A registered link kind: `rtnl_link_unregister()` on drop, which calls
/// [`LinkKind::dellink`] on every device that still uses the ops.
///
/// # Invariants
///
/// The table is registered with rtnetlink.
pub(crate) struct LinkRegistration<T: LinkKind>(&'static LinkOps<T>);

impl<T: LinkKind> Drop for LinkRegistration<T> {
    fn drop(&mut self) {
        might_sleep();
        self.0.registered.store(false, Ordering::Release);
        // SAFETY: Registered (type invariant), once; `rtnl_link_unregister()`
        // takes RTNL, and the table's `dellink` is set.
        unsafe { b::rtnl_link_unregister(self.0.ops.get()) };
    }
}

/// Whether the module parameter `link_kind` is set (declared in C: the 6.12
/// `kernel` crate has no module parameters).
pub(crate) fn param_link_kind() -> bool {
    // SAFETY: Reads a `bool` that only module loading writes.
    unsafe { b::nf_param_link_kind() }
}
