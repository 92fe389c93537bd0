//! The simulator under abuse: 10,000 connections opened and dropped mid-handshake (after
//! connecting, after half a request, after the NTLM NEGOTIATE before reading the challenge, and
//! after reading part of it), then a normal client is still served. Reports the simulator's RSS
//! and open file descriptors before and after: nothing may be left behind.
//!
//!     cargo bench --bench abuse
//!     ABUSE_CONNECTIONS=2000 cargo bench --bench abuse
//!
//! Not a test: `cargo test` builds it and it returns at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use winrm_ipmi::Client;
use winrm_ipmi::auth::ntlm::{InitiatorOptions, NtlmInitiator};
use winrm_ipmi::auth::{Credentials, Password};
use winrm_ipmi::ipmi::{self, app::GetDeviceId};

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// One abusive connection; `how` picks where it is dropped.
async fn abuse(addr: &str, how: usize, negotiate: &str) {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return;
    };
    let head = format!(
        "POST /wsman HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Negotiate {negotiate}\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 0\r\n\r\n"
    );
    match how % 4 {
        0 => {}                                                           // connect, drop
        1 => drop(s.write_all(&head.as_bytes()[..head.len() / 2]).await), // half a request
        2 => drop(s.write_all(head.as_bytes()).await),                    // NEGOTIATE, no read
        _ => {
            // NEGOTIATE, read the first bytes of the challenge, drop.
            if s.write_all(head.as_bytes()).await.is_ok() {
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
            }
        }
    }
}

mod common;
use common::{start_simulator, status_kib};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // built by `cargo test --all-targets`; runs only under `cargo bench`
    }
    let total: usize = std::env::var("ABUSE_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = std::env::temp_dir().join(format!("winrm-ipmi-abuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (sim, endpoint) = start_simulator(&dir, &[]);
    let pid = sim.pid();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let served = |c: Client| async move {
            let bmc = c.ipmi().await.expect("served");
            ipmi::execute(&bmc, GetDeviceId)
                .await
                .expect("served")
                .device_id
        };
        let client = || {
            Client::builder(&endpoint)
                .credentials("Administrator", Password::new("Sim-Passw0rd!"))
                .build()
                .unwrap()
        };
        // Warm: one normal client, so the baseline includes what serving one costs.
        assert_eq!(served(client()).await, 0x20);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (rss0, fds0) = (status_kib(Some(pid), "VmRSS:"), fds(pid));
        let negotiate = base64::engine::general_purpose::STANDARD.encode(
            NtlmInitiator::new(
                Credentials::new("x", Password::new("y")),
                InitiatorOptions::default(),
            )
            .negotiate(),
        );
        let negotiate = Arc::new(negotiate);
        let permits = Arc::new(tokio::sync::Semaphore::new(256));
        // Several rounds: a leak grows round after round; allocator retention levels off.
        let rounds: usize = std::env::var("ABUSE_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3);
        println!("simulator before: RSS {rss0} KiB, open fds {fds0}");
        for round in 1..=rounds {
            let t = Instant::now();
            let mut tasks = Vec::with_capacity(total);
            for i in 0..total {
                let (addr, negotiate, permits) =
                    (endpoint.clone(), negotiate.clone(), permits.clone());
                tasks.push(tokio::spawn(async move {
                    let _p = permits.acquire_owned().await.unwrap();
                    abuse(&addr, i, &negotiate).await;
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            let abuse_secs = t.elapsed().as_secs_f64();
            // Then a normal client is served.
            assert_eq!(served(client()).await, 0x20);
            tokio::time::sleep(Duration::from_secs(1)).await;
            println!(
                "round {round}: {total} connections dropped mid-handshake in {abuse_secs:.1} s \
                 (connect only / half a request / NEGOTIATE unread / challenge half read), a \
                 normal client then served; simulator RSS {} KiB (peak {} KiB), open fds {}",
                status_kib(Some(pid), "VmRSS:"),
                status_kib(Some(pid), "VmHWM:"),
                fds(pid)
            );
        }
    });
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
