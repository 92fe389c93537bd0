//! The exporter's own metrics (`GET /metrics`): scrapes by module and outcome, their duration,
//! failures by kind, targets with a kept client, shared scrapes, sensor-record cache outcomes.

use std::sync::Mutex;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

pub(super) struct Stats {
    registry: Mutex<Registry>,
    scrapes: Family<Labels, Counter>,
    durations: Family<Labels, Histogram>,
    errors: Family<Labels, Counter>,
    clients: Gauge,
    shared: Counter,
    sdr_cache: Family<Labels, Counter>,
}

impl Default for Stats {
    fn default() -> Self {
        let scrapes = Family::<Labels, Counter>::default();
        let durations = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0])
        });
        let errors = Family::<Labels, Counter>::default();
        let clients = Gauge::default();
        let shared = Counter::default();
        let sdr_cache = Family::<Labels, Counter>::default();
        let mut r = Registry::with_prefix("winrm_ipmi_exporter");
        r.register(
            "scrapes",
            "Target scrapes, by module and outcome (ok, failed, timeout)",
            scrapes.clone(),
        );
        r.register(
            "scrape_duration_seconds",
            "How long target scrapes took, by module",
            durations.clone(),
        );
        r.register(
            "collector_errors",
            "Collectors that failed, by collector and error kind",
            errors.clone(),
        );
        r.register(
            "clients",
            "Targets with a kept client (and its authenticated WinRM connection)",
            clients.clone(),
        );
        r.register(
            "shared_scrapes",
            "Scrapes answered by a collection already running for the target",
            shared.clone(),
        );
        r.register(
            "sdr_cache",
            "Sensor-record lookups, by outcome (read, memory, disk, uncacheable, off)",
            sdr_cache.clone(),
        );
        Stats {
            registry: Mutex::new(r),
            scrapes,
            durations,
            errors,
            clients,
            shared,
            sdr_cache,
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Stats {
    pub(super) fn scrape(&self, module: &str, outcome: &str, seconds: f64) {
        self.scrapes
            .get_or_create(&labels(&[("module", module), ("outcome", outcome)]))
            .inc();
        self.durations
            .get_or_create(&labels(&[("module", module)]))
            .observe(seconds);
    }

    pub(super) fn error(&self, collector: &str, kind: &str) {
        self.errors
            .get_or_create(&labels(&[("collector", collector), ("kind", kind)]))
            .inc();
    }

    pub(super) fn set_clients(&self, n: usize) {
        self.clients.set(n as i64);
    }

    pub(super) fn shared_scrape(&self) {
        self.shared.inc();
    }

    pub(super) fn sdr_cache(&self, outcome: &str) {
        self.sdr_cache
            .get_or_create(&labels(&[("outcome", outcome)]))
            .inc();
    }

    pub(super) fn encode(&self) -> String {
        let mut out = String::new();
        let r = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        out
    }
}
