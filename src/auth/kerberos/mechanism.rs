//! Kerberos as an HTTP [`Mechanism`]: a SPNEGO token on an empty POST, the server's mutual
//! authentication token on the `200`, then the GSSAPI context as the connection's
//! [`MessageSecurity`] (MS-WSMV's 60-byte AES wrap header).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::gssapi::{self, Context, Cred, GssError, Name, flags};
use super::{KerberosError, principal_for};
use crate::auth::{AuthError, Credentials, Mechanism, MessageSecurity, Password, SecurityError};

/// Where the ticket-granting ticket comes from.
#[derive(Clone)]
enum Source {
    /// The ccache's default principal, or the client keytab's.
    Default,
    /// This principal's ticket in the ccache (collection) or the client keytab.
    Named(String),
    /// A fresh ticket from this password, in memory.
    Password(String, Password),
}

impl Source {
    fn from(credentials: Option<&Credentials>) -> Source {
        match credentials {
            None => Source::Default,
            Some(c) => {
                let (principal, _) = principal_for(&c.account());
                if c.password().expose().is_empty() {
                    Source::Named(principal)
                } else {
                    Source::Password(principal, c.password().clone())
                }
            }
        }
    }

    /// What the cached credentials were acquired for (the password as a hash, never kept).
    fn key(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        match self {
            Source::Default => h.update(b"default"),
            Source::Named(p) => {
                h.update(b"named\0");
                h.update(p.as_bytes());
            }
            Source::Password(p, password) => {
                h.update(b"password\0");
                h.update(p.as_bytes());
                h.update(b"\0");
                h.update(password.expose().as_bytes());
            }
        }
        h.finalize().into()
    }

    fn who(&self) -> String {
        match self {
            Source::Default => "the default principal".into(),
            Source::Named(p) | Source::Password(p, _) => p.clone(),
        }
    }
}

/// Credentials, for the source they were acquired for.
struct Slot {
    key: [u8; 32],
    cred: Arc<Cred>,
    until: Instant,
}

/// Initiator credentials shared by every connection of one client: one ticket-granting
/// ticket (one AS exchange for a password), service tickets cached with it. Clones share.
#[derive(Clone, Default)]
pub struct TicketCache {
    inner: Arc<Mutex<Option<Slot>>>,
    /// Failures that are the answer for a source without asking the KDC again, whatever other
    /// account the cache holds meanwhile: a refused password for the whole run (`None`:
    /// account lockout), an unreachable KDC until the instant given (the connections waiting
    /// on the cache's lock get the answer at once, where each ask costs the library 25 s).
    failed: Arc<Mutex<Failures>>,
}

/// A source's remembered failure, and until when (`None`: the whole run).
type Failures = std::collections::HashMap<[u8; 32], (KerberosError, Option<Instant>)>;

/// How long an unreachable KDC is remembered.
const UNREACHABLE_FOR: Duration = Duration::from_secs(30);

impl std::fmt::Debug for TicketCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketCache")
    }
}

/// Credentials are acquired again this long before the library says they expire.
const RENEW_MARGIN: Duration = Duration::from_secs(60);

impl TicketCache {
    /// The credentials for `source`; acquires them (blocking: a password asks the KDC) when
    /// none are held or they are about to expire.
    fn get(&self, source: &Source) -> Result<Arc<Cred>, KerberosError> {
        let key = source.key();
        let mut slot = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((e, until)) = self
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && until.is_none_or(|t| Instant::now() < t)
        {
            return Err(e.clone());
        }
        if let Some(s) = slot.as_ref().filter(|s| s.key == key)
            && Instant::now() < s.until
        {
            return Ok(s.cred.clone());
        }
        let who = source.who();
        let acquired = match source {
            Source::Default => Cred::initiator(None),
            Source::Named(p) => {
                Name::import(p, &gssapi::NT_KRB5_PRINCIPAL).and_then(|n| Cred::initiator(Some(&n)))
            }
            Source::Password(p, password) => Name::import(p, &gssapi::NT_KRB5_PRINCIPAL)
                .and_then(|n| Cred::with_password(&n, password.expose())),
        };
        match acquired {
            Ok(cred) => {
                let life = Duration::from_secs(cred.lifetime.into());
                // Renew a minute early; a short-lived ticket at half its life.
                let keep = life.saturating_sub(RENEW_MARGIN).max(life / 2);
                let cred = Arc::new(cred);
                *slot = Some(Slot {
                    key,
                    cred: cred.clone(),
                    until: Instant::now() + keep,
                });
                Ok(cred)
            }
            Err(e) => {
                let e = match source {
                    Source::Password(..) => classify_password(e, &who),
                    _ => classify(e, &who, ""),
                };
                let remembered = match e {
                    KerberosError::WrongPassword { .. }
                    | KerberosError::AccountRefused { .. }
                    | KerberosError::UnknownUser { .. }
                        if matches!(source, Source::Password(..)) =>
                    {
                        Some(None)
                    }
                    KerberosError::KdcUnreachable { .. } => {
                        Some(Some(Instant::now() + UNREACHABLE_FOR))
                    }
                    _ => None,
                };
                if let Some(until) = remembered {
                    self.failed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key, (e.clone(), until));
                }
                Err(e)
            }
        }
    }
}

/// Whether the system's GSSAPI library loads.
pub fn available() -> Result<(), KerberosError> {
    gssapi::available().map_err(|e| KerberosError::Unavailable(e.to_string()))
}

/// Whether a ticket (or a client keytab) is at hand for `account` (`None`: the default
/// principal): what decides whether to prompt for a password. Reads the ccache; with a client
/// keytab and no ticket, the library asks the KDC for one (it blocks).
pub fn default_credentials_available(account: Option<&str>) -> bool {
    let name = match account {
        None => None,
        Some(a) => match Name::import(&principal_for(a).0, &gssapi::NT_KRB5_PRINCIPAL) {
            Ok(n) => Some(n),
            Err(_) => return false,
        },
    };
    Cred::initiator(name.as_ref()).is_ok_and(|c| c.lifetime > 0)
}

/// The Kerberos mechanism for one connection.
pub struct Kerberos {
    source: Source,
    spn: String,
    channel_binding: Option<Vec<u8>>,
    cache: TicketCache,
    context: Option<Context>,
    principal: String,
    complete: bool,
}

impl std::fmt::Debug for Kerberos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kerberos")
            .field("principal", &self.source.who())
            .field("spn", &self.spn)
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

impl Kerberos {
    /// Kerberos to `spn` (`HTTP/host`), for `credentials` (`None`: the ccache's default
    /// principal or the client keytab; an empty password: that principal's ticket in the
    /// ccache; a password: a fresh ticket in memory), bound to `channel_binding` over HTTPS.
    pub fn new(
        credentials: Option<&Credentials>,
        spn: String,
        channel_binding: Option<Vec<u8>>,
        cache: TicketCache,
    ) -> Self {
        let source = Source::from(credentials);
        Kerberos {
            principal: source.who(),
            source,
            spn,
            channel_binding,
            cache,
            context: None,
            complete: false,
        }
    }

    const FLAGS: u32 = flags::MUTUAL | flags::SEQUENCE | flags::REPLAY | flags::CONF | flags::INTEG;
}

impl Mechanism for Kerberos {
    fn name(&self) -> &'static str {
        "Kerberos"
    }
    fn schemes(&self) -> &'static [&'static str] {
        // Not MS-WSMV's `Kerberos` scheme: it carries a raw krb5 token and its own sealing
        // protocol; every Windows listener offers `Negotiate`.
        &["Negotiate"]
    }
    fn connection_bound(&self) -> bool {
        true
    }
    fn may_block(&self) -> bool {
        true
    }
    fn completes_on_success(&self) -> bool {
        true
    }
    fn step(&mut self, challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        let who = self.source.who();
        let classify = |e: GssError| AuthError::Kerberos(classify(e, &who, &self.spn));
        let cred = self.cache.get(&self.source)?;
        let target = Name::import(&self.spn, &gssapi::NT_KRB5_PRINCIPAL).map_err(classify)?;
        if challenge.is_none() {
            // Start (or start over): a new context, and the TGS exchange inside it.
            self.context = Some(Context::default());
            self.principal = cred.principal();
        }
        let context = self
            .context
            .as_mut()
            .ok_or(AuthError::State("Kerberos token before the first step"))?;
        let step = context
            .initiate(
                &cred,
                &target,
                &gssapi::MECH_SPNEGO,
                Self::FLAGS,
                self.channel_binding.as_deref(),
                challenge,
            )
            .map_err(|e| match (classify(e), challenge) {
                // A server token that does not verify (or an unauthenticated error token):
                // the server did not prove its identity. Only clock skew and a refused channel
                // binding keep their own words.
                (
                    AuthError::Kerberos(
                        e
                        @ (KerberosError::ClockSkew { .. } | KerberosError::ChannelBinding { .. }),
                    ),
                    Some(_),
                ) => AuthError::Kerberos(e),
                (AuthError::Kerberos(e), Some(_)) => AuthError::Kerberos(KerberosError::Mutual(
                    format!("the server's token does not verify: {e}"),
                )),
                (other, _) => other,
            })?;
        if step.complete {
            if context.flags & Self::FLAGS != Self::FLAGS {
                return Err(AuthError::Kerberos(KerberosError::Mutual(format!(
                    "the context lacks protections we asked for (flags {:#x}, wanted {:#x}): mutual authentication, replay and sequence detection, integrity and confidentiality",
                    context.flags,
                    Self::FLAGS
                ))));
            }
            if !context.is_krb5() {
                return Err(AuthError::Kerberos(KerberosError::Mutual(
                    "SPNEGO negotiated a mechanism other than Kerberos".into(),
                )));
            }
        }
        self.complete = step.complete;
        Ok(step.token)
    }
    fn is_complete(&self) -> bool {
        self.complete
    }
    fn account(&self) -> String {
        self.principal.clone()
    }
    fn refusal_hint(&self) -> &'static str {
        "the service refused the Kerberos ticket: the SPN's key on the server differs from the KDC's (try --spn), the account may not log on through WinRM, or the channel binding was refused"
    }
    fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
        if !self.complete {
            return None;
        }
        Some(Box::new(GssSecurity::new(self.context.take()?)))
    }
}

/// The established context as MS-WSMV message security.
pub(super) struct GssSecurity {
    context: Context,
    /// Header and padding lengths (AES: 60 and 0), or why the context cannot seal.
    lengths: Result<(usize, usize), GssError>,
}

impl GssSecurity {
    pub(super) fn new(context: Context) -> Self {
        let lengths = context.wrap_lengths(1);
        GssSecurity { context, lengths }
    }
}

const SEQUENCE_PROBLEMS: u32 = 0b1_1110; // DUPLICATE, OLD, UNSEQ, GAP (RFC 2744 §3.9.1)

impl MessageSecurity for GssSecurity {
    fn header_len(&self) -> usize {
        match self.lengths {
            Ok((header, 0)) => header,
            _ => 0,
        }
    }
    fn wrap(&mut self, message: &mut [u8], header: &mut [u8]) -> Result<(), SecurityError> {
        match &self.lengths {
            Ok((_, 0)) => {}
            Ok((_, padding)) => {
                return Err(SecurityError::Context(
                    KerberosError::SealingUnsupported(format!(
                        "a cipher that pads by {padding} bytes, such as RC4"
                    ))
                    .to_string(),
                ));
            }
            Err(e) => return Err(SecurityError::Context(e.to_string())),
        }
        self.context
            .wrap(header, message)
            .map_err(|e| SecurityError::Context(e.to_string()))
    }
    fn unwrap(&mut self, header: &[u8], message: &mut [u8]) -> Result<(), SecurityError> {
        // Only a context whose wrap has a fixed header and no padding seals (as `wrap` checks);
        // the peer's header must be exactly that long before the library sees it.
        let expected = match self.lengths {
            Ok((h, 0)) if h > 0 => h,
            _ => {
                return Err(SecurityError::Context(
                    "this Kerberos context cannot unseal (its cipher gives no fixed-size header)"
                        .into(),
                ));
            }
        };
        if header.len() != expected {
            return Err(SecurityError::Context(format!(
                "the sealed message's header is {} bytes; this Kerberos context's is {expected}",
                header.len()
            )));
        }
        let mut header = header.to_vec();
        match self.context.unwrap(&mut header, message) {
            Ok((supplementary, _)) if supplementary & SEQUENCE_PROBLEMS != 0 => {
                Err(SecurityError::Context(
                    "the sealed message is out of sequence (replayed, reordered or missing)".into(),
                ))
            }
            Ok((_, false)) => Err(SecurityError::NotEncrypted),
            Ok(_) => Ok(()),
            Err(e) if e.routine() == gssapi::GSS_S_BAD_SIG => Err(SecurityError::BadSignature),
            Err(e) => Err(SecurityError::Context(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwrap_refuses_a_header_the_context_does_not_give() {
        // A context whose cipher pads (RC4) has no fixed header: the framing then cannot check
        // the peer's header length, so unwrap refuses before the library reads anything.
        let mut padded = GssSecurity {
            context: gssapi::Context::default(),
            lengths: Ok((0, 0)),
        };
        let mut data = *b"sealed";
        assert!(padded.unwrap(&[], &mut data).is_err());
        assert!(padded.unwrap(&[0; 60], &mut data).is_err());
        let mut aes = GssSecurity {
            context: gssapi::Context::default(),
            lengths: Ok((60, 0)),
        };
        let e = aes.unwrap(&[0; 8], &mut data).unwrap_err();
        assert!(e.to_string().contains("header is 8 bytes"), "{e}");
    }

    #[test]
    fn a_library_that_declines_the_password_path_says_so() {
        // Heimdal: "no credentials", no mechanism code, for SPNEGO with a password.
        let declined = GssError::Call {
            major: gssapi::GSS_S_NO_CRED,
            minor: 0,
            message: "No credentials were supplied".into(),
        };
        let e = classify_password(declined, "alice@WINRM.TEST");
        assert!(
            matches!(e, KerberosError::PasswordUnsupported { .. }),
            "{e:?}"
        );
        assert!(e.is_unavailable());
        assert!(e.to_string().contains("run kinit"), "{e}");
        // With a mechanism code it is what the code says.
        let unknown = GssError::Call {
            major: 13 << 16, // GSS_S_FAILURE
            minor: codes::C_PRINCIPAL_UNKNOWN as u32,
            message: "Client not found in Kerberos database".into(),
        };
        assert!(matches!(
            classify_password(unknown, "alice@WINRM.TEST"),
            KerberosError::UnknownUser { .. }
        ));
    }

    fn kind(text: &str) -> Option<KerberosError> {
        by_text(text).map(|b| b("alice".into(), "HTTP/x".into(), text.into()))
    }

    #[test]
    fn cached_credentials_belong_to_their_account() {
        // A builder cloned with other credentials shares the cache, never the ticket.
        let pw = |a: &str, p: &str| Source::from(Some(&Credentials::new(a, Password::new(p))));
        let keys = [
            Source::Default.key(),
            pw("alice@R", "").key(),
            pw("alice@R", "one").key(),
            pw("alice@R", "two").key(),
            pw("bob@R", "one").key(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(pw("alice@r", "one").key(), pw("alice@R", "one").key());
    }

    #[test]
    fn krb5_texts_behind_spnego() {
        let mit = "Unspecified GSS failure.  Minor code may provide more information: ";
        assert!(matches!(
            kind(&format!(
                "{mit}Server HTTP/nosuch@R not found in Kerberos database"
            )),
            Some(KerberosError::UnknownSpn { .. })
        ));
        // A user whose name contains "server" is still a user.
        assert!(matches!(
            kind(&format!(
                "{mit}Client 'server-admin@R' not found in Kerberos database"
            )),
            Some(KerberosError::UnknownUser { .. })
        ));
        assert!(matches!(
            kind(&format!("{mit}Clock skew too great")),
            Some(KerberosError::ClockSkew { .. })
        ));
        assert!(kind("something else entirely").is_none());
    }
}

mod codes {
    pub const C_PRINCIPAL_UNKNOWN: i32 = -1765328378;
    pub const S_PRINCIPAL_UNKNOWN: i32 = -1765328377;
    pub const ETYPE_NOSUPP: i32 = -1765328370;
    pub const SUMTYPE_NOSUPP: i32 = -1765328369;
    pub const CLIENT_REVOKED: i32 = -1765328366;
    pub const KEY_EXP: i32 = -1765328361;
    pub const PREAUTH_FAILED: i32 = -1765328360;
    pub const AP_ERR_BAD_INTEGRITY: i32 = -1765328353;
    pub const AP_ERR_TKT_EXPIRED: i32 = -1765328352;
    pub const AP_ERR_SKEW: i32 = -1765328347;
    pub const CC_NOTFOUND: i32 = -1765328243;
    pub const CC_END: i32 = -1765328242;
    pub const NO_TKT_SUPPLIED: i32 = -1765328241;
    pub const KDCREP_SKEW: i32 = -1765328236;
    pub const PROG_ETYPE_NOSUPP: i32 = -1765328234;
    pub const REALM_UNKNOWN: i32 = -1765328230;
    pub const KDC_UNREACH: i32 = -1765328228;
    pub const BAD_ENCTYPE: i32 = -1765328196;
    pub const FCC_NOFILE: i32 = -1765328189;
    pub const PREAUTH_GENERIC: i32 = -1765328174;
    pub const REALM_CANT_RESOLVE: i32 = -1765328164;
    pub const CONFIG_NODEFREALM: i32 = -1765328160;
}

type Build = fn(String, String, String) -> KerberosError;

/// MIT's mechanism glue renumbers the minor codes of mechanisms behind SPNEGO, so where the
/// krb5 code is gone the library's own words (krb5's error table, stable for decades) say which
/// failure it was.
fn by_text(detail: &str) -> Option<Build> {
    let t = detail.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    // krb5's "Server <principal> not found in Kerberos database" / "Client '<principal>' not
    // found ...": the clause that says it starts after the library's last ": ".
    let not_found = t.find(" not found in kerberos database").map(|end| {
        let clause = &t[..end];
        clause[clause.rfind(": ").map_or(0, |i| i + 2)..].to_string()
    });
    Some(
        if not_found
            .as_deref()
            .is_some_and(|c| c.starts_with("server "))
        {
            |_, spn, detail| KerberosError::UnknownSpn { spn, detail }
        } else if not_found
            .as_deref()
            .is_some_and(|c| c.starts_with("client "))
        {
            |who, _, detail| KerberosError::UnknownUser { who, detail }
        } else if has("clock skew too great") {
            |_, _, detail| KerberosError::ClockSkew { detail }
        } else if has("preauthentication failed")
            || has("password incorrect")
            || has("decrypt integrity check failed")
        {
            |who, _, detail| KerberosError::WrongPassword { who, detail }
        } else if has("ticket expired") {
            |who, _, detail| KerberosError::Expired { who, detail }
        } else if has("password has expired") {
            |who, _, detail| KerberosError::AccountRefused {
                who,
                why: "the password has expired",
                detail,
            }
        } else if has("credentials have been revoked") {
            |who, _, detail| KerberosError::AccountRefused {
                who,
                why: "the account is disabled or locked out",
                detail,
            }
        } else if has("cannot contact any kdc")
            || has("cannot find kdc")
            || has("resolve network address for kdc")
        {
            |_, _, detail| KerberosError::KdcUnreachable { detail }
        } else if has("does not specify default realm") {
            |_, _, detail| KerberosError::NoRealm { detail }
        } else if has("no credentials cache found") || has("matching credential not found") {
            |who, _, detail| KerberosError::NoTicket { who, detail }
        } else if has("encryption type") && (has("not supported") || has("no support")) {
            |_, _, detail| KerberosError::Enctype { detail }
        } else if has("channel binding") {
            |_, _, detail| KerberosError::ChannelBinding { detail }
        } else {
            return None;
        },
    )
}

/// A GSSAPI failure in an administrator's words (the library's text kept as detail).
/// A failure to get a ticket from a password. "No credentials" with no mechanism code is the
/// library declining the password path for SPNEGO (Heimdal does), not a missing ticket: it gets
/// its own words, since "give a password" is no advice to someone who gave one.
fn classify_password(e: GssError, who: &str) -> KerberosError {
    if e.routine() == gssapi::GSS_S_NO_CRED && e.minor().is_none() {
        return KerberosError::PasswordUnsupported {
            who: who.to_string(),
            detail: e.to_string(),
        };
    }
    classify(e, who, "")
}

fn classify(e: GssError, who: &str, spn: &str) -> KerberosError {
    use codes::*;
    let detail = e.to_string();
    let who = who.to_string();
    if let GssError::Unavailable(m) = e {
        return KerberosError::Unavailable(m);
    }
    match e.minor() {
        Some(S_PRINCIPAL_UNKNOWN) => KerberosError::UnknownSpn {
            spn: spn.to_string(),
            detail,
        },
        Some(C_PRINCIPAL_UNKNOWN) => KerberosError::UnknownUser { who, detail },
        Some(PREAUTH_FAILED | AP_ERR_BAD_INTEGRITY | PREAUTH_GENERIC) => {
            KerberosError::WrongPassword { who, detail }
        }
        Some(KEY_EXP) => KerberosError::AccountRefused {
            who,
            why: "the password has expired",
            detail,
        },
        Some(CLIENT_REVOKED) => KerberosError::AccountRefused {
            who,
            why: "the account is disabled or locked out",
            detail,
        },
        Some(AP_ERR_SKEW | KDCREP_SKEW) => KerberosError::ClockSkew { detail },
        Some(KDC_UNREACH | REALM_UNKNOWN | REALM_CANT_RESOLVE) => {
            KerberosError::KdcUnreachable { detail }
        }
        Some(CONFIG_NODEFREALM) => KerberosError::NoRealm { detail },
        Some(FCC_NOFILE | CC_NOTFOUND | CC_END | NO_TKT_SUPPLIED) => {
            KerberosError::NoTicket { who, detail }
        }
        Some(AP_ERR_TKT_EXPIRED) => KerberosError::Expired { who, detail },
        Some(ETYPE_NOSUPP | SUMTYPE_NOSUPP | PROG_ETYPE_NOSUPP | BAD_ENCTYPE) => {
            KerberosError::Enctype { detail }
        }
        _ if by_text(&detail).is_some() => {
            by_text(&detail).expect("checked")(who, spn.to_string(), detail)
        }
        _ => match e.routine() {
            gssapi::GSS_S_NO_CRED => KerberosError::NoTicket { who, detail },
            gssapi::GSS_S_CREDENTIALS_EXPIRED | gssapi::GSS_S_CONTEXT_EXPIRED => {
                KerberosError::Expired { who, detail }
            }
            gssapi::GSS_S_BAD_BINDINGS => KerberosError::ChannelBinding { detail },
            _ => KerberosError::Other(detail),
        },
    }
}
