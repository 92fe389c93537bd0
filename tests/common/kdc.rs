//! A throwaway MIT Kerberos realm for the tests: Debian's krb5-kdc (installed by
//! `scripts/peers.sh`), a database, principals and keytabs made per run in a temp directory, the
//! KDC on 127.0.0.1 with a free port (TCP only), stopped by PID. Everything is private: the
//! processes that use it get `KRB5_CONFIG` and friends from [`Kdc::env`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{PeerProcess, ScratchDir};

/// The realm.
pub const REALM: &str = "WINRM.TEST";
/// A user and her password.
pub const ALICE: (&str, &str) = ("alice", "Passw0rd!");
/// A service account with a client keytab (no password anyone knows).
pub const SVC: &str = "svc";
/// The simulator's administrator as a Kerberos principal (the simulator maps
/// `administrator@WINRM.TEST` to its account `administrator`).
pub const ADMINISTRATOR: (&str, &str) = ("administrator", "Adm1n-Passw0rd!");

/// A running KDC and its files.
pub struct Kdc {
    /// The KDC; its directory is the realm's: krb5.conf, keytabs, ccaches.
    process: PeerProcess,
    /// The KDC's port on 127.0.0.1.
    pub port: u16,
}

/// Whether the KDC tools are installed; without them the test prints SKIP (and fails under CI).
pub fn present(test: &str) -> bool {
    let found = [
        "/usr/sbin/krb5kdc",
        "/usr/sbin/kadmin.local",
        "/usr/bin/kinit",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    if found {
        return true;
    }
    let why =
        format!("{test}: MIT krb5-kdc/krb5-user are not installed; run scripts/peers.sh (as root)");
    super::peer_missing(&why)
}

impl Kdc {
    /// Creates the realm: alice (password), svc (client keytab), administrator (password),
    /// and the service `HTTP/localhost` (keytab `service.keytab`); starts the KDC.
    pub fn start(name: &str) -> Kdc {
        let dir = ScratchDir::new("kdc", name);
        let port = super::free_port();
        let d = dir.display();
        std::fs::write(
            dir.join("krb5.conf"),
            format!(
                "[libdefaults]\n  default_realm = {REALM}\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  \
                 rdns = false\n  dns_canonicalize_hostname = false\n  udp_preference_limit = 1\n  \
                 default_ccache_name = FILE:{d}/ccache\n\
                 [realms]\n  {REALM} = {{\n    kdc = 127.0.0.1:{port}\n  }}\n\
                 [domain_realm]\n  localhost = {REALM}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n  kdc_listen = 127.0.0.1:{port}\n  kdc_tcp_listen = 127.0.0.1:{port}\n\
                 [realms]\n  {REALM} = {{\n    database_name = {d}/principal\n    key_stash_file = {d}/stash\n    \
                 acl_file = {d}/kadm5.acl\n    max_life = 10h 0m 0s\n    default_principal_flags = +preauth\n    \
                 supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n  }}\n\
                 [logging]\n  kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("kadm5.acl"), "").unwrap();
        let kdc = |cmd: &str, args: &[&str]| {
            let out = Command::new(cmd)
                .args(args)
                .env("KRB5_CONFIG", dir.join("krb5.conf"))
                .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
                .output()
                .unwrap_or_else(|e| panic!("{cmd}: {e}"));
            assert!(
                out.status.success(),
                "{cmd} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        kdc(
            "/usr/sbin/kdb5_util",
            &["create", "-s", "-r", REALM, "-P", "master-Passw0rd"],
        );
        let q = |query: String| kdc("/usr/sbin/kadmin.local", &["-q", &query]);
        q(format!("addprinc -pw {} {}", ALICE.1, ALICE.0));
        q(format!(
            "addprinc -pw {} {}",
            ADMINISTRATOR.1, ADMINISTRATOR.0
        ));
        q(format!("addprinc -randkey {SVC}"));
        q("addprinc -randkey HTTP/localhost".into());
        q("addprinc -randkey HTTP/other.winrm.test".into());
        q(format!("ktadd -k {d}/service.keytab HTTP/localhost"));
        q(format!("ktadd -k {d}/other.keytab HTTP/other.winrm.test"));
        q(format!("ktadd -k {d}/client.keytab {SVC}"));
        let mut command = Command::new("/usr/sbin/krb5kdc");
        command
            .args(["-n", "-P"])
            .arg(dir.join("kdc.pid"))
            .env("KRB5_CONFIG", dir.join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let kdc = Kdc {
            process: PeerProcess::spawn(command, dir),
            port,
        };
        super::wait_for_port(port, "the KDC");
        kdc
    }

    /// A file in the realm's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.process.dir.join(name)
    }

    /// The environment every process using the realm gets: its krb5.conf, and a ccache of
    /// its own (`ccache` names it; nothing of the user's is touched).
    pub fn env(&self, ccache: &str) -> Vec<(String, String)> {
        vec![
            (
                "KRB5_CONFIG".into(),
                self.path("krb5.conf").display().to_string(),
            ),
            (
                "KRB5CCNAME".into(),
                format!("FILE:{}", self.path(ccache).display()),
            ),
            // No client keytab unless a test names one.
            (
                "KRB5_CLIENT_KTNAME".into(),
                format!("FILE:{}", self.path("none.keytab").display()),
            ),
        ]
    }

    /// `kinit principal` with its password into `ccache`, with extra kinit arguments
    /// (`-l 5s`).
    pub fn kinit(&self, principal: &str, password: &str, ccache: &str, extra: &[&str]) {
        use std::io::Write;
        let mut child = Command::new("/usr/bin/kinit")
            .args(extra)
            .arg(principal)
            .envs(self.env(ccache))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kinit: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The KDC's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("kdc.log")).unwrap_or_default()
    }
}
