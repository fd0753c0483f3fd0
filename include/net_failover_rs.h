/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of the module's bindgen run: the netdev API that the `kernel` crate
 * of 6.12 does not cover, plus the static-inline helpers of nf_helpers.c.
 */
#ifndef _NET_FAILOVER_RS_H
#define _NET_FAILOVER_RS_H

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/failover.h>
#include <net/sch_generic.h>

void *nf_netdev_priv(const struct net_device *dev);
void nf_dev_hold(struct net_device *dev);
void nf_dev_put(struct net_device *dev);
bool nf_running(const struct net_device *dev);
bool nf_carrier_ok(const struct net_device *dev);
bool nf_parent_is_pci(const struct net_device *dev);
struct net_device *nf_notifier_dev(void *info);
void nf_rcu_read_lock(void);
void nf_rcu_read_unlock(void);
void nf_tx_wake_all(struct net_device *dev);
void nf_tx_disable(struct net_device *dev);
void nf_sync_addrs(struct net_device *slave, struct net_device *master,
		   bool lock);
void nf_unsync_addrs(struct net_device *slave, struct net_device *master);
void nf_unregister_netdevice(struct net_device *dev);
netdev_tx_t nf_queue_xmit(struct sk_buff *skb, struct net_device *to);
void nf_drop_xmit(struct sk_buff *skb, struct net_device *dev);
u16 nf_pick_tx(struct net_device *dev, struct sk_buff *skb,
	       struct net_device *sb_dev);
struct net_device *nf_skb_dev(const struct sk_buff *skb);
void nf_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
u16 nf_rx_queue(const struct sk_buff *skb);
void nf_save_queue_mapping(struct sk_buff *skb);
bool nf_same_netns(const struct net_device *a, const struct net_device *b);
struct net_device *nf_netns_next(struct net_device *master,
				 struct net_device *pos);
struct net_device *nf_first_failover_lower(struct net_device *master);
void nf_dev_net_copy(struct net_device *dst, const struct net_device *src);
void nf_log(const struct net_device *dev, bool err, const void *args);

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
const netdev_features_t NF_MASTER_HW_FEATURES =
	FAILOVER_VLAN_FEATURES | NETIF_F_HW_VLAN_CTAG_TX |
	NETIF_F_HW_VLAN_CTAG_RX | NETIF_F_HW_VLAN_CTAG_FILTER |
	NETIF_F_GSO_ENCAP_ALL;
#endif

#endif
