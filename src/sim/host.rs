//! A simulated Windows host: its identity, accounts, WMI classes, and what it answers to each
//! WS-Management request, in the shapes real Windows replies have (see `fixtures/`).

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use crate::auth::ntlm::PasswordLookup;
use crate::ipmi::{Bmc, CompletionCode, RawResponse};
use crate::wmi::microsoft_ipmi::{self, RESOURCE_URI};
use crate::wsman::codes;
use crate::wsman::server::{
    FaultSpec, IncomingRequest, enumerate_reply, fault_reply, get_reply, instance_xml, pull_reply,
    release_reply,
};

use super::{BmcConfig, LanBmc, LanChannelConfig, LanTarget, SimBmc};

/// The simulated administrator's password unless one is given (a demo value, printed).
pub const DEMO_ADMIN_PASSWORD: &str = "Sim-Passw0rd!";
/// The simulated non-administrator (name, password): authenticates, but is denied
/// `Microsoft_IPMI`, as Windows denies a non-administrator.
pub const DEMO_OPERATOR: (&str, &str) = ("operator", "Op-Passw0rd!");

/// An account on the simulated host. Its `Debug` does not show the password.
#[derive(Clone)]
pub struct Account {
    /// User name (matched case-insensitively, with or without the host's domain).
    pub user: String,
    /// Password.
    pub password: String,
    /// Member of the local Administrators group (required for `Microsoft_IPMI`).
    pub administrator: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("administrator", &self.administrator)
            .finish()
    }
}

/// Failures and delays to inject.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added to every reply that carries a WS-Management response (a slow provider or BMC);
    /// authentication legs are answered at once.
    pub latency: Duration,
    /// The IPMI driver is not loaded: `Microsoft_IPMI` does not exist (no BMC, or a VM).
    pub no_ipmi_driver: bool,
    /// The first N `RequestResponse` calls answer C0h (node busy).
    pub busy_requests: u32,
    /// Every N-th `RequestResponse` call answers C0h (node busy), for as long as the host runs
    /// (0 = never).
    pub busy_every: u32,
    /// Every `RequestResponse` answers this completion code (a BMC that rejects commands).
    pub bmc_rejects: Option<CompletionCode>,
    /// Close the TCP connection after sending the NTLM challenge (the first N times).
    pub close_after_challenge: u32,
    /// Close the connection after every N-th authenticated reply (0 = never).
    pub close_every: u32,
    /// Answer every request with a WS-Management OperationTimeout fault.
    pub operation_timeout: bool,
    /// Answer every authenticated request with a quota fault (MaxConcurrentOperationsPerUser).
    pub quota_exceeded: bool,
    /// A Chassis Control that stops the host (off, cycle, reset, soft) is carried out and the
    /// connection drops before any reply, as a real in-band power-off does.
    pub power_off_drops: bool,
}

/// What a simulated host is.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// NetBIOS / host name (`SIM-HOST-001`).
    pub host_name: String,
    /// DNS domain (`sim.test`).
    pub dns_domain: String,
    /// `Win32_OperatingSystem.Caption`.
    pub os_caption: String,
    /// `Win32_OperatingSystem.Version`.
    pub os_version: String,
    /// `Win32_ComputerSystemProduct.UUID`, the SMBIOS UUID (by default the BMC's System GUID
    /// read in SMBIOS order, as on real hardware; set it to something else for a host whose
    /// BMC belongs to another machine).
    pub smbios_uuid: String,
    /// `Win32_ComputerSystem.Manufacturer` / `Model`.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Accounts.
    pub accounts: Vec<Account>,
    /// `AllowUnencrypted` (Windows default: false, so bodies must be sealed on HTTP).
    pub allow_unencrypted: bool,
    /// Basic authentication enabled (Windows default: false).
    pub basic: bool,
    /// The BMC behind the IPMI driver.
    pub bmc: BmcConfig,
    /// Instead of the simulated BMC, forward `RequestResponse` to this external BMC over
    /// IPMI-over-LAN (e.g. OpenIPMI's `ipmi_sim`).
    pub forward_to: Option<LanTarget>,
    /// Injected failures.
    pub faults: Faults,
}

impl HostConfig {
    /// Host number `n` of a fleet: its own name, BMC IP, MAC and GUID.
    pub fn numbered(n: u32) -> Self {
        let mut bmc = BmcConfig::default();
        let [_, a, b, c] = (n + 1).to_be_bytes();
        bmc.lan_channels = vec![LanChannelConfig::new(
            1,
            Ipv4Addr::new(10, a, b, c),
            [0x18, 0x66, 0xda, a, b, c],
        )];
        bmc.identity.system_guid[12..16].copy_from_slice(&n.to_be_bytes());
        bmc.identity.chassis_serial = format!("SIMCH{:04}", n + 1);
        bmc.identity.board_serial = format!("CNSIM{:010}", n + 1);
        bmc.identity.product_serial = format!("SIM{:04}", n + 1);
        HostConfig {
            host_name: format!("SIM-HOST-{:03}", n + 1),
            dns_domain: "sim.test".into(),
            os_caption: "Microsoft Windows Server 2022 Datacenter".into(),
            os_version: "10.0.20348".into(),
            manufacturer: "Dell Inc.".into(),
            model: "PowerEdge R650".into(),
            smbios_uuid: crate::ipmi::app::SystemGuid(bmc.identity.system_guid).smbios_string(),
            accounts: vec![
                Account {
                    user: "Administrator".into(),
                    password: DEMO_ADMIN_PASSWORD.into(),
                    administrator: true,
                },
                Account {
                    user: DEMO_OPERATOR.0.into(),
                    password: DEMO_OPERATOR.1.into(),
                    administrator: false,
                },
            ],
            allow_unencrypted: false,
            basic: false,
            bmc,
            forward_to: None,
            faults: Faults::default(),
        }
    }
}

/// A running simulated host's state.
#[derive(Debug)]
pub struct Host {
    /// Configuration.
    pub config: HostConfig,
    /// The simulated BMC.
    pub bmc: SimBmc,
    /// The external BMC requests go to instead, when configured.
    forward: Option<LanBmc>,
    busy_left: AtomicU32,
    /// `RequestResponse` calls so far (for `busy_every`).
    ipmi_calls: AtomicU32,
    pub(crate) challenges_sent: AtomicU32,
    /// Set by [`Host::go_down`].
    down: AtomicBool,
    /// Enumeration contexts handed out and not yet ended (oldest first, at most
    /// [`MAX_OPEN_ENUMERATIONS`]: the oldest is forgotten, as a service expires it).
    enumerations: std::sync::Mutex<std::collections::VecDeque<String>>,
}

/// Open enumeration contexts a simulated host keeps.
const MAX_OPEN_ENUMERATIONS: usize = 1024;

/// The instance name the simulated driver reports.
pub const INSTANCE_NAME: &str = microsoft_ipmi::DEFAULT_INSTANCE_NAME;

const WMI_PLUGIN: &str = "WMI Provider";

impl Host {
    /// A host with this configuration.
    pub fn new(config: HostConfig) -> Self {
        Host {
            bmc: SimBmc::new(config.bmc.clone()),
            forward: config.forward_to.clone().map(LanBmc::new),
            busy_left: AtomicU32::new(config.faults.busy_requests),
            ipmi_calls: AtomicU32::new(0),
            challenges_sent: AtomicU32::new(0),
            down: AtomicBool::new(false),
            enumerations: Default::default(),
            config,
        }
    }

    /// Ends the enumeration `context`: whether it was open.
    fn end_enumeration(&self, context: Option<&str>) -> bool {
        let mut open = self.enumerations.lock().expect("enumerations lock");
        match context.and_then(|c| open.iter().position(|o| o == c)) {
            Some(i) => {
                open.remove(i);
                true
            }
            None => false,
        }
    }

    /// The host goes down now (a crash, a reboot, a cable pulled): every request from here on,
    /// on any connection, ends with the connection closed and no reply.
    pub fn go_down(&self) {
        self.down.store(true, Ordering::Relaxed);
    }

    /// Whether [`Host::go_down`] was called.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// NTLM challenges sent so far: one per authenticated connection.
    pub fn ntlm_handshakes(&self) -> u32 {
        self.challenges_sent.load(Ordering::Relaxed)
    }

    /// The account for `domain\user`, if any: the domain may be empty, the host name, or the
    /// DNS domain.
    pub fn account(&self, domain: &str, user: &str) -> Option<&Account> {
        let domain_ok = domain.is_empty()
            || domain.eq_ignore_ascii_case(&self.config.host_name)
            || domain.eq_ignore_ascii_case(&self.config.dns_domain)
            || domain == ".";
        let user = user.split('@').next().unwrap_or(user);
        self.config
            .accounts
            .iter()
            .find(|a| domain_ok && a.user.eq_ignore_ascii_case(user))
    }

    fn fault(&self, relates_to: Option<&str>, kind: SimFault) -> (u16, String) {
        let machine = &self.config.host_name;
        let spec = match kind {
            SimFault::AccessDenied => FaultSpec {
                code: "Sender",
                subcode: "w:AccessDenied",
                reason: "Access is denied. ",
                fault_detail: None,
                wsman_code: codes::ERROR_ACCESS_DENIED,
                machine,
                provider: None,
            },
            SimFault::InvalidClass => FaultSpec {
                code: "Sender",
                subcode: "a:DestinationUnreachable",
                reason: "The WS-Management service cannot process the request. The WMI service returned an 'invalid class' error. ",
                fault_detail: Some("InvalidResourceURI"),
                wsman_code: codes::WBEM_E_INVALID_CLASS,
                machine,
                provider: Some((WMI_PLUGIN, "Invalid class ")),
            },
            SimFault::InvalidSelectors => FaultSpec {
                code: "Sender",
                subcode: "w:InvalidSelectors",
                reason: "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ",
                fault_detail: Some("UnexpectedSelectors"),
                wsman_code: codes::WSMAN_INVALID_SELECTORS,
                machine,
                provider: None,
            },
            SimFault::TimedOut => FaultSpec {
                code: "Receiver",
                subcode: "w:TimedOut",
                reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ",
                fault_detail: None,
                wsman_code: codes::WSMAN_TIMED_OUT,
                machine,
                provider: None,
            },
            SimFault::Quota => FaultSpec {
                code: "Sender",
                subcode: "w:QuotaLimit",
                reason: "The WS-Management service cannot process the request. This user has exceeded the maximum number of concurrent operations. ",
                fault_detail: None,
                wsman_code: codes::WSMAN_QUOTA_OPERATIONS,
                machine,
                provider: None,
            },
            SimFault::EnvelopeTooLarge => FaultSpec {
                code: "Sender",
                subcode: "w:EncodingLimit",
                reason: "The WS-Management service cannot process the request because the computed response packet size exceeds the maximum envelope size that is allowed. ",
                fault_detail: Some("MaxEnvelopeSize"),
                wsman_code: codes::WSMAN_ENCODING_LIMIT,
                machine,
                provider: None,
            },
            SimFault::InvalidEnumerationContext => FaultSpec {
                code: "Receiver",
                subcode: "n:InvalidEnumerationContext",
                reason: "The WS-Management service cannot process the request because the enumeration context supplied in the message is not valid. ",
                fault_detail: None,
                wsman_code: codes::WSMAN_INVALID_ENUMERATION_CONTEXT,
                machine,
                provider: None,
            },
            SimFault::InvalidMessageInformationHeader => FaultSpec {
                code: "Sender",
                subcode: "a:InvalidMessageInformationHeader",
                reason: "The WS-Management service cannot process the request. The request has a missing or invalid MessageID header. ",
                fault_detail: None,
                wsman_code: codes::WSMAN_INVALID_MESSAGE_INFORMATION_HEADER,
                machine,
                provider: None,
            },
            SimFault::ActionNotSupported => FaultSpec {
                code: "Sender",
                subcode: "a:ActionNotSupported",
                reason: "The action is not supported by the service. ",
                fault_detail: None,
                wsman_code: codes::WSMAN_ACTION_NOT_SUPPORTED,
                machine,
                provider: None,
            },
        };
        (500, fault_reply(relates_to, &spec))
    }

    /// Answers one authenticated request for `account`. Returns the HTTP status and envelope.
    pub async fn dispatch(&self, req: &IncomingRequest, account: &Account) -> (u16, String) {
        let relates = req.message_id.as_deref();
        if self.config.faults.operation_timeout {
            return self.fault(relates, SimFault::TimedOut);
        }
        if self.config.faults.quota_exceeded {
            return self.fault(relates, SimFault::Quota);
        }
        // WS-Addressing: a reply must relate to a MessageID (MS-WSMV 3.1.4.1.5).
        if relates.is_none_or(|m| m.trim().is_empty()) {
            return self.fault(None, SimFault::InvalidMessageInformationHeader);
        }
        let action = req.action.as_deref().unwrap_or_default();
        let uri = req.resource_uri.as_deref().unwrap_or_default();
        let context = req.body.as_ref().and_then(|b| b.text("EnumerationContext"));
        let class = uri.rsplit('/').next().unwrap_or_default();
        let is_ipmi = uri.eq_ignore_ascii_case(RESOURCE_URI);
        if is_ipmi && self.config.faults.no_ipmi_driver {
            return self.fault(relates, SimFault::InvalidClass);
        }
        if is_ipmi && !account.administrator {
            return self.fault(relates, SimFault::AccessDenied);
        }
        let (status, reply) = match action {
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate" => match self
                .instances(uri, class)
            {
                None => self.fault(relates, SimFault::InvalidClass),
                Some(items) => {
                    let optimized = req
                        .body
                        .as_ref()
                        .is_some_and(|b| b.get("OptimizeEnumeration").is_some());
                    let context = (!optimized).then(|| format!("uuid:{}", uuid::Uuid::new_v4()));
                    if let Some(c) = &context {
                        let mut open = self.enumerations.lock().expect("enumerations lock");
                        if open.len() >= MAX_OPEN_ENUMERATIONS {
                            open.pop_front();
                        }
                        open.push_back(c.clone());
                    }
                    (200, enumerate_reply(relates, &items, context.as_deref()))
                }
            },
            // One Pull brings every item and ends the sequence, so it ends the context too.
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull" => {
                if !self.end_enumeration(context) {
                    return self.fault(relates, SimFault::InvalidEnumerationContext);
                }
                match self.instances(uri, class) {
                    None => self.fault(relates, SimFault::InvalidClass),
                    Some(items) => (200, pull_reply(relates, &items)),
                }
            }
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release" => {
                if !self.end_enumeration(context) {
                    return self.fault(relates, SimFault::InvalidEnumerationContext);
                }
                (200, release_reply(relates))
            }
            "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get" => {
                match self.instances(uri, class) {
                    None => self.fault(relates, SimFault::InvalidClass),
                    Some(items)
                        if is_ipmi
                            && !req
                                .selector("InstanceName")
                                .is_some_and(|i| i.eq_ignore_ascii_case(INSTANCE_NAME)) =>
                    {
                        let _ = items;
                        self.fault(relates, SimFault::InvalidSelectors)
                    }
                    Some(items) => (200, get_reply(relates, &items[0])),
                }
            }
            a if is_ipmi && a.eq_ignore_ascii_case(&format!("{RESOURCE_URI}/RequestResponse")) => {
                self.request_response(req).await
            }
            _ => self.fault(relates, SimFault::ActionNotSupported),
        };
        if status == 200
            && let Some(max) = req.max_envelope_size
            && reply.len() > max as usize
        {
            return self.fault(relates, SimFault::EnvelopeTooLarge);
        }
        (status, reply)
    }

    async fn request_response(&self, req: &IncomingRequest) -> (u16, String) {
        let relates = req.message_id.as_deref();
        if !req
            .selector("InstanceName")
            .is_some_and(|i| i.eq_ignore_ascii_case(INSTANCE_NAME))
        {
            return self.fault(relates, SimFault::InvalidSelectors);
        }
        let raw = match microsoft_ipmi::parse_request_response_input(req) {
            Ok((_, raw)) => raw,
            Err(e) => {
                let spec = FaultSpec {
                    code: "Sender",
                    subcode: "w:InvalidParameter",
                    reason: "The parameter is incorrect. ",
                    fault_detail: Some("InvalidValue"),
                    wsman_code: codes::ERROR_INVALID_PARAMETER,
                    machine: &self.config.host_name,
                    provider: Some((WMI_PLUGIN, &e.to_string())),
                };
                return (500, fault_reply(relates, &spec));
            }
        };
        let raw_copy = raw.clone();
        let busy = self
            .busy_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
            || {
                let every = self.config.faults.busy_every;
                let n = self.ipmi_calls.fetch_add(1, Ordering::Relaxed) + 1;
                every > 0 && n % every == 0
            };
        let response = if busy {
            RawResponse::new(CompletionCode::NodeBusy, Vec::new())
        } else if let Some(code) = self.config.faults.bmc_rejects {
            RawResponse::new(code, Vec::new())
        } else {
            let answer = match &self.forward {
                Some(lan) => lan.request(raw).await,
                None => self.bmc.request(raw).await,
            };
            match answer {
                Ok(r) => r,
                Err(_) => RawResponse::new(CompletionCode::Unspecified, Vec::new()),
            }
        };
        if self.config.faults.power_off_drops
            && response.completion.is_success()
            && raw_is_power_stop(&raw_copy)
        {
            return (0, String::new());
        }
        (
            200,
            microsoft_ipmi::request_response_reply(relates, &response),
        )
    }

    /// The instances of a class this host has, as XML elements.
    fn instances(&self, uri: &str, class: &str) -> Option<Vec<String>> {
        let c = &self.config;
        let s = |v: &str| Some(v.to_string());
        let uri_is = |ns_path: &str, name: &str| {
            uri.eq_ignore_ascii_case(&crate::wmi::class_uri(ns_path, name))
        };
        if uri_is("root/wmi", "Microsoft_IPMI") {
            return Some(vec![instance_xml(
                uri,
                "Microsoft_IPMI",
                &[
                    ("Active", s("true")),
                    ("BMCAddress", s("32")),
                    ("InstanceName", s(INSTANCE_NAME)),
                ],
            )]);
        }
        if uri_is("root/cimv2", "Win32_OperatingSystem") {
            let build = c
                .os_version
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            return Some(vec![instance_xml(
                uri,
                class,
                &[
                    ("BuildNumber", Some(build)),
                    ("Caption", s(&c.os_caption)),
                    ("CSDVersion", None),
                    ("CSName", s(&c.host_name)),
                    ("Manufacturer", s("Microsoft Corporation")),
                    ("OSArchitecture", s("64-bit")),
                    ("Primary", s("true")),
                    ("ProductType", s("3")),
                    ("Version", s(&c.os_version)),
                ],
            )]);
        }
        if uri_is("root/cimv2", "Win32_ComputerSystemProduct") {
            return Some(vec![instance_xml(
                uri,
                class,
                &[
                    ("IdentifyingNumber", s(&c.bmc.identity.product_serial)),
                    ("Name", s(&c.model)),
                    ("UUID", Some(c.smbios_uuid.to_ascii_uppercase())),
                    ("Vendor", s(&c.manufacturer)),
                ],
            )]);
        }
        if uri_is("root/cimv2", "Win32_ComputerSystem") {
            return Some(vec![instance_xml(
                uri,
                class,
                &[
                    ("DNSHostName", Some(c.host_name.to_ascii_lowercase())),
                    ("Domain", s(&c.dns_domain)),
                    ("Manufacturer", s(&c.manufacturer)),
                    ("Model", s(&c.model)),
                    ("Name", s(&c.host_name)),
                    ("PartOfDomain", s("false")),
                ],
            )]);
        }
        None
    }
}

#[derive(Clone, Copy, Debug)]
enum SimFault {
    AccessDenied,
    InvalidClass,
    InvalidSelectors,
    TimedOut,
    Quota,
    EnvelopeTooLarge,
    ActionNotSupported,
    InvalidEnumerationContext,
    InvalidMessageInformationHeader,
}

impl PasswordLookup for Host {
    fn password(&self, domain: &str, user: &str) -> Option<String> {
        self.account(domain, user).map(|a| a.password.clone())
    }
}

/// A Chassis Control that stops the host: off, cycle, reset, soft.
fn raw_is_power_stop(r: &crate::ipmi::RawRequest) -> bool {
    r.netfn() == crate::ipmi::NetFn::Chassis
        && r.cmd() == 0x02
        && matches!(r.data().first(), Some(0 | 2 | 3 | 5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::{FaultKind, MessageId, RequestContext, WsmanError, parse_enumeration};

    #[test]
    fn no_debug_output_shows_a_password() {
        let mut config = HostConfig::numbered(0);
        config.accounts[0].password = "Zq7-EnvPassword".into();
        for shown in [
            format!("{:?}", config.accounts[0]),
            format!("{config:?}"),
            format!("{:?}", Host::new(config.clone())),
        ] {
            assert!(!shown.contains("Zq7-EnvPassword"), "{shown}");
        }
    }

    #[tokio::test]
    async fn a_reply_larger_than_max_envelope_size_is_an_encoding_limit_fault() {
        let host = Host::new(HostConfig::numbered(0));
        let ctx = RequestContext::new("http://h/wsman");
        let id = MessageId::random();
        let request = ctx.enumerate(RESOURCE_URI, &crate::wsman::EnumerateOptions::default(), id);
        let mut incoming = crate::wsman::server::parse_request(request.xml.as_bytes()).unwrap();
        let admin = host.config.accounts[0].clone();
        let (status, _) = host.dispatch(&incoming, &admin).await;
        assert_eq!(status, 200);
        incoming.max_envelope_size = Some(200);
        let (status, reply) = host.dispatch(&incoming, &admin).await;
        assert_eq!(status, 500);
        match parse_enumeration(reply.as_bytes(), &request) {
            Err(WsmanError::Fault(f)) => assert_eq!(f.kind(), FaultKind::EnvelopeTooLarge, "{f}"),
            other => panic!("{other:?}"),
        }
    }
}
