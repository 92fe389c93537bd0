//! HTTP proxies, as curl reads them: an explicit proxy URL, or the environment
//! (`HTTPS_PROXY`/`https_proxy` for https targets, `http_proxy`/`HTTP_PROXY` for http targets,
//! `NO_PROXY`/`no_proxy` for the hosts that bypass it).
//!
//! NTLM and Kerberos authenticate one TCP connection, so every target is reached through a
//! `CONNECT` tunnel, http and https alike: the whole handshake and every sealed request then travel
//! over the same connection, and TLS (with pinning and channel bindings to the *target's*
//! certificate) runs inside the tunnel. The tunnel's request and reply are sans-IO here
//! ([`connect_request`], [`parse_connect_reply`]); the connection moves the bytes.
//!
//! ```
//! use winrm_ipmi::transport::proxy::{NoProxy, Proxy};
//!
//! let proxy = Proxy::parse("http://proxy.corp:3128")?;
//! assert_eq!(proxy.authority(), "proxy.corp:3128");
//! let bypass = NoProxy::parse(".corp.example, 10.0.0.5");
//! assert!(bypass.matches("srv01.corp.example"));
//! assert!(bypass.matches("10.0.0.5"));
//! assert!(!bypass.matches("srv01.other.example"));
//! # Ok::<(), winrm_ipmi::transport::proxy::ProxyError>(())
//! ```

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use super::Scheme;
use super::endpoint::strip_prefix_ci;
use crate::auth::Password;

/// The longest `CONNECT` reply head accepted (status line and headers).
pub const MAX_CONNECT_REPLY: usize = 16 * 1024;

/// An HTTP proxy: where it is, and its Basic credentials if it wants them.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        if let Some((_, password)) = &mut self.credentials {
            password.zeroize();
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("authority", &self.authority())
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Proxy {
    /// The proxy's URL without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority())
    }
}

/// A proxy setting that does not parse, or a proxy that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL is not `http://[user:password@]host[:port]`.
    #[error("invalid proxy URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, without any password.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// The proxy's reply to `CONNECT` is not HTTP.
    #[error("the proxy's reply to CONNECT is not HTTP: {0}")]
    Malformed(String),
}

impl Proxy {
    /// Parses `http://[user:password@]host[:port]` (`host:port` alone is taken as http; without
    /// a port, 1080, as curl). Only http proxies: the tunnel carries TLS to the target.
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let t = url.trim();
        let shown = super::redact_userinfo(t);
        let err = |reason| ProxyError::InvalidUrl {
            url: shown.clone(),
            reason,
        };
        let rest = if let Some(r) = strip_prefix_ci(t, "http://") {
            r
        } else if t.contains("://") {
            return Err(err(
                "only http:// proxies are supported (the tunnel carries TLS)",
            ));
        } else {
            t
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
            let (h, after) = r
                .split_once(']')
                .ok_or_else(|| err("unclosed [ in the host"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(err("junk after the IPv6 address")),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(err("no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| err("the port is not a number"))?,
            None => 1080,
        };
        let credentials = userinfo.map(|u| {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            (percent_decode(user), percent_decode(pass))
        });
        Ok(Proxy {
            host,
            port,
            credentials,
        })
    }

    /// Sets Basic credentials (instead of any in the URL).
    pub fn with_credentials(mut self, user: &str, password: &Password) -> Self {
        self.credentials = Some((user.to_string(), password.expose().to_string()));
        self
    }

    /// Whether the URL carried a password.
    pub fn has_password(&self) -> bool {
        self.credentials
            .as_ref()
            .is_some_and(|(_, p)| !p.is_empty())
    }

    /// Whether Basic credentials are set.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `host:port` (IPv6 in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The host to connect to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Proxy-Authorization` value, if credentials are set.
    fn authorization(&self) -> Option<Zeroizing<String>> {
        self.credentials.as_ref().map(|(u, p)| {
            let raw = Zeroizing::new(format!("{u}:{p}"));
            Zeroizing::new(format!("Basic {}", B64.encode(raw.as_bytes())))
        })
    }
}

/// The hosts that bypass the proxy (`NO_PROXY`): `*` for all; host names, which also match
/// their subdomains; `.domain` for the subdomains of a domain; IP literals, exactly; address
/// ranges `10.0.0.0/8`, `fd00::/8`. A `:port` suffix on an entry is ignored, as curl does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<String>,
}

impl NoProxy {
    /// Parses a comma- (or space-) separated list, as curl (7.88) reads it: `*` means every
    /// host only as the whole value; an entry with a port (`host:8080`, `[::1]:8080`) never
    /// matches, nor does a `*` among other entries (so a proxy is never bypassed by accident).
    pub fn parse(list: &str) -> Self {
        let mut n = NoProxy::default();
        if list.trim() == "*" {
            n.all = true;
            return n;
        }
        for e in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty() && *e != "*")
        {
            let e = match e.strip_prefix('[') {
                Some(bracketed) => match bracketed.split_once(']') {
                    Some((ip, "")) => ip,
                    _ => continue, // a port after the address, or no closing bracket
                },
                // One colon: host:port. More: an IPv6 address without brackets.
                None if e.matches(':').count() == 1 => continue,
                None => e,
            };
            n.entries.push(e.to_ascii_lowercase());
        }
        n
    }

    /// `no_proxy`, else `NO_PROXY`, through `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        NoProxy::parse(
            &var("no_proxy")
                .or_else(|| var("NO_PROXY"))
                .unwrap_or_default(),
        )
    }

    /// Whether `host` (a name or an address, IPv6 without brackets) bypasses the proxy.
    pub fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host_ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|e| {
            if let Some(ip) = host_ip {
                return match e.split_once('/') {
                    Some((net, bits)) => in_cidr(ip, net, bits),
                    None => e.parse::<IpAddr>().ok() == Some(ip),
                };
            }
            let domain = e.trim_start_matches('.').trim_end_matches('.');
            host == domain || host.ends_with(&format!(".{domain}"))
        })
    }
}

/// Whether `ip` lies in `net/bits` (an address range, as curl 7.86 and later accept).
fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= 128 || (a >> shift) == (b >> shift)
}

/// Which proxy to use for each target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyChoice {
    /// No proxy (also when the environment names one).
    #[default]
    Direct,
    /// This proxy for every target (its own `NO_PROXY` list still applies).
    Explicit(Proxy, NoProxy),
    /// The environment's, read once when the client is built.
    Environment {
        /// For http targets (`http_proxy`, `HTTP_PROXY`).
        http: Option<Proxy>,
        /// For https targets (`https_proxy`, `HTTPS_PROXY`).
        https: Option<Proxy>,
        /// `no_proxy`, `NO_PROXY`.
        no_proxy: NoProxy,
    },
}

impl ProxyChoice {
    /// The environment as curl reads it, through `var` (so tests need not touch the process's
    /// environment). The lowercase name wins; `HTTP_PROXY` in capitals is read too (curl skips it
    /// only for CGI reasons that do not apply to a client).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyError> {
        let get = |lower: &str, upper: &str| {
            var(lower)
                .or_else(|| var(upper))
                .filter(|v| !v.trim().is_empty())
        };
        // ALL_PROXY serves both schemes where the scheme's own variable is not set.
        let all = get("all_proxy", "ALL_PROXY");
        let http = get("http_proxy", "HTTP_PROXY")
            .or_else(|| all.clone())
            .map(|u| Proxy::parse(&u))
            .transpose()?;
        let https = get("https_proxy", "HTTPS_PROXY")
            .or(all)
            .map(|u| Proxy::parse(&u))
            .transpose()?;
        let no_proxy = NoProxy::from_env(&var);
        Ok(ProxyChoice::Environment {
            http,
            https,
            no_proxy,
        })
    }

    /// The process's environment.
    pub fn from_process_env() -> Result<Self, ProxyError> {
        Self::from_env(|name| std::env::var(name).ok())
    }

    /// The proxy for a target, if any.
    pub fn for_target(&self, scheme: Scheme, host: &str) -> Option<&Proxy> {
        match self {
            ProxyChoice::Direct => None,
            ProxyChoice::Explicit(p, no) => (!no.matches(host)).then_some(p),
            ProxyChoice::Environment {
                http,
                https,
                no_proxy,
            } => {
                let p = match scheme {
                    Scheme::Http => http.as_ref(),
                    Scheme::Https => https.as_ref(),
                };
                p.filter(|_| !no_proxy.matches(host))
            }
        }
    }
}

/// The `CONNECT` request that opens a tunnel to `target` (`host:port`).
pub fn connect_request(proxy: &Proxy, target: &str) -> Zeroizing<Vec<u8>> {
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.authorization() {
        req.push_str("Proxy-Authorization: ");
        req.push_str(&auth);
        req.push_str("\r\n");
    }
    req.push_str(concat!(
        "User-Agent: winrm-ipmi/",
        env!("CARGO_PKG_VERSION"),
        "\r\nProxy-Connection: Keep-Alive\r\n\r\n"
    ));
    Zeroizing::new(req.into_bytes())
}

/// The proxy's answer to `CONNECT`: its status and reason phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectReply {
    /// The status code (2xx: the tunnel is open).
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
}

/// Whether `head` holds a whole reply head (ends with an empty line).
pub fn connect_reply_complete(head: &[u8]) -> bool {
    head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n")
}

/// Parses the reply head (status line and headers) to `CONNECT`.
pub fn parse_connect_reply(head: &[u8]) -> Result<ConnectReply, ProxyError> {
    let text = std::str::from_utf8(head).map_err(|_| ProxyError::Malformed("not text".into()))?;
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(ProxyError::Malformed(format!(
            "status line {:?}",
            line.chars().take(80).collect::<String>()
        )));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| ProxyError::Malformed(format!("no status code in {line:?}")))?;
    Ok(ConnectReply {
        status,
        reason: parts.next().unwrap_or_default().trim().to_string(),
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let p = Proxy::parse("http://alice:s%40cret@proxy.corp:8080/").unwrap();
        assert_eq!((p.host(), p.port()), ("proxy.corp", 8080));
        assert!(p.has_password());
        assert_eq!(p.to_string(), "http://proxy.corp:8080");
        assert!(!format!("{p:?}").contains("cret"));
        let req = String::from_utf8(connect_request(&p, "srv01:5985").to_vec()).unwrap();
        assert!(req.starts_with("CONNECT srv01:5985 HTTP/1.1\r\nHost: srv01:5985\r\n"));
        // alice:s@cret
        assert!(
            req.contains("Proxy-Authorization: Basic YWxpY2U6c0BjcmV0\r\n"),
            "{req}"
        );
        assert!(req.ends_with("\r\n\r\n"));

        let p = Proxy::parse("proxy.corp").unwrap();
        assert_eq!(p.authority(), "proxy.corp:1080");
        assert!(!p.has_password());
        assert!(
            !String::from_utf8(connect_request(&p, "h:1").to_vec())
                .unwrap()
                .contains("Proxy-Authorization")
        );
        assert_eq!(
            Proxy::parse("http://[::1]:3128").unwrap().authority(),
            "[::1]:3128"
        );
        for bad in ["https://p:1", "socks5://p:1", "http://:1", "http://p:port"] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
        for bad in [
            "http://u:hunter2@p:x",
            "http://u:top:hunter2@p:x",
            "http://u:hunter2@p:bad/x@y",
            // A password holding `/` ends a well-formed authority early: still never shown.
            "http://u:hunter/2@p:x",
            "http://u:hunter2/top@proxy.corp:3128",
            "http://u:a?hunter2#top@p:x",
        ] {
            let e = Proxy::parse(bad).unwrap_err();
            assert!(!e.to_string().contains("hunter2"), "{e}");
            assert!(!e.to_string().contains("top"), "{e}");
        }
    }

    #[test]
    fn no_proxy_as_curl_reads_it() {
        let n = NoProxy::parse(
            "localhost, .corp.example,10.1.2.3 example.org:8080,[::1],192.168.0.0/16,fd00::/8",
        );
        for yes in [
            "localhost",
            "srv.corp.example",
            "corp.example",
            "10.1.2.3",
            "::1",
            "SRV.CORP.EXAMPLE.",
            "192.168.7.9",
            "fd12::1",
        ] {
            assert!(n.matches(yes), "{yes}");
        }
        for no in [
            "notlocalhost",
            "corp.example.net",
            "10.1.2.30",
            // An entry with a port never matches (curl 7.88: `NO_PROXY=localhost:18765` still
            // sends http://localhost:18765/ through the proxy).
            "example.org",
            "www.example.org",
            "xexample.org",
            "::2",
            "192.169.0.1",
            "fe80::1",
        ] {
            assert!(!n.matches(no), "{no}");
        }
        assert!(NoProxy::parse("*").matches("anything"));
        assert!(NoProxy::parse(" * ").matches("anything"));
        assert!(!NoProxy::parse("").matches("anything"));
        // `*` bypasses the proxy only as the whole value, as curl reads it.
        let n = NoProxy::parse("foo.com,*");
        assert!(n.matches("foo.com") && !n.matches("anything"));
        assert!(!NoProxy::parse("[::1]:8080").matches("::1"));
    }

    #[test]
    fn the_environment_chooses_by_scheme() {
        let env = |name: &str| {
            match name {
                "https_proxy" => Some("http://secure:3128"),
                "HTTP_PROXY" => Some("http://plain:3128"),
                "NO_PROXY" => Some(".internal"),
                "ALL_PROXY" => Some("http://everything:3128"),
                _ => None,
            }
            .map(str::to_string)
        };
        let c = ProxyChoice::from_env(env).unwrap();
        assert_eq!(
            c.for_target(Scheme::Https, "srv").map(Proxy::authority),
            Some("secure:3128".into())
        );
        assert_eq!(
            c.for_target(Scheme::Http, "srv").map(Proxy::authority),
            Some("plain:3128".into())
        );
        assert_eq!(c.for_target(Scheme::Https, "db.internal"), None);
        let none = ProxyChoice::from_env(|_| None).unwrap();
        assert_eq!(none.for_target(Scheme::Http, "srv"), None);
        assert_eq!(ProxyChoice::Direct.for_target(Scheme::Http, "srv"), None);
    }

    #[test]
    fn connect_replies() {
        let ok = b"HTTP/1.1 200 Connection established\r\nProxy-agent: tinyproxy\r\n\r\n";
        assert!(connect_reply_complete(ok));
        assert_eq!(
            parse_connect_reply(ok).unwrap(),
            ConnectReply {
                status: 200,
                reason: "Connection established".into()
            }
        );
        assert_eq!(
            parse_connect_reply(b"HTTP/1.0 407 Proxy Authentication Required\r\n\r\n")
                .unwrap()
                .status,
            407
        );
        assert!(!connect_reply_complete(b"HTTP/1.1 200 OK\r\n"));
        for bad in [
            &b"SSH-2.0\r\n\r\n"[..],
            b"HTTP/1.1 abc\r\n\r\n",
            b"\xff\xfe\r\n\r\n",
        ] {
            assert!(parse_connect_reply(bad).is_err());
        }
    }
}
