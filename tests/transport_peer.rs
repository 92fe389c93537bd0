//! The client over real HTTP against an independent WinRM service (tests/peers/winrm_server.py:
//! pyspnego's NTLM acceptor and wrap/unwrap, framing written separately from ours), with NTLM and
//! message encryption. Checks connection affinity and what went over the wire.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{PeerProcess, ScratchDir, python_with};
use winrm_ipmi::auth::{Flow, Password};
use winrm_ipmi::ipmi::app::GetDeviceId;
use winrm_ipmi::ipmi::{self, CompletionCode, IpmiError, NetFn, RawRequest};
use winrm_ipmi::{Client, Error, ErrorKind};

struct Server {
    process: PeerProcess,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(python: &std::path::Path, name: &str, opts: &[&str]) -> Server {
        let dir = ScratchDir::new("peer", name);
        let users = dir.join("users");
        std::fs::write(&users, "TESTDOM:alice:Passw0rd!\n").unwrap();
        let (portfile, log) = (dir.join("port"), dir.join("log.jsonl"));
        let mut command = Command::new(python);
        command
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/winrm_server.py"
            ))
            .arg(&portfile)
            .arg(&log)
            .args(opts)
            .env("NTLM_USER_FILE", &users);
        let process = PeerProcess::spawn(command, dir);
        let port = common::wait_for_file(&portfile, "the server")
            .trim()
            .parse()
            .unwrap();
        Server { process, port, log }
    }

    fn client(&self, password: &str) -> Client {
        self.client_with(password, Flow::default())
    }

    fn client_with(&self, password: &str, flow: Flow) -> Client {
        Client::builder(&format!("127.0.0.1:{}", self.port))
            .credentials("TESTDOM\\alice", Password::new(password))
            .auth_flow(flow)
            .build()
            .unwrap()
    }

    /// Every log line: requests and events.
    fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect()
    }

    /// The logged requests (not the events).
    fn requests(&self) -> Vec<serde_json::Value> {
        let mut all = self.log();
        all.retain(|v| v.get("event").is_none());
        all
    }
}

/// The connections the requests came on, in order.
fn connections(reqs: &[serde_json::Value]) -> std::collections::BTreeSet<u64> {
    reqs.iter().map(|r| r["conn"].as_u64().unwrap()).collect()
}

fn assert_nothing_in_clear(reqs: &[serde_json::Value]) {
    for r in reqs {
        if r["length"].as_u64().unwrap() > 0 {
            assert_eq!(r["sealed"], true, "a body went out in clear: {r}");
        }
    }
}

#[tokio::test]
async fn ipmi_over_http_with_ntlm_and_encryption() {
    let Some(py) = python_with("spnego", "ipmi_over_http_with_ntlm_and_encryption") else {
        return;
    };
    let server = Server::start(&py, "happy", &[]);
    let client = server.client_with("Passw0rd!", Flow::Piggyback);
    let bmc = client.ipmi().await.unwrap();
    assert_eq!(bmc.instance().instance_name, "ROOT\\SYSTEM\\0001_0");
    assert_eq!(bmc.instance().bmc_address, 0x20);
    for _ in 0..3 {
        let id = ipmi::execute(&bmc, GetDeviceId).await.unwrap();
        assert_eq!(id.firmware_revision(), "9.08");
        assert_eq!(id.manufacturer_id, 4753);
    }
    // An invalid command comes back as the BMC's completion code.
    let r = bmc
        .raw(RawRequest::new(NetFn::App, 0x04, vec![]).unwrap())
        .await
        .unwrap();
    assert_eq!(r.completion, CompletionCode::InvalidCommand);
    match ipmi::execute(&bmc, winrm_ipmi::ipmi::app::GetSystemGuid).await {
        Err(
            e @ Error::Ipmi {
                source: IpmiError::Completion { code, .. },
                ..
            },
        ) => {
            assert_eq!(code, CompletionCode::InvalidCommand);
            // The BMC's refusal names the host whose BMC it is.
            assert!(e.to_string().contains(&client.endpoint()), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // A fault comes back sealed with HTTP 500 and is decrypted, then parsed.
    let e = client
        .get(
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fault, "{e}");
    assert!(e.to_string().contains("ActionNotSupported"), "{e}");

    let reqs = server.requests();
    // One connection, authenticated once: NEGOTIATE on an empty POST, AUTHENTICATE with the first
    // (already sealed) body, then sealed bodies without Authorization.
    assert!(reqs.iter().all(|r| r["conn"] == 1), "{reqs:?}");
    assert_eq!(reqs[0]["auth"], "Negotiate");
    assert_eq!(reqs[0]["length"], 0);
    assert_eq!(reqs[1]["auth"], "Negotiate");
    assert_eq!(reqs[1]["sealed"], true);
    assert!(
        reqs[2..]
            .iter()
            .all(|r| r["auth"] == "" && r["sealed"] == true),
        "{reqs:?}"
    );
    // NEGOTIATE, AUTHENTICATE+Enumerate, 3 Get Device ID, the C1h request, Get System GUID, the Get.
    assert_eq!(reqs.len(), 8);
    assert_nothing_in_clear(&reqs);
}

/// The default: AUTHENTICATE on an empty POST answered 200, as every captured client does; then
/// sealed requests without Authorization, on the same connection.
#[tokio::test]
async fn the_captured_flow_is_the_default() {
    let Some(py) = python_with("spnego", "the_captured_flow_is_the_default") else {
        return;
    };
    let server = Server::start(&py, "captured", &["--close-every", "3"]);
    let client = server.client("Passw0rd!");
    let bmc = client.ipmi().await.unwrap();
    for _ in 0..4 {
        assert_eq!(
            ipmi::execute(&bmc, GetDeviceId).await.unwrap().product_id,
            0x0f02
        );
    }
    let reqs = server.requests();
    // 5 sealed requests (enumerate + 4), the server closing after every third reply: two
    // connections, each NEGOTIATE (empty), AUTHENTICATE (empty), then sealed bodies only.
    assert_eq!(
        reqs.iter().filter(|r| r["sealed"] == true).count(),
        5,
        "{reqs:?}"
    );
    let conns = connections(&reqs);
    assert_eq!(conns.len(), 2, "{reqs:?}");
    for c in conns {
        let on: Vec<_> = reqs.iter().filter(|r| r["conn"] == c).collect();
        assert_eq!(
            (&on[0]["auth"], &on[0]["length"]),
            (&"Negotiate".into(), &0.into())
        );
        assert_eq!(
            (&on[1]["auth"], &on[1]["length"]),
            (&"Negotiate".into(), &0.into())
        );
        assert!(
            on[2..]
                .iter()
                .all(|r| r["auth"] == "" && r["sealed"] == true),
            "{on:?}"
        );
    }
    assert_nothing_in_clear(&reqs);
}

/// A server that refuses AUTHENTICATE on the first sealed request: the client asked for the
/// piggybacked flow, is refused (nothing processed), and authenticates again the captured way;
/// the envelope is processed once.
#[tokio::test]
async fn a_refused_piggyback_falls_back_to_the_captured_flow() {
    let Some(py) = python_with("spnego", "a_refused_piggyback_falls_back") else {
        return;
    };
    let server = Server::start(&py, "nopiggy", &["--refuse-piggyback", "1"]);
    let client = server.client_with("Passw0rd!", Flow::Piggyback);
    let bmc = client.ipmi().await.unwrap();
    assert_eq!(ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id, 0);
    let all = server.log();
    assert_eq!(
        all.iter()
            .filter(|v| v["event"] == "refused-piggyback")
            .count(),
        1,
        "{all:?}"
    );
    let reqs = server.requests();
    // Connection 1: NEGOTIATE, AUTHENTICATE + sealed Enumerate (refused). Connection 2:
    // NEGOTIATE, AUTHENTICATE (empty), the Enumerate and Get Device ID sealed.
    let second: Vec<_> = reqs.iter().filter(|r| r["conn"] == 2).collect();
    assert_eq!(second.len(), 4, "{reqs:?}");
    assert_eq!(second[1]["length"], 0);
    assert!(
        second[2..]
            .iter()
            .all(|r| r["sealed"] == true && r["auth"] == "")
    );
    assert_nothing_in_clear(&reqs);
}

#[tokio::test]
async fn wrong_password_is_an_auth_error() {
    let Some(py) = python_with("spnego", "wrong_password_is_an_auth_error") else {
        return;
    };
    let server = Server::start(&py, "badpw", &[]);
    let e = server.client("nope").ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(
        e.to_string()
            .contains("refused the credentials for TESTDOM\\alice"),
        "{e}"
    );
    assert!(!e.to_string().contains("nope"));
}

#[tokio::test]
async fn server_closing_after_the_challenge_means_a_fresh_authentication() {
    let Some(py) = python_with("spnego", "server_closing_after_the_challenge") else {
        return;
    };
    let server = Server::start(&py, "closechal", &["--close-after-challenge", "1"]);
    let client = server.client("Passw0rd!");
    let bmc = client.ipmi().await.unwrap();
    assert_eq!(ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id, 0);
    let reqs = server.requests();
    // Connection 1 saw only the NEGOTIATE: the sealed request was never written to it.
    let first: Vec<_> = reqs.iter().filter(|r| r["conn"] == 1).collect();
    assert_eq!(first.len(), 1, "{reqs:?}");
    assert_eq!(first[0]["length"], 0);
    // Connection 2 authenticated from scratch and carried everything, once.
    let second: Vec<_> = reqs.iter().filter(|r| r["conn"] == 2).collect();
    assert_eq!(second[0]["auth"], "Negotiate");
    assert_eq!(second.iter().filter(|r| r["sealed"] == true).count(), 2);
    assert_nothing_in_clear(&reqs);
}

/// A server (or a proxy in front of it) that always drops the connection after the challenge:
/// the error says that NTLM needs the connection kept open, and names the host.
#[tokio::test]
async fn a_connection_always_closed_after_the_challenge_is_explained() {
    let Some(py) = python_with("spnego", "always_closed_after_the_challenge") else {
        return;
    };
    let server = Server::start(&py, "closealways", &["--close-after-challenge", "99"]);
    let e = server.client("Passw0rd!").ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(!e.maybe_delivered());
    let text = e.to_string();
    assert!(
        text.contains("NTLM needs the connection kept open"),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{}", server.port)),
        "{text}"
    );
    // Tried on a fresh connection once, then given up: two NEGOTIATEs, nothing sealed.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(reqs.iter().all(|r| r["length"] == 0));
}

/// A pooled connection idle past the limit is not reused (the server may have closed it).
#[tokio::test]
async fn idle_connections_past_the_limit_are_not_reused() {
    let Some(py) = python_with("spnego", "idle_connections_past_the_limit") else {
        return;
    };
    let server = Server::start(&py, "idle", &[]);
    let client = Client::builder(&format!("127.0.0.1:{}", server.port))
        .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
        .idle_limit(Duration::ZERO)
        .build()
        .unwrap();
    let bmc = client.ipmi().await.unwrap();
    ipmi::execute(&bmc, GetDeviceId).await.unwrap();
    let conns = connections(&server.requests());
    assert_eq!(
        conns.len(),
        2,
        "one connection per request when none may idle"
    );
}

#[tokio::test]
async fn server_closing_between_requests_means_new_connections_and_nothing_sent_twice() {
    let Some(py) = python_with("spnego", "server_closing_between_requests") else {
        return;
    };
    let server = Server::start(&py, "closeevery", &["--close-every", "1"]);
    let client = server.client_with("Passw0rd!", Flow::Piggyback);
    let bmc = client.ipmi().await.unwrap();
    for _ in 0..4 {
        assert_eq!(
            ipmi::execute(&bmc, GetDeviceId).await.unwrap().product_id,
            0x0f02
        );
    }
    let reqs = server.requests();
    // 5 requests (1 enumerate + 4 IPMI), each on its own authenticated connection, each sealed once.
    assert_eq!(
        reqs.iter().filter(|r| r["sealed"] == true).count(),
        5,
        "{reqs:?}"
    );
    let conns = connections(&reqs);
    assert_eq!(conns.len(), 5);
    for c in conns {
        let on: Vec<_> = reqs.iter().filter(|r| r["conn"] == c).collect();
        assert_eq!(
            on.len(),
            2,
            "conn {c}: NEGOTIATE, then AUTHENTICATE with the sealed body"
        );
        assert_eq!(on[0]["length"], 0);
        assert_eq!(on[1]["sealed"], true);
    }
}

#[tokio::test]
async fn many_tasks_share_a_client_within_its_connection_limit() {
    let Some(py) = python_with("spnego", "many_tasks_share_a_client") else {
        return;
    };
    let server = Server::start(&py, "shared", &[]);
    let client = Client::builder(&format!("127.0.0.1:{}", server.port))
        .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
        .max_connections(2)
        .build()
        .unwrap();
    let bmc = client.ipmi().await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let bmc = bmc.clone();
        tasks.push(tokio::spawn(async move {
            ipmi::execute(&bmc, GetDeviceId)
                .await
                .map(|d| d.device_revision)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 3);
    }
    let reqs = server.requests();
    let conns = connections(&reqs);
    assert!(conns.len() <= 2, "{conns:?}");
    assert_eq!(reqs.iter().filter(|r| r["sealed"] == true).count(), 13);
}

#[test]
fn bad_settings_are_caught_before_any_traffic() {
    let e = Client::builder("host:99999")
        .credentials("a", Password::new("b"))
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    // NTLM needs an account and a password; Negotiate (the default) without them uses the
    // Kerberos ticket at hand, found (or not) at the first request.
    let e = Client::builder("host")
        .auth(winrm_ipmi::auth::AuthMethod::Ntlm)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("no credentials"), "{e}");
    #[cfg(feature = "kerberos")]
    Client::builder("host").build().unwrap();
    #[cfg(not(feature = "kerberos"))]
    assert!(Client::builder("host").build().is_err());
    let e = Client::builder("host")
        .credentials("a", Password::new("b"))
        .auth(winrm_ipmi::auth::AuthMethod::Basic)
        .encryption(winrm_ipmi::transport::EncryptionMode::Never)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("password in clear"), "{e}");
    let c = Client::builder("[::1]:1")
        .credentials("CONTOSO\\a", Password::new("hunter2"))
        .build()
        .unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[tokio::test]
async fn unreachable_host_is_a_connect_error() {
    // A port nothing listens on: bind, note it, close.
    let port = common::free_port();
    let client = Client::builder(&format!("127.0.0.1:{port}"))
        .credentials("a", Password::new("b"))
        .build()
        .unwrap();
    let e = client.ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
}

mod https {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use winrm_ipmi::transport::tls;

    fn cert_path(server: &Server) -> PathBuf {
        server.process.dir.join("port.cert.pem")
    }

    fn thumbprint(server: &Server) -> String {
        let der = CertificateDer::from_pem_file(cert_path(server)).unwrap();
        tls::thumbprint(der.as_ref())
    }

    fn builder(server: &Server) -> winrm_ipmi::ClientBuilder {
        Client::builder(&format!("https://127.0.0.1:{}/wsman", server.port))
            .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
    }

    async fn device_id(client: &Client) -> Result<u8, Error> {
        let bmc = client.ipmi().await?;
        Ok(ipmi::execute(&bmc, GetDeviceId).await?.device_revision)
    }

    #[tokio::test]
    async fn pinned_thumbprint_with_channel_bindings_for_sha256_and_sha384_certificates() {
        let Some(py) = python_with("spnego", "https pinned thumbprint") else {
            return;
        };
        for bits in ["256", "384"] {
            let server = Server::start(&py, &format!("https{bits}"), &["--tls", bits]);
            let client = builder(&server)
                .thumbprint(&thumbprint(&server))
                .unwrap()
                .build()
                .unwrap();
            assert_eq!(
                device_id(&client).await.unwrap(),
                3,
                "SHA-{bits} certificate"
            );
            let reqs = server.requests();
            // Over TLS: authenticated once, bodies not sealed (TLS carries confidentiality).
            assert!(
                reqs.iter().all(|r| r["conn"] == 1 && r["sealed"] == false),
                "{reqs:?}"
            );
            assert_eq!(reqs.iter().filter(|r| r["auth"] == "Negotiate").count(), 2);
        }
    }

    #[tokio::test]
    async fn ca_file_insecure_and_refusals() {
        let Some(py) = python_with("spnego", "https trust settings") else {
            return;
        };
        let server = Server::start(&py, "httpsca", &["--tls", "256"]);
        let with_ca = builder(&server)
            .ca_file(&cert_path(&server))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(device_id(&with_ca).await.unwrap(), 3);
        let insecure = builder(&server)
            .insecure_skip_certificate_verification(true)
            .build()
            .unwrap();
        assert_eq!(device_id(&insecure).await.unwrap(), 3);

        // The OS store does not know a self-signed certificate.
        match builder(&server).build() {
            Ok(c) => {
                let e = device_id(&c).await.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{e}"),
        }
        let wrong = builder(&server)
            .thumbprint(&"00".repeat(32))
            .unwrap()
            .build()
            .unwrap();
        let e = device_id(&wrong).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
        assert!(e.to_string().contains("not the pinned"), "{e}");
        // The CA file does not cover another name.
        let by_name = Client::builder(&format!("https://localhost:{}/wsman", server.port))
            .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
            .ca_file(&cert_path(&server))
            .unwrap()
            .build()
            .unwrap();
        let e = device_id(&by_name).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Tls | ErrorKind::Connect),
            "{e}"
        );
    }

    /// A self-signed certificate with CA:TRUE (what `openssl req -x509` makes by default) given
    /// to the CA file is what the user meant to trust: accepted, as curl does; its name is still
    /// checked, and another self-signed certificate is still refused.
    #[tokio::test]
    async fn a_self_signed_ca_true_certificate_in_the_ca_file_is_trusted() {
        let Some(py) = python_with("spnego", "https self-signed CA:TRUE") else {
            return;
        };
        let server = Server::start(&py, "httpscatrue", &["--tls", "256", "--ca-true", "1"]);
        let with_ca = builder(&server)
            .ca_file(&cert_path(&server))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(device_id(&with_ca).await.unwrap(), 3);
        let by_name = Client::builder(&format!("https://localhost:{}/wsman", server.port))
            .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
            .ca_file(&cert_path(&server))
            .unwrap()
            .build()
            .unwrap();
        let e = device_id(&by_name).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Tls | ErrorKind::Connect),
            "{e}"
        );
        // Another server's CA:TRUE certificate in the CA file does not vouch for this one.
        let other = Server::start(&py, "httpscatrue2", &["--tls", "256", "--ca-true", "1"]);
        let wrong = builder(&server)
            .ca_file(&cert_path(&other))
            .unwrap()
            .build()
            .unwrap();
        let e = device_id(&wrong).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    }

    /// Certificate authentication against the independent peer (Python `ssl` with
    /// `CERT_REQUIRED` and the client CA; it maps the certificate's UPN to an account and checks
    /// the https/mutual `Authorization` header). Certificates and keys made by pyca/cryptography
    /// in every PEM form.
    #[tokio::test]
    async fn certificate_authentication_and_its_refusals() {
        let Some(py) = python_with("cryptography", "certificate authentication") else {
            return;
        };
        let certs = ScratchDir::new("certs", "client-auth");
        let (alice, mallory) = (certs.join("alice"), certs.join("mallory"));
        for (dir, upn) in [
            (&alice, "alice@testdom.test"),
            (&mallory, "mallory@testdom.test"),
        ] {
            std::fs::create_dir_all(dir).unwrap();
            let ok = Command::new(&py)
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/peers/make_client_cert.py"
                ))
                .arg(dir)
                .arg(upn)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let ca = certs.join("client-ca.pem");
        let both = [
            std::fs::read(alice.join("client-ca.pem")).unwrap(),
            std::fs::read(mallory.join("client-ca.pem")).unwrap(),
        ]
        .concat();
        std::fs::write(&ca, both).unwrap();
        let server = Server::start(
            &py,
            "httpscert",
            &["--tls", "256", "--client-ca", ca.to_str().unwrap()],
        );
        let pin = thumbprint(&server);
        let with_cert = |dir: &PathBuf, cert: &str, key: &str| {
            Client::builder(&format!("https://127.0.0.1:{}/wsman", server.port))
                .auth(winrm_ipmi::auth::AuthMethod::Certificate)
                .thumbprint(&pin)
                .unwrap()
                .client_certificate(&dir.join(cert), &dir.join(key))
        };
        // Every key form: RSA PKCS#1 and PKCS#8, EC SEC1 and PKCS#8.
        for (cert, key) in [
            ("rsa.pem", "rsa-pkcs1.key"),
            ("rsa.pem", "rsa-pkcs8.key"),
            ("ec.pem", "ec-sec1.key"),
            ("ec.pem", "ec-pkcs8.key"),
        ] {
            let client = with_cert(&alice, cert, key).unwrap().build().unwrap();
            assert_eq!(device_id(&client).await.unwrap(), 3, "{cert} {key}");
        }
        // Refused before any traffic: an encrypted key, a key of another certificate.
        let e = with_cert(&alice, "rsa.pem", "rsa-encrypted.key").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("encrypted private key"), "{e}");
        let e = with_cert(&alice, "rsa.pem", "ec-pkcs8.key").unwrap_err();
        assert!(
            e.to_string().contains("does not go with the certificate"),
            "{e}"
        );
        // A certificate the service maps to no account: 401, said so.
        let client = with_cert(&mallory, "ec.pem", "ec-pkcs8.key")
            .unwrap()
            .build()
            .unwrap();
        let e = device_id(&client).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        assert!(e.to_string().contains("no local account is mapped"), "{e}");
        // No certificate at all: the TLS handshake fails, as Windows' does.
        let e = device_id(&builder(&server).thumbprint(&pin).unwrap().build().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Tls | ErrorKind::Connect),
            "{e}"
        );
        let log = std::fs::read_to_string(&server.log).unwrap();
        assert!(
            log.contains("\"upn\": \"alice@testdom.test\", \"mapped\": true"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn a_channel_binding_mismatch_is_refused() {
        let Some(py) = python_with("spnego", "https cbt mismatch") else {
            return;
        };
        let server = Server::start(&py, "httpscbt", &["--tls", "256", "--cbt-mismatch", "1"]);
        let client = builder(&server)
            .thumbprint(&thumbprint(&server))
            .unwrap()
            .build()
            .unwrap();
        let e = device_id(&client).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
        // Over HTTPS a refused login names channel binding as a possible cause.
        assert!(e.to_string().contains("CbtHardeningLevel"), "{e}");
        let log = std::fs::read_to_string(&server.log).unwrap();
        assert!(log.contains("BadBindingsError"), "{log}");
    }
}

#[tokio::test]
async fn basic_over_https_and_its_refusals() {
    let Some(py) = python_with("spnego", "basic over https") else {
        return;
    };
    let server = Server::start(&py, "basic", &["--tls", "256"]);
    let der =
        rustls_pki_types::pem::PemObject::from_pem_file(server.process.dir.join("port.cert.pem"))
            .unwrap();
    let pin =
        winrm_ipmi::transport::tls::thumbprint(rustls_pki_types::CertificateDer::as_ref(&der));
    let url = format!("https://127.0.0.1:{}/wsman", server.port);
    let basic = |pw: &str| {
        Client::builder(&url)
            .credentials("TESTDOM\\alice", Password::new(pw))
            .auth(winrm_ipmi::auth::AuthMethod::Basic)
            .thumbprint(&pin)
            .unwrap()
            .build()
            .unwrap()
    };
    let bmc = basic("Passw0rd!").ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId)
            .await
            .unwrap()
            .device_revision,
        3
    );
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .all(|r| r["auth"] == "Basic" && r["sealed"] == false),
        "{reqs:?}"
    );
    let e = basic("Xyzzy-4242").ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(
        !format!("{e} {e:?}").contains("Xyzzy"),
        "the password must not appear: {e:?}"
    );
}

#[tokio::test]
async fn ntlm_scheme_when_negotiate_is_not_offered() {
    let Some(py) = python_with("spnego", "ntlm scheme fallback") else {
        return;
    };
    let server = Server::start(&py, "onlyntlm", &["--only-ntlm", "1"]);
    let bmc = server.client("Passw0rd!").ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId)
            .await
            .unwrap()
            .device_revision,
        3
    );
    let schemes: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r["auth"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(schemes[..3], ["Negotiate", "NTLM", "NTLM"], "{schemes:?}");
}

#[tokio::test]
async fn transient_completion_codes_are_retried_within_the_policy() {
    let Some(py) = python_with("spnego", "busy retries") else {
        return;
    };
    let fast = winrm_ipmi::RetryPolicy {
        attempts: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    let server = Server::start(&py, "busy", &["--busy", "3"]);
    let client = Client::builder(&format!("127.0.0.1:{}", server.port))
        .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
        .retry(fast)
        .build()
        .unwrap();
    let bmc = client.ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId)
            .await
            .unwrap()
            .device_revision,
        3
    );
    // 1 enumerate + 3 busy answers + the success.
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r["sealed"] == true)
            .count(),
        5
    );

    let server = Server::start(&py, "busy2", &["--busy", "3"]);
    let once = Client::builder(&format!("127.0.0.1:{}", server.port))
        .credentials("TESTDOM\\alice", Password::new("Passw0rd!"))
        .retry(winrm_ipmi::RetryPolicy {
            attempts: 2,
            ..fast
        })
        .build()
        .unwrap();
    let bmc = once.ipmi().await.unwrap();
    let r = bmc
        .raw(RawRequest::new(NetFn::App, 0x01, vec![]).unwrap())
        .await
        .unwrap();
    assert_eq!(r.completion, CompletionCode::NodeBusy);
    assert!(r.completion.is_transient());
}

#[tokio::test]
async fn identify_is_unauthenticated() {
    let Some(py) = python_with("spnego", "identify") else {
        return;
    };
    let server = Server::start(&py, "identify", &[]);
    let id = server.client("not-needed").identify().await.unwrap();
    assert_eq!(id.product_vendor, "Microsoft Corporation");
    assert!(id.product_version.contains("Stack: 3.0"));
    let reqs = server.requests();
    assert_eq!(reqs[0]["identify"], "unauthenticated");
    assert_eq!(reqs[0]["auth"], "");
}
