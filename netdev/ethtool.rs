// SPDX-License-Identifier: GPL-2.0

//! The ethtool structures (`linux/ethtool.h`) that a master's ethtool ops
//! fill, and the names of its `ethtool -S` counters.

use super::bindings as b;
use core::marker::PhantomData;
use kernel::prelude::*;

/// `ETH_GSTRING_LEN`: the size of an ethtool string, its NUL included.
pub(super) const ETH_GSTRING_LEN: usize = b::ETH_GSTRING_LEN as usize;

/// An ethtool string, as `get_strings` writes it.
pub(super) type GString = [u8; ETH_GSTRING_LEN];

/// The names of a master's `ETH_SS_STATS` counters (`ethtool -S`), in the
/// order in which its `get_ethtool_stats` fills their values.
///
/// # Invariants
///
/// Every name fits an ethtool string with its NUL, and the names, as ethtool
/// strings, take at most `i32::MAX` bytes.
#[derive(Clone, Copy)]
pub(crate) struct StatNames(&'static [&'static core::ffi::CStr]);

impl StatNames {
    /// The table of `names`. Evaluated in a constant (as
    /// `MasterOps::STATS` is), a name too long fails the build.
    pub(crate) const fn new(names: &'static [&'static core::ffi::CStr]) -> Self {
        let mut i = 0;
        while i < names.len() {
            assert!(
                names[i].to_bytes().len() < ETH_GSTRING_LEN,
                "ethtool name too long"
            );
            i += 1;
        }
        assert!(names.len() <= i32::MAX as usize / ETH_GSTRING_LEN);
        // INVARIANT: Checked above.
        Self(names)
    }

    /// How many names there are (`get_sset_count(ETH_SS_STATS)`).
    pub(crate) const fn len(&self) -> usize {
        self.0.len()
    }

    /// Writes the names, NUL-padded, to `out` (`get_strings(ETH_SS_STATS)`).
    pub(super) fn write(&self, out: &mut [GString]) {
        for (s, name) in out.iter_mut().zip(self.0) {
            let name = name.to_bytes();
            s.fill(0);
            s[..name.len()].copy_from_slice(name);
        }
    }
}

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
