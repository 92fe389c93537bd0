//! Client CPU per sealed request: one connection, sequential `Get Device ID` round trips
//! against a simulator at `PER_REQUEST_ENDPOINT` (started by `scripts/bench.sh`, both pinned to
//! one vCPU), after a warm-up. CPU from `/proc/self/stat` (user + system), so the figure is
//! the whole client process: runtime, hyper, sealing, envelope and parse.
//!
//!     PER_REQUEST_ENDPOINT=127.0.0.1:5985 cargo bench --bench per_request
//!
//! Not a test: `cargo test` builds it and it returns at once.

use std::time::Instant;

use winrm_ipmi::Client;
use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::{self, app::GetDeviceId};

/// (user, system) CPU seconds of this process.
fn cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ on Linux
    (
        f[11].parse::<f64>().unwrap() / ticks,
        f[12].parse::<f64>().unwrap() / ticks,
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // built by `cargo test --all-targets`; runs only under `cargo bench`
    }
    let Ok(endpoint) = std::env::var("PER_REQUEST_ENDPOINT") else {
        eprintln!("per_request: set PER_REQUEST_ENDPOINT (scripts/bench.sh does)");
        return;
    };
    let n: u64 = std::env::var("PER_REQUEST_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::builder(&endpoint)
            .credentials("Administrator", Password::new("Sim-Passw0rd!"))
            .build()
            .unwrap();
        let bmc = client.ipmi().await.unwrap();
        for _ in 0..n / 10 {
            ipmi::execute(&bmc, GetDeviceId).await.unwrap();
        }
        let (u0, s0) = cpu();
        let t = Instant::now();
        for _ in 0..n {
            ipmi::execute(&bmc, GetDeviceId).await.unwrap();
        }
        let wall = t.elapsed().as_secs_f64();
        let (u1, s1) = cpu();
        let per = |x: f64| x / n as f64 * 1e6;
        println!(
            "ours: {:.1} CPU-us per sealed Get Device ID (user {:.1}, sys {:.1}) over {n} requests; \
             {:.1} us wall each",
            per(u1 - u0 + s1 - s0),
            per(u1 - u0),
            per(s1 - s0),
            per(wall)
        );
    });
}
