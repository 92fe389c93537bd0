//! A fleet inventory: for every host, its OS (WMI) beside its BMC's firmware, IP and MAC, one
//! JSON object per line on stdout; a summary on stderr (wall time, requests/s, memory).
//!
//!     cargo run --release --example fleet_inventory                 # 100 in-process simulated hosts
//!     cargo run --release --example fleet_inventory -- hosts.txt    # host[:port] per line
//!
//! Credentials come from WINRM_USER / WINRM_PASSWORD (defaults: the simulator's administrator).
//! FLEET_CONCURRENCY bounds the hosts in flight (default 500).

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use tokio::sync::Semaphore;
use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::{self, app::GetDeviceId, lan};
use winrm_ipmi::sim::Simulator;
use winrm_ipmi::{Client, Error};

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn inventory(client: &Client) -> Result<serde_json::Value, Error> {
    let os = client.operating_system().await?.unwrap_or_default();
    let bmc = client.ipmi().await?;
    let id = ipmi::execute(&bmc, GetDeviceId).await?;
    let lans = lan::read_all_lan_configs(&bmc).await?;
    Ok(json!({
        "host_name": os.computer_name,
        "os": os.caption,
        "bmc_firmware": id.firmware_revision(),
        "bmc_manufacturer": id.manufacturer_name(),
        "bmc_lan": lans,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rss_before = status_kib("VmRSS:");
    let (endpoints, _sim) = match std::env::args().nth(1) {
        Some(file) => {
            let mut list = winrm_ipmi::hosts::HostList::new();
            list.add_file(std::path::Path::new(&file))?;
            (list.into_vec(), None)
        }
        None => {
            let sim = Simulator::builder().hosts(100).start().await?;
            (sim.endpoints(), Some(sim))
        }
    };
    let user = std::env::var("WINRM_USER").unwrap_or_else(|_| "Administrator".into());
    let password = std::env::var("WINRM_PASSWORD").unwrap_or_else(|_| "Sim-Passw0rd!".into());
    let concurrency: usize = std::env::var("FLEET_CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(500);
    let permits = Arc::new(Semaphore::new(concurrency));

    let started = Instant::now();
    let mut tasks = Vec::new();
    for ep in endpoints.clone() {
        let (user, password, permits) = (user.clone(), password.clone(), permits.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("open semaphore");
            let client = Client::builder(&ep)
                .credentials(&user, Password::new(password))
                .build();
            let result = match &client {
                Ok(c) => inventory(c).await,
                Err(e) => Err(Error::Config(e.to_string())),
            };
            let sent = client.map(|c| c.requests_sent()).unwrap_or(0);
            (ep, result, sent)
        }));
    }
    let (mut ok, mut failed, mut requests) = (0usize, 0usize, 0u64);
    for t in tasks {
        let (host, result, sent) = t.await?;
        requests += sent;
        let line = match result {
            Ok(v) => {
                ok += 1;
                json!({"host": host, "ok": true, "result": v})
            }
            Err(e) => {
                failed += 1;
                json!({"host": host, "ok": false, "error": e.kind(), "message": e.to_string()})
            }
        };
        println!("{line}");
    }
    let wall = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:");
    eprintln!(
        "{} hosts: {ok} ok, {failed} failed in {wall:.3} s; {requests} WS-Man requests ({:.0}/s); client peak RSS {} KiB ({:.1} KiB per host connection above the {} KiB start)",
        endpoints.len(),
        requests as f64 / wall,
        peak,
        (peak.saturating_sub(rss_before)) as f64 / endpoints.len().max(1) as f64,
        rss_before
    );
    Ok(())
}
