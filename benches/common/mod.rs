//! What the long runs share: reading a process's memory figures and starting the simulator.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:`); `pid` `None` is this process.
pub fn status_kib(pid: Option<u32>, field: &str) -> u64 {
    let path = pid.map_or("/proc/self/status".to_string(), |p| {
        format!("/proc/{p}/status")
    });
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A simulator process, killed and reaped when dropped.
pub struct Sim(Child);

impl Sim {
    /// Its process ID.
    #[allow(dead_code)] // the abuse run reads it; the soak run does not
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `winrm-ipmi sim` with one host and `extra` arguments, writing its endpoint to a file
/// in `dir`; returns the process and the endpoint once it listens.
pub fn start_simulator(dir: &Path, extra: &[&str]) -> (Sim, String) {
    let endpoints = dir.join("endpoints.txt");
    let sim = Sim(Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"))
        .args(["sim", "--count", "1", "--port", "0", "--endpoints-file"])
        .arg(&endpoints)
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the simulator"));
    let start = Instant::now();
    loop {
        if let Ok(t) = std::fs::read_to_string(&endpoints)
            && let Some(l) = t.lines().next()
        {
            return (sim, l.to_string());
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the simulator did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
