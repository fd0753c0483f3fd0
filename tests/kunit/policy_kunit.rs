// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the failover policy (`policy.rs`, the file the module
//! builds), run in the kernel.
//!
//! The cases are those of `tests/policy/cases.rs`, which the host tests run
//! too. Each one is exported as `nf_kunit_<case>`, registered by
//! `nf_kunit_main.c`: it returns 0 when every check holds, else the line of
//! `cases.rs` of the first failed check.

#[path = "../../policy.rs"]
pub mod policy;

#[path = "../policy/cases.rs"]
pub mod cases;

macro_rules! kunit_exports {
    ($($case:ident),* $(,)?) => {
        $(
            #[doc = concat!("KUnit case `", stringify!($case), "`: 0, or the `cases.rs` line of the failed check.")]
            #[export_name = concat!("nf_kunit_", stringify!($case))]
            pub extern "C" fn $case() -> u32 {
                match cases::$case() {
                    Ok(()) => 0,
                    Err(line) => line,
                }
            }
        )*

        /// The number of cases, which `nf_kunit_main.c` checks its table against.
        #[export_name = "nf_kunit_ncases"]
        pub static NCASES: u32 = [$(stringify!($case)),*].len() as u32;
    };
}

cases::for_each_case!(kunit_exports);
