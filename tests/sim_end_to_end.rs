//! Our client against the simulator over HTTP with NTLM and message encryption: every feature,
//! each fault, each injected failure, and a fleet.

mod common;

use std::time::Duration;

use winrm_ipmi::auth::Password;
use winrm_ipmi::ipmi::app::{GetDeviceId, GetSystemGuid, SystemInfoParameter};
use winrm_ipmi::ipmi::sysinfo::{self, StringEncoding};
use winrm_ipmi::ipmi::{self, CompletionCode, lan};
use winrm_ipmi::sim::{HostConfig, Simulator};
use winrm_ipmi::wsman::EnumerateOptions;
use winrm_ipmi::{Client, ErrorKind, RetryPolicy};

fn client(endpoint: &str, user: &str, password: &str) -> Client {
    Client::builder(endpoint)
        .credentials(user, Password::new(password))
        .retry(RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_millis(2),
            max_backoff: Duration::from_millis(10),
        })
        .build()
        .unwrap()
}

fn admin(sim: &Simulator, i: usize) -> Client {
    client(&sim.endpoints()[i], "Administrator", "Sim-Passw0rd!")
}

async fn with(config: HostConfig) -> Simulator {
    Simulator::builder().host(config).start().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_scenarios_and_wmi_reads() {
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let c = admin(&sim, 0);
    let bmc = c.ipmi().await.unwrap();
    let id = ipmi::execute(&bmc, GetDeviceId).await.unwrap();
    assert_eq!(
        (id.manufacturer_id, id.firmware_revision().as_str()),
        (674, "2.80")
    );
    let guid = ipmi::execute(&bmc, GetSystemGuid).await.unwrap();
    assert_eq!(guid.0, sim.host(0).config.bmc.identity.system_guid);
    let lans = lan::read_all_lan_configs(&bmc).await.unwrap();
    assert_eq!(lans.len(), 1);
    assert_eq!(lans[0].ip_address.unwrap().to_string(), "10.0.0.1");
    assert_eq!(
        lans[0].mac_address.unwrap().to_string(),
        "18:66:da:00:00:01"
    );

    let os = c
        .enumerate(
            &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_OperatingSystem"),
            &EnumerateOptions::default(),
        )
        .await
        .unwrap();
    let caption = os[0].text("Caption").unwrap();
    assert_eq!(caption, "Microsoft Windows Server 2022 Datacenter");
    // Non-optimized enumeration: a context, then Pull.
    let cs = c
        .enumerate(
            &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_ComputerSystem"),
            &EnumerateOptions {
                optimize: false,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cs[0].text("Name"), Some("SIM-HOST-001"));
    let got = c
        .get(
            winrm_ipmi::wmi::microsoft_ipmi::RESOURCE_URI,
            &[("InstanceName", "root\\system\\0001_0")],
        )
        .await
        .unwrap();
    assert_eq!(got.text("BMCAddress"), Some("32"));

    let r = sysinfo::write_string(
        &bmc,
        SystemInfoParameter::OsName,
        caption,
        StringEncoding::Latin1,
    )
    .await
    .unwrap();
    assert_eq!(r.text, caption);
    // The BMC itself holds it: [revision, set, encoding, length, bytes...].
    let stored = sim
        .host(0)
        .bmc
        .handle(&ipmi::RawRequest::new(ipmi::NetFn::App, 0x59, vec![0, 4, 0, 0]).unwrap())
        .data;
    assert_eq!(
        (stored[2], stored[3] as usize, &stored[4..18]),
        (0, caption.len(), &caption.as_bytes()[..14])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_come_back_typed() {
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = &sim.endpoints()[0];
    // Not an administrator: access denied on Microsoft_IPMI, as on Windows.
    let e = client(ep, "operator", "Op-Passw0rd!")
        .ipmi()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "{e}");
    // ... but the same account reads Win32 classes.
    let os = client(ep, "operator", "Op-Passw0rd!")
        .enumerate(
            &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_OperatingSystem"),
            &EnumerateOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(os.len(), 1);
    let e = client(ep, "Administrator", "nope-nope")
        .ipmi()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let c = admin(&sim, 0);
    let e = c
        .get(
            winrm_ipmi::wmi::microsoft_ipmi::RESOURCE_URI,
            &[("InstanceName", "ROOT\\SYSTEM\\9999_0")],
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fault);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: WS-Management fault Sender/InvalidSelectors (code 0x8033805B on SIM-HOST-001): The WS-Management service cannot process the request because the request contained invalid selectors for the resource.",
            c.endpoint()
        )
    );
    let e = c
        .enumerate(
            &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_Nope"),
            &EnumerateOptions::default(),
        )
        .await
        .unwrap_err();
    match &e {
        winrm_ipmi::Error::Wsman {
            endpoint,
            source: w,
        } => {
            assert_eq!(
                w.fault().unwrap().kind(),
                winrm_ipmi::wsman::FaultKind::NotFound
            );
            // A fault names the host it came from.
            assert_eq!(endpoint, &c.endpoint());
            assert!(e.to_string().starts_with(&format!("{endpoint}: ")), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_failures() {
    let mut no_driver = HostConfig::numbered(0);
    no_driver.faults.no_ipmi_driver = true;
    let sim = with(no_driver).await;
    let e = admin(&sim, 0).ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NoBmc, "{e}");
    assert!(e.to_string().contains("IPMI driver is not loaded"), "{e}");

    let mut busy = HostConfig::numbered(0);
    busy.faults.busy_requests = 3;
    let sim = with(busy).await;
    let bmc = admin(&sim, 0).ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
        0x20
    );

    let mut rejects = HostConfig::numbered(0);
    rejects.faults.bmc_rejects = Some(CompletionCode::InsufficientPrivilege);
    let sim = with(rejects).await;
    let bmc = admin(&sim, 0).ipmi().await.unwrap();
    let e = ipmi::execute(&bmc, GetDeviceId).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Ipmi, "{e}");
    assert!(e.to_string().contains("0xd4"), "{e}");

    let mut timeout = HostConfig::numbered(0);
    timeout.faults.operation_timeout = true;
    let sim = with(timeout).await;
    assert_eq!(
        admin(&sim, 0).ipmi().await.unwrap_err().kind(),
        ErrorKind::Timeout
    );

    let mut quota = HostConfig::numbered(0);
    quota.faults.quota_exceeded = true;
    let sim = with(quota).await;
    let e = admin(&sim, 0).ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Fault);
    match &e {
        winrm_ipmi::Error::Wsman { source: w, .. } => assert_eq!(
            w.fault().unwrap().kind(),
            winrm_ipmi::wsman::FaultKind::QuotaExceeded
        ),
        other => panic!("{other:?}"),
    }

    for (after_challenge, every) in [(1, 0), (0, 1)] {
        let mut closing = HostConfig::numbered(0);
        closing.faults.close_after_challenge = after_challenge;
        closing.faults.close_every = every;
        let sim = with(closing).await;
        let bmc = admin(&sim, 0).ipmi().await.unwrap();
        for _ in 0..3 {
            assert_eq!(
                ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
                0x20
            );
        }
    }

    let mut slow = HostConfig::numbered(0);
    slow.faults.latency = Duration::from_millis(30);
    let sim = with(slow).await;
    let t = std::time::Instant::now();
    // Latency is added to each WS-Management reply (not to authentication legs): the
    // enumeration and one RequestResponse.
    let bmc = admin(&sim, 0).ipmi().await.unwrap();
    ipmi::execute(&bmc, GetDeviceId).await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "two round trips of added latency"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_hosts_each_with_its_own_identity() {
    let sim = Simulator::builder().hosts(50).start().await.unwrap();
    let mut tasks = Vec::new();
    for ep in sim.endpoints() {
        tasks.push(tokio::spawn(async move {
            let c = client(&ep, "Administrator", "Sim-Passw0rd!");
            let bmc = c.ipmi().await?;
            let lans = lan::read_all_lan_configs(&bmc).await?;
            Ok::<_, winrm_ipmi::Error>((
                lans[0].ip_address.unwrap(),
                lans[0].mac_address.unwrap().to_string(),
            ))
        }));
    }
    let mut ips = std::collections::BTreeSet::new();
    for t in tasks {
        let (ip, _mac) = t.await.unwrap().unwrap();
        ips.insert(ip);
    }
    assert_eq!(ips.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_pinning_ca_file_and_refusal() {
    let sim = Simulator::builder()
        .hosts(1)
        .https(true)
        .start()
        .await
        .unwrap();
    assert_eq!(sim.scheme(), "https");
    let url = format!("https://{}/wsman", sim.endpoints()[0]);
    let thumbprint = sim.thumbprint().unwrap().to_string();
    assert_eq!(thumbprint.len(), 64);
    let pinned = Client::builder(&url)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .thumbprint(&thumbprint)
        .unwrap()
        .build()
        .unwrap();
    // A wrong pin is refused even beside "insecure": the pin always holds.
    let wrong = Client::builder(&url)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .thumbprint(&"0".repeat(64))
        .unwrap()
        .insecure_skip_certificate_verification(true)
        .build()
        .unwrap();
    let e = wrong.ipmi().await.unwrap_err();
    assert_eq!(e.kind(), winrm_ipmi::ErrorKind::Tls, "{e}");
    let bmc = pinned.ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId)
            .await
            .unwrap()
            .manufacturer_id,
        674
    );
    // Our client sends channel bindings over TLS; the simulator checks them (Relaxed).
    let lans = lan::read_all_lan_configs(&bmc).await.unwrap();
    assert_eq!(
        lans[0].mac_address.unwrap().to_string(),
        "18:66:da:00:00:01"
    );

    let dir = common::ScratchDir::new("sim", "ca-file");
    let ca = dir.join("sim.pem");
    std::fs::write(&ca, sim.certificate_pem().unwrap()).unwrap();
    let with_ca = Client::builder(&url)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .ca_file(&ca)
        .unwrap()
        .build()
        .unwrap();
    assert!(with_ca.ipmi().await.is_ok());

    let untrusted = Client::builder(&url)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .build();
    if let Ok(c) = untrusted {
        assert_eq!(c.ipmi().await.unwrap_err().kind(), ErrorKind::Tls);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_poisons_its_connection_and_the_next_one_starts_fresh() {
    // OperationTimeout 0 makes the HTTP limit the 5 s margin; the host takes 5.4 s per reply.
    let mut slow = HostConfig::numbered(0);
    slow.faults.latency = Duration::from_millis(5400);
    let sim = with(slow).await;
    let c = Client::builder(&sim.endpoints()[0])
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .operation_timeout(Duration::ZERO)
        .build()
        .unwrap();
    let t = std::time::Instant::now();
    let e = c.ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    // The request was written: it may have been delivered, so it is not re-sent.
    match &e {
        winrm_ipmi::Error::Transport(t) => assert!(t.maybe_delivered(), "{t}"),
        other => panic!("{other:?}"),
    }
    assert!(
        t.elapsed() < Duration::from_secs(7),
        "the limit holds: {:?}",
        t.elapsed()
    );
    assert_eq!(c.requests_sent(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_never_needs_allow_unencrypted() {
    use winrm_ipmi::transport::EncryptionMode;
    let plain = |ep: &str| {
        Client::builder(ep)
            .credentials("Administrator", Password::new("Sim-Passw0rd!"))
            .encryption(EncryptionMode::Never)
            .build()
            .unwrap()
    };
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let e = plain(&sim.endpoints()[0]).ipmi().await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Auth,
        "AllowUnencrypted=false refuses a clear body: {e}"
    );
    let mut open = HostConfig::numbered(0);
    open.allow_unencrypted = true;
    let sim = with(open).await;
    let bmc = plain(&sim.endpoints()[0]).ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
        0x20
    );
    // Basic over HTTP is a clear body too: refused unless AllowUnencrypted.
    let basic = |ep: &str| {
        Client::builder(ep)
            .credentials("Administrator", Password::new("Sim-Passw0rd!"))
            .auth(winrm_ipmi::auth::AuthMethod::Basic)
            .encryption(EncryptionMode::Never)
            .insecure_allow_basic_over_http(true)
            .build()
            .unwrap()
    };
    for allow_unencrypted in [false, true] {
        let mut config = HostConfig::numbered(0);
        config.basic = true;
        config.allow_unencrypted = allow_unencrypted;
        let sim = with(config).await;
        let r = basic(&sim.endpoints()[0]).ipmi().await;
        match allow_unencrypted {
            false => assert_eq!(r.unwrap_err().kind(), ErrorKind::Auth),
            true => {
                let bmc = r.unwrap();
                ipmi::execute(&bmc, GetDeviceId).await.unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_invoke_with_selectors_and_array_parameters() {
    use winrm_ipmi::wmi::microsoft_ipmi;
    use winrm_ipmi::wsman::{CimValue, Param};
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let c = admin(&sim, 0);
    let out = c
        .invoke(
            microsoft_ipmi::RESOURCE_URI,
            "RequestResponse",
            &[("InstanceName", "ROOT\\SYSTEM\\0001_0")],
            &[
                Param::scalar("NetworkFunction", 0x0c),
                Param::scalar("Lun", 0),
                Param::scalar("ResponderAddress", 32),
                Param::scalar("Command", 2),
                Param::scalar("RequestDataSize", 4),
                Param::array("RequestData", [1, 3, 0, 0]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(out.name, "RequestResponse_OUTPUT");
    let data: Vec<u8> = out.parse_array("ResponseData").unwrap();
    // cc 00, revision 11h, IPv4 10.0.0.1.
    assert_eq!(data, vec![0x00, 0x11, 10, 0, 0, 1]);
    assert_eq!(
        out.values("ResponseData")
            .filter(|v| matches!(v, CimValue::Text(_)))
            .count(),
        6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_literal_endpoints() {
    let sim = Simulator::builder()
        .hosts(1)
        .ipv6(true)
        .start()
        .await
        .unwrap();
    let ep = sim.endpoints()[0].clone();
    assert!(ep.starts_with("[::1]:"), "{ep}");
    let c = client(&ep, "Administrator", "Sim-Passw0rd!");
    assert!(c.endpoint().starts_with("http://[::1]:"));
    let bmc = c.ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
        0x20
    );
    // The URL form too.
    let c = client(
        &format!("http://{ep}/wsman"),
        "Administrator",
        "Sim-Passw0rd!",
    );
    assert!(c.ipmi().await.is_ok());
}

/// `sim --https --client-ca`: certificate authentication as Windows maps it. Certificates made
/// by pyca/cryptography (tests/peers/make_client_cert.py): one whose UPN names the simulated
/// administrator, one naming nobody, one the simulator does not trust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_authentication_on_the_simulator() {
    let Some(py) = common::python_with("cryptography", "simulator certificate authentication")
    else {
        return;
    };
    let dir = common::ScratchDir::new("sim", "client-certs");
    let make = |name: &str, upn: &str| {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let ok = std::process::Command::new(&py)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/make_client_cert.py"
            ))
            .arg(&d)
            .arg(upn)
            .status()
            .unwrap();
        assert!(ok.success());
        d
    };
    let (admin, nobody, stranger) = (
        make("admin", "Administrator@sim.test"),
        make("nobody", "nobody@sim.test"),
        make("stranger", "Administrator@sim.test"),
    );
    let pem = |d: &std::path::Path| {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::pem_file_iter(d.join("client-ca.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    };
    let sim = Simulator::builder()
        .hosts(1)
        .https(true)
        .client_ca([pem(&admin), pem(&nobody)].concat())
        .start()
        .await
        .unwrap();
    let url = format!("https://{}/wsman", sim.endpoints()[0]);
    let pin = sim.thumbprint().unwrap().to_string();
    let client = |d: &std::path::Path| {
        Client::builder(&url)
            .auth(winrm_ipmi::auth::AuthMethod::Certificate)
            .thumbprint(&pin)
            .unwrap()
            .client_certificate(&d.join("ec.pem"), &d.join("ec-pkcs8.key"))
            .unwrap()
            .build()
            .unwrap()
    };
    let bmc = client(&admin).ipmi().await.unwrap();
    assert_eq!(
        ipmi::execute(&bmc, GetDeviceId).await.unwrap().device_id,
        0x20
    );
    let e = client(&nobody).ipmi().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    let e = client(&stranger).ipmi().await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Tls | ErrorKind::Connect),
        "{e}"
    );
    // NTLM still works on the same listener (no certificate presented).
    let ntlm = Client::builder(&url)
        .credentials("Administrator", Password::new("Sim-Passw0rd!"))
        .thumbprint(&pin)
        .unwrap()
        .build()
        .unwrap();
    assert!(ntlm.ipmi().await.is_ok());
}

/// A client that never logs on gets its 401 before its body is read (so it cannot make the
/// host hold bodies), and the connection closes; a connection accepted before the simulator
/// stops goes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_holds_nothing_for_strangers_and_stops_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let ep = sim.endpoints()[0].clone();
    // Headers that promise 1 MiB, and only one byte of it.
    let mut s = TcpStream::connect(&ep).await.unwrap();
    s.write_all(
        b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 1048576\r\n\r\nx",
    )
    .await
    .unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply))
        .await
        .expect("answered and closed at once, not after the body")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply).to_ascii_lowercase();
    assert!(reply.starts_with("http/1.1 401"), "{reply}");
    assert!(reply.contains("connection: close"), "{reply}");
    // An authenticated client's connection, then the simulator stops: the connection ends.
    let c = admin(&sim, 0);
    let bmc = c.ipmi().await.unwrap();
    ipmi::execute(&bmc, GetDeviceId).await.unwrap();
    let mut idle = TcpStream::connect(&ep).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap(); // served (a 404), kept alive
    sim.shutdown();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut buf = [0u8; 4096];
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection outlived the simulator");
    assert!(ipmi::execute(&bmc, GetDeviceId).await.is_err());
}

/// The simulator keeps WS-Enumeration's rules, so a client that loses or reuses a context, or
/// sends no MessageID, fails here as on Windows: a Pull or Release needs a context it handed
/// out and has not ended; Release ends one; every request needs a MessageID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enumeration_contexts_and_message_ids_are_checked() {
    use winrm_ipmi::wsman::{MessageId, RequestContext, parse_enumeration};
    let sim = Simulator::builder().hosts(1).start().await.unwrap();
    let c = admin(&sim, 0);
    let ctx = RequestContext::new(format!("http://{}/wsman", sim.endpoints()[0]));
    let uri = winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_OperatingSystem");
    let opts = EnumerateOptions {
        optimize: false,
        ..Default::default()
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    let open = |req| {
        let c = &c;
        async move {
            let page = parse_enumeration(&c.send(&req).await.unwrap(), &req).unwrap();
            page.context.unwrap()
        }
    };
    // Never handed out.
    let pull = ctx.pull(&uri, "uuid:never", 10, MessageId::random());
    assert!(text(c.send(&pull).await.unwrap()).contains("InvalidEnumerationContext"));
    // Handed out, released, then pulled: refused.
    let context = open(ctx.enumerate(&uri, &opts, MessageId::random())).await;
    let release = ctx.release(&uri, &context, MessageId::random());
    let reply = c.send(&release).await.unwrap();
    assert!(
        text(reply.clone()).contains("ReleaseResponse"),
        "{}",
        text(reply)
    );
    let pull = ctx.pull(&uri, &context, 10, MessageId::random());
    assert!(text(c.send(&pull).await.unwrap()).contains("InvalidEnumerationContext"));
    // Pulled to its end: ended.
    let context = open(ctx.enumerate(&uri, &opts, MessageId::random())).await;
    let pull = ctx.pull(&uri, &context, 10, MessageId::random());
    let page = parse_enumeration(&c.send(&pull).await.unwrap(), &pull).unwrap();
    assert!(page.context.is_none() && page.items.len() == 1);
    let again = ctx.pull(&uri, &context, 10, MessageId::random());
    assert!(text(c.send(&again).await.unwrap()).contains("InvalidEnumerationContext"));
    // No MessageID.
    let mut get = ctx.enumerate(&uri, &opts, MessageId::random());
    let start = get.xml.find("<a:MessageID>").unwrap();
    let end = get.xml.find("</a:MessageID>").unwrap() + "</a:MessageID>".len();
    get.xml.replace_range(start..end, "");
    assert!(text(c.send(&get).await.unwrap()).contains("InvalidMessageInformationHeader"));
    // The client's enumerate still works end to end (Enumerate, then one Pull).
    assert_eq!(c.enumerate(&uri, &opts).await.unwrap().len(), 1);
}
