// SPDX-License-Identifier: GPL-2.0

//! The failover core (net/core/failover.c): a registry of failover masters
//! and one netdevice notifier that, for any device whose permanent MAC is a
//! master's, installs the rx handler and the LAG upper link and dispatches
//! the slave events to the master's [`FailoverOps`].
//!
//! Differences from C: the registry is protected by RTNL (every user already
//! holds it or takes it); a new device is matched only with masters of its
//! network namespace, and later events go to the master the slave is actually
//! enslaved to (its master upper), not to the first master with its MAC;
//! unregistering a master releases the slaves left attached; the LAG hash
//! type is set; a failing notifier registration fails the module load.

use crate::netdev::{
    rtnl_lock, NetDev, NetdevEvent, NetdevNotifier, ReadSide, Rtnl, RtnlCell, RxHandler, Slot,
};
use kernel::{prelude::*, sync::Arc};

/// The callbacks of a failover master (`struct failover_ops`). All run under
/// RTNL. `pre_*` errors mean "not mine / refused".
pub(crate) trait FailoverOps: Send + Sync {
    /// May refuse `slave` before anything is done to it.
    fn pre_register(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// Enslaves `slave`; the rx handler and upper link are already set up
    /// and are undone if this fails.
    fn register(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// May refuse to release `slave`.
    fn pre_unregister(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// Releases `slave`; the rx handler and upper link are already gone.
    fn unregister(&self, r: &Rtnl, slave: &NetDev, master: &NetDev) -> Result;
    /// `slave` went up or down or changed carrier while the master runs.
    fn link_change(&self, r: &Rtnl, slave: &NetDev, master: &NetDev);
    /// `slave` was renamed while the master runs.
    fn name_change(&self, r: &Rtnl, slave: &NetDev, master: &NetDev);
    /// The rx handler installed on the slaves, with the master as its data.
    fn rx_handler(&self) -> Option<RxHandler>;
}

/// A registered failover master (`struct failover`).
pub(crate) struct Failover {
    master: Slot,
    ops: &'static dyn FailoverOps,
}

static REGISTRY: RtnlCell<KVec<Option<Arc<Failover>>>> = RtnlCell::new(KVec::new());
static NOTIFIER: NetdevNotifier = NetdevNotifier::new(event);

/// Starts watching netdevice events (module init).
pub(crate) fn init() -> Result {
    NOTIFIER.register()
}

/// Stops watching netdevice events (module exit). Every master is gone by
/// then: users of the module's exports hold a reference to it.
pub(crate) fn exit() {
    NOTIFIER.unregister();
    let r = rtnl_lock();
    REGISTRY.with(&r, |list| *list = KVec::new());
}

impl Failover {
    /// The master, until [`unregister`].
    pub(crate) fn master<'a>(&self, rs: &'a impl ReadSide) -> Option<&'a NetDev> {
        self.master.get(rs)
    }
}

/// Registers `master` with `ops` (`failover_register()`), then enslaves the
/// devices of its namespace that carry its permanent MAC. Takes RTNL.
pub(crate) fn register(master: &NetDev, ops: &'static dyn FailoverOps) -> Result<Arc<Failover>> {
    if !master.is_ether() {
        master.err(format_args!("failover master must be an Ethernet device"));
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
    REGISTRY.with(&r, |list| match list.iter_mut().find(|e| e.is_none()) {
        Some(free) => {
            *free = Some(fo.clone());
            Ok(())
        }
        None => list.push(Some(fo.clone()), GFP_KERNEL),
    })?;
    fo.master.replace(&r, Some(master.into()));
    master.set_failover(&r, true);
    master.info(format_args!("failover master:{} registered", master.name()));
    let mac = master.perm_addr();
    master.for_each_in_netns(&r, |dev| {
        if !dev.is_failover() && dev.perm_addr() == mac {
            slave_register(&r, dev);
        }
    });
    Ok(fo)
}

/// Unregisters `fo` (`failover_unregister()`). Slaves still attached are
/// released first (the C core leaves them with the master's rx handler); one
/// whose owner refuses to release it is detached without the ops.
pub(crate) fn unregister(r: &Rtnl, fo: &Arc<Failover>) {
    if let Some(master) = fo.master(r) {
        while let Some(slave) = master.first_failover_lower(r) {
            if !slave_unregister(r, slave) && slave.master_upper(r) == Some(master) {
                detach(r, slave, master);
            }
        }
    }
    if let Some(master) = fo.master.replace(r, None) {
        master.info(format_args!(
            "failover master:{} unregistered",
            master.name()
        ));
        master.set_failover(r, false);
    }
    REGISTRY.with(r, |list| {
        let found = list
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| Arc::ptr_eq(e, fo)));
        if let Some(i) = found {
            // Keep the live entries first, in registration order.
            list[i] = None;
            list[i..].rotate_left(1);
        }
    });
}

/// A registered master and its ops.
type Found<'a> = (&'a NetDev, &'static dyn FailoverOps);

/// The first registered master that satisfies `pred`.
fn find<'a>(r: &'a Rtnl, pred: impl Fn(&NetDev) -> bool) -> Option<Found<'a>> {
    REGISTRY.with(r, |list| {
        list.iter().flatten().find_map(|fo| {
            let m = fo.master.get(r)?;
            pred(m).then_some((m, fo.ops))
        })
    })
}

/// The master a new device is offered to: the first registered with its
/// permanent MAC, in its namespace.
fn lookup<'a>(r: &'a Rtnl, dev: &NetDev) -> Option<Found<'a>> {
    let mac = dev.perm_addr();
    find(r, |m| m.perm_addr() == mac && m.same_netns(dev))
}

/// The master `slave` is enslaved to.
fn owner<'a>(r: &'a Rtnl, slave: &NetDev) -> Option<Found<'a>> {
    let upper = slave.master_upper(r)?;
    find(r, |m| m == upper)
}

fn event(r: &Rtnl, ev: NetdevEvent, dev: &NetDev) -> bool {
    if dev.is_failover() {
        return false;
    }
    match ev {
        NetdevEvent::Register => slave_register(r, dev),
        NetdevEvent::Unregister => slave_unregister(r, dev),
        NetdevEvent::LinkChange | NetdevEvent::ChangeName => {
            slave_changed(r, dev, ev == NetdevEvent::ChangeName)
        }
    }
}

fn slave_register(r: &Rtnl, slave: &NetDev) -> bool {
    if !slave.is_ether() {
        return false;
    }
    let Some((master, ops)) = lookup(r, slave) else {
        return false;
    };
    if ops.pre_register(r, slave, master).is_err() {
        return false;
    }
    if let Err(e) = slave.rx_handler_register(r, ops.rx_handler(), master) {
        let e = e.to_errno();
        slave.err(format_args!(
            "can not register failover rx handler (err = {e})"
        ));
        return false;
    }
    if let Err(e) = slave.upper_link(r, master) {
        let e = e.to_errno();
        slave.err(format_args!(
            "can not set failover device {} (err = {e})",
            master.name()
        ));
        slave.rx_handler_unregister(r);
        return false;
    }
    slave.set_slave_flags(r, true);
    if ops.register(r, slave, master).is_ok() {
        return true;
    }
    detach(r, slave, master);
    false
}

/// Releases `slave` from its master (`failover_slave_unregister()`);
/// returns whether the master's ops released it.
pub(crate) fn slave_unregister(r: &Rtnl, slave: &NetDev) -> bool {
    if !slave.is_failover_slave() {
        return false;
    }
    let Some((master, ops)) = owner(r, slave) else {
        return false;
    };
    if ops.pre_unregister(r, slave, master).is_err() {
        return false;
    }
    detach(r, slave, master);
    ops.unregister(r, slave, master).is_ok()
}

/// Undoes what the core did to `slave` when it enslaved it.
fn detach(r: &Rtnl, slave: &NetDev, master: &NetDev) {
    slave.rx_handler_unregister(r);
    slave.upper_unlink(r, master);
    slave.set_slave_flags(r, false);
}

/// Link and name changes reach the ops only while the master is running.
fn slave_changed(r: &Rtnl, slave: &NetDev, renamed: bool) -> bool {
    if !slave.is_failover_slave() {
        return false;
    }
    let Some((master, ops)) = owner(r, slave).filter(|(m, _)| m.link().running) else {
        return false;
    };
    if renamed {
        ops.name_change(r, slave, master);
    } else {
        ops.link_change(r, slave, master);
    }
    true
}
