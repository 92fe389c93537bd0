//! The WS-Management layer: request envelopes, reply and fault parsing, and the
//! `Microsoft_IPMI` binding. Pure functions over strings and bytes; nothing here does I/O or
//! knows how a message is authenticated or sealed.
//!
//! Replies are read with quick-xml's namespace-aware reader: elements are matched by namespace
//! URI, never by prefix (Windows rebinds `p` inside bodies).

mod cim;
mod cursor;
mod error;
mod fault;
pub mod microsoft_ipmi;
pub mod ns;
mod request;
mod response;
pub mod server;

pub use cim::{CimObject, CimProperty, CimValue};
pub use error::WsmanError;
pub use fault::{Fault, FaultKind, ProviderFault, WsmanFault};
pub use request::{
    DEFAULT_MAX_ENVELOPE_SIZE, DEFAULT_OPERATION_TIMEOUT, EnumerateOptions, MessageId, MethodInput,
    Operation, Param, ParamValue, Request, RequestContext,
};
pub use response::{
    EnumerationPage, IdentifyResponse, MAX_REPLY_BYTES, ReplyHeader, decode, parse_enumeration,
    parse_get, parse_identify, parse_invoke,
};
