//! The fleet runner: every argument checked and every client built before any traffic, then
//! the hosts in parallel (bounded), one failure never stopping the others.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use winrm_ipmi::Client;
use winrm_ipmi::auth::{AuthMethod, Password};
use winrm_ipmi::hosts::HostList;
use winrm_ipmi::transport::EncryptionMode;
use winrm_ipmi::transport::proxy::{NoProxy, Proxy, ProxyChoice};
use winrm_ipmi::transport::tls::ClientIdentity;

use super::args::{Auth, Global, Output, Transport};
use super::ops::Op;
use super::output;

/// Checks every argument and builds a client per host, before any traffic.
pub fn prepare(g: &Global) -> Result<(Vec<String>, Vec<Client>), String> {
    let mut list = HostList::new();
    for h in &g.hosts {
        list.add(h);
    }
    if let Some(file) = &g.hosts_file {
        list.add_file(std::path::Path::new(file))
            .map_err(|e| e.to_string())?;
    }
    let hosts = list.into_vec();
    if hosts.is_empty() {
        return Err("no host: give -H HOST (repeatable, comma-separated) or --hosts FILE".into());
    }
    // A certificate says who we are; the other methods need an account and its password.
    let (credentials, identity) = if g.auth == Auth::Certificate {
        let (Some(cert), Some(key)) = (&g.cert, &g.key) else {
            return Err("--auth certificate needs --cert FILE and --key FILE".into());
        };
        let id = ClientIdentity::from_pem_files(cert, key).map_err(|e| e.to_string())?;
        (None, Some(id))
    } else {
        if g.cert.is_some() {
            return Err("--cert and --key go with --auth certificate".into());
        }
        let user = g
            .user
            .clone()
            .or_else(|| std::env::var("WINRM_USER").ok())
            .ok_or("no user: give -U DOMAIN\\user (or set WINRM_USER)")?;
        (Some((user, password(g)?)), None)
    };
    if g.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    if g.transport == Transport::Http
        && (g.cacert.is_some() || g.thumbprint.is_some() || g.insecure)
    {
        return Err("--cacert, --thumbprint and --insecure apply to --transport https".into());
    }
    let proxy = proxy_choice(g)?;
    let mut clients = Vec::with_capacity(hosts.len());
    for host in &hosts {
        let mut b = Client::builder(host)
            .https(g.transport == Transport::Https)
            .auth(match g.auth {
                Auth::Ntlm => AuthMethod::Ntlm,
                Auth::Basic => AuthMethod::Basic,
                Auth::Certificate => AuthMethod::Certificate,
            })
            .encryption(EncryptionMode::Auto)
            .operation_timeout(Duration::from_secs(g.timeout))
            .insecure_skip_certificate_verification(g.insecure)
            .proxy_choice(proxy.clone());
        if let Some((user, password)) = &credentials {
            b = b.credentials(user, Password::new(password.expose()));
        }
        if let Some(id) = &identity {
            b = b.client_identity(id.clone());
        }
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

/// The proxy: `--proxy`, or the environment unless `--no-proxy`; Basic credentials from
/// `--proxy-user` and `WINRM_PROXY_PASSWORD` (a password in the environment's proxy URL is
/// accepted; on the command line it is refused, as every password is).
fn proxy_choice(g: &Global) -> Result<ProxyChoice, String> {
    let mut choice = match (&g.proxy, g.no_proxy) {
        (_, true) => ProxyChoice::Direct,
        (Some(url), false) => {
            let proxy = Proxy::parse(url).map_err(|e| e.to_string())?;
            if proxy.has_password() {
                return Err(
                    "--proxy must not carry a password (it would show in the process list): give --proxy-user and WINRM_PROXY_PASSWORD".into(),
                );
            }
            let no_proxy = NoProxy::parse(
                &std::env::var("no_proxy")
                    .or_else(|_| std::env::var("NO_PROXY"))
                    .unwrap_or_default(),
            );
            ProxyChoice::Explicit(proxy, no_proxy)
        }
        (None, false) => ProxyChoice::from_process_env()
            .map_err(|e| format!("{e} (from the proxy environment variables)"))?,
    };
    if let Some(user) = &g.proxy_user {
        let password = std::env::var("WINRM_PROXY_PASSWORD")
            .map(Password::new)
            .map_err(|_| "--proxy-user needs the password in WINRM_PROXY_PASSWORD".to_string())?;
        let with = |p: Proxy| p.with_credentials(user, &password);
        choice = match choice {
            ProxyChoice::Explicit(p, n) => ProxyChoice::Explicit(with(p), n),
            ProxyChoice::Environment {
                http,
                https,
                no_proxy,
            } => ProxyChoice::Environment {
                http: http.map(with),
                https: https.map(with),
                no_proxy,
            },
            other => other,
        };
    }
    Ok(choice)
}

/// The password: `WINRM_PASSWORD`, `--password-file`, or a prompt on a terminal; never argv.
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

/// Runs `op` on every host and prints the results; the exit status says whether all succeeded.
pub async fn run(g: &Global, op: Op, hosts: Vec<String>, clients: Vec<Client>) -> ExitCode {
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
    // One host's failure, even a panic in its task, never ends the run: it is that host's error.
    let mut results = Vec::with_capacity(tasks.len());
    for (t, host) in tasks.into_iter().zip(hosts) {
        results.push(t.await.unwrap_or_else(|e| {
            let detail = match e.try_into_panic() {
                Ok(p) => p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panicked".into()),
                Err(e) => e.to_string(),
            };
            let error = winrm_ipmi::Error::Internal {
                host: host.clone(),
                detail,
            };
            (host, Err(error))
        }));
    }
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    output::print_results(g.output, &op, &results);
    if results.len() > 1 || failed > 0 && g.output != Output::Text {
        output::summary(&results, started.elapsed());
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
