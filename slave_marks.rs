// SPDX-License-Identifier: GPL-2.0

//! Slaves are marked (`IFF_SLAVE`, `IFF_NO_ADDRCONF`) from the first moment
//! userspace can see them, at `NETDEV_POST_INIT` (the C core marks none with
//! `IFF_SLAVE`): part of the failover core ([`super`]).

#![forbid(unsafe_code)]

use super::find;
use crate::netdev::{InitEvent, NetDev, Registering, Rtnl};

/// Whether a master with permanent MAC `addr` is registered and `ns` holds
/// of it (the namespace check).
fn claimed(r: &Rtnl, addr: [u8; 6], ns: impl Fn(&NetDev) -> bool) -> bool {
    let ours = |m: &NetDev| m.perm_addr(r) == addr && ns(m);
    find(r, |fo| fo.master(r).is_some_and(ours)).is_some()
}

/// A device about to be registered with a master's MAC in the master's
/// namespace is marked a slave (`IFF_SLAVE`, `IFF_NO_ADDRCONF`) before its
/// uevent and its first `RTM_NEWLINK`, as hv_netvsc marks its VF, so that
/// no userspace tool takes it for a NIC of its own; it is enslaved at
/// `NETDEV_REGISTER`, which clears the marks again if it refuses it, as
/// does a registration that fails in between. The match is on `dev_addr`:
/// `perm_addr` is filled in from it later.
pub(super) fn init_event(r: &Rtnl, ev: InitEvent, dev: &Registering) {
    if dev.is_ether() && claimed(r, dev.dev_addr(r), |m| dev.same_netns(r, m)) {
        dev.set_slave_marks(r, ev == InitEvent::PostInit);
    }
}

/// A device refused at `NETDEV_REGISTER` is not a slave after all: its
/// marks are cleared (see `init_event`). Returns false.
pub(super) fn unmark(r: &Rtnl, dev: &NetDev) -> bool {
    if claimed(r, dev.dev_addr(r), |m| dev.same_netns(r, m)) {
        dev.set_slave_marks(r, false);
    }
    false
}
