// SPDX-License-Identifier: GPL-2.0

//! The failover core (net/core/failover.c): a registry of failover masters
//! and one netdevice notifier that, for any device whose permanent MAC is a
//! master's, installs the rx handler and the LAG upper link and dispatches
//! the slave events to the master's [`FailoverOps`].
//!
//! Differences from C: the registry is protected by RTNL (every user already
//! holds it or takes it); a new device is matched only with masters of its
//! network namespace, and later events go to the master the slave is actually
//! enslaved to (its master upper), not to the first master with its MAC; the
//! LAG hash type is set; a failing notifier registration fails the module load.

#![forbid(unsafe_code)]

use crate::netdev::{
    netdev_err, netdev_info, rtnl_lock, FailoverOps, NetDev, NetDevRef, NetdevEvent,
    NetdevNotifier, ReadSide, RegisteredOps, Rtnl, RtnlVec, Slot,
};
use kernel::{prelude::*, sync::Arc};

// Slaves marked before userspace sees them (which the C core does not do).
#[path = "slave_marks.rs"]
mod slave_marks;

/// A registered failover master (`struct failover`).
pub(crate) struct Failover {
    master: Slot,
    ops: RegisteredOps,
}

/// The registered masters (`failover_list`), in registration order.
static FAILOVER_LIST: RtnlVec<Failover> = RtnlVec::new();

/// The core: its netdevice notifier, and the registry, emptied on drop.
pub(crate) struct Core {
    _notifier: Pin<KBox<NetdevNotifier>>,
}

impl Core {
    /// Starts watching netdevice events (module init).
    pub(crate) fn new() -> Result<Self> {
        let _notifier = KBox::pin_init(
            NetdevNotifier::register(event, slave_marks::init_event),
            GFP_KERNEL,
        )?;
        Ok(Self { _notifier })
    }
}

impl Drop for Core {
    /// Every master is gone by now: the users of the exports hold the module.
    fn drop(&mut self) {
        FAILOVER_LIST.clear(&rtnl_lock());
    }
}

impl Failover {
    /// The master, until [`unregister`].
    pub(crate) fn master<'a>(&'a self, rs: &'a impl ReadSide) -> Option<&'a NetDev> {
        self.master.get(rs)
    }

    /// A reference to the master (registered or not) and its callbacks, until
    /// [`unregister`].
    pub(crate) fn get<'a>(&'a self, r: &'a Rtnl) -> Option<(NetDevRef, &'a dyn FailoverOps)> {
        Some((self.master.get_ref(r)?, self.ops.get(r)?))
    }
}

/// `failover_register()`: registers `master` with `ops`, then enslaves the
/// devices of its namespace that carry its permanent MAC. Takes RTNL.
pub(crate) fn register(master: &NetDev, ops: RegisteredOps) -> Result<Arc<Failover>> {
    if !master.is_ether() {
        netdev_err!(master, "failover master must be an Ethernet device");
        return Err(EINVAL);
    }
    let fo = Arc::new(
        Failover {
            master: Slot::new(),
            ops,
        },
        GFP_KERNEL,
    )?;
    let r = rtnl_lock();
    FAILOVER_LIST.push(&r, fo.clone())?;
    fo.master.replace(&r, Some(master.hold()));
    master.set_failover(&r, true);
    netdev_info!(master, "failover master:{} registered", master.name(&r));
    let mac = master.perm_addr(&r);
    master.for_each_netdev_in_netns(&r, |dev| {
        if !dev.is_failover(&r) && !dev.is_failover_slave(&r) && dev.perm_addr(&r) == mac {
            slave_register(&r, dev);
        }
    });
    Ok(fo)
}

/// `failover_unregister()`: its slaves are released already.
pub(crate) fn unregister(r: &Rtnl, fo: &Failover) {
    fo.ops.retire(r);
    FAILOVER_LIST.remove(r, fo);
    if let Some(master) = fo.master.replace(r, None) {
        netdev_info!(&master, "failover master:{} unregistered", master.name(r));
        master.set_failover(r, false);
    }
}

/// The first registered failover that satisfies `pred`.
fn find(r: &Rtnl, pred: impl Fn(&Failover) -> bool) -> Option<Arc<Failover>> {
    (0..)
        .map_while(|i| FAILOVER_LIST.get(r, i))
        .find(|fo| pred(fo))
}

/// The failover a new device is offered to: of the masters with its
/// permanent MAC in its namespace, the one it shares its parent with (the
/// master made for it), else the first registered. A device that has the MAC
/// but is not Ethernet, or is in another namespace, is refused with a log line.
fn lookup(r: &Rtnl, dev: &NetDev) -> Option<Arc<Failover>> {
    let mac = dev.perm_addr(r);
    let ours = |m: &NetDev| m.perm_addr(r) == mac && m.same_netns(r, dev);
    let with = |p: &dyn Fn(&NetDev) -> bool| find(r, |fo| fo.master(r).is_some_and(p));
    let why = match with(&|m| ours(m) && dev.shares_parent(r, m)).or_else(|| with(&ours)) {
        Some(fo) if dev.is_ether() => return Some(fo),
        Some(_) => "is not an Ethernet device",
        None if with(&|m| m.perm_addr(r) == mac).is_some() => "is in another network namespace",
        None => return None,
    };
    netdev_err!(
        dev,
        "has a failover master's permanent MAC but {why}: not enslaved"
    );
    None
}

/// The failover `slave` is enslaved to, if it is a failover slave.
pub(crate) fn owner(r: &Rtnl, slave: &NetDev) -> Option<Arc<Failover>> {
    let of = |fo: &Failover| fo.master.holds_master_upper_of(r, slave);
    slave.is_failover_slave(r).then(|| find(r, of)).flatten()
}

/// The notifier: slaves come and go, change link and name; a slave's MAC
/// address must stay its master's, so a change of it is refused.
fn event(r: &Rtnl, ev: NetdevEvent, dev: &NetDev) -> Result<bool> {
    Ok(match ev {
        _ if dev.is_failover(r) => false,
        NetdevEvent::Register => slave_register(r, dev) || slave_marks::unmark(r, dev),
        NetdevEvent::Unregister => slave_unregister(r, dev),
        NetdevEvent::LinkChange => slave_changed(r, dev, false),
        NetdevEvent::ChangeName => slave_changed(r, dev, true),
        NetdevEvent::PreChangeAddr if dev.is_failover_slave(r) => {
            netdev_err!(dev, "failover slave: MAC address change refused (-EBUSY)");
            return Err(EBUSY);
        }
        NetdevEvent::PreChangeAddr => false,
    })
}

fn slave_register(r: &Rtnl, slave: &NetDev) -> bool {
    let fo = lookup(r, slave);
    let Some((master, ops)) = fo.as_ref().and_then(|fo| fo.get(r)) else {
        return false;
    };
    if ops.slave_pre_register(r, slave, &master).is_err() {
        return false;
    }
    if let Err(e) = slave.rx_handler_register(r, ops.slave_handle_frame(r, slave, &master)) {
        let e = e.to_errno();
        netdev_err!(slave, "can not register failover rx handler (err = {e})");
        return false;
    }
    // Before the link, so that its RTM_NEWLINK shows a slave.
    slave.set_slave_marks(r, true);
    if let Err(e) = slave.master_upper_dev_link(r, &master) {
        let (name, e) = (master.name(r), e.to_errno());
        netdev_err!(slave, "can not set failover device {name} (err = {e})");
        slave.set_slave_marks(r, false);
        slave.rx_handler_unregister(r);
        return false;
    }
    slave.set_failover_slave(r, true);
    if ops.slave_register(r, slave, &master).is_ok() {
        return true;
    }
    detach(r, slave, &master);
    false
}

/// `failover_slave_unregister()`: releases `slave` from its master; returns
/// whether the master's ops released it.
pub(crate) fn slave_unregister(r: &Rtnl, slave: &NetDev) -> bool {
    let fo = owner(r, slave);
    let Some((master, ops)) = fo.as_ref().and_then(|fo| fo.get(r)) else {
        return false;
    };
    release(r, slave, &master, ops, false)
}

/// Releases `slave` from `master` through `ops` if they agree; else, with
/// `force` (`failover_unregister()`), undoes what the core did to it anyway.
/// Returns whether the ops released it.
pub(crate) fn release(r: &Rtnl, s: &NetDev, m: &NetDev, o: &dyn FailoverOps, force: bool) -> bool {
    let agreed = o.slave_pre_unregister(r, s, m).is_ok();
    if agreed || force {
        detach(r, s, m);
    }
    agreed && o.slave_unregister(r, s, m).is_ok()
}

/// Undoes what the core did to `slave` when it enslaved it.
fn detach(r: &Rtnl, slave: &NetDev, master: &NetDev) {
    slave.rx_handler_unregister(r);
    slave.set_slave_marks(r, false);
    slave.upper_dev_unlink(r, master);
    slave.set_failover_slave(r, false);
}

/// Link and name changes reach the ops only while the master is running.
fn slave_changed(r: &Rtnl, slave: &NetDev, renamed: bool) -> bool {
    let fo = owner(r, slave);
    let running = fo
        .as_ref()
        .and_then(|fo| fo.get(r))
        .filter(|(m, _)| m.is_running());
    let Some((master, ops)) = running else {
        return false;
    };
    if renamed {
        ops.slave_name_change(r, slave, &master);
    } else {
        ops.slave_link_change(r, slave, &master);
    }
    true
}
