//! A thin cursor over quick-xml's namespace-aware reader.
//!
//! Element names are matched by namespace URI and local name, never by prefix: each element's
//! namespace is classified into [`Ns`] as it is read (no allocation), with one caller-chosen
//! "target" URI (a WMI class's resource URI) recognised too.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, QName, ResolveResult};

use super::{WsmanError, ns};

/// Deepest element nesting accepted; deeper input is refused, not recursed into.
pub(crate) const MAX_DEPTH: usize = 48;

/// The namespaces we recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ns {
    None,
    Soap,
    Addressing,
    Enumeration,
    Transfer,
    Wsman,
    MsWsman,
    Identity,
    Fault,
    Xsi,
    /// The target URI given to the cursor (a class's resource URI).
    Target,
    Other,
}

impl Ns {
    pub(crate) fn uri(self) -> Option<&'static str> {
        Some(match self {
            Ns::Soap => ns::SOAP,
            Ns::Addressing => ns::ADDRESSING,
            Ns::Enumeration => ns::ENUMERATION,
            Ns::Transfer => ns::TRANSFER,
            Ns::Wsman => ns::WSMAN,
            Ns::MsWsman => ns::MS_WSMAN,
            Ns::Identity => ns::IDENTITY,
            Ns::Fault => ns::WSMAN_FAULT,
            Ns::Xsi => ns::XSI,
            Ns::None | Ns::Target | Ns::Other => return None,
        })
    }
}

fn classify(uri: &str, target: Option<&str>) -> Ns {
    match uri {
        ns::SOAP => Ns::Soap,
        ns::ADDRESSING => Ns::Addressing,
        ns::ENUMERATION => Ns::Enumeration,
        ns::TRANSFER => Ns::Transfer,
        ns::WSMAN => Ns::Wsman,
        ns::MS_WSMAN => Ns::MsWsman,
        ns::IDENTITY => Ns::Identity,
        ns::WSMAN_FAULT => Ns::Fault,
        ns::XSI => Ns::Xsi,
        // WMI namespaces and class names are case-insensitive: `root/WMI` is `root/wmi`.
        u if target.is_some_and(|t| t.eq_ignore_ascii_case(u)) => Ns::Target,
        _ => Ns::Other,
    }
}

fn classify_result(r: ResolveResult<'_>, target: Option<&str>) -> Ns {
    match r {
        ResolveResult::Bound(Namespace(uri)) => classify(uri, target),
        ResolveResult::Unbound => Ns::None,
        ResolveResult::Unknown(_) => Ns::Other,
    }
}

/// A start tag.
pub(crate) struct Tag<'x> {
    pub ns: Ns,
    start: BytesStart<'x>,
}

impl Tag<'_> {
    pub fn local(&self) -> &str {
        let name = self.start.name();
        let full: &str = name.0;
        full.rsplit_once(':').map_or(full, |(_, l)| l)
    }

    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local() == local
    }

    /// An unqualified attribute's value, unescaped.
    pub fn attr(&self, name: &str) -> Result<Option<String>, WsmanError> {
        for a in self.start.attributes().with_checks(false) {
            let a = a.map_err(|e| WsmanError::xml(0, e.to_string()))?;
            if a.key.0 == name {
                let v = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| WsmanError::xml(0, e.to_string()))?;
                return Ok(Some(v.into_owned()));
            }
        }
        Ok(None)
    }
}

pub(crate) enum Ev<'x> {
    Start(Tag<'x>),
    Empty(Tag<'x>),
    Text(Cow<'x, str>),
    End,
    Eof,
}

pub(crate) struct Cursor<'x, 't> {
    reader: NsReader<&'x [u8]>,
    target: Option<&'t str>,
    depth: usize,
}

impl<'x, 't> Cursor<'x, 't> {
    pub fn new(xml: &'x str, target: Option<&'t str>) -> Self {
        let mut reader = NsReader::from_str(xml);
        reader.config_mut().check_end_names = true;
        Cursor {
            reader,
            target,
            depth: 0,
        }
    }

    fn err(&self, msg: impl Into<String>) -> WsmanError {
        WsmanError::xml(self.reader.buffer_position(), msg)
    }

    pub fn next(&mut self) -> Result<Ev<'x>, WsmanError> {
        loop {
            // Only start tags need their namespace: resolve those, not every event.
            let event = match self.reader.read_event() {
                Ok(v) => v,
                Err(e) => {
                    let msg = e.to_string();
                    return Err(self.err(msg));
                }
            };
            return Ok(match event {
                Event::Start(start) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(self.err(format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    let ns = self.classify_start(&start);
                    Ev::Start(Tag { ns, start })
                }
                Event::Empty(start) => {
                    let ns = self.classify_start(&start);
                    Ev::Empty(Tag { ns, start })
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    Ev::End
                }
                Event::Text(t) => Ev::Text(t.xml10_content()),
                Event::CData(c) => Ev::Text(c.xml10_content()),
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                let msg = format!("unknown entity &{other};");
                                return Err(self.err(msg));
                            }
                        },
                        Err(e) => return Err(self.err(e.to_string())),
                    };
                    Ev::Text(Cow::Owned(c.to_string()))
                }
                Event::Eof => Ev::Eof,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            });
        }
    }

    fn classify_start(&self, start: &BytesStart<'_>) -> Ns {
        let (res, _) = self.reader.resolver().resolve_element(start.name());
        classify_result(res, self.target)
    }

    /// Whether `tag` (the element just read) carries `xsi:nil="true"`.
    pub fn is_nil(&self, tag: &Tag<'_>) -> Result<bool, WsmanError> {
        let start = &tag.start;
        if start.attributes_raw().trim().is_empty() {
            return Ok(false);
        }
        for a in start.attributes().with_checks(false) {
            let a = a.map_err(|e| self.err(e.to_string()))?;
            let (res, local) = self.reader.resolver().resolve_attribute(a.key);
            if local.as_ref() == "nil" && classify_result(res, None) == Ns::Xsi {
                return Ok(a.value.trim() == "true" || a.value.trim() == "1");
            }
        }
        Ok(false)
    }

    /// Resolves a QName found in text (`s:Sender`, `w:TimedOut`) against the bindings in scope.
    pub fn resolve_qname<'q>(&self, qname: &'q str) -> (Ns, &'q str) {
        let (res, local) = self.reader.resolver().resolve_element(QName(qname));
        let local: &'q str = local.into_inner();
        (classify_result(res, self.target), local)
    }

    #[cfg(feature = "sim")]
    /// Whether `tag` (just read) is in namespace `uri`.
    pub fn element_namespace_is(&self, tag: &Tag<'_>, uri: &str) -> bool {
        let (res, _) = self.reader.resolver().resolve_element(tag.start.name());
        matches!(res, ResolveResult::Bound(Namespace(u)) if u == uri)
    }

    /// Skips the rest of the element whose start was just read.
    pub fn skip(&mut self) -> Result<(), WsmanError> {
        let mut depth = 1usize;
        loop {
            match self.next()? {
                Ev::Start(_) => depth += 1,
                Ev::End => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Ev::Eof => return Err(self.err("document ends inside an element")),
                Ev::Empty(_) | Ev::Text(_) => {}
            }
        }
    }

    /// The text content of the element whose start was just read; child elements are skipped.
    pub fn text(&mut self) -> Result<String, WsmanError> {
        let mut out = String::new();
        self.text_into(&mut out)?;
        Ok(out)
    }

    /// [`Cursor::text`] into a buffer the caller reuses (cleared first).
    pub fn text_into(&mut self, out: &mut String) -> Result<(), WsmanError> {
        out.clear();
        loop {
            match self.next()? {
                Ev::Text(t) => out.push_str(&t),
                Ev::Start(_) => self.skip()?,
                Ev::Empty(_) => {}
                Ev::End => return Ok(()),
                Ev::Eof => return Err(self.err("document ends inside an element")),
            }
        }
    }

    /// The next child element of the current one, or `None` at its end. Text between children
    /// is ignored.
    pub fn child(&mut self) -> Result<Option<(Tag<'x>, bool)>, WsmanError> {
        loop {
            match self.next()? {
                Ev::Start(t) => return Ok(Some((t, false))),
                Ev::Empty(t) => return Ok(Some((t, true))),
                Ev::Text(_) => {}
                Ev::End => return Ok(None),
                Ev::Eof => return Err(self.err("document ends inside an element")),
            }
        }
    }

    pub fn unexpected_eof(&self) -> WsmanError {
        self.err("document ends inside an element")
    }
}
