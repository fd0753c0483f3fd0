// SPDX-License-Identifier: GPL-2.0

//! Host unit tests of `policy.rs`. Expected values are written out by hand or
//! computed by an independent expression of the rule (never by calling the
//! function under test).

use nf_policy::features::*;
use nf_policy::*;

const BOOLS: [bool; 2] = [false, true];

fn link(running: bool, carrier: bool) -> Link {
    Link { running, carrier }
}

/// Every slave state the TX path can see: absent, or present with each
/// running/carrier combination.
fn slave_states() -> Vec<Option<Link>> {
    let mut v = vec![None];
    for r in BOOLS {
        for c in BOOLS {
            v.push(Some(link(r, c)));
        }
    }
    v
}

// ---------------------------------------------------------------- roles

#[test]
fn role_names_and_indices() {
    assert_eq!(Role::Primary.name(), "primary");
    assert_eq!(Role::Standby.name(), "standby");
    assert_eq!(Role::Primary.index(), 0);
    assert_eq!(Role::Standby.index(), 1);
}

#[test]
fn classify_every_combination() {
    let mut n = 0;
    for shares_parent in BOOLS {
        for pci_parent in BOOLS {
            for vlan_challenged in BOOLS {
                for primary_taken in BOOLS {
                    for standby_taken in BOOLS {
                        for master_has_vlans in BOOLS {
                            let c = Candidate { shares_parent, pci_parent, vlan_challenged };
                            let got = classify(c, primary_taken, standby_taken, master_has_vlans);
                            // The C order: slot taken, then PCI (primary only), then VLAN.
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
                            assert_eq!(got, want, "{c:?} p={primary_taken} s={standby_taken} vlans={master_has_vlans}");
                            n += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(n, 64);
}

#[test]
fn classify_named_cases() {
    let virtio = Candidate { shares_parent: true, pci_parent: true, vlan_challenged: false };
    let vf = Candidate { shares_parent: false, pci_parent: true, vlan_challenged: false };
    let non_pci = Candidate { shares_parent: false, pci_parent: false, vlan_challenged: false };

    assert_eq!(classify(virtio, false, false, false), Ok(Role::Standby));
    assert_eq!(classify(vf, false, false, false), Ok(Role::Primary));
    // A standby may join while a primary is there, and vice versa.
    assert_eq!(classify(virtio, true, false, false), Ok(Role::Standby));
    assert_eq!(classify(vf, false, true, false), Ok(Role::Primary));
    // Second device for a taken slot.
    assert_eq!(classify(virtio, false, true, false), Err(Refusal::Occupied(Role::Standby)));
    assert_eq!(classify(vf, true, false, false), Err(Refusal::Occupied(Role::Primary)));
    // A standby does not need a PCI parent; a primary does.
    let virtio_non_pci = Candidate { pci_parent: false, ..virtio };
    assert_eq!(classify(virtio_non_pci, false, false, false), Ok(Role::Standby));
    assert_eq!(classify(non_pci, false, false, false), Err(Refusal::NotPci));
    // Occupied is reported before NotPci.
    assert_eq!(classify(non_pci, true, false, false), Err(Refusal::Occupied(Role::Primary)));
    // NotPci is reported before VlanChallenged.
    let non_pci_vc = Candidate { vlan_challenged: true, ..non_pci };
    assert_eq!(classify(non_pci_vc, false, false, true), Err(Refusal::NotPci));
}

#[test]
fn classify_checks_vlan_challenged_on_the_slave() {
    // The C driver tests the master's NETIF_F_VLAN_CHALLENGED, which the master
    // never has, so it accepts these; the policy tests the slave.
    let vf_vc = Candidate { shares_parent: false, pci_parent: true, vlan_challenged: true };
    let virtio_vc = Candidate { shares_parent: true, pci_parent: true, vlan_challenged: true };
    assert_eq!(classify(vf_vc, false, false, true), Err(Refusal::VlanChallenged));
    assert_eq!(classify(virtio_vc, false, false, true), Err(Refusal::VlanChallenged));
    // Without VLANs on the master, a VLAN-challenged slave is fine.
    assert_eq!(classify(vf_vc, false, false, false), Ok(Role::Primary));
    assert_eq!(classify(virtio_vc, false, false, false), Ok(Role::Standby));
    // A slave that can do VLANs is fine with VLANs on the master.
    let vf = Candidate { vlan_challenged: false, ..vf_vc };
    assert_eq!(classify(vf, false, false, true), Ok(Role::Primary));
}

// ---------------------------------------------------------------- TX path

#[test]
fn link_xmit_ready() {
    assert!(!link(false, false).xmit_ready());
    assert!(!link(false, true).xmit_ready());
    assert!(!link(true, false).xmit_ready());
    assert!(link(true, true).xmit_ready());
    assert_eq!(Link::default(), link(false, false));
}

#[test]
fn tx_path_every_combination() {
    let mut n = 0;
    for p in slave_states() {
        for s in slave_states() {
            let p_ok = matches!(p, Some(Link { running: true, carrier: true }));
            let s_ok = matches!(s, Some(Link { running: true, carrier: true }));
            let want = if p_ok {
                Some(Role::Primary)
            } else if s_ok {
                Some(Role::Standby)
            } else {
                None
            };
            assert_eq!(tx_path(p, s), want, "primary {p:?} standby {s:?}");
            n += 1;
        }
    }
    assert_eq!(n, 25);
}

#[test]
fn tx_path_named_cases() {
    let up = Some(link(true, true));
    assert_eq!(tx_path(None, None), None);
    assert_eq!(tx_path(up, up), Some(Role::Primary));
    assert_eq!(tx_path(None, up), Some(Role::Standby));
    assert_eq!(tx_path(up, None), Some(Role::Primary));
    // VF lost carrier: fall back to the standby.
    assert_eq!(tx_path(Some(link(true, false)), up), Some(Role::Standby));
    // VF down administratively but carrier still reported.
    assert_eq!(tx_path(Some(link(false, true)), up), Some(Role::Standby));
    // Nothing ready: drop.
    assert_eq!(tx_path(Some(link(true, false)), Some(link(false, true))), None);
}

// ---------------------------------------------------------------- lower state

#[test]
fn lower_state_every_combination() {
    for running in BOOLS {
        for carrier in BOOLS {
            for primary_running in BOOLS {
                let l = link(running, carrier);
                // link_up is the carrier for both roles.
                assert_eq!(lower_state(Role::Primary, l, primary_running), (carrier, running));
                assert_eq!(
                    lower_state(Role::Standby, l, primary_running),
                    (carrier, running && !primary_running)
                );
            }
        }
    }
}

#[test]
fn lower_state_named_cases() {
    // Standby up, no running primary: TX enabled.
    assert_eq!(lower_state(Role::Standby, link(true, true), false), (true, true));
    // Standby up, primary running: standby not TX-enabled.
    assert_eq!(lower_state(Role::Standby, link(true, true), true), (true, false));
    // Primary running without carrier: TX enabled, link down.
    assert_eq!(lower_state(Role::Primary, link(true, false), true), (false, true));
    // Primary down: not TX-enabled (primary_running is irrelevant for it).
    assert_eq!(lower_state(Role::Primary, link(false, true), true), (true, false));
}

// ---------------------------------------------------------------- RX

#[test]
fn rx_to_master_every_combination() {
    assert!(rx_to_master(Role::Primary, true));
    assert!(rx_to_master(Role::Primary, false));
    assert!(!rx_to_master(Role::Standby, true));
    assert!(rx_to_master(Role::Standby, false));
}

// ---------------------------------------------------------------- queues

/// net_failover_select_queue()'s folding, as C writes it.
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

#[test]
fn fold_queue_named_cases() {
    assert_eq!(fold_queue(0, 16), 0);
    assert_eq!(fold_queue(15, 16), 15);
    assert_eq!(fold_queue(16, 16), 0);
    assert_eq!(fold_queue(17, 16), 1);
    assert_eq!(fold_queue(31, 16), 15);
    assert_eq!(fold_queue(32, 16), 0); // txq == 2n: subtracted twice
    assert_eq!(fold_queue(40, 16), 8); // txq > 2n
    assert_eq!(fold_queue(100, 16), 4);
    assert_eq!(fold_queue(u16::MAX, 16), 15);
    assert_eq!(fold_queue(7, 1), 0);
    assert_eq!(fold_queue(5, 3), 2);
    // No queues: C would loop forever; the policy says 0.
    assert_eq!(fold_queue(0, 0), 0);
    assert_eq!(fold_queue(9, 0), 0);
}

#[test]
fn fold_queue_matches_repeated_subtraction() {
    for n in 1..=64u16 {
        for txq in 0..=(8 * n + 3) {
            assert_eq!(fold_queue(txq, n), c_fold(txq, n), "txq {txq} n {n}");
        }
        for txq in [u16::MAX - 1, u16::MAX, 0x8000, 0x7fff] {
            assert_eq!(fold_queue(txq, n), c_fold(txq, n), "txq {txq} n {n}");
        }
    }
    for n in [1000u16, 4096, u16::MAX] {
        for txq in [0, 1, n - 1, n, n.saturating_add(1), u16::MAX] {
            assert_eq!(fold_queue(txq, n), c_fold(txq, n), "txq {txq} n {n}");
        }
    }
}

// ---------------------------------------------------------------- MTU

#[test]
fn mtu_range_cases() {
    let virtio = (68, 65535);
    let e1000e = (68, 9216);
    assert_eq!(mtu_range(None, None), None);
    assert_eq!(mtu_range(None, Some(virtio)), Some(virtio));
    assert_eq!(mtu_range(Some(e1000e), None), Some(e1000e));
    // The primary's range wins, it is not intersected with the standby's.
    assert_eq!(mtu_range(Some(e1000e), Some(virtio)), Some(e1000e));
    assert_eq!(mtu_range(Some((1280, 1500)), Some((68, 9000))), Some((1280, 1500)));
}

// ---------------------------------------------------------------- stats

#[test]
fn fold_plain_increments() {
    let mut acc = [100u64, 0, 7];
    fold(&mut acc, &[15, 3, 7], &[10, 0, 7]);
    assert_eq!(acc, [105, 3, 7]);
}

#[test]
fn fold_32bit_wrap() {
    let mut acc = [1000u64];
    fold(&mut acc, &[0x10], &[0xffff_fff0]);
    assert_eq!(acc, [1000 + 0x20]);
    let mut acc = [0u64];
    fold(&mut acc, &[0], &[0xffff_ffff]);
    assert_eq!(acc, [1]);
}

#[test]
fn fold_64bit_counter() {
    let mut acc = [5u64];
    fold(&mut acc, &[0x1_0000_0010], &[0xffff_fff0]);
    assert_eq!(acc, [5 + 0x20]);
    let mut acc = [0u64];
    fold(&mut acc, &[0x7_0000_0000 + 12], &[0x7_0000_0000]);
    assert_eq!(acc, [12]);
    // Large 64-bit step.
    let mut acc = [1u64];
    fold(&mut acc, &[0x5_0000_0000], &[0x1_0000_0000]);
    assert_eq!(acc, [1 + 0x4_0000_0000]);
}

#[test]
fn fold_ignores_decreases() {
    let mut acc = [50u64, 50, 50];
    // 32-bit decrease, 64-bit decrease, and a 64-bit counter reset to 0.
    fold(&mut acc, &[10, 0x1_0000_0000, 0], &[20, 0x2_0000_0000, 0x3_0000_0000]);
    assert_eq!(acc, [50, 50, 50]);
    // 32-bit reset from a small value.
    let mut acc = [9u64];
    fold(&mut acc, &[0], &[0x7fff_ffff]);
    assert_eq!(acc, [9]);
}

#[test]
fn fold_accumulator_wraps_instead_of_panicking() {
    let mut acc = [u64::MAX];
    fold(&mut acc, &[3], &[1]);
    assert_eq!(acc, [1]);
}

const TX: usize = 0;
const RX: usize = 1;

#[test]
fn stats_start_at_zero() {
    let s = Stats::<4>::default();
    assert_eq!(s.total(), &[0; 4]);
}

#[test]
fn stats_join_does_not_count_history() {
    let mut s = Stats::<2>::default();
    s.join(Role::Standby, &[1000, 2000]);
    assert_eq!(s.total(), &[0, 0]);
    s.update(Role::Standby, &[1010, 2005]);
    assert_eq!(s.total(), &[10, 5]);
    s.update(Role::Standby, &[1010, 2005]);
    assert_eq!(s.total(), &[10, 5]);
}

/// The C bug: after the VF is unplugged the master's tx_packets fell from 42
/// to 30. Here the total keeps growing through leave and re-join.
#[test]
fn stats_across_join_update_leave_rejoin() {
    let mut s = Stats::<2>::default();
    s.join(Role::Standby, &[0, 0]);
    s.update(Role::Standby, &[30, 40]);
    assert_eq!(s.total(), &[30, 40]);

    s.join(Role::Primary, &[0, 0]);
    s.update(Role::Primary, &[5, 1]);
    s.update(Role::Standby, &[30, 41]);
    assert_eq!(s.total(), &[35, 42]);

    // Last read of the primary as it leaves.
    s.update(Role::Primary, &[12, 3]);
    assert_eq!(s.total()[TX], 42);
    assert_eq!(s.total()[RX], 44);
    let before = *s.total();

    // Only the standby is read while the primary is gone.
    s.update(Role::Standby, &[30, 41]);
    assert_eq!(s.total(), &before);
    s.update(Role::Standby, &[31, 45]);
    assert_eq!(s.total(), &[43, 48]);

    // A new primary joins with counters that restart at 0.
    s.join(Role::Primary, &[0, 0]);
    assert_eq!(s.total(), &[43, 48]);
    s.update(Role::Primary, &[0, 0]);
    assert_eq!(s.total(), &[43, 48]);
    s.update(Role::Primary, &[7, 2]);
    s.update(Role::Standby, &[31, 45]);
    assert_eq!(s.total(), &[50, 50]);

    // The standby leaves and comes back with counters from an earlier life.
    s.update(Role::Standby, &[32, 45]);
    s.join(Role::Standby, &[500, 600]);
    s.update(Role::Standby, &[501, 600]);
    assert_eq!(s.total(), &[52, 50]);
}

#[test]
fn stats_new_primary_with_lower_counters_without_join_never_decreases() {
    // Even if the caller forgot join(), a reset never lowers the total.
    let mut s = Stats::<1>::default();
    s.join(Role::Primary, &[0]);
    s.update(Role::Primary, &[42]);
    s.update(Role::Primary, &[30]);
    assert_eq!(s.total(), &[42]);
    s.update(Role::Primary, &[35]);
    assert_eq!(s.total(), &[47]);
}

#[test]
fn stats_monotonic_over_a_long_scenario() {
    // A deterministic pseudo-random walk of both slaves' counters, with
    // resets, wraps and re-joins; the total never decreases and equals the
    // sum of the positive steps.
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
                let step = u64::from(rnd() % 1000);
                // A 32-bit counter wraps.
                cur[i] = u64::from((cur[i] as u32).wrapping_add(step as u32));
                want += step;
                s.update(role, &[cur[i]]);
            }
        }
        assert!(s.total()[0] >= before[0]);
    }
    assert_eq!(s.total()[0], want);
}

#[test]
fn stats_32bit_wrap_through_update() {
    let mut s = Stats::<1>::default();
    s.join(Role::Primary, &[0xffff_ff00]);
    s.update(Role::Primary, &[0xffff_fff0]);
    assert_eq!(s.total(), &[0xf0]);
    s.update(Role::Primary, &[0x10]);
    assert_eq!(s.total(), &[0xf0 + 0x20]);
}

#[test]
fn stats_64bit_counter_through_update() {
    let mut s = Stats::<1>::default();
    s.join(Role::Standby, &[0x1_0000_0000]);
    s.update(Role::Standby, &[0x1_0000_0100]);
    assert_eq!(s.total(), &[0x100]);
}

// ---------------------------------------------------------------- features

#[test]
fn feature_bits_match_netdev_features_h() {
    assert_eq!(SG, 0x1);
    assert_eq!(IP_CSUM, 0x2);
    assert_eq!(HW_CSUM, 0x8);
    assert_eq!(IPV6_CSUM, 0x10);
    assert_eq!(VLAN_CHALLENGED, 0x400);
    assert_eq!(LRO, 1 << 15);
    assert_eq!(TSO, 1 << 16);
    assert_eq!(FSO, 1 << 21);
    assert_eq!(GSO_ENCAP_ALL, 0x0fc0_0000); // bits 22..=27
    assert_eq!(RXCSUM, 1 << 40);
    assert_eq!(NOCACHE_COPY, 1 << 41);
    assert_eq!(ALL_FOR_ALL, (1 << 41) | (1 << 21));
    // FAILOVER_VLAN: HW_CSUM SG FRAGLIST TSO TSO_ECN TSO_MANGLEID TSO6 HIGHDMA LRO.
    assert_eq!(FAILOVER_VLAN, 0x001d_8069);
    // FAILOVER_ENC: HW_CSUM SG RXCSUM TSO TSO_ECN TSO_MANGLEID TSO6.
    assert_eq!(FAILOVER_ENC, 0x0100_001d_0009);
}

#[test]
fn increment_one_for_all_is_unioned() {
    // SG and TSO are ONE_FOR_ALL and in the mask; NOCACHE_COPY is not
    // ONE_FOR_ALL, so a slave cannot add it.
    assert_eq!(increment(0, SG | TSO | NOCACHE_COPY, FAILOVER_VLAN), 0x1_0001);
    assert_eq!(increment(SG, TSO6, FAILOVER_VLAN), 0x10_0001);
    // ONE_FOR_ALL bits outside the mask are not added.
    assert_eq!(increment(0, GSO_UDP_L4 | SG, FAILOVER_VLAN), SG);
    // LRO is in the mask but not ONE_FOR_ALL: not added, but not removed either.
    assert_eq!(increment(0, LRO, FAILOVER_VLAN), 0);
    assert_eq!(increment(LRO, 0, FAILOVER_VLAN), LRO);
    // VLAN_CHALLENGED always passes the mask.
    assert_eq!(increment(0, VLAN_CHALLENGED, 0), 0x400);
    // RXCSUM is not ONE_FOR_ALL.
    assert_eq!(increment(0, RXCSUM | SG, FAILOVER_ENC), SG);
}

#[test]
fn increment_all_for_all_is_intersected() {
    assert_eq!(increment(NOCACHE_COPY | FSO | SG, NOCACHE_COPY, !0), 0x200_0000_0001);
    assert_eq!(increment(NOCACHE_COPY | FSO, 0, !0), 0);
    assert_eq!(increment(NOCACHE_COPY | FSO, NOCACHE_COPY | FSO, !0), NOCACHE_COPY | FSO);
}

#[test]
fn increment_csum_rules() {
    // HW_CSUM clears IP_CSUM and IPV6_CSUM.
    assert_eq!(increment(IP_CSUM | IPV6_CSUM, HW_CSUM, FAILOVER_VLAN), 0x8);
    assert_eq!(increment(HW_CSUM, IP_CSUM | IPV6_CSUM, FAILOVER_VLAN), 0x8);
    // A mask with HW_CSUM lets IP_CSUM through (CSUM_MASK is added to it).
    assert_eq!(increment(0, IP_CSUM, FAILOVER_VLAN), 0x2);
    assert_eq!(increment(IP_CSUM, IPV6_CSUM, FAILOVER_VLAN), 0x12);
    // A mask without HW_CSUM does not.
    assert_eq!(increment(0, IP_CSUM | SG, SG), 0x1);
}

#[test]
fn master_features_without_slaves() {
    let m = master_features(&[]);
    assert_eq!(
        m,
        MasterFeatures {
            vlan_features: 0,
            hw_enc_features: 0x0100_0fdd_0009,
            hard_header_len: 14,
            dst_release: true,
        }
    );
    assert_eq!(m.hw_enc_features, FAILOVER_ENC | GSO_ENCAP_ALL);
}

fn e1000e_like() -> SlaveFeatures {
    SlaveFeatures {
        vlan_features: SG | IP_CSUM | IPV6_CSUM | TSO | TSO6 | HIGHDMA,
        hw_enc_features: 0,
        hard_header_len: 14,
        dst_release: true,
    }
}

fn virtio_like() -> SlaveFeatures {
    SlaveFeatures {
        vlan_features: SG | HW_CSUM | FRAGLIST | NOCACHE_COPY,
        hw_enc_features: SG | HW_CSUM | GSO_UDP_L4,
        hard_header_len: 24,
        dst_release: true,
    }
}

#[test]
fn master_features_with_slaves() {
    // Primary only: its CSUM bits pass (mask has HW_CSUM).
    let m = master_features(&[e1000e_like()]);
    assert_eq!(m.vlan_features, 0x11_0033);
    assert_eq!(m.hw_enc_features, 0x0100_0fdd_0009);
    assert_eq!(m.hard_header_len, 14);
    assert!(m.dst_release);

    // Both: HW_CSUM from the standby clears IP/IPV6 csum; NOCACHE_COPY is
    // never added; hard_header_len is the maximum.
    let want = MasterFeatures {
        vlan_features: 0x11_0069, // SG HW_CSUM HIGHDMA FRAGLIST TSO TSO6
        hw_enc_features: 0x0100_0fdd_0009,
        hard_header_len: 24,
        dst_release: true,
    };
    assert_eq!(master_features(&[e1000e_like(), virtio_like()]), want);
    assert_eq!(master_features(&[virtio_like(), e1000e_like()]), want);
}

#[test]
fn master_features_hard_header_len_is_at_least_eth_hlen() {
    let small = SlaveFeatures { hard_header_len: 0, ..e1000e_like() };
    assert_eq!(master_features(&[small]).hard_header_len, 14);
    let big = SlaveFeatures { hard_header_len: 32, ..e1000e_like() };
    assert_eq!(master_features(&[small, big]).hard_header_len, 32);
    assert_eq!(master_features(&[big, small]).hard_header_len, 32);
}

#[test]
fn master_features_dst_release_only_if_all() {
    let yes = e1000e_like();
    let no = SlaveFeatures { dst_release: false, ..virtio_like() };
    assert!(master_features(&[yes]).dst_release);
    assert!(!master_features(&[no]).dst_release);
    assert!(!master_features(&[yes, no]).dst_release);
    assert!(!master_features(&[no, yes]).dst_release);
    assert!(master_features(&[yes, virtio_like()]).dst_release);
}

#[test]
fn master_features_enc_vlan_challenged_passes() {
    // VLAN_CHALLENGED passes any mask in netdev_increment_features(); IP_CSUM
    // is cleared because FAILOVER_ENC has HW_CSUM.
    let s = SlaveFeatures { hw_enc_features: VLAN_CHALLENGED | IP_CSUM, ..e1000e_like() };
    assert_eq!(master_features(&[s]).hw_enc_features, 0x0100_0fdd_0409);
}
