//! The built-in simulator.
//!
//! [`SimBmc`] is a BMC with real state that answers raw IPMI requests. It is what the examples
//! and tests run against when there is no Windows host.

mod bmc;

pub use bmc::{BmcConfig, BmcIdentity, LanChannelConfig, SimBmc};
