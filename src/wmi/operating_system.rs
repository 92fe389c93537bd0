//! `root/cimv2:Win32_OperatingSystem`: the host's operating system, as the OS name to push into
//! the BMC and to show beside it.

use serde::Serialize;

use crate::wsman::{CimObject, EnumerateOptions, MessageId, Request, RequestContext};

/// The class's namespace and name.
pub const NAMESPACE: &str = "root/cimv2";
/// The class.
pub const CLASS: &str = "Win32_OperatingSystem";

/// The class's resource URI.
pub fn resource_uri() -> String {
    super::class_uri(NAMESPACE, CLASS)
}

/// The Enumerate request for the class's instances.
pub fn enumerate(ctx: &RequestContext, id: MessageId) -> Request {
    ctx.enumerate(&resource_uri(), &EnumerateOptions::default(), id)
}

/// The properties of one `Win32_OperatingSystem` instance that this crate uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OperatingSystem {
    /// `Caption`, trimmed: "Microsoft Windows Server 2022 Datacenter".
    pub caption: String,
    /// `Version`: "10.0.20348".
    pub version: Option<String>,
    /// `CSName`: the computer's NetBIOS name.
    pub computer_name: Option<String>,
    /// `Primary`: the OS that is running (a multi-boot host has one instance per OS).
    pub primary: bool,
}

impl OperatingSystem {
    /// Reads an enumerated instance (missing properties are empty or `None`).
    pub fn from_object(o: &CimObject) -> Self {
        let text = |name| super::trimmed_text(o, name);
        OperatingSystem {
            caption: text("Caption").unwrap_or_default(),
            version: text("Version"),
            computer_name: text("CSName"),
            primary: o
                .text("Primary")
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("true")),
        }
    }

    /// The running OS among the enumerated instances: the one marked `Primary`, else the first;
    /// `None` when there is none.
    pub fn primary(items: &[CimObject]) -> Option<Self> {
        let all: Vec<Self> = items.iter().map(Self::from_object).collect();
        let at = all.iter().position(|o| o.primary).unwrap_or(0);
        all.into_iter().nth(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::{CimProperty, CimValue};

    fn os(caption: &str, primary: Option<&str>) -> CimObject {
        let mut properties = vec![CimProperty {
            name: "Caption".into(),
            value: CimValue::Text(caption.into()),
        }];
        if let Some(p) = primary {
            properties.push(CimProperty {
                name: "Primary".into(),
                value: CimValue::Text(p.into()),
            });
        }
        CimObject {
            name: CLASS.into(),
            properties,
        }
    }

    #[test]
    fn the_primary_instance_wins_else_the_first() {
        let items = [
            os("Windows PE", Some("false")),
            os(" Windows Server 2022 ", Some("true")),
        ];
        let p = OperatingSystem::primary(&items).unwrap();
        assert_eq!(p.caption, "Windows Server 2022");
        assert!(p.primary);
        let items = [os("A", None), os("B", None)];
        assert_eq!(OperatingSystem::primary(&items).unwrap().caption, "A");
        assert_eq!(OperatingSystem::primary(&[]), None);
    }
}
