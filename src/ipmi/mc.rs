//! Management controller state (App NetFn 06h): self-test results (§20.4), the watchdog timer
//! (§27.7), users (§22.27–22.29) and channels (§22.22–22.24).

use serde::Serialize;

use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest};

/// Sends a request and returns its data, or the refusal as an error; `len` is the minimum
/// length the answer must have.
pub(crate) async fn call<B: Bmc + ?Sized>(
    bmc: &B,
    netfn: NetFn,
    cmd: u8,
    data: Vec<u8>,
    name: &'static str,
    len: usize,
) -> Result<Vec<u8>, B::Error> {
    let r = bmc.request(RawRequest::new(netfn, cmd, data)?).await?;
    if !r.completion.is_success() {
        return Err(IpmiError::Completion {
            netfn,
            cmd,
            code: r.completion,
        }
        .into());
    }
    if r.data.len() < len {
        return Err(IpmiError::malformed(
            name,
            format!("expected {len} bytes, got {}", r.data.len()),
        )
        .into());
    }
    Ok(r.data)
}

/// Get Self Test Results: the result code (55h passed, 56h not implemented, 57h corrupted,
/// 58h fatal) and the detail byte.
pub async fn self_test<B: Bmc + ?Sized>(bmc: &B) -> Result<(u8, u8), B::Error> {
    let d = call(bmc, NetFn::App, 0x04, vec![], "Get Self Test Results", 2).await?;
    Ok((d[0], d[1]))
}

/// The watchdog timer (Get Watchdog Timer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Watchdog {
    /// Timer use byte (use in bits 2:0, running bit 6, don't-log bit 7).
    pub timer_use: u8,
    /// Timer actions byte (action in bits 2:0, pre-timeout interrupt in bits 6:4).
    pub actions: u8,
    /// Pre-timeout interval, seconds.
    pub pretimeout: u8,
    /// Timer use expiration flags.
    pub expiration_flags: u8,
    /// Initial countdown, 100 ms units.
    pub initial: u16,
    /// Present countdown, 100 ms units.
    pub present: u16,
}

/// Reads the watchdog timer.
pub async fn watchdog<B: Bmc + ?Sized>(bmc: &B) -> Result<Watchdog, B::Error> {
    let d = call(bmc, NetFn::App, 0x25, vec![], "Get Watchdog Timer", 8).await?;
    Ok(Watchdog {
        timer_use: d[0],
        actions: d[1],
        pretimeout: d[2],
        expiration_flags: d[3],
        initial: u16::from_le_bytes([d[4], d[5]]),
        present: u16::from_le_bytes([d[6], d[7]]),
    })
}

/// One user's access on a channel, and name (Get User Access, Get User Name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// User ID.
    pub id: u8,
    /// Name ("" for an empty name, as user 1, the anonymous user, usually has).
    pub name: String,
    /// Maximum user IDs on the channel.
    pub max_ids: u8,
    /// Enabled user IDs count.
    pub enabled_count: u8,
    /// Fixed-name user IDs count.
    pub fixed_names: u8,
    /// Enable status: 0 unspecified, 1 enabled, 2 disabled.
    pub enable_status: u8,
    /// Restricted to callback.
    pub callback_only: bool,
    /// Link authentication enabled.
    pub link_auth: bool,
    /// IPMI messaging enabled.
    pub ipmi_messaging: bool,
    /// Privilege limit: 1 callback, 2 user, 3 operator, 4 administrator, 5 OEM, 0Fh no access.
    pub privilege: u8,
}

impl User {
    /// Whether this user can log on over this channel: messaging on and a privilege granted.
    pub fn can_log_on(&self) -> bool {
        self.ipmi_messaging && (1..=5).contains(&self.privilege)
    }
}

/// Every user ID of `channel` (1 up to the channel's maximum, at most 63), empty and disabled
/// ones included, as ipmitool's `user list` walks them.
pub async fn users<B: Bmc + ?Sized>(bmc: &B, channel: u8) -> Result<Vec<User>, B::Error> {
    let mut out = Vec::new();
    let mut id = 1u8;
    loop {
        let d = call(
            bmc,
            NetFn::App,
            0x44,
            vec![channel & 0x0F, id & 0x3F],
            "Get User Access",
            4,
        )
        .await?;
        let max_ids = d[0] & 0x3F;
        if id > max_ids {
            return Ok(out);
        }
        let r = bmc
            .request(RawRequest::new(NetFn::App, 0x46, vec![id & 0x3F])?)
            .await?;
        let name = match r.completion {
            CompletionCode::Normal => {
                let bytes = r.data.get(..16).unwrap_or(&r.data);
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                String::from_utf8_lossy(&bytes[..end]).into_owned()
            }
            // An unset name (ipmitool prints it empty).
            c if c.byte() == 0xCC => String::new(),
            code => {
                return Err(IpmiError::Completion {
                    netfn: NetFn::App,
                    cmd: 0x46,
                    code,
                }
                .into());
            }
        };
        out.push(User {
            id,
            name,
            max_ids,
            enabled_count: d[1] & 0x3F,
            fixed_names: d[2] & 0x3F,
            enable_status: d[1] >> 6,
            callback_only: d[3] & 0x40 != 0,
            link_auth: d[3] & 0x20 != 0,
            ipmi_messaging: d[3] & 0x10 != 0,
            privilege: d[3] & 0x0F,
        });
        if id >= max_ids || id >= 63 {
            return Ok(out);
        }
        id += 1;
    }
}

/// Get Channel Info.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelInfo {
    /// The channel number the BMC answered with (Eh asks for the current one).
    pub channel: u8,
    /// Medium type (4 802.3 LAN, 6 other LAN, 0Ch system interface, ...).
    pub medium: u8,
    /// Protocol type.
    pub protocol: u8,
    /// Session support (bits 7:6) and active sessions (bits 5:0).
    pub sessions: u8,
    /// Protocol vendor ID (IANA).
    pub vendor: u32,
}

impl ChannelInfo {
    /// A LAN channel (802.3 or other LAN).
    pub fn is_lan(&self) -> bool {
        self.medium == 4 || self.medium == 6
    }
}

/// Reads a channel's info.
pub async fn channel_info<B: Bmc + ?Sized>(bmc: &B, channel: u8) -> Result<ChannelInfo, B::Error> {
    let d = call(
        bmc,
        NetFn::App,
        0x42,
        vec![channel & 0x0F],
        "Get Channel Info",
        9,
    )
    .await?;
    Ok(ChannelInfo {
        channel: d[0] & 0x0F,
        medium: d[1] & 0x7F,
        protocol: d[2] & 0x1F,
        sessions: d[3],
        vendor: u32::from(d[4]) | u32::from(d[5]) << 8 | u32::from(d[6]) << 16,
    })
}

/// Get Channel Access (volatile with `active`, else non-volatile): the access byte (alerting,
/// per-message and user-level authentication disabled bits, access mode) and the privilege
/// limit.
pub async fn channel_access<B: Bmc + ?Sized>(
    bmc: &B,
    channel: u8,
    active: bool,
) -> Result<(u8, u8), B::Error> {
    let which = if active { 0x80 } else { 0x40 };
    let d = call(
        bmc,
        NetFn::App,
        0x41,
        vec![channel & 0x0F, which],
        "Get Channel Access",
        2,
    )
    .await?;
    Ok((d[0], d[1] & 0x0F))
}
