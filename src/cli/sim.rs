//! `winrm-ipmi sim`: simulated Windows hosts in the foreground.

use std::path::PathBuf;
use std::process::ExitCode;

use winrm_ipmi::auth::Password;
use winrm_ipmi::sim::{
    DEMO_ADMIN_PASSWORD, DEMO_OPERATOR, Faults, HostConfig, LanTarget, Simulator,
};
use winrm_ipmi::transport::tls::TlsSettings;

use super::args::{Global, SimArgs};

/// What `winrm-ipmi sim` runs, checked.
pub struct Settings {
    hosts: u32,
    port: u16,
    user: String,
    password: Option<String>,
    endpoints_file: Option<PathBuf>,
    https: bool,
    forward: Option<LanTarget>,
    faults: Faults,
    client_ca: Vec<rustls_pki_types::CertificateDer<'static>>,
    keytab: Option<std::path::PathBuf>,
    guid_mismatch: Option<u32>,
}

impl Settings {
    /// Checks the arguments. The first release's spellings (`sim --hosts N -U NAME`) arrive as
    /// the global `--hosts`/`-U` and still work.
    pub fn from_args(a: SimArgs, legacy: &Global) -> Result<Self, String> {
        let hosts = match (a.count, legacy.hosts_file.as_deref()) {
            (Some(n), _) => n,
            (None, None) => 1,
            (None, Some(n)) => n
                .parse()
                .map_err(|_| "sim --count (or --hosts) takes a number of hosts".to_string())?,
        };
        let user = a
            .admin_user
            .or_else(|| legacy.user.clone())
            .unwrap_or_else(|| "Administrator".into());
        let password = match a.password_env {
            Some(var) => match std::env::var(&var) {
                Ok(p) if !p.is_empty() => Some(p),
                _ => return Err(format!("environment variable {var} is not set")),
            },
            None => None,
        };
        let forward = match a.forward_to {
            Some(address) => match std::env::var(&a.forward_password_env) {
                Ok(p) => Some(LanTarget {
                    address,
                    user: a.forward_user,
                    password: Password::new(p),
                }),
                Err(_) => {
                    return Err(format!(
                        "--forward-to needs the BMC password in ${}",
                        a.forward_password_env
                    ));
                }
            },
            None => None,
        };
        let client_ca = match &a.client_ca {
            None => Vec::new(),
            Some(path) => {
                let mut tls = TlsSettings::default();
                tls.add_ca_file(path)
                    .map_err(|e| format!("--client-ca: {e}"))?;
                tls.extra_roots
            }
        };
        if a.keytab.is_some() && !cfg!(feature = "kerberos") {
            return Err("--keytab: this build has no Kerberos (cargo feature `kerberos`)".into());
        }
        Ok(Settings {
            client_ca,
            keytab: a.keytab,
            guid_mismatch: a.guid_mismatch,
            hosts,
            port: a.port,
            user,
            password,
            endpoints_file: a.endpoints_file,
            https: a.https,
            forward,
            faults: Faults {
                close_every: a.close_every,
                busy_every: a.busy_every,
                ..Faults::default()
            },
        })
    }
}

/// Runs the simulator until Ctrl-C.
pub async fn run(settings: Settings) -> ExitCode {
    let Settings {
        hosts,
        port,
        user,
        password,
        endpoints_file,
        https,
        forward,
        faults,
        client_ca,
        keytab,
        guid_mismatch,
    } = settings;
    let shown_password = password
        .clone()
        .unwrap_or_else(|| DEMO_ADMIN_PASSWORD.into());
    let mut builder = Simulator::builder().https(https).client_ca(client_ca);
    if port != 0 {
        builder = builder.base_port(port);
    }
    #[cfg(feature = "kerberos")]
    if let Some(k) = &keytab {
        builder = builder.keytab(k);
    }
    #[cfg(not(feature = "kerberos"))]
    let _ = &keytab;
    for n in 0..hosts {
        let mut config = HostConfig::numbered(n);
        config.accounts[0].user = user.clone();
        config.accounts[0].password = shown_password.clone();
        config.forward_to = forward.clone();
        config.faults = faults.clone();
        if guid_mismatch == Some(n + 1) {
            // Another machine's UUID: the GUID of a host far outside the fleet.
            config.smbios_uuid = HostConfig::numbered(n + 1_000_000).smbios_uuid;
        }
        builder = builder.host(config);
    }
    let sim = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("winrm-ipmi: cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    let endpoints = sim.endpoints();
    if let Some(path) = endpoints_file {
        let text: String = endpoints.iter().map(|e| format!("{e}\n")).collect();
        let tmp = path.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
            eprintln!("winrm-ipmi: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    let scheme = sim.scheme();
    match sim.thumbprint() {
        Some(t) => println!(
            "{} simulated Windows host(s), WinRM over HTTPS (self-signed certificate, SHA-256 thumbprint {t}):",
            endpoints.len()
        ),
        None => println!(
            "{} simulated Windows host(s), WinRM over HTTP ({}, message encryption required):",
            endpoints.len(),
            if keytab.is_some() {
                "Kerberos and NTLM"
            } else {
                "NTLM"
            }
        ),
    }
    for (i, e) in endpoints.iter().enumerate().take(5) {
        println!("  {} {scheme}://{e}/wsman", sim.host(i).config.host_name);
    }
    if endpoints.len() > 5 {
        println!(
            "  ... through {scheme}://{}/wsman",
            endpoints[endpoints.len() - 1]
        );
    }
    if password.is_some() {
        println!(
            "administrator: {user} (password from the environment); non-administrator: {} / {}",
            DEMO_OPERATOR.0, DEMO_OPERATOR.1
        );
    } else {
        println!(
            "administrator: {user} / {shown_password}; non-administrator: {} / {}",
            DEMO_OPERATOR.0, DEMO_OPERATOR.1
        );
    }
    println!("Ctrl-C stops.");
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown();
    ExitCode::SUCCESS
}
