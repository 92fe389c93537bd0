//! Our NTLM initiator against an independent acceptor: pyspnego's, driven over stdin/stdout.
//! Covers the handshake with channel bindings and MIC, sealed messages both ways, and each
//! failure: wrong password, corrupted MIC, wrong or missing channel bindings, tampered reply.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::{ScratchDir, hex, python_with, unhex};
use winrm_ipmi::auth::ntlm::{
    ChannelBindings, InitiatorOptions, NtlmError, NtlmInitiator, SessionSecurity,
};
use winrm_ipmi::auth::{Credentials, Password};

const USERS: &str = "TESTDOM:alice:Passw0rd!\n:bob@TESTDOM.LOCAL:S3cret\n";
const CBT: &[u8] = b"tls-server-end-point:\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20";

struct Acceptor {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The acceptor's user file (its directory goes after the process).
    _dir: ScratchDir,
}

impl Acceptor {
    fn start(python: &std::path::Path, cbt: Option<&[u8]>) -> Acceptor {
        // Tests run acceptors in parallel: each has a directory of its own.
        let dir = ScratchDir::numbered("ntlm-acceptor");
        let users = dir.join("users");
        std::fs::write(&users, USERS).unwrap();
        let mut cmd = Command::new(python);
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/ntlm_acceptor.py"
        ));
        if let Some(c) = cbt {
            cmd.args(["--cbt", &hex(c)]);
        }
        let mut child = cmd
            .env("NTLM_USER_FILE", &users)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Acceptor {
            child,
            stdin,
            stdout,
            _dir: dir,
        }
    }

    fn ask(&mut self, line: &str) -> Vec<String> {
        writeln!(self.stdin, "{line}").unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).unwrap();
        answer.split_whitespace().map(str::to_string).collect()
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn initiator(account: &str, password: &str, cbt: Option<&[u8]>) -> NtlmInitiator {
    NtlmInitiator::new(
        Credentials::new(account, Password::new(password)),
        InitiatorOptions {
            channel_bindings: cbt.map(|c| ChannelBindings::from_application_data(c.to_vec())),
            target_spn: Some("HTTP/server01.testdom.local".into()),
            ..Default::default()
        },
    )
}

/// Runs the handshake; `mangle` may alter the AUTHENTICATE bytes. Returns the acceptor's last
/// answer and our session keys.
fn handshake(
    acc: &mut Acceptor,
    mut init: NtlmInitiator,
    mangle: impl FnOnce(&mut Vec<u8>),
) -> (Vec<String>, SessionSecurity) {
    let neg = init.negotiate();
    let a = acc.ask(&format!("TOKEN {}", hex(&neg)));
    assert_eq!(a[0], "TOKEN", "{a:?}");
    assert_eq!(a[2], "continue");
    let (mut auth, session) = init.authenticate(&unhex(&a[1])).unwrap();
    mangle(&mut auth);
    (acc.ask(&format!("TOKEN {}", hex(&auth))), session)
}

#[test]
fn sealed_messages_both_ways_with_channel_bindings() {
    let Some(py) = python_with("spnego", "sealed_messages_both_ways_with_channel_bindings") else {
        return;
    };
    let mut acc = Acceptor::start(&py, Some(CBT));
    let (done, mut session) = handshake(
        &mut acc,
        initiator("TESTDOM\\alice", "Passw0rd!", Some(CBT)),
        |_| {},
    );
    assert_eq!(done[..3], ["TOKEN", "-", "complete"], "{done:?}");
    assert_eq!(done[3], "TESTDOM\\alice");
    for i in 0..3 {
        // Ours to theirs.
        let plain = format!("<s:Envelope>IPMI request {i}</s:Envelope>").into_bytes();
        let mut sealed = plain.clone();
        let sig = session.seal(&mut sealed);
        assert_ne!(sealed, plain);
        let a = acc.ask(&format!("UNWRAP {} {}", hex(&sig), hex(&sealed)));
        assert_eq!(a, ["PLAIN".to_string(), hex(&plain)], "message {i}");
        // Theirs to ours.
        let reply = format!(
            "<s:Envelope>IPMI reply {i} {}</s:Envelope>",
            "x".repeat(2000)
        )
        .into_bytes();
        let a = acc.ask(&format!("WRAP {}", hex(&reply)));
        assert_eq!(a[0], "WRAPPED");
        let sig = unhex(&a[1]);
        assert_eq!(sig.len(), 16);
        let mut data = unhex(&a[2]);
        session.unseal(&mut data, &sig).unwrap();
        assert_eq!(data, reply);
    }
}

#[test]
fn upn_account_without_channel_bindings() {
    let Some(py) = python_with("spnego", "upn_account_without_channel_bindings") else {
        return;
    };
    let mut acc = Acceptor::start(&py, None);
    let (done, _) = handshake(
        &mut acc,
        initiator("bob@TESTDOM.LOCAL", "S3cret", None),
        |_| {},
    );
    assert_eq!(done[..3], ["TOKEN", "-", "complete"], "{done:?}");
}

#[test]
fn wrong_password_is_rejected() {
    let Some(py) = python_with("spnego", "wrong_password_is_rejected") else {
        return;
    };
    let mut acc = Acceptor::start(&py, None);
    let (done, _) = handshake(&mut acc, initiator("TESTDOM\\alice", "wrong", None), |_| {});
    assert_eq!(done[0], "ERR", "{done:?}");
    assert!(done.join(" ").contains("Invalid NTLM response"), "{done:?}");
}

#[test]
fn corrupted_mic_is_rejected() {
    let Some(py) = python_with("spnego", "corrupted_mic_is_rejected") else {
        return;
    };
    let mut acc = Acceptor::start(&py, None);
    // The MIC sits at offset 72 of an AUTHENTICATE with a Version field.
    let (done, _) = handshake(
        &mut acc,
        initiator("TESTDOM\\alice", "Passw0rd!", None),
        |auth| auth[72] ^= 0x01,
    );
    assert_eq!(done[0], "ERR", "{done:?}");
    assert!(done.join(" ").contains("MIC"), "{done:?}");
}

#[test]
fn wrong_or_missing_channel_bindings_are_rejected() {
    let Some(py) = python_with("spnego", "wrong_or_missing_channel_bindings_are_rejected") else {
        return;
    };
    let mut acc = Acceptor::start(&py, Some(CBT));
    let mut other = CBT.to_vec();
    *other.last_mut().unwrap() ^= 0xff;
    let (done, _) = handshake(
        &mut acc,
        initiator("TESTDOM\\alice", "Passw0rd!", Some(&other)),
        |_| {},
    );
    assert_eq!(done[..2], ["ERR", "BadBindingsError"], "{done:?}");
    let mut acc = Acceptor::start(&py, Some(CBT));
    let (done, _) = handshake(
        &mut acc,
        initiator("TESTDOM\\alice", "Passw0rd!", None),
        |_| {},
    );
    assert_eq!(done[..2], ["ERR", "BadBindingsError"], "{done:?}");
}

#[test]
fn tampered_sealed_reply_is_a_typed_error() {
    let Some(py) = python_with("spnego", "tampered_sealed_reply_is_a_typed_error") else {
        return;
    };
    let mut acc = Acceptor::start(&py, None);
    let (done, mut session) = handshake(
        &mut acc,
        initiator("TESTDOM\\alice", "Passw0rd!", None),
        |_| {},
    );
    assert_eq!(done[2], "complete");
    let a = acc.ask(&format!("WRAP {}", hex(b"<s:Envelope>reply</s:Envelope>")));
    let sig = unhex(&a[1]);
    let mut data = unhex(&a[2]);
    data[5] ^= 0x20;
    assert_eq!(
        session.unseal(&mut data, &sig),
        Err(NtlmError::BadSignature)
    );
    // And a sealed request with a tampered signature is refused by the acceptor.
    let mut sealed = b"<s:Envelope>request</s:Envelope>".to_vec();
    let mut sig = session.seal(&mut sealed);
    sig[6] ^= 1;
    let a = acc.ask(&format!("UNWRAP {} {}", hex(&sig), hex(&sealed)));
    assert_eq!(a[0], "ERR", "{a:?}");
}

#[cfg(feature = "sim")]
mod our_acceptor {
    //! Our acceptor (the simulator's) against pyspnego's initiator.

    use super::*;
    use winrm_ipmi::auth::ntlm::{AcceptorIdentity, NtlmAcceptor, PasswordLookup};

    struct Users;
    impl PasswordLookup for Users {
        fn password(&self, domain: &str, user: &str) -> Option<String> {
            match (
                domain.to_ascii_uppercase().as_str(),
                user.to_ascii_lowercase().as_str(),
            ) {
                ("TESTDOM", "alice") => Some("Passw0rd!".into()),
                ("", "bob@testdom.local") => Some("S3cret".into()),
                _ => None,
            }
        }
    }

    struct Initiator {
        child: Child,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
    }

    impl Initiator {
        fn start(
            py: &std::path::Path,
            user: &str,
            password: &str,
            cbt: Option<&[u8]>,
        ) -> (Initiator, Vec<u8>) {
            let mut cmd = Command::new(py);
            cmd.arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/ntlm_initiator.py"
            ))
            .args([user, password]);
            if let Some(c) = cbt {
                cmd.arg(hex(c));
            }
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = child.stdin.take().unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            let mut first = String::new();
            stdout.read_line(&mut first).unwrap();
            let negotiate = unhex(first.split_whitespace().nth(1).unwrap());
            (
                Initiator {
                    child,
                    stdin,
                    stdout,
                },
                negotiate,
            )
        }

        fn ask(&mut self, line: &str) -> Vec<String> {
            writeln!(self.stdin, "{line}").unwrap();
            let mut answer = String::new();
            self.stdout.read_line(&mut answer).unwrap();
            answer.split_whitespace().map(str::to_string).collect()
        }
    }

    impl Drop for Initiator {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn identity() -> AcceptorIdentity {
        AcceptorIdentity {
            computer: "SIM-HOST-001".into(),
            domain: "TESTDOM".into(),
            dns_computer: "sim-host-001.testdom.local".into(),
        }
    }

    #[test]
    fn pyspnego_initiator_authenticates_and_seals_both_ways() {
        let Some(py) = python_with("spnego", "our acceptor vs pyspnego initiator") else {
            return;
        };
        for (user, pw, cbt) in [
            ("TESTDOM\\alice", "Passw0rd!", Some(CBT)),
            ("bob@TESTDOM.LOCAL", "S3cret", None),
        ] {
            let (mut client, negotiate) = Initiator::start(&py, user, pw, cbt);
            let mut acc = NtlmAcceptor::new(
                identity(),
                cbt.map(|c| ChannelBindings::from_application_data(c.to_vec())),
            );
            let challenge = acc.challenge(&negotiate).unwrap();
            let a = client.ask(&format!("TOKEN {}", hex(&challenge)));
            assert_eq!(a[0], "TOKEN", "{a:?}");
            let mut accepted = acc.accept(&unhex(&a[1]), &Users).unwrap();
            for i in 0..3 {
                let msg = format!("<s:Envelope>request {i}</s:Envelope>").into_bytes();
                let w = client.ask(&format!("WRAP {}", hex(&msg)));
                let mut data = unhex(&w[2]);
                accepted.session.unseal(&mut data, &unhex(&w[1])).unwrap();
                assert_eq!(data, msg);
                let mut reply = format!("<s:Envelope>reply {i}</s:Envelope>").into_bytes();
                let sig = accepted.session.seal(&mut reply);
                let p = client.ask(&format!("UNWRAP {} {}", hex(&sig), hex(&reply)));
                assert_eq!(
                    p,
                    [
                        "PLAIN".to_string(),
                        hex(format!("<s:Envelope>reply {i}</s:Envelope>").as_bytes())
                    ]
                );
            }
        }
    }

    #[test]
    fn wrong_password_and_wrong_bindings_from_pyspnego_are_refused() {
        let Some(py) = python_with("spnego", "our acceptor refusals") else {
            return;
        };
        let (mut client, negotiate) = Initiator::start(&py, "TESTDOM\\alice", "nope", None);
        let mut acc = NtlmAcceptor::new(identity(), None);
        let a = client.ask(&format!(
            "TOKEN {}",
            hex(&acc.challenge(&negotiate).unwrap())
        ));
        assert!(matches!(
            acc.accept(&unhex(&a[1]), &Users),
            Err(NtlmError::LogonFailure(_))
        ));

        let mut other = CBT.to_vec();
        other[30] ^= 1;
        let (mut client, negotiate) =
            Initiator::start(&py, "TESTDOM\\alice", "Passw0rd!", Some(&other));
        let mut acc = NtlmAcceptor::new(
            identity(),
            Some(ChannelBindings::from_application_data(CBT.to_vec())),
        );
        let a = client.ask(&format!(
            "TOKEN {}",
            hex(&acc.challenge(&negotiate).unwrap())
        ));
        assert_eq!(
            acc.accept(&unhex(&a[1]), &Users).unwrap_err(),
            NtlmError::BadBindings
        );
    }
}

#[cfg(feature = "sim")]
mod never_panics {
    //! The parsers of NTLM tokens and sealed bodies on arbitrary and mutated input.

    use proptest::prelude::*;
    use winrm_ipmi::auth::ntlm::messages::{parse_authenticate, parse_challenge};
    use winrm_ipmi::auth::ntlm::{
        AcceptorIdentity, NtlmAcceptor, PasswordLookup, Role, SessionSecurity,
    };
    use winrm_ipmi::transport::encryption;

    struct Anyone;
    impl PasswordLookup for Anyone {
        fn password(&self, _: &str, _: &str) -> Option<String> {
            Some("x".into())
        }
    }

    fn exercise(data: &[u8]) {
        let _ = parse_challenge(data);
        let _ = parse_authenticate(data);
        let identity = AcceptorIdentity {
            computer: "H".into(),
            domain: "H".into(),
            dns_computer: "h".into(),
        };
        let mut acc = NtlmAcceptor::new(identity, None);
        if acc.challenge(data).is_ok() {
            let _ = acc.accept(data, &Anyone);
        }
        let mut session = SessionSecurity::new(&[7; 16], Role::Initiator);
        let _ = encryption::unseal(&mut session, data);
    }

    fn sealed() -> Vec<u8> {
        let mut s = SessionSecurity::new(&[7; 16], Role::Acceptor);
        encryption::seal(&mut s, b"<s:Envelope/>").unwrap()
    }

    proptest! {
        #[test]
        fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            exercise(&data);
            let mut token = b"NTLMSSP\0".to_vec();
            token.extend_from_slice(&data);
            exercise(&token);
        }

        #[test]
        fn mutated_sealed_bodies(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
            let mut body = sealed();
            for (at, b) in edits {
                let i = at.index(body.len());
                body[i] = b;
            }
            let n = cut.index(body.len() + 1);
            exercise(&body[..n]);
        }
    }
}
