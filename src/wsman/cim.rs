//! CIM instances and method outputs as WS-Management carries them.
//!
//! Properties keep document order and repetition: a CIM array arrives as one element per item
//! (DSP0230), so `values("ResponseData")` yields every item, and a one-item array is not confused
//! with a scalar.

use serde::Serialize;

use super::WsmanError;
use super::cursor::{Cursor, Ev, MAX_DEPTH, Tag};

/// A CIM instance, embedded object or method output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CimObject {
    /// Element local name (the class, `XmlFragment`, or `<Method>_OUTPUT`).
    pub name: String,
    /// Properties in document order; array items repeat.
    pub properties: Vec<CimProperty>,
}

/// One property element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CimProperty {
    /// Local name.
    pub name: String,
    /// Value.
    pub value: CimValue,
}

/// A property's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CimValue {
    /// `xsi:nil="true"`.
    Null,
    /// Text content.
    Text(String),
    /// An element with child elements (embedded object, datetime, reference).
    Object(CimObject),
}

impl CimObject {
    /// Its properties, those of the objects embedded in them included.
    pub fn property_count(&self) -> usize {
        self.properties
            .iter()
            .map(|p| match &p.value {
                CimValue::Object(o) => 1 + o.property_count(),
                _ => 1,
            })
            .sum()
    }
}

impl CimValue {
    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            CimValue::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl CimObject {
    /// The first property named `name`.
    pub fn get(&self, name: &str) -> Option<&CimValue> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.value)
    }

    /// The text of the first property named `name` (`None` if absent, null or an object).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(CimValue::as_text)
    }

    /// Every value of property `name`, in order (an array's items).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a CimValue> + 'a {
        self.properties
            .iter()
            .filter(move |p| p.name == name)
            .map(|p| &p.value)
    }

    /// Parses property `name` as a number (or bool) of type `T`; missing, null or unparsable
    /// values are errors naming the property.
    pub fn parse<T: std::str::FromStr>(&self, name: &str) -> Result<T, WsmanError> {
        let text = self
            .text(name)
            .ok_or_else(|| WsmanError::MissingProperty(name.to_string()))?;
        text.trim().parse().map_err(|_| WsmanError::InvalidValue {
            property: name.to_string(),
            value: text.to_string(),
        })
    }

    /// Every value of array property `name` parsed as `T`. A single `xsi:nil` item is an empty
    /// array; a nil item among others is an error.
    pub fn parse_array<T: std::str::FromStr>(&self, name: &str) -> Result<Vec<T>, WsmanError> {
        let values: Vec<&CimValue> = self.values(name).collect();
        if let [CimValue::Null] = values.as_slice() {
            return Ok(Vec::new());
        }
        values
            .into_iter()
            .map(|v| {
                let text = v.as_text().unwrap_or_default();
                text.trim().parse().map_err(|_| WsmanError::InvalidValue {
                    property: name.to_string(),
                    value: text.to_string(),
                })
            })
            .collect()
    }
}

/// Parses the element whose start tag was just read (or that was empty) into an object.
pub(crate) fn parse_object(
    cursor: &mut Cursor<'_, '_>,
    tag: &Tag<'_>,
    empty: bool,
) -> Result<CimObject, WsmanError> {
    let mut properties = Vec::new();
    if !empty {
        while let Some((child, child_empty)) = cursor.child()? {
            let value = parse_value(cursor, &child, child_empty, 1)?;
            properties.push(CimProperty {
                name: child.local().to_string(),
                value,
            });
        }
    }
    Ok(CimObject {
        name: tag.local().to_string(),
        properties,
    })
}

fn parse_value(
    cursor: &mut Cursor<'_, '_>,
    tag: &Tag<'_>,
    empty: bool,
    depth: usize,
) -> Result<CimValue, WsmanError> {
    if depth > MAX_DEPTH {
        return Err(WsmanError::xml(0, "CIM value nested too deeply"));
    }
    let nil = cursor.is_nil(tag)?;
    if empty {
        return Ok(if nil {
            CimValue::Null
        } else {
            CimValue::Text(String::new())
        });
    }
    let mut text = String::new();
    let mut children: Option<Vec<CimProperty>> = None;
    loop {
        match cursor.next()? {
            Ev::Text(t) => {
                if children.is_none() {
                    text.push_str(&t);
                }
            }
            Ev::Start(child) => {
                let value = parse_value(cursor, &child, false, depth + 1)?;
                children.get_or_insert_with(Vec::new).push(CimProperty {
                    name: child.local().to_string(),
                    value,
                });
            }
            Ev::Empty(child) => {
                let value = parse_value(cursor, &child, true, depth + 1)?;
                children.get_or_insert_with(Vec::new).push(CimProperty {
                    name: child.local().to_string(),
                    value,
                });
            }
            Ev::End => break,
            Ev::Eof => return Err(cursor.unexpected_eof()),
        }
    }
    Ok(if nil {
        CimValue::Null
    } else if let Some(properties) = children {
        CimValue::Object(CimObject {
            name: tag.local().to_string(),
            properties,
        })
    } else {
        CimValue::Text(text)
    })
}
