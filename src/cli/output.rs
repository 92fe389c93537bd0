//! Output formats: ipmitool's text for one host, an aligned table for several, JSON lines and
//! CSV; the fleet summary on stderr.

use std::time::Duration;

use winrm_ipmi::ErrorKind;

use super::args::Output;
use super::ops::{HostOutput, Op};

/// One host's outcome.
pub type HostResult = (String, Result<HostOutput, winrm_ipmi::Error>);

/// What to tell a person about a failure.
pub fn explain(host: &str, e: &winrm_ipmi::Error) -> String {
    match e.kind() {
        ErrorKind::AccessDenied => {
            format!("access denied: the account must be a local administrator on {host} ({e})")
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

pub fn print_results(output: Output, op: &Op, results: &[HostResult]) {
    match output {
        Output::Json => {
            for (host, r) in results {
                let v = match r {
                    Ok(o) => serde_json::json!({"host": host, "ok": true, "result": o.json}),
                    Err(e) => {
                        serde_json::json!({"host": host, "ok": false, "error": e.kind(), "message": explain(host, e)})
                    }
                };
                println!("{v}");
            }
        }
        Output::Csv => {
            let columns = column_names(results);
            let mut header = vec!["host", "ok", "error"];
            header.extend(&columns);
            println!("{}", header.join(","));
            for (host, r) in results {
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
                println!("{}", row.join(","));
            }
        }
        Output::Text if results.len() == 1 => {
            let (host, r) = &results[0];
            match r {
                Ok(o) => print!("{}", o.text),
                Err(e) => eprintln!("{}", op.failure_text(e).unwrap_or_else(|| explain(host, e))),
            }
        }
        Output::Text => {
            let columns = column_names(results);
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut header = vec!["HOST".to_string()];
            header.extend(columns.iter().map(|c| c.to_ascii_uppercase()));
            rows.push(header);
            for (host, r) in results {
                let mut row = vec![host.clone()];
                match r {
                    Ok(o) => row.extend(o.columns.iter().map(|(_, v)| v.clone())),
                    Err(e) => row.push(format!("FAILED: {}", explain(host, e))),
                }
                rows.push(row);
            }
            let widths: Vec<usize> = (0..rows.iter().map(Vec::len).max().unwrap_or(0))
                .map(|i| {
                    rows.iter()
                        .filter_map(|r| r.get(i))
                        .map(|c| c.chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
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
                println!("{}", line.join("  ").trim_end());
            }
        }
    }
}

/// The columns of the first host that succeeded (every host of a command has the same).
fn column_names(results: &[HostResult]) -> Vec<&'static str> {
    results
        .iter()
        .find_map(|(_, r)| {
            r.as_ref()
                .ok()
                .map(|o| o.columns.iter().map(|(c, _)| *c).collect())
        })
        .unwrap_or_default()
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn summary(results: &[HostResult], elapsed: Duration) {
    let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
    let mut by_kind: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (_, r) in results {
        if let Err(e) = r {
            *by_kind.entry(e.kind().as_str()).or_default() += 1;
        }
    }
    let failed: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    eprintln!(
        "{} hosts in {:.2} s: {ok} ok, {} failed{}",
        results.len(),
        elapsed.as_secs_f64(),
        results.len() - ok,
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        }
    );
}
