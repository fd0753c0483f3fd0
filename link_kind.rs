// SPDX-License-Identifier: GPL-2.0

//! Self-describing devices, opt-in (module parameter `link_kind`, default
//! off; the C driver has no such feature): the 3-netdev model's masters
//! report the link kind `failover`, and their slaves the slave kind
//! `failover` with their role in `IFLA_INFO_SLAVE_DATA`
//! ([`IFLA_FAILOVER_SLAVE_ROLE`]). Off by default because NetworkManager
//! treats a link with any kind as "generic", not Ethernet, and gives it no
//! default DHCP profile. Nothing is created through netlink: `ip link add
//! type failover` is refused, and `ip link del` of a master succeeds and
//! leaves it in place (it goes away with its paravirtual device).

#![forbid(unsafe_code)]

use crate::{
    master::NetFailover,
    netdev::{
        netdev_info, param_link_kind, LinkKind, LinkOps, LinkRegistration, Master, NetDev,
        NewMaster, Rtnl, SlaveInfo,
    },
    policy::Role,
};
use kernel::{c_str, prelude::*};

/// The attribute of a slave's `IFLA_INFO_SLAVE_DATA`: its role, a `u8`.
pub(crate) const IFLA_FAILOVER_SLAVE_ROLE: u16 = 1;
/// [`IFLA_FAILOVER_SLAVE_ROLE`] of the primary (the VF).
pub(crate) const FAILOVER_ROLE_PRIMARY: u8 = 0;
/// [`IFLA_FAILOVER_SLAVE_ROLE`] of the standby (the paravirtual device).
pub(crate) const FAILOVER_ROLE_STANDBY: u8 = 1;

/// The link kind of the [`NetFailover`] masters.
pub(crate) struct FailoverKind;

static OPS: LinkOps<FailoverKind> = LinkOps::new();

impl LinkKind for FailoverKind {
    const KIND: &'static CStr = c_str!("failover");
    const REFUSAL: &'static CStr =
        c_str!("failover devices are created by their paravirtual driver, not through netlink");
    const SLAVE_ATTRS: usize = 1;

    fn fill_slave_info(_r: &Rtnl, m: &NetDev, slave: &NetDev, info: &mut SlaveInfo<'_>) -> Result {
        let role = Master::<NetFailover>::try_from(m).and_then(|m| m.data().role_of(slave));
        match role {
            Some(Role::Primary) => info.put_u8(IFLA_FAILOVER_SLAVE_ROLE, FAILOVER_ROLE_PRIMARY),
            Some(Role::Standby) => info.put_u8(IFLA_FAILOVER_SLAVE_ROLE, FAILOVER_ROLE_STANDBY),
            // Between the upper link and the slot, or after: no role yet.
            None => Ok(()),
        }
    }

    fn dellink(_r: &Rtnl, dev: &NetDev) {
        netdev_info!(
            dev,
            "failover master goes away with its paravirtual device: not deleted"
        );
    }
}

/// The link kind's registration, if the module parameter `link_kind` is set.
pub(crate) type Registration = Option<LinkRegistration<FailoverKind>>;

/// Registers the link kind if the module parameter `link_kind` is set.
pub(crate) fn register() -> Result<Registration> {
    param_link_kind().then(|| OPS.register()).transpose()
}

/// Gives a new master the link kind, if it is registered.
pub(crate) fn attach(dev: &mut NewMaster<NetFailover>) {
    if OPS.is_registered() {
        dev.set_link_ops(&OPS);
    }
}
