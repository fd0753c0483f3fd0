// SPDX-License-Identifier: GPL-2.0
/*
 * Static-inline netdev helpers for the Rust code (bindgen cannot see them),
 * and the exports of the Rust implementation of the failover C API.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <net/net_failover.h>
#include "include/net_failover_rs.h"

EXPORT_SYMBOL_GPL(net_failover_create);
EXPORT_SYMBOL_GPL(net_failover_destroy);
EXPORT_SYMBOL_GPL(failover_register);
EXPORT_SYMBOL_GPL(failover_unregister);
EXPORT_SYMBOL_GPL(failover_slave_unregister);

void *nf_netdev_priv(const struct net_device *dev) { return netdev_priv(dev); }
void nf_dev_hold(struct net_device *dev) { dev_hold(dev); }
void nf_dev_put(struct net_device *dev) { dev_put(dev); }
bool nf_running(const struct net_device *dev) { return netif_running(dev); }
bool nf_carrier_ok(const struct net_device *dev) { return netif_carrier_ok(dev); }
void nf_rcu_read_lock(void) { rcu_read_lock(); }
void nf_rcu_read_unlock(void) { rcu_read_unlock(); }
void nf_tx_wake_all(struct net_device *dev) { netif_tx_wake_all_queues(dev); }
void nf_tx_disable(struct net_device *dev) { netif_tx_disable(dev); }
void nf_unregister_netdevice(struct net_device *dev) { unregister_netdevice(dev); }

bool nf_parent_is_pci(const struct net_device *dev)
{
	return dev->dev.parent && dev_is_pci(dev->dev.parent);
}

struct net_device *nf_notifier_dev(void *info)
{
	return netdev_notifier_info_to_dev(info);
}

void nf_sync_addrs(struct net_device *slave, struct net_device *master, bool lock)
{
	if (lock)
		netif_addr_lock_bh(master);
	dev_uc_sync_multiple(slave, master);
	dev_mc_sync_multiple(slave, master);
	if (lock)
		netif_addr_unlock_bh(master);
}

void nf_unsync_addrs(struct net_device *slave, struct net_device *master)
{
	dev_uc_unsync(slave, master);
	dev_mc_unsync(slave, master);
}

bool nf_same_netns(const struct net_device *a, const struct net_device *b)
{
	return net_eq(dev_net(a), dev_net(b));
}

void nf_dev_net_copy(struct net_device *dst, const struct net_device *src)
{
	dev_net_set(dst, dev_net(src));
}

/* for_each_netdev() in @master's namespace: the device after @pos (or the first). */
struct net_device *nf_netns_next(struct net_device *master, struct net_device *pos)
{
	struct net *net = dev_net(master);
	struct list_head *next = pos ? pos->dev_list.next : net->dev_base_head.next;

	return next == &net->dev_base_head ? NULL :
	       list_entry(next, struct net_device, dev_list);
}

struct net_device *nf_first_failover_lower(struct net_device *master)
{
	struct net_device *lower;
	struct list_head *iter;

	netdev_for_each_lower_dev(master, lower, iter)
		if (netif_is_failover_slave(lower))
			return lower;
	return NULL;
}

netdev_tx_t nf_queue_xmit(struct sk_buff *skb, struct net_device *to)
{
	skb->dev = to;
	skb->queue_mapping = qdisc_skb_cb(skb)->slave_dev_queue_mapping;
	return dev_queue_xmit(skb);
}

void nf_drop_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
	dev_kfree_skb_any(skb);
}

u16 nf_pick_tx(struct net_device *dev, struct sk_buff *skb, struct net_device *sb_dev)
{
	if (dev->netdev_ops->ndo_select_queue)
		return dev->netdev_ops->ndo_select_queue(dev, skb, sb_dev);
	return netdev_pick_tx(dev, skb, NULL);
}

struct net_device *nf_skb_dev(const struct sk_buff *skb) { return skb->dev; }
void nf_skb_set_dev(struct sk_buff *skb, struct net_device *dev) { skb->dev = dev; }

u16 nf_rx_queue(const struct sk_buff *skb)
{
	return skb_rx_queue_recorded(skb) ? skb_get_rx_queue(skb) : 0;
}

void nf_save_queue_mapping(struct sk_buff *skb)
{
	qdisc_skb_cb(skb)->slave_dev_queue_mapping = skb->queue_mapping;
}

/* @args is a Rust `fmt::Arguments`, printed by vsprintf's %pA. */
void nf_log(const struct net_device *dev, bool err, const void *args)
{
	if (err)
		netdev_err(dev, "%pA\n", args);
	else
		netdev_info(dev, "%pA\n", args);
}
