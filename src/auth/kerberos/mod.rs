//! Kerberos inside HTTP `Negotiate` (SPNEGO, RFC 4559), through the system's GSSAPI loaded at
//! run time (feature `kerberos`): from the user's ticket cache (`kinit`), a client keytab
//! (`KRB5_CLIENT_KTNAME`) or a password (kept in memory, never in the user's ccache). After
//! authentication the context seals MS-WSMV messages (the 60-byte AES wrap header) or, over
//! HTTPS, is bound to the TLS channel (`tls-server-end-point`).
//!
//! [`Negotiate`] is what Windows clients do: Kerberos when a ticket can be had for the
//! target, else NTLM, with no network round trip spent deciding for a local account.
//!
//! The Kerberos configuration is the system's (`/etc/krb5.conf` or `KRB5_CONFIG`, its realms
//! and DNS settings); errors say what an administrator does about them.

#[cfg(all(feature = "kerberos", feature = "sim"))]
pub(crate) mod acceptor;
#[cfg(feature = "kerberos")]
mod gssapi;
#[cfg(feature = "kerberos")]
mod mechanism;
mod negotiate;

#[cfg(feature = "kerberos")]
pub use mechanism::{Kerberos, TicketCache, available, default_credentials_available};
pub use negotiate::Negotiate;

/// Why Kerberos failed, in words an administrator acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KerberosError {
    /// No GSSAPI library, or this build has no Kerberos.
    #[error("Kerberos is not available: {0}")]
    Unavailable(String),
    /// No ticket and no way to get one.
    #[error(
        "no Kerberos ticket for {who}: run kinit, point KRB5_CLIENT_KTNAME at a client keytab, or give a password ({detail})"
    )]
    NoTicket {
        /// The principal, or "the default principal".
        who: String,
        /// The library's words.
        detail: String,
    },
    /// The system's GSSAPI library cannot get a ticket from a password for Negotiate (SPNEGO):
    /// Heimdal's answers "no credentials" to `gss_acquire_cred_with_password` for it.
    #[error(
        "this system's GSSAPI library cannot get a Kerberos ticket for {who} from a password (Heimdal's cannot, for Negotiate): run kinit, or point KRB5_CLIENT_KTNAME at a client keytab ({detail})"
    )]
    PasswordUnsupported {
        /// The principal.
        who: String,
        /// The library's words.
        detail: String,
    },
    /// The ticket has expired.
    #[error("the Kerberos ticket for {who} has expired: run kinit again ({detail})")]
    Expired {
        /// The principal.
        who: String,
        /// The library's words.
        detail: String,
    },
    /// The KDC does not know the service principal.
    #[error(
        "the KDC does not know the service principal {spn}: the host may be registered under another name (try --spn HTTP/<its name in the domain>; IP addresses and CNAMEs have no SPN) ({detail})"
    )]
    UnknownSpn {
        /// The service principal asked for.
        spn: String,
        /// The library's words.
        detail: String,
    },
    /// The KDC does not know the user.
    #[error("the KDC does not know the user {who} ({detail})")]
    UnknownUser {
        /// The principal.
        who: String,
        /// The library's words.
        detail: String,
    },
    /// Wrong password.
    #[error("the KDC refused the password for {who} (wrong password) ({detail})")]
    WrongPassword {
        /// The principal.
        who: String,
        /// The library's words.
        detail: String,
    },
    /// The account's password has expired, or the account is disabled or locked.
    #[error("the KDC refused {who}: {why} ({detail})")]
    AccountRefused {
        /// The principal.
        who: String,
        /// Expired password, disabled or locked account.
        why: &'static str,
        /// The library's words.
        detail: String,
    },
    /// Clocks differ by more than the allowed skew.
    #[error(
        "clock skew: this machine's clock and the KDC's or the server's differ by more than Kerberos allows (5 minutes by default); synchronise the clock (chrony, ntpd, systemd-timesyncd) ({detail})"
    )]
    ClockSkew {
        /// The library's words.
        detail: String,
    },
    /// No KDC could be reached for the realm.
    #[error(
        "no KDC reachable for the realm: check krb5.conf's [realms] (or KRB5_CONFIG) and the DNS SRV records _kerberos._tcp.<REALM>, and that port 88 is open ({detail})"
    )]
    KdcUnreachable {
        /// The library's words.
        detail: String,
    },
    /// No realm: no default realm configured and none in the account.
    #[error(
        "no Kerberos realm: give the account as user@REALM, or set default_realm in krb5.conf ({detail})"
    )]
    NoRealm {
        /// The library's words.
        detail: String,
    },
    /// No encryption type both sides support.
    #[error(
        "encryption type not supported: the KDC, the account or the service has no key of an encryption type this machine allows (krb5.conf permitted_enctypes; AES is the default on both sides) ({detail})"
    )]
    Enctype {
        /// The library's words.
        detail: String,
    },
    /// The server refused our channel binding (HTTPS).
    #[error(
        "the server refused the channel binding (a TLS-intercepting proxy in between changes the certificate it binds to) ({detail})"
    )]
    ChannelBinding {
        /// The library's words.
        detail: String,
    },
    /// The server did not prove its identity.
    #[error("mutual authentication failed: {0}")]
    Mutual(String),
    /// The session key's encryption type cannot seal MS-WSMV messages.
    #[error(
        "the Kerberos session key ({0}) cannot seal WinRM messages in the AES layout; use HTTPS, or enable AES for the account and the service"
    )]
    SealingUnsupported(String),
    /// Anything else the library said.
    #[error("Kerberos: {0}")]
    Other(String),
}

impl KerberosError {
    /// Whether Kerberos is impossible for this target (no library, no ticket, no realm, no
    /// KDC, an SPN the KDC does not know), as opposed to a refusal: [`Negotiate`] falls back
    /// to NTLM on these and only these.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            KerberosError::Unavailable(_)
                | KerberosError::NoTicket { .. }
                | KerberosError::PasswordUnsupported { .. }
                | KerberosError::Expired { .. }
                | KerberosError::UnknownSpn { .. }
                | KerberosError::KdcUnreachable { .. }
                | KerberosError::NoRealm { .. }
        )
    }
}

/// The Kerberos principal for an account as given (`alice@corp.example` →
/// `alice@CORP.EXAMPLE`; `CORP\alice` → `alice`, in the default realm), and whether it names
/// its realm.
pub fn principal_for(account: &str) -> (String, bool) {
    if let Some((_, user)) = account.split_once('\\') {
        return (user.to_string(), false);
    }
    match account.rsplit_once('@') {
        Some((user, realm)) if !realm.is_empty() => {
            (format!("{user}@{}", realm.to_ascii_uppercase()), true)
        }
        _ => (account.to_string(), false),
    }
}

/// The service principal for a host: `--spn` when given (`HTTP/host` or `HTTP/host@REALM`,
/// the realm in upper case as Kerberos realms are), else `HTTP/<host as given>` without a
/// trailing dot (a fully qualified `srv.corp.example.` is registered as `srv.corp.example`).
pub fn service_principal(spn: Option<&str>, host: &str) -> String {
    match spn {
        Some(s) => match s.split_once('@') {
            Some((name, realm)) => format!("{name}@{}", realm.to_ascii_uppercase()),
            None => s.to_string(),
        },
        None => format!(
            "HTTP/{}",
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .trim_end_matches('.')
        ),
    }
}

/// Checks a `--spn`: `service/host` with an optional `@REALM`. The GSSAPI form `HTTP@host`
/// would be read as a principal `HTTP` in realm `host`, and fail later as an unknown SPN.
pub fn check_spn(spn: &str) -> Result<(), String> {
    let name = spn.split_once('@').map_or(spn, |(n, _)| n);
    match name.split_once('/') {
        Some((service, host)) if !service.is_empty() && !host.is_empty() => Ok(()),
        _ => Err(format!(
            "{spn:?} is not a service principal: give SERVICE/HOST[@REALM], e.g. HTTP/srv01.corp.example"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_and_spns() {
        assert_eq!(
            principal_for("alice@corp.example"),
            ("alice@CORP.EXAMPLE".into(), true)
        );
        assert_eq!(principal_for("CORP\\alice"), ("alice".into(), false));
        assert_eq!(principal_for("alice"), ("alice".into(), false));
        assert_eq!(
            service_principal(None, "srv01.corp.example"),
            "HTTP/srv01.corp.example"
        );
        assert_eq!(
            service_principal(Some("HTTP/lb.corp.example@CORP.EXAMPLE"), "10.0.0.5"),
            "HTTP/lb.corp.example@CORP.EXAMPLE"
        );
        assert_eq!(service_principal(None, "[fd00::5]"), "HTTP/fd00::5");
        assert_eq!(
            service_principal(None, "srv.corp.example."),
            "HTTP/srv.corp.example"
        );
        assert_eq!(
            service_principal(Some("HTTP/lb.corp.example@corp.example"), "x"),
            "HTTP/lb.corp.example@CORP.EXAMPLE"
        );
        assert!(check_spn("HTTP/srv01").is_ok());
        assert!(check_spn("HTTP/srv01@CORP.EXAMPLE").is_ok());
        for bad in ["HTTP@srv01", "srv01", "HTTP/", "/srv01", ""] {
            assert!(check_spn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn what_negotiate_falls_back_on() {
        let d = || "x".to_string();
        assert!(
            KerberosError::NoTicket {
                who: d(),
                detail: d()
            }
            .is_unavailable()
        );
        assert!(
            KerberosError::UnknownSpn {
                spn: d(),
                detail: d()
            }
            .is_unavailable()
        );
        assert!(
            !KerberosError::WrongPassword {
                who: d(),
                detail: d()
            }
            .is_unavailable()
        );
        assert!(!KerberosError::ClockSkew { detail: d() }.is_unavailable());
    }
}
