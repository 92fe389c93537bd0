//! `winrm-ipmi sim`: simulated Windows hosts in the foreground.

use std::process::ExitCode;

use winrm_ipmi::sim::{HostConfig, LanTarget, Simulator};

/// Runs the simulator until Ctrl-C.
pub async fn run_sim(
    hosts: u32,
    port: u16,
    user: String,
    password: Option<String>,
    endpoints_file: Option<std::path::PathBuf>,
    https: bool,
    forward: Option<LanTarget>,
) -> ExitCode {
    let shown_password = password.clone().unwrap_or_else(|| "Sim-Passw0rd!".into());
    let mut builder = Simulator::builder().https(https);
    if port != 0 {
        builder = builder.base_port(port);
    }
    for n in 0..hosts {
        let mut config = HostConfig::numbered(n);
        config.accounts[0].user = user.clone();
        config.accounts[0].password = shown_password.clone();
        config.forward_to = forward.clone();
        builder = builder.host(config);
    }
    let sim = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("winrm-ipmi: cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    let endpoints = sim.endpoints();
    if let Some(path) = endpoints_file {
        let text: String = endpoints.iter().map(|e| format!("{e}\n")).collect();
        let tmp = path.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
            eprintln!("winrm-ipmi: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    let scheme = sim.scheme();
    match sim.thumbprint() {
        Some(t) => println!(
            "{} simulated Windows host(s), WinRM over HTTPS (self-signed certificate, SHA-256 thumbprint {t}):",
            endpoints.len()
        ),
        None => println!(
            "{} simulated Windows host(s), WinRM over HTTP (NTLM, message encryption required):",
            endpoints.len()
        ),
    }
    for (i, e) in endpoints.iter().enumerate().take(5) {
        println!("  {} {scheme}://{e}/wsman", sim.host(i).config.host_name);
    }
    if endpoints.len() > 5 {
        println!(
            "  ... through {scheme}://{}/wsman",
            endpoints[endpoints.len() - 1]
        );
    }
    if password.is_some() {
        println!(
            "administrator: {user} (password from the environment); non-administrator: operator / Op-Passw0rd!"
        );
    } else {
        println!(
            "administrator: {user} / {shown_password}; non-administrator: operator / Op-Passw0rd!"
        );
    }
    println!("Ctrl-C stops.");
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown();
    ExitCode::SUCCESS
}
