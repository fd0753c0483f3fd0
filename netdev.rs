// SPDX-License-Identifier: GPL-2.0

//! Network device abstractions: what the failover code needs of
//! `linux/netdevice.h`, `net/failover.h` and their neighbours, shaped as
//! `rust/kernel/net/` would carry them.
//!
//! This folder and the crate root's C entry points are the only places with
//! `unsafe` code; the driver modules above it carry `#![forbid(unsafe_code)]`.
//! Nothing here names its users. One C object per file:
//!
//! - [`rtnl`]: the RTNL proof, its guard and RTNL-protected data;
//! - [`rcu`]: the RCU read-side proof and the sealed [`ReadSide`] trait;
//! - [`device`]: `struct net_device` ([`NetDev`], [`Unregistered`]), the
//!   tracked reference [`NetDevRef`] (`netdev_hold()`/`netdev_put()`) and the
//!   address-lock proof;
//! - [`slot`]: an RCU-published reference to a device;
//! - [`skbuff`]: `struct sk_buff` as owned by `ndo_start_xmit` or borrowed;
//! - [`ethtool`]: the ethtool structures the ops fill;
//! - [`ops`]: the `#[vtable]` [`MasterOps`] trait, its C tables and
//!   callbacks, and the rx handler, with the master references installed
//!   handlers keep;
//! - [`registration`]: a master netdev of a [`MasterOps`] type, from
//!   allocation to unregistration;
//! - [`notifier`]: the netdevice notifier;
//! - [`failover`]: `include/net/failover.h`: [`FailoverOps`] and a C
//!   driver's `struct failover_ops`;
//! - [`print`]: `netdev_err!` and `netdev_info!`.
//!
//! # What the types here do not catch
//!
//! A closure given to [`rcu_read`] must not sleep, and nothing in the type
//! system stops it from calling a function that does: the wrappers that may
//! sleep call `might_sleep()`, so a kernel with `CONFIG_DEBUG_ATOMIC_SLEEP`
//! reports such a call at run time. The same holds for sleeping with the
//! address lock held (a [`device::AddrLockGuard`]) and in the callbacks that
//! run in atomic context (`start_xmit`, `select_queue`, `get_stats64`,
//! `set_rx_mode`, `handle_frame`). Deadlocks (taking RTNL with RTNL held) are
//! not undefined behaviour and are left to lockdep.

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

pub(crate) mod device;
pub(crate) mod ethtool;
pub(crate) mod failover;
pub(crate) mod notifier;
pub(crate) mod ops;
pub(crate) mod print;
pub(crate) mod rcu;
pub(crate) mod registration;
pub(crate) mod rtnl;
pub(crate) mod skbuff;
pub(crate) mod slot;

pub(crate) use device::{AddrLock, NetDev, NetDevRef, Unregistered};
pub(crate) use ethtool::LinkKsettings;
pub(crate) use failover::{FailoverOps, RegisteredOps};
pub(crate) use notifier::{NetdevEvent, NetdevNotifier};
pub(crate) use ops::{Counters, MasterOps, RxHandler, Vtables, NSTATS};
pub(crate) use print::{dev_err, netdev_err, netdev_info};
pub(crate) use rcu::{rcu_read, Rcu, ReadSide};
pub(crate) use registration::{Master, NewMaster, PrivFlags, Registration};
pub(crate) use rtnl::{rtnl_lock, with_callers_rtnl, Rtnl, RtnlVec};
pub(crate) use skbuff::{SkBuff, SkBuffRef, TxResult};
pub(crate) use slot::Slot;

/// The kernel's feature masks the failover code computes with.
pub(crate) mod features {
    use super::bindings as b;
    /// `FAILOVER_VLAN_FEATURES`.
    pub(crate) const FAILOVER_VLAN: u64 = b::NF_VLAN_FEATURES;
    /// `FAILOVER_ENC_FEATURES`.
    pub(crate) const FAILOVER_ENC: u64 = b::NF_ENC_FEATURES;
    /// `NETIF_F_GSO_ENCAP_ALL`.
    pub(crate) const GSO_ENCAP_ALL: u64 = b::NF_GSO_ENCAP_ALL;
    /// `NETIF_F_ALL_FOR_ALL`.
    pub(crate) const ALL_FOR_ALL: u64 = b::NF_ALL_FOR_ALL;
    /// `NETIF_F_VLAN_CHALLENGED`.
    pub(crate) const VLAN_CHALLENGED: u64 = b::NF_VLAN_CHALLENGED;
    /// `NETIF_F_ONE_FOR_ALL`.
    pub(crate) const ONE_FOR_ALL: u64 = b::NF_ONE_FOR_ALL;
    /// `NETIF_F_CSUM_MASK`.
    pub(crate) const CSUM_MASK: u64 = b::NF_CSUM_MASK;
    /// `NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_CTAG_RX | NETIF_F_HW_VLAN_CTAG_FILTER`.
    pub(crate) const HW_VLAN_CTAG: u64 = b::NF_HW_VLAN_CTAG;
}

/// `might_sleep()`: with `CONFIG_DEBUG_ATOMIC_SLEEP`, reports a call from
/// atomic context (an RCU read side, a spinlock, BH off).
#[track_caller]
pub(crate) fn might_sleep() {
    // SAFETY: `might_sleep()` has no precondition; it only checks the context.
    unsafe { bindings::nf_might_sleep() };
}

/// `-EOPNOTSUPP`, which the 6.12 `kernel` crate does not declare.
pub(crate) fn eopnotsupp() -> kernel::error::Error {
    kernel::error::Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}
