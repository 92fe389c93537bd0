//! The `winrm-ipmi` command line: ipmitool's words over WinRM, for one host or a fleet.

mod hosts;
mod ops;
mod render;
mod sim;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::RawRequest;
use winrm_ipmi::ipmi::app::SystemInfoParameter;
use winrm_ipmi::transport::{AuthMethod, EncryptionMode};
use winrm_ipmi::wsman::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{MessageId, RequestContext};
use winrm_ipmi::{Client, ErrorKind};

use ops::{HostOutput, Op};

#[derive(Parser)]
#[command(
    name = "winrm-ipmi",
    version,
    about = "In-band IPMI for Windows servers over WinRM: ipmitool's commands, for one host or a fleet",
    after_help = "The password comes from WINRM_PASSWORD, --password-file, or a prompt; never from the command line."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Global {
    /// Host to manage, HOST[:PORT] or a URL; repeat it or separate with commas.
    #[arg(short = 'H', long = "host", global = true, value_delimiter = ',')]
    hosts: Vec<String>,
    /// File with one host per line (HOST[:PORT]; `#` starts a comment). For `sim`: how many
    /// simulated hosts to run.
    #[arg(long = "hosts", global = true, value_name = "FILE|N")]
    hosts_file: Option<String>,
    /// Windows account: DOMAIN\user, user@domain or a local user (default: $WINRM_USER). For
    /// `sim`: the simulated administrator's name (default Administrator).
    #[arg(short = 'U', long = "user", global = true)]
    user: Option<String>,
    /// Read the password from this file (first line).
    #[arg(long, global = true)]
    password_file: Option<PathBuf>,
    /// WinRM transport: http (5985, NTLM message encryption) or https (5986).
    #[arg(long, global = true, value_enum, default_value_t = Transport::Http)]
    transport: Transport,
    /// Authentication.
    #[arg(long, global = true, value_enum, default_value_t = Auth::Ntlm)]
    auth: Auth,
    /// Trust the CA certificates in this PEM file (HTTPS).
    #[arg(long, global = true)]
    cacert: Option<PathBuf>,
    /// Accept only the server certificate with this SHA-256 thumbprint (HTTPS).
    #[arg(long, global = true, value_name = "SHA256")]
    thumbprint: Option<String>,
    /// Accept any server certificate (HTTPS; encrypted but not authenticated: labs only).
    #[arg(long, global = true)]
    insecure: bool,
    /// WS-Management operation timeout in seconds (HTTP requests get 5 s more).
    #[arg(long, global = true, default_value_t = 20)]
    timeout: u64,
    /// Hosts in parallel.
    #[arg(long, global = true, default_value_t = 64)]
    concurrency: usize,
    /// Output: text (ipmitool's layout for one host, a table for several), json (one object
    /// per host per line) or csv.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// More logging on stderr (-v, -vv, -vvv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Transport {
    Http,
    Https,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Auth {
    Ntlm,
    Basic,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Output {
    Text,
    Json,
    Csv,
}

#[derive(Subcommand)]
enum Command {
    /// Send a raw request: `raw <netfn> <cmd> [data...]`, as `ipmitool raw`.
    Raw(RawArgs),
    /// Management controller: `mc info`, `mc guid`.
    Mc {
        #[command(subcommand)]
        what: McCommand,
    },
    /// LAN configuration: `lan print [channel]` (every LAN channel when none is given).
    Lan {
        #[command(subcommand)]
        what: LanCommand,
    },
    /// System Info parameters (firmware version, system name, OS name...).
    Sysinfo {
        #[command(subcommand)]
        what: SysinfoCommand,
    },
    /// Host name and OS (WMI) beside the BMC's IP, MAC, firmware and GUID.
    Correlate,
    /// Run simulated Windows hosts (WinRM with a BMC behind Microsoft_IPMI) on 127.0.0.1.
    Sim {
        /// First port; host i listens on port + i (0: free ports).
        #[arg(long, default_value_t = 5985)]
        port: u16,
        /// Environment variable holding the administrator's password (default: the demo
        /// password, printed at start).
        #[arg(long)]
        password_env: Option<String>,
        /// Write the endpoints, one per line, to this file once listening.
        #[arg(long)]
        endpoints_file: Option<PathBuf>,
        /// Serve HTTPS (5986 semantics) with a self-signed certificate; its thumbprint is printed.
        #[arg(long)]
        https: bool,
        /// Forward every IPMI request to this BMC over IPMI-over-LAN (RMCP+, e.g. ipmi_sim).
        #[arg(long, value_name = "HOST:PORT")]
        forward_to: Option<String>,
        /// BMC user for --forward-to.
        #[arg(long, default_value = "admin")]
        forward_user: String,
        /// Environment variable holding the BMC password for --forward-to.
        #[arg(long, default_value = "BMC_PASSWORD")]
        forward_password_env: String,
    },
    /// Print the WS-Management envelope that sends one raw request (offline).
    Envelope {
        #[command(flatten)]
        raw: RawArgs,
        /// The Microsoft_IPMI InstanceName.
        #[arg(long, default_value = r"ROOT\SYSTEM\0001_0")]
        instance: String,
        /// The WinRM endpoint URL (the To header).
        #[arg(long, default_value = "http://localhost:5985/wsman")]
        endpoint: String,
    },
}

/// A raw request as `ipmitool raw` takes it.
#[derive(clap::Args)]
struct RawArgs {
    /// Network function (0x06, 6, ...).
    #[arg(value_parser = parse_byte)]
    netfn: u8,
    /// Command.
    #[arg(value_parser = parse_byte)]
    cmd: u8,
    /// Request data bytes.
    #[arg(value_parser = parse_byte)]
    data: Vec<u8>,
}

impl RawArgs {
    fn request(self) -> Result<RawRequest, String> {
        RawRequest::from_bytes(self.netfn, self.cmd, self.data).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum McCommand {
    /// Device ID, firmware, IPMI version, manufacturer (like `ipmitool mc info`).
    Info,
    /// The system GUID (like `ipmitool mc guid`).
    Guid,
}

#[derive(Subcommand)]
enum LanCommand {
    /// Print the LAN configuration.
    Print {
        /// Channel (default: every LAN channel found).
        channel: Option<u8>,
    },
}

#[derive(Subcommand)]
enum SysinfoCommand {
    /// Read parameters 1–5 (or one: system_fw_version, system_name, primary_os_name, os_name,
    /// present_os_version, or a number).
    Get {
        #[arg(value_parser = parse_param)]
        param: Option<SystemInfoParameter>,
    },
    /// Write one parameter (set-in-progress handshake, then read back).
    Set {
        #[arg(value_parser = parse_param)]
        param: SystemInfoParameter,
        value: String,
    },
    /// Read the host's OS caption through WMI, write it as Primary OS name and OS name, read back.
    SetOsName,
}

/// A byte as ipmitool's `raw` takes it: `0x` hex, a leading `0` octal, else decimal.
fn parse_byte(s: &str) -> Result<u8, String> {
    let r = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u8::from_str_radix(hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u8::from_str_radix(&s[1..], 8)
    } else {
        s.parse()
    };
    r.map_err(|_| format!("{s:?} is not a byte (0-255, 0x00-0xff or octal 0-0377)"))
}

fn parse_param(s: &str) -> Result<SystemInfoParameter, String> {
    SystemInfoParameter::parse(s).ok_or_else(|| {
        format!("{s:?} is not a System Info parameter (system_fw_version, system_name, primary_os_name, os_name, present_os_version, or 0-255)")
    })
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.global.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match cli.command {
        Command::Sim {
            port,
            password_env,
            endpoints_file,
            https,
            forward_to,
            forward_user,
            forward_password_env,
        } => {
            let admin = cli
                .global
                .user
                .clone()
                .unwrap_or_else(|| "Administrator".into());
            let count: u32 = match cli.global.hosts_file.as_deref().map(str::parse) {
                None => 1,
                Some(Ok(n)) => n,
                Some(Err(_)) => return usage("sim --hosts takes a number of hosts"),
            };
            let password = match password_env {
                Some(var) => match std::env::var(&var) {
                    Ok(p) if !p.is_empty() => Some(p),
                    _ => return usage(&format!("environment variable {var} is not set")),
                },
                None => None,
            };
            let forward = match forward_to {
                Some(address) => match std::env::var(&forward_password_env) {
                    Ok(p) => Some(winrm_ipmi::sim::LanTarget {
                        address,
                        user: forward_user,
                        password: Password::new(p),
                    }),
                    Err(_) => {
                        return usage(&format!(
                            "--forward-to needs the BMC password in ${forward_password_env}"
                        ));
                    }
                },
                None => None,
            };
            runtime.block_on(sim::run_sim(
                count,
                port,
                admin,
                password,
                endpoints_file,
                https,
                forward,
            ))
        }
        Command::Envelope {
            raw,
            instance,
            endpoint,
        } => {
            let request = match raw.request() {
                Ok(r) => r,
                Err(e) => return usage(&e),
            };
            let instance = IpmiInstance {
                instance_name: instance,
                active: true,
                bmc_address: 0x20,
            };
            let req = microsoft_ipmi::request_response(
                &RequestContext::new(endpoint),
                &instance,
                &request,
                MessageId::random(),
            );
            println!("{}", req.xml);
            ExitCode::SUCCESS
        }
        command => {
            let op = match Op::from_command(command) {
                Ok(op) => op,
                Err(e) => return usage(&e),
            };
            match prepare(&cli.global) {
                Ok((hosts, builders)) => {
                    runtime.block_on(run_fleet(&cli.global, op, hosts, builders))
                }
                Err(e) => usage(&e),
            }
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("winrm-ipmi: {message}");
    ExitCode::from(2)
}

/// Checks every argument and builds a client per host, before any traffic.
fn prepare(g: &Global) -> Result<(Vec<String>, Vec<Client>), String> {
    let hosts = hosts::collect(&g.hosts, g.hosts_file.as_deref().map(std::path::Path::new))?;
    if hosts.is_empty() {
        return Err("no host: give -H HOST (repeatable, comma-separated) or --hosts FILE".into());
    }
    let user = g
        .user
        .clone()
        .or_else(|| std::env::var("WINRM_USER").ok())
        .ok_or("no user: give -U DOMAIN\\user (or set WINRM_USER)")?;
    let password = password(g)?;
    if g.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    if g.transport == Transport::Http
        && (g.cacert.is_some() || g.thumbprint.is_some() || g.insecure)
    {
        return Err("--cacert, --thumbprint and --insecure apply to --transport https".into());
    }
    let mut clients = Vec::with_capacity(hosts.len());
    for host in &hosts {
        let mut b = Client::builder(host)
            .credentials(&user, Password::new(password.expose()))
            .https(g.transport == Transport::Https)
            .auth(match g.auth {
                Auth::Ntlm => AuthMethod::Ntlm,
                Auth::Basic => AuthMethod::Basic,
            })
            .encryption(EncryptionMode::Auto)
            .operation_timeout(Duration::from_secs(g.timeout))
            .insecure_skip_certificate_verification(g.insecure);
        if let Some(ca) = &g.cacert {
            b = b.ca_file(ca).map_err(|e| e.to_string())?;
        }
        if let Some(t) = &g.thumbprint {
            b = b.thumbprint(t).map_err(|e| e.to_string())?;
        }
        clients.push(b.build().map_err(|e| format!("{host}: {e}"))?);
    }
    Ok((hosts, clients))
}

fn password(g: &Global) -> Result<Password, String> {
    if let Ok(p) = std::env::var("WINRM_PASSWORD") {
        return Ok(Password::new(p));
    }
    if let Some(f) = &g.password_file {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        return Ok(Password::new(text.lines().next().unwrap_or_default()));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("WinRM password: ")
            .map(Password::new)
            .map_err(|e| format!("cannot read the password: {e}"));
    }
    Err("no password: set WINRM_PASSWORD, give --password-file, or run in a terminal to be prompted".into())
}

async fn run_fleet(g: &Global, op: Op, hosts: Vec<String>, clients: Vec<Client>) -> ExitCode {
    let started = Instant::now();
    let op = Arc::new(op);
    let permits = Arc::new(tokio::sync::Semaphore::new(g.concurrency));
    let progress = (hosts.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(hosts.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} hosts {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut tasks = Vec::with_capacity(hosts.len());
    for (host, client) in hosts.iter().cloned().zip(clients) {
        let (op, permits, bar) = (op.clone(), permits.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("open semaphore");
            let result = op.run(&client).await;
            if let Some(b) = bar {
                b.inc(1);
            }
            (host, result)
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await.expect("host task panicked"));
    }
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    print_results(g.output, &op, &results);
    if results.len() > 1 || failed > 0 && g.output != Output::Text {
        summary(&results, started.elapsed());
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What to tell a person about a failure.
fn explain(host: &str, e: &winrm_ipmi::Error) -> String {
    match e.kind() {
        ErrorKind::AccessDenied => {
            format!("access denied: the account must be a local administrator on {host} ({e})")
        }
        ErrorKind::Auth => format!("authentication failed: {e}"),
        ErrorKind::Connect => format!("cannot reach {host}: {e}"),
        ErrorKind::Tls => {
            format!("TLS failed: {e} (use --cacert, --thumbprint, or --insecure for a lab)")
        }
        _ => e.to_string(),
    }
}

fn print_results(
    output: Output,
    op: &Op,
    results: &[(String, Result<HostOutput, winrm_ipmi::Error>)],
) {
    match output {
        Output::Json => {
            for (host, r) in results {
                let v = match r {
                    Ok(o) => serde_json::json!({"host": host, "ok": true, "result": o.json}),
                    Err(e) => {
                        serde_json::json!({"host": host, "ok": false, "error": e.kind(), "message": explain(host, e)})
                    }
                };
                println!("{v}");
            }
        }
        Output::Csv => {
            let columns = column_names(results);
            let mut header = vec!["host", "ok", "error"];
            header.extend(&columns);
            println!("{}", header.join(","));
            for (host, r) in results {
                let mut row = vec![csv(host)];
                match r {
                    Ok(o) => {
                        row.extend(["true".to_string(), String::new()]);
                        row.extend(o.columns.iter().map(|(_, v)| csv(v)));
                    }
                    Err(e) => {
                        row.extend(["false".to_string(), csv(&explain(host, e))]);
                        row.extend(columns.iter().map(|_| String::new()));
                    }
                }
                println!("{}", row.join(","));
            }
        }
        Output::Text if results.len() == 1 => {
            let (host, r) = &results[0];
            match r {
                Ok(o) => print!("{}", o.text),
                Err(e) => eprintln!("{}", op.failure_text(e).unwrap_or_else(|| explain(host, e))),
            }
        }
        Output::Text => {
            let columns = column_names(results);
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut header = vec!["HOST".to_string()];
            header.extend(columns.iter().map(|c| c.to_ascii_uppercase()));
            rows.push(header);
            for (host, r) in results {
                let mut row = vec![host.clone()];
                match r {
                    Ok(o) => row.extend(o.columns.iter().map(|(_, v)| v.clone())),
                    Err(e) => row.push(format!("FAILED: {}", explain(host, e))),
                }
                rows.push(row);
            }
            let widths: Vec<usize> = (0..rows.iter().map(Vec::len).max().unwrap_or(0))
                .map(|i| {
                    rows.iter()
                        .filter_map(|r| r.get(i))
                        .map(|c| c.chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for row in rows {
                let last = row.len() - 1;
                let line: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == last {
                            c.clone()
                        } else {
                            format!("{c:<w$}", w = widths[i])
                        }
                    })
                    .collect();
                println!("{}", line.join("  ").trim_end());
            }
        }
    }
}

/// The columns of the first host that succeeded (every host of a command has the same).
fn column_names(results: &[(String, Result<HostOutput, winrm_ipmi::Error>)]) -> Vec<&'static str> {
    results
        .iter()
        .find_map(|(_, r)| {
            r.as_ref()
                .ok()
                .map(|o| o.columns.iter().map(|(c, _)| *c).collect())
        })
        .unwrap_or_default()
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn summary(results: &[(String, Result<HostOutput, winrm_ipmi::Error>)], elapsed: Duration) {
    let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
    let mut by_kind: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (_, r) in results {
        if let Err(e) = r {
            let kind = serde_json::to_value(e.kind())
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *by_kind.entry(kind).or_default() += 1;
        }
    }
    let failed: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    eprintln!(
        "{} hosts in {:.2} s: {ok} ok, {} failed{}",
        results.len(),
        elapsed.as_secs_f64(),
        results.len() - ok,
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        }
    );
}
