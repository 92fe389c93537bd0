//! A Prometheus exporter for Windows hosts' BMCs, in band, that ipmi_exporter's dashboards
//! accept: the multi-target pattern (`GET /ipmi?target=HOST[:PORT][&module=NAME]`), the same
//! metric families, labels and units as prometheus-community's ipmi_exporter for what both
//! collect, plus what only in-band access gives (the BMC's LAN configuration, the host↔BMC
//! GUID check). `GET /metrics` gives the exporter's own metrics.
//!
//! Targets stay authenticated between scrapes: one client per (module, target), its pooled
//! connection (and NTLM or Kerberos context) reused until idle too long. Concurrent scrapes of
//! one target share one collection. A scrape's deadline follows Prometheus'
//! `X-Prometheus-Scrape-Timeout-Seconds`. Sensor records come from a cache shared by every
//! target (identical models download their SDR repository once).
//!
//! The exporter keeps no state a restart would miss, so a fleet larger than one process holds
//! runs several replicas, and Prometheus shards the targets between them (`hashmod`; see the
//! README).

mod collect;
pub mod config;
mod interpret;
mod interpret_tables;
mod server;
mod stats;
mod targets;
pub mod web;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tokio::sync::Semaphore;

pub use config::{Collector, Module};
pub use server::{serve, serve_with};
pub use targets::TargetFilter;
pub use web::WebConfig;

use crate::Client;
use crate::ipmi::sdr::SdrCache;

/// How long an unused target's client is kept.
pub const DEFAULT_CLIENT_IDLE: Duration = Duration::from_secs(300);

/// How long a kept WinRM connection may sit unused and still be reused: under HTTP.sys's
/// 2 minutes, so scrape intervals up to 110 s keep one handshake per target.
pub const CONNECTION_IDLE: Duration = Duration::from_secs(110);

/// Targets with a kept client, at most (the least recently scraped goes first).
pub const DEFAULT_MAX_TARGETS: usize = 20_000;

/// Collections running at once, at most (the rest wait, within their deadline).
pub const DEFAULT_MAX_COLLECTIONS: usize = 512;

/// A collection's text, or `None` when it ended abnormally.
type Collection = Shared<BoxFuture<'static, Option<Arc<String>>>>;

/// A collection in flight: its text to come, when it must end, the time it was allowed, and
/// which one it is.
struct Running {
    collection: Collection,
    ends: Instant,
    limit: Duration,
    id: u64,
}

/// (module, target as asked, lowercased).
type Key = (String, String);

/// The exporter: its modules, the targets' clients, the collections in flight.
pub struct Exporter {
    modules: HashMap<String, Arc<Module>>,
    default_module: Option<String>,
    clients: Mutex<HashMap<Key, (Client, Instant)>>,
    inflight: Mutex<HashMap<Key, Running>>,
    next_id: std::sync::atomic::AtomicU64,
    collections: Semaphore,
    sdr_cache: SdrCache,
    /// The LAN channels of each target, found on its first scrape (the `lan` collector).
    lan_channels: crate::ipmi::lan::LanChannelMemo,
    client_idle: Duration,
    max_targets: usize,
    stats: Arc<stats::Stats>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("modules", &self.modules.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why a scrape request cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapeError {
    /// No `target` parameter, or an unusable one.
    BadTarget(String),
    /// No such module, or none given and none is the default.
    UnknownModule(String),
    /// The module's `allowed_targets` do not include the target.
    NotAllowed(String),
    /// The collection ended abnormally (a bug); logged.
    Internal,
}

impl std::fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScrapeError::BadTarget(t) => write!(f, "bad target: {t}"),
            ScrapeError::UnknownModule(m) if m.is_empty() => write!(
                f,
                "no module given, and no module is named \"default\": add &module=NAME"
            ),
            ScrapeError::UnknownModule(m) => write!(f, "unknown module {m:?}"),
            ScrapeError::NotAllowed(t) => {
                write!(f, "target {t:?} is not in the module's allowed_targets")
            }
            ScrapeError::Internal => write!(f, "the collection ended unexpectedly"),
        }
    }
}

impl Exporter {
    /// An exporter with these modules and a sensor-record cache. A scrape without `module`
    /// uses the module named `default` (as ipmi_exporter), or the only module there is.
    pub fn new(modules: Vec<Module>, sdr_cache: SdrCache) -> Exporter {
        let default_module = if modules.iter().any(|m| m.name == "default") {
            Some("default".to_string())
        } else if modules.len() == 1 {
            Some(modules[0].name.clone())
        } else {
            None
        };
        Exporter {
            modules: modules
                .into_iter()
                .map(|m| (m.name.clone(), Arc::new(m)))
                .collect(),
            default_module,
            clients: Mutex::default(),
            inflight: Mutex::default(),
            next_id: std::sync::atomic::AtomicU64::new(0),
            collections: Semaphore::new(DEFAULT_MAX_COLLECTIONS),
            sdr_cache,
            lan_channels: crate::ipmi::lan::LanChannelMemo::per_host(DEFAULT_MAX_TARGETS),
            client_idle: DEFAULT_CLIENT_IDLE,
            max_targets: DEFAULT_MAX_TARGETS,
            stats: Arc::default(),
        }
    }

    /// How long an unused target's client is kept.
    pub fn with_client_idle(mut self, idle: Duration) -> Self {
        self.client_idle = idle;
        self
    }

    /// How many targets keep a client at most; past it the least recently scraped is dropped
    /// (and pays a handshake when scraped again).
    pub fn with_max_targets(mut self, n: usize) -> Self {
        self.max_targets = n.max(1);
        self.lan_channels = crate::ipmi::lan::LanChannelMemo::per_host(self.max_targets);
        self
    }

    /// How many collections run at once at most.
    pub fn with_max_collections(mut self, n: usize) -> Self {
        self.collections = Semaphore::new(n.max(1));
        self
    }

    /// Drops the clients unused for longer than the idle limit (the server calls this
    /// periodically, so clients go even when scraping stops).
    pub fn sweep(&self) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        clients.retain(|_, (_, used)| now.duration_since(*used) < self.client_idle);
        self.stats.set_clients(clients.len());
    }

    /// The client for a target, made once and kept while used.
    fn client(&self, module: &Module, key: &Key) -> Result<Client, ScrapeError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some((c, used)) = clients.get_mut(key) {
            *used = now;
            return Ok(c.clone());
        }
        let client = module
            .factory
            .client(&key.1)
            .map_err(|e| ScrapeError::BadTarget(e.to_string()))?;
        clients.retain(|_, (_, used)| now.duration_since(*used) < self.client_idle);
        if clients.len() >= self.max_targets {
            // Full: the least recently scraped target goes (a collection using it keeps it).
            if let Some(oldest) = clients
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                clients.remove(&oldest);
            }
        }
        clients.insert(key.clone(), (client.clone(), now));
        self.stats.set_clients(clients.len());
        Ok(client)
    }

    /// Scrapes `target` (`HOST` or `HOST:PORT`; the scheme, TLS and account are the module's)
    /// with `module` (`None` or empty: the default), within `deadline` when Prometheus gives
    /// one: the exposition text. Concurrent scrapes of one target share one collection.
    pub async fn scrape(
        self: &Arc<Self>,
        target: &str,
        module: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Arc<String>, ScrapeError> {
        let target = check_target(target)?;
        let name = match module.filter(|m| !m.is_empty()) {
            Some(m) => m,
            None => self
                .default_module
                .as_deref()
                .ok_or_else(|| ScrapeError::UnknownModule(String::new()))?,
        };
        let module = self
            .modules
            .get(name)
            .cloned()
            .ok_or_else(|| ScrapeError::UnknownModule(name.to_string()))?;
        if !module.allowed_targets.allows(&host_of(&target)) {
            return Err(ScrapeError::NotAllowed(target));
        }
        let key: Key = (module.name.clone(), target);
        let client = self.client(&module, &key)?;
        // A little under Prometheus' own limit, so the answer arrives in time: ipmi_exporter's
        // 0.5 s, or a tenth of a limit too short to spare that.
        let limit = deadline
            .map(|d| {
                d.saturating_sub(Duration::from_millis(500))
                    .max(d.mul_f64(0.9))
            })
            .unwrap_or(module.timeout)
            .min(module.timeout);
        let started = Instant::now();
        let ends = started + limit;
        let joined = {
            let inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            // Join a running collection allowed at least as long as this scrape is; one cut
            // shorter (a requester with a tighter deadline) is not this scrape's answer.
            inflight
                .get(&key)
                .filter(|running| running.limit >= limit)
                .map(|running| (running.collection.clone(), running.ends))
        };
        let text = match joined {
            Some((collection, running_ends)) => {
                self.stats.shared_scrape();
                if running_ends > ends {
                    // It may run longer than this scrape may wait.
                    match tokio::time::timeout(limit, collection).await {
                        Ok(text) => text,
                        Err(_) => Some(Arc::new(collect::timed_out(self, &module, started))),
                    }
                } else {
                    collection.await
                }
            }
            None => {
                self.start_collection(key, module, client, limit, ends)
                    .await
            }
        };
        text.ok_or(ScrapeError::Internal)
    }

    /// Starts a collection as a task of its own (a scrape whose requester went away still
    /// finishes and leaves the in-flight map, instead of waiting half done for the next scrape
    /// to resume it past its deadline), registers it for others to join, and waits for it.
    async fn start_collection(
        self: &Arc<Self>,
        key: Key,
        module: Arc<Module>,
        client: Client,
        limit: Duration,
        ends: Instant,
    ) -> Option<Arc<String>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let collection: Collection = rx.map(Result::ok).boxed().shared();
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Registered before the task exists, and the lock released before it is spawned: a
        // task dropped at once (the runtime shutting down) takes its entry out without
        // deadlocking on this lock.
        self.inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key.clone(),
                Running {
                    collection: collection.clone(),
                    ends,
                    limit,
                    id,
                },
            );
        let done = InFlight {
            exporter: self.clone(),
            key,
            id,
        };
        let this = self.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            // Waiting for a turn counts against the deadline.
            let text = match tokio::time::timeout(limit, this.collections.acquire()).await {
                Ok(Ok(_permit)) => {
                    let left = limit.saturating_sub(start.elapsed());
                    collect::collect(&this, &module, &client, left, start).await
                }
                _ => collect::timed_out(&this, &module, start),
            };
            // Out of the map before the answer goes out: a scrape that starts once this one is
            // answered gets a fresh collection, never this finished one.
            drop(done);
            let _ = tx.send(Arc::new(text));
        });
        let text = collection.await;
        if text.is_none() {
            tracing::error!("exporter: a collection ended unexpectedly");
        }
        text
    }

    /// The exporter's own metrics.
    pub fn own_metrics(&self) -> String {
        self.stats.encode()
    }
}

/// A target is `HOST` or `HOST:PORT` (IPv6 bracketed): the scheme, path, TLS settings and
/// account come from the module, so a scrape cannot turn a module's HTTPS (and pinning) into
/// HTTP, or send its credentials to a URL of the requester's choosing. Lowercased: one client
/// per host however it is spelt.
fn check_target(target: &str) -> Result<String, ScrapeError> {
    let t = target.trim();
    if t.is_empty() {
        return Err(ScrapeError::BadTarget("no target parameter".into()));
    }
    if t.contains('@') {
        // Never echoed: what stands before the `@` may be a password.
        return Err(ScrapeError::BadTarget(
            "a target holds no credentials (the module sets the account): HOST or HOST:PORT".into(),
        ));
    }
    if t.len() > 255 + 8 || t.contains("://") || t.contains(['/', '?', '#']) {
        return Err(ScrapeError::BadTarget(format!(
            "{:?}: a target is HOST or HOST:PORT (the module sets the transport)",
            t.chars().take(64).collect::<String>()
        )));
    }
    let endpoint = crate::transport::Endpoint::parse(t, crate::transport::Scheme::Http)
        .map_err(|e| ScrapeError::BadTarget(e.to_string()))?;
    if endpoint.host.parse::<std::net::IpAddr>().is_err() && inet_aton_would_take(&endpoint.host) {
        // `10.1`, `0x0a000001`, `012.1.1.1`: the resolver reads these as addresses (inet_aton's
        // shorthands), which allowed_targets' ranges would not see.
        return Err(ScrapeError::BadTarget(format!(
            "{t:?}: write an address in dotted decimal (a.b.c.d)"
        )));
    }
    Ok(t.to_ascii_lowercase())
}

/// Whether `host` is one of the address forms inet_aton accepts (1 to 4 parts, each decimal,
/// octal or 0x hex).
fn inet_aton_would_take(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    (1..=4).contains(&parts.len())
        && parts.iter().all(|p| {
            let hex = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"));
            match hex {
                Some(h) => h.chars().all(|c| c.is_ascii_hexdigit()),
                None => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()),
            }
        })
}

/// The host part of a checked target (an IPv6 address without its brackets).
fn host_of(target: &str) -> String {
    crate::transport::Endpoint::parse(target, crate::transport::Scheme::Http)
        .map(|e| e.host)
        .unwrap_or_default()
}

/// Takes a finished (or failed) collection out of the in-flight map, unless a newer one has
/// taken its place.
struct InFlight {
    exporter: Arc<Exporter>,
    key: Key,
    id: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inflight = self
            .exporter
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if inflight.get(&self.key).is_some_and(|r| r.id == self.id) {
            inflight.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_with_credentials_is_refused_without_repeating_them() {
        for t in ["admin:Zq7-TargetPw@srv01", "Zq7-TargetPw@srv01:5985"] {
            let e = check_target(t).unwrap_err().to_string();
            assert!(!e.contains("Zq7-TargetPw"), "{e}");
            assert!(e.contains("credentials"), "{e}");
        }
    }

    #[test]
    fn targets_are_hosts_and_ports_only() {
        assert_eq!(
            check_target(" Server01.Contoso.com ").unwrap(),
            "server01.contoso.com"
        );
        assert_eq!(check_target("10.0.0.5:5986").unwrap(), "10.0.0.5:5986");
        assert_eq!(check_target("[fe80::1]:5985").unwrap(), "[fe80::1]:5985");
        assert_eq!(check_target("1server").unwrap(), "1server");
        assert_eq!(
            check_target("web01.0xide.example").unwrap(),
            "web01.0xide.example"
        );
        for bad in [
            "",
            "http://server01",
            "https://attacker.example",
            "server01/wsman",
            "user@server01",
            "server01?x",
            "a b",
            "aéééé",
            "x:0",
            "10.1",
            "0x0a000001",
            "012.1.1.1",
            "167772161:5985",
        ] {
            assert!(
                matches!(check_target(bad), Err(ScrapeError::BadTarget(_))),
                "{bad}"
            );
        }
        let long = "a".repeat(100_000);
        let e = check_target(&long).unwrap_err().to_string();
        assert!(e.len() < 200, "the error does not echo a huge target");
    }
}
