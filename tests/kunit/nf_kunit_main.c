// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "net_failover_rs_policy": each case calls a check function of
 * policy_kunit.rs, which returns 0 when all its checks hold, else the line of
 * the first failed check.
 */

#include <kunit/test.h>
#include <linux/module.h>

#define NF_KUNIT_CASE(name)						\
	u32 nf_kunit_##name(void);					\
	static void nf_case_##name(struct kunit *test)			\
	{								\
		u32 line = nf_kunit_##name();				\
									\
		KUNIT_EXPECT_EQ_MSG(test, line, 0U,			\
			"policy check failed at policy_kunit.rs line %u", \
			line);						\
	}

NF_KUNIT_CASE(classify)
NF_KUNIT_CASE(classify_vlan_on_slave)
NF_KUNIT_CASE(tx_path)
NF_KUNIT_CASE(lower_state)
NF_KUNIT_CASE(rx_to_master)
NF_KUNIT_CASE(fold_queue)
NF_KUNIT_CASE(mtu_range)
NF_KUNIT_CASE(fold)
NF_KUNIT_CASE(stats)
NF_KUNIT_CASE(features_increment)
NF_KUNIT_CASE(master_features)

static struct kunit_case nf_policy_cases[] = {
	KUNIT_CASE(nf_case_classify),
	KUNIT_CASE(nf_case_classify_vlan_on_slave),
	KUNIT_CASE(nf_case_tx_path),
	KUNIT_CASE(nf_case_lower_state),
	KUNIT_CASE(nf_case_rx_to_master),
	KUNIT_CASE(nf_case_fold_queue),
	KUNIT_CASE(nf_case_mtu_range),
	KUNIT_CASE(nf_case_fold),
	KUNIT_CASE(nf_case_stats),
	KUNIT_CASE(nf_case_features_increment),
	KUNIT_CASE(nf_case_master_features),
	{}
};

static struct kunit_suite nf_policy_suite = {
	.name = "net_failover_rs_policy",
	.test_cases = nf_policy_cases,
};

kunit_test_suite(nf_policy_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the net_failover_rs policy code");
