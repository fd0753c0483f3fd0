// SPDX-License-Identifier: GPL-2.0

//! `netdev_err()`, `netdev_info()` and `dev_err()` (`net/net_debug.h`,
//! `linux/dev_printk.h`) with Rust formatting, printed through `%pA`, and
//! `net_ratelimit()`.

use super::{bindings as b, NetDev};
use core::fmt;
use kernel::device::Device;

/// `netdev_err(dev, ...)` with a Rust format string; adds the newline.
macro_rules! netdev_err {
    ($dev:expr, $($arg:tt)+) => {
        $crate::netdev::print::netdev_err_fmt($dev, ::core::format_args!($($arg)+))
    };
}

/// `netdev_info(dev, ...)` with a Rust format string; adds the newline.
macro_rules! netdev_info {
    ($dev:expr, $($arg:tt)+) => {
        $crate::netdev::print::netdev_info_fmt($dev, ::core::format_args!($($arg)+))
    };
}

/// `dev_err(dev, ...)` with a Rust format string; adds the newline.
macro_rules! dev_err {
    ($dev:expr, $($arg:tt)+) => {
        $crate::netdev::print::dev_err_fmt($dev, ::core::format_args!($($arg)+))
    };
}
pub(crate) use {dev_err, netdev_err, netdev_info};

/// See [`netdev_err!`].
pub(crate) fn netdev_err_fmt(dev: &NetDev, args: fmt::Arguments<'_>) {
    // SAFETY: The device is valid; `%pA` prints the `fmt::Arguments` that the
    // pointer points to, which outlives the call.
    unsafe { b::netdev_err(dev.as_raw(), c"%pA\n".as_ptr().cast(), ptr_of(&args)) };
}

/// See [`netdev_info!`].
pub(crate) fn netdev_info_fmt(dev: &NetDev, args: fmt::Arguments<'_>) {
    // SAFETY: As in `netdev_err_fmt()`.
    unsafe { b::netdev_info(dev.as_raw(), c"%pA\n".as_ptr().cast(), ptr_of(&args)) };
}

/// See [`dev_err!`].
pub(crate) fn dev_err_fmt(dev: &Device, args: fmt::Arguments<'_>) {
    // SAFETY: `Device` is a transparent wrapper of the kernel's `struct
    // device`, which the bindings' type is; `%pA` as in `netdev_err_fmt()`.
    unsafe {
        b::_dev_err(
            core::ptr::from_ref(dev).cast(),
            c"%pA\n".as_ptr().cast(),
            ptr_of(&args),
        )
    };
}

/// `net_ratelimit()`: whether a rate-limited networking message may be
/// printed now (the limit all `net_*_ratelimited()` messages share).
pub(crate) fn net_ratelimit() -> bool {
    // SAFETY: `net_ratelimit()` has no precondition and may be called in any
    // context.
    unsafe { b::net_ratelimit() != 0 }
}

fn ptr_of(args: &fmt::Arguments<'_>) -> *const core::ffi::c_void {
    (args as *const fmt::Arguments<'_>).cast()
}
