//! Host lists as operators keep them: one `HOST[:PORT]` (or URL) per line, `#` comments, blank
//! lines; duplicates dropped, order kept.
//!
//! ```
//! use winrm_ipmi::hosts::HostList;
//!
//! let mut list = HostList::new();
//! list.add("db01");
//! list.add_text("# fleet\nweb01\nweb02:5986  # https\nweb01\n", "fleet.txt")?;
//! assert_eq!(list.into_vec(), ["db01", "web01", "web02:5986"]);
//! # Ok::<(), winrm_ipmi::hosts::HostListError>(())
//! ```

use std::collections::HashSet;
use std::path::Path;

/// A host list that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostListError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line holds more than one word.
    #[error("{source_name}:{line}: one host per line, got {entry:?}")]
    NotOneHost {
        /// The file (or other source) name.
        source_name: String,
        /// Line number, from 1.
        line: usize,
        /// What the line holds.
        entry: String,
    },
}

/// Hosts in the order first given, each once.
#[derive(Clone, Debug, Default)]
pub struct HostList {
    hosts: Vec<String>,
    seen: HashSet<String>,
}

impl HostList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one host (trimmed; empty and repeated entries are ignored).
    pub fn add(&mut self, host: &str) {
        let h = host.trim();
        if !h.is_empty() && self.seen.insert(h.to_string()) {
            self.hosts.push(h.to_string());
        }
    }

    /// Adds every host of a list's text; `source_name` names it in errors.
    pub fn add_text(&mut self, text: &str, source_name: &str) -> Result<(), HostListError> {
        for (n, line) in text.lines().enumerate() {
            let entry = parse_line(line).map_err(|entry| HostListError::NotOneHost {
                source_name: source_name.to_string(),
                line: n + 1,
                entry: entry.to_string(),
            })?;
            if let Some(h) = entry {
                self.add(h);
            }
        }
        Ok(())
    }

    /// Adds every host of a list file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), HostListError> {
        let text = std::fs::read_to_string(path).map_err(|source| HostListError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.add_text(&text, &path.display().to_string())
    }

    /// How many hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The hosts, in order.
    pub fn into_vec(self) -> Vec<String> {
        self.hosts
    }
}

/// One of `count` disjoint parts of any host list (`--shard K/N`): a host belongs to the part
/// its name hashes to (FNV-1a, case-insensitive), so the parts are disjoint, their union is the
/// whole list, each holds about `1/count` of it, and a host's part depends on its name alone,
/// not on the rest of the list (stable when hosts are added or removed).
///
/// ```
/// use winrm_ipmi::hosts::Shard;
///
/// let shards: Vec<Shard> = (1..=3).map(|k| Shard::parse(&format!("{k}/3")).unwrap()).collect();
/// let owners = shards.iter().filter(|s| s.contains("srv0042.corp.example")).count();
/// assert_eq!(owners, 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl Shard {
    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a shard K/N"))?;
        let (k, n): (u32, u32) = match (k.trim().parse(), n.trim().parse()) {
            (Ok(k), Ok(n)) => (k, n),
            _ => return Err(format!("{s:?} is not a shard K/N (two numbers)")),
        };
        if n == 0 || k == 0 || k > n {
            return Err(format!("shard {s:?}: K must be 1 to N, N at least 1"));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether `host` belongs to this shard.
    pub fn contains(&self, host: &str) -> bool {
        // FNV-1a (64-bit): fixed, so shards agree across machines and releases.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in host.trim().bytes() {
            h ^= u64::from(b.to_ascii_lowercase());
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index)
    }
}

/// What a host-list line of more than one word ([`parse_line`]'s `Err`) holds, for a message:
/// the word count and the first word, never the rest (a line like `srv01 admin P4ssw0rd` must
/// not reach a terminal or a log).
pub fn describe_bad_line(entry: &str) -> String {
    let mut words = entry.split_whitespace();
    let first = words.next().unwrap_or_default();
    format!(
        "{} words, the first {:?}",
        1 + words.count(),
        crate::transport::redact_userinfo(first)
    )
}

/// One line of a host list: `Ok(Some(host))`, `Ok(None)` for a blank or comment line, or
/// `Err(entry)` when the line holds more than one word.
pub fn parse_line(line: &str) -> Result<Option<&str>, &str> {
    let entry = line.split('#').next().unwrap_or("").trim();
    if entry.contains(char::is_whitespace) {
        Err(entry)
    } else if entry.is_empty() {
        Ok(None)
    } else {
        Ok(Some(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_several_words_is_described_without_the_rest() {
        let line = "http://admin:Pw1@srv01 admin S3cret-Pw";
        let Err(entry) = parse_line(line) else {
            panic!("more than one word")
        };
        let shown = describe_bad_line(entry);
        assert_eq!(shown, "3 words, the first \"http://admin:***@srv01\"");
    }

    #[test]
    fn shards_partition_any_list_exactly_and_stably() {
        let hosts: Vec<String> = (0..10_000)
            .map(|i| format!("srv{i:05}.corp.example"))
            .collect();
        for n in [1u32, 2, 3, 7, 16] {
            let shards: Vec<Shard> = (1..=n)
                .map(|k| Shard::parse(&format!("{k}/{n}")).unwrap())
                .collect();
            let mut sizes = vec![0usize; n as usize];
            for h in &hosts {
                let owners: Vec<usize> =
                    (0..n as usize).filter(|&i| shards[i].contains(h)).collect();
                assert_eq!(owners.len(), 1, "{h} in shards {owners:?} of {n}");
                sizes[owners[0]] += 1;
            }
            assert_eq!(sizes.iter().sum::<usize>(), hosts.len());
            let even = hosts.len() / n as usize;
            for s in &sizes {
                assert!(s.abs_diff(even) * 10 < even, "{n} shards: {sizes:?}");
            }
        }
        // A host's shard depends on its name alone, whatever its case.
        let s = Shard::parse("2/5").unwrap();
        assert_eq!(
            s.contains("SRV00042.corp.example"),
            s.contains("srv00042.corp.example")
        );
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/-2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_files_comments_and_duplicates() {
        // Removed when dropped, a failed assertion included.
        let scratch = tempfile::Builder::new()
            .prefix("winrm-ipmi-hosts-")
            .tempdir()
            .unwrap();
        let file = scratch.path().join("hosts.txt");
        std::fs::write(
            &file,
            "# fleet\nweb01\n\nweb02:5986  # https\nweb01\n[fe80::1]:5985\n",
        )
        .unwrap();
        let mut list = HostList::new();
        list.add("db01");
        list.add("web02:5986");
        list.add_file(&file).unwrap();
        assert_eq!(
            list.into_vec(),
            ["db01", "web02:5986", "web01", "[fe80::1]:5985"]
        );
        std::fs::write(&file, "a b\n").unwrap();
        assert!(
            HostList::new()
                .add_file(&file)
                .unwrap_err()
                .to_string()
                .contains(":1: one host per line")
        );
    }
}
