//! In-band IPMI for Windows servers over WinRM.
//!
//! Windows exposes its IPMI driver as the WMI class `root/wmi:Microsoft_IPMI`; its method
//! `RequestResponse` passes a raw IPMI request to the BMC. This crate builds the WS-Management
//! envelopes for that method (and for the WMI reads around it), authenticates and seals them as
//! Windows expects, parses the replies and faults, and layers typed IPMI commands on top.
//!
//! # Layers
//!
//! A sans-IO core (pure code over bytes and state, every rule testable without a socket) and a
//! thin async shell that only moves bytes. Arrows point from a layer to what it uses; nothing
//! points back up.
//!
//! ```text
//!   cli (feature "cli")          sim (feature "sim": simulated hosts, service side)
//!        │                                  │
//!        ▼                                  ▼
//!   Client / IpmiBmc  ─────────────►  transport ──► auth (AuthExchange; NTLM, Kerberos,
//!   (client.rs: pool, retries,        Connection:     Negotiate, Basic, certificates)
//!    re-send rules)                   hyper + TLS,    sans-IO: tokens, keys, sealing;
//!        │                            MS-WSMV framing Kerberos through the system GSSAPI
//!        │                            (GSSAPI steps   (feature "kerberos", loaded at run
//!        │                             off-executor)   time)
//!        ▼
//!       wmi  ── Microsoft_IPMI, Win32_OperatingSystem, Win32_ComputerSystem bindings
//!      ╱    ╲
//!     ▼      ▼
//!  wsman     ipmi
//!  envelopes,  raw requests, completion codes, typed commands (on ipmi-rs-core),
//!  replies,    LAN / System Info / SEL procedures over any `ipmi::Bmc`
//!  faults
//! ```
//!
//! - [`ipmi`] knows no XML and no WMI; [`wsman`] knows no IPMI and no authentication; [`wmi`]
//!   is where the two meet. [`auth`] and [`transport::encryption`] are pure state machines and
//!   codecs; [`transport`]'s `Connection` and the [`Client`] do the I/O.
//! - With `default-features = false` the crate is the client library alone: no CLI, no
//!   simulator, no server code in its API.
//!
//! # One command, file by file
//!
//! `winrm-ipmi -H server01 lan print`:
//! 1. `src/cli/args.rs` parses the words; `src/cli/ops.rs` turns them into `Op::LanPrint`;
//!    `src/cli/fleet.rs` builds one [`Client`] per host before any traffic.
//! 2. [`Client::ipmi`] enumerates `Microsoft_IPMI` once (`src/wmi/microsoft_ipmi.rs` builds the
//!    Enumerate; `src/wsman/response.rs` parses the reply) and returns an [`IpmiBmc`].
//! 3. [`ipmi::lan::read_all_lan_configs`] (`src/ipmi/lan/`) finds the LAN channels (a fleet
//!    run, once per firmware build: [`ipmi::lan::LanChannelMemo`]) and asks for each parameter: a typed `GetLanConfigParameters` becomes a [`ipmi::RawRequest`]
//!    (`src/ipmi/bmc.rs`), carried by the [`ipmi::Bmc`] seam.
//! 4. [`IpmiBmc`] (`src/client.rs`, with [`ipmi::Retrying`] for transient codes) wraps it in a
//!    `RequestResponse` invocation (`src/wmi/microsoft_ipmi.rs`, envelope by
//!    `src/wsman/request.rs`).
//! 5. The connection (`src/transport/connection.rs`) runs the [`auth::AuthExchange`]
//!    (`src/auth/exchange.rs`; NTLM in `src/auth/ntlm/`, Kerberos and Negotiate in
//!    `src/auth/kerberos/`, its GSSAPI calls on tokio's blocking pool) on first use, seals the envelope
//!    (`src/transport/encryption.rs`) and POSTs it over hyper.
//! 6. Back: unsealed, parsed (`src/wmi/microsoft_ipmi.rs`: `CompletionCode` and `ResponseData`),
//!    the LAN parameter decoded (`src/ipmi/lan/mod.rs`), printed in ipmitool's layout
//!    (`src/cli/render/`).
//!
//! # Example
//!
//! ```no_run
//! use winrm_ipmi::{Client, auth::Password, ipmi::{self, app::GetDeviceId, lan}};
//!
//! # async fn run() -> Result<(), winrm_ipmi::Error> {
//! let client = Client::builder("server01.example.com")
//!     .credentials("CONTOSO\\admin", Password::new(std::env::var("WINRM_PASSWORD").unwrap()))
//!     .build()?;
//! let bmc = client.ipmi().await?;
//! let id = ipmi::execute(&bmc, GetDeviceId).await?;
//! for l in lan::read_all_lan_configs(&bmc).await? {
//!     println!("BMC {} at {:?} / {:?}", id.firmware_revision(), l.ip_address, l.mac_address);
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod auth;
mod client;
mod error;
#[cfg(feature = "exporter")]
pub mod exporter;
pub mod hosts;
pub mod ipmi;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
pub mod wmi;
pub mod wsman;

pub use client::{Client, ClientBuilder, ClientFactory, IpmiBmc, MicrosoftIpmi};
pub use error::{Error, ErrorKind};
pub use ipmi::RetryPolicy;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "sim"))]
pub struct ReadmeDoctests;
