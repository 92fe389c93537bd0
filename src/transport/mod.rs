//! Moving envelopes: MS-WSMV message encryption framing, and (next) connections.

pub mod encryption;
