// SPDX-License-Identifier: GPL-2.0

//! The test cases of `policy.rs`, written once and run by both suites: the
//! host tests (`tests/policy/tests/policy.rs`, one `#[test]` per case) and the
//! KUnit suite (`tests/kunit`, one KUnit case per case).
//!
//! Each case returns `Err(line)` with the line of the first failed `check!`.
//! Expected values are written out by hand or computed by an independent
//! expression of the rule (never by calling the function under test).
//!
//! No `std`, no `alloc`, no kernel: the including crate provides the policy
//! as `crate::policy`. Arithmetic stays clear of overflow, as the kernel
//! builds this with overflow checks.

use crate::policy::features::*;
use crate::policy::*;

/// Returns `Err(line!())` from the enclosing case when `$cond` does not hold.
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            return Err(line!());
        }
    };
}

/// Calls `$m!(case, case, ...)` with every case of this file: the one list
/// the host tests and the KUnit exports are generated from. The C table of
/// `tests/kunit/nf_kunit_main.c` must list the same names (the KUnit case
/// `all_cases_registered` compares the counts).
macro_rules! for_each_case {
    ($m:ident) => {
        $m! {
            role_names_and_indices,
            classify_every_combination,
            classify_named_cases,
            classify_checks_vlan_challenged_on_the_slave,
            link_xmit_ready,
            tx_path_every_combination,
            tx_path_named_cases,
            lower_state_every_combination,
            lower_state_named_cases,
            rx_to_master_every_combination,
            fold_queue_named_cases,
            fold_queue_matches_repeated_subtraction,
            mtu_range_cases,
            fold_plain_increments,
            fold_32bit_wrap,
            fold_64bit_counter,
            fold_ignores_decreases,
            fold_accumulator_wraps_instead_of_panicking,
            stats_start_at_zero,
            stats_join_does_not_count_history,
            stats_across_join_update_leave_rejoin,
            stats_new_primary_with_lower_counters_without_join_never_decreases,
            stats_monotonic_over_a_long_scenario,
            stats_32bit_wrap_through_update,
            stats_64bit_counter_through_update,
            stats_per_role_across_replugs,
            stats_record_counts_tx_path_switches,
            stats_record_reports_carrier_changes,
            feature_bits_match_netdev_features_h,
            increment_one_for_all_is_unioned,
            increment_all_for_all_is_intersected,
            increment_csum_rules,
            master_features_without_slaves,
            master_features_with_slaves,
            master_features_hard_header_len_is_at_least_eth_hlen,
            master_features_dst_release_only_if_all,
            master_features_enc_vlan_challenged_passes,
        }
    };
}
pub(crate) use for_each_case;

/// What a case returns: `Err` holds the line of the first failed check.
pub type Outcome = Result<(), u32>;

const BOOLS: [bool; 2] = [false, true];

const fn link(running: bool, carrier: bool) -> Link {
    Link { running, carrier }
}

/// Every slave state the TX path can see: absent, or present with each
/// running/carrier combination.
const SLAVE_STATES: [Option<Link>; 5] = [
    None,
    Some(link(false, false)),
    Some(link(false, true)),
    Some(link(true, false)),
    Some(link(true, true)),
];

// ---------------------------------------------------------------- roles

/// Role names and per-role array indices.
pub fn role_names_and_indices() -> Outcome {
    check!(Role::Primary.name() == "primary");
    check!(Role::Standby.name() == "standby");
    check!(Role::Primary.index() == 0);
    check!(Role::Standby.index() == 1);
    Ok(())
}

/// Role choice for every candidate and slot combination, in the C order:
/// slot taken, then PCI (primary only), then VLAN.
pub fn classify_every_combination() -> Outcome {
    let mut n = 0;
    for shares_parent in BOOLS {
        for pci_parent in BOOLS {
            for vlan_challenged in BOOLS {
                for primary_taken in BOOLS {
                    for standby_taken in BOOLS {
                        for master_has_vlans in BOOLS {
                            let c = Candidate { shares_parent, pci_parent, vlan_challenged };
                            let got = classify(c, primary_taken, standby_taken, master_has_vlans);
                            let want = if shares_parent && standby_taken {
                                Err(Refusal::Occupied(Role::Standby))
                            } else if !shares_parent && primary_taken {
                                Err(Refusal::Occupied(Role::Primary))
                            } else if !shares_parent && !pci_parent {
                                Err(Refusal::NotPci)
                            } else if vlan_challenged && master_has_vlans {
                                Err(Refusal::VlanChallenged)
                            } else if shares_parent {
                                Ok(Role::Standby)
                            } else {
                                Ok(Role::Primary)
                            };
                            check!(got == want);
                            n += 1;
                        }
                    }
                }
            }
        }
    }
    check!(n == 64);
    Ok(())
}

/// Role choice for named devices, and the order of the refusals.
pub fn classify_named_cases() -> Outcome {
    let virtio = Candidate { shares_parent: true, pci_parent: true, vlan_challenged: false };
    let vf = Candidate { shares_parent: false, pci_parent: true, vlan_challenged: false };
    let non_pci = Candidate { shares_parent: false, pci_parent: false, vlan_challenged: false };

    check!(classify(virtio, false, false, false) == Ok(Role::Standby));
    check!(classify(vf, false, false, false) == Ok(Role::Primary));
    // A standby may join while a primary is there, and vice versa.
    check!(classify(virtio, true, false, false) == Ok(Role::Standby));
    check!(classify(vf, false, true, false) == Ok(Role::Primary));
    // Second device for a taken slot.
    check!(classify(virtio, false, true, false) == Err(Refusal::Occupied(Role::Standby)));
    check!(classify(vf, true, false, false) == Err(Refusal::Occupied(Role::Primary)));
    // A standby does not need a PCI parent; a primary does.
    let virtio_non_pci = Candidate { pci_parent: false, ..virtio };
    check!(classify(virtio_non_pci, false, false, false) == Ok(Role::Standby));
    check!(classify(non_pci, false, false, false) == Err(Refusal::NotPci));
    // Occupied is reported before NotPci.
    check!(classify(non_pci, true, false, false) == Err(Refusal::Occupied(Role::Primary)));
    // NotPci is reported before VlanChallenged.
    let non_pci_vc = Candidate { vlan_challenged: true, ..non_pci };
    check!(classify(non_pci_vc, false, false, true) == Err(Refusal::NotPci));
    Ok(())
}

/// The VLAN check looks at the slave.
///
/// The C driver tests the master's `NETIF_F_VLAN_CHALLENGED`, which the
/// master never has, so it accepts these; the policy tests the slave.
pub fn classify_checks_vlan_challenged_on_the_slave() -> Outcome {
    let vf_vc = Candidate { shares_parent: false, pci_parent: true, vlan_challenged: true };
    let virtio_vc = Candidate { shares_parent: true, pci_parent: true, vlan_challenged: true };
    check!(classify(vf_vc, false, false, true) == Err(Refusal::VlanChallenged));
    check!(classify(virtio_vc, false, false, true) == Err(Refusal::VlanChallenged));
    // Without VLANs on the master, a VLAN-challenged slave is fine.
    check!(classify(vf_vc, false, false, false) == Ok(Role::Primary));
    check!(classify(virtio_vc, false, false, false) == Ok(Role::Standby));
    // A slave that can do VLANs is fine with VLANs on the master.
    let vf = Candidate { vlan_challenged: false, ..vf_vc };
    check!(classify(vf, false, false, true) == Ok(Role::Primary));
    Ok(())
}

// ---------------------------------------------------------------- TX path

/// A slave can transmit only when running with carrier.
pub fn link_xmit_ready() -> Outcome {
    check!(!link(false, false).xmit_ready());
    check!(!link(false, true).xmit_ready());
    check!(!link(true, false).xmit_ready());
    check!(link(true, true).xmit_ready());
    check!(Link::default() == link(false, false));
    Ok(())
}

/// TX path for every presence/running/carrier combination of both slaves.
pub fn tx_path_every_combination() -> Outcome {
    let mut n = 0;
    for p in SLAVE_STATES {
        for s in SLAVE_STATES {
            let p_ok = matches!(p, Some(Link { running: true, carrier: true }));
            let s_ok = matches!(s, Some(Link { running: true, carrier: true }));
            let want = if p_ok {
                Some(Role::Primary)
            } else if s_ok {
                Some(Role::Standby)
            } else {
                None
            };
            check!(tx_path(p, s) == want);
            n += 1;
        }
    }
    check!(n == 25);
    Ok(())
}

/// TX path for named situations.
pub fn tx_path_named_cases() -> Outcome {
    let up = Some(link(true, true));
    check!(tx_path(None, None).is_none());
    check!(tx_path(up, up) == Some(Role::Primary));
    check!(tx_path(None, up) == Some(Role::Standby));
    check!(tx_path(up, None) == Some(Role::Primary));
    // VF lost carrier: fall back to the standby.
    check!(tx_path(Some(link(true, false)), up) == Some(Role::Standby));
    // VF down administratively but carrier still reported.
    check!(tx_path(Some(link(false, true)), up) == Some(Role::Standby));
    // Nothing ready: drop.
    check!(tx_path(Some(link(true, false)), Some(link(false, true))).is_none());
    Ok(())
}

// ---------------------------------------------------------------- lower state

/// Lower state reported to the LAG core, for every combination.
pub fn lower_state_every_combination() -> Outcome {
    for running in BOOLS {
        for carrier in BOOLS {
            for primary_running in BOOLS {
                let l = link(running, carrier);
                // link_up is the carrier for both roles.
                check!(lower_state(Role::Primary, l, primary_running) == (carrier, running));
                check!(
                    lower_state(Role::Standby, l, primary_running) == (carrier, running && !primary_running)
                );
            }
        }
    }
    Ok(())
}

/// Lower state for named situations.
pub fn lower_state_named_cases() -> Outcome {
    // Standby up, no running primary: TX enabled.
    check!(lower_state(Role::Standby, link(true, true), false) == (true, true));
    // Standby up, primary running: standby not TX-enabled.
    check!(lower_state(Role::Standby, link(true, true), true) == (true, false));
    // Primary running without carrier: TX enabled, link down.
    check!(lower_state(Role::Primary, link(true, false), true) == (false, true));
    // Primary down: not TX-enabled (primary_running is irrelevant for it).
    check!(lower_state(Role::Primary, link(false, true), true) == (true, false));
    Ok(())
}

// ---------------------------------------------------------------- RX

/// RX frames go up through the master unless they arrive on the standby
/// while a primary is registered.
pub fn rx_to_master_every_combination() -> Outcome {
    check!(rx_to_master(Role::Primary, true));
    check!(rx_to_master(Role::Primary, false));
    check!(!rx_to_master(Role::Standby, true));
    check!(rx_to_master(Role::Standby, false));
    Ok(())
}

// ---------------------------------------------------------------- queues

/// `net_failover_select_queue()`'s folding, as C writes it.
fn c_fold(mut txq: u16, n: u16) -> u16 {
    if txq >= n {
        loop {
            txq -= n;
            if txq < n {
                break;
            }
        }
    }
    txq
}

/// Queue folding for named values.
pub fn fold_queue_named_cases() -> Outcome {
    check!(fold_queue(0, 16) == 0);
    check!(fold_queue(15, 16) == 15);
    check!(fold_queue(16, 16) == 0);
    check!(fold_queue(17, 16) == 1);
    check!(fold_queue(31, 16) == 15);
    check!(fold_queue(32, 16) == 0); // txq == 2n: subtracted twice
    check!(fold_queue(40, 16) == 8); // txq > 2n
    check!(fold_queue(100, 16) == 4);
    check!(fold_queue(u16::MAX, 16) == 15);
    check!(fold_queue(7, 1) == 0);
    check!(fold_queue(5, 3) == 2);
    // No queues: C would loop forever; the policy says 0.
    check!(fold_queue(0, 0) == 0);
    check!(fold_queue(9, 0) == 0);
    Ok(())
}

/// Queue folding against C's repeated subtraction.
pub fn fold_queue_matches_repeated_subtraction() -> Outcome {
    for n in 1..=64u16 {
        for txq in 0..=(8 * n + 3) {
            check!(fold_queue(txq, n) == c_fold(txq, n));
        }
        for txq in [u16::MAX - 1, u16::MAX, 0x8000, 0x7fff] {
            check!(fold_queue(txq, n) == c_fold(txq, n));
        }
    }
    for n in [1000u16, 4096, u16::MAX] {
        for txq in [0, 1, n - 1, n, n.saturating_add(1), u16::MAX] {
            check!(fold_queue(txq, n) == c_fold(txq, n));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- MTU

/// The master's MTU range follows the primary while there is one.
pub fn mtu_range_cases() -> Outcome {
    let virtio = (68, 65535);
    let e1000e = (68, 9216);
    check!(mtu_range(None, None).is_none());
    check!(mtu_range(None, Some(virtio)) == Some(virtio));
    check!(mtu_range(Some(e1000e), None) == Some(e1000e));
    // The primary's range wins, it is not intersected with the standby's.
    check!(mtu_range(Some(e1000e), Some(virtio)) == Some(e1000e));
    check!(mtu_range(Some((1280, 1500)), Some((68, 9000))) == Some((1280, 1500)));
    Ok(())
}

// ---------------------------------------------------------------- stats

/// Counter folding adds plain increments.
pub fn fold_plain_increments() -> Outcome {
    let mut acc = [100u64, 0, 7];
    fold_into(&mut acc, &[15, 3, 7], &[10, 0, 7]);
    check!(acc == [105, 3, 7]);
    Ok(())
}

/// Counters that fit in 32 bits may wrap.
pub fn fold_32bit_wrap() -> Outcome {
    let mut acc = [1000u64];
    fold_into(&mut acc, &[0x10], &[0xffff_fff0]);
    check!(acc == [1000 + 0x20]);
    let mut acc = [0u64];
    fold_into(&mut acc, &[0], &[0xffff_ffff]);
    check!(acc == [1]);
    Ok(())
}

/// Counters beyond 32 bits are 64-bit counters.
pub fn fold_64bit_counter() -> Outcome {
    let mut acc = [5u64];
    fold_into(&mut acc, &[0x1_0000_0010], &[0xffff_fff0]);
    check!(acc == [5 + 0x20]);
    let mut acc = [0u64];
    fold_into(&mut acc, &[0x7_0000_0000 + 12], &[0x7_0000_0000]);
    check!(acc == [12]);
    // Large 64-bit step.
    let mut acc = [1u64];
    fold_into(&mut acc, &[0x5_0000_0000], &[0x1_0000_0000]);
    check!(acc == [1 + 0x4_0000_0000]);
    Ok(())
}

/// Decreases (a slave resetting its counters) are ignored.
pub fn fold_ignores_decreases() -> Outcome {
    let mut acc = [50u64, 50, 50];
    // 32-bit decrease, 64-bit decrease, and a 64-bit counter reset to 0.
    fold_into(&mut acc, &[10, 0x1_0000_0000, 0], &[20, 0x2_0000_0000, 0x3_0000_0000]);
    check!(acc == [50, 50, 50]);
    // 32-bit reset from a small value.
    let mut acc = [9u64];
    fold_into(&mut acc, &[0], &[0x7fff_ffff]);
    check!(acc == [9]);
    Ok(())
}

/// The accumulator wraps rather than overflowing.
pub fn fold_accumulator_wraps_instead_of_panicking() -> Outcome {
    let mut acc = [u64::MAX];
    fold_into(&mut acc, &[3], &[1]);
    check!(acc == [1]);
    Ok(())
}

const TX: usize = 0;
const RX: usize = 1;

/// The master's counters start at zero.
pub fn stats_start_at_zero() -> Outcome {
    let s = Stats::<4>::default();
    check!(*s.total() == [0; 4]);
    Ok(())
}

/// What a slave counted before joining is not the master's.
pub fn stats_join_does_not_count_history() -> Outcome {
    let mut s = Stats::<2>::default();
    s.join(Role::Standby, &[1000, 2000]);
    check!(*s.total() == [0, 0]);
    s.update(Role::Standby, &[1010, 2005]);
    check!(*s.total() == [10, 5]);
    s.update(Role::Standby, &[1010, 2005]);
    check!(*s.total() == [10, 5]);
    Ok(())
}

/// Accumulation across join, update, leave and re-join.
///
/// The C bug: after the VF is unplugged the master's tx_packets fell from 42
/// to 30. Here the total keeps growing through leave and re-join.
pub fn stats_across_join_update_leave_rejoin() -> Outcome {
    let mut s = Stats::<2>::default();
    s.join(Role::Standby, &[0, 0]);
    s.update(Role::Standby, &[30, 40]);
    check!(*s.total() == [30, 40]);

    s.join(Role::Primary, &[0, 0]);
    s.update(Role::Primary, &[5, 1]);
    s.update(Role::Standby, &[30, 41]);
    check!(*s.total() == [35, 42]);

    // Last read of the primary as it leaves.
    s.update(Role::Primary, &[12, 3]);
    check!(s.total()[TX] == 42);
    check!(s.total()[RX] == 44);
    let before = *s.total();

    // Only the standby is read while the primary is gone.
    s.update(Role::Standby, &[30, 41]);
    check!(*s.total() == before);
    s.update(Role::Standby, &[31, 45]);
    check!(*s.total() == [43, 48]);

    // A new primary joins with counters that restart at 0.
    s.join(Role::Primary, &[0, 0]);
    check!(*s.total() == [43, 48]);
    s.update(Role::Primary, &[0, 0]);
    check!(*s.total() == [43, 48]);
    s.update(Role::Primary, &[7, 2]);
    s.update(Role::Standby, &[31, 45]);
    check!(*s.total() == [50, 50]);

    // The standby leaves and comes back with counters from an earlier life.
    s.update(Role::Standby, &[32, 45]);
    s.join(Role::Standby, &[500, 600]);
    s.update(Role::Standby, &[501, 600]);
    check!(*s.total() == [52, 50]);
    Ok(())
}

/// Even if the caller forgot `join()`, a reset never lowers the total.
pub fn stats_new_primary_with_lower_counters_without_join_never_decreases() -> Outcome {
    let mut s = Stats::<1>::default();
    s.join(Role::Primary, &[0]);
    s.update(Role::Primary, &[42]);
    s.update(Role::Primary, &[30]);
    check!(*s.total() == [42]);
    s.update(Role::Primary, &[35]);
    check!(*s.total() == [47]);
    Ok(())
}

/// A deterministic pseudo-random walk (xorshift32) of both slaves' counters,
/// with resets, wraps and re-joins: the total never decreases and equals the
/// sum of the positive steps.
pub fn stats_monotonic_over_a_long_scenario() -> Outcome {
    let mut s = Stats::<1>::default();
    let mut x: u32 = 0x1234_5678;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut cur = [0xffff_fc00u64, 0];
    let mut want = 0u64;
    s.join(Role::Primary, &[cur[0]]);
    s.join(Role::Standby, &[cur[1]]);
    for _ in 0..10_000 {
        let role = if rnd() & 1 == 0 { Role::Primary } else { Role::Standby };
        let i = role.index();
        let before = *s.total();
        match rnd() % 10 {
            0 => {
                // Re-join with fresh counters, some close to a 32-bit wrap.
                cur[i] = u64::from(if rnd() & 1 == 0 { rnd() % 100 } else { rnd() | 0xffff_f000 });
                s.join(role, &[cur[i]]);
            }
            1 => {
                // Reset while enslaved: ignored.
                cur[i] /= 2;
                s.update(role, &[cur[i]]);
            }
            _ => {
                let step = rnd() % 1000;
                // A 32-bit counter wraps.
                cur[i] = u64::from((cur[i] as u32).wrapping_add(step));
                want += u64::from(step);
                s.update(role, &[cur[i]]);
            }
        }
        check!(s.total()[0] >= before[0]);
    }
    check!(s.total()[0] == want);
    Ok(())
}

/// A 32-bit counter wraps through `update()`, in either role.
pub fn stats_32bit_wrap_through_update() -> Outcome {
    for role in [Role::Primary, Role::Standby] {
        let mut s = Stats::<1>::default();
        s.join(role, &[0xffff_ff00]);
        s.update(role, &[0xffff_fff0]);
        check!(*s.total() == [0xf0]);
        s.update(role, &[0x10]);
        check!(*s.total() == [0xf0 + 0x20]);
    }
    Ok(())
}

/// A 64-bit counter through `update()`.
pub fn stats_64bit_counter_through_update() -> Outcome {
    let mut s = Stats::<1>::default();
    s.join(Role::Standby, &[0x1_0000_0000]);
    s.update(Role::Standby, &[0x1_0000_0100]);
    check!(*s.total() == [0x100]);
    Ok(())
}

/// The `ethtool -S` values of `s` at `now_ms`, for counters `[TX, RX]`:
/// primary TX, RX, standby TX, RX, active slave, switches, ms since the
/// last switch; the eighth stays `u64::MAX` unless there are too many.
fn ethtool(s: &Stats<2>, now_ms: u64) -> [u64; 8] {
    let mut v = [u64::MAX; 8];
    for (slot, x) in v.iter_mut().zip(s.ethtool(&[TX, RX], now_ms)) {
        *slot = x;
    }
    v
}

/// Each role's counters accumulate across re-plugs like the master's, never
/// go backwards, and add up to the master's.
pub fn stats_per_role_across_replugs() -> Outcome {
    let mut s = Stats::<2>::default();
    check!(ethtool(&s, 0) == [0, 0, 0, 0, 0, 0, 0, u64::MAX]);
    s.join(Role::Standby, &[100, 200]);
    s.join(Role::Primary, &[1000, 2000]);
    s.update(Role::Primary, &[1010, 2005]);
    s.update(Role::Standby, &[101, 203]);
    check!(ethtool(&s, 0)[..4] == [10, 5, 1, 3]);
    // The primary leaves (last read), a new one joins with counters from 0.
    s.update(Role::Primary, &[1012, 2006]);
    s.join(Role::Primary, &[0, 0]);
    check!(ethtool(&s, 0)[..4] == [12, 6, 1, 3]);
    s.update(Role::Standby, &[150, 210]);
    s.update(Role::Primary, &[4, 1]);
    check!(ethtool(&s, 0)[..4] == [16, 7, 50, 10]);
    // A reset of a slave's counters while enslaved changes nothing.
    s.update(Role::Primary, &[1, 0]);
    check!(ethtool(&s, 0)[..4] == [16, 7, 50, 10]);
    check!(*s.total() == [66, 17]);
    Ok(())
}

/// The TX path's switches: counted on each change only, with the active
/// slave's code and the ms since the last switch (0 before the first).
pub fn stats_record_counts_tx_path_switches() -> Outcome {
    let mut s = Stats::<2>::default();
    check!(s.record(None, false, 10) == (false, false));
    check!(ethtool(&s, 20)[4..] == [0, 0, 0, u64::MAX]);
    check!(s.record(Some(Role::Standby), false, 100) == (true, false));
    check!(ethtool(&s, 150)[4..7] == [2, 1, 50]);
    check!(s.record(Some(Role::Standby), false, 200) == (false, false));
    check!(s.record(Some(Role::Primary), true, 300) == (true, true));
    check!(ethtool(&s, 300)[4..7] == [1, 2, 1]);
    check!(ethtool(&s, 1300)[4..7] == [1, 2, 1000]);
    // Unplug: the standby takes over; re-plug: the primary again.
    check!(s.record(Some(Role::Standby), false, 2000) == (true, true));
    check!(s.record(Some(Role::Primary), true, 3000) == (true, true));
    check!(s.record(None, false, 4000) == (true, true));
    check!(ethtool(&s, 4005)[4..7] == [0, 5, 5]);
    // A clock read before the last switch gives the minimum, not a wrap.
    check!(ethtool(&s, 3000)[6] == 1);
    Ok(())
}

/// The primary's carrier: a change is reported once, a repeat is not.
pub fn stats_record_reports_carrier_changes() -> Outcome {
    let mut s = Stats::<1>::default();
    check!(s.record(Some(Role::Standby), true, 0) == (true, true));
    check!(s.record(Some(Role::Standby), true, 0) == (false, false));
    check!(s.record(Some(Role::Standby), false, 0) == (false, true));
    check!(s.record(Some(Role::Standby), false, 0) == (false, false));
    Ok(())
}

// ---------------------------------------------------------------- features

/// The feature bits are those of `netdev_features.h`.
pub fn feature_bits_match_netdev_features_h() -> Outcome {
    check!(SG == 0x1);
    check!(IP_CSUM == 0x2);
    check!(HW_CSUM == 0x8);
    check!(IPV6_CSUM == 0x10);
    check!(VLAN_CHALLENGED == 0x400);
    check!(LRO == 1 << 15);
    check!(TSO == 1 << 16);
    check!(FSO == 1 << 21);
    check!(GSO_ENCAP_ALL == 0x0fc0_0000); // bits 22..=27
    check!(RXCSUM == 1 << 40);
    check!(NOCACHE_COPY == 1 << 41);
    check!(ALL_FOR_ALL == (1 << 41) | (1 << 21));
    // FAILOVER_VLAN: HW_CSUM SG FRAGLIST TSO TSO_ECN TSO_MANGLEID TSO6 HIGHDMA LRO.
    check!(FAILOVER_VLAN == 0x001d_8069);
    // FAILOVER_ENC: HW_CSUM SG RXCSUM TSO TSO_ECN TSO_MANGLEID TSO6.
    check!(FAILOVER_ENC == 0x0100_001d_0009);
    Ok(())
}

/// `netdev_increment_features()`: `ONE_FOR_ALL` bits are unioned.
pub fn increment_one_for_all_is_unioned() -> Outcome {
    // SG and TSO are ONE_FOR_ALL and in the mask; NOCACHE_COPY is not
    // ONE_FOR_ALL, so a slave cannot add it.
    check!(increment(0, SG | TSO | NOCACHE_COPY, FAILOVER_VLAN) == 0x1_0001);
    check!(increment(SG, TSO6, FAILOVER_VLAN) == 0x10_0001);
    // ONE_FOR_ALL bits outside the mask are not added.
    check!(increment(0, GSO_UDP_L4 | SG, FAILOVER_VLAN) == SG);
    // LRO is in the mask but not ONE_FOR_ALL: not added, but not removed either.
    check!(increment(0, LRO, FAILOVER_VLAN) == 0);
    check!(increment(LRO, 0, FAILOVER_VLAN) == LRO);
    // VLAN_CHALLENGED always passes the mask.
    check!(increment(0, VLAN_CHALLENGED, 0) == 0x400);
    // RXCSUM is not ONE_FOR_ALL.
    check!(increment(0, RXCSUM | SG, FAILOVER_ENC) == SG);
    Ok(())
}

/// `netdev_increment_features()`: `ALL_FOR_ALL` bits are intersected.
pub fn increment_all_for_all_is_intersected() -> Outcome {
    check!(increment(NOCACHE_COPY | FSO | SG, NOCACHE_COPY, !0) == 0x200_0000_0001);
    check!(increment(NOCACHE_COPY | FSO, 0, !0) == 0);
    check!(increment(NOCACHE_COPY | FSO, NOCACHE_COPY | FSO, !0) == NOCACHE_COPY | FSO);
    Ok(())
}

/// `netdev_increment_features()`: checksum bits.
pub fn increment_csum_rules() -> Outcome {
    // HW_CSUM clears IP_CSUM and IPV6_CSUM.
    check!(increment(IP_CSUM | IPV6_CSUM, HW_CSUM, FAILOVER_VLAN) == 0x8);
    check!(increment(HW_CSUM, IP_CSUM | IPV6_CSUM, FAILOVER_VLAN) == 0x8);
    // A mask with HW_CSUM lets IP_CSUM through (CSUM_MASK is added to it).
    check!(increment(0, IP_CSUM, FAILOVER_VLAN) == 0x2);
    check!(increment(IP_CSUM, IPV6_CSUM, FAILOVER_VLAN) == 0x12);
    // A mask without HW_CSUM does not.
    check!(increment(0, IP_CSUM | SG, SG) == 0x1);
    Ok(())
}

/// The master's features without slaves.
pub fn master_features_without_slaves() -> Outcome {
    let m = master_features(&[]);
    check!(
        m == MasterFeatures {
            vlan_features: 0,
            hw_enc_features: 0x0100_0fdd_0009,
            hard_header_len: 14,
            dst_release: true,
        }
    );
    check!(m.hw_enc_features == FAILOVER_ENC | GSO_ENCAP_ALL);
    Ok(())
}

const fn e1000e_like() -> SlaveFeatures {
    SlaveFeatures {
        vlan_features: SG | IP_CSUM | IPV6_CSUM | TSO | TSO6 | HIGHDMA,
        hw_enc_features: 0,
        hard_header_len: 14,
        dst_release: true,
    }
}

const fn virtio_like() -> SlaveFeatures {
    SlaveFeatures {
        vlan_features: SG | HW_CSUM | FRAGLIST | NOCACHE_COPY,
        hw_enc_features: SG | HW_CSUM | GSO_UDP_L4,
        hard_header_len: 24,
        dst_release: true,
    }
}

/// The master's features from a primary, then from both slaves in either
/// order.
pub fn master_features_with_slaves() -> Outcome {
    // Primary only: its CSUM bits pass (mask has HW_CSUM).
    let m = master_features(&[e1000e_like()]);
    check!(m.vlan_features == 0x11_0033);
    check!(m.hw_enc_features == 0x0100_0fdd_0009);
    check!(m.hard_header_len == 14);
    check!(m.dst_release);

    // Both: HW_CSUM from the standby clears IP/IPV6 csum; NOCACHE_COPY is
    // never added; hard_header_len is the maximum.
    let want = MasterFeatures {
        vlan_features: 0x11_0069, // SG HW_CSUM HIGHDMA FRAGLIST TSO TSO6
        hw_enc_features: 0x0100_0fdd_0009,
        hard_header_len: 24,
        dst_release: true,
    };
    check!(master_features(&[e1000e_like(), virtio_like()]) == want);
    check!(master_features(&[virtio_like(), e1000e_like()]) == want);
    Ok(())
}

/// The master's `hard_header_len` is the largest, and at least `ETH_HLEN`.
pub fn master_features_hard_header_len_is_at_least_eth_hlen() -> Outcome {
    let small = SlaveFeatures { hard_header_len: 0, ..e1000e_like() };
    check!(master_features(&[small]).hard_header_len == 14);
    let big = SlaveFeatures { hard_header_len: 32, ..e1000e_like() };
    check!(master_features(&[small, big]).hard_header_len == 32);
    check!(master_features(&[big, small]).hard_header_len == 32);
    Ok(())
}

/// The master releases dst only if every slave does.
pub fn master_features_dst_release_only_if_all() -> Outcome {
    let yes = e1000e_like();
    let no = SlaveFeatures { dst_release: false, ..virtio_like() };
    check!(master_features(&[yes]).dst_release);
    check!(!master_features(&[no]).dst_release);
    check!(!master_features(&[yes, no]).dst_release);
    check!(!master_features(&[no, yes]).dst_release);
    check!(master_features(&[yes, virtio_like()]).dst_release);
    Ok(())
}

/// `VLAN_CHALLENGED` passes any mask in `netdev_increment_features()`;
/// `IP_CSUM` is cleared because `FAILOVER_ENC` has `HW_CSUM`.
pub fn master_features_enc_vlan_challenged_passes() -> Outcome {
    let s = SlaveFeatures { hw_enc_features: VLAN_CHALLENGED | IP_CSUM, ..e1000e_like() };
    check!(master_features(&[s]).hw_enc_features == 0x0100_0fdd_0409);
    Ok(())
}

/// `acc` plus what each counter grew by from `old` to `new` (`fold()`).
fn fold_into<const N: usize>(acc: &mut [u64; N], new: &[u64; N], old: &[u64; N]) {
    fold(new, old, |i, d| acc[i] = acc[i].wrapping_add(d));
}
