// SPDX-License-Identifier: GPL-2.0

//! Failover policy: slave roles, TX path, carrier, lower state, queue folding,
//! statistics and feature computation.
//!
//! Pure code with no kernel dependency: the module, its KUnit suite and the
//! host unit tests (`cargo test` in `tests/policy`) build this same file.

#![forbid(unsafe_code)]

/// The role of a failover slave.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// The passthrough VF, preferred for TX.
    Primary,
    /// The paravirtual device, used when the primary is not ready.
    Standby,
}

impl Role {
    /// The word the log lines use for the role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
        }
    }

    /// Index of the role in per-role arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Link state of a slave as seen by the TX path.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Link {
    /// `netif_running()`: the slave is administratively up.
    pub running: bool,
    /// `netif_carrier_ok()`.
    pub carrier: bool,
}

impl Link {
    /// A slave can transmit when it is running and has carrier.
    pub fn xmit_ready(self) -> bool {
        self.running && self.carrier
    }
}

/// A candidate slave, as seen by the role decision.
#[derive(Clone, Copy, Default, Debug)]
pub struct Candidate {
    /// Its parent device is the master's parent (the paravirtual device).
    pub shares_parent: bool,
    /// Its parent device is a PCI device.
    pub pci_parent: bool,
    /// It has `NETIF_F_VLAN_CHALLENGED`.
    pub vlan_challenged: bool,
}

/// Why a candidate is not enslaved.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refusal {
    /// The role is already taken.
    Occupied(Role),
    /// A primary must have a PCI parent.
    NotPci,
    /// The slave cannot do VLANs and the master has VLANs configured.
    VlanChallenged,
}

/// Decides the role of `c`, given which roles are taken and whether the
/// master has VLANs.
///
/// The C driver tests `NETIF_F_VLAN_CHALLENGED` on the master, which never
/// has it, so its check never fires; this one tests the slave, as bonding does.
pub fn classify(
    c: Candidate,
    primary_taken: bool,
    standby_taken: bool,
    master_has_vlans: bool,
) -> Result<Role, Refusal> {
    let role = if c.shares_parent {
        Role::Standby
    } else {
        Role::Primary
    };
    let taken = match role {
        Role::Primary => primary_taken,
        Role::Standby => standby_taken,
    };
    if taken {
        return Err(Refusal::Occupied(role));
    }
    if role == Role::Primary && !c.pci_parent {
        return Err(Refusal::NotPci);
    }
    if c.vlan_challenged && master_has_vlans {
        return Err(Refusal::VlanChallenged);
    }
    Ok(role)
}

/// The slave that carries TX: the primary when it is ready, else the standby
/// when it is ready, else none (the frame is dropped and counted).
pub fn tx_path(primary: Option<Link>, standby: Option<Link>) -> Option<Role> {
    if primary.is_some_and(Link::xmit_ready) {
        Some(Role::Primary)
    } else if standby.is_some_and(Link::xmit_ready) {
        Some(Role::Standby)
    } else {
        None
    }
}

/// Lower state of a slave reported to the LAG core: `(link_up, tx_enabled)`.
///
/// The standby is TX-enabled only while no running primary is present.
pub fn lower_state(role: Role, slave: Link, primary_running: bool) -> (bool, bool) {
    let tx_enabled = match role {
        Role::Primary => slave.running,
        Role::Standby => slave.running && !primary_running,
    };
    (slave.carrier, tx_enabled)
}

/// Whether a frame received on a slave of `role` goes up through the master.
///
/// While the primary can transmit, frames on the standby are left to
/// exact-match handlers of the standby (`RX_HANDLER_EXACT`). The C driver
/// does so as soon as a primary is registered, even while it has no carrier
/// (the seconds a VF needs for link-up after a plug, or while it is down):
/// replies to what the master sends through the standby meanwhile are lost.
pub fn rx_to_master(role: Role, primary_ready: bool) -> bool {
    !(role == Role::Standby && primary_ready)
}

/// Folds a queue index chosen for a slave into the master's `nqueues`.
pub fn fold_queue(txq: u16, nqueues: u16) -> u16 {
    if nqueues == 0 {
        0
    } else {
        txq % nqueues
    }
}

/// The master's `(min_mtu, max_mtu)`: the primary's range while there is a
/// primary, else the standby's (C overwrites, it does not intersect).
pub fn mtu_range(primary: Option<(u32, u32)>, standby: Option<(u32, u32)>) -> Option<(u32, u32)> {
    primary.or(standby)
}

/// Calls `add(i, d)` for each counter `i` of a slave that grew by `d` from
/// `old` to `new`.
///
/// Counters whose two values fit in 32 bits are taken as 32-bit counters that
/// may wrap. Decreases (a slave resetting its counters) are ignored, so the
/// master's counters never go backwards.
pub fn fold<const N: usize>(new: &[u64; N], old: &[u64; N], mut add: impl FnMut(usize, u64)) {
    for i in 0..N {
        let (nv, ov) = (new[i], old[i]);
        let delta = if (nv | ov) >> 32 == 0 {
            i64::from((nv as u32).wrapping_sub(ov as u32) as i32)
        } else {
            nv.wrapping_sub(ov) as i64
        };
        if delta > 0 {
            add(i, delta as u64);
        }
    }
}

/// Accumulated counters of the master, per role, and its TX path.
///
/// # Invariants
///
/// `role[r]` only grows: the sum of the increments of each slave enslaved in
/// role `r` since it joined; `total` is the (wrapping) sum of both; `snap[r]`
/// is the last value read from the slave in role `r`.
#[derive(Clone, Copy)]
pub struct Stats<const N: usize> {
    total: [u64; N],
    role: [[u64; N]; 2],
    snap: [[u64; N]; 2],
    log: PathLog,
}

impl<const N: usize> Default for Stats<N> {
    fn default() -> Self {
        Self {
            total: [0; N],
            role: [[0; N]; 2],
            snap: [[0; N]; 2],
            log: PathLog::default(),
        }
    }
}

impl<const N: usize> Stats<N> {
    /// A slave joins in `role` with counters `now`: what it counted before
    /// joining is not the master's.
    pub fn join(&mut self, role: Role, now: &[u64; N]) {
        self.snap[role.index()] = *now;
    }

    /// Folds what the slave in `role` counted since the last read into the
    /// role's counters.
    ///
    /// Called on every read and once more when the slave leaves, so that its
    /// last increments stay in the total (the C driver loses the whole history
    /// there, because it re-reads the master through `dev_get_stats()`, which
    /// zeroes its own storage first).
    pub fn update(&mut self, role: Role, now: &[u64; N]) {
        let (acc, total) = (&mut self.role[role.index()], &mut self.total);
        fold(now, &self.snap[role.index()], |i, d| {
            acc[i] = acc[i].wrapping_add(d);
            total[i] = total[i].wrapping_add(d);
        });
        self.snap[role.index()] = *now;
    }

    /// The master's counters: the sum of both roles'.
    pub fn total(&self) -> &[u64; N] {
        &self.total
    }
}

// The TX path's log and `ethtool -S` (which the C driver lacks).
#[path = "path_log.rs"]
mod path_log;
use path_log::PathLog;

/// `netdev_features_t` bits used by the feature computation (netdev_features.h).
pub mod features {
    const fn bit(n: u32) -> u64 {
        1 << n
    }
    /// `NETIF_F_SG`.
    pub const SG: u64 = bit(0);
    /// `NETIF_F_IP_CSUM`.
    pub const IP_CSUM: u64 = bit(1);
    /// `NETIF_F_HW_CSUM`.
    pub const HW_CSUM: u64 = bit(3);
    /// `NETIF_F_IPV6_CSUM`.
    pub const IPV6_CSUM: u64 = bit(4);
    /// `NETIF_F_HIGHDMA`.
    pub const HIGHDMA: u64 = bit(5);
    /// `NETIF_F_FRAGLIST`.
    pub const FRAGLIST: u64 = bit(6);
    /// `NETIF_F_VLAN_CHALLENGED`.
    pub const VLAN_CHALLENGED: u64 = bit(10);
    /// `NETIF_F_LRO`.
    pub const LRO: u64 = bit(15);
    /// `NETIF_F_TSO`.
    pub const TSO: u64 = bit(16);
    /// `NETIF_F_GSO_ROBUST`.
    pub const GSO_ROBUST: u64 = bit(17);
    /// `NETIF_F_TSO_ECN`.
    pub const TSO_ECN: u64 = bit(18);
    /// `NETIF_F_TSO_MANGLEID`.
    pub const TSO_MANGLEID: u64 = bit(19);
    /// `NETIF_F_TSO6`.
    pub const TSO6: u64 = bit(20);
    /// `NETIF_F_FSO`.
    pub const FSO: u64 = bit(21);
    /// `NETIF_F_GSO_ENCAP_ALL`: GRE, GRE_CSUM, IPXIP4, IPXIP6, UDP_TUNNEL(_CSUM).
    pub const GSO_ENCAP_ALL: u64 = 0x3f << 22;
    /// `NETIF_F_GSO_SCTP`.
    pub const GSO_SCTP: u64 = bit(30);
    /// `NETIF_F_GSO_UDP_L4`.
    pub const GSO_UDP_L4: u64 = bit(33);
    /// `NETIF_F_GSO_FRAGLIST`.
    pub const GSO_FRAGLIST: u64 = bit(34);
    /// `NETIF_F_RXCSUM`.
    pub const RXCSUM: u64 = bit(40);
    /// `NETIF_F_NOCACHE_COPY`.
    pub const NOCACHE_COPY: u64 = bit(41);
    /// `NETIF_F_CSUM_MASK`.
    pub const CSUM_MASK: u64 = IP_CSUM | IPV6_CSUM | HW_CSUM;
    /// `NETIF_F_ALL_TSO`.
    pub const ALL_TSO: u64 = TSO | TSO6 | TSO_ECN | TSO_MANGLEID;
    /// `NETIF_F_ONE_FOR_ALL`.
    pub const ONE_FOR_ALL: u64 = ALL_TSO
        | GSO_SCTP
        | GSO_UDP_L4
        | GSO_FRAGLIST
        | GSO_ROBUST
        | SG
        | HIGHDMA
        | FRAGLIST
        | VLAN_CHALLENGED;
    /// `NETIF_F_ALL_FOR_ALL`.
    pub const ALL_FOR_ALL: u64 = NOCACHE_COPY | FSO;
    /// `FAILOVER_VLAN_FEATURES` of net/net_failover.h.
    pub const FAILOVER_VLAN: u64 = HW_CSUM | SG | FRAGLIST | ALL_TSO | HIGHDMA | LRO;
    /// `FAILOVER_ENC_FEATURES` of net/net_failover.h.
    pub const FAILOVER_ENC: u64 = HW_CSUM | SG | RXCSUM | ALL_TSO;

    /// `netdev_increment_features()`: the feature set after adding a device
    /// with features `one` to a master with `all`, limited to `mask`.
    pub fn increment(mut all: u64, one: u64, mut mask: u64) -> u64 {
        if mask & HW_CSUM != 0 {
            mask |= CSUM_MASK;
        }
        mask |= VLAN_CHALLENGED;
        all |= one & (ONE_FOR_ALL | CSUM_MASK) & mask;
        all &= one | !ALL_FOR_ALL;
        if all & HW_CSUM != 0 {
            all &= !(CSUM_MASK & !HW_CSUM);
        }
        all
    }
}

/// What the master's features are computed from, per slave.
#[derive(Clone, Copy, Default, Debug)]
pub struct SlaveFeatures {
    /// The slave's `vlan_features`.
    pub vlan_features: u64,
    /// The slave's `hw_enc_features`.
    pub hw_enc_features: u64,
    /// The slave's `hard_header_len`.
    pub hard_header_len: u16,
    /// The slave has both `IFF_XMIT_DST_RELEASE` and `IFF_XMIT_DST_RELEASE_PERM`.
    pub dst_release: bool,
}

/// The master's computed features.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MasterFeatures {
    /// `vlan_features`.
    pub vlan_features: u64,
    /// `hw_enc_features`.
    pub hw_enc_features: u64,
    /// `hard_header_len`.
    pub hard_header_len: u16,
    /// Whether the master gets `IFF_XMIT_DST_RELEASE`.
    pub dst_release: bool,
}

/// Computes the master's features from its present slaves, as
/// `net_failover_compute_features()` does.
pub fn master_features<'a>(slaves: impl IntoIterator<Item = &'a SlaveFeatures>) -> MasterFeatures {
    use features::*;
    let mut m = MasterFeatures {
        vlan_features: FAILOVER_VLAN & ALL_FOR_ALL,
        hw_enc_features: FAILOVER_ENC,
        hard_header_len: 14, // ETH_HLEN
        dst_release: true,
    };
    for s in slaves {
        m.vlan_features = increment(m.vlan_features, s.vlan_features, FAILOVER_VLAN);
        m.hw_enc_features = increment(m.hw_enc_features, s.hw_enc_features, FAILOVER_ENC);
        m.hard_header_len = m.hard_header_len.max(s.hard_header_len);
        m.dst_release &= s.dst_release;
    }
    m.hw_enc_features |= GSO_ENCAP_ALL;
    m
}
