//! A thin cursor over the [`scan`](super::scan) tokens, with the namespace bindings kept here.
//!
//! Element names are matched by namespace URI and local name, never by prefix: each element's
//! namespace is classified into [`Ns`] as it is read (no allocation), with one caller-chosen
//! "target" URI (a WMI class's resource URI) recognised too.
//!
//! quick-xml's `NsReader` (which this replaced, and which stays its reference in the tests)
//! resolves every name through a general resolver. A WS-Man reply declares a handful of
//! prefixes, so this cursor keeps them on a small stack instead: a
//! declaration is classified once, when its element starts (only elements whose attributes
//! mention `xmlns` are looked at), and an element's prefix is then a short backward scan. The
//! rules are Namespaces in XML 1.0's: a declaration holds for its element and its descendants,
//! an inner one shadows an outer one (real replies rebind `p`), `xmlns=""` unbinds the default,
//! and an undeclared prefix is in no known namespace.

use std::borrow::Cow;

use super::scan::{self, ScanError, Scanner, Token};
use super::{WsmanError, ns};

/// Deepest element nesting accepted; deeper input is refused, not recursed into.
pub(crate) const MAX_DEPTH: usize = 48;

/// Most namespace declarations in scope at once. A Windows reply has under a dozen; the bound
/// keeps every prefix lookup short, so a reply cannot make reading it quadratic.
pub(crate) const MAX_BINDINGS: usize = 64;

/// The namespace the `xml` prefix is bound to by definition (Namespaces in XML 1.0 §3).
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

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
    // Names are short: a plain loop beats a vectorised search's set-up.
    match qname.iter().position(|&b| b == b':') {
        Some(i) => (&qname[..i], &qname[i + 1..]),
        None => (&[], qname),
    }
}

/// A start tag.
pub(crate) struct Tag<'x> {
    pub ns: Ns,
    /// The qualified name as written.
    name: &'x str,
    /// The attributes as written.
    attrs: &'x str,
    /// Where the local name starts in the qualified name (after `prefix:`).
    local_at: usize,
}

impl Tag<'_> {
    pub fn local(&self) -> &str {
        &self.name[self.local_at..]
    }

    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local() == local
    }

    /// An unqualified attribute's value, unescaped.
    pub fn attr(&self, name: &str) -> Result<Option<String>, WsmanError> {
        for a in scan::attributes(self.attrs) {
            let (key, raw) = a.map_err(|e| WsmanError::xml(0, e))?;
            if key == name {
                let v = scan::attr_value(raw).map_err(|e| WsmanError::xml(0, e))?;
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
    scanner: Scanner<'x>,
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
        Cursor {
            scanner: Scanner::new(xml),
            target,
            depth: 0,
            bindings: Vec::with_capacity(8),
            scope_ends_at: None,
        }
    }

    /// The namespace of an element and where its local name starts.
    fn classify_start(&self, name: &str) -> (Ns, usize) {
        let (prefix, _) = split_qname(name.as_bytes());
        let local_at = if prefix.is_empty() {
            0
        } else {
            prefix.len() + 1
        };
        (self.element_ns(prefix), local_at)
    }

    /// Pushes the namespace declarations in `attrs`, of an element at `depth`.
    fn declare(&mut self, attrs: &'x str, depth: usize) -> Result<(), WsmanError> {
        // Most elements of a reply carry no attributes at all.
        static XMLNS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"xmlns"));
        if attrs.is_empty() || XMLNS.find(attrs.as_bytes()).is_none() {
            return Ok(());
        }
        for a in scan::attributes(attrs) {
            let (key, raw) = a.map_err(|e| self.err(e))?;
            let prefix = if key == "xmlns" {
                ""
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            let uri = scan::attr_value(raw).map_err(|e| self.err(e))?;
            // `xmlns` may not be declared, and `xml` only to its own namespace.
            if prefix == "xmlns" || (prefix == "xml") != (uri == XML_NAMESPACE) {
                return Err(self.err(format!(
                    "a declaration of the reserved prefix or namespace {:?}",
                    scan::short(if prefix.is_empty() { &uri } else { prefix })
                )));
            }
            if self.bindings.len() == MAX_BINDINGS {
                return Err(self.err(format!(
                    "more than {MAX_BINDINGS} namespace declarations in scope"
                )));
            }
            let ns = match (uri.is_empty(), prefix.is_empty()) {
                // `xmlns=""` unbinds the default namespace.
                (true, true) => Ns::None,
                // `xmlns:p=""` is not allowed in XML 1.0: `p` names no namespace we know.
                (true, false) => Ns::Other,
                _ => classify(&uri, self.target),
            };
            self.bindings.push(Binding {
                prefix: prefix.as_bytes(),
                uri,
                ns,
                depth,
            });
        }
        Ok(())
    }

    /// The binding of `prefix` in scope, if any.
    fn binding(&self, prefix: &[u8]) -> Option<&Binding<'x>> {
        // Prefixes are a few bytes: compared inline, not through `memcmp`.
        let same = |a: &[u8]| a.len() == prefix.len() && a.iter().zip(prefix).all(|(x, y)| x == y);
        self.bindings.iter().rev().find(|b| same(b.prefix))
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
        WsmanError::xml(self.scanner.position() as u64, msg)
    }

    fn scan_err(e: ScanError) -> WsmanError {
        WsmanError::xml(e.position as u64, e.message)
    }

    pub fn next(&mut self) -> Result<Ev<'x>, WsmanError> {
        if let Some(depth) = self.scope_ends_at.take() {
            self.end_scope(depth);
        }
        Ok(match self.scanner.next().map_err(Self::scan_err)? {
            Token::Start { name, attrs, empty } => {
                let depth = self.depth + 1;
                if empty {
                    self.scope_ends_at = Some(depth);
                } else {
                    if depth > MAX_DEPTH {
                        return Err(self.err(format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    self.depth = depth;
                }
                self.declare(attrs, depth)?;
                let (ns, local_at) = self.classify_start(name);
                let tag = Tag {
                    ns,
                    name,
                    attrs,
                    local_at,
                };
                if empty {
                    Ev::Empty(tag)
                } else {
                    Ev::Start(tag)
                }
            }
            Token::End => {
                self.scope_ends_at = Some(self.depth);
                self.depth = self.depth.saturating_sub(1);
                Ev::End
            }
            Token::Text(raw) => Ev::Text(scan::text(raw).map_err(|e| self.err(e))?),
            Token::CData(raw) => Ev::Text(scan::cdata(raw)),
            Token::Eof => Ev::Eof,
        })
    }

    /// Whether `tag` (the element just read) carries `xsi:nil="true"`.
    pub fn is_nil(&self, tag: &Tag<'_>) -> Result<bool, WsmanError> {
        if tag.attrs.trim_ascii().is_empty() {
            return Ok(false);
        }
        for a in scan::attributes(tag.attrs) {
            let (key, raw) = a.map_err(|e| self.err(e))?;
            // Attributes: only a prefixed name is in a namespace. The local name is compared
            // first, so only a `nil` costs a lookup.
            let (prefix, local) = split_qname(key.as_bytes());
            if local == b"nil"
                && !prefix.is_empty()
                && self
                    .binding(prefix)
                    .is_some_and(|b| b.uri == super::ns::XSI)
            {
                let v = raw.trim_ascii();
                return Ok(v == "true" || v == "1");
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
        let (prefix, _) = split_qname(tag.name.as_bytes());
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
