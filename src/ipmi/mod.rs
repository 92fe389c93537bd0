//! The IPMI layer: requests, responses, completion codes, typed commands and the multi-step
//! procedures (LAN discovery, System Info strings) built on them.
//!
//! Nothing here knows about XML or HTTP; requests travel through a [`Bmc`].

pub mod app;
mod bmc;
mod completion;
mod error;
pub mod lan;
mod netfn;
mod raw;
mod retry;
pub mod sel;
pub mod sysinfo;
#[cfg(all(test, feature = "sim"))]
mod test_support;

pub use bmc::{Bmc, Refused, execute, execute_at, try_execute, try_execute_at};
pub use completion::{CompletionClass, CompletionCode};
pub use error::IpmiError;
pub use netfn::NetFn;
pub use raw::{DEFAULT_BMC_ADDRESS, MAX_REQUEST_DATA, RawRequest, RawResponse};
pub use retry::{RetryPolicy, Retrying};

/// The commands `ipmi-rs-core` defines, re-exported: each runs over any [`Bmc`] with [`execute`].
pub use ipmi_rs_core as core;
