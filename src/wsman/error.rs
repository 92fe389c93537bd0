//! Errors of the WS-Management layer.

use super::Fault;

/// What went wrong in building a request or reading a reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsmanError {
    /// The service answered with a SOAP fault.
    #[error("{0}")]
    Fault(Box<Fault>),
    /// The reply is not well-formed XML.
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset (0 where unknown).
        position: u64,
        /// What the parser said.
        message: String,
    },
    /// The reply is larger than the limit.
    #[error("reply of {len} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Size.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// The reply is not valid UTF-8 or UTF-16.
    #[error("reply is not valid {0}")]
    Encoding(&'static str),
    /// The reply is not a SOAP 1.2 envelope with a body.
    #[error("not a SOAP 1.2 envelope: {0}")]
    NotSoap(String),
    /// The reply's `RelatesTo` does not name our request.
    #[error("reply relates to {got}, not to our request {expected}")]
    RelatesToMismatch {
        /// Our MessageID.
        expected: String,
        /// The reply's RelatesTo.
        got: String,
    },
    /// A non-fault reply carries no `RelatesTo`.
    #[error("reply has no RelatesTo header (expected {expected})")]
    MissingRelatesTo {
        /// Our MessageID.
        expected: String,
    },
    /// The body holds something other than the operation's response.
    #[error("expected {expected} in the reply body, found {found}")]
    UnexpectedBody {
        /// What the operation returns.
        expected: String,
        /// What came.
        found: String,
    },
    /// A required property is absent or null.
    #[error("property {0} is missing from the reply")]
    MissingProperty(String),
    /// A property's value does not parse.
    #[error("property {property} has invalid value {value:?}")]
    InvalidValue {
        /// Property.
        property: String,
        /// Value.
        value: String,
    },
    /// An enumeration went past its limits ([`EnumerateOptions::max_items`](super::EnumerateOptions),
    /// or [`MAX_EMPTY_PULLS`](super::MAX_EMPTY_PULLS) empty pages that did not end it).
    #[error(
        "the enumeration did not end within its limits: {items} items in {pages} pages ({why})"
    )]
    EnumerationLimit {
        /// Items received.
        items: usize,
        /// Pages received (the Enumerate response and the Pulls).
        pages: usize,
        /// Which limit.
        why: &'static str,
    },
    /// A name given to a request builder is not an XML name.
    #[error("{0:?} is not a valid XML element name")]
    InvalidName(String),
}

impl WsmanError {
    pub(crate) fn xml(position: u64, message: impl Into<String>) -> Self {
        WsmanError::Xml {
            position,
            message: message.into(),
        }
    }

    /// The fault, if the service sent one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            WsmanError::Fault(f) => Some(f),
            _ => None,
        }
    }
}
