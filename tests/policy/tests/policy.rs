// SPDX-License-Identifier: GPL-2.0

//! Host unit tests of `policy.rs`: one `#[test]` per case of `../cases.rs`,
//! the cases the KUnit suite (`tests/kunit`) runs too.

// `cases.rs` finds the policy as `crate::policy`, as in the KUnit crate.
use nf_policy as policy;

#[path = "../cases.rs"]
mod cases;

macro_rules! host_tests {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let outcome = cases::$case();
                assert_eq!(
                    outcome,
                    Ok(()),
                    "check failed at tests/policy/cases.rs:{}",
                    outcome.err().unwrap_or_default()
                );
            }
        )*
    };
}

cases::for_each_case!(host_tests);
