/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of the module's bindgen run: the netdev API that the `kernel` crate
 * of 6.12 does not cover, plus the static-inline helpers of nf_helpers.c.
 *
 * The module exports the C API of <net/failover.h> and <net/net_failover.h>
 * with C's signatures, but the `struct failover *` it returns from
 * failover_register() and net_failover_create() is an OPAQUE HANDLE: it
 * points to a Rust object, not to C's `struct failover` (list, failover_dev,
 * dev_tracker, ops). C callers must not dereference it; they may only check
 * it with IS_ERR() and pass it back to failover_unregister() or
 * net_failover_destroy(). The in-tree callers (virtio_net) do only that.
 *
 * failover_unregister() must be called with RTNL held (C's asks for no lock);
 * a caller without it is warned about and waits for RTNL.
 */
#ifndef _NET_FAILOVER_RS_H
#define _NET_FAILOVER_RS_H

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/workqueue.h>
#include <net/failover.h>
#include <net/rtnetlink.h>
#include <net/sch_generic.h>

void nf_netdev_hold(struct net_device *dev, netdevice_tracker *tracker,
		    gfp_t gfp);
void nf_netdev_put(struct net_device *dev, netdevice_tracker *tracker);
int nf_rtnl_held_by_current(void);
void nf_rcu_read_lock(void);
void nf_rcu_read_unlock(void);
void nf_might_sleep(void);
void nf_netif_tx_wake_all_queues(struct net_device *dev);
void nf_netif_tx_disable(struct net_device *dev);
void nf_netif_addr_lock_bh(struct net_device *dev);
void nf_netif_addr_unlock_bh(struct net_device *dev);
void nf_unregister_netdevice(struct net_device *dev);
bool nf_dev_is_pci(struct device *dev);
struct net *nf_dev_net(const struct net_device *dev);
void nf_dev_net_set(struct net_device *dev, struct net *net);
void nf_dev_core_stats_tx_dropped_inc(struct net_device *dev);
void nf_dev_kfree_skb_any(struct sk_buff *skb);
struct net_device *nf_netdev_notifier_info_to_dev(void *info);
int nf_notifier_from_errno(int err);
bool nf_dev_net_is_init(const struct net_device *dev);
void nf_nl_set_err_msg(struct netlink_ext_ack *extack, const char *msg);
bool nf_param_link_kind(void);
unsigned int nf_param_primary_open_delay_ms(void);
unsigned long nf_msecs_to_jiffies(unsigned int m);
bool nf_schedule_delayed_work(struct delayed_work *dwork, unsigned long delay);
void nf_init_delayed_work(struct delayed_work *dwork, work_func_t func);
struct net_device *nf_netns_next(struct net_device *dev,
				 struct net_device *pos);

#ifdef __BINDGEN__
/* Values bindgen cannot evaluate from the macros themselves. */
#include <net/net_failover.h>
const netdev_features_t NF_VLAN_FEATURES = FAILOVER_VLAN_FEATURES;
const netdev_features_t NF_ENC_FEATURES = FAILOVER_ENC_FEATURES;
const netdev_features_t NF_GSO_ENCAP_ALL = NETIF_F_GSO_ENCAP_ALL;
const netdev_features_t NF_ALL_FOR_ALL = NETIF_F_ALL_FOR_ALL;
const netdev_features_t NF_VLAN_CHALLENGED = NETIF_F_VLAN_CHALLENGED;
const netdev_features_t NF_ONE_FOR_ALL = NETIF_F_ONE_FOR_ALL;
const netdev_features_t NF_CSUM_MASK = NETIF_F_CSUM_MASK;
const netdev_features_t NF_HW_VLAN_CTAG = NETIF_F_HW_VLAN_CTAG_TX |
	NETIF_F_HW_VLAN_CTAG_RX | NETIF_F_HW_VLAN_CTAG_FILTER;
#endif

#endif
