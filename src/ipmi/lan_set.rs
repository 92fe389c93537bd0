//! Setting the BMC's LAN configuration (Set LAN Configuration Parameters, §23.1), as ipmitool's
//! `lan set` does: take set-in-progress where the BMC has it, write the parameter, read it
//! back and compare, then commit-write and set-complete.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Serialize;

use super::lan::{IpAddressSource, lan_channel_number};
use super::mc::channel_info;
use super::{Bmc, IpmiError, NetFn, RawRequest};

/// Read-backs before a write is declared not to have taken (the BMC may apply it late).
const READ_BACKS: u32 = 3;
const READ_BACK_PAUSE: Duration = Duration::from_millis(500);

/// One LAN setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LanSetting {
    /// IP address (parameter 3).
    IpAddress(Ipv4Addr),
    /// Subnet mask (6).
    Netmask(Ipv4Addr),
    /// Default gateway IP (12).
    DefaultGateway(Ipv4Addr),
    /// Address source (4).
    IpSource(IpAddressSource),
    /// 802.1q VLAN ID (20); `None` disables tagging.
    Vlan(Option<u16>),
}

impl LanSetting {
    /// The parameter number.
    pub fn parameter(&self) -> u8 {
        match self {
            LanSetting::IpAddress(_) => 3,
            LanSetting::Netmask(_) => 6,
            LanSetting::DefaultGateway(_) => 12,
            LanSetting::IpSource(_) => 4,
            LanSetting::Vlan(_) => 20,
        }
    }

    /// ipmitool's line before the write (`None`: it prints none).
    pub fn announcement(&self) -> Option<String> {
        match self {
            LanSetting::IpAddress(a) => Some(format!("Setting LAN IP Address to {a}")),
            LanSetting::Netmask(a) => Some(format!("Setting LAN Subnet Mask to {a}")),
            LanSetting::DefaultGateway(a) => Some(format!("Setting LAN Default Gateway IP to {a}")),
            _ => None,
        }
    }
}

async fn get<B: Bmc + ?Sized>(
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
    // The revision byte first.
    Ok((r.completion.is_success() && !r.data.is_empty()).then(|| r.data[1..].to_vec()))
}

async fn set<B: Bmc + ?Sized>(
    bmc: &B,
    channel: u8,
    param: u8,
    value: &[u8],
) -> Result<super::CompletionCode, B::Error> {
    let mut data = vec![channel, param];
    data.extend_from_slice(value);
    Ok(bmc
        .request(RawRequest::new(NetFn::Transport, 0x01, data)?)
        .await?
        .completion)
}

/// Writes `setting` on LAN `channel` and checks it by reading it back.
pub async fn set_lan<B: Bmc + ?Sized>(
    bmc: &B,
    channel: u8,
    setting: LanSetting,
) -> Result<(), B::Error> {
    lan_channel_number(channel)?;
    let info = channel_info(bmc, channel).await?;
    if !info.is_lan() {
        return Err(
            IpmiError::InvalidArgument(format!("channel {channel} is not a LAN channel")).into(),
        );
    }
    let param = setting.parameter();
    let value: Vec<u8> = match setting {
        LanSetting::IpAddress(a) | LanSetting::Netmask(a) | LanSetting::DefaultGateway(a) => {
            a.octets().to_vec()
        }
        LanSetting::IpSource(s) => vec![s.byte()],
        LanSetting::Vlan(Some(id)) => {
            if !(1..=4094).contains(&id) {
                return Err(IpmiError::InvalidArgument("a VLAN ID is 1 to 4094".into()).into());
            }
            vec![(id & 0xFF) as u8, (id >> 8) as u8 | 0x80]
        }
        LanSetting::Vlan(None) => {
            let current = get(bmc, channel, 20).await?.unwrap_or_default();
            vec![
                *current.first().unwrap_or(&0),
                current.get(1).unwrap_or(&0) & 0x0F,
            ]
        }
    };
    // Set in progress, where the BMC has the parameter (a BMC without it applies at once). 81h:
    // another party holds it; nothing is written, and its lock is not ours to release.
    let mut locked = false;
    if get(bmc, channel, 0).await?.is_some() {
        let code = set(bmc, channel, 0, &[0x01]).await?;
        if code.byte() == 0x81 {
            return Err(IpmiError::Completion {
                netfn: NetFn::Transport,
                cmd: 0x01,
                code,
            }
            .into());
        }
        locked = code.is_success();
    }
    let outcome = write_and_verify(bmc, channel, setting, param, &value).await;
    if locked {
        match outcome {
            // Commit, then release.
            Ok(Ok(())) => {
                let _ = set(bmc, channel, 0, &[0x02]).await?;
                let _ = set(bmc, channel, 0, &[0x00]).await?;
            }
            // Whatever failed, the lock is released (without a commit) before the failure is
            // reported, so the next writer does not find it held; a failure to release is
            // secondary to the one being reported.
            _ => {
                let _ = set(bmc, channel, 0, &[0x00]).await;
            }
        }
    }
    outcome?.map_err(Into::into)
}

/// Writes `value` to parameter `param` and reads it back until it reads as written (the BMC
/// may apply it with a delay). The outer error is the carrier's, the inner the BMC's answer.
async fn write_and_verify<B: Bmc + ?Sized>(
    bmc: &B,
    channel: u8,
    setting: LanSetting,
    param: u8,
    value: &[u8],
) -> Result<Result<(), IpmiError>, B::Error> {
    let written = set(bmc, channel, param, value).await?;
    if !written.is_success() {
        return Ok(Err(IpmiError::Completion {
            netfn: NetFn::Transport,
            cmd: 0x01,
            code: written,
        }));
    }
    let mut outcome = Ok(());
    for attempt in 0..READ_BACKS {
        let read = get(bmc, channel, param).await?.unwrap_or_default();
        // A source's upper bits and a VLAN's reserved bits are not ours to compare.
        let same = match setting {
            LanSetting::IpSource(_) => read.first().map(|b| b & 0x0F) == Some(value[0]),
            // Off: tagging disabled; whether the BMC keeps the old ID is its own business.
            LanSetting::Vlan(None) => read.get(1).is_some_and(|b| b & 0x80 == 0),
            _ => read.get(..value.len()) == Some(value),
        };
        if same {
            return Ok(Ok(()));
        }
        outcome = Err(IpmiError::VerifyFailed {
            what: format!("LAN parameter {param} on channel {channel}"),
            written: hex(value),
            read: hex(&read),
        });
        if attempt + 1 < READ_BACKS {
            tokio::time::sleep(READ_BACK_PAUSE).await;
        }
    }
    Ok(outcome)
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::ipmi::CompletionCode;
    use crate::ipmi::test_support::{CarrierFails, Recording};
    use crate::sim::{BmcConfig, SimBmc};

    fn is_set(r: &RawRequest, param: u8) -> bool {
        r.netfn() == NetFn::Transport && r.cmd() == 0x01 && r.data().get(1) == Some(&param)
    }

    #[tokio::test]
    async fn a_lock_held_by_another_party_is_neither_written_past_nor_released() {
        let bmc = Recording::new(SimBmc::new(BmcConfig::default())).failing(
            |r| is_set(r, 0),
            0,
            CompletionCode::from_byte(0x81),
        );
        let e = set_lan(&bmc, 1, LanSetting::IpAddress(Ipv4Addr::new(192, 0, 2, 99)))
            .await
            .unwrap_err();
        assert_eq!(e.completion_code().map(|c| c.byte()), Some(0x81), "{e}");
        let sets: Vec<Vec<u8>> = bmc
            .requests()
            .iter()
            .filter(|r| r.netfn() == NetFn::Transport && r.cmd() == 0x01)
            .map(|r| r.data().to_vec())
            .collect();
        assert_eq!(sets, [vec![1, 0, 0x01]], "only the refused attempt to lock");
    }

    #[tokio::test]
    async fn a_failure_after_locking_still_releases_the_lock() {
        let bmc = CarrierFails {
            inner: SimBmc::new(BmcConfig::default()),
            when: |r| is_set(r, 3),
        };
        let e = set_lan(&bmc, 1, LanSetting::IpAddress(Ipv4Addr::new(192, 0, 2, 99)))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("went down"), "{e}");
        // Set in progress is back to "set complete": the next writer is not locked out.
        assert_eq!(get(&bmc, 1, 0).await.unwrap(), Some(vec![0x00]));
        set_lan(
            &bmc.inner,
            1,
            LanSetting::Netmask(Ipv4Addr::new(255, 255, 0, 0)),
        )
        .await
        .unwrap();
    }
}
