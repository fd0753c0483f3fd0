// SPDX-License-Identifier: GPL-2.0

//! KUnit checks of the failover policy (`policy.rs`, the file the module
//! builds), run in the kernel.
//!
//! Each `nf_kunit_*` function is one KUnit case, registered by
//! `nf_kunit_main.c`: it returns 0 when every check holds, else the line of
//! the first failed `check!`.

#[path = "../../policy.rs"]
pub mod policy;

use policy::features::*;
use policy::*;

/// Returns the current line from the enclosing check function when `$cond`
/// does not hold.
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            return line!();
        }
    };
}

const BOOLS: [bool; 2] = [false, true];

const fn link(running: bool, carrier: bool) -> Link {
    Link { running, carrier }
}

/// Every slave state the TX path can see.
const SLAVE_STATES: [Option<Link>; 5] = [
    None,
    Some(link(false, false)),
    Some(link(false, true)),
    Some(link(true, false)),
    Some(link(true, true)),
];

/// Role choice for every candidate and slot combination.
#[no_mangle]
pub extern "C" fn nf_kunit_classify() -> u32 {
    let mut n = 0u32;
    for shares_parent in BOOLS {
        for pci_parent in BOOLS {
            for vlan_challenged in BOOLS {
                for primary_taken in BOOLS {
                    for standby_taken in BOOLS {
                        for vlans in BOOLS {
                            let c = Candidate {
                                shares_parent,
                                pci_parent,
                                vlan_challenged,
                            };
                            let want = if shares_parent && standby_taken {
                                Err(Refusal::Occupied(Role::Standby))
                            } else if !shares_parent && primary_taken {
                                Err(Refusal::Occupied(Role::Primary))
                            } else if !shares_parent && !pci_parent {
                                Err(Refusal::NotPci)
                            } else if vlan_challenged && vlans {
                                Err(Refusal::VlanChallenged)
                            } else if shares_parent {
                                Ok(Role::Standby)
                            } else {
                                Ok(Role::Primary)
                            };
                            check!(classify(c, primary_taken, standby_taken, vlans) == want);
                            n += 1;
                        }
                    }
                }
            }
        }
    }
    check!(n == 64);
    check!(Role::Primary.index() == 0 && Role::Standby.index() == 1);
    check!(Role::Primary.name() == "primary" && Role::Standby.name() == "standby");
    0
}

/// The VLAN check looks at the slave (the C driver looks at the master).
#[no_mangle]
pub extern "C" fn nf_kunit_classify_vlan_on_slave() -> u32 {
    let vf = Candidate {
        shares_parent: false,
        pci_parent: true,
        vlan_challenged: true,
    };
    let virtio = Candidate {
        shares_parent: true,
        pci_parent: true,
        vlan_challenged: true,
    };
    check!(classify(vf, false, false, true) == Err(Refusal::VlanChallenged));
    check!(classify(virtio, false, false, true) == Err(Refusal::VlanChallenged));
    check!(classify(vf, false, false, false) == Ok(Role::Primary));
    check!(classify(virtio, false, false, false) == Ok(Role::Standby));
    let vf_ok = Candidate {
        vlan_challenged: false,
        ..vf
    };
    check!(classify(vf_ok, false, false, true) == Ok(Role::Primary));
    0
}

/// TX path for every presence/running/carrier combination of both slaves.
#[no_mangle]
pub extern "C" fn nf_kunit_tx_path() -> u32 {
    let mut n = 0u32;
    for p in SLAVE_STATES {
        for s in SLAVE_STATES {
            let p_ok = matches!(
                p,
                Some(Link {
                    running: true,
                    carrier: true
                })
            );
            let s_ok = matches!(
                s,
                Some(Link {
                    running: true,
                    carrier: true
                })
            );
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
    check!(tx_path(Some(link(true, false)), Some(link(true, true))) == Some(Role::Standby));
    check!(tx_path(None, None).is_none());
    0
}

/// Lower state reported to the LAG core.
#[no_mangle]
pub extern "C" fn nf_kunit_lower_state() -> u32 {
    for running in BOOLS {
        for carrier in BOOLS {
            for primary_running in BOOLS {
                let l = link(running, carrier);
                check!(lower_state(Role::Primary, l, primary_running) == (carrier, running));
                check!(
                    lower_state(Role::Standby, l, primary_running)
                        == (carrier, running && !primary_running)
                );
            }
        }
    }
    check!(lower_state(Role::Standby, link(true, true), true) == (true, false));
    check!(lower_state(Role::Standby, link(true, true), false) == (true, true));
    0
}

/// RX frames go up through the master unless they arrive on the standby
/// while a primary is registered.
#[no_mangle]
pub extern "C" fn nf_kunit_rx_to_master() -> u32 {
    check!(rx_to_master(Role::Primary, true));
    check!(rx_to_master(Role::Primary, false));
    check!(!rx_to_master(Role::Standby, true));
    check!(rx_to_master(Role::Standby, false));
    0
}

/// Queue folding against C's repeated subtraction.
#[no_mangle]
pub extern "C" fn nf_kunit_fold_queue() -> u32 {
    check!(fold_queue(15, 16) == 15);
    check!(fold_queue(16, 16) == 0);
    check!(fold_queue(32, 16) == 0);
    check!(fold_queue(40, 16) == 8);
    check!(fold_queue(u16::MAX, 16) == 15);
    check!(fold_queue(9, 0) == 0);
    for n in 1..=20u16 {
        for txq in 0..=(5 * n) {
            let mut want = txq;
            while want >= n {
                want -= n;
            }
            check!(fold_queue(txq, n) == want);
        }
    }
    0
}

/// The master's MTU range follows the primary while there is one.
#[no_mangle]
pub extern "C" fn nf_kunit_mtu_range() -> u32 {
    let virtio = (68, 65535);
    let e1000e = (68, 9216);
    check!(mtu_range(None, None).is_none());
    check!(mtu_range(None, Some(virtio)) == Some(virtio));
    check!(mtu_range(Some(e1000e), None) == Some(e1000e));
    check!(mtu_range(Some(e1000e), Some(virtio)) == Some(e1000e));
    0
}

/// Counter folding: increments, 32-bit wrap, 64-bit counters, decreases.
#[no_mangle]
pub extern "C" fn nf_kunit_fold() -> u32 {
    let mut acc = [100u64, 7];
    fold(&mut acc, &[15, 7], &[10, 7]);
    check!(acc == [105, 7]);

    let mut acc = [1000u64];
    fold(&mut acc, &[0x10], &[0xffff_fff0]);
    check!(acc == [1000 + 0x20]);

    let mut acc = [5u64];
    fold(&mut acc, &[0x1_0000_0010], &[0xffff_fff0]);
    check!(acc == [5 + 0x20]);
    fold(&mut acc, &[0x5_0000_0000], &[0x1_0000_0000]);
    check!(acc == [5 + 0x20 + 0x4_0000_0000]);

    let mut acc = [50u64, 50, 50];
    fold(
        &mut acc,
        &[10, 0x1_0000_0000, 0],
        &[20, 0x2_0000_0000, 0x3_0000_0000],
    );
    check!(acc == [50, 50, 50]);

    let mut acc = [u64::MAX];
    fold(&mut acc, &[3], &[1]);
    check!(acc == [1]);
    0
}

/// Accumulation across join, update, leave and re-join: the master's total
/// never decreases (the C driver's tx_packets fell from 42 to 30 on VF unplug).
#[no_mangle]
pub extern "C" fn nf_kunit_stats() -> u32 {
    let mut s = Stats::<2>::default();
    check!(s.total() == &[0, 0]);
    s.join(Role::Standby, &[1000, 2000]);
    check!(s.total() == &[0, 0]);
    s.update(Role::Standby, &[1030, 2040]);
    check!(s.total() == &[30, 40]);

    s.join(Role::Primary, &[0, 0]);
    s.update(Role::Primary, &[5, 1]);
    check!(s.total() == &[35, 41]);
    // Last read as the primary leaves.
    s.update(Role::Primary, &[12, 3]);
    check!(s.total() == &[42, 43]);
    s.update(Role::Standby, &[1030, 2040]);
    check!(s.total() == &[42, 43]);

    // A new primary joins with counters restarting at 0.
    s.join(Role::Primary, &[0, 0]);
    s.update(Role::Primary, &[0, 0]);
    check!(s.total() == &[42, 43]);
    s.update(Role::Primary, &[7, 2]);
    check!(s.total() == &[49, 45]);
    // A reset while enslaved is ignored.
    s.update(Role::Primary, &[1, 1]);
    check!(s.total() == &[49, 45]);
    s.update(Role::Primary, &[4, 1]);
    check!(s.total() == &[52, 45]);

    // 32-bit wrap through update.
    let mut w = Stats::<1>::default();
    w.join(Role::Standby, &[0xffff_ff00]);
    w.update(Role::Standby, &[0xffff_fff0]);
    check!(w.total() == &[0xf0]);
    w.update(Role::Standby, &[0x10]);
    check!(w.total() == &[0x110]);
    0
}

/// `netdev_increment_features()` against hand-computed values.
#[no_mangle]
pub extern "C" fn nf_kunit_features_increment() -> u32 {
    check!(FAILOVER_VLAN == 0x001d_8069);
    check!(FAILOVER_ENC == 0x0100_001d_0009);
    check!(GSO_ENCAP_ALL == 0x0fc0_0000);
    // ONE_FOR_ALL bits are unioned; NOCACHE_COPY is not ONE_FOR_ALL.
    check!(increment(0, SG | TSO | NOCACHE_COPY, FAILOVER_VLAN) == 0x1_0001);
    check!(increment(0, LRO, FAILOVER_VLAN) == 0);
    check!(increment(0, VLAN_CHALLENGED, 0) == 0x400);
    // ALL_FOR_ALL bits are intersected.
    check!(increment(NOCACHE_COPY | FSO | SG, NOCACHE_COPY, !0) == 0x200_0000_0001);
    // HW_CSUM clears IP_CSUM and IPV6_CSUM.
    check!(increment(IP_CSUM | IPV6_CSUM, HW_CSUM, FAILOVER_VLAN) == 0x8);
    check!(increment(0, IP_CSUM, FAILOVER_VLAN) == 0x2);
    check!(increment(0, IP_CSUM | SG, SG) == 0x1);
    0
}

/// The master's features from its slaves.
#[no_mangle]
pub extern "C" fn nf_kunit_master_features() -> u32 {
    let none = master_features(&[]);
    check!(none.vlan_features == 0);
    check!(none.hw_enc_features == 0x0100_0fdd_0009);
    check!(none.hard_header_len == 14);
    check!(none.dst_release);

    let e1000e = SlaveFeatures {
        vlan_features: SG | IP_CSUM | IPV6_CSUM | TSO | TSO6 | HIGHDMA,
        hw_enc_features: 0,
        hard_header_len: 14,
        dst_release: true,
    };
    let virtio = SlaveFeatures {
        vlan_features: SG | HW_CSUM | FRAGLIST | NOCACHE_COPY,
        hw_enc_features: SG | HW_CSUM | GSO_UDP_L4,
        hard_header_len: 24,
        dst_release: false,
    };
    let one = master_features(&[e1000e]);
    check!(one.vlan_features == 0x11_0033);
    check!(one.hard_header_len == 14 && one.dst_release);

    let both = master_features(&[e1000e, virtio]);
    check!(both.vlan_features == 0x11_0069);
    check!(both.hw_enc_features == 0x0100_0fdd_0009);
    check!(both.hard_header_len == 24);
    check!(!both.dst_release);
    check!(master_features(&[virtio, e1000e]) == both);
    0
}
