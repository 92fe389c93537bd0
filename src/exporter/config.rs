//! The exporter's YAML configuration: modules, as ipmi_exporter has them. A module says how to
//! reach and log on to the targets scraped with it (account, password source, authentication,
//! transport and TLS), how long a scrape may take, and which collectors run.
//!
//! ```yaml
//! modules:
//!   default:
//!     user: 'CONTOSO\monitor'
//!     password_file: /etc/winrm-ipmi/password   # or password_env: WINRM_PASSWORD
//!     auth: negotiate                            # kerberos, ntlm, basic, certificate
//!     transport: http                            # https: cacert, thumbprint, insecure
//!     timeout: 20000                             # ms, as ipmi_exporter; Prometheus' own wins if shorter
//!     collectors: [ipmi, bmc, chassis, dcmi, lan]
//!     exclude_sensor_ids: [2, 29]
//!     allowed_targets: ['*.contoso.com', 10.20.0.0/16]   # default: any target
//! ```
//!
//! Secrets are read when the configuration loads and kept as [`Password`]s: never in logs,
//! errors or metric labels.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::ClientFactory;
use crate::auth::{AuthMethod, Password};
use crate::transport::proxy::ProxyChoice;

pub use super::targets::TargetFilter;

/// What a module collects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Collector {
    /// Sensors (ipmi_exporter's `ipmi`).
    Ipmi,
    /// BMC info (`bmc`).
    Bmc,
    /// Chassis state (`chassis`).
    Chassis,
    /// DCMI power (`dcmi`).
    Dcmi,
    /// SEL size (`sel`).
    Sel,
    /// In band only: the BMC's LAN configuration per channel (IP, MAC, source, VLAN).
    Lan,
    /// In band only: whether the BMC's System GUID is the host's SMBIOS UUID.
    Guid,
}

impl Collector {
    /// The label value (`ipmi_up{collector="..."}`).
    pub const fn name(self) -> &'static str {
        match self {
            Collector::Ipmi => "ipmi",
            Collector::Bmc => "bmc",
            Collector::Chassis => "chassis",
            Collector::Dcmi => "dcmi",
            Collector::Sel => "sel",
            Collector::Lan => "lan",
            Collector::Guid => "guid",
        }
    }

    /// ipmi_exporter's default set (ipmi, dcmi, bmc, chassis) and the BMC's LAN configuration,
    /// the reason to collect in band; `sel` and `guid` are asked for.
    pub const DEFAULT: [Collector; 5] = [
        Collector::Ipmi,
        Collector::Bmc,
        Collector::Chassis,
        Collector::Dcmi,
        Collector::Lan,
    ];
}

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Modules by name.
    pub modules: BTreeMap<String, ModuleConfig>,
}

/// One module as written. Its `Debug` leaves the password out.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleConfig {
    /// Account: `DOMAIN\user`, `user@REALM` or a local user. Optional with Kerberos tickets
    /// or a certificate.
    pub user: Option<String>,
    /// The password itself (prefer a file or the environment).
    pub password: Option<String>,
    /// A file whose first line is the password.
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the password.
    pub password_env: Option<String>,
    /// negotiate (default), kerberos, ntlm, basic, certificate.
    pub auth: Option<String>,
    /// http (default) or https.
    pub transport: Option<String>,
    /// Kerberos service principal when not `HTTP/<target>`.
    pub spn: Option<String>,
    /// CA certificates (PEM) to trust for HTTPS.
    pub cacert: Option<PathBuf>,
    /// Pin the server certificate by SHA-256 thumbprint.
    pub thumbprint: Option<String>,
    /// Accept any server certificate (labs only).
    #[serde(default)]
    pub insecure: bool,
    /// Client certificate and key (PEM) for certificate authentication.
    pub cert: Option<PathBuf>,
    /// The key.
    pub key: Option<PathBuf>,
    /// Milliseconds a scrape may take, as ipmi_exporter's `timeout` (default 20000; at most
    /// an hour). Prometheus' scrape timeout wins when shorter.
    pub timeout: Option<u64>,
    /// Collectors (default: ipmi, bmc, chassis, dcmi, lan).
    pub collectors: Option<Vec<Collector>>,
    /// Sensor record IDs not to report.
    #[serde(default)]
    pub exclude_sensor_ids: Vec<u16>,
    /// The only targets this module may be used on: host-name patterns (`*` matches any run
    /// of characters, case-insensitive) and address ranges (`10.0.0.0/8`, `fd00::/8`, or one
    /// address). Unset: any target.
    pub allowed_targets: Option<Vec<String>>,
    /// Proxies from the environment (HTTPS_PROXY, NO_PROXY), as the CLI does by default.
    #[serde(default)]
    pub proxy_from_env: bool,
}

impl std::fmt::Debug for ModuleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleConfig")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .field("password_env", &self.password_env)
            .field("auth", &self.auth)
            .field("transport", &self.transport)
            .field("timeout", &self.timeout)
            .field("collectors", &self.collectors)
            .finish_non_exhaustive()
    }
}

/// Longest `timeout` a module may have.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// A module ready to scrape with.
pub struct Module {
    /// Its name.
    pub name: String,
    /// Clients for its targets.
    pub factory: ClientFactory,
    /// What it collects.
    pub collectors: Vec<Collector>,
    /// Its time limit.
    pub timeout: Duration,
    /// Sensors not reported.
    pub exclude_sensor_ids: Vec<u16>,
    /// The targets it may be used on.
    pub allowed_targets: TargetFilter,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .field("collectors", &self.collectors)
            .finish_non_exhaustive()
    }
}

/// Default time a scrape may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

impl Module {
    /// A module from clients made elsewhere (the CLI's options).
    pub fn new(name: &str, factory: ClientFactory) -> Module {
        Module {
            name: name.to_string(),
            factory,
            collectors: Collector::DEFAULT.to_vec(),
            timeout: DEFAULT_TIMEOUT,
            exclude_sensor_ids: Vec::new(),
            allowed_targets: TargetFilter::default(),
        }
    }
}

/// Reads and checks a configuration file; every module's settings are checked before the
/// exporter starts.
pub fn load(path: &std::path::Path) -> Result<Vec<Module>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: ConfigFile =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    file.modules
        .into_iter()
        .map(|(name, m)| m.build(&name).map_err(|e| format!("module {name:?}: {e}")))
        .collect()
}

impl ModuleConfig {
    fn password(&self) -> Result<Option<Password>, String> {
        let sources = [
            self.password.is_some(),
            self.password_file.is_some(),
            self.password_env.is_some(),
        ];
        if sources.iter().filter(|&&given| given).count() > 1 {
            return Err("give one of password, password_file and password_env".into());
        }
        if let Some(p) = &self.password {
            return Ok(Some(Password::new(p.clone())));
        }
        if let Some(f) = &self.password_file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read the password file {}: {e}", f.display()))?;
            return Ok(Some(Password::new(text.lines().next().unwrap_or_default())));
        }
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map(|p| Some(Password::new(p)))
                .map_err(|_| format!("the environment has no {var}"));
        }
        Ok(None)
    }

    /// The module, its settings checked.
    pub fn build(&self, name: &str) -> Result<Module, String> {
        let auth = match self.auth.as_deref().unwrap_or("negotiate") {
            "negotiate" => AuthMethod::Negotiate,
            "kerberos" => AuthMethod::Kerberos,
            "ntlm" => AuthMethod::Ntlm,
            "basic" => AuthMethod::Basic,
            "certificate" => AuthMethod::Certificate,
            other => return Err(format!("unknown auth {other:?}")),
        };
        let timeout = match self.timeout {
            None => DEFAULT_TIMEOUT,
            Some(ms) if ms > 0 && ms <= MAX_TIMEOUT.as_millis() as u64 => Duration::from_millis(ms),
            Some(ms) => {
                return Err(format!(
                    "timeout {ms} is out of range: milliseconds, 1 to {}",
                    MAX_TIMEOUT.as_millis()
                ));
            }
        };
        let https = match self.transport.as_deref().unwrap_or("http") {
            "http" => false,
            "https" => true,
            other => return Err(format!("unknown transport {other:?}")),
        };
        let mut b = crate::Client::builder("")
            .https(https)
            .auth(auth)
            .insecure_skip_certificate_verification(self.insecure)
            .operation_timeout(timeout)
            .idle_limit(super::CONNECTION_IDLE);
        if self.proxy_from_env {
            b = b.proxy_choice(ProxyChoice::from_process_env().map_err(|e| e.to_string())?);
        }
        // As the CLI's options: what would be silently ignored is refused.
        if !https && (self.cacert.is_some() || self.thumbprint.is_some() || self.insecure) {
            return Err("cacert, thumbprint and insecure apply to transport: https".into());
        }
        match (auth, &self.cert, &self.key) {
            (AuthMethod::Certificate, Some(_), Some(_)) => {}
            (AuthMethod::Certificate, _, _) => {
                return Err("auth: certificate needs cert and key".into());
            }
            (_, None, None) => {}
            (_, _, _) => return Err("cert and key go with auth: certificate".into()),
        }
        match (self.password()?, &self.user) {
            (Some(p), Some(u)) => b = b.credentials(u, p),
            (Some(_), None) => return Err("a password needs a user".into()),
            // No password: a Kerberos ticket (kinit, a client keytab), for the user if given.
            (None, user) if matches!(auth, AuthMethod::Negotiate | AuthMethod::Kerberos) => {
                b = b.kerberos_ticket(user.as_deref());
            }
            (None, _) if matches!(auth, AuthMethod::Ntlm | AuthMethod::Basic) => {
                // Not a logon with an empty password on every scrape (each counts toward the
                // account's lockout).
                return Err(
                    "auth: ntlm and basic need password, password_file or password_env".into(),
                );
            }
            (None, _) => {}
        }
        let allowed_targets = match &self.allowed_targets {
            Some(list) => TargetFilter::parse(list)?,
            None => TargetFilter::default(),
        };
        if let Some(spn) = &self.spn {
            // A service principal is one host's account: its ticket is of no use to another.
            if !allowed_targets.is_one_host() {
                return Err(
                    "spn names one host's service principal: give it with allowed_targets naming that one host"
                        .into(),
                );
            }
            b = b.spn(spn);
        }
        if let Some(ca) = &self.cacert {
            b = b.ca_file(ca).map_err(|e| e.to_string())?;
        }
        if let Some(t) = &self.thumbprint {
            b = b.thumbprint(t).map_err(|e| e.to_string())?;
        }
        if let (Some(c), Some(k)) = (&self.cert, &self.key) {
            b = b.client_certificate(c, k).map_err(|e| e.to_string())?;
        }
        let factory = b.into_factory();
        factory.check().map_err(|e| e.to_string())?;
        Ok(Module {
            name: name.to_string(),
            factory,
            collectors: self
                .collectors
                .clone()
                .unwrap_or_else(|| Collector::DEFAULT.to_vec()),
            timeout,
            exclude_sensor_ids: self.exclude_sensor_ids.clone(),
            allowed_targets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn modules_load_with_their_settings_and_defaults() {
        // Removed when dropped, a failed assertion included.
        let scratch = tempfile::Builder::new()
            .prefix("winrm-ipmi-config-")
            .tempdir()
            .unwrap();
        let dir = scratch.path().to_path_buf();
        let pw = dir.join("password");
        std::fs::write(&pw, "S3cret-from-file\nignored\n").unwrap();
        let cfg = dir.join("exporter.yml");
        std::fs::write(
            &cfg,
            format!(
                "modules:\n  default:\n    user: 'CONTOSO\\monitor'\n    password_file: {}\n  \
                 lean:\n    user: admin\n    password: S3cret-inline\n    auth: ntlm\n    \
                 timeout: 5000\n    collectors: [ipmi, guid]\n    exclude_sensor_ids: [2, 29]\n  \
                 tickets:\n    auth: kerberos\n    spn: HTTP/bmc-host.contoso.com\n    \
                 allowed_targets: [bmc-host.contoso.com]\n",
                pw.display()
            ),
        )
        .unwrap();
        let modules = load(&cfg).unwrap();
        let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["default", "lean", "tickets"]);
        assert_eq!(modules[0].collectors, Collector::DEFAULT);
        assert_eq!(modules[0].timeout, DEFAULT_TIMEOUT);
        assert_eq!(modules[1].collectors, [Collector::Ipmi, Collector::Guid]);
        assert_eq!(modules[1].timeout, Duration::from_secs(5));
        assert_eq!(modules[1].exclude_sensor_ids, [2, 29]);
        for m in &modules {
            let debug = format!("{m:?}");
            assert!(!debug.contains("S3cret"), "{debug}");
        }
        let file = parse(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
        let debug = format!("{file:?}");
        assert!(
            debug.contains("lean") && !debug.contains("S3cret"),
            "{debug}"
        );
    }

    #[test]
    fn settings_that_would_be_ignored_or_misused_are_refused() {
        let build = |yaml: &str| {
            let file = parse(&format!("modules:\n  m:\n{yaml}")).unwrap();
            file.modules["m"].build("m").map(|_| ())
        };
        for (yaml, says) in [
            // An empty access list would let any target through.
            ("    allowed_targets: []\n", "allowed_targets is empty"),
            // TLS settings on plain HTTP: never used.
            ("    thumbprint: 'ab'\n", "apply to transport: https"),
            (
                "    cacert: /nonexistent.pem\n",
                "apply to transport: https",
            ),
            ("    insecure: true\n", "apply to transport: https"),
            // NTLM or Basic without a password: an empty-password logon on every scrape.
            ("    auth: ntlm\n    user: admin\n", "need password"),
            ("    auth: basic\n    user: admin\n", "need password"),
            // A client certificate half given, or with another authentication.
            (
                "    transport: https\n    auth: certificate\n    cert: /nonexistent.pem\n",
                "needs cert and key",
            ),
            (
                "    transport: https\n    cert: /a.pem\n    key: /b.pem\n",
                "go with auth: certificate",
            ),
            // Two password sources: one would silently win.
            (
                "    user: admin\n    password: x\n    password_file: /nonexistent\n",
                "give one of password",
            ),
            // One host's service principal for any target of the module.
            ("    spn: HTTP/server01.contoso.com\n", "spn names one host"),
            (
                "    spn: HTTP/server01.contoso.com\n    allowed_targets: ['*.contoso.com']\n",
                "spn names one host",
            ),
            (
                "    spn: HTTP/server01.contoso.com\n    allowed_targets: [10.0.0.0/24]\n",
                "spn names one host",
            ),
        ] {
            let e = build(yaml).expect_err(yaml);
            assert!(e.contains(says), "{yaml}: {e}");
        }
        for yaml in [
            "    spn: HTTP/server01.contoso.com\n    allowed_targets: [server01.contoso.com]\n",
            "    spn: HTTP/server01.contoso.com\n    allowed_targets: [10.0.0.5]\n",
            "    auth: kerberos\n    user: monitor@CONTOSO.COM\n",
            "    auth: ntlm\n    user: admin\n    password_env: PATH\n",
        ] {
            build(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        }
    }

    #[test]
    fn mistakes_are_refused_before_the_exporter_starts() {
        // A misspelt setting, an unknown collector, auth or transport: refused, by name.
        let e = parse("modules:\n  m:\n    usr: admin\n").unwrap_err();
        assert!(e.contains("usr"), "{e}");
        let e = parse("modules:\n  m:\n    collectors: [ipmi, sensors]\n").unwrap_err();
        assert!(e.contains("sensors"), "{e}");
        assert!(parse("module:\n  m: {}\n").is_err());
        let build = |yaml: &str| {
            parse(yaml)
                .unwrap()
                .modules
                .values()
                .next()
                .unwrap()
                .build("m")
                .map(|_| ())
        };
        let e = build("modules:\n  m:\n    auth: digest\n").unwrap_err();
        assert!(e.contains("digest"), "{e}");
        let e = build("modules:\n  m:\n    transport: ftp\n").unwrap_err();
        assert!(e.contains("ftp"), "{e}");
        let e = build("modules:\n  m:\n    allowed_targets: ['10.0.0.0/33']\n").unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
        // timeout is milliseconds, as ipmi_exporter's: 0 and more than an hour are refused.
        for t in ["0", "3600001", "18446744073709551615"] {
            let e = build(&format!("modules:\n  m:\n    timeout: {t}\n")).unwrap_err();
            assert!(e.contains("milliseconds"), "{e}");
        }
        // A password without a user; a password variable that is not set (named, no value).
        let e = build("modules:\n  m:\n    password: S3cret-inline\n").unwrap_err();
        assert!(e.contains("user") && !e.contains("S3cret"), "{e}");
        let e =
            build("modules:\n  m:\n    user: a\n    password_env: WINRM_IPMI_TEST_SURELY_UNSET\n")
                .unwrap_err();
        assert!(e.contains("WINRM_IPMI_TEST_SURELY_UNSET"), "{e}");
        let e =
            build("modules:\n  m:\n    user: a\n    password_file: /nonexistent/pw\n").unwrap_err();
        assert!(e.contains("/nonexistent/pw"), "{e}");
    }
}
