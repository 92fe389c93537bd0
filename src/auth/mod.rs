//! Authentication: credentials, Basic, and NTLMv2 with session security.

mod credentials;
pub mod ntlm;

pub use credentials::{Credentials, Password};
