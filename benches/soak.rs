//! Soak: one client against the simulator (a separate process) for a million sealed requests,
//! across reconnects (the simulator closes the connection every `SOAK_CLOSE_EVERY` replies, so
//! the client re-authenticates) and injected C0h (every `SOAK_BUSY_EVERY`-th request, retried).
//! Reports the client's RSS after warm-up and at the end: it must stay flat.
//!
//!     cargo bench --bench soak                     # 1,000,000 requests
//!     SOAK_REQUESTS=100000 cargo bench --bench soak
//!
//! Not a test: `cargo test` builds it and it returns at once.

use std::time::{Duration, Instant};

use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::{self, app::GetDeviceId};
use winrm_ipmi::{Client, RetryPolicy};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

mod common;
use common::{start_simulator, status_kib};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // built by `cargo test --all-targets`; runs only under `cargo bench`
    }
    let total = env_u64("SOAK_REQUESTS", 1_000_000);
    let close_every = env_u64("SOAK_CLOSE_EVERY", 1000);
    let busy_every = env_u64("SOAK_BUSY_EVERY", 500);
    let dir = std::env::temp_dir().join(format!("winrm-ipmi-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (close, busy) = (close_every.to_string(), busy_every.to_string());
    let (sim, endpoint) = start_simulator(
        &dir,
        &[
            "--close-every",
            close.as_str(),
            "--busy-every",
            busy.as_str(),
        ],
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::builder(&endpoint)
            .credentials("Administrator", Password::new("Sim-Passw0rd!"))
            .retry(RetryPolicy {
                attempts: 4,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(4),
            })
            .build()
            .unwrap();
        let bmc = client.ipmi().await.unwrap();
        let warm_up = (total / 20).max(1);
        let mut rss_warm = 0;
        let t = Instant::now();
        for i in 1..=total {
            let id = ipmi::execute(&bmc, GetDeviceId).await.expect("every request succeeds");
            assert_eq!(id.device_id, 0x20);
            if i == warm_up {
                rss_warm = status_kib(None, "VmRSS:");
            }
            if i % (total / 10).max(1) == 0 {
                eprintln!(
                    "  {i} requests, {:.1} s, RSS {} KiB",
                    t.elapsed().as_secs_f64(),
                    status_kib(None, "VmRSS:")
                );
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let rss_end = status_kib(None, "VmRSS:");
        println!(
            "soak: {total} sealed Get Device ID in {secs:.1} s ({:.0}/s), {} WinRM requests sent \
             (retries of C0h included), reconnects every {close_every} replies, C0h every \
             {busy_every}th request",
            total as f64 / secs,
            client.requests_sent(),
        );
        println!(
            "client RSS after warm-up ({warm_up} requests): {rss_warm} KiB; at the end: {rss_end} KiB; \
             peak {} KiB",
            status_kib(None, "VmHWM:")
        );
    });
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
