//! The XML tokens of a WS-Management message, read straight from the text.
//!
//! A reply to `RequestResponse` is about a hundred tokens, and quick-xml's general reader spends
//! about 20 ns on each before the cursor sees it (`benches/envelope.rs`): that alone was two
//! thirds of the time budget for the whole parse. This scanner reads the one XML form that
//! SOAP 1.2 allows (XML 1.0 without a document type declaration) and nothing more:
//!
//! - start, end and empty-element tags; an end tag must name the element it closes; a name is
//!   ASCII letters, `_` and `:` (then digits, `.` and `-` too) or any non-ASCII character, so a
//!   name that took in a quote, `=`, `<` or `&` is refused and a tag's extent never rests on how
//!   a reader treats a malformed name;
//! - character data, with the five predefined entities and character references expanded and
//!   line ends normalised (XML 1.0 §2.11) by [`text`], and attribute values normalised too
//!   (§3.3.3) by [`attr_value`];
//! - CDATA sections (line ends normalised, nothing else);
//! - comments and processing instructions (the XML declaration among them; a PI needs its
//!   target), skipped;
//! - a document type declaration is refused: SOAP 1.2 Part 1 §5 forbids one, and refusing it
//!   means no entity is ever defined by the peer.
//!
//! Every token borrows from the input; nothing is copied unless an entity or a `\r` has to be
//! replaced. quick-xml stays this module's reference in the tests (`scan_test.rs` compares
//! the two on generated documents) and writes our escapes.

use std::borrow::Cow;

/// One token. Names and attribute text are as written (prefix included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token<'x> {
    /// `<name attrs>`, or `<name attrs/>` when `empty`.
    Start {
        name: &'x str,
        attrs: &'x str,
        empty: bool,
    },
    /// An end tag, already matched against its start tag.
    End,
    /// Character data as written: pass it through [`text`].
    Text(&'x str),
    /// The content of a CDATA section as written: pass it through [`cdata`].
    CData(&'x str),
    Eof,
}

/// A token that is not well-formed, at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub position: usize,
    pub message: Cow<'static, str>,
}

fn error(position: usize, message: impl Into<Cow<'static, str>>) -> ScanError {
    ScanError {
        position,
        message: message.into(),
    }
}

pub(crate) struct Scanner<'x> {
    xml: &'x str,
    pos: usize,
    /// The names of the open elements, outermost first.
    open: Vec<&'x str>,
}

/// A name as an error message quotes it: the peer's text, so at most 64 bytes (quote it with
/// `{:?}`, which escapes control characters).
pub(crate) fn short(name: &str) -> &str {
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Whether `name` can be an XML name: ASCII letters, `_` or `:` first, then those and digits,
/// `.` and `-`. Other characters are allowed only outside ASCII (XML 1.0's name characters there
/// are many; none of them is markup). A name that took in a quote, `=`, `<` or `&` is refused,
/// so a tag's extent never depends on how a reader treats a malformed name.
fn is_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((&first, tail)) => {
            NAME[first as usize] == NAME_START && tail.iter().all(|&b| NAME[b as usize] != 0)
        }
        None => false,
    }
}

/// What each byte can be in a name: [`NAME_START`], `NAME_REST` (digits, `.`, `-`), or 0.
static NAME: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80 {
            NAME_START
        } else if c.is_ascii_digit() || c == b'.' || c == b'-' {
            NAME_REST
        } else {
            0
        };
        b += 1;
    }
    t
};
const NAME_START: u8 = 2;
const NAME_REST: u8 = 1;

/// XML's white space (S): space, tab, CR, LF.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where an end tag's name ends: at white space, `/` or `>`.
fn name_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| is_space(b) || b == b'/' || b == b'>')
        .map_or(bytes.len(), |i| from + i)
}

impl<'x> Scanner<'x> {
    pub fn new(xml: &'x str) -> Self {
        Scanner {
            xml,
            pos: 0,
            open: Vec::with_capacity(16),
        }
    }

    /// The byte offset reached.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn next(&mut self) -> Result<Token<'x>, ScanError> {
        let bytes = self.xml.as_bytes();
        loop {
            let start = self.pos;
            if start >= bytes.len() {
                return Ok(Token::Eof);
            }
            if bytes[start] != b'<' {
                let end = memchr::memchr(b'<', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                self.pos = end;
                return Ok(Token::Text(&self.xml[start..end]));
            }
            let rest = &bytes[start + 1..];
            match rest.first() {
                Some(b'/') => return self.end_tag(start),
                Some(b'?') => {
                    // A processing instruction or the XML declaration: skipped. Its target
                    // must follow `<?` at once, and its end is looked for after that.
                    let target_to = bytes[start + 2..]
                        .iter()
                        .position(|&b| is_space(b) || b == b'?')
                        .map_or(bytes.len(), |i| start + 2 + i);
                    if !is_name(&bytes[start + 2..target_to]) {
                        return Err(error(start, "a processing instruction without a target"));
                    }
                    self.pos = self.find(target_to, b"?>", "a processing instruction")?;
                }
                Some(b'!') if rest.starts_with(b"!--") => {
                    self.pos = self.find(start + 4, b"-->", "a comment")?;
                }
                Some(b'!') if rest.starts_with(b"![CDATA[") => {
                    let from = start + 9;
                    let end = self.find(from, b"]]>", "a CDATA section")?;
                    self.pos = end;
                    return Ok(Token::CData(&self.xml[from..end - 3]));
                }
                Some(b'!') if rest.starts_with(b"!DOCTYPE") => {
                    return Err(error(
                        start,
                        "a document type declaration, which SOAP 1.2 does not allow",
                    ));
                }
                Some(b'!') => return Err(error(start, "\"<!\" that starts no comment or CDATA")),
                _ => return self.start_tag(start),
            }
        }
    }

    /// The offset just past the first `needle` at or after `from`.
    fn find(&mut self, from: usize, needle: &[u8], what: &str) -> Result<usize, ScanError> {
        let bytes = self.xml.as_bytes();
        match bytes
            .get(from..)
            .and_then(|b| memchr::memmem::find(b, needle))
        {
            Some(i) => Ok(from + i + needle.len()),
            None => Err(error(from, format!("{what} that never ends"))),
        }
    }

    fn start_tag(&mut self, start: usize) -> Result<Token<'x>, ScanError> {
        let bytes = self.xml.as_bytes();
        let name_at = start + 1;
        // The name, checked as it is scanned; it must end at white space, `/` or `>`.
        if bytes
            .get(name_at)
            .is_none_or(|&b| NAME[b as usize] != NAME_START)
        {
            return Err(error(start, "\"<\" not followed by a name"));
        }
        let name_to = bytes[name_at..]
            .iter()
            .position(|&b| NAME[b as usize] == 0)
            .map_or(bytes.len(), |i| name_at + i);
        match bytes.get(name_to) {
            Some(&b) if is_space(b) || b == b'/' || b == b'>' => {}
            Some(_) => return Err(error(start, "\"<\" not followed by a name")),
            None => return Err(error(start, "a start tag that never ends")),
        }
        // Most tags of a reply have no attributes.
        if bytes.get(name_to) == Some(&b'>') {
            let name = &self.xml[name_at..name_to];
            self.open.push(name);
            self.pos = name_to + 1;
            return Ok(Token::Start {
                name,
                attrs: "",
                empty: false,
            });
        }
        // The attributes run to the first `>` outside a quoted value.
        let mut i = name_to;
        let close = loop {
            // Jump to the next byte that matters (each byte is looked at once: a tag that
            // never ends costs one pass, not one per attribute).
            let Some(skip) = bytes
                .get(i..)
                .and_then(|b| memchr::memchr3(b'>', b'"', b'\'', b))
            else {
                return Err(error(start, "a start tag that never ends"));
            };
            if let Some(lt) = memchr::memchr(b'<', &bytes[i..i + skip]) {
                return Err(error(i + lt, "\"<\" inside a start tag"));
            }
            i += skip;
            // `>`, or the quote that opens a value.
            let q = bytes[i];
            if q == b'>' {
                break i;
            }
            let value = &bytes[i + 1..];
            let Some(len) = memchr::memchr(q, value) else {
                return Err(error(i, "an attribute value that never ends"));
            };
            if memchr::memchr(b'<', &value[..len]).is_some() {
                return Err(error(i, "\"<\" in an attribute value"));
            }
            i += len + 2;
        };
        let empty = close > name_to && bytes[close - 1] == b'/';
        let attrs_to = if empty { close - 1 } else { close };
        if attrs_to > name_to && !is_space(bytes[name_to]) {
            return Err(error(
                name_to,
                "no white space between a name and an attribute",
            ));
        }
        let name = &self.xml[name_at..name_to];
        if !empty {
            self.open.push(name);
        }
        self.pos = close + 1;
        Ok(Token::Start {
            name,
            attrs: &self.xml[name_to..attrs_to],
            empty,
        })
    }

    fn end_tag(&mut self, start: usize) -> Result<Token<'x>, ScanError> {
        let bytes = self.xml.as_bytes();
        let name_at = start + 2;
        let name_to = name_end(bytes, name_at);
        let mut close = name_to;
        while close < bytes.len() && is_space(bytes[close]) {
            close += 1;
        }
        if bytes.get(close) != Some(&b'>') {
            return Err(error(start, "an end tag that is not closed by \">\""));
        }
        // The open element's name was checked: matching it checks this one.
        let name = &self.xml[name_at..name_to];
        match self.open.pop() {
            // Names are short: compared inline, not through `memcmp`.
            Some(open)
                if open.len() == name.len()
                    && open.bytes().zip(name.bytes()).all(|(a, b)| a == b) => {}
            Some(open) => {
                return Err(error(
                    start,
                    format!(
                        "end tag {:?} where {:?} was expected",
                        short(name),
                        short(open)
                    ),
                ));
            }
            None => {
                return Err(error(
                    start,
                    format!("end tag {:?} with no open element", short(name)),
                ));
            }
        }
        self.pos = close + 1;
        Ok(Token::End)
    }
}

/// Where `&` references are expanded and line ends normalised: text (`\r\n` and `\r` become
/// `\n`), or an attribute value (every white-space character becomes a space as well).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Normalise {
    Text,
    Attribute,
}

/// Character data, its references expanded and line ends normalised; borrowed when there was
/// nothing to replace.
pub(crate) fn text(raw: &str) -> Result<Cow<'_, str>, String> {
    unescape(raw, Normalise::Text)
}

/// A CDATA section's content: line ends normalised, nothing else.
pub(crate) fn cdata(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
}

/// An attribute value as written (between its quotes), normalised as XML 1.0 §3.3.3 says for
/// CDATA attributes.
pub(crate) fn attr_value(raw: &str) -> Result<Cow<'_, str>, String> {
    unescape(raw, Normalise::Attribute)
}

fn unescape(raw: &str, mode: Normalise) -> Result<Cow<'_, str>, String> {
    let bytes = raw.as_bytes();
    let special = |b: u8| match mode {
        Normalise::Text => b == b'&' || b == b'\r',
        Normalise::Attribute => matches!(b, b'&' | b'\r' | b'\n' | b'\t'),
    };
    let first = match mode {
        Normalise::Text => memchr::memchr2(b'&', b'\r', bytes),
        Normalise::Attribute => bytes.iter().position(|&b| special(b)),
    };
    let Some(first) = first else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut i = first;
    let mut plain = first;
    while i < bytes.len() {
        let b = bytes[i];
        if !special(b) {
            i += 1;
            continue;
        }
        out.push_str(&raw[plain..i]);
        match b {
            b'&' => {
                // Past `&#`, `&#x` and any leading zeros (legal, and unbounded), the longest
                // reference, `&#x10FFFF;` or `&#1114111;`, has seven more bytes; `&quot;` five.
                let mut k = i + 1;
                if bytes.get(k) == Some(&b'#') {
                    k += 1;
                    if bytes.get(k) == Some(&b'x') {
                        k += 1;
                    }
                    while bytes.get(k) == Some(&b'0') {
                        k += 1;
                    }
                }
                let window = &bytes[k..bytes.len().min(k + 8)];
                let Some(len) = memchr::memchr(b';', window) else {
                    return Err("\"&\" that starts no reference".into());
                };
                out.push(reference(&raw[i + 1..k + len])?);
                i = k + len + 1;
            }
            b'\r' => {
                out.push(if mode == Normalise::Text { '\n' } else { ' ' });
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            _ => {
                out.push(' ');
                i += 1;
            }
        }
        plain = i;
    }
    out.push_str(&raw[plain..]);
    Ok(Cow::Owned(out))
}

/// The character a reference (`amp`, `#38`, `#x26`) stands for.
fn reference(name: &str) -> Result<char, String> {
    let code = match name {
        "amp" => return Ok('&'),
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "quot" => return Ok('"'),
        "apos" => return Ok('\''),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with('x') => u32::from_str_radix(&hex[1..], 16).ok(),
            Some(dec) => dec.parse::<u32>().ok(),
            None => return Err(format!("unknown entity {:?}", short(name))),
        },
    };
    // `+` would be taken by from_str_radix; and XML's Char excludes NUL.
    match code.and_then(char::from_u32) {
        Some(c) if c != '\0' && !name.contains('+') => Ok(c),
        _ => Err(format!("invalid character reference {:?}", short(name))),
    }
}

/// The attributes of a start tag: `(name, value as written)` pairs.
pub(crate) struct Attributes<'x> {
    rest: &'x str,
}

pub(crate) fn attributes(attrs: &str) -> Attributes<'_> {
    Attributes { rest: attrs }
}

impl<'x> Iterator for Attributes<'x> {
    type Item = Result<(&'x str, &'x str), String>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let fail = |this: &mut Self, msg: &str| {
            this.rest = "";
            Some(Err(msg.to_string()))
        };
        let Some(eq) = s.find('=') else {
            return fail(self, "an attribute without a value");
        };
        let name = s[..eq].trim_end_matches([' ', '\t', '\r', '\n']);
        if !is_name(name.as_bytes()) {
            return fail(self, "an attribute without a name");
        }
        let after = s[eq + 1..].trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(q @ ('"' | '\'')) = after.chars().next() else {
            return fail(self, "an attribute value without quotes");
        };
        let Some(len) = after[1..].find(q) else {
            return fail(self, "an attribute value that never ends");
        };
        let value = &after[1..1 + len];
        let rest = &after[len + 2..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t', '\r', '\n']) {
            return fail(self, "no white space between attributes");
        }
        self.rest = rest;
        Some(Ok((name, value)))
    }
}

#[cfg(test)]
#[path = "scan_test.rs"]
mod tests;
