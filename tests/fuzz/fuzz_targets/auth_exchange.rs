//! The HTTP authentication state machine fed with arbitrary statuses and `WWW-Authenticate`
//! values (raw, or carrying the fuzzer's bytes as a base64 token): typed errors, never a panic,
//! and never a leg after an error.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use winrm_ipmi::auth::basic::Basic;
use winrm_ipmi::auth::ntlm::{InitiatorOptions, Ntlm};
use winrm_ipmi::auth::{AuthExchange, Credentials, Flow, Mechanism, Next, Password};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let creds = Credentials::new("DOM\\user", Password::new("pw"));
    let mechanism: Box<dyn Mechanism> = if mode & 1 == 0 {
        let options = InitiatorOptions {
            client_challenge: Some([1; 8]),
            exported_session_key: Some([2; 16]),
            timestamp: Some(0),
            ..Default::default()
        };
        Box::new(Ntlm::new(creds, options))
    } else {
        Box::new(Basic::new(&creds))
    };
    let flow = if mode & 2 == 0 { Flow::EmptyPost } else { Flow::Piggyback };
    let mut exchange = AuthExchange::new(mechanism, flow);
    if exchange.start().is_err() {
        return;
    }
    // Responses: [status hi, status lo, header bytes..., 0xFF] repeated.
    for response in rest.split(|b| *b == 0xFF).take(8) {
        let Some((status, header)) = response.split_at_checked(2) else { return };
        let status = u16::from_be_bytes([status[0], status[1]]) % 600;
        let value = if mode & 4 == 0 {
            String::from_utf8_lossy(header).into_owned()
        } else {
            let scheme = if mode & 8 == 0 { "Negotiate" } else { "NTLM" };
            format!("{scheme} {}", base64::engine::general_purpose::STANDARD.encode(header))
        };
        match exchange.receive(status, &[value.as_str()]) {
            Ok(Next::Send(leg)) => {
                if leg.carries_envelope
                    && let Some(s) = exchange.security()
                {
                    let mut msg = b"<s:Envelope/>".to_vec();
                    let mut head = vec![0; s.header_len()];
                    s.wrap(&mut msg, &mut head);
                }
                let _ = format!("{leg:?}");
            }
            Ok(Next::Authenticated | Next::Reply) => {
                let _ = exchange.per_request_header();
                let _ = exchange.take_security();
                return;
            }
            Err(e) => {
                let _ = (e.to_string(), e.is_refusal());
                return;
            }
        }
    }
});
