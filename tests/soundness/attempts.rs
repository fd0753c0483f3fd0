// SPDX-License-Identifier: GPL-2.0

//! Safe code outside `netdev/` that tries each way the abstraction could let
//! it reach undefined behaviour. Built into the module only by
//! `tests/soundness/run.sh`, with `--cfg nf_attempt="<name>"`: each attempt
//! must fail to compile with the error code the runner names, and its
//! `<name>_ok` control, the same code on the legal path, must compile. This
//! file has no `forbid(unsafe_code)`, so it is the type system that refuses
//! the attempts, not the lint.

#![allow(
    dead_code,
    unused_imports,
    unused_variables,
    unreachable_pub,
    missing_docs
)]
#![allow(clippy::all)]

use crate::master::{NetFailover, NetFailoverInfo};
use crate::netdev::{
    rcu_read, rtnl_lock, with_callers_rtnl, AddrLock, Counters, FailoverOps, Master, MasterOps,
    NetDev, NetDevRef, Rcu, ReadSide, Rtnl, RxHandler, SkBuff, Slot, TxResult, Unregistered,
    Vtables,
};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{prelude::*, types::Opaque};

// 1. A forged read-side proof: `Slot::get` with neither RTNL nor RCU held.
#[cfg(nf_attempt = "forge_readside")]
mod forge_readside {
    use super::*;
    pub struct Forged;
    impl ReadSide for Forged {}
    static FORGED: Forged = Forged;
    pub fn leak(nfo: &NetFailoverInfo) -> Option<&'static NetDev> {
        nfo.primary.get(&FORGED)
    }
}
#[cfg(nf_attempt = "forge_readside_ok")]
mod forge_readside_ok {
    use super::*;
    pub fn mtu(nfo: &NetFailoverInfo) -> Option<u32> {
        rcu_read(|rcu| nfo.primary.get(rcu).map(NetDev::mtu))
    }
}

// 1b. Any value as the proof.
#[cfg(nf_attempt = "any_proof")]
mod any_proof {
    use super::*;
    pub fn leak(slot: &Slot) -> Option<&'static NetDev> {
        slot.get(&0u8)
    }
}
#[cfg(nf_attempt = "any_proof_ok")]
mod any_proof_ok {
    use super::*;
    pub fn present(slot: &Slot) -> bool {
        slot.get(&*rtnl_lock()).is_some()
    }
}

// 1c. An RCU proof built as a struct literal.
#[cfg(nf_attempt = "rcu_literal")]
mod rcu_literal {
    use super::*;
    pub fn forge() -> Rcu {
        Rcu(PhantomData)
    }
}
#[cfg(nf_attempt = "rcu_literal_ok")]
mod rcu_literal_ok {
    use super::*;
    pub fn inside() -> bool {
        rcu_read(|_rcu: &Rcu| true)
    }
}

// 1d. An RTNL proof without RTNL, through `assume()` without `unsafe`.
#[cfg(nf_attempt = "rtnl_assume")]
mod rtnl_assume {
    use super::*;
    pub fn forge() -> Rtnl {
        Rtnl::assume()
    }
}
#[cfg(nf_attempt = "rtnl_assume_ok")]
mod rtnl_assume_ok {
    use super::*;
    pub fn held() -> bool {
        let _r = rtnl_lock();
        true
    }
}

// 1e. A device read under RCU, kept after the read-side section.
#[cfg(nf_attempt = "rcu_escape")]
mod rcu_escape {
    use super::*;
    pub fn escape(slot: &Slot) -> u32 {
        let mut out = None;
        rcu_read(|rcu| out = slot.get(rcu));
        out.map_or(0, NetDev::mtu)
    }
}
#[cfg(nf_attempt = "rcu_escape_ok")]
mod rcu_escape_ok {
    use super::*;
    pub fn escape(slot: &Slot) -> u32 {
        let mut out = None;
        rcu_read(|rcu| out = slot.get(rcu).map(NetDev::mtu));
        out.unwrap_or(0)
    }
}

// 1f. A device read under RTNL, kept after RTNL is released.
#[cfg(nf_attempt = "rtnl_escape")]
mod rtnl_escape {
    use super::*;
    pub fn escape(slot: &Slot) -> u32 {
        let dev = {
            let r = rtnl_lock();
            slot.get(&*r)
        };
        dev.map_or(0, NetDev::mtu)
    }
}
#[cfg(nf_attempt = "rtnl_escape_ok")]
mod rtnl_escape_ok {
    use super::*;
    pub fn escape(slot: &Slot) -> u32 {
        let mtu = {
            let r = rtnl_lock();
            slot.get(&*r).map(NetDev::mtu)
        };
        mtu.unwrap_or(0)
    }
}

// 1g. The RTNL proof sent to another thread.
#[cfg(nf_attempt = "rtnl_send")]
mod rtnl_send {
    use super::*;
    fn send<T: Send>(_: T) {}
    pub fn away(r: &Rtnl) {
        send(r)
    }
}
#[cfg(nf_attempt = "rtnl_send_ok")]
mod rtnl_send_ok {
    use super::*;
    fn send<T: Send>(_: T) {}
    pub fn away(slot: &Slot) {
        send(slot)
    }
}

// 1h. The name of a device, which RTNL writers change, read without RTNL.
#[cfg(nf_attempt = "name_unlocked")]
mod name_unlocked {
    use super::*;
    pub fn name(dev: &NetDev) -> &CStr {
        dev.name()
    }
}
#[cfg(nf_attempt = "name_unlocked_ok")]
mod name_unlocked_ok {
    use super::*;
    pub fn len(dev: &NetDev) -> usize {
        dev.name(&rtnl_lock()).len()
    }
}

/// A master type of an attempt, whose `vtables()` returns `$tables`.
macro_rules! master_type {
    ($name:ident, $tables:item, $ret:ident) => {
        mod $name {
            use super::*;
            pub struct Evil;
            #[vtable]
            impl MasterOps for Evil {
                type Priv = u8;
                const DRIVER: &'static CStr = kernel::c_str!("evil");
                const VERSION: &'static CStr = kernel::c_str!("0");
                fn vtables() -> &'static Vtables<Self> {
                    $tables & $ret
                }
                fn start_xmit(d: &Master<Self>, _: &Rcu, skb: SkBuff) -> TxResult {
                    skb.tx_drop(d)
                }
            }
        }
    };
}

// 2. A `MasterOps` that returns another type's tables: `NetFailover`'s
// callbacks would run on `Evil`'s one-byte private area.
#[cfg(nf_attempt = "other_vtables")]
master_type!(
    other_vtables,
    static OTHER: Vtables<NetFailover> = Vtables::new();,
    OTHER
);
#[cfg(nf_attempt = "other_vtables_ok")]
master_type!(
    other_vtables_ok,
    static OWN: Vtables<Evil> = Vtables::new();,
    OWN
);

// 2b. Tables from a constant, whose address need not be unique (a promoted
// constant may be merged with another): `Master::<T>::try_from` could then
// accept another type's master.
#[cfg(nf_attempt = "const_vtables")]
master_type!(
    const_vtables,
    const TABLES: Vtables<Evil> = Vtables::new();,
    TABLES
);
#[cfg(nf_attempt = "const_vtables_ok")]
master_type!(
    const_vtables_ok,
    static TABLES: Vtables<Evil> = Vtables::new();,
    TABLES
);

// 3. A `NetFailover` rx handler installed with a master of any type.
#[cfg(nf_attempt = "untyped_rx_handler")]
mod untyped_rx_handler {
    use super::*;
    pub fn handler(master: &NetDev) -> RxHandler<'_> {
        RxHandler::new::<NetFailover>(master, false)
    }
}
#[cfg(nf_attempt = "untyped_rx_handler_ok")]
mod untyped_rx_handler_ok {
    use super::*;
    pub fn handler(master: &NetDev) -> Option<RxHandler<'_>> {
        Master::<NetFailover>::try_from(master).map(|m| RxHandler::new(m, false))
    }
}

// 3b. A C driver's handler with any data, without `unsafe`.
#[cfg(nf_attempt = "raw_rx_handler")]
mod raw_rx_handler {
    use super::*;
    use crate::netdev::bindings as b;
    unsafe extern "C" fn h(_: *mut *mut b::sk_buff) -> b::rx_handler_result_t {
        b::rx_handler_result_RX_HANDLER_PASS
    }
    pub fn handler(any: &NetDev) -> RxHandler<'_> {
        RxHandler::from_raw(h, any)
    }
}
#[cfg(nf_attempt = "raw_rx_handler_ok")]
mod raw_rx_handler_ok {
    use super::*;
    pub fn handler(master: &Master<NetFailover>) -> RxHandler<'_> {
        RxHandler::new(master, true)
    }
}

// 4. The master's address lists synced without their lock.
#[cfg(nf_attempt = "unlocked_sync")]
mod unlocked_sync {
    use super::*;
    pub fn sync(slave: &NetDev, master: &NetDev) -> Result {
        slave.uc_sync_multiple(master)
    }
}
#[cfg(nf_attempt = "unlocked_sync_ok")]
mod unlocked_sync_ok {
    use super::*;
    pub fn sync(slave: &NetDev, master: &NetDev) -> Result {
        slave.uc_sync_multiple(&master.addr_lock_bh())
    }
}

// 4b. The address-lock proof forged.
#[cfg(nf_attempt = "forge_addr_lock")]
mod forge_addr_lock {
    use super::*;
    pub fn sync(slave: &NetDev, master: &NetDev) -> Result {
        slave.uc_sync_multiple(&AddrLock::assume(master))
    }
}
#[cfg(nf_attempt = "forge_addr_lock_ok")]
mod forge_addr_lock_ok {
    use super::*;
    pub fn sync(slave: &NetDev, master: &NetDev) -> Result {
        let lock = master.addr_lock_bh();
        slave.mc_sync_multiple(&lock)
    }
}

// 5. An skb used after it was handed to the stack.
#[cfg(nf_attempt = "skb_reuse")]
mod skb_reuse {
    use super::*;
    pub fn twice(skb: SkBuff, a: &NetDev, b: &NetDev) -> TxResult {
        let _ = skb.dev_queue_xmit(a);
        skb.dev_queue_xmit(b)
    }
}
#[cfg(nf_attempt = "skb_reuse_ok")]
mod skb_reuse_ok {
    use super::*;
    pub fn once(skb: SkBuff, a: &NetDev) -> TxResult {
        skb.dev_queue_xmit(a)
    }
}

// 6. A field only the device's own driver may write (`dev->mtu`, which a
// driver sizes its buffers by), written on a device that is not ours.
#[cfg(nf_attempt = "foreign_mtu_write")]
mod foreign_mtu_write {
    use super::*;
    pub fn grow(r: &Rtnl, dev: &NetDev) {
        dev.write_mtu(r, 9000)
    }
}
#[cfg(nf_attempt = "foreign_mtu_write_ok")]
mod foreign_mtu_write_ok {
    use super::*;
    pub fn grow(r: &Rtnl, dev: &Master<NetFailover>) {
        dev.write_mtu(r, 9000)
    }
}

// 7. A reference count taken on a device its driver is still setting up,
// which `free_netdev()` frees at once, whatever its count.
#[cfg(nf_attempt = "unregistered_refcount")]
mod unregistered_refcount {
    use super::*;
    pub fn keep(dev: &Unregistered) -> NetDevRef {
        dev.hold()
    }
}
#[cfg(nf_attempt = "unregistered_refcount_ok")]
mod unregistered_refcount_ok {
    use super::*;
    pub fn keep(dev: &NetDev) -> NetDevRef {
        dev.hold()
    }
}

// 8. A device read from a slot kept after the slot is gone (its reference
// may have been the last one).
#[cfg(nf_attempt = "slot_outlived")]
mod slot_outlived {
    use super::*;
    pub fn read(r: &Rtnl, slot: Slot) -> Option<&NetDev> {
        slot.get(r)
    }
}
#[cfg(nf_attempt = "slot_outlived_ok")]
mod slot_outlived_ok {
    use super::*;
    pub fn read(r: &Rtnl, slot: Slot) -> Option<u32> {
        slot.get(r).map(NetDev::mtu)
    }
}

// 9. A C driver's callbacks kept past the registration that lends them
// (`failover_unregister()` ends them; the driver's module may go away).
#[cfg(nf_attempt = "ops_outlived")]
mod ops_outlived {
    use super::*;
    pub fn keep<'a>(r: &'a Rtnl, slave: &NetDev) -> Option<&'a dyn FailoverOps> {
        let fo = crate::failover_core::owner(r, slave)?;
        fo.get(r).map(|(_, ops)| ops)
    }
}
#[cfg(nf_attempt = "ops_outlived_ok")]
mod ops_outlived_ok {
    use super::*;
    pub fn refuses(r: &Rtnl, slave: &NetDev) -> bool {
        let Some(fo) = crate::failover_core::owner(r, slave) else {
            return false;
        };
        fo.get(r)
            .is_some_and(|(m, ops)| ops.slave_pre_register(r, slave, &m).is_err())
    }
}

// 10. A tracked reference forged, without its `netdev_hold()`: its drop
// would put a reference nobody took.
#[cfg(nf_attempt = "forge_ref")]
mod forge_ref {
    use super::*;
    pub fn forge(dev: &NetDev) -> NetDevRef {
        NetDevRef {
            dev: NonNull::from(dev),
            tracker: Opaque::uninit(),
        }
    }
}
#[cfg(nf_attempt = "forge_ref_ok")]
mod forge_ref_ok {
    use super::*;
    pub fn take(dev: &NetDev) -> NetDevRef {
        dev.hold()
    }
}

// 10b. A device borrowed from a tracked reference, kept after the reference
// is dropped (it may have been the last one).
#[cfg(nf_attempt = "ref_outlived")]
mod ref_outlived {
    use super::*;
    pub fn read(dev: &NetDev) -> u32 {
        let d: &NetDev;
        {
            let r = dev.hold();
            d = &r;
        }
        d.mtu()
    }
}
#[cfg(nf_attempt = "ref_outlived_ok")]
mod ref_outlived_ok {
    use super::*;
    pub fn read(dev: &NetDev) -> u32 {
        let r = dev.hold();
        r.mtu()
    }
}

// 11. The RTNL proof of a C entry point's caller, without `unsafe`: without
// lockdep, RTNL held by another thread would pass for the caller's.
#[cfg(nf_attempt = "callers_rtnl")]
mod callers_rtnl {
    use super::*;
    pub fn run(slot: &Slot) -> bool {
        with_callers_rtnl("attempt", |r| slot.get(r).is_some())
    }
}
#[cfg(nf_attempt = "callers_rtnl_ok")]
mod callers_rtnl_ok {
    use super::*;
    pub fn run(slot: &Slot) -> bool {
        slot.get(&*rtnl_lock()).is_some()
    }
}

// 12. A slave-data writer over any skb, outside rtnetlink's fill_slave_info.
#[cfg(nf_attempt = "forge_slave_info")]
mod forge_slave_info {
    use super::*;
    use crate::netdev::SlaveInfo;
    pub fn write(skb: NonNull<crate::netdev::bindings::sk_buff>) -> Result {
        let mut info = SlaveInfo {
            skb,
            left: usize::MAX,
            _skb: PhantomData,
        };
        info.put_u8(1, 0)
    }
}
#[cfg(nf_attempt = "forge_slave_info_ok")]
mod forge_slave_info_ok {
    use super::*;
    use crate::netdev::SlaveInfo;
    pub fn write(info: &mut SlaveInfo<'_>) -> Result {
        info.put_u8(1, 0)
    }
}

// 13. A link-kind registration without rtnl_link_register(): its drop would
// unregister a table that was never registered.
#[cfg(nf_attempt = "forge_link_registration")]
mod forge_link_registration {
    use super::*;
    use crate::link_kind::FailoverKind;
    use crate::netdev::{LinkOps, LinkRegistration};
    static OPS: LinkOps<FailoverKind> = LinkOps::new();
    pub fn forge() -> LinkRegistration<FailoverKind> {
        LinkRegistration(&OPS)
    }
}
#[cfg(nf_attempt = "forge_link_registration_ok")]
mod forge_link_registration_ok {
    use super::*;
    use crate::link_kind::FailoverKind;
    use crate::netdev::{LinkOps, LinkRegistration};
    static OPS: LinkOps<FailoverKind> = LinkOps::new();
    pub fn register() -> Result<LinkRegistration<FailoverKind>> {
        OPS.register()
    }
}

// 14. A delayed work built without INIT_DELAYED_WORK() (or moved out of its
// pinned place): queueing it would hand the workqueue garbage.
#[cfg(nf_attempt = "unpinned_work")]
mod unpinned_work {
    use super::*;
    use crate::netdev::DelayedWork;
    pub fn forge(f: fn(&Master<NetFailover>, &Rtnl)) -> KBox<DelayedWork<NetFailover>> {
        let w = KBox::pin_init(DelayedWork::new(f), GFP_KERNEL).unwrap();
        KBox::new(*Pin::into_inner(w), GFP_KERNEL).unwrap()
    }
}
#[cfg(nf_attempt = "unpinned_work_ok")]
mod unpinned_work_ok {
    use super::*;
    use crate::netdev::DelayedWork;
    pub fn make(f: fn(&Master<NetFailover>, &Rtnl)) -> Result<Pin<KBox<DelayedWork<NetFailover>>>> {
        KBox::pin_init(DelayedWork::new(f), GFP_KERNEL)
    }
}
