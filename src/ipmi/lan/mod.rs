//! The BMC's LAN configuration: finding the LAN channel(s) (`channels.rs`: [`find_lan_channels`],
//! [`LanChannelMemo`]), then reading IPv4, MAC, gateway, VLAN and IPv6 parameters (IPMI 2.0 §23.2,
//! Table 23-4).
//!
//! Uses `ipmi-rs-core`'s Get Channel Info and Get LAN Configuration Parameters commands.

mod channels;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipmi_rs_core::connection::Channel;
use ipmi_rs_core::transport::{GetLanConfigParameters, LanConfigParameter};
use serde::{Serialize, Serializer};

pub use channels::{LanChannelMemo, SCANNED_CHANNELS, find_lan_channels, lan_channel_number};

use super::{Bmc, CompletionCode, IpmiError, try_execute};
use channels::is_lan_channel;

/// Most IPv6 address sets read per kind, whatever the BMC claims (bounds the loop).
const MAX_IPV6_SETS: u8 = 16;

/// A 48-bit MAC address, shown zero-padded (`00:1a:2b:0c:0d:0e`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddress(pub [u8; 6]);

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// IP address source (parameter 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IpAddressSource {
    /// 0.
    Unspecified,
    /// 1.
    Static,
    /// 2.
    Dhcp,
    /// 3: BIOS or system software.
    Bios,
    /// 4: other protocol.
    Other,
    /// Reserved values.
    Reserved(u8),
}

impl IpAddressSource {
    /// From bits 3:0 of parameter 4.
    pub const fn from_byte(b: u8) -> Self {
        match b & 0x0F {
            0 => IpAddressSource::Unspecified,
            1 => IpAddressSource::Static,
            2 => IpAddressSource::Dhcp,
            3 => IpAddressSource::Bios,
            4 => IpAddressSource::Other,
            b => IpAddressSource::Reserved(b),
        }
    }

    /// The value in bits 3:0 of parameter 4.
    pub const fn byte(self) -> u8 {
        match self {
            IpAddressSource::Unspecified => 0,
            IpAddressSource::Static => 1,
            IpAddressSource::Dhcp => 2,
            IpAddressSource::Bios => 3,
            IpAddressSource::Other => 4,
            IpAddressSource::Reserved(b) => b & 0x0F,
        }
    }

    /// ipmitool's wording.
    pub const fn description(self) -> &'static str {
        match self {
            IpAddressSource::Unspecified => "Unspecified",
            IpAddressSource::Static => "Static Address",
            IpAddressSource::Dhcp => "DHCP Address",
            IpAddressSource::Bios => "BIOS Assigned Address",
            IpAddressSource::Other => "Other",
            IpAddressSource::Reserved(_) => "Unknown",
        }
    }
}

/// 802.1q VLAN (parameter 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Vlan {
    /// VLAN ID (12 bits).
    pub id: u16,
    /// VLAN enabled.
    pub enabled: bool,
}

/// One IPv6 address of the BMC (parameters 56 and 59).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv6AddressEntry {
    /// The address.
    pub address: Ipv6Addr,
    /// Prefix length.
    pub prefix_length: u8,
    /// How it was obtained: `static`, `slaac`, `dhcpv6` or `other`.
    pub source: &'static str,
    /// Address status: `active`, `disabled`, `pending`, `failed`, `deprecated`, `invalid` or
    /// `unknown`.
    pub status: &'static str,
}

/// The BMC's IPv6 configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv6Config {
    /// Parameter 51: `ipv4_only`, `ipv6_only`, `dual_stack`, or `unknown`.
    pub addressing: &'static str,
    /// Static and dynamic addresses other than `::`.
    pub addresses: Vec<Ipv6AddressEntry>,
}

/// A LAN channel's configuration. A parameter the BMC does not support is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LanConfig {
    /// Channel number.
    pub channel: u8,
    /// IPv4 address (parameter 3).
    pub ip_address: Option<Ipv4Addr>,
    /// Address source (parameter 4).
    pub ip_address_source: Option<IpAddressSource>,
    /// Subnet mask (parameter 6).
    pub subnet_mask: Option<Ipv4Addr>,
    /// MAC address (parameter 5).
    pub mac_address: Option<MacAddress>,
    /// Default gateway (parameter 12).
    pub default_gateway: Option<Ipv4Addr>,
    /// Default gateway MAC (parameter 13).
    pub default_gateway_mac: Option<MacAddress>,
    /// 802.1q VLAN (parameter 20).
    pub vlan: Option<Vlan>,
    /// IPv6, when the BMC supports it (parameters 50–59).
    pub ipv6: Option<Ipv6Config>,
}

/// Reads the configuration of LAN channel `channel`, after checking with Get Channel Info that
/// it is a LAN channel (as ipmitool's `lan print N` does).
pub async fn read_lan_config<B: Bmc + ?Sized>(bmc: &B, channel: u8) -> Result<LanConfig, B::Error> {
    let ch = lan_channel_number(channel)?;
    if !is_lan_channel(bmc, ch).await? {
        return Err(
            IpmiError::InvalidArgument(format!("channel {channel} is not a LAN channel")).into(),
        );
    }
    read_channel(bmc, ch).await
}

/// Every LAN channel's configuration: [`find_lan_channels`], then [`read_lan_configs`].
pub async fn read_all_lan_configs<B: Bmc + ?Sized>(bmc: &B) -> Result<Vec<LanConfig>, B::Error> {
    read_lan_configs(bmc, &find_lan_channels(bmc).await?).await
}

/// The configurations of `channels`, known to be LAN channels ([`find_lan_channels`],
/// [`LanChannelMemo::lan_channels`]); no Get Channel Info is sent.
pub async fn read_lan_configs<B: Bmc + ?Sized>(
    bmc: &B,
    channels: &[u8],
) -> Result<Vec<LanConfig>, B::Error> {
    let mut configs = Vec::with_capacity(channels.len());
    for &channel in channels {
        configs.push(read_channel(bmc, lan_channel_number(channel)?).await?);
    }
    Ok(configs)
}

async fn read_channel<B: Bmc + ?Sized>(bmc: &B, ch: Channel) -> Result<LanConfig, B::Error> {
    let channel = ch.value();
    use LanConfigParameter as P;
    let ip_address = fixed::<4, _>(bmc, ch, P::IpAddress)
        .await?
        .map(Ipv4Addr::from);
    let ip_address_source = fixed::<1, _>(bmc, ch, P::IpAddressSource)
        .await?
        .map(|[b]| IpAddressSource::from_byte(b));
    let mac_address = fixed::<6, _>(bmc, ch, P::MacAddress).await?.map(MacAddress);
    let subnet_mask = fixed::<4, _>(bmc, ch, P::SubnetMask)
        .await?
        .map(Ipv4Addr::from);
    let default_gateway = fixed::<4, _>(bmc, ch, P::DefaultGatewayAddress)
        .await?
        .map(Ipv4Addr::from);
    let default_gateway_mac = fixed::<6, _>(bmc, ch, P::DefaultGatewayMacAddress)
        .await?
        .map(MacAddress);
    let vlan = fixed::<2, _>(bmc, ch, VLAN_ID).await?.map(|[lo, hi]| Vlan {
        id: u16::from_le_bytes([lo, hi & 0x0F]),
        enabled: hi & 0x80 != 0,
    });
    let ipv6 = read_ipv6(bmc, ch).await?;
    Ok(LanConfig {
        channel,
        ip_address,
        ip_address_source,
        subnet_mask,
        mac_address,
        default_gateway,
        default_gateway_mac,
        vlan,
        ipv6,
    })
}

async fn read_ipv6<B: Bmc + ?Sized>(bmc: &B, ch: Channel) -> Result<Option<Ipv6Config>, B::Error> {
    // Parameter 50: bit 0 IPv6-only supported, bit 1 dual-stack supported.
    use LanConfigParameter as P;
    let Some([support]) = fixed::<1, _>(bmc, ch, P::Ipv6Ipv4Support).await? else {
        return Ok(None);
    };
    if support & 0x03 == 0 {
        return Ok(None);
    }
    let addressing = match fixed::<1, _>(bmc, ch, P::Ipv6Ipv4AddressingEnables).await? {
        Some([0]) => "ipv4_only",
        Some([1]) => "ipv6_only",
        Some([2]) => "dual_stack",
        _ => "unknown",
    };
    let (static_max, dynamic_max) = match fixed::<2, _>(bmc, ch, P::Ipv6Status).await? {
        Some([s, d]) => (s.min(MAX_IPV6_SETS), d.min(MAX_IPV6_SETS)),
        None => (0, 0),
    };
    let mut addresses = Vec::new();
    for (param, count) in [
        (P::Ipv6StaticAddresses, static_max),
        (P::Ipv6DynamicAddress, dynamic_max),
    ] {
        let param_number = param.value();
        for set in 0..count {
            let Some(d) = get(bmc, ch, param, set).await? else {
                continue;
            };
            // [0] set selector, [1] source/enable, [2..18] address, [18] prefix, [19] status.
            let d: [u8; 20] = d.get(..20).and_then(|s| s.try_into().ok()).ok_or_else(|| {
                IpmiError::malformed(
                    "Get LAN Configuration Parameters",
                    format!(
                        "parameter {param_number} set {set}: expected 20 bytes, got {}",
                        d.len()
                    ),
                )
            })?;
            let address = Ipv6Addr::from(<[u8; 16]>::try_from(&d[2..18]).expect("16 bytes"));
            let enabled = param == P::Ipv6DynamicAddress || d[1] & 0x80 != 0;
            if !enabled || address.is_unspecified() {
                continue;
            }
            let source = match (param_number, d[1] & 0x0F) {
                (56, _) => "static",
                (_, 1) => "slaac",
                (_, 2) => "dhcpv6",
                _ => "other",
            };
            let status = match d[19] {
                0 => "active",
                1 => "disabled",
                2 => "pending",
                3 => "failed",
                4 => "deprecated",
                5 => "invalid",
                _ => "unknown",
            };
            addresses.push(Ipv6AddressEntry {
                address,
                prefix_length: d[18],
                source,
                status,
            });
        }
    }
    Ok(Some(Ipv6Config {
        addressing,
        addresses,
    }))
}

/// Reads one LAN parameter. Completion codes 80h (not supported), C9h and CCh are "absent", as
/// ipmitool treats them; other codes are errors.
async fn get<B: Bmc + ?Sized>(
    bmc: &B,
    channel: Channel,
    parameter: LanConfigParameter,
    set: u8,
) -> Result<Option<Vec<u8>>, B::Error> {
    let command = GetLanConfigParameters::new(channel, parameter).with_set_selector(set);
    match try_execute(bmc, command).await? {
        Ok(response) => Ok(Some(response.data)),
        Err(refused)
            if matches!(
                refused.code,
                CompletionCode::CommandSpecific(0x80)
                    | CompletionCode::ParameterOutOfRange
                    | CompletionCode::InvalidDataField
            ) =>
        {
            Ok(None)
        }
        Err(refused) => Err(IpmiError::from(refused).into()),
    }
}

/// VLAN ID (parameter 20), which `ipmi-rs-core` does not name.
const VLAN_ID: LanConfigParameter = LanConfigParameter::Other(20);

/// The first `N` bytes of a parameter's data (set 0); fewer is malformed.
async fn fixed<const N: usize, B: Bmc + ?Sized>(
    bmc: &B,
    channel: Channel,
    parameter: LanConfigParameter,
) -> Result<Option<[u8; N]>, B::Error> {
    let number = parameter.value();
    let data = get(bmc, channel, parameter, 0).await?;
    Ok(data
        .map(|d| {
            d.get(..N)
                .and_then(|s| <[u8; N]>::try_from(s).ok())
                .ok_or_else(|| {
                    IpmiError::malformed(
                        "Get LAN Configuration Parameters",
                        format!("parameter {number}: expected {N} bytes, got {}", d.len()),
                    )
                })
        })
        .transpose()?)
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::ipmi::test_support::Recording;
    use crate::ipmi::{RawRequest, execute};
    use crate::sim::{BmcConfig, LanChannelConfig, SimBmc};

    pub(super) fn two_lan_bmc() -> SimBmc {
        let mut second = LanChannelConfig::new(
            3,
            Ipv4Addr::new(192, 168, 7, 9),
            [0, 0x1a, 2, 0x0c, 0xd, 0xe],
        );
        second.ip_source = IpAddressSource::Dhcp;
        second.vlan = Some(0x123);
        second.ipv6 = Some(("fd00::9".parse().unwrap(), 64));
        let mut config = BmcConfig::default();
        config.lan_channels.push(second);
        SimBmc::new(config)
    }

    #[tokio::test]
    async fn reads_ipv4_mac_gateway_vlan_and_ipv6() {
        let bmc = two_lan_bmc();
        let c = read_lan_config(&bmc, 1).await.unwrap();
        assert_eq!(c.ip_address, Some(Ipv4Addr::new(10, 0, 0, 120)));
        assert_eq!(c.ip_address_source, Some(IpAddressSource::Static));
        assert_eq!(c.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(c.mac_address.unwrap().to_string(), "18:66:da:00:00:01");
        assert_eq!(c.default_gateway, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            c.vlan,
            Some(Vlan {
                id: 0,
                enabled: false
            })
        );
        assert_eq!(c.ipv6, None);

        let c = read_lan_config(&bmc, 3).await.unwrap();
        assert_eq!(c.ip_address_source.unwrap().description(), "DHCP Address");
        assert_eq!(c.mac_address.unwrap().to_string(), "00:1a:02:0c:0d:0e");
        assert_eq!(
            c.vlan,
            Some(Vlan {
                id: 0x123,
                enabled: true
            })
        );
        let v6 = c.ipv6.clone().unwrap();
        assert_eq!(v6.addressing, "dual_stack");
        assert_eq!(v6.addresses.len(), 1);
        assert_eq!(
            v6.addresses[0].address,
            "fd00::9".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(v6.addresses[0].prefix_length, 64);
        assert_eq!(v6.addresses[0].source, "static");
        assert_eq!(v6.addresses[0].status, "active");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["mac_address"], "00:1a:02:0c:0d:0e");
        assert_eq!(json["ip_address"], "192.168.7.9");
    }

    #[tokio::test]
    async fn errors_other_than_absent_are_reported() {
        fn ip_param(r: &RawRequest) -> bool {
            r.cmd() == 0x02 && r.data()[1] == 3
        }
        let bmc = Recording::new(two_lan_bmc()).failing(ip_param, 0, CompletionCode::NodeBusy);
        let e = read_lan_config(&bmc, 1).await.unwrap_err();
        assert_eq!(e.completion_code(), Some(CompletionCode::NodeBusy));
        let e = read_lan_config(&bmc, 2).await.unwrap_err();
        assert_eq!(e.to_string(), "channel 2 is not a LAN channel");
        assert!(matches!(
            read_lan_config(&bmc, 12).await,
            Err(IpmiError::InvalidArgument(_))
        ));
        assert!(matches!(
            read_lan_config(&bmc, 0).await,
            Err(IpmiError::InvalidArgument(_))
        ));
        let all = read_all_lan_configs(&bmc.inner).await.unwrap();
        assert_eq!(
            all.iter().map(|c| c.channel).collect::<Vec<_>>(),
            vec![1, 3]
        );
    }

    #[tokio::test]
    async fn ipmi_rs_core_commands_run_over_any_bmc() {
        let bmc = SimBmc::new(BmcConfig::default());
        let id = execute(&bmc, ipmi_rs_core::app::GetDeviceId).await.unwrap();
        assert_eq!(id.manufacturer_id, 674);
        assert_eq!(id.device_id, 0x20);
        let ours = execute(&bmc, crate::ipmi::app::GetDeviceId).await.unwrap();
        assert_eq!(ours.firmware_revision(), "2.80");
        let guid = execute(&bmc, crate::ipmi::app::GetSystemGuid)
            .await
            .unwrap();
        assert_eq!(guid.0, bmc.config().identity.system_guid);
    }
}
