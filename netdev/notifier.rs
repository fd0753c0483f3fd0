// SPDX-License-Identifier: GPL-2.0

//! The netdevice notifier chain (`register_netdevice_notifier()`).

use super::{bindings as b, device::Registering, might_sleep, NetDev, Rtnl};
use core::ptr;
use kernel::{
    error::to_result, ffi::c_void, init::pin_init_from_closure, prelude::*, types::Opaque,
};

/// A netdevice event the failover core acts on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetdevEvent {
    /// `NETDEV_REGISTER`.
    Register,
    /// `NETDEV_UNREGISTER`.
    Unregister,
    /// `NETDEV_UP`, `NETDEV_DOWN` or `NETDEV_CHANGE`.
    LinkChange,
    /// `NETDEV_CHANGENAME`.
    ChangeName,
    /// `NETDEV_PRE_CHANGEADDR`: an error refuses the MAC address change.
    PreChangeAddr,
}

/// An event of a device inside `register_netdevice()` that is not registered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum InitEvent {
    /// `NETDEV_POST_INIT`: it has its name and address; its uevent and first
    /// `RTM_NEWLINK` come next.
    PostInit,
    /// `NETDEV_PRE_UNINIT` of a device whose registration failed after
    /// `NETDEV_POST_INIT`, with no `NETDEV_REGISTER` or `NETDEV_UNREGISTER`.
    Failed,
}

/// The handler of [`InitEvent`]s.
pub(crate) type InitHandler = fn(&Rtnl, InitEvent, &Registering);

/// The handler of a [`NetdevNotifier`]: returns whether it acted
/// (`NOTIFY_OK`, else `NOTIFY_DONE`); an error stops the chain and is
/// returned to the caller of the notifiers (`notifier_from_errno()`), which
/// for a `NETDEV_PRE_*` event refuses the change.
pub(crate) type NetdevHandler = fn(&Rtnl, NetdevEvent, &NetDev) -> Result<bool>;

/// A registered netdevice notifier, unregistered on drop.
///
/// # Invariants
///
/// `nb` is registered on the netdevice chain while the value exists, and
/// `handler` is set before it is.
#[pin_data(PinnedDrop)]
pub(crate) struct NetdevNotifier {
    handler: NetdevHandler,
    init_handler: InitHandler,
    #[pin]
    nb: Opaque<b::notifier_block>,
}

// SAFETY: The block is only touched by the notifier chain, under its lock,
// and `handler` is a plain function pointer.
unsafe impl Sync for NetdevNotifier {}
// SAFETY: As above; it may be unregistered from any thread.
unsafe impl Send for NetdevNotifier {}

impl NetdevNotifier {
    /// `register_netdevice_notifier()` with `handler` for registered devices,
    /// which is called at once (`NETDEV_REGISTER`) for every existing device,
    /// and `init_handler` for devices being registered.
    pub(crate) fn register(
        handler: NetdevHandler,
        init_handler: InitHandler,
    ) -> impl PinInit<Self, Error> {
        might_sleep();
        // SAFETY: On success every field is initialised (the handlers before
        // the block is registered, since registration calls them); on failure
        // the block is not registered and nothing needs dropping.
        unsafe {
            pin_init_from_closure(move |slot: *mut Self| {
                ptr::addr_of_mut!((*slot).handler).write(handler);
                ptr::addr_of_mut!((*slot).init_handler).write(init_handler);
                let nb = Opaque::raw_get(ptr::addr_of!((*slot).nb));
                nb.write(b::notifier_block {
                    notifier_call: Some(Self::notifier_callback),
                    next: ptr::null_mut(),
                    priority: 0,
                });
                to_result(b::register_netdevice_notifier(nb))
            })
        }
    }

    /// # Safety
    ///
    /// Only called by the netdevice notifier chain, on a block registered by
    /// [`Self::register`].
    unsafe extern "C" fn notifier_callback(
        nb: *mut b::notifier_block,
        ev: usize,
        info: *mut c_void,
    ) -> i32 {
        // SAFETY: `nb` is the `nb` field of a pinned, registered `Self`.
        let this =
            unsafe { &*kernel::container_of!(nb.cast::<Opaque<b::notifier_block>>(), Self, nb) };
        // SAFETY: Netdevice notifiers run under RTNL, with a device in `info`
        // that is valid for the call.
        let (r, p) = unsafe { (Rtnl::assume(), b::nf_netdev_notifier_info_to_dev(info)) };
        // SAFETY: As above; `reg_state` is written under RTNL, which is held.
        let state = unsafe { (*p).reg_state } as u32;
        let init = match ev as u32 {
            b::netdev_cmd_NETDEV_POST_INIT => InitEvent::PostInit,
            // `NETDEV_PRE_UNINIT` also ends every unregistration (in state
            // `NETREG_UNREGISTERING`): only a failed registration leaves
            // `NETREG_UNREGISTERED` at it.
            b::netdev_cmd_NETDEV_PRE_UNINIT if state == b::netdev_reg_state_NETREG_UNREGISTERED => {
                InitEvent::Failed
            }
            // SAFETY: This callback's event and device.
            _ => return unsafe { this.registered_event(&r, ev, state, p) },
        };
        // SAFETY: Inside `register_netdevice()` (`NETREG_UNINITIALIZED` at
        // `NETDEV_POST_INIT`, else failed), valid for the call.
        (this.init_handler)(&r, init, unsafe { Registering::from_raw(p) });
        b::NOTIFY_DONE as i32
    }

    /// An event `ev` of the device at `p`, in `state`, for the handler of
    /// registered devices.
    ///
    /// # Safety
    ///
    /// Called by [`Self::notifier_callback`] with its event and device.
    unsafe fn registered_event(
        &self,
        r: &Rtnl,
        ev: usize,
        state: u32,
        p: *mut b::net_device,
    ) -> i32 {
        let ev = match ev as u32 {
            b::netdev_cmd_NETDEV_REGISTER => NetdevEvent::Register,
            b::netdev_cmd_NETDEV_UNREGISTER => NetdevEvent::Unregister,
            b::netdev_cmd_NETDEV_UP | b::netdev_cmd_NETDEV_DOWN | b::netdev_cmd_NETDEV_CHANGE => {
                NetdevEvent::LinkChange
            }
            b::netdev_cmd_NETDEV_CHANGENAME => NetdevEvent::ChangeName,
            b::netdev_cmd_NETDEV_PRE_CHANGEADDR => NetdevEvent::PreChangeAddr,
            _ => return b::NOTIFY_DONE as i32,
        };
        // A MAC change can be asked of a device that its driver has not
        // registered yet (`dev_addr_add()` in its probe): none of ours.
        if ev == NetdevEvent::PreChangeAddr && state != b::netdev_reg_state_NETREG_REGISTERED {
            return b::NOTIFY_DONE as i32;
        }
        // SAFETY: The device is registered for these events (or being
        // unregistered, for `NETDEV_UNREGISTER`), and valid for the call.
        let dev = unsafe { NetDev::from_raw(p) };
        match (self.handler)(r, ev, dev) {
            Ok(true) => b::NOTIFY_OK as i32,
            Ok(false) => b::NOTIFY_DONE as i32,
            // SAFETY: A pure function of its argument, a negative errno.
            Err(e) => unsafe { b::nf_notifier_from_errno(e.to_errno()) },
        }
    }
}

#[pinned_drop]
impl PinnedDrop for NetdevNotifier {
    fn drop(self: Pin<&mut Self>) {
        might_sleep();
        // SAFETY: Registered while `self` exists (type invariant).
        unsafe { b::unregister_netdevice_notifier(self.nb.get()) };
    }
}
