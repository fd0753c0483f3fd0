// SPDX-License-Identifier: GPL-2.0

//! What the C driver lacks of a master's introspection: the TX path's
//! switches and the primary's carrier changes, each logged once, and
//! `ethtool -S` with the counters per role (the `PathLog` of policy.rs).

#![forbid(unsafe_code)]

use crate::master::{link, NetFailover};
use crate::netdev::{counter::*, net_ratelimit, netdev_info, Master, MasterOps, Rtnl, StatNames};
use crate::policy::tx_path;
use kernel::time::Ktime;

/// Counts and logs what an event changed of the TX path and of the primary's
/// carrier (whether it runs with carrier; logged on `link_event`s only):
/// called under RTNL after each event that can change them (a slave's
/// registration, unregistration and link change, open and stop).
pub(crate) fn path_events(dev: &Master<NetFailover>, r: &Rtnl, link_event: bool) {
    let nfo = dev.data();
    let (p, s) = (nfo.primary.get(r), nfo.standby.get(r));
    let path = tx_path(p.map(link), s.map(link));
    let carrier = p.is_some_and(|p| link(p).xmit_ready());
    let (switched, changed) = nfo.stats.lock().record(path, carrier, now_ms());
    if let Some(p) = p.filter(|_| changed && link_event) {
        let state = if carrier { "on" } else { "off" };
        netdev_info!(dev, "failover primary slave:{} carrier {state}", p.name(r));
    }
    let on = path
        .zip(nfo.tx_slave(r))
        .map(|(role, s)| (role.name(), s.name(r)));
    if switched && net_ratelimit() {
        match on {
            Some((role, name)) => netdev_info!(dev, "failover: transmitting on {role} {name}"),
            None => netdev_info!(dev, "failover: no slave can transmit"),
        }
    }
}

/// The monotonic clock, in ms.
fn now_ms() -> u64 {
    Ktime::ktime_get().to_ms() as u64
}

/// The counters per role in `ethtool -S`, in the order of their names.
const ROLE_STATS: [usize; 6] = [
    TX_PACKETS, TX_BYTES, TX_DROPPED, RX_PACKETS, RX_BYTES, RX_DROPPED,
];

/// The names of the `ethtool -S` values, in their order.
pub(crate) const NAMES: StatNames = StatNames::new(&[
    c"primary_tx_packets",
    c"primary_tx_bytes",
    c"primary_tx_dropped",
    c"primary_rx_packets",
    c"primary_rx_bytes",
    c"primary_rx_dropped",
    c"standby_tx_packets",
    c"standby_tx_bytes",
    c"standby_tx_dropped",
    c"standby_rx_packets",
    c"standby_rx_bytes",
    c"standby_rx_dropped",
    c"active_slave",
    c"tx_path_switches",
    c"tx_path_switch_ms_ago",
]);

/// `get_ethtool_stats`: the values of [`NAMES`] into `data`.
pub(crate) fn get_ethtool_stats(dev: &Master<NetFailover>, data: &mut [u64]) {
    // Folds in what the slaves counted since the last read.
    let _ = NetFailover::get_stats64(dev);
    let (stats, now) = (dev.data().stats.lock(), now_ms());
    for (d, v) in data.iter_mut().zip(stats.ethtool(&ROLE_STATS, now)) {
        *d = v;
    }
}
