//! The built-in simulator: Windows hosts with WinRM and a BMC behind the IPMI driver.
//!
//! - [`SimBmc`]: a BMC with real state that answers raw IPMI requests.
//! - [`Host`]: a Windows host's WMI side (`Microsoft_IPMI`, `Win32_OperatingSystem`,
//!   `Win32_ComputerSystem`), accounts (one not an administrator) and injectable failures.
//! - [`Simulator`]: HTTP listeners on loopback (5985 semantics: NTLM, message encryption
//!   required), one per host.

mod bmc;
mod host;
mod lan_bmc;
mod server;

pub use bmc::{BmcConfig, BmcIdentity, LanChannelConfig, SimBmc};
pub use host::{
    Account, DEMO_ADMIN_PASSWORD, DEMO_OPERATOR, Faults, Host, HostConfig, INSTANCE_NAME,
};
pub use lan_bmc::{LanBmc, LanTarget};
pub use server::{Simulator, SimulatorBuilder};
