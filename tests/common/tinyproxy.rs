//! A real HTTP proxy for the tests: Debian's tinyproxy (installed by `scripts/peers.sh`),
//! started on 127.0.0.1 with a free port and its own configuration and log, stopped by PID.

use std::process::{Command, Stdio};

use super::{PeerProcess, ScratchDir};

/// A running tinyproxy.
pub struct TinyProxy {
    process: PeerProcess,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl TinyProxy {
    /// The proxy's log (one line per request: `CONNECT ... 127.0.0.1:PORT`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.process.dir.join("log")).unwrap_or_default()
    }

    /// `CONNECT` lines naming `target` in the log.
    pub fn connects_to(&self, target: &str) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains(&format!("CONNECT {target} ")))
            .count()
    }

    /// The proxy's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Whether tinyproxy is installed; without it the test prints SKIP (and fails under CI).
pub fn present(test: &str) -> bool {
    if Command::new("tinyproxy").arg("-v").output().is_ok() {
        return true;
    }
    let why = format!("{test}: tinyproxy is not installed; run scripts/peers.sh (as root)");
    super::peer_missing(&why)
}

/// Starts tinyproxy; with `basic` it demands `user`/`password` (Basic).
pub fn start(name: &str, basic: Option<(&str, &str)>) -> TinyProxy {
    let port = super::free_port();
    let dir = ScratchDir::new("tinyproxy", name);
    // tinyproxy drops to `nobody`, which must be able to write its log.
    let _ = Command::new("chmod").arg("777").arg(&dir).status();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{log}\"\nLogLevel Connect\n\
         MaxClients 200\nAllow 127.0.0.1\nUser nobody\nGroup nogroup\n",
        log = dir.join("log").display()
    );
    // No ConnectPort line: CONNECT to any port (the targets listen on free ports).
    if let Some((u, p)) = basic {
        conf.push_str(&format!("BasicAuth {u} {p}\n"));
    }
    let path = dir.join("tinyproxy.conf");
    std::fs::write(&path, conf).unwrap();
    let mut command = Command::new("tinyproxy");
    command
        .arg("-d")
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let proxy = TinyProxy {
        process: PeerProcess::spawn(command, dir),
        port,
    };
    super::wait_for_port(port, "tinyproxy");
    proxy
}
