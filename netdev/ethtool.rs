// SPDX-License-Identifier: GPL-2.0

//! The ethtool structures (`linux/ethtool.h`) that a master's ethtool ops fill.

use super::bindings as b;
use core::marker::PhantomData;
use kernel::prelude::*;

/// A `struct ethtool_link_ksettings` to fill, borrowed from the ethtool core.
///
/// # Invariants
///
/// Points to a valid struct, not aliased, for `'a`.
pub(crate) struct LinkKsettings<'a>(*mut b::ethtool_link_ksettings, PhantomData<&'a mut ()>);

impl LinkKsettings<'_> {
    /// # Safety
    ///
    /// `p` is valid and not aliased for the returned value's lifetime.
    pub(super) unsafe fn from_raw(p: *mut b::ethtool_link_ksettings) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self(p, PhantomData)
    }

    pub(super) fn as_raw(&mut self) -> *mut b::ethtool_link_ksettings {
        self.0
    }

    /// Reports duplex, port and speed as unknown.
    pub(crate) fn set_unknown(&mut self) {
        // SAFETY: Valid and not aliased (type invariant).
        let base = unsafe { &mut (*self.0).base };
        base.duplex = b::DUPLEX_UNKNOWN as u8;
        base.port = b::PORT_OTHER as u8;
        base.speed = b::SPEED_UNKNOWN as u32;
    }
}

/// Copies `src` into the fixed-size C string `dst`, truncated and
/// NUL-terminated, as `strscpy()`.
pub(super) fn strscpy(dst: &mut [u8], src: &CStr) {
    let n = src.len().min(dst.len() - 1);
    dst[..n].copy_from_slice(&src.as_bytes()[..n]);
    dst[n] = 0;
}

/// Fills `info` (`struct ethtool_drvinfo`) with the driver's name and version.
pub(super) fn fill_drvinfo(info: &mut b::ethtool_drvinfo, driver: &CStr, version: &CStr) {
    strscpy(&mut info.driver, driver);
    strscpy(&mut info.version, version);
}
