//! `winrm-ipmi`: in-band IPMI for Windows servers over WinRM.
//!
//! Today: `sim` (simulated Windows hosts for tests and demos) and `envelope` (the wire form of a
//! raw request). The ipmitool-style commands (`raw`, `mc info`, `lan print`, `sysinfo`,
//! `correlate`) come next.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use winrm_ipmi::ipmi::RawRequest;
use winrm_ipmi::wsman::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{MessageId, RequestContext};

#[derive(Parser)]
#[command(
    name = "winrm-ipmi",
    version,
    about = "In-band IPMI for Windows servers over WinRM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run simulated Windows hosts (WinRM over HTTP with NTLM and message encryption, a BMC
    /// behind Microsoft_IPMI) on 127.0.0.1 until interrupted.
    Sim {
        /// How many hosts.
        #[arg(long, default_value_t = 1)]
        hosts: u32,
        /// First port; host i listens on port + i (0: free ports).
        #[arg(long, default_value_t = 5985)]
        port: u16,
        /// The administrator account's name.
        #[arg(long, default_value = "Administrator")]
        user: String,
        /// Environment variable holding the administrator's password (default: the built-in
        /// demo password, printed at start).
        #[arg(long)]
        password_env: Option<String>,
        /// Write the endpoints, one per line, to this file once listening.
        #[arg(long)]
        endpoints_file: Option<std::path::PathBuf>,
        /// Serve HTTPS (5986 semantics) with a self-signed certificate; its thumbprint is printed.
        #[arg(long)]
        https: bool,
        /// Forward every IPMI request to this BMC over IPMI-over-LAN (RMCP+, e.g. OpenIPMI's
        /// ipmi_sim at 127.0.0.1:9001) instead of the simulated BMC.
        #[arg(long, value_name = "HOST:PORT")]
        forward_to: Option<String>,
        /// BMC user for --forward-to.
        #[arg(long, default_value = "admin")]
        forward_user: String,
        /// Environment variable holding the BMC password for --forward-to.
        #[arg(long, default_value = "BMC_PASSWORD")]
        forward_password_env: String,
    },
    /// Print the WS-Management envelope that sends one raw IPMI request through
    /// root/wmi:Microsoft_IPMI.RequestResponse (e.g. for `winrm invoke -file:`).
    Envelope {
        /// Network function, e.g. 0x06.
        #[arg(value_parser = parse_byte)]
        netfn: u8,
        /// Command, e.g. 0x01.
        #[arg(value_parser = parse_byte)]
        cmd: u8,
        /// Request data bytes.
        #[arg(value_parser = parse_byte)]
        data: Vec<u8>,
        /// The Microsoft_IPMI InstanceName.
        #[arg(long, default_value = r"ROOT\SYSTEM\0001_0")]
        instance: String,
        /// The BMC address (responder) the instance reports.
        #[arg(long, default_value = "0x20", value_parser = parse_byte)]
        bmc_address: u8,
        /// LUN (0-3).
        #[arg(long, default_value = "0", value_parser = parse_byte)]
        lun: u8,
        /// The WinRM endpoint URL (the envelope's To header).
        #[arg(long, default_value = "http://localhost:5985/wsman")]
        endpoint: String,
    },
}

/// A byte as ipmitool takes it: `0x1f`, `1f`-style hex is not guessed; decimal otherwise.
fn parse_byte(s: &str) -> Result<u8, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("{s:?} is not a byte (0-255 or 0x00-0xff)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim {
            hosts,
            port,
            user,
            password_env,
            endpoints_file,
            https,
            forward_to,
            forward_user,
            forward_password_env,
        } => {
            let forward = match forward_to {
                Some(address) => match std::env::var(&forward_password_env) {
                    Ok(p) => Some(winrm_ipmi::sim::LanTarget {
                        address,
                        user: forward_user,
                        password: winrm_ipmi::auth::Password::new(p),
                    }),
                    Err(_) => {
                        eprintln!(
                            "winrm-ipmi: --forward-to needs the BMC password in ${forward_password_env}"
                        );
                        return ExitCode::from(2);
                    }
                },
                None => None,
            };
            let password = match password_env {
                Some(var) => match std::env::var(&var) {
                    Ok(p) if !p.is_empty() => Some(p),
                    _ => {
                        eprintln!("winrm-ipmi: environment variable {var} is not set");
                        return ExitCode::from(2);
                    }
                },
                None => None,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(run_sim(
                hosts,
                port,
                user,
                password,
                endpoints_file,
                https,
                forward,
            ))
        }
        Command::Envelope {
            netfn,
            cmd,
            data,
            instance,
            bmc_address,
            lun,
            endpoint,
        } => {
            let request =
                match RawRequest::from_bytes(netfn, cmd, data).and_then(|r| r.with_lun(lun)) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("winrm-ipmi: {e}");
                        return ExitCode::from(2);
                    }
                };
            let instance = IpmiInstance {
                instance_name: instance,
                active: true,
                bmc_address,
            };
            let ctx = RequestContext::new(endpoint);
            let req =
                microsoft_ipmi::request_response(&ctx, &instance, &request, MessageId::random());
            println!("{}", req.xml);
            ExitCode::SUCCESS
        }
    }
}

async fn run_sim(
    hosts: u32,
    port: u16,
    user: String,
    password: Option<String>,
    endpoints_file: Option<std::path::PathBuf>,
    https: bool,
    forward: Option<winrm_ipmi::sim::LanTarget>,
) -> ExitCode {
    use winrm_ipmi::sim::{HostConfig, Simulator};
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
