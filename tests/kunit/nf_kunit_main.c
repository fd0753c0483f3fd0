// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "net_failover_rs_policy": one KUnit case per case of
 * tests/policy/cases.rs (the cases the host tests run too). policy_kunit.rs
 * exports each as nf_kunit_<case>(), which returns 0 when all its checks
 * hold, else the cases.rs line of the first failed check.
 */

#include <kunit/test.h>
#include <linux/module.h>

/* Must list the cases of for_each_case! in cases.rs (all_cases_registered). */
#define NF_POLICY_CASES(X)						\
	X(role_names_and_indices)					\
	X(classify_every_combination)					\
	X(classify_named_cases)						\
	X(classify_checks_vlan_challenged_on_the_slave)			\
	X(link_xmit_ready)						\
	X(tx_path_every_combination)					\
	X(tx_path_named_cases)						\
	X(lower_state_every_combination)				\
	X(lower_state_named_cases)					\
	X(rx_to_master_every_combination)				\
	X(fold_queue_named_cases)					\
	X(fold_queue_matches_repeated_subtraction)			\
	X(mtu_range_cases)						\
	X(fold_plain_increments)					\
	X(fold_32bit_wrap)						\
	X(fold_64bit_counter)						\
	X(fold_ignores_decreases)					\
	X(fold_accumulator_wraps_instead_of_panicking)			\
	X(stats_start_at_zero)						\
	X(stats_join_does_not_count_history)				\
	X(stats_across_join_update_leave_rejoin)			\
	X(stats_new_primary_with_lower_counters_without_join_never_decreases) \
	X(stats_monotonic_over_a_long_scenario)				\
	X(stats_32bit_wrap_through_update)				\
	X(stats_64bit_counter_through_update)				\
	X(stats_per_role_across_replugs)				\
	X(stats_record_counts_tx_path_switches)				\
	X(stats_record_reports_carrier_changes)				\
	X(feature_bits_match_netdev_features_h)				\
	X(increment_one_for_all_is_unioned)				\
	X(increment_all_for_all_is_intersected)				\
	X(increment_csum_rules)						\
	X(master_features_without_slaves)				\
	X(master_features_with_slaves)					\
	X(master_features_hard_header_len_is_at_least_eth_hlen)		\
	X(master_features_dst_release_only_if_all)			\
	X(master_features_enc_vlan_challenged_passes)

#define NF_KUNIT_CASE_FN(name)						\
	u32 nf_kunit_##name(void);					\
	static void name(struct kunit *test)				\
	{								\
		u32 line = nf_kunit_##name();				\
									\
		KUNIT_EXPECT_EQ_MSG(test, line, 0U,			\
			"check failed at tests/policy/cases.rs:%u", line); \
	}

NF_POLICY_CASES(NF_KUNIT_CASE_FN)

#define NF_KUNIT_ENTRY(name) KUNIT_CASE(name),
#define NF_KUNIT_ONE(name) + 1

enum { NF_LISTED_CASES = 0 NF_POLICY_CASES(NF_KUNIT_ONE) };

extern const u32 nf_kunit_ncases;

/* The table lists as many cases as policy_kunit.rs exports. */
static void all_cases_registered(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, NF_LISTED_CASES, nf_kunit_ncases,
		"NF_POLICY_CASES and for_each_case! in cases.rs differ");
}

static struct kunit_case nf_policy_cases[] = {
	NF_POLICY_CASES(NF_KUNIT_ENTRY)
	KUNIT_CASE(all_cases_registered),
	{}
};

static struct kunit_suite nf_policy_suite = {
	.name = "net_failover_rs_policy",
	.test_cases = nf_policy_cases,
};

kunit_test_suite(nf_policy_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the net_failover_rs policy code");
