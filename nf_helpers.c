// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of net_failover_rs: the static-inline netdev helpers that bindgen
 * cannot bind, one nf_<name> per C helper <name>, plus the few places where a
 * C macro forces glue (each says which); and the exports of the Rust
 * implementation of the failover C API.
 */
#include <linux/debug_locks.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <net/net_failover.h>
#include "include/net_failover_rs.h"

/* module! of 6.12 has no version: modinfo's comes from here (dkms.conf and
 * debian/changelog carry the same).
 */
MODULE_VERSION("1.0.0");
/* It replaces both C modules: `modprobe net_failover` (or failover), module
 * lists and blacklists that name them, reach it where they are not built
 * (CONFIG_NET_FAILOVER_RUST).
 */
MODULE_ALIAS("net_failover");
MODULE_ALIAS("failover");

EXPORT_SYMBOL_GPL(net_failover_create);
EXPORT_SYMBOL_GPL(net_failover_destroy);
EXPORT_SYMBOL_GPL(failover_register);
EXPORT_SYMBOL_GPL(failover_unregister);
EXPORT_SYMBOL_GPL(failover_slave_unregister);

/* The 6.12 `kernel` crate has no module parameters: this one is declared here
 * and read through nf_param_link_kind().
 */
static bool link_kind;
module_param(link_kind, bool, 0444);
MODULE_PARM_DESC(link_kind,
		 "Report the link kind \"failover\" on masters and the slave kind and role on their slaves (default off: NetworkManager treats a link with a kind as generic, not Ethernet)");
bool nf_param_link_kind(void) { return link_kind; }

/* Declared here for the same reason; read through nf_param_primary_open_delay_ms().
 * Writable: a new value applies to the primaries enslaved after the write.
 */
static unsigned int primary_open_delay_ms;
module_param(primary_open_delay_ms, uint, 0644);
MODULE_PARM_DESC(primary_open_delay_ms,
		 "Open a new primary (VF) this many ms after it is enslaved, so that udev can rename it first (default 0: at once)");
unsigned int nf_param_primary_open_delay_ms(void) { return READ_ONCE(primary_open_delay_ms); }

void nf_netdev_hold(struct net_device *dev, netdevice_tracker *tracker, gfp_t gfp)
{
	netdev_hold(dev, tracker, gfp);
}
void nf_netdev_put(struct net_device *dev, netdevice_tracker *tracker) { netdev_put(dev, tracker); }
void nf_rcu_read_lock(void) { rcu_read_lock(); }
void nf_rcu_read_unlock(void) { rcu_read_unlock(); }
void nf_might_sleep(void) { might_sleep(); }
void nf_netif_tx_wake_all_queues(struct net_device *dev) { netif_tx_wake_all_queues(dev); }
void nf_netif_tx_disable(struct net_device *dev) { netif_tx_disable(dev); }
void nf_netif_addr_lock_bh(struct net_device *dev) { netif_addr_lock_bh(dev); }
void nf_netif_addr_unlock_bh(struct net_device *dev) { netif_addr_unlock_bh(dev); }
void nf_unregister_netdevice(struct net_device *dev) { unregister_netdevice(dev); }
bool nf_dev_is_pci(struct device *dev) { return dev_is_pci(dev); }
struct net *nf_dev_net(const struct net_device *dev) { return dev_net(dev); }
void nf_dev_net_set(struct net_device *dev, struct net *net) { dev_net_set(dev, net); }
void nf_dev_core_stats_tx_dropped_inc(struct net_device *dev) { dev_core_stats_tx_dropped_inc(dev); }
void nf_dev_kfree_skb_any(struct sk_buff *skb) { dev_kfree_skb_any(skb); }
unsigned long nf_msecs_to_jiffies(unsigned int m) { return msecs_to_jiffies(m); }
bool nf_schedule_delayed_work(struct delayed_work *dwork, unsigned long delay)
{
	return schedule_delayed_work(dwork, delay);
}

/* INIT_DELAYED_WORK(), a macro (with a lockdep key per call site: one for
 * every work of the module).
 */
void nf_init_delayed_work(struct delayed_work *dwork, work_func_t func)
{
	INIT_DELAYED_WORK(dwork, func);
}

bool nf_dev_net_is_init(const struct net_device *dev) { return net_eq(dev_net(dev), &init_net); }

/* NL_SET_ERR_MSG(), a macro that takes only a string literal: the same with
 * a static string of the caller's.
 */
void nf_nl_set_err_msg(struct netlink_ext_ack *extack, const char *msg)
{
	do_trace_netlink_extack(msg);
	if (extack)
		extack->_msg = msg;
}

/* Whether the current task holds RTNL: 1 if it does, 0 if it does not, as
 * lockdep_rtnl_is_held() tells while lockdep runs (CONFIG_PROVE_LOCKING and
 * debug_locks: lockdep_is_held() answers "held" once lockdep has turned itself
 * off); else -1 if some task holds it and 0 if none does (rtnl_is_locked(),
 * what ASSERT_RTNL() tests: which task holds it cannot be told).
 */
int nf_rtnl_held_by_current(void)
{
#ifdef CONFIG_PROVE_LOCKING
	if (READ_ONCE(debug_locks))
		return lockdep_rtnl_is_held();
#endif
	return rtnl_is_locked() ? -1 : 0;
}

struct net_device *nf_netdev_notifier_info_to_dev(void *info)
{
	return netdev_notifier_info_to_dev(info);
}

int nf_notifier_from_errno(int err) { return notifier_from_errno(err); }

/* for_each_netdev() (a macro) in @dev's namespace: the device after @pos, or the first. */
struct net_device *nf_netns_next(struct net_device *dev, struct net_device *pos)
{
	struct net *net = dev_net(dev);
	struct list_head *next = pos ? pos->dev_list.next : net->dev_base_head.next;

	return next == &net->dev_base_head ? NULL :
	       list_entry(next, struct net_device, dev_list);
}

