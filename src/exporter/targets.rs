//! `allowed_targets`: which targets a module may be used on, as host-name patterns (`*` within
//! one label) and address ranges, checked before any traffic.

/// The targets a module may be used on (empty: any).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetFilter {
    patterns: Vec<TargetPattern>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TargetPattern {
    /// An address range: network address and prefix length.
    Net(std::net::IpAddr, u8),
    /// A host-name pattern, lowercased; `*` matches any run of characters.
    Name(String),
}

impl TargetFilter {
    /// Parses `allowed_targets`: `10.0.0.0/8`, `fd00::/8`, `192.0.2.7`, `*.contoso.com`,
    /// `server01`.
    pub fn parse(list: &[String]) -> Result<TargetFilter, String> {
        if list.is_empty() {
            // Present but empty (a template that rendered nothing): allowing any target, as
            // an absent list does, would open the module to everyone.
            return Err(
                "allowed_targets is empty: it would allow no target (leave it out to allow any)"
                    .into(),
            );
        }
        let mut patterns = Vec::new();
        for item in list {
            let t = item.trim();
            let pattern = if let Some((addr, len)) = t.split_once('/') {
                let addr: std::net::IpAddr = addr
                    .parse()
                    .map_err(|_| format!("allowed_targets: {t:?} is not an address range"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let len: u8 = len
                    .parse()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| format!("allowed_targets: {t:?} has a bad prefix length"))?;
                TargetPattern::Net(addr, len)
            } else if let Ok(addr) = t.parse::<std::net::IpAddr>() {
                TargetPattern::Net(addr, if addr.is_ipv4() { 32 } else { 128 })
            } else if t
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '*'))
            {
                // `10.20.*` reads as an address range but would match names (10.20.evil.example).
                return Err(format!(
                    "allowed_targets: {t:?} looks like addresses; write a range (10.20.0.0/16)"
                ));
            } else if !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*'))
            {
                TargetPattern::Name(t.to_ascii_lowercase())
            } else {
                return Err(format!(
                    "allowed_targets: {t:?} is neither a host-name pattern nor an address range"
                ));
            };
            patterns.push(pattern);
        }
        Ok(TargetFilter { patterns })
    }

    /// Whether the filter names exactly one host: one name without `*`, or one address.
    pub fn is_one_host(&self) -> bool {
        match self.patterns.as_slice() {
            [TargetPattern::Name(n)] => !n.contains('*'),
            [TargetPattern::Net(a, len)] => *len == if a.is_ipv4() { 32 } else { 128 },
            _ => false,
        }
    }

    /// Whether `host` (a name, or an address without brackets) may be scraped. Addresses
    /// match ranges only (an IPv4-mapped IPv6 address as its IPv4 address), names match name
    /// patterns only; `*` stands for part of one label, never for a dot.
    pub fn allows(&self, host: &str) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let addr = host
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|a| a.to_canonical());
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.patterns.iter().any(|p| match (p, addr) {
            (TargetPattern::Net(net, len), Some(a)) => in_net(a, *net, *len),
            (TargetPattern::Name(pattern), None) => glob(pattern.as_bytes(), name.as_bytes()),
            _ => false,
        })
    }
}

fn in_net(a: std::net::IpAddr, net: std::net::IpAddr, len: u8) -> bool {
    use std::net::IpAddr::{V4, V6};
    let (a, net, bits) = match (a, net) {
        (V4(a), V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (V6(a), V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let mask = if len == 0 {
        0
    } else {
        (!0u128 << (bits - u32::from(len))) & (!0u128 >> (128 - bits))
    };
    a & mask == net & mask
}

/// Label by label: the same number of labels, and in each, `*` matches any run of characters
/// (none included) and everything else itself. So `*.contoso.com` is every host directly under
/// contoso.com, and `bmc-*` never reaches into another domain.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut pl, mut tl) = (pattern.split(|&c| c == b'.'), text.split(|&c| c == b'.'));
    loop {
        match (pl.next(), tl.next()) {
            (None, None) => return true,
            (Some(p), Some(t)) if glob_label(p, t) => {}
            _ => return false,
        }
    }
}

fn glob_label(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_targets_match_names_and_ranges() {
        let f = TargetFilter::parse(&[
            "*.Contoso.com".into(),
            "server01".into(),
            "10.0.0.0/8".into(),
            "192.0.2.7".into(),
            "fd00::/8".into(),
        ])
        .unwrap();
        for ok in [
            "a.contoso.com",
            "WEB-01.CONTOSO.COM",
            "web-01.contoso.com.",
            "server01",
            "10.1.2.3",
            "192.0.2.7",
            "::ffff:10.9.9.9",
            "fd12::1",
        ] {
            assert!(f.allows(ok), "{ok}");
        }
        for no in [
            "contoso.com.evil.example",
            "a.b.contoso.com",
            "server011",
            "11.0.0.1",
            "192.0.2.8",
            "::ffff:11.0.0.1",
            "fe80::1",
            "attacker.example",
        ] {
            assert!(!f.allows(no), "{no}");
        }
        assert!(TargetFilter::default().allows("anything"));
        assert!(
            TargetFilter::parse(&["0.0.0.0/0".into()])
                .unwrap()
                .allows("8.8.8.8")
        );
        // `bmc-*` stays in one label; an IPv6 range does not take in IPv4-mapped addresses.
        let f = TargetFilter::parse(&["bmc-*".into(), "::/0".into()]).unwrap();
        assert!(f.allows("bmc-17") && !f.allows("bmc-x.attacker.example"));
        assert!(!f.allows("::ffff:127.0.0.1") && f.allows("2001:db8::1"));
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "x/8",
            "a b",
            "",
            "http://x",
            "10.20.*",
            "10.1",
        ] {
            assert!(TargetFilter::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
