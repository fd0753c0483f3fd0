// SPDX-License-Identifier: GPL-2.0

//! The master's TX path log and `ethtool -S` values (the C driver has
//! neither): part of the pure policy ([`super`]), built with it everywhere.

#![forbid(unsafe_code)]

use super::{Role, Stats};

/// The TX path and the primary's carrier as last recorded, and the switches
/// of the path.
///
/// # Invariants
///
/// `switches` counts the changes of `path`, the last at `at_ms`.
#[derive(Clone, Copy, Default)]
pub(super) struct PathLog {
    path: Option<Role>,
    carrier: bool,
    switches: u64,
    at_ms: u64,
}

impl<const N: usize> Stats<N> {
    /// Records the TX path and whether a primary runs with carrier (false
    /// without one) at `now_ms` (a monotonic clock, in ms). Returns whether
    /// the path switched and whether the carrier changed.
    pub fn record(&mut self, path: Option<Role>, carrier: bool, now_ms: u64) -> (bool, bool) {
        let l = &mut self.log;
        let switched = path != l.path;
        if switched {
            (l.path, l.switches, l.at_ms) = (path, l.switches.wrapping_add(1), now_ms);
        }
        let carrier_changed = core::mem::replace(&mut l.carrier, carrier) != carrier;
        (switched, carrier_changed)
    }

    /// The `ethtool -S` values at `now_ms`: the counters at `idx` of the
    /// primary role, then of the standby role; the active slave (0 none, 1
    /// the primary, 2 the standby); the switches of the TX path; the ms since
    /// the last switch (0 before the first, at least 1 after it).
    pub fn ethtool<'a>(&'a self, idx: &'a [usize], now_ms: u64) -> impl Iterator<Item = u64> + 'a {
        let l = &self.log;
        let age = now_ms.saturating_sub(l.at_ms).max(1) * u64::from(l.switches > 0);
        let active = l.path.map_or(0, |r| r.index() as u64 + 1);
        let of = move |r: usize| idx.iter().map(move |&i| self.role[r][i]);
        of(0).chain(of(1)).chain([active, l.switches, age])
    }
}
