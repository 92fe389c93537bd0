//! Prometheus' exposition text parsed into samples, and a real Prometheus (Debian's
//! `prometheus`, installed by `scripts/peers.sh`) started on loopback with its own storage,
//! stopped by PID.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use super::{PeerProcess, ScratchDir};

/// `family{label="v",...}` → value (NaN kept as NaN).
pub type Samples = BTreeMap<String, f64>;

/// Parses the text format (Prometheus 0.0.4 or OpenMetrics): sample lines only; the key is the
/// family name and its labels in name order.
pub fn parse(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = parse_line(line);
        let v = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("not a number in {line:?}")),
        };
        // A series twice in one exposition is a bug Prometheus rejects the scrape for.
        assert!(
            out.insert(key.clone(), v).is_none(),
            "duplicate series {key}"
        );
    }
    out
}

/// One sample line: the series (labels sorted, values unescaped) and the value's text. Label
/// values are read by the exposition format's rules (`\\`, `\"`, `\n` escapes), so an
/// escaping mistake shows as a parse failure or a wrong value, not a silent truncation.
fn parse_line(line: &str) -> (String, &str) {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => (&line[..i], &line[i..]),
        None => panic!("no value in {line:?}"),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut rest = rest;
    if let Some(mut r) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = r.strip_prefix('}') {
                r = after;
                break;
            }
            let eq = r
                .find("=\"")
                .unwrap_or_else(|| panic!("label without =\" in {line:?}"));
            let key = r[..eq].to_string();
            let mut value = String::new();
            let mut chars = r[eq + 2..].char_indices();
            let close = loop {
                match chars.next() {
                    Some((i, '"')) => break eq + 2 + i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        other => panic!("bad escape {other:?} in {line:?}"),
                    },
                    Some((_, c)) => value.push(c),
                    None => panic!("unclosed label value in {line:?}"),
                }
            };
            pairs.push((key, value));
            r = &r[close + 1..];
            r = r.strip_prefix(',').unwrap_or(r);
        }
        rest = r;
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before the value in {line:?}"));
    let value = value.split(' ').next().unwrap_or(value);
    pairs.sort();
    let key = format!(
        "{name}{{{}}}",
        pairs
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    (key, value)
}

/// Whether `prometheus` is installed; without it the test prints SKIP (and fails under CI).
pub fn present(test: &str) -> bool {
    if std::path::Path::new("/usr/bin/prometheus").exists() {
        return true;
    }
    let why =
        format!("{test}: Debian's prometheus is not installed; run scripts/peers.sh (as root)");
    super::peer_missing(&why)
}

/// A running Prometheus.
pub struct Prometheus {
    process: PeerProcess,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
}

impl Prometheus {
    /// Starts Prometheus with this configuration (YAML) and an empty storage directory.
    pub fn start(name: &str, config: &str) -> Prometheus {
        let dir = ScratchDir::new("prom", name);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = super::free_port();
        let mut command = Command::new("/usr/bin/prometheus");
        command
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let p = Prometheus {
            process: PeerProcess::spawn(command, dir),
            port,
        };
        super::wait_for_port(port, "prometheus");
        p
    }

    /// An instant query's result vector: each series' labels and value.
    pub async fn query(&self, q: &str) -> Vec<(serde_json::Value, f64)> {
        let url = format!("/api/v1/query?query={}", encode(q));
        let body = http_get(self.port, &url).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let value = r["value"][1]
                    .as_str()
                    .unwrap_or("NaN")
                    .parse()
                    .unwrap_or(f64::NAN);
                (r["metric"].clone(), value)
            })
            .collect()
    }
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// A plain HTTP/1.1 GET on 127.0.0.1:`port` (the body).
pub async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}
