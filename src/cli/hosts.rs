//! The host list: `-H` values (repeatable, comma-separated) and `--hosts FILE`.

use std::path::Path;

/// Every host, in order, without duplicates. File lines: `HOST[:PORT]`, `#` comments, blanks.
pub fn collect(flags: &[String], file: Option<&Path>) -> Result<Vec<String>, String> {
    let mut hosts: Vec<String> = Vec::new();
    let mut add = |h: &str| {
        let h = h.trim();
        if !h.is_empty() && !hosts.iter().any(|x| x == h) {
            hosts.push(h.to_string());
        }
    };
    for h in flags {
        add(h);
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.contains(char::is_whitespace) {
                return Err(format!(
                    "{}:{}: one host per line, got {entry:?}",
                    path.display(),
                    n + 1
                ));
            }
            add(entry);
        }
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_files_comments_and_duplicates() {
        let dir = std::env::temp_dir().join(format!("winrm-ipmi-hosts-{}", std::process::id()));
        std::fs::write(
            &dir,
            "# fleet\nweb01\n\nweb02:5986  # https\nweb01\n[fe80::1]:5985\n",
        )
        .unwrap();
        let got = collect(&["db01".into(), "web02:5986".into()], Some(&dir)).unwrap();
        assert_eq!(got, ["db01", "web02:5986", "web01", "[fe80::1]:5985"]);
        std::fs::write(&dir, "a b\n").unwrap();
        assert!(
            collect(&[], Some(&dir))
                .unwrap_err()
                .contains(":1: one host per line")
        );
        let _ = std::fs::remove_file(&dir);
    }
}
