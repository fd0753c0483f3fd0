// SPDX-License-Identifier: GPL-2.0

//! Open delay for udev, opt-in (module parameter `primary_open_delay_ms`,
//! default 0: a new primary is opened at once, as in C, which has no such
//! parameter). systemd's udev does not rename a link that is already up, so
//! a VF that the master opens as it enslaves it keeps its kernel name. With
//! the parameter set, the primary is enslaved at once but opened that many
//! milliseconds later (as hv_netvsc delays its VF takeover), under RTNL, if
//! the master is still registered and running and the primary still there
//! and not running. Until then the master transmits on the standby (a closed
//! primary is not running). A rename in the window opens the primary at once
//! (the standby model's `slave_name_change`); an unplug, and the master's
//! teardown, which releases the primary first, cancel the open.

#![forbid(unsafe_code)]

use crate::{
    master::NetFailover,
    netdev::{
        netdev_err, netdev_info, param_primary_open_delay_ms, DelayedWork, Master, NetDev, Rtnl,
    },
    policy::Role,
};
use kernel::prelude::*;

/// The deferred open of a master's new primary, in its private data.
pub(crate) type OpenDelay = DelayedWork<NetFailover>;

/// A master's [`OpenDelay`], idle.
pub(crate) fn new() -> impl PinInit<OpenDelay, Error> {
    DelayedWork::new(open_primary)
}

/// Defers the open of `slave`, enslaved by the running `m` in `role`, if it
/// is the primary and `primary_open_delay_ms` is set: returns whether the
/// open is deferred (else the caller opens it now).
pub(crate) fn defer(r: &Rtnl, m: &Master<NetFailover>, slave: &NetDev, role: Role) -> bool {
    let ms = param_primary_open_delay_ms();
    if role != Role::Primary || ms == 0 || !m.data().open_delay.schedule(m, ms) {
        return false;
    }
    let name = slave.name(r);
    netdev_info!(m, "failover primary slave:{name} opens in {ms} ms");
    true
}

/// Cancels a deferred open when the primary goes (unplug, the master's
/// teardown, or a failed enslaving); waits for one that is running.
pub(crate) fn cancel(m: &Master<NetFailover>, role: Role) {
    if role == Role::Primary {
        m.data().open_delay.cancel_sync();
    }
}

/// The deferred open: the primary, if the master is running and the primary
/// still there and not running (a rename in the window opened it already).
fn open_primary(m: &Master<NetFailover>, r: &Rtnl) {
    let Some(p) = m.data().primary.get(r) else {
        return;
    };
    if !m.is_running() || p.is_running() {
        return;
    }
    let name = p.name(r);
    match p.open(r) {
        Ok(()) => netdev_info!(m, "failover primary slave:{name} opened"),
        Err(e) => netdev_err!(m, "Opening slave {name} failed err:{}", e.to_errno()),
    }
}
