//! The HTTP authentication exchange as a state machine (the shape of tokio-postgres' SASL
//! exchange): fed with each response's status and `WWW-Authenticate` values, it says what the
//! next request carries. No sockets, no clocks; the transport moves the bytes.
//!
//! Connection-bound mechanisms (NTLM):
//! 1. an empty POST with the first token (`Authorization: Negotiate <NEGOTIATE>`);
//! 2. a `401` with the server's token; the mechanism answers;
//! 3. with [`Flow::EmptyPost`] (what every captured client does and Windows answers `200`), the
//!    final token goes on another empty POST, and the envelope follows as an ordinary request;
//!    with [`Flow::Piggyback`] (MS-WSMV §4.5's example) the final token rides on the first
//!    envelope, sealed already, saving one round trip.
//!
//! Per-request mechanisms (Basic) carry their header on the envelope itself: a `401` to it is a
//! refusal.

use super::{AuthError, Mechanism, MessageSecurity};

/// Where the final token of a connection-bound exchange goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flow {
    /// On an empty POST, answered `200` with no body (pywinrm, pypsrp, Ruby and Go WinRM; the
    /// flow seen in every capture of Windows).
    #[default]
    EmptyPost,
    /// On the first envelope (MS-WSMV §4.5): one round trip fewer per connection.
    Piggyback,
}

/// One request of the exchange. (`Debug` shows the scheme, never the token: a Basic token is
/// the password.)
#[derive(Clone, PartialEq, Eq)]
pub struct Leg {
    /// The `Authorization` header value.
    pub authorization: Option<String>,
    /// Whether the request carries the caller's envelope (sealed with
    /// [`AuthExchange::security`] when sealing); otherwise its body is empty.
    pub carries_envelope: bool,
}

impl std::fmt::Debug for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self
            .authorization
            .as_deref()
            .map(|a| a.split(' ').next().unwrap_or_default());
        f.debug_struct("Leg")
            .field("scheme", &scheme)
            .field("carries_envelope", &self.carries_envelope)
            .finish()
    }
}

/// What to do after a response.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Send this request and feed its response back.
    Send(Leg),
    /// Authenticated; the envelope has not been sent yet: send it as an ordinary request.
    Authenticated,
    /// Authenticated, and this response is the reply to the envelope the last leg carried.
    Reply,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// A token went out; the mechanism awaits the server's.
    AwaitChallenge,
    /// The final token went out.
    AwaitFinal {
        carried_envelope: bool,
    },
    Done,
}

/// One authentication exchange on one connection.
pub struct AuthExchange {
    mechanism: Box<dyn Mechanism>,
    flow: Flow,
    state: State,
    scheme: &'static str,
    security: Option<Box<dyn MessageSecurity>>,
}

impl std::fmt::Debug for AuthExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthExchange")
            .field("mechanism", &self.mechanism.name())
            .field("flow", &self.flow)
            .field("state", &self.state)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

/// Why Basic credentials are refused.
pub(crate) const BASIC_REFUSED_HINT: &str = "wrong password, or Basic is disabled on the service";

pub(crate) const REFUSED_HINT: &str =
    "wrong password, unknown account, or the account may not log on through WinRM";

impl AuthExchange {
    /// An exchange for `mechanism`.
    pub fn new(mechanism: Box<dyn Mechanism>, flow: Flow) -> Self {
        let scheme = mechanism.schemes()[0];
        AuthExchange {
            mechanism,
            flow,
            state: State::Start,
            scheme,
            security: None,
        }
    }

    /// The mechanism's name.
    pub fn mechanism(&self) -> &'static str {
        self.mechanism.name()
    }

    /// The HTTP scheme in use.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The first request.
    pub fn start(&mut self) -> Result<Leg, AuthError> {
        if self.state != State::Start {
            return Err(AuthError::State("start called twice"));
        }
        self.first_leg()
    }

    fn first_leg(&mut self) -> Result<Leg, AuthError> {
        let token = self.mechanism.step(None)?;
        let authorization = Some(self.mechanism.header(self.scheme, &token));
        if !self.mechanism.connection_bound() {
            self.state = State::AwaitFinal {
                carried_envelope: true,
            };
            return Ok(Leg {
                authorization,
                carries_envelope: true,
            });
        }
        self.state = State::AwaitChallenge;
        Ok(Leg {
            authorization,
            carries_envelope: false,
        })
    }

    /// The message security, once the mechanism has completed (for sealing the envelope a
    /// piggybacked leg carries, and every request after).
    pub fn security(&mut self) -> Option<&mut (dyn MessageSecurity + 'static)> {
        self.security.as_deref_mut()
    }

    /// Takes the message security when the exchange is done.
    pub fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
        self.security.take()
    }

    /// The error a refusal of these credentials is.
    pub fn rejection(&self) -> AuthError {
        AuthError::Rejected {
            account: self.mechanism.account(),
            hint: self.mechanism.refusal_hint(),
        }
    }

    /// The header every later request carries (per-request mechanisms), if any.
    pub fn per_request_header(&mut self) -> Result<Option<String>, AuthError> {
        if self.mechanism.connection_bound() {
            return Ok(None);
        }
        let token = self.mechanism.step(None)?;
        Ok(Some(self.mechanism.header(self.scheme, &token)))
    }

    /// Feeds one response: its status and `WWW-Authenticate` values.
    pub fn receive(&mut self, status: u16, www_authenticate: &[&str]) -> Result<Next, AuthError> {
        match self.state {
            State::Start | State::Done => Err(AuthError::State("receive without a request")),
            State::AwaitChallenge => {
                if status == 200 && self.mechanism.completes_on_success() {
                    return self.mutual(www_authenticate);
                }
                if status != 401 {
                    return Err(AuthError::UnexpectedStatus {
                        status,
                        expected: "a 401 challenge to our first token",
                    });
                }
                let token = match token_for(www_authenticate, self.scheme) {
                    Some(Ok(t)) => t,
                    Some(Err(())) => {
                        return Err(AuthError::MalformedToken(
                            "the server's token is not base64",
                        ));
                    }
                    None => {
                        // The first token refused outright (a bare 401), as a service without
                        // a key for the SPN does. Once a Kerberos ticket has gone out this is a
                        // refusal, never a reason to start over with NTLM: anyone on the path
                        // could send the bare 401, and Windows clients do not fall back either
                        // (they report 0x80090322). Negotiate uses NTLM only where Kerberos was
                        // impossible before anything was sent (no ticket, an SPN the KDC does
                        // not know).
                        let offered = offered_schemes(www_authenticate);
                        if self.mechanism.completes_on_success()
                            && offered.iter().any(|o| o.eq_ignore_ascii_case(self.scheme))
                        {
                            return Err(self.rejection());
                        }
                        // A server that offers only a later scheme (NTLM-only): start over
                        // with it, once per scheme.
                        let schemes = self.mechanism.schemes();
                        let at = schemes.iter().position(|s| *s == self.scheme).unwrap_or(0);
                        if let Some(next) = schemes[at + 1..]
                            .iter()
                            .find(|s| offered.iter().any(|o| o.eq_ignore_ascii_case(s)))
                        {
                            self.scheme = next;
                            return self.first_leg().map(Next::Send);
                        }
                        return Err(AuthError::NoScheme {
                            mechanism: self.mechanism.name(),
                            offered,
                        });
                    }
                };
                // A server token that fails (Kerberos: it does not verify) is an error, never a
                // reason to fall back: that would let anyone on the path force NTLM.
                let answer = self.mechanism.step(Some(&token))?;
                let authorization = Some(self.mechanism.header(self.scheme, &answer));
                if !self.mechanism.is_complete() {
                    return Ok(Next::Send(Leg {
                        authorization,
                        carries_envelope: false,
                    }));
                }
                self.security = self.mechanism.take_security();
                let carried_envelope = self.flow == Flow::Piggyback;
                self.state = State::AwaitFinal { carried_envelope };
                Ok(Next::Send(Leg {
                    authorization,
                    carries_envelope: carried_envelope,
                }))
            }
            State::AwaitFinal { carried_envelope } => {
                self.state = State::Done;
                match (status, carried_envelope) {
                    (401, true) if self.mechanism.connection_bound() => {
                        Err(AuthError::PiggybackRefused { status })
                    }
                    (401, _) => Err(self.rejection()),
                    (200 | 500, true) => Ok(Next::Reply),
                    (200, false) => Ok(Next::Authenticated),
                    (s, true) => Err(AuthError::UnexpectedStatus {
                        status: s,
                        expected: "a reply (200 or 500) to the authenticated request",
                    }),
                    (s, false) => Err(AuthError::UnexpectedStatus {
                        status: s,
                        expected: "200 to the final authentication token",
                    }),
                }
            }
        }
    }
}

impl AuthExchange {
    /// Whether the next step may block (ask a KDC): run it off the async executor.
    pub fn may_block(&self) -> bool {
        self.mechanism.may_block()
    }

    /// A `200` to our first token: the server's mutual-authentication token must come with
    /// it and complete the context.
    fn mutual(&mut self, www_authenticate: &[&str]) -> Result<Next, AuthError> {
        self.state = State::Done;
        let token = match token_for(www_authenticate, self.scheme) {
            Some(Ok(t)) => t,
            Some(Err(())) => {
                return Err(AuthError::MalformedToken(
                    "the server's token is not base64",
                ));
            }
            None => return Err(AuthError::NoMutualToken),
        };
        let answer = self.mechanism.step(Some(&token))?;
        if !self.mechanism.is_complete() || !answer.is_empty() {
            return Err(AuthError::Kerberos(super::kerberos::KerberosError::Mutual(
                "the server's final token did not complete the exchange".into(),
            )));
        }
        self.security = self.mechanism.take_security();
        Ok(Next::Authenticated)
    }
}

/// The schemes a `WWW-Authenticate` offers (first word of each comma-separated challenge).
pub fn offered_schemes(values: &[&str]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|v| v.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The token in `WWW-Authenticate: <scheme> <base64>`: `None` when the scheme carries no token,
/// `Err` when the token is not base64.
fn token_for(values: &[&str], scheme: &str) -> Option<Result<Vec<u8>, ()>> {
    use base64::Engine;
    values.iter().flat_map(|v| v.split(',')).find_map(|v| {
        let mut it = v.split_whitespace();
        let s = it.next()?;
        let t = it.next()?;
        s.eq_ignore_ascii_case(scheme).then(|| {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| ())
        })
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;

    use super::*;
    use crate::auth::basic::Basic;
    use crate::auth::ntlm::{InitiatorOptions, Ntlm};
    use crate::auth::{Credentials, Password};

    /// MS-NLMP §4.2.4.3's CHALLENGE_MESSAGE, as a server's `401` carries it: the headers of a
    /// Windows 401 (`Negotiate <token>`, and `Basic realm="WSMAN"` when Basic is enabled).
    fn challenge_headers(scheme: &str) -> Vec<String> {
        let challenge: Vec<u8> = "4e544c4d53535000020000000300 0c00380000003382 8ae20123456789abcdef0000000000000000240024004400000006007017000000 0f53006500720076006500720002000c0044006f006d00610069006e0001000c00530065007200760065007200 00000000"
            .split_whitespace()
            .collect::<String>()
            .as_bytes()
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect();
        vec![
            format!("{scheme} {}", B64.encode(challenge)),
            "Basic realm=\"WSMAN\"".into(),
        ]
    }

    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    fn ntlm(flow: Flow) -> AuthExchange {
        let creds = Credentials::new("Domain\\User", Password::new("Password"));
        let options = InitiatorOptions {
            client_challenge: Some([0xaa; 8]),
            exported_session_key: Some([0x55; 16]),
            timestamp: Some(0),
            ..Default::default()
        };
        AuthExchange::new(Box::new(Ntlm::new(creds, options)), flow)
    }

    fn token(leg: &Leg) -> (String, Vec<u8>) {
        let (scheme, b64) = leg
            .authorization
            .as_deref()
            .unwrap()
            .split_once(' ')
            .unwrap();
        (scheme.to_string(), B64.decode(b64).unwrap())
    }

    #[test]
    fn captured_flow_negotiate_challenge_authenticate_on_an_empty_post() {
        let mut ex = ntlm(Flow::EmptyPost);
        let first = ex.start().unwrap();
        assert!(!first.carries_envelope);
        let (scheme, negotiate) = token(&first);
        assert_eq!(scheme, "Negotiate");
        assert_eq!(&negotiate[..12], b"NTLMSSP\0\x01\0\0\0");
        assert!(ex.security().is_none(), "no keys before the challenge");

        let Next::Send(last) = ex
            .receive(401, &refs(&challenge_headers("Negotiate")))
            .unwrap()
        else {
            panic!("expected the AUTHENTICATE leg");
        };
        assert!(!last.carries_envelope, "the captured flow: an empty POST");
        let (scheme, authenticate) = token(&last);
        assert_eq!(scheme, "Negotiate");
        assert_eq!(&authenticate[..12], b"NTLMSSP\0\x03\0\0\0");
        assert_eq!(ex.receive(200, &[]).unwrap(), Next::Authenticated);
        let mut security = ex.take_security().expect("NTLM seals");
        assert_eq!(security.header_len(), 16);
        let mut msg = *b"<s:Envelope/>";
        let mut header = [0u8; 16];
        security.wrap(&mut msg, &mut header).unwrap();
        assert_ne!(&msg, b"<s:Envelope/>");
        assert_eq!(ex.per_request_header().unwrap(), None);
        assert!(matches!(ex.receive(200, &[]), Err(AuthError::State(_))));
    }

    #[test]
    fn piggyback_flow_carries_the_envelope_and_its_reply() {
        let mut ex = ntlm(Flow::Piggyback);
        ex.start().unwrap();
        let Next::Send(last) = ex
            .receive(401, &refs(&challenge_headers("Negotiate")))
            .unwrap()
        else {
            panic!()
        };
        assert!(last.carries_envelope);
        assert!(ex.security().is_some(), "keys to seal the envelope with");
        assert_eq!(
            ex.receive(500, &[]).unwrap(),
            Next::Reply,
            "a fault is a reply"
        );

        // Refused: nothing was processed, the caller may retry with the captured flow.
        let mut ex = ntlm(Flow::Piggyback);
        ex.start().unwrap();
        ex.receive(401, &refs(&challenge_headers("Negotiate")))
            .unwrap();
        assert_eq!(
            ex.receive(401, &["Negotiate"]),
            Err(AuthError::PiggybackRefused { status: 401 })
        );
        // Any other status to the envelope-carrying leg may follow delivery: not a refusal.
        let mut ex = ntlm(Flow::Piggyback);
        ex.start().unwrap();
        ex.receive(401, &refs(&challenge_headers("Negotiate")))
            .unwrap();
        assert!(matches!(
            ex.receive(503, &[]),
            Err(AuthError::UnexpectedStatus { status: 503, .. })
        ));
    }

    #[test]
    fn an_ntlm_only_server_gets_the_ntlm_scheme() {
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        let Next::Send(again) = ex.receive(401, &["NTLM"]).unwrap() else {
            panic!()
        };
        let (scheme, negotiate) = token(&again);
        assert_eq!(scheme, "NTLM");
        assert_eq!(&negotiate[..8], b"NTLMSSP\0");
        let Next::Send(last) = ex.receive(401, &refs(&challenge_headers("NTLM"))).unwrap() else {
            panic!()
        };
        assert_eq!(token(&last).0, "NTLM");
        // Only once per scheme: a server still offering nothing usable is an error.
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        ex.receive(401, &["NTLM"]).unwrap();
        assert!(matches!(
            ex.receive(401, &["NTLM"]),
            Err(AuthError::NoScheme { .. })
        ));
    }

    #[test]
    fn refusals_and_hostile_answers_are_typed() {
        // Only Basic offered.
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        let e = ex.receive(401, &["Basic realm=\"WSMAN\""]).unwrap_err();
        assert_eq!(
            e,
            AuthError::NoScheme {
                mechanism: "NTLM",
                offered: vec!["Basic".into()]
            }
        );
        assert!(e.to_string().contains("WWW-Authenticate: Basic"), "{e}");
        // A 401 without any WWW-Authenticate.
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        assert!(e.is_refusal());
        assert!(matches!(
            ex.receive(401, &[]),
            Err(AuthError::NoScheme { offered, .. }) if offered.is_empty()
        ));
        // 200 to a NEGOTIATE.
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        assert!(matches!(
            ex.receive(200, &[]),
            Err(AuthError::UnexpectedStatus { status: 200, .. })
        ));
        // A token that is not base64, and one that is not NTLM.
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        assert!(matches!(
            ex.receive(401, &["Negotiate !!!not-base64!!!"]),
            Err(AuthError::MalformedToken(_))
        ));
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        let e = ex
            .receive(401, &[&format!("Negotiate {}", B64.encode([0xff; 40]))])
            .unwrap_err();
        assert!(matches!(e, AuthError::Ntlm(_)), "{e:?}");
        assert!(!e.is_refusal());
        // The credentials refused: named, without the password.
        let mut ex = ntlm(Flow::EmptyPost);
        ex.start().unwrap();
        ex.receive(401, &refs(&challenge_headers("Negotiate")))
            .unwrap();
        let e = ex.receive(401, &["Negotiate"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("refused the credentials for Domain\\User"),
            "{e}"
        );
        assert!(!format!("{e} {e:?} {ex:?}").contains("Password\""));
    }

    #[test]
    fn basic_goes_on_every_request() {
        let creds = Credentials::new("admin", Password::new("s3cret"));
        let mut ex = AuthExchange::new(Box::new(Basic::new(&creds)), Flow::EmptyPost);
        let leg = ex.start().unwrap();
        assert!(leg.carries_envelope);
        assert_eq!(token(&leg), ("Basic".into(), b"admin:s3cret".to_vec()));
        assert_eq!(ex.receive(200, &[]).unwrap(), Next::Reply);
        assert_eq!(ex.per_request_header().unwrap(), leg.authorization);
        assert!(ex.take_security().is_none());
        assert!(!format!("{ex:?}").contains("s3cret"));
        assert!(!format!("{leg:?}").contains("YWRtaW46czNjcmV0"), "{leg:?}");

        let mut ex = AuthExchange::new(Box::new(Basic::new(&creds)), Flow::EmptyPost);
        ex.start().unwrap();
        let e = ex.receive(401, &["Basic realm=\"WSMAN\""]).unwrap_err();
        assert!(e.to_string().contains("Basic is disabled"), "{e}");
    }
}
