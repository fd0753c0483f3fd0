// SPDX-License-Identifier: GPL-2.0

//! The 3-netdev STANDBY model used by virtio-net (drivers/net/net_failover.c
//! without its netdev ops): `net_failover_create()` makes a [`NetFailover`]
//! master for the paravirtual device and registers it with the failover core,
//! whose callbacks here enslave the device sharing the master's parent (the
//! virtio device) as the standby and a PCI device with the same permanent MAC
//! as the primary. Slaves take the master's MTU, addresses and VLANs.

#![forbid(unsafe_code)]

use crate::{
    failover_core::{self, Failover},
    master::{link, wake, NetFailover, NetFailoverInfo},
    netdev::{
        dev_err, features as f, netdev_err, netdev_info, FailoverOps, Master, NetDev, NewMaster,
        PrivFlags, RegisteredOps, Registration, Rtnl, SlaveRxHandler, Slot, Unregistered,
    },
    path_stats::path_events,
    policy::{
        self, classify, features as pf, master_features, mtu_range, Candidate, Refusal, Role,
    },
    policy::{SlaveFeatures, Stats},
};
use kernel::{new_spinlock, prelude::*, sync::Arc};

// The policy's feature bits are the kernel's.
const _: () = assert!(pf::FAILOVER_VLAN == f::FAILOVER_VLAN && pf::FAILOVER_ENC == f::FAILOVER_ENC);
const _: () = assert!(pf::GSO_ENCAP_ALL == f::GSO_ENCAP_ALL && pf::ALL_FOR_ALL == f::ALL_FOR_ALL);
const _: () =
    assert!(pf::VLAN_CHALLENGED == f::VLAN_CHALLENGED && pf::ONE_FOR_ALL == f::ONE_FOR_ALL);
const _: () = assert!(pf::CSUM_MASK == f::CSUM_MASK);

/// A failover group of this model, what `net_failover_create()` returns as a
/// `struct failover *`: dropping it is `net_failover_destroy()`.
pub(crate) struct NetFailoverGroup {
    failover: Arc<Failover>,
    master: Option<Registration<NetFailover>>,
}

/// `net_failover_create()`: creates and registers the master for `standby`.
pub(crate) fn create(standby: &Unregistered) -> Result<KBox<NetFailoverGroup>> {
    let log = |msg: &str| {
        if let Some(dev) = standby.parent() {
            dev_err!(dev, "{msg}");
        }
    };
    let info = try_pin_init!(NetFailoverInfo {
        primary: Slot::new(),
        standby: Slot::new(),
        stats <- new_spinlock!(Stats::default(), "net_failover_info::stats"),
        open_delay <- crate::open_delay::new(),
    }? Error);
    // Alloc at least 2 queues, for now we are going with 16 assuming that VF
    // devices being enslaved won't have too many queues.
    let mut dev = NewMaster::<NetFailover>::alloc_etherdev_mq(info, 16)
        .inspect_err(|_| log("Unable to allocate failover_netdev!"))?;
    dev.dev_net_set(standby);
    dev.set_netdev_dev(standby);
    dev.priv_flags_set(PrivFlags::UNICAST_FLT | PrivFlags::NO_QUEUE);
    dev.priv_flags_clear(PrivFlags::XMIT_DST_RELEASE | PrivFlags::TX_SKB_SHARING);
    // Don't acquire the failover netdev's netif_tx_lock when transmitting.
    dev.set_lltx();
    // Don't allow failover devices to change network namespaces.
    dev.set_netns_immutable();
    dev.set_hw_features(f::FAILOVER_VLAN | f::HW_VLAN_CTAG | f::GSO_ENCAP_ALL);
    dev.dev_addr_set(standby);
    dev.set_mtu_range(standby);
    crate::link_kind::attach(&mut dev);
    let master = dev
        .register_netdev()
        .inspect_err(|_| log("Unable to register failover_dev!"))?;
    master.master().carrier_off();
    let failover = failover_core::register(master.master(), RegisteredOps::new(&StandbyModel))?;
    let master = Some(master);
    let group = NetFailoverGroup { failover, master };
    Ok(KBox::new(group, GFP_KERNEL)?)
}

impl Drop for NetFailoverGroup {
    /// `net_failover_destroy()`: releases the slaves, unregisters the master
    /// from the core, then unregisters and frees it.
    fn drop(&mut self) {
        let release = |m: &Master<NetFailover>, r: &Rtnl| {
            for role in [Role::Primary, Role::Standby] {
                if let Some(slave) = m.data().slot(role).get(r) {
                    failover_core::slave_unregister(r, slave);
                }
            }
            failover_core::unregister(r, &self.failover);
        };
        if let Some(master) = self.master.take() {
            master.unregister(release);
        }
    }
}

/// The failover ops of every [`NetFailover`] master.
struct StandbyModel;

fn master(dev: &NetDev) -> Result<&Master<NetFailover>> {
    Master::try_from(dev).ok_or(ENODEV)
}

/// Reports `slave`'s lower state (`NETDEV_CHANGELOWERSTATE`).
fn lower_state_changed(r: &Rtnl, nfo: &NetFailoverInfo, slave: &NetDev, role: Role) {
    let primary_running = nfo.primary.get(r).is_some_and(NetDev::is_running);
    slave.lower_state_changed(r, policy::lower_state(role, link(slave), primary_running));
}

/// The master's MTU range follows the primary while there is one.
fn update_mtu_range(r: &Rtnl, m: &Master<NetFailover>) {
    let range = |s: Option<&NetDev>| s.map(|s| s.mtu_range(r));
    let (p, s) = (m.data().primary.get(r), m.data().standby.get(r));
    if let Some(range) = mtu_range(range(p), range(s)) {
        m.set_mtu_range(r, range);
    }
}

fn compute_features(r: &Rtnl, m: &Master<NetFailover>) {
    let of = |s: Option<&NetDev>| {
        s.map(|s| SlaveFeatures {
            vlan_features: s.vlan_features(r),
            hw_enc_features: s.hw_enc_features(r),
            hard_header_len: s.hard_header_len(r),
            dst_release: s.xmit_dst_release(r),
        })
    };
    let slaves = [of(m.data().primary.get(r)), of(m.data().standby.get(r))];
    let mf = master_features(slaves.iter().flatten());
    m.change_features(
        r,
        mf.vlan_features,
        mf.hw_enc_features,
        mf.hard_header_len,
        mf.dst_release,
    );
}

fn role(r: &Rtnl, slave: &NetDev, m: &Master<NetFailover>) -> Result<Role> {
    let nfo = m.data();
    let (p, s) = (nfo.primary.is_occupied(), nfo.standby.is_occupied());
    let c = Candidate {
        shares_parent: slave.shares_parent(r, m),
        pci_parent: slave.parent_is_pci(r),
        vlan_challenged: slave.features(r) & f::VLAN_CHALLENGED != 0,
    };
    classify(c, p, s, m.vlan_uses_dev(r)).map_err(|why| {
        let name = slave.name(r);
        match why {
            Refusal::Occupied(role) => netdev_err!(
                m,
                "{name} attempting to register as slave dev when {} already present",
                role.name()
            ),
            Refusal::NotPci => {
                netdev_err!(m, "{name} is not a PCI device, not enslaved as primary")
            }
            Refusal::VlanChallenged => netdev_err!(
                m,
                "Device {name} is VLAN challenged and failover device has VLAN set up"
            ),
        }
        EINVAL
    })
}

impl FailoverOps for StandbyModel {
    fn slave_pre_register(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        role(r, slave, master(dev)?).map(|_| ())
    }

    fn slave_register(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        let m = master(dev)?;
        let nfo = m.data();
        let role = role(r, slave, m)?;
        let (name, mtu, orig_mtu) = (slave.name(r), m.mtu(), slave.mtu());
        slave.set_mtu(r, mtu).inspect_err(|_| {
            netdev_err!(m, "unable to change mtu of {name} to {mtu} register failed");
        })?;
        let undo_mtu = || _ = slave.set_mtu(r, orig_mtu);
        // A deferred open (opt-in) waits for udev's rename.
        if m.is_running() && !crate::open_delay::defer(r, m, slave, role) {
            // -EBUSY: enslaved closed, opened again on its next rename.
            if let Some(e) = slave.open(r).err().filter(|&e| e != EBUSY) {
                netdev_err!(m, "Opening slave {name} failed err:{}", e.to_errno());
                undo_mtu();
                return Err(e);
            }
        }
        slave.addrs_sync_multiple(&m.addr_lock_bh());
        if let Err(e) = slave.vlan_vids_add_by_dev(r, m) {
            let err = e.to_errno();
            netdev_err!(m, "Failed to add vlan ids to device {name} err:{err}");
            slave.addrs_unsync(r, m);
            crate::open_delay::cancel(m, role);
            slave.close(r);
            undo_mtu();
            return Err(e);
        }
        nfo.stats.lock().join(role, &slave.get_stats());
        nfo.slot(role).replace(r, Some(slave.hold()));
        update_mtu_range(r, m);
        lower_state_changed(r, nfo, slave, role);
        compute_features(r, m);
        slave.notify_join(r);
        netdev_info!(m, "failover {} slave:{name} registered", role.name());
        path_events(m, r, false);
        Ok(())
    }

    fn slave_pre_unregister(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        self.slave_of(r, slave, dev).then_some(()).ok_or(ENODEV)
    }

    fn slave_unregister(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) -> Result {
        let m = master(dev)?;
        let nfo = m.data();
        let (role, name) = (nfo.role_of(slave).ok_or(ENODEV)?, slave.name(r));
        slave.vlan_vids_del_by_dev(r, m);
        slave.addrs_unsync(r, m);
        crate::open_delay::cancel(m, role);
        slave.close(r);
        // Keep what the slave counted up to now in the master's totals.
        nfo.stats.lock().update(role, &slave.get_stats());
        let old = nfo.slot(role).replace(r, None);
        update_mtu_range(r, m);
        drop(old);
        compute_features(r, m);
        netdev_info!(m, "failover {} slave:{name} unregistered", role.name());
        path_events(m, r, false);
        Ok(())
    }

    fn slave_link_change(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) {
        let Ok(m) = master(dev) else { return };
        let nfo = m.data();
        let Some(role) = nfo.role_of(slave) else {
            return;
        };
        if nfo.tx_slave(r).is_some() {
            wake(m);
        } else {
            // No queue stop on this queueless device: frames are dropped and
            // counted in start_xmit instead of "asks to queue packet!".
            m.carrier_off();
        }
        lower_state_changed(r, nfo, slave, role);
        path_events(m, r, true);
    }

    fn slave_name_change(&self, r: &Rtnl, slave: &NetDev, dev: &NetDev) {
        // Brings up a slave whose open hit -EBUSY at registration (the
        // rename by udev comes after).
        if self.slave_of(r, slave, dev) {
            let _ = slave.open(r);
        }
    }

    fn slave_handle_frame<'a>(&self, r: &Rtnl, s: &NetDev, d: &'a NetDev) -> SlaveRxHandler<'a> {
        // The device that shares the master's parent is the standby.
        let m = master(d).ok()?;
        Some(crate::netdev::RxHandler::new(m, s.shares_parent(r, m)))
    }

    fn slave_of(&self, _r: &Rtnl, slave: &NetDev, dev: &NetDev) -> bool {
        master(dev).is_ok_and(|m| m.data().role_of(slave).is_some())
    }
}
