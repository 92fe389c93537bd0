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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

pub use config::{Collector, Module};
pub use server::serve;

use crate::Client;
use crate::ipmi::sdr::SdrCache;

/// How long an unused target's client (and its authenticated connection) is kept.
pub const DEFAULT_CLIENT_IDLE: Duration = Duration::from_secs(300);

type Collection = Shared<BoxFuture<'static, Arc<String>>>;

/// The exporter: its modules, the targets' clients, the collections in flight.
pub struct Exporter {
    modules: HashMap<String, Arc<Module>>,
    default_module: String,
    clients: Mutex<HashMap<(String, String), (Client, Instant)>>,
    inflight: Mutex<HashMap<(String, String), Collection>>,
    sdr_cache: SdrCache,
    client_idle: Duration,
    stats: stats::Stats,
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
    /// No such module.
    UnknownModule(String),
}

impl std::fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScrapeError::BadTarget(t) => write!(f, "bad target: {t}"),
            ScrapeError::UnknownModule(m) => write!(f, "unknown module {m:?}"),
        }
    }
}

impl Exporter {
    /// An exporter with these modules (the first is the default) and a sensor-record cache.
    pub fn new(modules: Vec<Module>, sdr_cache: SdrCache) -> Exporter {
        let default_module = modules
            .first()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "default".into());
        Exporter {
            modules: modules
                .into_iter()
                .map(|m| (m.name.clone(), Arc::new(m)))
                .collect(),
            default_module,
            clients: Mutex::default(),
            inflight: Mutex::default(),
            sdr_cache,
            client_idle: DEFAULT_CLIENT_IDLE,
            stats: stats::Stats::default(),
        }
    }

    /// How long an unused target's client is kept.
    pub fn with_client_idle(mut self, idle: Duration) -> Self {
        self.client_idle = idle;
        self
    }

    /// The client for a target, made once and kept while used.
    fn client(&self, module: &Module, target: &str) -> Result<Client, ScrapeError> {
        let key = (module.name.clone(), target.to_string());
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        clients.retain(|_, (_, used)| now.duration_since(*used) < self.client_idle);
        if let Some((c, used)) = clients.get_mut(&key) {
            *used = now;
            return Ok(c.clone());
        }
        let client = module
            .factory
            .client(target)
            .map_err(|e| ScrapeError::BadTarget(e.to_string()))?;
        clients.insert(key, (client.clone(), now));
        self.stats.set_clients(clients.len());
        Ok(client)
    }

    /// Scrapes `target` with `module` (`None`: the default), within `deadline` when Prometheus
    /// gives one: the exposition text. Concurrent scrapes of one target share one collection.
    pub async fn scrape(
        self: &Arc<Self>,
        target: &str,
        module: Option<&str>,
        deadline: Option<Duration>,
    ) -> Result<Arc<String>, ScrapeError> {
        let target = target.trim();
        if target.is_empty() {
            return Err(ScrapeError::BadTarget("no target parameter".into()));
        }
        let name = module.unwrap_or(&self.default_module);
        let module = self
            .modules
            .get(name)
            .cloned()
            .ok_or_else(|| ScrapeError::UnknownModule(name.to_string()))?;
        let client = self.client(&module, target)?;
        let key = (module.name.clone(), target.to_string());
        let collection = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(running) = inflight.get(&key) {
                self.stats.shared_scrape();
                running.clone()
            } else {
                // A little under Prometheus' own limit, so the answer arrives in time.
                let limit = deadline
                    .map(|d| d.saturating_sub(Duration::from_millis(500)))
                    .unwrap_or(module.timeout)
                    .min(module.timeout);
                // The collection is a task of its own: a scrape whose requester went away
                // (Prometheus gave up) still finishes, and leaves the in-flight map, instead of
                // waiting half done for the next scrape to resume it past its deadline.
                let done = InFlight {
                    exporter: self.clone(),
                    key: key.clone(),
                };
                let this = self.clone();
                let task = tokio::spawn(async move {
                    let _done = done;
                    Arc::new(collect::collect(&this, &module, &client, limit).await)
                });
                let fut = async move {
                    task.await.unwrap_or_else(|e| {
                        tracing::error!(error = %e, "a collection ended unexpectedly");
                        Arc::new(String::new())
                    })
                }
                .boxed()
                .shared();
                inflight.insert(key, fut.clone());
                fut
            }
        };
        Ok(collection.await)
    }

    /// The exporter's own metrics.
    pub fn own_metrics(&self) -> String {
        self.stats.encode()
    }
}

/// Takes a finished (or failed) collection out of the in-flight map.
struct InFlight {
    exporter: Arc<Exporter>,
    key: (String, String),
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.exporter
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}
