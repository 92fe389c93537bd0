//! In-band IPMI for Windows servers over WinRM.
//!
//! Windows exposes its IPMI driver as the WMI class `root/wmi:Microsoft_IPMI`; its method
//! `RequestResponse` passes a raw IPMI request to the BMC. This crate builds the WS-Management
//! envelopes for that method (and for the WMI reads around it), parses the replies and faults,
//! and layers typed IPMI commands on top.
//!
//! The layers, each usable alone and free of I/O:
//! - [`ipmi`]: requests, responses, completion codes, typed commands and procedures, over any
//!   [`ipmi::Bmc`].
//! - [`wsman`]: WS-Management envelopes (Identify, Enumerate/Pull, Get, Invoke), response and
//!   fault parsing, and the `Microsoft_IPMI` binding.

#![warn(missing_docs)]

pub mod auth;
mod client;
mod error;
pub mod hosts;
pub mod ipmi;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
pub mod wmi;
pub mod wsman;

pub use client::{Client, ClientBuilder, IpmiBmc, MicrosoftIpmi};
pub use error::{Error, ErrorKind};
pub use ipmi::RetryPolicy;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
