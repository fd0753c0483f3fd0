// SPDX-License-Identifier: GPL-2.0

//! The failover master netdev (the `net_device_ops` and `ethtool_ops` of
//! drivers/net/net_failover.c): it transmits on the primary whenever it is
//! running with carrier, else on the standby, and counts what both did, per
//! role, and the switches of its TX path (`ethtool -S`).

#![forbid(unsafe_code)]

use crate::netdev::{
    eopnotsupp, netdev_err, rcu_read, AddrLock, Counters, LinkKsettings, Master, MasterOps, NetDev,
    Rcu, ReadSide, Rtnl, SkBuff, SkBuffRef, Slot, StatNames, TxResult, Vtables, NSTATS,
};
use crate::path_stats::{self, path_events};
use crate::policy::{self, fold_queue, tx_path, Link, Role, Stats};
use kernel::{prelude::*, sync::SpinLock};

/// The failover master type.
pub(crate) struct NetFailover;

/// Private data of a failover master (`struct net_failover_info`).
#[pin_data]
pub(crate) struct NetFailoverInfo {
    /// The primary (VF), if enslaved.
    pub(crate) primary: Slot,
    /// The standby (paravirtual device), if enslaved.
    pub(crate) standby: Slot,
    /// The master's counters per role, each slave's last reading, and the
    /// TX path as last recorded under RTNL.
    #[pin]
    pub(crate) stats: SpinLock<Stats<NSTATS>>,
    /// The deferred open of a new primary (opt-in, see [`crate::open_delay`]).
    #[pin]
    pub(crate) open_delay: crate::open_delay::OpenDelay,
}

/// How the policy sees a device's link.
pub(crate) fn link(dev: &NetDev) -> Link {
    let (running, carrier) = dev.running_and_carrier();
    Link { running, carrier }
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
    pub(crate) fn tx_slave<'a>(&'a self, rs: &'a impl ReadSide) -> Option<&'a NetDev> {
        let (p, s) = (self.primary.get(rs), self.standby.get(rs));
        match tx_path(p.map(link), s.map(link))? {
            Role::Primary => p,
            Role::Standby => s,
        }
    }

    /// `f` on the primary, then on the standby; if the standby's fails,
    /// `undo` on the primary.
    fn on_both(&self, r: &Rtnl, f: impl Fn(&NetDev) -> Result, undo: impl Fn(&NetDev)) -> Result {
        let primary = self.primary.get(r);
        primary.map_or(Ok(()), &f)?;
        let res = self.standby.get(r).map_or(Ok(()), f);
        res.inspect_err(|_| primary.into_iter().for_each(undo))
    }

    /// The present slaves, primary first.
    pub(crate) fn slaves<'a>(&'a self, rs: &'a impl ReadSide) -> impl Iterator<Item = &'a NetDev> {
        [self.primary.get(rs), self.standby.get(rs)]
            .into_iter()
            .flatten()
    }
}

/// Carrier on and the queues woken, once a slave can transmit.
pub(crate) fn wake(dev: &Master<NetFailover>) {
    dev.carrier_on();
    dev.tx_wake_all_queues();
}

#[vtable]
impl MasterOps for NetFailover {
    type Priv = NetFailoverInfo;
    const DRIVER: &'static CStr = kernel::c_str!("net_failover");
    const VERSION: &'static CStr = kernel::c_str!("0.1");
    const STATS: StatNames = path_stats::NAMES;

    fn vtables() -> &'static Vtables<Self> {
        static VTABLES: Vtables<NetFailover> = Vtables::new();
        &VTABLES
    }

    fn open(dev: &Master<Self>, r: &Rtnl) -> Result {
        let nfo = dev.data();
        let opened = nfo.on_both(r, |s| s.open(r), |p| p.close(r));
        if opened.is_err() {
            dev.tx_disable();
        } else if nfo.tx_slave(r).is_some() {
            wake(dev);
        }
        path_events(dev, r, false);
        opened
    }

    fn stop(dev: &Master<Self>, r: &Rtnl) -> Result {
        dev.tx_disable();
        dev.data().slaves(r).for_each(|s| s.close(r));
        path_events(dev, r, false);
        Ok(())
    }

    fn start_xmit(dev: &Master<Self>, rcu: &Rcu, skb: SkBuff) -> TxResult {
        match dev.data().tx_slave(rcu) {
            Some(slave) => skb.dev_queue_xmit(slave),
            None => skb.tx_drop(dev),
        }
    }

    fn select_queue(
        dev: &Master<Self>,
        rcu: &Rcu,
        skb: &SkBuffRef<'_>,
        sb: Option<&NetDev>,
    ) -> u16 {
        let txq = match dev.data().primary.get(rcu) {
            // A single-queue primary sends on queue 0 whatever it is asked
            // (`netdev_core_pick_tx()` asks no one then): no flow hash to compute.
            Some(p) if p.real_num_tx_queues() == 1 => 0,
            Some(p) => skb.pick_tx(p, sb),
            None => skb.rx_queue(),
        };
        skb.save_queue_mapping();
        fold_queue(txq, dev.real_num_tx_queues())
    }

    fn get_stats64(dev: &Master<Self>) -> Counters {
        let nfo = dev.data();
        let mut stats = nfo.stats.lock();
        rcu_read(|rcu| {
            for role in [Role::Primary, Role::Standby] {
                if let Some(slave) = nfo.slot(role).get(rcu) {
                    stats.update(role, &slave.get_stats());
                }
            }
        });
        *stats.total()
    }

    fn get_ethtool_stats(dev: &Master<Self>, data: &mut [u64]) {
        path_stats::get_ethtool_stats(dev, data)
    }

    fn change_mtu(dev: &Master<Self>, r: &Rtnl, mtu: u32) -> Result {
        let old = dev.mtu();
        let undo = |p: &NetDev| _ = p.set_mtu(r, old);
        dev.data().on_both(r, |s| s.set_mtu(r, mtu), undo)?;
        dev.write_mtu(r, mtu);
        Ok(())
    }

    /// The master's MAC is its slaves' permanent one: changes are refused.
    fn set_mac_address(dev: &Master<Self>, _r: &Rtnl, _addr: &[u8; 6]) -> Result {
        netdev_err!(
            dev,
            "failover master: MAC address change not supported (-EOPNOTSUPP)"
        );
        Err(eopnotsupp())
    }

    fn set_rx_mode(dev: &Master<Self>, lock: &AddrLock<'_>, rcu: &Rcu) {
        dev.data()
            .slaves(rcu)
            .for_each(|s| s.addrs_sync_multiple(lock));
    }

    fn vlan_rx_add_vid(dev: &Master<Self>, r: &Rtnl, proto: u16, vid: u16) -> Result {
        let undo = |p: &NetDev| p.vlan_vid_del(r, proto, vid);
        dev.data()
            .on_both(r, |s| s.vlan_vid_add(r, proto, vid), undo)
    }

    fn vlan_rx_kill_vid(dev: &Master<Self>, r: &Rtnl, proto: u16, vid: u16) -> Result {
        dev.data()
            .slaves(r)
            .for_each(|s| s.vlan_vid_del(r, proto, vid));
        Ok(())
    }

    fn get_link_ksettings(dev: &Master<Self>, r: &Rtnl, cmd: &mut LinkKsettings<'_>) -> Result {
        match dev.data().tx_slave(r) {
            Some(slave) => slave.get_link_ksettings(r, cmd),
            None => {
                cmd.set_unknown();
                Ok(())
            }
        }
    }

    fn handle_frame(dev: &Master<Self>, rcu: &Rcu, _from: &NetDev, standby: bool) -> bool {
        // The primary's frames always go up: its state is read for the standby's only.
        if !standby {
            return policy::rx_to_master(Role::Primary, false);
        }
        let primary = dev.data().primary.get(rcu);
        policy::rx_to_master(Role::Standby, primary.is_some_and(|p| link(p).xmit_ready()))
    }
}
