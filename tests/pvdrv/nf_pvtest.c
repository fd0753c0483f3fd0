// SPDX-License-Identifier: GPL-2.0
/*
 * A paravirtual test driver for the 2-netdev failover model: its netdev
 * "pv0" is the failover master (failover_register()) and a VF with the same
 * permanent MAC its only slave. TX goes through the VF when it is running;
 * the rx handler counts the VF's frames and passes them up through pv0.
 * Every callback is logged as "nf_pvtest: event <name> <slave>" so the test
 * can check their order.
 *
 * Parameters: mac= (the MAC to share with the VF), rx_frames (read),
 * detach (write 1: failover_slave_unregister() of the VF), keep_slave=1
 * (on unload, leave the VF attached when calling failover_unregister()),
 * nonether=1 (register a non-Ethernet master: failover_register() must fail),
 * late_unregister=1 (on unload, unregister pv0 before failover_unregister(),
 * in one RTNL section, as 4.18's netvsc_remove() did), unlocked_unregister=1
 * (on unload, call failover_unregister() without RTNL while a kthread holds
 * RTNL for 1.5 s: the log says when the holder released RTNL and when
 * failover_unregister() returned, relative to that).
 */
#include <linux/etherdevice.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/if_arp.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/failover.h>

static char *mac = "52:54:00:12:34:56";
module_param(mac, charp, 0444);
static bool keep_slave;
module_param(keep_slave, bool, 0644);
static bool nonether;
module_param(nonether, bool, 0444);
static bool late_unregister;
module_param(late_unregister, bool, 0644);
static bool unlocked_unregister;
module_param(unlocked_unregister, bool, 0644);

static struct net_device *pv_dev;
static struct net_device __rcu *pv_vf;
static struct failover *pv_failover;
static atomic_long_t pv_rx_frames;

#define EVENT(what, slave) pr_info("nf_pvtest: event %s %s\n", what, (slave)->name)

static int pv_pre_register(struct net_device *slave, struct net_device *master)
{
	EVENT("pre_register", slave);
	return rtnl_dereference(pv_vf) ? -EBUSY : 0;
}

static int pv_register(struct net_device *slave, struct net_device *master)
{
	EVENT("register", slave);
	dev_hold(slave);
	rcu_assign_pointer(pv_vf, slave);
	return 0;
}

static int pv_pre_unregister(struct net_device *slave, struct net_device *master)
{
	EVENT("pre_unregister", slave);
	return rtnl_dereference(pv_vf) == slave ? 0 : -ENODEV;
}

static int pv_unregister(struct net_device *slave, struct net_device *master)
{
	EVENT("unregister", slave);
	RCU_INIT_POINTER(pv_vf, NULL);
	dev_put(slave);
	return 0;
}

static int pv_link_change(struct net_device *slave, struct net_device *master)
{
	EVENT(netif_running(slave) && netif_carrier_ok(slave) ? "link_up" : "link_down", slave);
	return 0;
}

static int pv_name_change(struct net_device *slave, struct net_device *master)
{
	EVENT("name_change", slave);
	return 0;
}

static rx_handler_result_t pv_handle_frame(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;

	atomic_long_inc(&pv_rx_frames);
	skb->dev = rcu_dereference(skb->dev->rx_handler_data);
	return RX_HANDLER_ANOTHER;
}

static struct failover_ops pv_failover_ops = {
	.slave_pre_register = pv_pre_register,
	.slave_register = pv_register,
	.slave_pre_unregister = pv_pre_unregister,
	.slave_unregister = pv_unregister,
	.slave_link_change = pv_link_change,
	.slave_name_change = pv_name_change,
	.slave_handle_frame = pv_handle_frame,
};

static netdev_tx_t pv_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct net_device *vf = rcu_dereference_bh(pv_vf);

	if (!vf || !netif_running(vf)) {
		dev_core_stats_tx_dropped_inc(dev);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	skb->dev = vf;
	return dev_queue_xmit(skb);
}

static const struct net_device_ops pv_netdev_ops = {
	.ndo_start_xmit = pv_start_xmit,
	.ndo_validate_addr = eth_validate_addr,
};

static int rx_frames_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&pv_rx_frames));
}

static int detach_set(const char *val, const struct kernel_param *kp)
{
	struct net_device *vf;
	int ret = -ENODEV;

	rtnl_lock();
	vf = rtnl_dereference(pv_vf);
	if (vf)
		ret = failover_slave_unregister(vf);
	rtnl_unlock();
	pr_info("nf_pvtest: failover_slave_unregister returned %d\n", ret);
	return ret < 0 ? ret : 0;
}

static const struct kernel_param_ops rx_frames_ops = { .get = rx_frames_get };
static const struct kernel_param_ops detach_ops = { .set = detach_set };
module_param_cb(rx_frames, &rx_frames_ops, NULL, 0444);
module_param_cb(detach, &detach_ops, NULL, 0200);

static int __init pv_init(void)
{
	u8 addr[ETH_ALEN];
	int err;

	if (!mac_pton(mac, addr))
		return -EINVAL;
	pv_dev = alloc_etherdev(0);
	if (!pv_dev)
		return -ENOMEM;
	strscpy(pv_dev->name, "pv%d", IFNAMSIZ);
	pv_dev->netdev_ops = &pv_netdev_ops;
	pv_dev->lltx = true;
	pv_dev->priv_flags |= IFF_NO_QUEUE;
	eth_hw_addr_set(pv_dev, addr);
	err = register_netdev(pv_dev);
	if (err)
		goto free;
	if (nonether)
		pv_dev->type = ARPHRD_NONE;
	pv_failover = failover_register(pv_dev, &pv_failover_ops);
	if (IS_ERR(pv_failover)) {
		err = PTR_ERR(pv_failover);
		unregister_netdev(pv_dev);
		goto free;
	}
	return 0;
free:
	free_netdev(pv_dev);
	return err;
}

static DECLARE_COMPLETION(holder_locked);
static DECLARE_COMPLETION(holder_done);
static u64 holder_released_ns;

/* Holds RTNL for 1.5 s, then notes when it released it. */
static int rtnl_holder(void *unused)
{
	rtnl_lock();
	complete(&holder_locked);
	msleep(1500);
	WRITE_ONCE(holder_released_ns, ktime_get_ns());
	rtnl_unlock();
	pr_info("nf_pvtest: RTNL holder released RTNL\n");
	kthread_complete_and_exit(&holder_done, 0);
}

/* failover_unregister() without RTNL while another task holds it: a caller
 * that breaks the contract. Ours must warn and wait for RTNL.
 */
static void unregister_without_rtnl(void)
{
	struct task_struct *holder;
	u64 released, now;

	holder = kthread_run(rtnl_holder, NULL, "nf_pvtest_rtnl");
	if (IS_ERR(holder)) {
		pr_err("nf_pvtest: no RTNL holder thread (%ld)\n", PTR_ERR(holder));
		rtnl_lock();
		failover_unregister(pv_failover);
		rtnl_unlock();
		return;
	}
	wait_for_completion(&holder_locked);
	pr_info("nf_pvtest: calling failover_unregister() without RTNL while another task holds it\n");
	failover_unregister(pv_failover);
	now = ktime_get_ns();
	released = READ_ONCE(holder_released_ns);
	if (released && released <= now)
		pr_info("nf_pvtest: failover_unregister returned %llu ms after the holder released RTNL\n",
			div_u64(now - released, NSEC_PER_MSEC));
	else
		pr_info("nf_pvtest: failover_unregister returned while the holder still held RTNL\n");
	wait_for_completion(&holder_done);
}

static void __exit pv_exit(void)
{
	struct net_device *vf;

	rtnl_lock();
	vf = rtnl_dereference(pv_vf);
	if (vf && !keep_slave)
		failover_slave_unregister(vf);
	if (unlocked_unregister) {
		rtnl_unlock();
		unregister_without_rtnl();
		unregister_netdev(pv_dev);
		free_netdev(pv_dev);
		return;
	}
	if (late_unregister) {
		/* 4.18 netvsc_remove()'s order: the master first, in one RTNL section. */
		unregister_netdevice(pv_dev);
		failover_unregister(pv_failover);
		rtnl_unlock();
		free_netdev(pv_dev);
		return;
	}
	failover_unregister(pv_failover);
	rtnl_unlock();
	unregister_netdev(pv_dev);
	free_netdev(pv_dev);
}

module_init(pv_init);
module_exit(pv_exit);
MODULE_DESCRIPTION("Paravirtual test driver for the 2-netdev failover model");
MODULE_LICENSE("GPL");
