//! The fault matrix: a hostile or broken WinRM server (own code, raw HTTP over loopback, one
//! misbehaviour per case) against the library and the CLI. Every case must end with a typed
//! error that names the host, within the request timeout plus a margin, without a panic, and
//! without re-sending anything that might have been delivered.
//!
//! The server speaks just enough HTTP/1.1 by hand to misbehave at any byte, and authenticates
//! with the simulator's NTLM acceptor so that the cases after authentication (sealed replies
//! with wrong signatures, wrong `RelatesTo`, huge bodies) are reached for real.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use winrm_ipmi::auth::Password;
use winrm_ipmi::auth::ntlm::{AcceptorIdentity, NtlmAcceptor, PasswordLookup, SessionSecurity};
use winrm_ipmi::transport::encryption;
use winrm_ipmi::wsman::server::{
    enumerate_reply, instance_xml, parse_request, reply_end, reply_start,
};
use winrm_ipmi::wsman::{EnumerateOptions, MAX_EMPTY_PULLS};
use winrm_ipmi::{Client, ErrorKind};

const PASSWORD: &str = "Hostile-Passw0rd!";

/// One misbehaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    CloseOnConnect,
    CloseAfterNegotiate,
    NoWwwAuthenticate,
    NonBase64Token,
    GarbageToken,
    AbsurdChallengeOffsets,
    SilenceAfterConnect,
    OneBytePerSecond,
    NotHttp,
    HugeHeaders,
    AbsurdContentLength,
    InvalidChunkSize,
    BodyCutShort,
    PlainReplyToSealedRequest,
    WrongSignature,
    WrongSequence,
    SealedLengthNearMax,
    Sealed500NonXml,
    WrongRelatesTo,
    FiftyMebibyteBody,
}

const ALL: [Case; 20] = [
    Case::CloseOnConnect,
    Case::CloseAfterNegotiate,
    Case::NoWwwAuthenticate,
    Case::NonBase64Token,
    Case::GarbageToken,
    Case::AbsurdChallengeOffsets,
    Case::SilenceAfterConnect,
    Case::OneBytePerSecond,
    Case::NotHttp,
    Case::HugeHeaders,
    Case::AbsurdContentLength,
    Case::InvalidChunkSize,
    Case::BodyCutShort,
    Case::PlainReplyToSealedRequest,
    Case::WrongSignature,
    Case::WrongSequence,
    Case::SealedLengthNearMax,
    Case::Sealed500NonXml,
    Case::WrongRelatesTo,
    Case::FiftyMebibyteBody,
];

struct Users;
impl PasswordLookup for Users {
    fn password(&self, _domain: &str, user: &str) -> Option<String> {
        user.eq_ignore_ascii_case("admin").then(|| PASSWORD.into())
    }
}

/// A running hostile server: its address, and how many envelopes reached it.
struct Hostile {
    addr: String,
    envelopes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(case: Case) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let envelopes = Arc::new(AtomicUsize::new(0));
    let counter = envelopes.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let _ = serve(case, stream, &counter).await;
            });
        }
    });
    Hostile {
        addr,
        envelopes,
        task,
    }
}

/// Reads one request: head and Content-Length body. `None` when the peer closed.
async fn read_request(s: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await?;
    Ok(Some((head, body)))
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = s.write_all(out.as_bytes()).await;
    let _ = s.write_all(body).await;
}

fn sealed_type() -> (&'static str, String) {
    ("Content-Type", encryption::CONTENT_TYPE.to_string())
}

/// An NTLM CHALLENGE whose target-info field points far outside the message.
fn absurd_challenge() -> Vec<u8> {
    let mut m = b"NTLMSSP\0\x02\0\0\0".to_vec();
    m.extend_from_slice(&[0x10, 0, 0x10, 0, 0xF0, 0xFF, 0xFF, 0x7F]); // target name
    m.extend_from_slice(&0xE28A_8235u32.to_le_bytes());
    m.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]); // server challenge
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]); // target info
    m
}

/// The rest of an NTLM handshake after the NEGOTIATE (`scheme`, base64 `token`): CHALLENGE,
/// then AUTHENTICATE on an empty POST. The session, or `None` if the client went away.
async fn accept_ntlm(
    s: &mut TcpStream,
    scheme: &str,
    token: &str,
) -> std::io::Result<Option<SessionSecurity>> {
    let identity = AcceptorIdentity {
        computer: "HOSTILE".into(),
        domain: "HOSTILE".into(),
        dns_computer: "hostile.test".into(),
    };
    let mut acceptor = NtlmAcceptor::new(identity, None);
    let challenge = acceptor
        .challenge(&B64.decode(token).unwrap_or_default())
        .map_err(std::io::Error::other)?;
    let h = [(
        "WWW-Authenticate",
        format!("{scheme} {}", B64.encode(challenge)),
    )];
    respond(s, "401 ", &h, b"").await;
    let Some((head, _)) = read_request(s).await? else {
        return Ok(None);
    };
    let token = header(&head, "Authorization")
        .and_then(|a| a.split_once(' '))
        .map(|(_, t)| B64.decode(t).unwrap_or_default())
        .unwrap_or_default();
    let session = acceptor
        .accept(&token, &Users)
        .map_err(std::io::Error::other)?
        .session;
    respond(s, "200 ", &[], b"").await;
    Ok(Some(session))
}

async fn serve(case: Case, mut s: TcpStream, envelopes: &AtomicUsize) -> std::io::Result<()> {
    match case {
        Case::CloseOnConnect => return Ok(()),
        Case::SilenceAfterConnect => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        Case::NotHttp => {
            s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await?;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        _ => {}
    }
    // NEGOTIATE.
    let Some((head, _)) = read_request(&mut s).await? else {
        return Ok(());
    };
    let scheme_token = header(&head, "Authorization")
        .unwrap_or_default()
        .to_string();
    let (scheme, token) = scheme_token.split_once(' ').unwrap_or(("Negotiate", ""));
    let challenge_header =
        |t: &[u8]| vec![("WWW-Authenticate", format!("{scheme} {}", B64.encode(t)))];
    match case {
        Case::CloseAfterNegotiate => return Ok(()),
        Case::NoWwwAuthenticate => {
            respond(&mut s, "401 ", &[], b"").await;
            return Ok(());
        }
        Case::NonBase64Token => {
            let h = [("WWW-Authenticate", format!("{scheme} !!!not*base64!!!"))];
            respond(&mut s, "401 ", &h, b"").await;
            return Ok(());
        }
        Case::GarbageToken => {
            respond(&mut s, "401 ", &challenge_header(&[0xA5; 64]), b"").await;
            return Ok(());
        }
        Case::AbsurdChallengeOffsets => {
            respond(&mut s, "401 ", &challenge_header(&absurd_challenge()), b"").await;
            return Ok(());
        }
        Case::OneBytePerSecond => {
            for b in b"HTTP/1.1 401 \r\nWWW-Authenticate: Negotiate TlRMTVNT"
                .iter()
                .cycle()
            {
                s.write_all(&[*b]).await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            return Ok(());
        }
        Case::HugeHeaders => {
            let mut out = b"HTTP/1.1 401 \r\nX-Filler: ".to_vec();
            out.extend(std::iter::repeat_n(b'a', 1 << 20));
            s.write_all(&out).await?;
            return Ok(());
        }
        Case::AbsurdContentLength => {
            s.write_all(b"HTTP/1.1 401 \r\nContent-Length: 99999999999999999999999\r\n\r\n")
                .await?;
            return Ok(());
        }
        Case::InvalidChunkSize => {
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
                .await?;
            return Ok(());
        }
        _ => {}
    }
    let Some(mut session) = accept_ntlm(&mut s, scheme, token).await? else {
        return Ok(());
    };
    // The envelope, sealed.
    let Some((_, body)) = read_request(&mut s).await? else {
        return Ok(());
    };
    envelopes.fetch_add(1, Ordering::SeqCst);
    let xml = encryption::unseal(&mut session, &body).map_err(std::io::Error::other)?;
    let request = parse_request(&xml).map_err(std::io::Error::other)?;
    let relates = request.message_id.as_deref();
    let good = enumerate_reply(relates, &[], None);
    match case {
        Case::BodyCutShort => {
            s.write_all(b"HTTP/1.1 200 \r\nContent-Length: 1000\r\n\r\nshort")
                .await?;
            return Ok(()); // and close: the body ends 995 bytes early
        }
        Case::PlainReplyToSealedRequest => {
            let h = [(
                "Content-Type",
                "application/soap+xml;charset=UTF-8".to_string(),
            )];
            respond(&mut s, "200 ", &h, good.as_bytes()).await;
        }
        Case::WrongSignature => {
            let mut sealed = encryption::seal(&mut session, good.as_bytes()).unwrap();
            let at = sealed.len() - 30;
            sealed[at] ^= 0x40;
            respond(&mut s, "200 ", &[sealed_type()], &sealed).await;
        }
        Case::WrongSequence => {
            let _skipped = encryption::seal(&mut session, good.as_bytes()).unwrap();
            let sealed = encryption::seal(&mut session, good.as_bytes()).unwrap();
            respond(&mut s, "200 ", &[sealed_type()], &sealed).await;
        }
        Case::SealedLengthNearMax => {
            // A real sealed part behind a declared plaintext length near the integer maximum.
            let sealed = encryption::seal(&mut session, good.as_bytes()).unwrap();
            let marker = b"application/octet-stream\r\n";
            let at = sealed
                .windows(marker.len())
                .position(|w| w == marker)
                .unwrap()
                + marker.len();
            let mut out = b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=18446744073709551615\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n".to_vec();
            out.extend_from_slice(&sealed[at..]);
            respond(&mut s, "200 ", &[sealed_type()], &out).await;
        }
        Case::Sealed500NonXml => {
            let sealed = encryption::seal(&mut session, b"Internal Server Error <<<").unwrap();
            respond(&mut s, "500 ", &[sealed_type()], &sealed).await;
        }
        Case::WrongRelatesTo => {
            let wrong =
                enumerate_reply(Some("uuid:00000000-0000-4000-8000-000000000000"), &[], None);
            let sealed = encryption::seal(&mut session, wrong.as_bytes()).unwrap();
            respond(&mut s, "200 ", &[sealed_type()], &sealed).await;
        }
        Case::FiftyMebibyteBody => {
            s.write_all(b"HTTP/1.1 200 \r\nContent-Type: application/soap+xml\r\nContent-Length: 52428800\r\n\r\n")
                .await?;
            let chunk = vec![b'<'; 64 * 1024];
            for _ in 0..800 {
                s.write_all(&chunk).await?;
            }
        }
        _ => unreachable!("{case:?} ends before authentication"),
    }
    // Leave the connection open a while, as a server that misbehaves and lingers.
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(())
}

fn client(addr: &str) -> Client {
    Client::builder(addr)
        .credentials("admin", Password::new(PASSWORD))
        // OperationTimeout 0: the HTTP limit is the 5 s margin.
        .operation_timeout(Duration::ZERO)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// What each case must end as.
fn expected_kind(case: Case) -> ErrorKind {
    match case {
        Case::SilenceAfterConnect | Case::OneBytePerSecond => ErrorKind::Timeout,
        Case::CloseOnConnect
        | Case::CloseAfterNegotiate
        | Case::NotHttp
        | Case::HugeHeaders
        | Case::AbsurdContentLength
        | Case::InvalidChunkSize
        | Case::BodyCutShort
        | Case::FiftyMebibyteBody => ErrorKind::Connect,
        Case::NoWwwAuthenticate => ErrorKind::Auth,
        _ => ErrorKind::Protocol,
    }
}

/// Whether the envelope reached the server in this case.
fn delivers(case: Case) -> bool {
    matches!(
        case,
        Case::BodyCutShort
            | Case::PlainReplyToSealedRequest
            | Case::WrongSignature
            | Case::WrongSequence
            | Case::SealedLengthNearMax
            | Case::Sealed500NonXml
            | Case::WrongRelatesTo
            | Case::FiftyMebibyteBody
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_ends_in_a_typed_error_naming_the_host() {
    let mut runs = Vec::new();
    for case in ALL {
        runs.push(tokio::spawn(async move {
            let server = start(case).await;
            let c = client(&server.addr);
            let t = Instant::now();
            let e = c
                .enumerate(
                    &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_OperatingSystem"),
                    &Default::default(),
                )
                .await
                .expect_err("a hostile server never yields a result");
            let elapsed = t.elapsed();
            let envelopes = server.envelopes.load(Ordering::SeqCst);
            (case, e, elapsed, envelopes, server.addr.clone())
        }));
    }
    let mut table = Vec::new();
    for run in runs {
        let (case, e, elapsed, envelopes, addr) = run.await.expect("no panic in any case");
        let text = e.to_string();
        table.push(format!("{case:?}: {} — {text}", e.kind()));
        assert!(
            text.contains(&addr),
            "{case:?} does not name the host: {text}"
        );
        assert_eq!(e.kind(), expected_kind(case), "{case:?}: {text}");
        // Request limit 5 s (OperationTimeout 0 + margin); a case may take it twice when the
        // first connection was closed before anything was written and the request went out once
        // more.
        assert!(
            elapsed < Duration::from_secs(13),
            "{case:?} took {elapsed:?}"
        );
        // Delivered at most once, and reported as possibly delivered when it was.
        assert!(
            envelopes <= 1,
            "{case:?}: the envelope arrived {envelopes} times"
        );
        assert_eq!(
            envelopes == 1,
            delivers(case),
            "{case:?}: {envelopes} envelopes"
        );
        assert_eq!(e.maybe_delivered(), delivers(case), "{case:?}: {text}");
    }
    println!("{}", table.join("\n"));
}

/// The same servers through the CLI, as one fleet run: every host fails with its own line, the
/// run ends (exit 1, not a panic's 101), and the JSON names each host and kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_survives_a_fleet_of_hostile_servers() {
    let mut servers = Vec::new();
    for case in ALL {
        servers.push(start(case).await);
    }
    let hosts: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("winrm-ipmi")
            .unwrap()
            .env("WINRM_PASSWORD", PASSWORD)
            .args(["-U", "admin", "--timeout", "0", "--output", "json", "-H"])
            .arg(hosts.join(","))
            .arg("correlate")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), ALL.len());
    for (line, server) in lines.iter().zip(&servers) {
        assert_eq!(line["host"], server.addr.as_str());
        assert_eq!(line["ok"], false);
        assert!(line["error"].is_string(), "{line}");
        assert!(
            line["message"].as_str().unwrap().contains(&server.addr),
            "{line}"
        );
    }
}

/// A service that never ends its enumeration: after the Enumerate, every Pull hands back the
/// same context, with `items` items of `properties` properties each. The client gives up with a
/// typed error naming the host, after a bounded number of Pulls (no items: three in a row; too
/// many items; too many properties), instead of pulling for ever, and releases the context.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enumeration_that_never_ends_is_given_up_and_released() {
    // (items per page, properties per item, max_items, max_properties, Pulls expected, why)
    for (items, properties, max_items, max_properties, expected_pulls, why) in [
        (
            0usize,
            1usize,
            50,
            1_000_000,
            MAX_EMPTY_PULLS as usize,
            "no items",
        ),
        (1, 1, 50, 1_000_000, 51, "more items"),
        (2, 1_000, 100_000, 10_000, 6, "more properties"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (pulls, releases) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (seen_pulls, seen_releases) = (pulls.clone(), releases.clone());
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let (head, _) = read_request(&mut s).await.unwrap().unwrap();
            let auth = header(&head, "Authorization")
                .unwrap_or_default()
                .to_string();
            let (scheme, token) = auth.split_once(' ').unwrap();
            let mut session = accept_ntlm(&mut s, scheme, token).await.unwrap().unwrap();
            let values: Vec<(String, Option<String>)> = (0..properties)
                .map(|i| (format!("P{i}"), Some("x".to_string())))
                .collect();
            let values: Vec<(&str, Option<String>)> = values
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            while let Some((_, body)) = read_request(&mut s).await.unwrap() {
                let xml = encryption::unseal(&mut session, &body).unwrap();
                let request = parse_request(&xml).unwrap();
                let relates = request.message_id.as_deref();
                let action = request.action.as_deref().unwrap_or_default();
                let mut out = String::new();
                if action.ends_with("/Enumerate") {
                    out = enumerate_reply(relates, &[], Some("uuid:endless"));
                } else if action.ends_with("/Release") {
                    assert!(String::from_utf8_lossy(&xml).contains("uuid:endless"));
                    seen_releases.fetch_add(1, Ordering::SeqCst);
                    reply_start(
                        &mut out,
                        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse",
                        relates,
                    );
                    reply_end(&mut out);
                } else {
                    assert!(action.ends_with("/Pull"), "{action}");
                    seen_pulls.fetch_add(1, Ordering::SeqCst);
                    reply_start(
                        &mut out,
                        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse",
                        relates,
                    );
                    out.push_str("<n:PullResponse><n:EnumerationContext>uuid:endless</n:EnumerationContext><n:Items>");
                    for _ in 0..items {
                        out.push_str(&instance_xml(
                            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process",
                            "Win32_Process",
                            &values,
                        ));
                    }
                    out.push_str("</n:Items></n:PullResponse>");
                    reply_end(&mut out);
                }
                let sealed = encryption::seal(&mut session, out.as_bytes()).unwrap();
                respond(&mut s, "200 ", &[sealed_type()], &sealed).await;
            }
        });
        let e = client(&addr)
            .enumerate(
                &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_Process"),
                &EnumerateOptions {
                    optimize: false,
                    max_items,
                    max_properties,
                    ..Default::default()
                },
            )
            .await
            .expect_err("an enumeration that never ends is not a result");
        let text = e.to_string();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{why}: {text}");
        assert!(text.contains(&addr), "{why}: {text}");
        assert!(
            text.contains("did not end within its limits"),
            "{why}: {text}"
        );
        assert_eq!(
            pulls.load(Ordering::SeqCst),
            expected_pulls,
            "{why}: {text}"
        );
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{why}: {text}");
        server.abort();
    }
}
