//! `root/cimv2:Win32_ComputerSystem`: the host's name, domain and model.

use serde::Serialize;

use crate::wsman::{CimObject, EnumerateOptions, MessageId, Request, RequestContext};

/// The class's namespace.
pub const NAMESPACE: &str = "root/cimv2";
/// The class.
pub const CLASS: &str = "Win32_ComputerSystem";

/// The class's resource URI.
pub fn resource_uri() -> String {
    super::class_uri(NAMESPACE, CLASS)
}

/// The Enumerate request for the class's (single) instance.
pub fn enumerate(ctx: &RequestContext, id: MessageId) -> Request {
    ctx.enumerate(&resource_uri(), &EnumerateOptions::default(), id)
}

/// The properties of `Win32_ComputerSystem` that this crate uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ComputerSystem {
    /// `Name`: the NetBIOS name.
    pub name: String,
    /// `Domain`: the DNS domain, or the workgroup.
    pub domain: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
}

impl ComputerSystem {
    /// Reads an enumerated instance (missing properties are empty or `None`).
    pub fn from_object(o: &CimObject) -> Self {
        let text = |name| super::trimmed_text(o, name);
        ComputerSystem {
            name: text("Name").unwrap_or_default(),
            domain: text("Domain"),
            manufacturer: text("Manufacturer"),
            model: text("Model"),
        }
    }
}
