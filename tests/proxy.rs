//! Through a real HTTP proxy (Debian's tinyproxy, started on loopback): NTLM's handshake and
//! every sealed request over one CONNECT tunnel, to our simulator over HTTP and to the
//! independent Python WinRM peer over HTTPS (pinning and channel bindings to the target's
//! certificate, inside the tunnel); proxy authentication and 407; NO_PROXY; failures that say
//! whether the proxy or the target failed. The proxy's own log shows what passed it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{PeerProcess, ScratchDir, tinyproxy};
use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::{self, app::GetDeviceId};
use winrm_ipmi::sim::Simulator;
use winrm_ipmi::transport::proxy::{NoProxy, Proxy};
use winrm_ipmi::{Client, ErrorKind};

fn through(endpoint: &str, proxy: Proxy) -> Client {
    Client::builder(endpoint)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .proxy(proxy, NoProxy::default())
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntlm_and_sealed_requests_go_through_one_tunnel() {
    if !tinyproxy::present("ntlm_through_one_tunnel") {
        return;
    }
    let proxy = tinyproxy::start("tunnel", None);
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = sim.endpoints()[0].clone();
    let client = through(&ep, Proxy::parse(&proxy.url()).unwrap());
    let bmc = client.ipmi().await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
            0x20
        );
    }
    // One tunnel carried the NTLM handshake and all four sealed requests.
    assert_eq!(proxy.connects_to(&ep), 1, "{}", proxy.log());
    assert_eq!(client.requests_sent(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_pin_and_channel_bindings_inside_the_tunnel() {
    let Some(py) = common::python_with("spnego", "https through the proxy") else {
        return;
    };
    if !tinyproxy::present("https through the proxy") {
        return;
    }
    let proxy = tinyproxy::start("https", None);
    // The independent WinRM peer over TLS, requiring channel bindings to its certificate.
    let dir = ScratchDir::new("proxy", "https");
    std::fs::write(dir.join("users"), "TESTDOM:alice:Passw0rd!\n").unwrap();
    let portfile = dir.join("port");
    let mut command = Command::new(&py);
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/winrm_server.py"
        ))
        .arg(&portfile)
        .arg(dir.join("log.jsonl"))
        .args(["--tls", "256"])
        .env("NTLM_USER_FILE", dir.join("users"));
    let peer = PeerProcess::spawn(command, dir);
    let port: u16 = common::wait_for_file(&portfile, "the WinRM peer")
        .trim()
        .parse()
        .unwrap();
    let pem = std::fs::read_to_string(peer.dir.join("port.cert.pem")).unwrap();
    let der = rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).unwrap();
    let pin =
        winrm_ipmi::transport::tls::thumbprint(rustls_pki_types::CertificateDer::as_ref(&der));
    let client = Client::builder(&format!("https://127.0.0.1:{port}/wsman"))
        .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
        .thumbprint(&pin)
        .unwrap()
        .proxy(Proxy::parse(&proxy.url()).unwrap(), NoProxy::default())
        .build()
        .unwrap();
    let result = async {
        let bmc = client.ipmi().await?;
        ipmi::execute(&bmc, GetDeviceId).await
    }
    .await;
    drop(peer);
    assert_eq!(result.unwrap().firmware_revision(), "9.08");
    assert_eq!(
        proxy.connects_to(&format!("127.0.0.1:{port}")),
        1,
        "{}",
        proxy.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_authentication_and_its_refusals() {
    if !tinyproxy::present("proxy authentication") {
        return;
    }
    let proxy = tinyproxy::start("auth", Some(("proxyuser", "Pr0xy-Secret")));
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = sim.endpoints()[0].clone();
    let bare = Proxy::parse(&proxy.url()).unwrap();

    let e = through(&ep, bare.clone()).ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("requires authentication"), "{e}");
    assert!(e.to_string().contains("(HTTP 407)"), "{e}");
    assert!(
        e.to_string().contains(&proxy.url()) && e.to_string().contains(&ep),
        "{e}"
    );

    let wrong = bare
        .clone()
        .with_credentials("proxyuser", &Password::new("nope-nope"));
    let e = through(&ep, wrong).ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("refused our credentials"), "{e}");

    let right = bare.with_credentials("proxyuser", &Password::new("Pr0xy-Secret"));
    let client = through(&ep, right);
    assert!(!format!("{client:?}").contains("Pr0xy-Secret"));
    let bmc = client.ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
        0x20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_whether_the_proxy_or_the_target_failed() {
    if !tinyproxy::present("proxy failures") {
        return;
    }
    // No proxy listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = through(
        "127.0.0.1:5985",
        Proxy::parse(&format!("127.0.0.1:{closed_port}")).unwrap(),
    )
    .ipmi()
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(e.to_string().contains("cannot connect to the proxy"), "{e}");
    // The proxy is there; the target is not.
    let proxy = tinyproxy::start("failures", None);
    let e = through(
        &format!("127.0.0.1:{closed_port}"),
        Proxy::parse(&proxy.url()).unwrap(),
    )
    .ipmi()
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("the proxy could not reach the target")
            || text.contains("the proxy refused to open a tunnel"),
        "{text}"
    );
    assert!(text.contains(&format!("127.0.0.1:{closed_port}")), "{text}");
}

/// The CLI reads the environment as curl does; NO_PROXY bypasses the proxy; --no-proxy ignores
/// the environment; --proxy-user takes its password from WINRM_PROXY_PASSWORD, never argv.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reads_the_environment_and_no_proxy() {
    if !tinyproxy::present("proxy environment") {
        return;
    }
    let proxy = tinyproxy::start("env", Some(("proxyuser", "Pr0xy-Secret")));
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = sim.endpoints()[0].clone();
    let url = proxy.url();
    let run = move |env: Vec<(&'static str, String)>, extra: Vec<String>| {
        let ep = ep.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut cmd = assert_cmd::Command::cargo_bin("winrm-ipmi").unwrap();
                for v in [
                    "http_proxy",
                    "HTTP_PROXY",
                    "https_proxy",
                    "HTTPS_PROXY",
                    "no_proxy",
                    "NO_PROXY",
                ] {
                    cmd.env_remove(v);
                }
                cmd.env("WINRM_PASSWORD", "Sim-Passw0rd!")
                    .envs(env)
                    .args(["-U", "Administrator", "-H", &ep])
                    .args(extra)
                    .args(["mc", "info"])
                    .timeout(Duration::from_secs(30))
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let target = sim.endpoints()[0].clone();
    // HTTP_PROXY with a Basic password in the environment (not argv): through the proxy.
    let with_creds = url.replace("http://", "http://proxyuser:Pr0xy-Secret@");
    let none = Vec::<String>::new;
    let out = run(vec![("HTTP_PROXY", with_creds.clone())], none()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(proxy.connects_to(&target), 1, "{}", proxy.log());
    // NO_PROXY names the target: direct.
    let out = run(
        vec![
            ("HTTP_PROXY", with_creds.clone()),
            ("NO_PROXY", "localhost,127.0.0.1".into()),
        ],
        none(),
    )
    .await;
    assert!(out.status.success());
    assert_eq!(proxy.connects_to(&target), 1);
    // --no-proxy: direct.
    let out = run(
        vec![("HTTP_PROXY", with_creds.clone())],
        vec!["--no-proxy".into()],
    )
    .await;
    assert!(out.status.success());
    assert_eq!(proxy.connects_to(&target), 1);
    // --proxy with --proxy-user and WINRM_PROXY_PASSWORD.
    let out = run(
        vec![("WINRM_PROXY_PASSWORD", "Pr0xy-Secret".into())],
        vec![
            "--proxy".into(),
            url.clone(),
            "--proxy-user".into(),
            "proxyuser".into(),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(proxy.connects_to(&target), 2);
    // A password in --proxy is refused before any traffic; a 407 is a clear error.
    let out = run(vec![], vec!["--proxy".into(), with_creds]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("must not carry a password") && !err.contains("Pr0xy-Secret"),
        "{err}"
    );
    let out = run(vec![], vec!["--proxy".into(), url.clone()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 407"));
}
