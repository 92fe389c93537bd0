//! The BMC's security posture, read from the OS with no BMC credentials: who can log on over
//! each LAN channel and with what privilege, an anonymous (null) user, the channel's access
//! mode, the IPMI 1.5 authentication types enabled per privilege level, and the RMCP+ cipher
//! suites offered (cipher suite 0 logs on with no password at all).

use serde::Serialize;

use super::lan::find_lan_channels;
use super::mc::{User, channel_access, users};
use super::{Bmc, NetFn, RawRequest};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Weak, not open.
    Low,
    /// Weakens authentication.
    Medium,
    /// Lets someone on the network in, or read passwords.
    High,
}

impl Severity {
    /// The word printed.
    pub const fn word(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "HIGH",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// The LAN channel.
    pub channel: u8,
    /// A stable identifier (`cipher-suite-0`, `auth-none`, `null-user`, ...).
    pub id: &'static str,
    /// What was found.
    pub detail: String,
}

/// Everything read, and the findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Per LAN channel.
    pub channels: Vec<ChannelPosture>,
    /// Most severe first.
    pub findings: Vec<Finding>,
}

impl Audit {
    /// Whether any finding is high.
    pub fn has_high(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::High)
    }
}

/// One LAN channel's settings as read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChannelPosture {
    /// Channel number.
    pub channel: u8,
    /// Access mode: 0 disabled, 1 pre-boot only, 2 always available, 3 shared.
    pub access_mode: u8,
    /// Per-message authentication disabled.
    pub per_message_auth_disabled: bool,
    /// User-level authentication disabled.
    pub user_level_auth_disabled: bool,
    /// Authentication types enabled (LAN parameter 2) for callback, user, operator,
    /// administrator, OEM: bit 0 none, 1 MD2, 2 MD5, 4 straight password, 5 OEM.
    pub auth_enabled: Option<[u8; 5]>,
    /// RMCP+ cipher suite IDs offered.
    pub cipher_suites: Option<Vec<u8>>,
    /// Users that can log on over this channel.
    pub users: Vec<User>,
}

/// The RMCP+ cipher suites a channel offers: Get Channel Cipher Suites (App 54h), listed by
/// cipher suite; `None` where the BMC cannot say.
pub async fn cipher_suites<B: Bmc + ?Sized>(
    bmc: &B,
    channel: u8,
) -> Result<Option<Vec<u8>>, B::Error> {
    let mut data = Vec::new();
    for index in 0..0x40u8 {
        let r = bmc
            .request(RawRequest::new(
                NetFn::App,
                0x54,
                vec![channel, 0x00, 0x80 | index],
            )?)
            .await?;
        if !r.completion.is_success() || r.data.is_empty() {
            return Ok(None);
        }
        data.extend_from_slice(&r.data[1..]);
        if r.data.len() < 17 {
            break;
        }
    }
    let mut ids = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            0xC0 if i + 1 < data.len() => {
                ids.push(data[i + 1]);
                i += 2;
            }
            0xC1 if i + 1 < data.len() => {
                ids.push(data[i + 1]);
                i += 5;
            }
            _ => i += 1,
        }
    }
    Ok(Some(ids))
}

async fn lan_param<B: Bmc + ?Sized>(
    bmc: &B,
    channel: u8,
    param: u8,
) -> Result<Option<Vec<u8>>, B::Error> {
    let r = bmc
        .request(RawRequest::new(
            NetFn::Transport,
            0x02,
            vec![channel, param, 0, 0],
        )?)
        .await?;
    Ok((r.completion.is_success() && r.data.len() > 1).then(|| r.data[1..].to_vec()))
}

/// Reads every LAN channel's posture and judges it.
pub async fn audit<B: Bmc + ?Sized>(bmc: &B) -> Result<Audit, B::Error> {
    let mut audit = Audit::default();
    for channel in find_lan_channels(bmc).await? {
        let (access, _) = channel_access(bmc, channel, true).await?;
        let auth_enabled = lan_param(bmc, channel, 2)
            .await?
            .and_then(|d| d.get(..5).map(|b| [b[0], b[1], b[2], b[3], b[4]]));
        let cipher_suites = cipher_suites(bmc, channel).await?;
        let all = users(bmc, channel).await?;
        let posture = ChannelPosture {
            channel,
            access_mode: access & 0x07,
            per_message_auth_disabled: access & 0x10 != 0,
            user_level_auth_disabled: access & 0x08 != 0,
            auth_enabled,
            cipher_suites,
            users: all
                .into_iter()
                .filter(|u| u.can_log_on() && u.enable_status != 2)
                .collect(),
        };
        judge(&posture, &mut audit.findings);
        audit.channels.push(posture);
    }
    audit
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(audit)
}

const LEVELS: [&str; 5] = ["callback", "user", "operator", "administrator", "OEM"];

fn judge(p: &ChannelPosture, out: &mut Vec<Finding>) {
    let ch = p.channel;
    let mut find = |severity, id, detail: String| {
        out.push(Finding {
            severity,
            channel: ch,
            id,
            detail,
        })
    };
    let mode = ["disabled", "pre-boot only", "always available", "shared"]
        .get(p.access_mode as usize)
        .copied()
        .unwrap_or("unknown");
    if p.access_mode == 0 {
        find(
            Severity::Info,
            "lan-disabled",
            format!("IPMI over LAN is disabled on channel {ch}"),
        );
        return;
    }
    find(
        Severity::Info,
        "lan-enabled",
        format!(
            "IPMI over LAN is enabled on channel {ch} (access mode: {mode}): the BMC answers RMCP/RMCP+ from the network"
        ),
    );
    if let Some(suites) = &p.cipher_suites {
        if suites.contains(&0) {
            find(
                Severity::High,
                "cipher-suite-0",
                "RMCP+ cipher suite 0 is offered: anyone who knows a user name logs on with any password".into(),
            );
        }
        let list: Vec<String> = suites.iter().map(u8::to_string).collect();
        find(
            Severity::Info,
            "cipher-suites",
            format!("RMCP+ cipher suites offered: {}", list.join(",")),
        );
    }
    if let Some(enabled) = p.auth_enabled {
        for (bit, id, severity, what) in [
            (
                0x01,
                "auth-none",
                Severity::High,
                "NONE (no authentication)",
            ),
            (
                0x10,
                "auth-straight",
                Severity::High,
                "STRAIGHT PASSWORD (sent in clear)",
            ),
            (0x02, "auth-md2", Severity::Medium, "MD2"),
            (0x04, "auth-md5", Severity::Low, "MD5 (IPMI 1.5)"),
        ] {
            let levels: Vec<&str> = LEVELS
                .iter()
                .zip(enabled)
                .filter(|(_, b)| b & bit != 0)
                .map(|(l, _)| *l)
                .collect();
            if !levels.is_empty() {
                find(
                    severity,
                    id,
                    format!(
                        "IPMI 1.5 authentication type {what} is enabled for: {}",
                        levels.join(", ")
                    ),
                );
            }
        }
    }
    if p.per_message_auth_disabled {
        find(
            Severity::Medium,
            "per-message-auth-off",
            "per-message authentication is disabled: IPMI 1.5 messages after activation go unauthenticated".into(),
        );
    }
    if p.user_level_auth_disabled {
        find(
            Severity::Medium,
            "user-level-auth-off",
            "user-level authentication is disabled: User-privilege commands go unauthenticated"
                .into(),
        );
    }
    for u in &p.users {
        let priv_name = match u.privilege {
            1 => "callback",
            2 => "user",
            3 => "operator",
            4 => "administrator",
            _ => "OEM",
        };
        if u.name.is_empty() {
            find(
                Severity::High,
                "null-user",
                format!(
                    "user {} has no name and can log on with {priv_name} privilege (anonymous login)",
                    u.id
                ),
            );
        } else {
            find(
                Severity::Info,
                "user",
                format!(
                    "user {} '{}' can log on with {priv_name} privilege",
                    u.id, u.name
                ),
            );
        }
    }
}
