//! The WS-Management layer: request envelopes, reply and fault parsing. Pure functions over
//! strings and bytes; nothing here does I/O, knows how a message is authenticated or sealed, or
//! knows which WMI class it carries (that is the [`wmi`](crate::wmi) layer).
//!
//! Replies are read by a small XML scanner and a namespace-aware cursor over it: elements are
//! matched by namespace URI, never by prefix (Windows rebinds `p` inside bodies).

mod cim;
pub(crate) mod cursor;
mod error;
mod fault;
pub mod ns;
mod request;
pub(crate) mod response;
pub(crate) mod scan;
#[cfg(feature = "sim")]
pub mod server;

pub use cim::{CimObject, CimProperty, CimValue};
pub use error::WsmanError;
pub use fault::{Fault, FaultKind, ProviderFault, WsmanFault, codes};
pub use request::{
    DEFAULT_MAX_ENVELOPE_SIZE, DEFAULT_OPERATION_TIMEOUT, EnumerateOptions, InvokeTemplate,
    MAX_EMPTY_PULLS, MessageId, MethodInput, Operation, Param, ParamValue, Request, RequestContext,
};
pub use response::{
    EnumerationPage, IdentifyResponse, MAX_REPLY_BYTES, ReplyHeader, decode, parse_enumeration,
    parse_get, parse_identify, parse_invoke,
};
