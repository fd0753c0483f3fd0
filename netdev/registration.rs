// SPDX-License-Identifier: GPL-2.0

//! A master netdev of a [`MasterOps`] type: allocated and set up as a
//! [`NewMaster`], registered as a [`Registration`], used as a [`Master`].

use super::{
    bindings as b,
    device::{read_once, IFF_XMIT_DST_RELEASE},
    might_sleep, rtnl_lock, LinkKind, LinkOps, MasterOps, NetDev, Rtnl, Unregistered,
};
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::{BitOr, Deref},
    ptr::{self, NonNull},
};
use kernel::{error::to_result, prelude::*};

/// `netdev_priv(dev)`: `dev->priv`, the private area after the device
/// (6.12's `netdev_priv()` returns exactly this).
///
/// # Safety
///
/// `dev` points to a `struct net_device` allocated by `alloc_netdev_mqs()`.
unsafe fn netdev_priv(dev: *mut b::net_device) -> *mut u8 {
    // SAFETY: `dev` is a valid allocation (caller); taking a field's address
    // reads nothing.
    unsafe { ptr::addr_of_mut!((*dev).priv_).cast() }
}

/// A registered master netdev whose private data is a `T::Priv`.
///
/// # Invariants
///
/// The device was allocated by [`NewMaster::<T>::alloc_etherdev_mq`]: its
/// `netdev_ops` and `ethtool_ops` are `T`'s tables and its private area holds
/// an initialised `T::Priv` until after it is unregistered.
#[repr(transparent)]
pub(crate) struct Master<T: MasterOps>(NetDev, PhantomData<T>);

impl<T: MasterOps> Deref for Master<T> {
    type Target = NetDev;
    fn deref(&self) -> &NetDev {
        &self.0
    }
}

impl<T: MasterOps> Master<T> {
    /// # Safety
    ///
    /// `p` is a registered device allocated by
    /// [`NewMaster::<T>::alloc_etherdev_mq`], valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(p: *const b::net_device) -> &'a Self {
        // SAFETY: Transparent wrappers; validity from the caller.
        unsafe { &*p.cast() }
    }

    /// `dev` as a `T` master, if it is one.
    pub(crate) fn try_from(dev: &NetDev) -> Option<&Self> {
        let ours = ptr::eq(read_once!(dev, netdev_ops), T::vtables().ndo());
        // SAFETY: Only `NewMaster::<T>` installs a `Vtables<T>`, and no other
        // live object has the address of `T::vtables()`'s table (see
        // [`super::Vtables`]): a device with that table is a `T` master.
        ours.then(|| unsafe { Self::from_raw(dev.as_raw()) })
    }

    /// The private data.
    pub(crate) fn data(&self) -> &T::Priv {
        // SAFETY: The private area holds a `T::Priv` (type invariant).
        unsafe { &*netdev_priv(self.as_raw()).cast() }
    }

    /// `WRITE_ONCE(dev->mtu, mtu)`, as `ndo_change_mtu` does.
    pub(crate) fn write_mtu(&self, _: &Rtnl, mtu: u32) {
        // SAFETY: The device is valid; RTNL (held) serialises writers and
        // lockless readers use `READ_ONCE()`.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!((*self.as_raw()).mtu), mtu) };
    }

    /// Sets `min_mtu` and `max_mtu`.
    pub(crate) fn set_mtu_range(&self, _: &Rtnl, (min, max): (u32, u32)) {
        // SAFETY: The device is valid and RTNL (held) serialises writers.
        unsafe { ((*self.as_raw()).min_mtu, (*self.as_raw()).max_mtu) = (min, max) };
    }

    /// Sets `vlan_features`, `hw_enc_features`, `hard_header_len` and
    /// `IFF_XMIT_DST_RELEASE`, then `netdev_change_features()`.
    pub(crate) fn change_features(
        &self,
        r: &Rtnl,
        vlan_features: u64,
        hw_enc_features: u64,
        hard_header_len: u16,
        xmit_dst_release: bool,
    ) {
        might_sleep();
        // SAFETY: The device is valid and RTNL (held) serialises writers;
        // `hard_header_len` is read without locks on the TX path, so it is
        // written once, as `WRITE_ONCE()`.
        unsafe {
            let d = self.as_raw();
            (*d).vlan_features = vlan_features;
            (*d).hw_enc_features = hw_enc_features;
            ptr::write_volatile(ptr::addr_of_mut!((*d).hard_header_len), hard_header_len);
        }
        let f = IFF_XMIT_DST_RELEASE;
        self.update_priv_flags(r, if xmit_dst_release { f } else { 0 }, f);
        // SAFETY: The device is valid and RTNL is held.
        unsafe { b::netdev_change_features(self.as_raw()) };
    }

    /// `netif_carrier_on()`.
    pub(crate) fn carrier_on(&self) {
        // SAFETY: The device is valid.
        unsafe { b::netif_carrier_on(self.as_raw()) };
    }

    /// `netif_carrier_off()`.
    pub(crate) fn carrier_off(&self) {
        // SAFETY: The device is valid.
        unsafe { b::netif_carrier_off(self.as_raw()) };
    }

    /// `netif_tx_wake_all_queues()`.
    pub(crate) fn tx_wake_all_queues(&self) {
        // SAFETY: The device is valid and registered, so its queues exist.
        unsafe { b::nf_netif_tx_wake_all_queues(self.as_raw()) };
    }

    /// `netif_tx_disable()`.
    pub(crate) fn tx_disable(&self) {
        // SAFETY: The device is valid and registered, so its queues exist.
        unsafe { b::nf_netif_tx_disable(self.as_raw()) };
    }
}

/// `priv_flags` that a master may set or clear on itself before registration.
#[derive(Clone, Copy)]
pub(crate) struct PrivFlags(u64);

impl PrivFlags {
    /// `IFF_UNICAST_FLT`.
    pub(crate) const UNICAST_FLT: Self = Self(b::netdev_priv_flags_IFF_UNICAST_FLT as u64);
    /// `IFF_NO_QUEUE`.
    pub(crate) const NO_QUEUE: Self = Self(b::netdev_priv_flags_IFF_NO_QUEUE as u64);
    /// `IFF_XMIT_DST_RELEASE`.
    pub(crate) const XMIT_DST_RELEASE: Self = Self(IFF_XMIT_DST_RELEASE);
    /// `IFF_TX_SKB_SHARING`.
    pub(crate) const TX_SKB_SHARING: Self = Self(b::netdev_priv_flags_IFF_TX_SKB_SHARING as u64);
}

impl BitOr for PrivFlags {
    type Output = Self;
    fn bitor(self, o: Self) -> Self {
        Self(self.0 | o.0)
    }
}

/// A master netdev of type `T`, allocated but not registered yet.
///
/// # Invariants
///
/// Owns an unregistered device from `alloc_etherdev_mqs()` whose ops are
/// `T`'s tables and whose private area holds an initialised `T::Priv`.
pub(crate) struct NewMaster<T: MasterOps>(NonNull<b::net_device>, PhantomData<T>);

impl<T: MasterOps> NewMaster<T> {
    /// `alloc_etherdev_mq()` with `queues` TX and RX queues, the private data
    /// from `init`, and `T`'s `netdev_ops` and `ethtool_ops`.
    pub(crate) fn alloc_etherdev_mq(
        init: impl PinInit<T::Priv, Error>,
        queues: u32,
    ) -> Result<Self> {
        const { assert!(core::mem::align_of::<T::Priv>() <= b::NETDEV_ALIGN as usize) };
        let size = i32::try_from(core::mem::size_of::<T::Priv>())?;
        // SAFETY: `alloc_etherdev_mqs()` may be called in process context.
        let raw =
            NonNull::new(unsafe { b::alloc_etherdev_mqs(size, queues, queues) }).ok_or(ENOMEM)?;
        // SAFETY: A new device: its private area is zeroed, `NETDEV_ALIGN`ed
        // and `size` bytes long, and never moves.
        if let Err(e) = unsafe { init.__pinned_init(netdev_priv(raw.as_ptr()).cast()) } {
            // SAFETY: Not registered and not initialised: only memory to free.
            unsafe { b::free_netdev(raw.as_ptr()) };
            return Err(e);
        }
        // SAFETY: The device is new and ours; the tables are `'static`.
        unsafe {
            (*raw.as_ptr()).netdev_ops = T::vtables().ndo();
            (*raw.as_ptr()).ethtool_ops = T::vtables().ethtool();
        }
        // INVARIANT: Allocated, ops set, private data initialised above.
        Ok(Self(raw, PhantomData))
    }

    fn raw(&mut self) -> &mut b::net_device {
        // SAFETY: The device is ours and not visible to anyone else yet.
        unsafe { &mut *self.0.as_ptr() }
    }

    /// `dev_net_set(dev, dev_net(like))`.
    pub(crate) fn dev_net_set(&mut self, like: &Unregistered) {
        // SAFETY: Both devices are valid; `like` does not change while
        // borrowed (its invariant).
        unsafe { b::nf_dev_net_set(self.0.as_ptr(), b::nf_dev_net(like.as_raw())) };
    }

    /// `SET_NETDEV_DEV(dev, like->dev.parent)`.
    pub(crate) fn set_netdev_dev(&mut self, like: &Unregistered) {
        // SAFETY: `like` is valid and does not change while borrowed; its
        // parent outlives it and so this device, which it creates.
        self.raw().dev.parent = unsafe { (*like.as_raw()).dev.parent };
    }

    fn update_priv_flags(&mut self, f: impl FnOnce(u64) -> u64) {
        // SAFETY: The union's members are views of the same zero-initialised
        // words; this one is the bitfield view of `priv_flags`.
        let pf = unsafe { &mut self.raw().__bindgen_anon_1.__bindgen_anon_1 };
        pf.set_priv_flags(f(pf.priv_flags() as u64) as _);
    }

    /// Sets `flags` in `priv_flags`.
    pub(crate) fn priv_flags_set(&mut self, flags: PrivFlags) {
        self.update_priv_flags(|v| v | flags.0);
    }

    /// Clears `flags` in `priv_flags`.
    pub(crate) fn priv_flags_clear(&mut self, flags: PrivFlags) {
        self.update_priv_flags(|v| v & !flags.0);
    }

    /// `dev->lltx = true`: the core does not take the TX lock (the ops are
    /// `Sync`).
    pub(crate) fn set_lltx(&mut self) {
        // SAFETY: As in `update_priv_flags()`: the bitfield view of the word
        // that holds `lltx`.
        unsafe { self.raw().__bindgen_anon_1.__bindgen_anon_1.set_lltx(1) };
    }

    /// `dev->netns_immutable = true`.
    pub(crate) fn set_netns_immutable(&mut self) {
        self.raw().set_netns_immutable(1);
    }

    /// Sets `hw_features` and adds them to `features`.
    pub(crate) fn set_hw_features(&mut self, features: u64) {
        let d = self.raw();
        d.hw_features = features;
        d.features |= features;
    }

    /// `dev_addr_set(dev, like->dev_addr)`.
    pub(crate) fn dev_addr_set(&mut self, like: &Unregistered) {
        // SAFETY: Both devices are valid; `dev_addr` has `ETH_ALEN` bytes.
        unsafe {
            b::dev_addr_mod(
                self.0.as_ptr(),
                0,
                (*like.as_raw()).dev_addr.cast(),
                b::ETH_ALEN as usize,
            )
        };
    }

    /// Sets `min_mtu` and `max_mtu` to `like`'s.
    pub(crate) fn set_mtu_range(&mut self, like: &Unregistered) {
        // SAFETY: `like` is valid and does not change while borrowed.
        let (min, max) = unsafe { ((*like.as_raw()).min_mtu, (*like.as_raw()).max_mtu) };
        let d = self.raw();
        (d.min_mtu, d.max_mtu) = (min, max);
    }

    /// `dev->rtnl_link_ops = ops`: the device reports `K`'s kind, and its
    /// slaves `K`'s slave kind and data (see [`super::link`]).
    /// [`NewMaster::register_netdev`] then refuses (`EINVAL`) unless the
    /// device is in the initial namespace and cannot move
    /// ([`NewMaster::set_netns_immutable`]): `K`'s `dellink` unregisters
    /// nothing, so a namespace's exit could not remove it.
    pub(crate) fn set_link_ops<K: LinkKind>(&mut self, ops: &'static LinkOps<K>) {
        self.raw().rtnl_link_ops = ops.as_raw();
    }

    /// `register_netdev()`.
    pub(crate) fn register_netdev(mut self) -> Result<Registration<T>> {
        might_sleep();
        if !self.raw().rtnl_link_ops.is_null() {
            // SAFETY: The device is valid and ours.
            let init = unsafe { b::nf_dev_net_is_init(self.0.as_ptr()) };
            if !init || self.raw().netns_immutable() == 0 {
                return Err(EINVAL);
            }
        }
        let raw = ManuallyDrop::new(self).0;
        // SAFETY: The device is set up; `register_netdev()` takes RTNL.
        if let Err(e) = to_result(unsafe { b::register_netdev(raw.as_ptr()) }) {
            drop(Self(raw, PhantomData));
            return Err(e);
        }
        // INVARIANT: Registered above; the rest from `NewMaster`'s invariant.
        Ok(Registration(raw, PhantomData))
    }
}

impl<T: MasterOps> Drop for NewMaster<T> {
    fn drop(&mut self) {
        // SAFETY: The private data is initialised and nothing uses the
        // unregistered device; `free_netdev()` frees it at once.
        unsafe {
            ptr::drop_in_place(netdev_priv(self.0.as_ptr()).cast::<T::Priv>());
            b::free_netdev(self.0.as_ptr());
        }
    }
}

/// A registered master netdev of type `T`, unregistered and freed on drop.
///
/// # Invariants
///
/// Owns a registered device allocated by [`NewMaster::<T>`] (see
/// [`Master`]'s invariants) and the allocation's reference to it.
pub(crate) struct Registration<T: MasterOps>(NonNull<b::net_device>, PhantomData<T>);

// SAFETY: The device may be unregistered from any thread; `T::Priv` is `Send`.
unsafe impl<T: MasterOps> Send for Registration<T> {}
// SAFETY: `&Registration` only gives `&Master<T>`, which is `Sync`.
unsafe impl<T: MasterOps> Sync for Registration<T> {}

impl<T: MasterOps> Registration<T> {
    /// The registered master.
    pub(crate) fn master(&self) -> &Master<T> {
        // SAFETY: Registered `T` master, alive while `self` is (invariant).
        unsafe { Master::from_raw(self.0.as_ptr()) }
    }

    /// `netif_device_detach()`; then, under RTNL, `release` (which lets go of
    /// the slaves and every other reference it holds) and
    /// `unregister_netdevice()`; then frees the device.
    pub(crate) fn unregister(self, release: impl FnOnce(&Master<T>, &Rtnl)) {
        ManuallyDrop::new(self).teardown(release);
    }

    fn teardown(&mut self, release: impl FnOnce(&Master<T>, &Rtnl)) {
        let raw = self.0.as_ptr();
        // SAFETY: The device is registered.
        unsafe { b::netif_device_detach(raw) };
        {
            let r = rtnl_lock();
            release(self.master(), &r);
            // SAFETY: The device is registered and RTNL is held, which every
            // reader of the field (rtnetlink) holds too. Cleared so that
            // `rtnl_link_unregister()` never meets the device.
            unsafe { (*raw).rtnl_link_ops = ptr::null() };
            // SAFETY: The device is registered and RTNL is held.
            unsafe { b::nf_unregister_netdevice(raw) };
        }
        // SAFETY: `rtnl_unlock()` ran `netdev_run_todo()`, which waited for
        // every other reference: no callback runs any more and only the
        // allocation is left; `free_netdev()` releases it.
        unsafe {
            ptr::drop_in_place(netdev_priv(raw).cast::<T::Priv>());
            b::free_netdev(raw);
        }
    }
}

impl<T: MasterOps> Drop for Registration<T> {
    fn drop(&mut self) {
        self.teardown(|_, _| ());
    }
}
