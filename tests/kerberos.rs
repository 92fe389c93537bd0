//! Kerberos against independent peers: a throwaway MIT KDC (tests/common/kdc.rs) and the
//! Python WinRM peer with pyspnego's negotiate acceptor (tests/peers/winrm_server.py
//! `--kerberos 1`, the service keytab in KRB5_KTNAME). The client is the `winrm-ipmi` binary,
//! each run with its own Kerberos environment (krb5.conf, ccache, client keytab), as an admin
//! runs it: after kinit, from a keytab, with a password; sealed both ways; every failure an
//! admin meets with its own error. And pywinrm (transport="kerberos") against our simulator
//! with a keytab (`sim --keytab`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::kdc::{self, ALICE, Kdc};
use common::{PeerProcess, ScratchDir};

/// The Python WinRM peer, accepting Kerberos with `keytab` (and NTLM for TESTDOM\alice).
struct Peer {
    process: PeerProcess,
    port: u16,
}

impl Peer {
    fn start(py: &Path, kdc: &Kdc, name: &str, keytab: &str, opts: &[&str]) -> Peer {
        let dir = ScratchDir::new("krbpeer", name);
        std::fs::write(
            dir.join("users"),
            "TESTDOM:alice:Passw0rd!\n:alice@WINRM.TEST:Passw0rd!\n",
        )
        .unwrap();
        let portfile = dir.join("port");
        let mut command = Command::new(py);
        command
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/winrm_server.py"
            ))
            .arg(&portfile)
            .arg(dir.join("log.jsonl"))
            .args(["--kerberos", "1"])
            .args(opts)
            .env("NTLM_USER_FILE", dir.join("users"))
            .env("KRB5_CONFIG", kdc.path("krb5.conf"))
            .env(
                "KRB5_KTNAME",
                format!("FILE:{}", kdc.path(keytab).display()),
            )
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", dir.join("peer-ccache").display()),
            );
        let process = PeerProcess::spawn(command, dir);
        let port = common::wait_for_file(&portfile, "the peer")
            .trim()
            .parse()
            .unwrap();
        Peer { process, port }
    }

    fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.process.dir.join("log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.log()
            .into_iter()
            .filter(|v| v["event"] == event)
            .collect()
    }

    /// Every request with a body went sealed.
    fn assert_nothing_in_clear(&self) {
        for r in self.log().iter().filter(|v| v.get("event").is_none()) {
            if r["length"].as_u64().unwrap() > 0 {
                assert_eq!(r["sealed"], true, "a body went out in clear: {r}");
            }
        }
    }

    fn certificate_sha256(&self) -> String {
        let pem = std::fs::read_to_string(self.process.dir.join("port.cert.pem")).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        use sha2::Digest;
        common::hex(&sha2::Sha256::digest(der))
    }
}

/// The realm and the Python peer, or SKIP.
fn setup(name: &str) -> Option<(Kdc, PathBuf)> {
    let py = common::python_with("gssapi", name)?;
    if !kdc::present(name) {
        return None;
    }
    Some((Kdc::start(name), py))
}

/// Runs `winrm-ipmi ARGS` with the realm's environment, `ccache` as its ticket cache, and
/// `env` on top (nothing inherited that names a password).
fn cli(kdc: &Kdc, ccache: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"));
    cmd.args(args)
        .env_remove("WINRM_PASSWORD")
        .env_remove("WINRM_USER")
        .envs(kdc.env(ccache))
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn host(peer: &Peer) -> String {
    format!("localhost:{}", peer.port)
}

fn assert_device_id(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
    // The peer's BMC answers with ipmi_sim's Device ID: manufacturer 4753.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Device ID") && out.contains("4753"),
        "{}",
        text(o)
    );
}

#[test]
fn kinit_ticket_then_no_password_sealed_both_ways() {
    let Some((kdc, py)) = setup("kinit") else {
        return;
    };
    let peer = Peer::start(&py, &kdc, "kinit", "service.keytab", &[]);
    kdc.kinit("alice", ALICE.1, "cc-alice", &[]);
    // No -U, no password: the ticket's principal is used.
    let o = cli(
        &kdc,
        "cc-alice",
        &[],
        &["--auth", "kerberos", "-H", &host(&peer), "mc", "info"],
    );
    assert_device_id(&o);
    let auth = peer.events("authenticated");
    assert_eq!(auth.len(), 1, "{auth:?}");
    assert_eq!(auth[0]["protocol"], "kerberos");
    assert_eq!(auth[0]["principal"], "alice@WINRM.TEST");
    // Enumerate and RequestResponse went sealed, and the replies were unsealed by us.
    peer.assert_nothing_in_clear();
    let sealed = peer.log().iter().filter(|r| r["sealed"] == true).count();
    assert!(sealed >= 2, "{:?}", peer.log());
}

#[test]
fn negotiate_is_the_default_and_prefers_the_ticket() {
    let Some((kdc, py)) = setup("negotiate") else {
        return;
    };
    let peer = Peer::start(&py, &kdc, "negotiate", "service.keytab", &[]);
    kdc.kinit("alice", ALICE.1, "cc-neg", &[]);
    let o = cli(&kdc, "cc-neg", &[], &["-H", &host(&peer), "mc", "info"]);
    assert_device_id(&o);
    assert_eq!(peer.events("authenticated")[0]["protocol"], "kerberos");
}

#[test]
fn a_client_keytab_logs_on_without_a_password() {
    let Some((kdc, py)) = setup("keytab") else {
        return;
    };
    let peer = Peer::start(&py, &kdc, "keytab", "service.keytab", &[]);
    let keytab = format!("FILE:{}", kdc.path("client.keytab").display());
    let o = cli(
        &kdc,
        "cc-keytab",
        &[("KRB5_CLIENT_KTNAME", &keytab)],
        &["--auth", "kerberos", "-H", &host(&peer), "mc", "info"],
    );
    assert_device_id(&o);
    assert_eq!(
        peer.events("authenticated")[0]["principal"],
        "svc@WINRM.TEST"
    );
}

#[test]
fn a_password_gets_tickets_without_touching_the_ccache() {
    let Some((kdc, py)) = setup("password") else {
        return;
    };
    let peer = Peer::start(&py, &kdc, "password", "service.keytab", &[]);
    let o = cli(
        &kdc,
        "cc-untouched",
        &[("WINRM_PASSWORD", ALICE.1)],
        &[
            "--auth",
            "kerberos",
            "-U",
            "alice@winrm.test",
            "-H",
            &host(&peer),
            "mc",
            "info",
        ],
    );
    assert_device_id(&o);
    assert_eq!(
        peer.events("authenticated")[0]["principal"],
        "alice@WINRM.TEST"
    );
    // CORP\alice: alice in the default realm.
    let o = cli(
        &kdc,
        "cc-untouched",
        &[("WINRM_PASSWORD", ALICE.1)],
        &[
            "--auth",
            "kerberos",
            "-U",
            "WINRM\\alice",
            "-H",
            &host(&peer),
            "mc",
            "info",
        ],
    );
    assert_device_id(&o);
    assert_eq!(
        peer.events("authenticated")[1]["principal"],
        "alice@WINRM.TEST"
    );
    assert!(
        !kdc.path("cc-untouched").exists(),
        "the user's ccache was written"
    );
    // The password never shows.
    assert!(!text(&o).contains(ALICE.1));
}

#[test]
fn each_failure_says_what_to_do() {
    let Some((kdc, py)) = setup("failures") else {
        return;
    };
    let peer = Peer::start(&py, &kdc, "failures", "service.keytab", &[]);
    let h = host(&peer);
    let kerberos = |ccache: &str, env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["--auth", "kerberos", "-H", &h];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["mc", "info"]);
        let o = cli(&kdc, ccache, env, &args);
        assert!(!o.status.success(), "{ccache}: {}", text(&o));
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    // No ticket at all.
    let e = kerberos("cc-empty", &[], &[]);
    assert!(
        e.contains("no Kerberos ticket") && e.contains("kinit"),
        "{e}"
    );
    // A service principal the KDC does not know.
    kdc.kinit("alice", ALICE.1, "cc-spn", &[]);
    let e = kerberos("cc-spn", &[], &["--spn", "HTTP/nosuch.winrm.test"]);
    assert!(
        e.contains("does not know the service principal HTTP/nosuch.winrm.test")
            && e.contains("--spn"),
        "{e}"
    );
    // A wrong password.
    let e = kerberos(
        "cc-wrong",
        &[("WINRM_PASSWORD", "not-it")],
        &["-U", "alice@WINRM.TEST"],
    );
    assert!(e.contains("wrong password"), "{e}");
    assert!(!e.contains("not-it"), "{e}");
    // The KDC unreachable (krb5.conf names a closed port), and a client that permits only an
    // encryption type the KDC has no key of.
    let conf = std::fs::read_to_string(kdc.path("krb5.conf")).unwrap();
    let variant = |name: &str, text: String| {
        let path = kdc.path(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let dead = variant(
        "krb5-dead.conf",
        conf.replace(&format!("127.0.0.1:{}", kdc.port), "127.0.0.1:1"),
    );
    let camellia = variant(
        "krb5-camellia.conf",
        conf.replace(
            "[libdefaults]\n",
            "[libdefaults]\n  permitted_enctypes = camellia256-cts-cmac\n",
        ),
    );
    let password = ("WINRM_PASSWORD", ALICE.1);
    let e = kerberos(
        "cc-dead",
        &[("KRB5_CONFIG", &dead), password],
        &["-U", "alice@WINRM.TEST"],
    );
    assert!(
        e.contains("no KDC reachable") && e.contains("krb5.conf"),
        "{e}"
    );
    let e = kerberos(
        "cc-camellia",
        &[("KRB5_CONFIG", &camellia), password],
        &["-U", "alice@WINRM.TEST"],
    );
    assert!(e.contains("encryption type not supported"), "{e}");
    // Time moved on (libfaketime): a ticket from kinit (10 hours) eleven hours later has
    // expired; two hours later the ticket is valid but the clocks disagree, and the KDC
    // refuses the service-ticket request. (A password login would not show the skew: MIT's
    // kdc_timesync corrects the offset from the KDC's first reply.)
    if let Some(faketime) = faketime() {
        let lib = faketime.display().to_string();
        let later = |offset: &'static str| {
            [
                ("LD_PRELOAD", lib.clone()),
                ("FAKETIME", offset.to_string()),
                ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_string()),
            ]
        };
        kdc.kinit("alice", ALICE.1, "cc-expired", &[]);
        let env = later("+11h");
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let e = kerberos("cc-expired", &env, &[]);
        assert!(e.contains("expired") && e.contains("kinit"), "{e}");
        kdc.kinit("alice", ALICE.1, "cc-skew", &[]);
        let env = later("+2h");
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let e = kerberos("cc-skew", &env, &[]);
        assert!(e.contains("clock skew"), "{e}");
    }
}

fn faketime() -> Option<PathBuf> {
    let lib = PathBuf::from("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
    if lib.exists() {
        return Some(lib);
    }
    let why = "clock skew: libfaketime is not installed; run scripts/peers.sh (as root)";
    common::peer_missing(why);
    None
}

#[test]
fn a_tampered_sealed_reply_is_refused() {
    let Some((kdc, py)) = setup("tamper") else {
        return;
    };
    let peer = Peer::start(
        &py,
        &kdc,
        "tamper",
        "service.keytab",
        &["--tamper-reply", "1"],
    );
    kdc.kinit("alice", ALICE.1, "cc-tamper", &[]);
    let o = cli(
        &kdc,
        "cc-tamper",
        &[],
        &["--auth", "kerberos", "-H", &host(&peer), "mc", "info"],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("does not verify"), "{e}");
}

#[test]
fn a_sealed_reply_with_a_short_header_is_refused_before_the_library_sees_it() {
    let Some((kdc, py)) = setup("shorthdr") else {
        return;
    };
    kdc.kinit("alice", ALICE.1, "cc-shorthdr", &[]);
    for n in ["0", "8"] {
        let peer = Peer::start(
            &py,
            &kdc,
            &format!("shorthdr{n}"),
            "service.keytab",
            &["--short-header", n],
        );
        let o = cli(
            &kdc,
            "cc-shorthdr",
            &[],
            &["--auth", "kerberos", "-H", &host(&peer), "mc", "info"],
        );
        assert!(!o.status.success(), "{}", text(&o));
        let e = String::from_utf8_lossy(&o.stderr);
        // The framing knows the context's header length and refuses any other.
        assert!(
            e.contains(&format!("signature length {n}, expected")),
            "{e}"
        );
        assert!(e.contains(&host(&peer)), "{e}");
    }
}

#[test]
fn a_server_that_does_not_prove_itself_is_refused() {
    let Some((kdc, py)) = setup("mutual") else {
        return;
    };
    let peer = Peer::start(&py, &kdc, "mutual", "service.keytab", &["--no-mutual", "1"]);
    kdc.kinit("alice", ALICE.1, "cc-mutual", &[]);
    let o = cli(
        &kdc,
        "cc-mutual",
        &[],
        &["--auth", "kerberos", "-H", &host(&peer), "mc", "info"],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("mutual-authentication token"), "{e}");
    // Nothing but the authentication POST was sent.
    assert!(
        peer.log()
            .iter()
            .all(|r| r["length"] == 0 || r.get("event").is_some())
    );
}

#[test]
fn https_binds_the_ticket_to_the_tls_channel() {
    let Some((kdc, py)) = setup("https") else {
        return;
    };
    kdc.kinit("alice", ALICE.1, "cc-https", &[]);
    let run = |opts: &[&str]| {
        let peer = Peer::start(&py, &kdc, "https", "service.keytab", opts);
        let pin = peer.certificate_sha256();
        let o = cli(
            &kdc,
            "cc-https",
            &[],
            &[
                "--auth",
                "kerberos",
                "--transport",
                "https",
                "--thumbprint",
                &pin,
                "--spn",
                "HTTP/localhost",
                "-H",
                &format!("127.0.0.1:{}", peer.port),
                "mc",
                "info",
            ],
        );
        (o, peer.log())
    };
    let (o, log) = run(&["--tls", "256"]);
    assert_device_id(&o);
    // Over TLS, bodies are not sealed.
    assert!(log.iter().all(|r| r["sealed"] != true), "{log:?}");
    // A service that expects another certificate's binding refuses ours.
    let (o, log) = run(&["--tls", "256", "--cbt-mismatch", "1"]);
    assert!(!o.status.success(), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("refused the Kerberos ticket") && e.contains("channel binding"),
        "{e}"
    );
    assert!(log.iter().any(|r| r["event"] == "auth-failed"), "{log:?}");
}

#[test]
fn negotiate_falls_back_to_ntlm() {
    let Some((kdc, py)) = setup("fallback") else {
        return;
    };
    // The service has no key for HTTP/localhost: it refuses the Kerberos ticket with a bare
    // 401. Once a ticket has gone out that is a refusal, never NTLM with the password (anyone
    // on the path could send the bare 401; Windows clients report 0x80090322 and stop).
    let peer = Peer::start(&py, &kdc, "fallback", "other.keytab", &[]);
    kdc.kinit("alice", ALICE.1, "cc-fallback", &[]);
    let o = cli(
        &kdc,
        "cc-fallback",
        &[("WINRM_PASSWORD", ALICE.1)],
        &["-U", "TESTDOM\\alice", "-H", &host(&peer), "mc", "info"],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("Kerberos"), "{e}");
    let log = peer.log();
    assert!(log.iter().any(|r| r["event"] == "auth-failed"), "{log:?}");
    assert!(peer.events("authenticated").is_empty(), "{log:?}");
    // Where Kerberos is impossible (an SPN the KDC does not know: an IP address), NTLM at once.
    let peer = Peer::start(&py, &kdc, "fallback-ip", "service.keytab", &[]);
    let o = cli(
        &kdc,
        "cc-fallback-ip",
        &[("WINRM_PASSWORD", ALICE.1)],
        &[
            "-U",
            "alice@WINRM.TEST",
            "-H",
            &format!("127.0.0.1:{}", peer.port),
            "mc",
            "info",
        ],
    );
    assert_device_id(&o);
    let log = peer.log();
    assert!(log.iter().all(|r| r["event"] != "auth-failed"), "{log:?}");
    assert_eq!(
        peer.events("authenticated")[0]["protocol"],
        "ntlm",
        "{log:?}"
    );
    assert!(
        kdc.log().contains("HTTP/127.0.0.1"),
        "the KDC was asked for the IP's SPN"
    );
}

/// `winrm-ipmi sim --keytab` with the realm's environment; returns it and its endpoint.
fn sim_with_keytab(kdc: &Kdc, name: &str) -> (Child, String) {
    let endpoints = kdc.path(&format!("{name}.endpoints"));
    let child = Command::new(env!("CARGO_BIN_EXE_winrm-ipmi"))
        .args(["sim", "--port", "0", "--keytab"])
        .arg(kdc.path("service.keytab"))
        .arg("--endpoints-file")
        .arg(&endpoints)
        .envs(kdc.env("sim-ccache"))
        .stdout(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let endpoint = common::wait_for_file(&endpoints, "the simulator")
        .lines()
        .next()
        .unwrap()
        .to_string();
    let port = endpoint.rsplit(':').next().unwrap().to_string();
    (child, format!("localhost:{port}"))
}

#[test]
fn our_client_against_the_simulator_with_a_keytab() {
    let Some((kdc, _)) = setup("sim") else { return };
    let (mut sim, host) = sim_with_keytab(&kdc, "sim");
    kdc.kinit(kdc::ADMINISTRATOR.0, kdc::ADMINISTRATOR.1, "cc-sim", &[]);
    let o = cli(
        &kdc,
        "cc-sim",
        &[],
        &["--auth", "kerberos", "-H", &host, "lan", "print"],
    );
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("MAC Address"),
        "{}",
        text(&o)
    );
}

#[test]
fn pywinrm_kerberos_against_the_simulator_with_a_keytab() {
    let Some((kdc, py)) = setup("pywinrm") else {
        return;
    };
    if common::python_with("kerberos", "pywinrm kerberos (pykerberos)").is_none() {
        return;
    }
    let (mut sim, host) = sim_with_keytab(&kdc, "pywinrm");
    kdc.kinit(
        kdc::ADMINISTRATOR.0,
        kdc::ADMINISTRATOR.1,
        "cc-pywinrm",
        &[],
    );
    let out = Command::new(&py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/pywinrm_client.py"
        ))
        .args([&format!("http://{host}/wsman"), "-", "-", "kerberos"])
        .envs(kdc.env("cc-pywinrm"))
        .output()
        .unwrap();
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(
        out.status.success(),
        "pywinrm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["completion_code"], 0);
    // The simulated BMC's Device ID (device 20h).
    assert_eq!(v["data"][1], 0x20);
}
