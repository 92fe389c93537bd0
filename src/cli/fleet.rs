//! The fleet runner: every argument checked and every client built before any traffic, then
//! the hosts in parallel (bounded), one failure never stopping the others.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::HashSet;
use std::io::BufRead;

use futures_util::StreamExt;
use winrm_ipmi::auth::{AuthMethod, Password};
use winrm_ipmi::hosts::{self, Shard};
use winrm_ipmi::transport::EncryptionMode;
use winrm_ipmi::transport::proxy::{NoProxy, Proxy, ProxyChoice};
use winrm_ipmi::transport::tls::ClientIdentity;
use winrm_ipmi::transport::{Endpoint, Scheme};
use winrm_ipmi::{Client, ClientFactory};

use super::args::{Auth, Global, Transport};
use super::ops::Op;
use super::output;

/// Where the hosts come from: `-H` values, then a file or standard input; each once, in order,
/// the `--shard` filter applied.
pub struct Hosts {
    flags: Vec<String>,
    source: Option<String>,
    shard: Option<Shard>,
    /// The scheme a host without one gets (for "each host once").
    scheme: Scheme,
    /// How many, when known before the run (no standard input).
    pub known: Option<usize>,
}

impl Hosts {
    /// Feeds the hosts into a channel from a thread of its own (reading standard input may
    /// block), one entry at a time: a host, or a line that is not one host.
    fn spawn(self) -> tokio::sync::mpsc::Receiver<Result<String, String>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        std::thread::spawn(move || {
            // Each host once, however it is spelt: a 64-bit hash per endpoint seen, not the
            // names.
            let mut seen = HashSet::new();
            let scheme = self.scheme;
            let mut send = |entry: Result<String, String>| match entry {
                Ok(h) if !self.shard.is_none_or(|s| s.contains(&h)) => true,
                Ok(h) if !seen.insert(name_hash(&endpoint_key(&h, scheme))) => true,
                e => tx.blocking_send(e).is_ok(),
            };
            for h in self
                .flags
                .iter()
                .map(|h| h.trim())
                .filter(|h| !h.is_empty())
            {
                if !send(Ok(h.to_string())) {
                    return;
                }
            }
            let reader: Box<dyn BufRead> = match self.source.as_deref() {
                None => return,
                Some("-") => Box::new(std::io::stdin().lock()),
                Some(path) => match std::fs::File::open(path) {
                    Ok(f) => Box::new(std::io::BufReader::new(f)),
                    Err(e) => {
                        send(Err(format!("cannot read {path}: {e}")));
                        return;
                    }
                },
            };
            let name = self.source.clone().unwrap_or_default();
            let mut reader = reader;
            let mut bytes = Vec::new();
            for n in 0.. {
                bytes.clear();
                let line = match reader.read_until(b'\n', &mut bytes) {
                    Ok(0) => return,
                    // A line that is not UTF-8 is that line's error; the list goes on.
                    Ok(_) => std::str::from_utf8(&bytes).map_err(|_| "not UTF-8 text".to_string()),
                    Err(e) => {
                        // A read error does not go away: report it once and stop.
                        send(Err(format!("{name}:{}: {e}", n + 1)));
                        return;
                    }
                };
                let entry = match line {
                    Err(e) => Err(format!("{name}:{}: {e}", n + 1)),
                    Ok(line) => match hosts::parse_line(line) {
                        Ok(None) => continue,
                        Ok(Some(h)) => Ok(h.to_string()),
                        Err(e) => Err(format!(
                            "{name}:{}: one host per line, got {}",
                            n + 1,
                            hosts::describe_bad_line(e)
                        )),
                    },
                };
                if !send(entry) {
                    return;
                }
            }
        });
        rx
    }
}

/// What makes two host entries the same host: the scheme, the host name in lower case, the
/// port and the path, as the endpoint parser reads them (`srv01`, `SRV01:5985` and
/// `http://srv01/wsman` are one host). An entry that does not parse stands for itself.
fn endpoint_key(entry: &str, scheme: Scheme) -> String {
    match Endpoint::parse(entry, scheme) {
        Ok(e) => e.url().to_ascii_lowercase(),
        Err(_) => entry.to_string(),
    }
}

/// A host name's 64-bit hash, for "each host once" without keeping the names.
fn name_hash(host: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    host.hash(&mut h);
    h.finish()
}

/// Checks every argument before any traffic: the `-H` hosts, a host file (read through once,
/// not kept), the credentials, the TLS and proxy settings. Clients are made per host as the run
/// reaches it, all sharing one [`ClientFactory`].
pub fn prepare(g: &Global) -> Result<(Hosts, ClientFactory), String> {
    // A service principal names one host's account: its ticket is of no use to any other
    // host, which would each fail to authenticate.
    if g.spn.is_some() && !g.one_host() {
        return Err(
            "--spn names one host's service principal: give it with exactly one -H (the hosts of a list each get HTTP/<host>)"
                .into(),
        );
    }
    for h in &g.hosts {
        Endpoint::parse(h, Scheme::Http).map_err(|e| e.to_string())?;
    }
    let scheme = if g.transport == Transport::Https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let mut seen: HashSet<u64> = g
        .hosts
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(|h| name_hash(&endpoint_key(h, scheme)))
        .collect();
    let mut known = Some(seen.len());
    match g.hosts_file.as_deref() {
        None => {}
        Some("-") => known = None,
        Some(path) => {
            // Not opened here unless a regular file: a pipe can be read only once.
            let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            if meta.is_dir() {
                return Err(format!("{path} is a directory, not a host list"));
            }
            if meta.is_file() {
                let file =
                    std::fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
                // A regular file is checked through once before any traffic (and read again
                // as the run goes); a pipe can be read only once, as it goes.
                for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
                    let line = line.map_err(|e| format!("cannot read {path}: {e}"))?;
                    match hosts::parse_line(&line) {
                        Ok(Some(h)) => {
                            seen.insert(name_hash(&endpoint_key(h, scheme)));
                        }
                        Ok(None) => {}
                        Err(e) => {
                            return Err(format!(
                                "{path}:{}: one host per line, got {}",
                                n + 1,
                                hosts::describe_bad_line(e)
                            ));
                        }
                    }
                }
                known = Some(seen.len());
            } else {
                known = None;
            }
        }
    }
    if known == Some(0) {
        return Err("no host: give -H HOST (repeatable, comma-separated) or --hosts FILE".into());
    }
    if g.shard.is_some() {
        known = None; // the shard's share is known only as it goes
    }
    if g.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let factory = client_factory(g)?;
    Ok((
        Hosts {
            flags: g.hosts.clone(),
            source: g.hosts_file.clone(),
            shard: g.shard,
            scheme,
            known,
        },
        factory,
    ))
}

/// The clients' settings from the global options (credentials, authentication, TLS, proxy),
/// checked once: what would fail for every host fails here.
pub fn client_factory(g: &Global) -> Result<ClientFactory, String> {
    client_factory_with(g, |b| b)
}

/// [`client_factory`], with a last word on the builder (the exporter's connection idle limit).
pub fn client_factory_with(
    g: &Global,
    last: impl FnOnce(winrm_ipmi::ClientBuilder) -> winrm_ipmi::ClientBuilder,
) -> Result<ClientFactory, String> {
    if g.transport == Transport::Http
        && (g.cacert.is_some() || g.thumbprint.is_some() || g.insecure)
    {
        return Err("--cacert, --thumbprint and --insecure apply to --transport https".into());
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
        let user = g.user.clone().or_else(|| std::env::var("WINRM_USER").ok());
        (credentials(g, user)?, None)
    };
    let proxy = proxy_choice(g)?;
    let mut b = Client::builder("")
        .https(g.transport == Transport::Https)
        .auth(match g.auth {
            Auth::Negotiate => AuthMethod::Negotiate,
            Auth::Kerberos => AuthMethod::Kerberos,
            Auth::Ntlm => AuthMethod::Ntlm,
            Auth::Basic => AuthMethod::Basic,
            Auth::Certificate => AuthMethod::Certificate,
        })
        .encryption(EncryptionMode::Auto)
        .operation_timeout(Duration::from_secs(g.timeout))
        .insecure_skip_certificate_verification(g.insecure)
        .proxy_choice(proxy);
    match &credentials {
        Some(Login::Password(user, password)) => {
            b = b.credentials(user, Password::new(password.expose()));
        }
        Some(Login::Ticket(user)) => b = b.kerberos_ticket(user.as_deref()),
        None => {}
    }
    if let Some(spn) = &g.spn {
        b = b.spn(spn);
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
    let factory = last(b).into_factory();
    factory.check().map_err(|e| e.to_string())?;
    Ok(factory)
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
            let no_proxy = NoProxy::from_env(|name| std::env::var(name).ok());
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

/// How we log on.
enum Login {
    /// An account and its password (NTLM, Basic, or Kerberos tickets got with it).
    Password(String, Password),
    /// The Kerberos ticket at hand (ccache or client keytab), for this principal or the
    /// default one.
    Ticket(Option<String>),
}

/// The login for password-or-ticket methods: a password given (environment or file) is used;
/// else, for negotiate and kerberos, a Kerberos ticket at hand; else a prompt.
fn credentials(g: &Global, user: Option<String>) -> Result<Option<Login>, String> {
    if let Some(p) = given_password(g)? {
        let user = user.ok_or("no user: give -U DOMAIN\\user (or set WINRM_USER)")?;
        return Ok(Some(Login::Password(user, p)));
    }
    if matches!(g.auth, Auth::Negotiate | Auth::Kerberos) && ticket_at_hand(user.as_deref()) {
        return Ok(Some(Login::Ticket(user)));
    }
    if g.auth == Auth::Kerberos && (user.is_none() || !std::io::stdin().is_terminal()) {
        // No ticket at hand and nobody to ask: the library says exactly why (no ticket,
        // expired, no realm, ...).
        return Ok(Some(Login::Ticket(user)));
    }
    let user = user.ok_or("no user: give -U DOMAIN\\user (or set WINRM_USER)")?;
    Ok(Some(Login::Password(user, password(g)?)))
}

#[cfg(feature = "kerberos")]
fn ticket_at_hand(user: Option<&str>) -> bool {
    winrm_ipmi::auth::kerberos::default_credentials_available(user)
}

#[cfg(not(feature = "kerberos"))]
fn ticket_at_hand(_: Option<&str>) -> bool {
    false
}

/// A password given without a prompt: `WINRM_PASSWORD` or `--password-file`.
fn given_password(g: &Global) -> Result<Option<Password>, String> {
    if let Ok(p) = std::env::var("WINRM_PASSWORD") {
        return Ok(Some(Password::new(p)));
    }
    if let Some(f) = &g.password_file {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        return Ok(Some(Password::new(text.lines().next().unwrap_or_default())));
    }
    Ok(None)
}

/// The password: `WINRM_PASSWORD`, `--password-file`, or a prompt on a terminal; never argv.
fn password(g: &Global) -> Result<Password, String> {
    if let Some(p) = given_password(g)? {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("WinRM password: ")
            .map(Password::new)
            .map_err(|e| format!("cannot read the password: {e}"));
    }
    Err("no password: set WINRM_PASSWORD, give --password-file, or run in a terminal to be prompted".into())
}

/// Runs `op` on every host and prints the results as they come (in input order); the exit
/// status says whether all succeeded. At most `--concurrency` hosts are in flight, and at most
/// four times that many results wait for an earlier, slower host: memory follows the
/// concurrency, not the fleet's size.
pub async fn run(g: &Global, op: Op, hosts: Hosts, factory: ClientFactory) -> ExitCode {
    let started = Instant::now();
    let op = Arc::new(op);
    let factory = Arc::new(factory);
    let permits = Arc::new(tokio::sync::Semaphore::new(g.concurrency));
    let single = hosts.known == Some(1);
    let progress = hosts
        .known
        .filter(|&n| n > 1 && std::io::stderr().is_terminal())
        .map(|n| {
            let bar = indicatif::ProgressBar::new(n as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} hosts {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
    let entries = hosts.spawn();
    let results = futures_util::stream::unfold(entries, |mut rx| async move {
        rx.recv().await.map(|entry| (entry, rx))
    })
    .map(|entry| {
        let (op, factory, permits) = (op.clone(), factory.clone(), permits.clone());
        async move {
            let host = match entry {
                // A name with userinfo is refused by the endpoint's parser; its output row
                // shows it without the password.
                Ok(h) if h.contains('@') => winrm_ipmi::transport::redact_userinfo(&h),
                Ok(h) => h,
                Err(line) => {
                    return (line.clone(), Err(winrm_ipmi::Error::Config(line)));
                }
            };
            let task = tokio::spawn({
                let host = host.clone();
                async move {
                    let _permit = permits.acquire_owned().await.expect("open semaphore");
                    let client = factory.client(&host)?;
                    op.run(&client).await
                }
            });
            // One host's failure, even a panic in its task, never ends the run: it is that
            // host's error.
            let result = task.await.unwrap_or_else(|e| {
                let detail = match e.try_into_panic() {
                    Ok(p) => p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panicked".into()),
                    Err(e) => e.to_string(),
                };
                Err(winrm_ipmi::Error::Internal {
                    host: host.clone(),
                    detail,
                })
            });
            (host, result)
        }
    })
    .buffered(g.concurrency.saturating_mul(4).max(1));
    let mut results = std::pin::pin!(results);
    let mut printer = output::Printer::new(g.output, &op, single, progress.clone());
    while let Some(result) = results.next().await {
        if let Some(b) = &progress {
            b.inc(1);
        }
        printer.push(result);
    }
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    if printer.count() == 0 {
        if let Some(shard) = g.shard {
            // A shard may be empty (more shards than hosts): nothing to do is not a failure.
            eprintln!("winrm-ipmi: no host of the list falls in shard {shard}");
            return ExitCode::SUCCESS;
        }
        eprintln!("winrm-ipmi: no host (the host list was empty)");
        return ExitCode::from(2);
    }
    let total_failed = printer.finish(started.elapsed());
    if total_failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
