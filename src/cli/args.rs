//! The command line's words: every option and subcommand, as clap parses them. The man page
//! and the shell completions are generated from these same definitions.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use winrm_ipmi::hosts::Shard;
use winrm_ipmi::ipmi::RawRequest;
use winrm_ipmi::ipmi::app::SystemInfoParameter;
use winrm_ipmi::wmi::microsoft_ipmi;

#[derive(Parser)]
#[command(
    name = "winrm-ipmi",
    version,
    about = "In-band IPMI for Windows servers over WinRM: ipmitool's commands, for one host or a fleet",
    after_help = "The password comes from WINRM_PASSWORD, --password-file, or a prompt; never from the command line. With Kerberos (kinit, or a client keytab in KRB5_CLIENT_KTNAME) no password is needed."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args)]
pub struct Global {
    /// Host to manage, HOST[:PORT] or a URL; repeat it or separate with commas.
    #[arg(short = 'H', long = "host", global = true, value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// File with one host per line (HOST[:PORT]; `#` starts a comment); `-` reads standard
    /// input. Hosts stream in; JSON and CSV results stream out line by line, so memory follows
    /// --concurrency, not the fleet's size (the text table is aligned, so it comes at the end).
    #[arg(long = "hosts", global = true, value_name = "FILE|-")]
    pub hosts_file: Option<String>,
    /// Only this shard of the hosts, K/N (1 ≤ K ≤ N): N runs with K = 1..N cover every host
    /// exactly once; a host's shard depends on its name alone.
    #[arg(long, global = true, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Windows account: DOMAIN\user, user@domain or a local user (default: $WINRM_USER).
    #[arg(short = 'U', long = "user", global = true)]
    pub user: Option<String>,
    /// Read the password from this file (first line).
    #[arg(long, global = true)]
    pub password_file: Option<PathBuf>,
    /// WinRM transport: http (5985, NTLM message encryption) or https (5986).
    #[arg(long, global = true, value_enum, default_value_t = Transport::Http)]
    pub transport: Transport,
    /// No sensor-record cache: read every host's SDR repository from its BMC (by default
    /// repositories are kept in $XDG_CACHE_HOME/winrm-ipmi/sdr and shared by the hosts of a
    /// run, keyed by model and the repository's timestamps).
    #[arg(long, global = true)]
    pub no_sdr_cache: bool,
    /// Authentication. negotiate: Kerberos when a ticket can be had for the host, else NTLM.
    #[arg(long, global = true, value_enum, default_value_t = Auth::Negotiate)]
    pub auth: Auth,
    /// Kerberos service principal, when not HTTP/<host as given> (IP addresses, CNAMEs,
    /// load balancers): SERVICE/HOST or SERVICE/HOST@REALM.
    #[arg(long, global = true, value_name = "SERVICE/HOST")]
    pub spn: Option<String>,
    /// Client certificate (PEM) for --auth certificate.
    #[arg(long, global = true, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, RSA or EC; not encrypted).
    #[arg(long, global = true, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Trust the CA certificates in this PEM file (HTTPS).
    #[arg(long, global = true)]
    pub cacert: Option<PathBuf>,
    /// Accept only the server certificate with this SHA-256 thumbprint (HTTPS).
    #[arg(long, global = true, value_name = "SHA256")]
    pub thumbprint: Option<String>,
    /// Accept any server certificate (HTTPS; encrypted but not authenticated: labs only).
    #[arg(long, global = true, conflicts_with = "thumbprint")]
    pub insecure: bool,
    /// HTTP proxy, http://host:port (a CONNECT tunnel for http and https targets). Without it:
    /// HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment, as curl reads them.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Ignore the proxy environment variables; connect directly.
    #[arg(long, global = true)]
    pub no_proxy: bool,
    /// Proxy account for Basic proxy authentication; the password comes from
    /// WINRM_PROXY_PASSWORD.
    #[arg(long, global = true, value_name = "USER")]
    pub proxy_user: Option<String>,
    /// WS-Management operation timeout in seconds, 0 to 86400 (HTTP requests get 5 s more).
    #[arg(long, global = true, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub timeout: u64,
    /// Hosts in parallel, 1 to 100000.
    #[arg(long, global = true, default_value_t = 64, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub concurrency: usize,
    /// Output: text (ipmitool's layout for one host, a table for several), json (one object
    /// per host per line) or csv.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// More logging on stderr (-v, -vv, -vvv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Auth {
    /// Kerberos when a ticket can be had for the host, else NTLM (as Windows clients do).
    Negotiate,
    /// Kerberos only: the ticket from kinit, a client keytab (KRB5_CLIENT_KTNAME), or a
    /// password with -U user@REALM.
    Kerberos,
    Ntlm,
    Basic,
    /// A TLS client certificate mapped to an account on the host (HTTPS; --cert, --key).
    Certificate,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
    Csv,
    /// A Prometheus file_sd target list of every host's BMC address (`correlate` only), for an
    /// out-of-band ipmi_exporter.
    PrometheusSd,
}

#[derive(Subcommand)]
pub enum Command {
    /// Send a raw request: `raw <netfn> <cmd> [data...]`, as `ipmitool raw`.
    Raw(RawArgs),
    /// Management controller: `mc info`, `mc guid`.
    Mc {
        #[command(subcommand)]
        what: McCommand,
    },
    /// LAN configuration: `lan print [channel]` (every LAN channel when none is given).
    Lan {
        #[command(subcommand)]
        what: LanCommand,
    },
    /// System Info parameters (firmware version, system name, OS name...).
    Sysinfo {
        #[command(subcommand)]
        what: SysinfoCommand,
    },
    /// Host name and OS (WMI) beside the BMC's IP, MAC, firmware and GUID.
    Correlate {
        /// Prove the BMC is this host's: compare the host's SMBIOS UUID
        /// (Win32_ComputerSystemProduct) with the BMC's System GUID, in each byte order the
        /// specifications and vendors use; a mismatch is flagged (exit status 1).
        #[arg(long)]
        verify: bool,
        /// Read only this LAN channel (as `lan print N`), instead of every LAN channel found,
        /// for fleets whose BMCs have their LAN on a known channel (Dell and most others: 1;
        /// HPE iLO: 2).
        #[arg(long, value_name = "N", value_parser = parse_lan_channel)]
        channel: Option<u8>,
        /// Scan channels 1–11 on every BMC. By default they are scanned once per BMC firmware
        /// build and the other BMCs of the build only confirm the channels found (10 round
        /// trips fewer per host), which cannot see a LAN channel that no scanned BMC of the
        /// build had.
        #[arg(long, conflicts_with = "channel")]
        full_scan: bool,
    },
    /// Sensor Data Records: `sdr list|elist [full|compact|event]`, as ipmitool.
    Sdr {
        #[command(subcommand)]
        what: SdrCommand,
    },
    /// Sensors with thresholds: `sensor list`, as ipmitool.
    Sensor {
        #[command(subcommand)]
        what: SensorCommand,
    },
    /// FRU inventory: `fru print [id]` (every FRU device when none is given).
    Fru {
        #[command(subcommand)]
        what: FruCommand,
    },
    /// System Event Log: `sel info|list|elist|clear`.
    Sel {
        #[command(subcommand)]
        what: SelCommand,
    },
    /// Chassis: `chassis status`, `chassis power status|on|off|cycle|reset|soft|diag`,
    /// `chassis bootdev <dev> [options=persistent,efiboot]`, `chassis identify [seconds|force]`.
    Chassis {
        #[command(subcommand)]
        what: ChassisCommand,
    },
    /// DCMI: `dcmi power reading`.
    Dcmi {
        #[command(subcommand)]
        what: DcmiCommand,
    },
    /// The BMC's security posture from the OS, no BMC credentials: users and privileges per LAN
    /// channel, an anonymous user, access mode, IPMI 1.5 authentication types, RMCP+ cipher
    /// suites (0 is a known hole). Exit status 1 when any finding is high.
    Audit,
    /// Users: `user list [channel]`.
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Channels: `channel info [channel]`.
    Channel {
        #[command(subcommand)]
        what: ChannelCommand,
    },
    /// A Prometheus exporter for the hosts' BMCs, in band: `GET /ipmi?target=HOST[&module=M]`
    /// (ipmi_exporter's families), `GET /metrics` (its own). Without --config, one module
    /// `default` from the account options (-U, WINRM_PASSWORD, --auth, ...).
    #[cfg(feature = "exporter")]
    Exporter {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9290")]
        listen: String,
        /// YAML modules (as ipmi_exporter's: account, password source, auth, timeouts,
        /// collectors).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// TLS and basic authentication for the listener, in exporter-toolkit's
        /// `--web.config.file` format (tls_server_config: cert_file, key_file;
        /// basic_auth_users: name to bcrypt hash).
        #[arg(long, value_name = "FILE")]
        web_config: Option<PathBuf>,
        /// Targets that keep an authenticated connection, at most (the least recently
        /// scraped goes first and pays a new handshake when scraped again).
        #[arg(long, value_name = "N", default_value_t = 20_000)]
        max_targets: usize,
    },
    /// Run simulated Windows hosts (WinRM with a BMC behind Microsoft_IPMI) on 127.0.0.1.
    #[cfg(feature = "sim")]
    Sim(SimArgs),
    /// Print a shell completion script: `winrm-ipmi completions bash > /etc/bash_completion.d/winrm-ipmi`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `winrm-ipmi man | man -l -`.
    Man,
    /// Print the WS-Management envelope that sends one raw request (offline).
    Envelope {
        #[command(flatten)]
        raw: RawArgs,
        /// The Microsoft_IPMI InstanceName.
        #[arg(long, default_value = microsoft_ipmi::DEFAULT_INSTANCE_NAME)]
        instance: String,
        /// The WinRM endpoint URL (the To header).
        #[arg(long, default_value = "http://localhost:5985/wsman")]
        endpoint: String,
    },
}

/// `winrm-ipmi sim`'s own options. (Scripts written for the first release pass `--hosts N` and
/// `-U NAME`; those spellings still work: they reach `sim` through the global options.)
#[cfg(feature = "sim")]
#[derive(clap::Args)]
pub struct SimArgs {
    /// How many simulated hosts.
    #[arg(long, value_name = "N")]
    pub count: Option<u32>,
    /// The simulated administrator's account name (default Administrator).
    #[arg(long, value_name = "NAME")]
    pub admin_user: Option<String>,
    /// First port; host i listens on port + i (0: free ports).
    #[arg(long, default_value_t = 5985)]
    pub port: u16,
    /// Environment variable holding the administrator's password (default: the demo
    /// password, printed at start).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Write the endpoints, one per line, to this file once listening.
    #[arg(long, value_name = "FILE")]
    pub endpoints_file: Option<PathBuf>,
    /// Serve HTTPS (5986 semantics) with a self-signed certificate; its thumbprint is printed.
    #[arg(long)]
    pub https: bool,
    /// With --https: accept client certificates issued by (or equal to) the certificates in
    /// this PEM file; a certificate's UPN (otherName) names the account, as Windows' certmapping.
    #[arg(long, value_name = "FILE", requires = "https")]
    pub client_ca: Option<PathBuf>,
    /// Host N (1-based) reports an SMBIOS UUID that is not its BMC's System GUID, as a host
    /// whose BMC belongs to another machine would (for `correlate --verify`).
    #[arg(long, value_name = "N")]
    pub guid_mismatch: Option<u32>,
    /// Accept Kerberos too, with the service keys (HTTP/<name>) in this keytab, as a
    /// domain-joined host; a principal alice@REALM logs on as the host's account alice.
    #[arg(long, value_name = "FILE")]
    pub keytab: Option<PathBuf>,
    /// Injected fault: close the connection after every N-th authenticated reply (the client
    /// must re-authenticate on a new one).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub close_every: u32,
    /// Injected fault: every N-th RequestResponse answers C0h, node busy (the client retries).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub busy_every: u32,
    /// Forward every IPMI request to this BMC over IPMI-over-LAN (RMCP+, e.g. ipmi_sim).
    #[arg(long, value_name = "HOST:PORT")]
    pub forward_to: Option<String>,
    /// BMC user for --forward-to.
    #[arg(long, default_value = "admin")]
    pub forward_user: String,
    /// Environment variable holding the BMC password for --forward-to.
    #[arg(long, default_value = "BMC_PASSWORD", value_name = "VAR")]
    pub forward_password_env: String,
}

/// A raw request as `ipmitool raw` takes it.
#[derive(clap::Args)]
pub struct RawArgs {
    /// Network function (0x06, 6, ...).
    #[arg(value_parser = parse_byte)]
    pub netfn: u8,
    /// Command.
    #[arg(value_parser = parse_byte)]
    pub cmd: u8,
    /// Request data bytes.
    #[arg(value_parser = parse_byte)]
    pub data: Vec<u8>,
}

impl Global {
    /// Whether the run names exactly one host: one `-H` and no host list (a list may hold any
    /// number).
    pub fn one_host(&self) -> bool {
        self.hosts_file.is_none() && self.hosts.len() == 1
    }
}

impl RawArgs {
    pub fn request(self) -> Result<RawRequest, String> {
        RawRequest::from_bytes(self.netfn, self.cmd, self.data).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
pub enum McCommand {
    /// Device ID, firmware, IPMI version, manufacturer (like `ipmitool mc info`).
    Info,
    /// The system GUID (like `ipmitool mc guid`).
    Guid,
    /// The BMC's self-test results.
    Selftest,
    /// The watchdog timer: `mc watchdog get`.
    Watchdog {
        #[command(subcommand)]
        what: WatchdogCommand,
    },
}

#[derive(Subcommand)]
pub enum WatchdogCommand {
    /// Read the watchdog timer.
    Get,
}

#[derive(Subcommand)]
pub enum FruCommand {
    /// Print every FRU device, or one.
    Print {
        /// FRU device ID (0-255).
        #[arg(value_parser = parse_byte)]
        id: Option<u8>,
    },
}

#[derive(Subcommand)]
pub enum SelCommand {
    /// Version, entries, free space, times.
    Info,
    /// Every entry.
    List,
    /// Every entry with sensor names and threshold readings.
    Elist,
    /// Clear the SEL (reservation first; a host list or more than one host needs --yes).
    Clear {
        /// Clear the SEL of every host given.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum ChassisCommand {
    /// Power, faults, restore policy, last power event.
    Status,
    /// `status`, or a power action: on, off, cycle, reset, soft, diag (more than one host
    /// needs --yes).
    Power {
        /// status|on|off|cycle|reset|soft|diag (also up, down, acpi).
        action: String,
        /// Carry out a power action on more than one host.
        #[arg(long)]
        yes: bool,
    },
    /// Boot from this device next time: none, pxe, disk, safe, diag, cdrom, bios, floppy (a
    /// host list or more than one host needs --yes).
    Bootdev {
        device: String,
        /// Set the boot device of every host given.
        #[arg(long)]
        yes: bool,
        /// `options=persistent,efiboot` as ipmitool takes it.
        options: Option<String>,
        /// Every boot, not only the next (ipmitool: options=persistent).
        #[arg(long)]
        persistent: bool,
        /// EFI boot (ipmitool: options=efiboot).
        #[arg(long)]
        efi: bool,
    },
    /// Light the identify LED for N seconds (0 off, default 15), or `force` (indefinitely).
    Identify { interval: Option<String> },
}

#[derive(Subcommand)]
pub enum DcmiCommand {
    /// `dcmi power reading`.
    Power {
        #[command(subcommand)]
        what: DcmiPowerCommand,
    },
}

#[derive(Subcommand)]
pub enum DcmiPowerCommand {
    /// Current, minimum, maximum and average power.
    Reading,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Every user ID of a channel (default: the current channel, 0x0e).
    List {
        #[arg(value_parser = parse_byte)]
        channel: Option<u8>,
    },
}

#[derive(Subcommand)]
pub enum ChannelCommand {
    /// Medium, protocol, sessions and (LAN) access settings.
    Info {
        #[arg(value_parser = parse_byte)]
        channel: Option<u8>,
    },
}

#[derive(Subcommand)]
pub enum LanCommand {
    /// Print the LAN configuration.
    Print {
        /// Channel (default: every LAN channel found).
        channel: Option<u8>,
        /// Scan channels 1–11 on every BMC (by default once per BMC firmware build, as
        /// `correlate --full-scan` explains).
        #[arg(long, conflicts_with = "channel")]
        full_scan: bool,
    },
    /// Set one LAN parameter, as ipmitool: `lan set <channel> ipaddr|netmask <a.b.c.d>`,
    /// `defgw ipaddr <a.b.c.d>`, `ipsrc static|dhcp|bios|none`, `vlan id <1-4094>|off`
    /// (inside set-in-progress where the BMC has it, then read back and compared).
    Set {
        #[arg(value_parser = parse_byte)]
        channel: u8,
        /// ipaddr, netmask, defgw, ipsrc, vlan.
        what: String,
        /// The value (defgw: `ipaddr A.B.C.D`; vlan: `id N` or `id off`).
        #[arg(num_args = 1..=2, required = true)]
        value: Vec<String>,
        /// Change the LAN settings of every host given (not ipaddr: one host only).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum SdrCommand {
    /// Name, reading and status of every sensor.
    List {
        /// Which records (default: full and compact sensor records).
        #[arg(value_enum)]
        which: Option<SdrFilter>,
    },
    /// Name, number, status, entity and reading (or asserted states).
    Elist {
        /// Which records (default: full and compact sensor records).
        #[arg(value_enum)]
        which: Option<SdrFilter>,
    },
}

/// Which SDR records `sdr list` shows.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SdrFilter {
    /// Full sensor records.
    Full,
    /// Compact sensor records.
    Compact,
    /// Event-only records.
    Event,
}

#[derive(Subcommand)]
pub enum SensorCommand {
    /// Every sensor with its reading, units, status and thresholds.
    List,
}

#[derive(Subcommand)]
pub enum SysinfoCommand {
    /// Read parameters 1–5, or one (by ipmitool's name, e.g. os_name, or a number).
    Get {
        #[arg(value_parser = parse_param)]
        param: Option<SystemInfoParameter>,
    },
    /// Write one parameter (set-in-progress handshake, then read back).
    Set {
        #[arg(value_parser = parse_param)]
        param: SystemInfoParameter,
        value: String,
    },
    /// Read the host's OS caption through WMI, write it as Primary OS name and OS name, read back.
    SetOsName,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    Shard::parse(s)
}

/// A byte as ipmitool's `raw` takes it: `0x` hex, a leading `0` octal, else decimal.
pub fn parse_byte(s: &str) -> Result<u8, String> {
    let r = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u8::from_str_radix(hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u8::from_str_radix(&s[1..], 8)
    } else {
        s.parse()
    };
    r.map_err(|_| format!("{s:?} is not a byte (0-255, 0x00-0xff or octal 0-0377)"))
}

/// A LAN channel number, 1 to 11 (0x01-0x0b), refused before any traffic otherwise.
fn parse_lan_channel(s: &str) -> Result<u8, String> {
    let n = parse_byte(s)?;
    winrm_ipmi::ipmi::lan::lan_channel_number(n)
        .map(|_| n)
        .map_err(|e| e.to_string())
}

fn parse_param(s: &str) -> Result<SystemInfoParameter, String> {
    SystemInfoParameter::parse(s).ok_or_else(|| {
        format!(
            "{s:?} is not a System Info parameter ({})",
            SystemInfoParameter::names()
        )
    })
}
