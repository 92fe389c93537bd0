//! Kerberos vs NTLM, client CPU: the first request of a fresh client (authentication plus the
//! Enumerate and one Get Device ID), and a steady-state sealed Get Device ID on one
//! connection. A throwaway MIT KDC and `winrm-ipmi sim --keytab` run as separate processes,
//! so the figures are this process's alone (`/proc/self/stat`, user + system, every thread
//! including tokio's blocking pool, where the GSSAPI calls run).
//!
//!     taskset -c 0 cargo bench --bench kerberos      (scripts/bench.sh runs it pinned)
//!
//! Kerberos from the ccache: the service ticket is cached after the first client, so later
//! first requests cost the AP exchange only; Kerberos with a password: each fresh client asks
//! the KDC for a ticket-granting ticket (AES string-to-key, 4096 PBKDF2 rounds) and a service
//! ticket. Not a test: `cargo test` builds it and it returns at once.

#[path = "../tests/common/mod.rs"]
mod common;

use common::kdc;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use winrm_ipmi::auth::{AuthMethod, Password};
use winrm_ipmi::ipmi::{self, app::GetDeviceId};
use winrm_ipmi::{Client, ClientBuilder};

fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if !kdc::present("kerberos bench") {
        return;
    }
    let realm = kdc::Kdc::start("bench");
    realm.kinit(kdc::ADMINISTRATOR.0, kdc::ADMINISTRATOR.1, "cc-bench", &[]);
    for (k, v) in realm.env("cc-bench") {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var(k, v) };
    }
    let endpoints = realm.path("endpoints");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"))
        .args(["sim", "--port", "0", "--keytab"])
        .arg(realm.path("service.keytab"))
        .arg("--endpoints-file")
        .arg(&endpoints)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let port = loop {
        if let Ok(e) = std::fs::read_to_string(&endpoints) {
            break e
                .lines()
                .next()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(20));
    };
    let host = format!("localhost:{port}");
    let first: u64 = env_or("KERBEROS_BENCH_FIRST", 300);
    let steady: u64 = env_or("KERBEROS_BENCH_STEADY", 20_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ntlm = || {
        Client::builder(&host)
            .auth(AuthMethod::Ntlm)
            .credentials("Administrator", Password::new("Sim-Passw0rd!"))
    };
    let ticket = || {
        Client::builder(&host)
            .auth(AuthMethod::Kerberos)
            .kerberos_ticket(None)
    };
    let password = || {
        Client::builder(&host)
            .auth(AuthMethod::Kerberos)
            .credentials(
                "administrator@WINRM.TEST",
                Password::new(kdc::ADMINISTRATOR.1),
            )
    };
    runtime.block_on(async {
        let modes: [(&str, &dyn Fn() -> ClientBuilder); 3] = [
            ("NTLM (password)", &ntlm),
            ("Kerberos (ccache ticket)", &ticket),
            ("Kerberos (password: AS + TGS each time)", &password),
        ];
        println!("first request of a fresh client (authentication + Enumerate + Get Device ID), {first} clients each:");
        for (name, builder) in modes.iter() {
            let (c0, t0) = (cpu(), Instant::now());
            for _ in 0..first {
                let client = builder().build().unwrap();
                let bmc = client.ipmi().await.unwrap();
                ipmi::execute(&bmc, GetDeviceId).await.unwrap();
            }
            let (c, t) = (cpu() - c0, t0.elapsed().as_secs_f64());
            println!(
                "  {name:<42} {:>8.0} CPU-us, {:>6.2} ms wall each",
                c / first as f64 * 1e6,
                t / first as f64 * 1e3
            );
        }
        println!("steady state: sealed Get Device ID on one authenticated connection, {steady} requests:");
        for (name, builder) in modes.iter().take(2) {
            let client = builder().build().unwrap();
            let bmc = client.ipmi().await.unwrap();
            for _ in 0..steady / 10 {
                ipmi::execute(&bmc, GetDeviceId).await.unwrap();
            }
            let (c0, t0) = (cpu(), Instant::now());
            for _ in 0..steady {
                ipmi::execute(&bmc, GetDeviceId).await.unwrap();
            }
            let (c, t) = (cpu() - c0, t0.elapsed().as_secs_f64());
            println!(
                "  {name:<42} {:>8.1} CPU-us, {:>6.1} us wall each",
                c / steady as f64 * 1e6,
                t / steady as f64 * 1e6
            );
        }
    });
    let _ = sim.kill();
    let _ = sim.wait();
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
