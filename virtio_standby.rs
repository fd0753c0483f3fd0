// SPDX-License-Identifier: GPL-2.0

//! The 3-netdev STANDBY model used by virtio-net: the failover ops of a
//! [`NetFailover`] master. The device sharing the master's parent (the
//! virtio device) is the standby; a PCI device with the same permanent MAC
//! is the primary. Slaves take the master's MTU, addresses and VLANs.

use crate::{
    failover_core::FailoverOps,
    netdev::{rx_handler, Master, NetDev, Rtnl, RxHandler},
    policy::{self, classify, master_features, mtu_range, Refusal, Role},
    NetFailover, NetFailoverInfo,
};
use kernel::{prelude::*, types::ARef};

/// The ops of every [`NetFailover`] master.
pub(crate) static OPS: StandbyModel = StandbyModel;

/// See the module documentation.
pub(crate) struct StandbyModel;

fn master(dev: &NetDev) -> Result<&Master<NetFailover>> {
    Master::try_from(dev).ok_or(ENODEV)
}

/// Reports `slave`'s lower state (`NETDEV_CHANGELOWERSTATE`).
fn lower_state_changed(r: &Rtnl, nfo: &NetFailoverInfo, slave: &NetDev, role: Role) {
    let primary_running = nfo.primary.get(r).is_some_and(|p| p.link().running);
    slave.lower_state_changed(r, policy::lower_state(role, slave.link(), primary_running));
}

/// The master's MTU range follows the primary while there is one.
fn update_mtu_range(r: &Rtnl, m: &Master<NetFailover>) {
    let (p, s) = (m.data().primary.get(r), m.data().standby.get(r));
    if let Some(range) = mtu_range(p.map(NetDev::mtu_range), s.map(NetDev::mtu_range)) {
        m.set_mtu_range(r, range);
    }
}

fn compute_features(r: &Rtnl, m: &Master<NetFailover>) {
    let slaves = [m.data().primary.get(r), m.data().standby.get(r)];
    let f = slaves.map(|s| s.map(NetDev::slave_features));
    m.apply_features(r, master_features(f.iter().flatten()));
}

impl StandbyModel {
    fn role(&self, r: &Rtnl, slave: &NetDev, m: &Master<NetFailover>) -> Result<Role> {
        let nfo = m.data();
        let (p, s) = (nfo.primary.get(r).is_some(), nfo.standby.get(r).is_some());
        classify(slave.candidate(m), p, s, m.uses_vlans(r)).map_err(|why| {
            let name = slave.name();
            match why {
                Refusal::Occupied(role) => m.err(format_args!(
                    "{name} attempting to register as slave dev when {} already present",
                    role.name()
                )),
                Refusal::NotPci => m.err(format_args!(
                    "{name} is not a PCI device, not enslaved as primary"
                )),
                Refusal::VlanChallenged => m.err(format_args!(
                    "Device {name} is VLAN challenged and failover device has VLAN set up"
                )),
            }
            EINVAL
        })
    }
}

impl FailoverOps for StandbyModel {
    fn pre_register(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        self.role(r, slave, master(dev)?).map(|_| ())
    }

    fn register(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        let m = master(dev)?;
        let nfo = m.data();
        let role = self.role(r, slave, m)?;
        let orig_mtu = slave.mtu();
        slave.set_mtu(r, m.mtu()).inspect_err(|_| {
            let (name, mtu) = (slave.name(), m.mtu());
            m.err(format_args!(
                "unable to change mtu of {name} to {mtu} register failed"
            ));
        })?;
        let undo_mtu = || {
            let _ = slave.set_mtu(r, orig_mtu);
        };
        if m.link().running {
            // -EBUSY: enslaved closed, opened again on its next rename.
            if let Err(e) = slave
                .open(r)
                .or_else(|e| if e == EBUSY { Ok(()) } else { Err(e) })
            {
                let (name, err) = (slave.name(), e.to_errno());
                m.err(format_args!("Opening slave {name} failed err:{err}"));
                undo_mtu();
                return Err(e);
            }
        }
        slave.sync_addrs(m, true);
        if let Err(e) = slave.vids_add_from(r, m) {
            let (name, err) = (slave.name(), e.to_errno());
            m.err(format_args!(
                "Failed to add vlan ids to device {name} err:{err}"
            ));
            slave.unsync_addrs(r, m);
            slave.close(r);
            undo_mtu();
            return Err(e);
        }
        let now = slave.stats();
        nfo.stats.lock().join(role, &now);
        nfo.slot(role).replace(r, Some(ARef::from(slave)));
        update_mtu_range(r, m);
        lower_state_changed(r, nfo, slave, role);
        compute_features(r, m);
        slave.notify_join(r);
        m.info(format_args!(
            "failover {} slave:{} registered",
            role.name(),
            slave.name()
        ));
        Ok(())
    }

    fn pre_unregister(&self, _r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        master(dev)?.data().role_of(slave).map(|_| ()).ok_or(ENODEV)
    }

    fn unregister(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        let m = master(dev)?;
        let nfo = m.data();
        let role = nfo.role_of(slave).ok_or(ENODEV)?;
        slave.vids_del_from(r, m);
        slave.unsync_addrs(r, m);
        slave.close(r);
        // Keep what the slave counted up to now in the master's totals.
        let now = slave.stats();
        let old = {
            let mut stats = nfo.stats.lock();
            stats.update(role, &now);
            nfo.slot(role).replace(r, None)
        };
        update_mtu_range(r, m);
        drop(old);
        compute_features(r, m);
        m.info(format_args!(
            "failover {} slave:{} unregistered",
            role.name(),
            slave.name()
        ));
        Ok(())
    }

    fn link_change(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) {
        let Ok(m) = master(dev) else { return };
        let nfo = m.data();
        let Some(role) = nfo.role_of(slave) else {
            return;
        };
        if nfo.tx_slave(r).is_some() {
            m.wake();
        } else {
            // No queue stop on this queueless device: frames are dropped and
            // counted in start_xmit instead of "asks to queue packet!".
            m.carrier_off(r);
        }
        lower_state_changed(r, nfo, slave, role);
    }

    fn name_change(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) {
        // Brings up a slave whose open hit -EBUSY at registration (the
        // rename by udev comes after).
        if master(dev).is_ok_and(|m| m.data().role_of(slave).is_some()) {
            let _ = slave.open(r);
        }
    }

    fn rx_handler(&self) -> Option<RxHandler> {
        Some(rx_handler::<NetFailover>())
    }
}
