//! The IPMI layer: requests, responses, completion codes, typed commands and the multi-step
//! procedures (LAN discovery, System Info strings) built on them.
//!
//! Nothing here knows about XML or HTTP; requests travel through a [`Bmc`]: the WinRM client,
//! the simulator's BMC, or an in-memory one in a test.
//!
//! ```
//! use winrm_ipmi::ipmi::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest, RawResponse, execute};
//! use winrm_ipmi::ipmi::app::GetDeviceId;
//!
//! /// A BMC that answers Get Device ID with ipmiutil's recorded bytes.
//! struct Recorded;
//! impl Bmc for Recorded {
//!     type Error = IpmiError;
//!     async fn request(&self, r: RawRequest) -> Result<RawResponse, IpmiError> {
//!         assert_eq!((r.netfn(), r.cmd()), (NetFn::App, 0x01));
//!         let data = [0x00, 0x03, 0x09, 0x08, 0x02, 0x9f, 0x91, 0x12, 0x00, 0x02, 0x0f, 0, 0, 0, 0];
//!         Ok(RawResponse::new(CompletionCode::Normal, data))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let id = execute(&Recorded, GetDeviceId).await?;
//! assert_eq!(id.firmware_revision(), "9.08");
//! # Ok::<(), IpmiError>(()) }).unwrap();
//! ```

pub mod app;
pub mod audit;
mod bmc;
pub mod chassis;
mod completion;
pub mod dcmi;
mod error;
pub mod fru;
pub mod lan;
pub mod lan_set;
pub mod mc;
pub mod names;
mod netfn;
mod raw;
mod retry;
pub mod sdr;
pub mod sel;
pub mod sensor;
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
