//! The exporter against real peers: the Debian `prometheus-ipmi-exporter` (ipmi_exporter 1.6.1
//! with FreeIPMI) on OpenIPMI's ipmi_sim beside ours on a simulated Windows host forwarding to
//! the same ipmi_sim (the same families, label sets and values); a real Prometheus scraping
//! ours and storing the series; two replicas sharded by Prometheus' `hashmod` over 100
//! simulated targets, each scraped by exactly one; and, in process, connections kept between
//! scrapes, concurrent scrapes sharing one collection, Prometheus' scrape deadline.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::ipmi_sim::{peers_present, start_catalog_sim};
use common::prometheus::{self as prom, Prometheus, http_get, parse};
use common::{PeerProcess, ScratchDir};
use winrm_ipmi::Client;
use winrm_ipmi::auth::Password;
use winrm_ipmi::exporter::{Exporter, Module, TargetFilter};
use winrm_ipmi::ipmi::sdr::SdrCache;
use winrm_ipmi::sim::{HostConfig, Simulator};

/// A running `winrm-ipmi exporter` and its port.
struct OurExporter {
    child: Child,
    port: u16,
    /// Its sensor-record cache, removed after it (for [`our_exporter`]'s).
    cache: Option<ScratchDir>,
}

impl Drop for OurExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `winrm-ipmi exporter` with these arguments after `--listen`.
fn our_exporter(args: &[&str]) -> OurExporter {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"));
    cmd.args(["-U", "Administrator", "exporter", "--listen", "127.0.0.1:0"])
        .args(args);
    // The sensor-record cache on, in a directory of this exporter's own.
    let cache = ScratchDir::numbered("exporter-cache");
    cmd.env("XDG_CACHE_HOME", &cache);
    let mut exporter = start_exporter(cmd);
    exporter.cache = Some(cache);
    exporter
}

/// Starts `cmd` (an exporter listening on port 0) and reads the port it prints.
fn start_exporter(mut cmd: Command) -> OurExporter {
    use std::io::BufRead;
    if !cmd.get_envs().any(|(k, _)| k == "WINRM_PASSWORD") {
        cmd.env("WINRM_PASSWORD", "Sim-Passw0rd!");
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    OurExporter {
        child,
        port,
        cache: None,
    }
}

fn ipmi_exporter_present() -> bool {
    if std::path::Path::new("/usr/bin/prometheus-ipmi-exporter").exists()
        && std::path::Path::new("/usr/sbin/ipmimonitoring").exists()
    {
        return true;
    }
    let why = "prometheus-ipmi-exporter or freeipmi-tools is not installed; run scripts/peers.sh (as root)";
    common::peer_missing(why)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_families_labels_and_values_as_ipmi_exporter() {
    if !peers_present("exporter vs ipmi_exporter") || !ipmi_exporter_present() {
        return;
    }
    let bmc = start_catalog_sim();
    // ipmi_exporter 1.6.1 (FreeIPMI over RMCP+) on the ipmi_sim. ipmi_sim opens sessions at
    // privilege 0, which FreeIPMI refuses without its `opensesspriv` workaround.
    let dir = ScratchDir::new("ipmiexp", "compare");
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(
        dir.join("ipmi_exporter.yml"),
        "modules:\n  default:\n    user: admin\n    pass: adminpass\n    driver: LAN_2_0\n    privilege: admin\n    timeout: 10000\n    workaround_flags: [opensesspriv]\n    collectors: [ipmi, bmc, chassis, dcmi, sel]\n",
    )
    .unwrap();
    let port = common::free_port();
    let mut command = Command::new("/usr/bin/prometheus-ipmi-exporter");
    command
        .arg(format!(
            "--config.file={}",
            dir.join("ipmi_exporter.yml").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .env("TMPDIR", dir.join("tmp"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let theirs = PeerProcess::spawn(command, dir);
    common::wait_for_port(port, "ipmi_exporter");
    let their_text = http_get(port, &format!("/ipmi?target=127.0.0.1:{}", bmc.port)).await;
    drop(theirs);
    // Ours: a simulated Windows host whose IPMI driver forwards to the same ipmi_sim.
    let sim = Simulator::builder()
        .host(bmc.windows_host())
        .start()
        .await
        .unwrap();
    // The same collectors as theirs, and the LAN configuration only we can give.
    let dir = ScratchDir::new("exporter-config", "compare");
    let config = dir.join("exporter.yml");
    std::fs::write(
        &config,
        "modules:\n  default:\n    user: Administrator\n    password_env: WINRM_PASSWORD\n    timeout: 10000\n    collectors: [ipmi, bmc, chassis, dcmi, sel, lan]\n",
    )
    .unwrap();
    let ours_exporter = our_exporter(&["--config", config.to_str().unwrap()]);
    let our_text = http_get(
        ours_exporter.port,
        &format!("/ipmi?target={}", sim.endpoints()[0]),
    )
    .await;
    let (theirs, ours) = (parse(&their_text), parse(&our_text));
    assert!(theirs.len() > 20, "{their_text}");
    // Every sample ipmi_exporter gives, ours gives with the same labels and value (NaN as NaN);
    // only the scrape's own duration differs.
    for (series, v) in &theirs {
        if series.starts_with("ipmi_scrape_duration_seconds") {
            continue;
        }
        let ours_v = ours.get(series).unwrap_or_else(|| {
            panic!("{series} missing from ours:\n{our_text}\n--- theirs:\n{their_text}")
        });
        assert!(
            (v.is_nan() && ours_v.is_nan()) || v == ours_v,
            "{series}: theirs {v}, ours {ours_v}"
        );
    }
    // Ours has nothing of theirs' families more than them, except what only in band gives
    // (the BMC's LAN configuration) and the collectors only we have.
    for series in ours.keys() {
        let family = series.split('{').next().unwrap();
        if family == "ipmi_bmc_lan_info" || series.contains("collector=\"lan\"") {
            continue;
        }
        if family == "ipmi_scrape_duration_seconds" {
            continue;
        }
        assert!(
            theirs.contains_key(series),
            "ours has {series}, ipmi_exporter does not"
        );
    }
    assert_eq!(
        ours["ipmi_bmc_lan_info{channel=\"1\",ip_address=\"192.0.2.10\",ip_source=\"static\",mac_address=\"52:54:00:a1:b2:c3\",vlan=\"\"}"],
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_stores_the_series_and_hashmod_shards_them_over_two_replicas() {
    if !prom::present("prometheus sharding") {
        return;
    }
    let sim = Simulator::builder().hosts(100).start().await.unwrap();
    let targets = sim.endpoints();
    let replicas = [our_exporter(&[]), our_exporter(&[])];
    let list = targets
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // Generous: 100 first scrapes (100 NTLM handshakes) at once on two vCPUs, in a debug build.
    let mut config =
        String::from("global:\n  scrape_interval: 10s\n  scrape_timeout: 10s\nscrape_configs:\n");
    for (k, r) in replicas.iter().enumerate() {
        config.push_str(&format!(
            "  - job_name: ipmi-shard-{k}\n    metrics_path: /ipmi\n    static_configs:\n      - targets: [{list}]\n    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 2\n        target_label: __tmp_hash\n        action: hashmod\n      - source_labels: [__tmp_hash]\n        regex: '{k}'\n        action: keep\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: 127.0.0.1:{}\n      - target_label: shard\n        replacement: '{k}'\n      - target_label: job\n        replacement: ipmi\n",
            r.port
        ));
    }
    let p = Prometheus::start("shard", &config);
    // Prometheus waits a few seconds before its first scrape of new targets. On a loaded
    // 2-vCPU machine a first scrape (100 handshakes and one sensor-record download at once, in
    // a debug build, beside the other tests) may run out of time; the next one, on the kept
    // connection, does not: wait until every target has been stored up.
    let start = Instant::now();
    let series = loop {
        let s = p.query("ipmi_up{collector=\"ipmi\"}").await;
        let all_up = s.len() >= 100 && s.iter().all(|(_, v)| *v == 1.0);
        if all_up || start.elapsed() > Duration::from_secs(120) {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(series.len(), 100, "every target stored once: {series:?}");
    let mut seen = std::collections::BTreeMap::new();
    for (labels, value) in &series {
        assert_eq!(*value, 1.0, "{labels}");
        *seen
            .entry(labels["instance"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 100);
    assert!(seen.values().all(|&n| n == 1));
    assert_eq!(
        seen.keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        targets.iter().cloned().collect()
    );
    // Each replica scraped only its own shard: their clients add up to 100, none shared.
    let mut clients = Vec::new();
    for r in &replicas {
        let own = parse(&http_get(r.port, "/metrics").await);
        clients.push(own["winrm_ipmi_exporter_clients{}"] as u32);
    }
    assert_eq!(clients.iter().sum::<u32>(), 100, "{clients:?}");
    assert!(clients.iter().all(|&n| n > 0), "{clients:?}");
    // The sensor series are stored too (ipmi_exporter's families).
    let one = p
        .query(&format!(
            "count(ipmi_temperature_celsius{{instance=\"{}\"}})",
            targets[0]
        ))
        .await[0]
        .1;
    assert!(one >= 1.0);
    assert_eq!(
        p.query("count(ipmi_temperature_celsius)").await[0].1,
        100.0 * one
    );
}

/// The values of every `ipmi_up{collector=...}` series in an exposition.
fn up(text: &str) -> Vec<f64> {
    parse(text)
        .into_iter()
        .filter(|(k, _)| k.starts_with("ipmi_up{"))
        .map(|(_, v)| v)
        .collect()
}

/// One simulated host answering each request after `latency_ms`, and an exporter for it.
async fn slow_host(latency_ms: u64) -> (Simulator, String, Arc<Exporter>) {
    let mut host = HostConfig::numbered(0);
    host.faults.latency = Duration::from_millis(latency_ms);
    let sim = Simulator::builder().host(host).start().await.unwrap();
    let target = sim.endpoints()[0].clone();
    let exporter = in_process(&sim);
    (sim, target, exporter)
}

/// A scrape running on its own task (another requester's).
fn scrape_in_background(
    exporter: &Arc<Exporter>,
    target: &str,
    deadline: Option<Duration>,
) -> tokio::task::JoinHandle<Arc<String>> {
    let (e, t) = (exporter.clone(), target.to_string());
    tokio::spawn(async move { e.scrape(&t, None, deadline).await.unwrap() })
}

fn in_process(sim: &Simulator) -> Arc<Exporter> {
    let _ = sim;
    let factory = Client::builder("")
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .into_factory();
    Arc::new(Exporter::new(
        vec![Module::new("default", factory)],
        SdrCache::default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_kept_scrapes_are_shared_and_deadlines_hold() {
    let mut slow = HostConfig::numbered(1);
    slow.faults.latency = Duration::from_millis(400);
    let sim = Simulator::builder()
        .host(HostConfig::numbered(0))
        .host(slow)
        .start()
        .await
        .unwrap();
    let (fast, slow) = (sim.endpoints()[0].clone(), sim.endpoints()[1].clone());
    let exporter = in_process(&sim);
    // Three scrapes in a row: one NTLM handshake, the connection kept between them.
    for _ in 0..3 {
        let text = exporter.scrape(&fast, None, None).await.unwrap();
        assert!(parse(&text)["ipmi_up{collector=\"ipmi\"}"] == 1.0, "{text}");
    }
    assert_eq!(sim.host(0).ntlm_handshakes(), 1);
    // A scrape that starts once the previous one is answered is never given that finished
    // collection (its entry leaves the in-flight map before the answer goes out).
    for _ in 0..20 {
        exporter.scrape(&fast, None, None).await.unwrap();
    }
    let own = parse(&exporter.own_metrics());
    assert_eq!(own["winrm_ipmi_exporter_shared_scrapes_total{}"], 0.0);
    // Five concurrent scrapes of one target: one collection, four answered from it.
    let scrapes: Vec<_> = (0..5)
        .map(|_| {
            let e = exporter.clone();
            let t = fast.clone();
            tokio::spawn(async move { e.scrape(&t, None, None).await.unwrap() })
        })
        .collect();
    let mut texts = Vec::new();
    for s in scrapes {
        texts.push(s.await.unwrap());
    }
    assert!(
        texts.windows(2).all(|w| w[0] == w[1]),
        "one collection, one answer"
    );
    let own = parse(&exporter.own_metrics());
    assert_eq!(own["winrm_ipmi_exporter_shared_scrapes_total{}"], 4.0);
    assert_eq!(
        own["winrm_ipmi_exporter_scrapes_total{module=\"default\",outcome=\"ok\"}"],
        24.0
    );
    // Prometheus says it waits 1.5 s; the slow host needs longer: the answer comes in time
    // with the collectors not done marked down, and the timeout counted.
    let text = exporter
        .scrape(&slow, None, Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    assert!(
        up(&text).contains(&0.0),
        "a collector not done is marked down: {text}"
    );
    let own = parse(&exporter.own_metrics());
    assert_eq!(
        own["winrm_ipmi_exporter_scrapes_total{module=\"default\",outcome=\"timeout\"}"],
        1.0
    );
    // Unknown module and no target: 400-class errors, before any traffic.
    assert!(exporter.scrape(&fast, Some("nope"), None).await.is_err());
    assert!(exporter.scrape("", None, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_given_up_by_prometheus_finishes_on_its_own() {
    // 30 ms per request: a whole collection takes a few seconds.
    let (_sim, target, exporter) = slow_host(30).await;
    // Prometheus allows 1.5 s, then hangs up after 50 ms (its request is dropped).
    let gone = tokio::time::timeout(
        Duration::from_millis(50),
        exporter.scrape(&target, None, Some(Duration::from_millis(1500))),
    )
    .await;
    assert!(gone.is_err());
    // That collection still ran to its own deadline and left; the next scrape, with time
    // enough, is a fresh collection with every collector up (not the old one resumed late).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let text = exporter.scrape(&target, None, None).await.unwrap();
    let up = up(&text);
    assert_eq!(
        up.len(),
        winrm_ipmi::exporter::Collector::DEFAULT.len(),
        "{text}"
    );
    assert!(up.iter().all(|v| *v == 1.0), "{text}");
    let own = parse(&exporter.own_metrics());
    assert_eq!(
        own["winrm_ipmi_exporter_scrapes_total{module=\"default\",outcome=\"timeout\"}"],
        1.0
    );
    assert_eq!(own["winrm_ipmi_exporter_shared_scrapes_total{}"], 0.0);
}

fn module(name: &str) -> Module {
    Module::new(
        name,
        Client::builder("")
            .credentials("Administrator", Password::new("Sim-Passw0rd!"))
            .into_factory(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_targets_and_limits() {
    use winrm_ipmi::exporter::ScrapeError;
    let sim = Simulator::builder().hosts(3).start().await.unwrap();
    let eps = sim.endpoints();
    // A scrape without module (or with an empty one) uses the module named "default", not
    // the first in order, as ipmi_exporter.
    let mut lab = module("amd_lab");
    lab.collectors = vec![winrm_ipmi::exporter::Collector::Chassis];
    let exporter = Arc::new(
        Exporter::new(vec![lab, module("default")], SdrCache::disabled()).with_max_targets(2),
    );
    for m in [None, Some("")] {
        let text = exporter.scrape(&eps[0], m, None).await.unwrap();
        assert!(text.contains("ipmi_up{collector=\"bmc\"} 1"), "{text}");
    }
    let text = exporter
        .scrape(&eps[0], Some("amd_lab"), None)
        .await
        .unwrap();
    assert!(!text.contains("collector=\"bmc\""), "{text}");
    // Several modules and none named default: a scrape must say which.
    let two = Arc::new(Exporter::new(
        vec![module("a"), module("b")],
        SdrCache::disabled(),
    ));
    let e = two.scrape(&eps[0], None, None).await.unwrap_err();
    assert!(e.to_string().contains("module=NAME"), "{e}");
    // A target is HOST[:PORT]: a URL cannot change the module's transport or take its
    // credentials elsewhere.
    for bad in ["http://127.0.0.1:1", "127.0.0.1:1/wsman", "u@127.0.0.1"] {
        assert!(matches!(
            exporter.scrape(bad, None, None).await,
            Err(ScrapeError::BadTarget(_))
        ));
    }
    // A module's allowed_targets: a target outside them is refused before any traffic.
    let mut locked = module("locked");
    locked.allowed_targets = TargetFilter::parse(&["10.0.0.0/8".into()]).unwrap();
    let mut loopback = module("loopback");
    loopback.allowed_targets =
        TargetFilter::parse(&["127.0.0.0/8".into(), "*.contoso.com".into()]).unwrap();
    let guarded = Arc::new(Exporter::new(vec![locked, loopback], SdrCache::disabled()));
    let handshakes = sim.host(0).ntlm_handshakes();
    assert!(matches!(
        guarded.scrape(&eps[0], Some("locked"), None).await,
        Err(ScrapeError::NotAllowed(_))
    ));
    assert_eq!(sim.host(0).ntlm_handshakes(), handshakes);
    let text = guarded
        .scrape(&eps[0], Some("loopback"), None)
        .await
        .unwrap();
    assert!(text.contains("ipmi_up{collector=\"bmc\"} 1"), "{text}");
    // At most two targets keep a client: the least recently scraped goes.
    exporter.scrape(&eps[1], None, None).await.unwrap();
    exporter.scrape(&eps[2], None, None).await.unwrap();
    let own = parse(&exporter.own_metrics());
    assert_eq!(own["winrm_ipmi_exporter_clients{}"], 2.0);
    // eps[1] was kept: no new handshake; eps[0] was dropped: a new one.
    let before = (sim.host(0).ntlm_handshakes(), sim.host(1).ntlm_handshakes());
    exporter.scrape(&eps[1], None, None).await.unwrap();
    exporter.scrape(&eps[0], None, None).await.unwrap();
    assert_eq!(sim.host(1).ntlm_handshakes(), before.1);
    assert_eq!(sim.host(0).ntlm_handshakes(), before.0 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_joining_a_longer_one_keeps_its_own_deadline() {
    let (_sim, target, exporter) = slow_host(100).await;
    // A scrape with no deadline (curl) runs the module's 20 s; Prometheus' 1.5 s scrape of the
    // same target joins it and still answers within its own limit, its collectors down.
    let long = scrape_in_background(&exporter, &target, None);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let text = exporter
        .scrape(&target, None, Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    assert!(
        !long.is_finished(),
        "answered before the collection it joined ended"
    );
    assert!(up(&text).iter().all(|v| *v == 0.0), "{text}");
    let own = parse(&exporter.own_metrics());
    assert_eq!(own["winrm_ipmi_exporter_shared_scrapes_total{}"], 1.0);
    // The long scrape goes on and completes.
    let full = parse(&long.await.unwrap());
    assert!(full["ipmi_up{collector=\"ipmi\"}"] == 1.0);
}

#[test]
fn running_out_of_file_descriptors_does_not_stop_the_exporter() {
    use std::io::{Read, Write};
    // A hard limit of 64 descriptors (the exporter raises its soft limit to the hard one).
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        &format!(
            "ulimit -n 64 && exec {} -U Administrator exporter --listen 127.0.0.1:0",
            env!("CARGO_BIN_EXE_winrm-ipmi")
        ),
    ])
    .stderr(Stdio::null()); // "accept failed ... retry in" warnings
    let exporter = start_exporter(cmd);
    let port = exporter.port;
    // 200 idle connections: far more than it may open. Accepts fail with EMFILE for a while.
    let idle: Vec<_> = (0..200)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    drop(idle);
    // Once they are gone it serves again.
    let mut body = String::new();
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        if s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .is_ok()
            && s.read_to_string(&mut body).is_ok()
            && body.starts_with("HTTP/1.1 200")
        {
            break;
        }
        body.clear();
    }
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    drop(exporter);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_goes_down_during_the_sensor_reads_is_down_not_nan() {
    // 30 ms per request: 40 sensor reads take more than a second.
    let (sim, target, exporter) = slow_host(30).await;
    // The first scrape reads the sensor records; the second reads only the sensors.
    let first = parse(&exporter.scrape(&target, None, None).await.unwrap());
    assert_eq!(first["ipmi_up{collector=\"ipmi\"}"], 1.0);
    let second = scrape_in_background(&exporter, &target, None);
    tokio::time::sleep(Duration::from_millis(400)).await;
    sim.host(0).go_down();
    let text = second.await.unwrap();
    let s = parse(&text);
    // The collector is down, as ipmi_exporter reports a failed ipmimonitoring, so
    // `ipmi_up == 0` alerts fire; and nothing it read before the host went down is there
    // (no half-written scrape): only each collector's `ipmi_up` and the scrape's duration.
    assert_eq!(s["ipmi_up{collector=\"ipmi\"}"], 0.0, "{text}");
    let sensors = first
        .keys()
        .filter(|k| k.starts_with("ipmi_sensor_") || k.starts_with("ipmi_temperature_"))
        .count();
    assert!(sensors > 10, "the first scrape has the sensors: {first:?}");
    for key in s.keys() {
        assert!(
            key.starts_with("ipmi_up{") || key.starts_with("ipmi_scrape_duration_seconds"),
            "{key} is left from a collector that failed: {text}"
        );
    }
    let own = parse(&exporter.own_metrics());
    assert!(
        own.keys()
            .any(|k| k.starts_with("winrm_ipmi_exporter_collector_errors_total{collector=\"ipmi\"")),
        "{own:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_is_logged_by_target_never_shown() {
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let dir = ScratchDir::new("exporter-log", "refused");
    let log = dir.join("stderr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"));
    cmd.args(["-U", "Administrator", "exporter", "--listen", "127.0.0.1:0"])
        .env("WINRM_PASSWORD", "Wr0ng-S3cret!")
        .stderr(std::fs::File::create(&log).unwrap());
    let exporter = start_exporter(cmd);
    let text = http_get(
        exporter.port,
        &format!("/ipmi?target={}", sim.endpoints()[0]),
    )
    .await;
    assert!(up(&text).iter().all(|v| *v == 0.0), "{text}");
    let own = parse(&http_get(exporter.port, "/metrics").await);
    assert!(own.keys().any(|k| k.contains("kind=\"auth\"")), "{own:?}");
    drop(exporter);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("scrape failed") && logged.contains(&sim.endpoints()[0]),
        "{logged}"
    );
    assert!(!logged.contains("Wr0ng-S3cret!"), "{logged}");
    assert!(!text.contains("Wr0ng-S3cret!") && !own.keys().any(|k| k.contains("S3cret")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_over_tls_with_basic_auth() {
    if !prom::present("exporter over TLS") {
        return;
    }
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let dir = ScratchDir::new("web-tls", "exporter");
    // The exporter's certificate (127.0.0.1 and localhost), and a web config in
    // exporter-toolkit's format: "s3cret" hashed by libxcrypt's bcrypt.
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    std::fs::write(dir.join("exporter.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("exporter.key"), cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(
        dir.join("web.yml"),
        format!(
            "tls_server_config:\n  cert_file: {0}/exporter.crt\n  key_file: {0}/exporter.key\nbasic_auth_users:\n  prometheus: $2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG\n",
            dir.display()
        ),
    )
    .unwrap();
    let exporter = our_exporter(&["--web-config", dir.join("web.yml").to_str().unwrap()]);
    // Plain HTTP to the TLS listener gets no answer in HTTP.
    let plain = http_get(exporter.port, "/metrics").await;
    assert!(!plain.contains("winrm_ipmi_exporter"), "{plain}");
    // Prometheus: one job with the password, one with a wrong one.
    let job = |name: &str, password: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    metrics_path: /ipmi\n    basic_auth: {{username: prometheus, password: {password}}}\n    tls_config: {{ca_file: {}/exporter.crt}}\n    static_configs: [{{targets: ['{}']}}]\n    relabel_configs:\n      - {{source_labels: [__address__], target_label: __param_target}}\n      - {{source_labels: [__param_target], target_label: instance}}\n      - {{target_label: __address__, replacement: '127.0.0.1:{}'}}\n",
            dir.display(),
            sim.endpoints()[0],
            exporter.port
        )
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{}{}",
        job("good", "s3cret"),
        job("bad", "wrong")
    );
    let p = Prometheus::start("tls", &config);
    let start = Instant::now();
    let targets = loop {
        let body = http_get(p.port, "/api/v1/targets").await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let active = v["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if active.len() == 2 && active.iter().all(|t| t["health"] != "unknown") {
            break active;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{body}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for t in &targets {
        match t["labels"]["job"].as_str() {
            Some("good") => assert_eq!(t["health"], "up", "{t}"),
            Some("bad") => {
                assert_eq!(t["health"], "down", "{t}");
                assert!(t["lastError"].as_str().unwrap().contains("401"), "{t}");
            }
            other => panic!("{other:?}"),
        }
    }
    let up = p.query("ipmi_up{job=\"good\",collector=\"ipmi\"}").await;
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].1, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_does_not_join_one_cut_shorter_than_itself() {
    let (_sim, target, exporter) = slow_host(30).await;
    // Someone scrapes with a 1 s deadline; Prometheus' own scrape (no tighter limit) comes
    // while it runs. It gets its own, whole collection, not the one cut short.
    let short = scrape_in_background(&exporter, &target, Some(Duration::from_secs(1)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = exporter.scrape(&target, None, None).await.unwrap();
    assert!(up(&text).iter().all(|v| *v == 1.0), "{text}");
    assert!(up(&short.await.unwrap()).contains(&0.0));
    let own = parse(&exporter.own_metrics());
    assert_eq!(own["winrm_ipmi_exporter_shared_scrapes_total{}"], 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensor_record_download_outlives_the_scrape_that_started_it() {
    // 50 ms per request: the 40 sensor records take seconds to read, more than a 1.5 s scrape.
    let (_sim, target, exporter) = slow_host(50).await;
    let text = exporter
        .scrape(&target, None, Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    assert_eq!(parse(&text)["ipmi_up{collector=\"ipmi\"}"], 0.0, "{text}");
    // The download goes on without it and lands in the cache, once.
    let start = Instant::now();
    loop {
        let own = parse(&exporter.own_metrics());
        if own.get("winrm_ipmi_exporter_sdr_cache_total{outcome=\"read\"}") == Some(&1.0) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{own:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The next scrape reads the sensors only.
    let text = exporter.scrape(&target, None, None).await.unwrap();
    assert_eq!(parse(&text)["ipmi_up{collector=\"ipmi\"}"], 1.0, "{text}");
    let own = parse(&exporter.own_metrics());
    assert_eq!(
        own["winrm_ipmi_exporter_sdr_cache_total{outcome=\"read\"}"],
        1.0
    );
    assert_eq!(
        own["winrm_ipmi_exporter_sdr_cache_total{outcome=\"memory\"}"],
        1.0
    );
}
