//! Shared helpers for tests that run independent peers.

#![allow(dead_code)]

pub mod ipmi_sim;
pub mod kdc;
pub mod prometheus;
pub mod tinyproxy;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A fresh, empty directory of this test process's own, removed with everything in it when
/// dropped: a test leaves nothing behind in the temporary directory.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// `winrm-ipmi-{kind}-{name}-{pid}` in the temporary directory (`kind`: what it holds;
    /// `name`: which test), emptied first if a crashed run left it.
    pub fn new(kind: &str, name: &str) -> ScratchDir {
        let dir =
            std::env::temp_dir().join(format!("winrm-ipmi-{kind}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }

    /// A directory of `kind` for a user that runs many times in one test process (one per
    /// exporter, per acceptor): numbered in the order they are made.
    pub fn numbered(kind: &str) -> ScratchDir {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ScratchDir::new(kind, &n.to_string())
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for ScratchDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A peer's process and its own directory, both gone when this drops: the process is killed and
/// waited for (by PID), then the directory is removed.
pub struct PeerProcess {
    child: Child,
    /// The peer's files: configuration, logs, state.
    pub dir: ScratchDir,
}

impl PeerProcess {
    /// Starts `command` (no stdin; its output as the command sets it) as the peer whose files
    /// are in `dir`.
    pub fn spawn(mut command: Command, dir: ScratchDir) -> PeerProcess {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {:?}: {e}", command.get_program()));
        PeerProcess { child, dir }
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `dir` is dropped after this, when the process can no longer write to it.
    }
}

/// The Python in `.venv` (made by `scripts/peers.sh`) if it can import `module`.
///
/// Without it the test prints `SKIP` and why, and is skipped, unless `WINRM_IPMI_REQUIRE_PEERS`
/// is set (CI sets it through `scripts/test.sh`): then a missing peer fails the test.
pub fn python_with(module: &str, test: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("WINRM_IPMI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let why = format!(
        "{test}: {} cannot import {module}; run scripts/peers.sh",
        python.display()
    );
    peer_missing(&why);
    None
}

/// A peer a test needs is missing: under CI (`WINRM_IPMI_REQUIRE_PEERS`, set by
/// `scripts/test.sh`) the test fails; elsewhere it prints `SKIP` and why. Returns `false` (the
/// peer is not present), for the callers' `present()` checks.
pub fn peer_missing(why: &str) -> bool {
    if std::env::var_os("WINRM_IPMI_REQUIRE_PEERS").is_some() {
        panic!("peer required but missing: {why}");
    }
    eprintln!("SKIP {why}");
    false
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 20 s) for a process started by a test to listen on loopback `port`.
#[allow(dead_code)]
pub fn wait_for_port(port: u16, what: &str) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{what} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Waits (up to 20 s) for a process to write `path`, and returns its text.
pub fn wait_for_file(path: &std::path::Path, what: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{what} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
