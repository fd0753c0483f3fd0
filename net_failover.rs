// SPDX-License-Identifier: GPL-2.0

//! Failover master netdev (drivers/net/net_failover.c in Rust).
//!
//! `net_failover_create()` makes a master netdev for a paravirtual device
//! (virtio-net with `VIRTIO_NET_F_STANDBY`) and registers it with the failover
//! core; the core then enslaves the paravirtual device as the standby and a
//! PCI device with the same permanent MAC as the primary (`virtio_standby.rs`).
//! The master transmits on the primary whenever it is running with carrier,
//! else on the standby.
//!
//! Differences from the C driver (see Documentation/networking/net_failover_rs.rst):
//! the master's counters never go backwards when a slave leaves, the stats
//! lock is initialised, slave pointers are read with the lock that protects
//! them, and queues are not stopped on this queueless device when both slaves
//! are down (frames are dropped and counted instead).

mod failover_core;
mod netdev;
mod netvsc_glue;
pub mod policy;
mod virtio_standby;

use failover_core::Failover;
use kernel::{
    prelude::*,
    sync::{new_spinlock, Arc, SpinLock},
    types::ARef,
};
use netdev::{
    bindings::NF_MASTER_HW_FEATURES, create_master, destroy_master, rcu_read, vtables, Counters,
    LinkKsettings, Master, MasterOps, NetDev, Rcu, ReadSide, Rtnl, SkBuff, SkBuffRef, Slot,
    TxResult, Vtables, NSTATS,
};
use policy::{fold_queue, tx_path, Role, Stats};

module! {
    type: NetFailoverModule,
    name: "net_failover_rs",
    author: "The net_failover_rs authors",
    description: "Failover driver for Paravirtual drivers (Rust)",
    license: "GPL v2",
}

struct NetFailoverModule;

impl kernel::Module for NetFailoverModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        failover_core::init()?;
        Ok(Self)
    }
}

impl Drop for NetFailoverModule {
    fn drop(&mut self) {
        failover_core::exit();
    }
}

/// The failover master type.
pub(crate) struct NetFailover;

/// Private data of a failover master (`struct net_failover_info`).
#[pin_data]
pub(crate) struct NetFailoverInfo {
    /// The primary (VF), if enslaved.
    pub(crate) primary: Slot,
    /// The standby (paravirtual device), if enslaved.
    pub(crate) standby: Slot,
    /// The master's counters and each slave's last reading.
    #[pin]
    pub(crate) stats: SpinLock<Stats<NSTATS>>,
}

impl NetFailoverInfo {
    /// The slot of `role`.
    pub(crate) fn slot(&self, role: Role) -> &Slot {
        match role {
            Role::Primary => &self.primary,
            Role::Standby => &self.standby,
        }
    }

    /// The role `dev` is enslaved in, if it is a slave of this master.
    pub(crate) fn role_of(&self, dev: &NetDev) -> Option<Role> {
        [Role::Primary, Role::Standby]
            .into_iter()
            .find(|&r| self.slot(r).holds(dev))
    }

    /// The slave that transmits now (see [`tx_path`]).
    pub(crate) fn tx_slave<'a>(&self, rs: &'a impl ReadSide) -> Option<&'a NetDev> {
        let (p, s) = (self.primary.get(rs), self.standby.get(rs));
        match tx_path(p.map(NetDev::link), s.map(NetDev::link))? {
            Role::Primary => p,
            Role::Standby => s,
        }
    }

    /// The present slaves, primary first.
    pub(crate) fn slaves<'a>(&self, rs: &'a impl ReadSide) -> impl Iterator<Item = &'a NetDev> {
        [self.primary.get(rs), self.standby.get(rs)]
            .into_iter()
            .flatten()
    }
}

static VTABLES: Vtables = vtables::<NetFailover>();

impl MasterOps for NetFailover {
    type Priv = NetFailoverInfo;
    const DRIVER: &'static CStr = kernel::c_str!("net_failover");
    const VERSION: &'static CStr = kernel::c_str!("0.1");

    fn vtables() -> &'static Vtables {
        &VTABLES
    }

    fn open(dev: &Master<Self>, r: &Rtnl) -> Result {
        let nfo = dev.data();
        let (primary, standby) = (nfo.primary.get(r), nfo.standby.get(r));
        let opened = primary.map_or(Ok(()), |p| p.open(r)).and_then(|()| {
            standby.map_or(Ok(()), |s| s.open(r)).inspect_err(|_| {
                if let Some(p) = primary {
                    p.close(r);
                }
            })
        });
        if opened.is_err() {
            dev.tx_disable();
        } else if nfo.tx_slave(r).is_some() {
            dev.wake();
        }
        opened
    }

    fn stop(dev: &Master<Self>, r: &Rtnl) {
        dev.tx_disable();
        dev.data().slaves(r).for_each(|s| s.close(r));
    }

    fn start_xmit(dev: &Master<Self>, rcu: &Rcu, skb: SkBuff) -> TxResult {
        match dev.data().tx_slave(rcu) {
            Some(slave) => skb.xmit_via(slave),
            None => skb.drop_on(dev),
        }
    }

    fn select_queue(
        dev: &Master<Self>,
        rcu: &Rcu,
        skb: &SkBuffRef<'_>,
        sb: Option<&NetDev>,
    ) -> u16 {
        let txq = match dev.data().primary.get(rcu) {
            Some(p) => skb.pick_tx(p, sb),
            None => skb.rx_queue(),
        };
        skb.save_queue_mapping();
        fold_queue(txq, dev.real_num_tx_queues())
    }

    fn get_stats(dev: &Master<Self>) -> Counters {
        let nfo = dev.data();
        let mut stats = nfo.stats.lock();
        rcu_read(|rcu| {
            for role in [Role::Primary, Role::Standby] {
                if let Some(slave) = nfo.slot(role).get(rcu) {
                    stats.update(role, &slave.stats());
                }
            }
        });
        *stats.total()
    }

    fn change_mtu(dev: &Master<Self>, r: &Rtnl, mtu: u32) -> Result {
        let nfo = dev.data();
        let primary = nfo.primary.get(r);
        if let Some(p) = primary {
            p.set_mtu(r, mtu)?;
        }
        if let Some(s) = nfo.standby.get(r) {
            if let Err(e) = s.set_mtu(r, mtu) {
                if let Some(p) = primary {
                    let _ = p.set_mtu(r, dev.mtu());
                }
                return Err(e);
            }
        }
        dev.write_mtu(r, mtu);
        Ok(())
    }

    fn set_rx_mode(dev: &Master<Self>, rcu: &Rcu) {
        dev.data()
            .slaves(rcu)
            .for_each(|s| s.sync_addrs(dev, false));
    }

    fn vlan_add(dev: &Master<Self>, r: &Rtnl, proto: u16, vid: u16) -> Result {
        let nfo = dev.data();
        let primary = nfo.primary.get(r);
        if let Some(p) = primary {
            p.vid_add(r, proto, vid)?;
        }
        if let Some(s) = nfo.standby.get(r) {
            if let Err(e) = s.vid_add(r, proto, vid) {
                if let Some(p) = primary {
                    p.vid_del(r, proto, vid);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    fn vlan_kill(dev: &Master<Self>, r: &Rtnl, proto: u16, vid: u16) {
        dev.data().slaves(r).for_each(|s| s.vid_del(r, proto, vid));
    }

    fn link_ksettings(dev: &Master<Self>, r: &Rtnl, out: &mut LinkKsettings) -> Result {
        match dev.data().tx_slave(r) {
            Some(slave) => slave.link_ksettings(r, out),
            None => {
                out.set_unknown();
                Ok(())
            }
        }
    }

    fn rx_to_master(dev: &Master<Self>, rcu: &Rcu, from: &NetDev) -> bool {
        let nfo = dev.data();
        let role = if nfo.standby.holds(from) {
            Role::Standby
        } else {
            Role::Primary
        };
        let primary_ready = nfo.primary.get(rcu).is_some_and(|p| p.link().xmit_ready());
        policy::rx_to_master(role, primary_ready)
    }
}

/// `net_failover_create()`: creates and registers the master for `standby`.
pub(crate) fn create(standby: &NetDev) -> Result<Arc<Failover>> {
    let info = try_pin_init!(NetFailoverInfo {
        primary: Slot::new(),
        standby: Slot::new(),
        stats <- new_spinlock!(Stats::default(), "net_failover_info::stats"),
    }? Error);
    // Alloc at least 2 queues: 16, as C, since the VF's count is unknown yet.
    let master = create_master::<NetFailover>(standby, 16, NF_MASTER_HW_FEATURES, info)
        .inspect_err(|e| pr_err!("Unable to create failover_dev! (err {})\n", e.to_errno()))?;
    match failover_core::register(&master, &virtio_standby::OPS) {
        Ok(fo) => Ok(fo),
        Err(e) => {
            destroy_master::<NetFailover>(master, |_, _| ());
            Err(e)
        }
    }
}

/// `net_failover_destroy()`: releases the slaves, unregisters and frees the
/// master of `fo`.
pub(crate) fn destroy(fo: Arc<Failover>) {
    let Some(master) = rcu_read(|rcu| fo.master(rcu).map(ARef::from)) else {
        return;
    };
    destroy_master::<NetFailover>(master, |m, r| {
        for role in [Role::Primary, Role::Standby] {
            if let Some(slave) = m.data().slot(role).get(r) {
                failover_core::slave_unregister(r, slave);
            }
        }
        failover_core::unregister(r, &fo);
    });
}
