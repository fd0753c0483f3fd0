// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the failover tests and the debug kernel's checkers.
 *
 * Parameters:
 *   mac=M       the permanent MAC of the devices below;
 *   ether=1     register "dbgeth0", an Ethernet netdev without a parent
 *               (not PCI) with permanent MAC M;
 *   nonether=1  register "dbgraw0", a non-Ethernet (ARPHRD_NONE) netdev
 *               with permanent MAC M;
 *   check=IF    (write) describe netdev IF of the writer's namespace: its
 *               upper devices, rx handler and failover flag; read it back
 *               from the same file (also logged);
 *   leak=1      kmalloc() NF_DEBUGTEST_LEAKS objects of NF_DEBUGTEST_LEAK_SIZE
 *               bytes and lose the pointers, for kmemleak to report
 *               (backtrace in nf_debugtest_leak); several, and the stack
 *               wiped after them, because kmemleak misses an object whose
 *               address is still in a stale stack slot it scans;
 *   uaf=1       read a kmalloc()ed object after kfree(), for KASAN to
 *               report (slab-use-after-free in nf_debugtest_uaf);
 *   time_stats=IF  (write) call dev_get_stats() on netdev IF of the writer's
 *               namespace NF_DEBUGTEST_STATS_CALLS times, timed with
 *               ktime_get_ns() (guest instructions under QEMU -icount); read
 *               "IF CALLS NS" back from the same file.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/slab.h>

#define NF_DEBUGTEST_LEAK_SIZE 12345
#define NF_DEBUGTEST_LEAKS 8
#define NF_DEBUGTEST_STATS_CALLS 10000

static char *mac;
module_param(mac, charp, 0444);
MODULE_PARM_DESC(mac, "permanent MAC of the test netdevs");
static bool ether;
module_param(ether, bool, 0444);
MODULE_PARM_DESC(ether, "register a non-PCI Ethernet netdev with that MAC");
static bool nonether;
module_param(nonether, bool, 0444);
MODULE_PARM_DESC(nonether, "register a non-Ethernet netdev with that MAC");
static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "leak NF_DEBUGTEST_LEAKS objects of NF_DEBUGTEST_LEAK_SIZE bytes");
static bool uaf;
module_param(uaf, bool, 0444);
MODULE_PARM_DESC(uaf, "read an object after freeing it");

static struct net_device *dbg_ether, *dbg_raw;
static char dbg_report[256];

static netdev_tx_t dbg_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops dbg_netdev_ops = {
	.ndo_start_xmit = dbg_start_xmit,
};

static void dbg_raw_setup(struct net_device *dev)
{
	dev->type = ARPHRD_NONE;
	dev->addr_len = ETH_ALEN;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_DATA_LEN;
	dev->flags = IFF_NOARP;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->lltx = true;
	dev->netdev_ops = &dbg_netdev_ops;
}

static struct net_device *dbg_register(const char *name, void (*setup)(struct net_device *),
				       const u8 *addr)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, name, NET_NAME_ENUM, setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev->netdev_ops = &dbg_netdev_ops;
	dev_addr_set(dev, addr);
	err = register_netdev(dev);
	if (err) {
		free_netdev(dev);
		return ERR_PTR(err);
	}
	return dev;
}

static void dbg_unregister(struct net_device *dev)
{
	if (dev) {
		unregister_netdev(dev);
		free_netdev(dev);
	}
}

static int check_set(const char *val, const struct kernel_param *kp)
{
	struct net *net = current->nsproxy->net_ns;
	struct net_device *dev, *master;
	rx_handler_func_t *handler;
	char name[IFNAMSIZ], rx[64] = "-";

	strscpy(name, val, sizeof(name));
	strim(name);
	rtnl_lock();
	dev = __dev_get_by_name(net, name);
	if (!dev) {
		rtnl_unlock();
		return -ENODEV;
	}
	master = netdev_master_upper_dev_get(dev);
	handler = rtnl_dereference(dev->rx_handler);
	if (handler)
		snprintf(rx, sizeof(rx), "%ps", handler);
	scnprintf(dbg_report, sizeof(dbg_report),
		  "%s type=%u perm=%pM master=%s upper=%d rx_handler=%s failover_slave=%d slave=%d no_addrconf=%d netns=%u",
		  dev->name, dev->type, dev->perm_addr, master ? master->name : "-",
		  netdev_has_any_upper_dev(dev), rx, netif_is_failover_slave(dev),
		  !!(dev->flags & IFF_SLAVE), !!(dev->priv_flags & IFF_NO_ADDRCONF),
		  net->ns.inum);
	rtnl_unlock();
	pr_info("nf_debugtest: %s\n", dbg_report);
	return 0;
}

static int check_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", dbg_report);
}

static const struct kernel_param_ops check_ops = { .set = check_set, .get = check_get };
module_param_cb(check, &check_ops, NULL, 0644);
MODULE_PARM_DESC(check, "netdev to describe (write), its description (read)");

static char stats_report[64];

static int time_stats_set(const char *val, const struct kernel_param *kp)
{
	struct rtnl_link_stats64 stats;
	struct net_device *dev;
	netdevice_tracker tracker;
	char name[IFNAMSIZ];
	u64 start, ns;
	int i;

	strscpy(name, val, sizeof(name));
	strim(name);
	dev = netdev_get_by_name(current->nsproxy->net_ns, name, &tracker, GFP_KERNEL);
	if (!dev)
		return -ENODEV;
	start = ktime_get_ns();
	for (i = 0; i < NF_DEBUGTEST_STATS_CALLS; i++)
		dev_get_stats(dev, &stats);
	ns = ktime_get_ns() - start;
	netdev_put(dev, &tracker);
	scnprintf(stats_report, sizeof(stats_report), "%s %d %llu", name,
		  NF_DEBUGTEST_STATS_CALLS, ns);
	return 0;
}

static int time_stats_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", stats_report);
}

static const struct kernel_param_ops time_stats_ops = { .set = time_stats_set, .get = time_stats_get };
module_param_cb(time_stats, &time_stats_ops, NULL, 0644);
MODULE_PARM_DESC(time_stats, "netdev whose dev_get_stats() to time (write), the result (read)");

static noinline void nf_debugtest_leak(void)
{
	char *p = kmalloc(NF_DEBUGTEST_LEAK_SIZE, GFP_KERNEL);

	if (!p)
		return;
	strscpy(p, "nf_debugtest leak", NF_DEBUGTEST_LEAK_SIZE);
	OPTIMIZER_HIDE_VAR(p);
}

/*
 * Overwrites @depth * 768 bytes of stack below the caller: the allocator's
 * frames below the leaking ones left the objects' addresses there, and this
 * stack's pages, freed with the task, come back as objects kmemleak scans.
 */
static noinline void nf_debugtest_wipe_stack(int depth)
{
	char buf[768];

	memzero_explicit(buf, sizeof(buf));
	if (depth > 1)
		nf_debugtest_wipe_stack(depth - 1);
	/* Keeps this frame alive across the call (no tail call reusing it). */
	barrier_data(buf);
}

static void nf_debugtest_leaks(void)
{
	int i;

	for (i = 0; i < NF_DEBUGTEST_LEAKS; i++)
		nf_debugtest_leak();
	nf_debugtest_wipe_stack(8);
	pr_info("nf_debugtest: leaked %d objects of %d bytes\n", NF_DEBUGTEST_LEAKS,
		NF_DEBUGTEST_LEAK_SIZE);
}

static noinline void nf_debugtest_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return;
	p[0] = 'u';
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("nf_debugtest: read after kfree: %d\n", READ_ONCE(p[0]));
}

static int __init dbg_init(void)
{
	u8 addr[ETH_ALEN];

	if ((ether || nonether) && (!mac || !mac_pton(mac, addr)))
		return -EINVAL;
	if (ether) {
		dbg_ether = dbg_register("dbgeth%d", ether_setup, addr);
		if (IS_ERR(dbg_ether))
			return PTR_ERR(dbg_ether);
	}
	if (nonether) {
		dbg_raw = dbg_register("dbgraw%d", dbg_raw_setup, addr);
		if (IS_ERR(dbg_raw)) {
			dbg_unregister(dbg_ether);
			return PTR_ERR(dbg_raw);
		}
	}
	if (leak)
		nf_debugtest_leaks();
	if (uaf)
		nf_debugtest_uaf();
	return 0;
}

static void __exit dbg_exit(void)
{
	dbg_unregister(dbg_raw);
	dbg_unregister(dbg_ether);
}

module_init(dbg_init);
module_exit(dbg_exit);
MODULE_DESCRIPTION("Test-only netdevs and checker triggers for the failover tests");
MODULE_LICENSE("GPL");
