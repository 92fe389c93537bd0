//! A thin cursor over quick-xml's reader, with the namespace bindings kept here.
//!
//! Element names are matched by namespace URI and local name, never by prefix: each element's
//! namespace is classified into [`Ns`] as it is read (no allocation), with one caller-chosen
//! "target" URI (a WMI class's resource URI) recognised too.
//!
//! quick-xml's `NsReader` resolves every name through a general resolver. A WS-Man reply
//! declares a handful of prefixes, so this cursor keeps them on a small stack instead: a
//! declaration is classified once, when its element starts (only elements whose attributes
//! mention `xmlns` are looked at), and an element's prefix is then a short backward scan. The
//! rules are Namespaces in XML 1.0's: a declaration holds for its element and its descendants,
//! an inner one shadows an outer one (real replies rebind `p`), `xmlns=""` unbinds the default,
//! and an undeclared prefix is in no known namespace.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

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

/// One namespace declaration in scope.
struct Binding<'x> {
    /// The prefix (empty for the default namespace).
    prefix: &'x [u8],
    /// The namespace URI (empty: the default namespace unbound).
    uri: Cow<'x, str>,
    /// `uri`, classified.
    ns: Ns,
    /// The depth of the element that declared it.
    depth: usize,
}

/// `(prefix, local)` of a qualified name; the prefix is empty when there is none.
fn split_qname(qname: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b':', qname) {
        Some(i) => (&qname[..i], &qname[i + 1..]),
        None => (&[], qname),
    }
}

/// A start tag.
pub(crate) struct Tag<'x> {
    pub ns: Ns,
    start: BytesStart<'x>,
    /// Where the local name starts in the qualified name (after `prefix:`).
    local_at: usize,
}

impl Tag<'_> {
    pub fn local(&self) -> &str {
        &self.start.name().0[self.local_at..]
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
    xml: &'x str,
    reader: Reader<&'x [u8]>,
    target: Option<&'t str>,
    depth: usize,
    bindings: Vec<Binding<'x>>,
    /// An element just ended (or was empty): declarations at this depth and deeper go out of
    /// scope before the next event, not at once, so a QName in the element's text can still be
    /// resolved after the text is read (as `NsReader` did).
    scope_ends_at: Option<usize>,
}

impl<'x, 't> Cursor<'x, 't> {
    pub fn new(xml: &'x str, target: Option<&'t str>) -> Self {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        Cursor {
            xml,
            reader,
            target,
            depth: 0,
            bindings: Vec::with_capacity(8),
            scope_ends_at: None,
        }
    }

    /// `part` (a slice of an event read from the input) as a slice of the input itself, so it
    /// may outlive the event. `None` for data quick-xml had to copy.
    fn in_input(&self, part: &[u8]) -> Option<&'x [u8]> {
        let input = self.xml.as_bytes();
        let start = (part.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
        input.get(start..start.checked_add(part.len())?)
    }

    /// Text read straight from the input, which is already UTF-8 (no second validation),
    /// when it needs no line-end normalisation (no `\r`); `None` sends it the long way.
    fn text_in_input(&self, part: &[u8]) -> Option<&'x str> {
        let bytes = self.in_input(part)?;
        if memchr::memchr(b'\r', bytes).is_some() {
            return None;
        }
        let start = bytes.as_ptr() as usize - self.xml.as_ptr() as usize;
        self.xml.get(start..start + bytes.len())
    }

    /// The namespace of an element and where its local name starts.
    fn classify_start(&self, start: &BytesStart<'_>) -> (Ns, usize) {
        let name = start.name().0.as_bytes();
        let (prefix, _) = split_qname(name);
        let local_at = if prefix.is_empty() {
            0
        } else {
            prefix.len() + 1
        };
        (self.element_ns(prefix), local_at)
    }

    /// Pushes the namespace declarations of `start`, an element at `depth`.
    fn declare(&mut self, start: &BytesStart<'_>, depth: usize) -> Result<(), WsmanError> {
        let raw = start.attributes_raw().as_bytes();
        // Most elements of a reply carry no attributes at all.
        static XMLNS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"xmlns"));
        if raw.is_empty() || XMLNS.find(raw).is_none() {
            return Ok(());
        }
        for a in start.attributes().with_checks(false) {
            let a = a.map_err(|e| self.err(e.to_string()))?;
            let key: &[u8] = a.key.0.as_bytes();
            let prefix = if key == b"xmlns" {
                &key[5..]
            } else if let Some(p) = key.strip_prefix(b"xmlns:") {
                p
            } else {
                continue;
            };
            let prefix = self
                .in_input(prefix)
                .ok_or_else(|| self.err("a namespace prefix outside the document"))?;
            let raw_value: &[u8] = a.value.as_bytes();
            let uri: Cow<'x, str> = match self.in_input(raw_value) {
                Some(v) if memchr::memchr(b'&', v).is_none() => {
                    Cow::Borrowed(std::str::from_utf8(v).map_err(|e| self.err(e.to_string()))?)
                }
                _ => Cow::Owned(
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| self.err(e.to_string()))?
                        .into_owned(),
                ),
            };
            let ns = match (uri.is_empty(), prefix.is_empty()) {
                // `xmlns=""` unbinds the default namespace.
                (true, true) => Ns::None,
                // `xmlns:p=""` is not allowed in XML 1.0: `p` names no namespace we know.
                (true, false) => Ns::Other,
                _ => classify(&uri, self.target),
            };
            self.bindings.push(Binding {
                prefix,
                uri,
                ns,
                depth,
            });
        }
        Ok(())
    }

    /// The binding of `prefix` in scope, if any.
    fn binding(&self, prefix: &[u8]) -> Option<&Binding<'x>> {
        self.bindings.iter().rev().find(|b| b.prefix == prefix)
    }

    /// The namespace of an element's prefix: the default namespace for none, and an undeclared
    /// prefix in no known namespace.
    fn element_ns(&self, prefix: &[u8]) -> Ns {
        match self.binding(prefix) {
            Some(b) => b.ns,
            None if prefix.is_empty() => Ns::None,
            None => Ns::Other,
        }
    }

    /// Drops the declarations of elements at `depth` and deeper.
    fn end_scope(&mut self, depth: usize) {
        while self.bindings.last().is_some_and(|b| b.depth >= depth) {
            self.bindings.pop();
        }
    }

    fn err(&self, msg: impl Into<String>) -> WsmanError {
        WsmanError::xml(self.reader.buffer_position(), msg)
    }

    pub fn next(&mut self) -> Result<Ev<'x>, WsmanError> {
        loop {
            if let Some(depth) = self.scope_ends_at.take() {
                self.end_scope(depth);
            }
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
                    self.declare(&start, self.depth)?;
                    let (ns, local_at) = self.classify_start(&start);
                    Ev::Start(Tag {
                        ns,
                        start,
                        local_at,
                    })
                }
                Event::Empty(start) => {
                    self.declare(&start, self.depth + 1)?;
                    self.scope_ends_at = Some(self.depth + 1);
                    let (ns, local_at) = self.classify_start(&start);
                    Ev::Empty(Tag {
                        ns,
                        start,
                        local_at,
                    })
                }
                Event::End(_) => {
                    self.scope_ends_at = Some(self.depth);
                    self.depth = self.depth.saturating_sub(1);
                    Ev::End
                }
                Event::Text(t) => match self.text_in_input(t.as_bytes()) {
                    Some(text) => Ev::Text(Cow::Borrowed(text)),
                    None => Ev::Text(t.xml10_content()),
                },
                Event::CData(c) => match self.text_in_input(c.as_bytes()) {
                    Some(text) => Ev::Text(Cow::Borrowed(text)),
                    None => Ev::Text(c.xml10_content()),
                },
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

    /// Whether `tag` (the element just read) carries `xsi:nil="true"`.
    pub fn is_nil(&self, tag: &Tag<'_>) -> Result<bool, WsmanError> {
        let start = &tag.start;
        if start.attributes_raw().trim().is_empty() {
            return Ok(false);
        }
        for a in start.attributes().with_checks(false) {
            let a = a.map_err(|e| self.err(e.to_string()))?;
            // Attributes: only a prefixed name is in a namespace.
            let (prefix, local) = split_qname(a.key.0.as_bytes());
            let xsi = !prefix.is_empty()
                && self
                    .binding(prefix)
                    .is_some_and(|b| b.uri == super::ns::XSI);
            if local == b"nil" && xsi {
                return Ok(a.value.trim() == "true" || a.value.trim() == "1");
            }
        }
        Ok(false)
    }

    /// Resolves a QName found in text (`s:Sender`, `w:TimedOut`) against the bindings in scope.
    pub fn resolve_qname<'q>(&self, qname: &'q str) -> (Ns, &'q str) {
        match qname.split_once(':') {
            Some((prefix, local)) => (self.element_ns(prefix.as_bytes()), local),
            None => (self.element_ns(&[]), qname),
        }
    }

    #[cfg(feature = "sim")]
    /// Whether `tag` (just read) is in namespace `uri`.
    pub fn element_namespace_is(&self, tag: &Tag<'_>, uri: &str) -> bool {
        let (prefix, _) = split_qname(tag.start.name().0.as_bytes());
        self.binding(prefix).is_some_and(|b| b.uri == uri)
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

#[cfg(test)]
#[path = "cursor_test.rs"]
mod tests;
