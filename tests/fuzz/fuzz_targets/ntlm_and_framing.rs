//! The parsers that read NTLM tokens and sealed bodies off the network: CHALLENGE (client
//! side), NEGOTIATE/AUTHENTICATE (the simulator's acceptor) and the MS-WSMV framing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use winrm_ipmi::auth::ntlm::messages::{parse_authenticate, parse_challenge};
use winrm_ipmi::auth::ntlm::{AcceptorIdentity, NtlmAcceptor, PasswordLookup, Role, SessionSecurity};
use winrm_ipmi::transport::encryption;

struct Nobody;
impl PasswordLookup for Nobody {
    fn password(&self, _: &str, _: &str) -> Option<String> {
        Some("x".into())
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_challenge(data);
    let _ = parse_authenticate(data);
    let identity = AcceptorIdentity { computer: "H".into(), domain: "H".into(), dns_computer: "h".into() };
    let mut acc = NtlmAcceptor::new(identity, None);
    if acc.challenge(data).is_ok() {
        let _ = acc.accept(data, &Nobody);
    }
    let mut session = SessionSecurity::new(&[7; 16], Role::Initiator);
    let _ = encryption::unseal(&mut session, data);
});
