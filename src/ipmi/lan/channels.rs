//! Which channels are LAN channels: a scan of channels 1–0Bh with Get Channel Info (IPMI 2.0
//! §22.24), and [`LanChannelMemo`], which does it once per firmware build for a fleet.

use std::fmt;

use ipmi_rs_core::app::{ChannelMediumType, GetChannelInfo};
use ipmi_rs_core::connection::Channel;

use crate::ipmi::app::DeviceId;
use crate::ipmi::{Bmc, CompletionClass, IpmiError, try_execute};

/// Channels scanned for LAN media: 1 to 0Bh (0 is the primary IPMB, 0Eh/0Fh are aliases).
pub const SCANNED_CHANNELS: std::ops::RangeInclusive<u8> = 1..=0x0B;

/// The channels among 1–0Bh whose medium is 802.3 LAN (4) or other LAN (6). The medium byte is
/// masked with 7Fh; channels the BMC refuses with a completion code do not exist and are skipped.
pub async fn find_lan_channels<B: Bmc + ?Sized>(bmc: &B) -> Result<Vec<u8>, B::Error> {
    Ok(scan_channels(bmc).await?.channels)
}

/// What a scan of channels 1–0Bh found.
struct Scan {
    channels: Vec<u8>,
    /// Every channel answered, or was refused with a code that does not change on a retry
    /// ([`CompletionClass::Permanent`]): the scan would give the same list again.
    definitive: bool,
}

async fn scan_channels<B: Bmc + ?Sized>(bmc: &B) -> Result<Scan, B::Error> {
    let mut scan = Scan {
        channels: Vec::new(),
        definitive: true,
    };
    for number in SCANNED_CHANNELS {
        let channel = Channel::new(number).expect("1..=0x0B are valid channel numbers");
        match try_execute(bmc, GetChannelInfo::new(channel)).await? {
            Ok(info) if is_lan(&info.medium_type) => scan.channels.push(number),
            Ok(_) => {}
            Err(refused) => {
                scan.definitive &= refused.code.class() == CompletionClass::Permanent;
            }
        }
    }
    Ok(scan)
}

fn is_lan(medium: &ChannelMediumType) -> bool {
    matches!(
        medium,
        ChannelMediumType::Lan802_3 | ChannelMediumType::OtherLan
    )
}

/// Whether Get Channel Info says `channel` is a LAN channel (a refusal: it is not).
pub(super) async fn is_lan_channel<B: Bmc + ?Sized>(
    bmc: &B,
    channel: Channel,
) -> Result<bool, B::Error> {
    Ok(matches!(
        try_execute(bmc, GetChannelInfo::new(channel)).await?,
        Ok(info) if is_lan(&info.medium_type)
    ))
}

/// Most firmware builds a [`LanChannelMemo`] remembers (the least recently used goes first).
const MAX_MEMO_BUILDS: usize = 4096;

/// The LAN channels of each BMC firmware build, learnt on the first BMC running it and checked
/// on the others: for a fleet of a few server models, finding the LAN channels takes one Get
/// Channel Info per LAN channel instead of a scan of channels 1–0Bh (eleven requests, each a
/// WinRM round trip and a KCS transaction on a real host).
///
/// The channel table is part of the firmware, so a build is identified by everything Get Device
/// ID reports except the "device available" bit: device ID and revision, firmware and IPMI
/// versions, the support flags, manufacturer, product and auxiliary revision. On a BMC of a
/// known build each remembered channel is still asked for with Get Channel Info, and any that
/// is not a LAN channel there makes that BMC be scanned in full. Only a scan that nothing
/// transient cut short is remembered (a channel refused with C0h busy or C3h is not evidence
/// that it does not exist), and only one that found a LAN channel.
///
/// A BMC of a remembered build that lacks one of its channels is scanned in full (every
/// time), and the remembered list stays as it was; a BMC with more channels than remembered
/// replaces it. What this cannot see: a BMC of a remembered build with a LAN channel that no
/// scanned BMC of the build had. Where that matters, scan each host ([`find_lan_channels`]),
/// or remember per host ([`LanChannelMemo::per_host`]: each host is scanned once, for a
/// process that reads the same hosts again and again, as the exporter does).
pub struct LanChannelMemo {
    entries: std::sync::Mutex<Entries>,
    per_host: bool,
    capacity: usize,
}

/// What a memo remembers, by build or by host, and a clock for the least recently used.
#[derive(Default)]
struct Entries {
    map: std::collections::HashMap<Key, Remembered>,
    clock: u64,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Build(FirmwareBuild),
    /// The host, lower-cased.
    Host(String),
}

struct Remembered {
    /// The build the channels were found on (a host's firmware update is scanned again).
    build: FirmwareBuild,
    channels: Vec<u8>,
    used: u64,
}

impl Default for LanChannelMemo {
    fn default() -> Self {
        LanChannelMemo {
            entries: Default::default(),
            per_host: false,
            capacity: MAX_MEMO_BUILDS,
        }
    }
}

impl fmt::Debug for LanChannelMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries.lock().map_or(0, |e| e.map.len());
        f.debug_struct("LanChannelMemo")
            .field("entries", &entries)
            .field("per_host", &self.per_host)
            .finish()
    }
}

/// A BMC firmware build, as Get Device ID identifies it.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FirmwareBuild {
    device_id: u8,
    device_revision: u8,
    provides_device_sdrs: bool,
    firmware: (u8, u8),
    ipmi_version: (u8, u8),
    additional_support: [bool; 8],
    manufacturer_id: u32,
    product_id: u16,
    aux_firmware_revision: Option<[u8; 4]>,
}

impl FirmwareBuild {
    fn of(d: &DeviceId) -> Self {
        let s = &d.additional_support;
        FirmwareBuild {
            device_id: d.device_id,
            device_revision: d.device_revision,
            provides_device_sdrs: d.provides_device_sdrs,
            firmware: (d.firmware_major, d.firmware_minor_bcd),
            ipmi_version: (d.ipmi_version_major, d.ipmi_version_minor),
            additional_support: [
                s.sensor_device,
                s.sdr_repository,
                s.sel_device,
                s.fru_inventory,
                s.ipmb_event_receiver,
                s.ipmb_event_generator,
                s.bridge,
                s.chassis,
            ],
            manufacturer_id: d.manufacturer_id,
            product_id: d.product_id,
            aux_firmware_revision: d.aux_firmware_revision,
        }
    }
}

impl LanChannelMemo {
    /// An empty memo (one per run, shared by every host), per firmware build.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty memo that remembers each host's own channels, for a process that reads the
    /// same hosts again and again: each host is scanned once, and again after a firmware
    /// update or when a remembered channel is gone (its new list replaces the old). It keeps
    /// `capacity` hosts, the least recently used going first.
    pub fn per_host(capacity: usize) -> Self {
        LanChannelMemo {
            per_host: true,
            capacity: capacity.max(1),
            ..Self::default()
        }
    }

    /// The LAN channels of `bmc` (at `host`), whose Get Device ID answer is `device`: the
    /// remembered list for its build (or host) once each channel on it is confirmed, else a
    /// full scan (remembered when it is definitive and not empty).
    pub async fn lan_channels<B: Bmc + ?Sized>(
        &self,
        bmc: &B,
        device: &DeviceId,
        host: &str,
    ) -> Result<Vec<u8>, B::Error> {
        let build = FirmwareBuild::of(device);
        let key = if self.per_host {
            Key::Host(host.to_ascii_lowercase())
        } else {
            Key::Build(build.clone())
        };
        let known = self.entries.lock().ok().and_then(|mut e| {
            e.clock += 1;
            let now = e.clock;
            e.map.get_mut(&key).filter(|r| r.build == build).map(|r| {
                r.used = now;
                r.channels.clone()
            })
        });
        if let Some(channels) = known {
            let mut confirmed = true;
            for &number in &channels {
                confirmed = is_lan_channel(bmc, lan_channel_number(number)?).await?;
                if !confirmed {
                    break;
                }
            }
            if confirmed {
                return Ok(channels);
            }
        }
        let scan = scan_channels(bmc).await?;
        if scan.definitive
            && !scan.channels.is_empty()
            && let Ok(mut e) = self.entries.lock()
        {
            e.clock += 1;
            let now = e.clock;
            let per_host = self.per_host;
            match e.map.get_mut(&key) {
                // Per build: a BMC with fewer channels than remembered keeps being scanned in
                // full, and the list the others confirm is never cut down to its; more
                // channels replace it. Per host: the host's own new list replaces its old one.
                Some(r)
                    if per_host
                        || r.build != build
                        || r.channels.iter().all(|c| scan.channels.contains(c)) =>
                {
                    r.build = build;
                    r.channels.clone_from(&scan.channels);
                    r.used = now;
                }
                Some(_) => {}
                None => {
                    if e.map.len() >= self.capacity
                        && let Some(oldest) = e
                            .map
                            .iter()
                            .min_by_key(|(_, r)| r.used)
                            .map(|(k, _)| k.clone())
                    {
                        e.map.remove(&oldest);
                    }
                    e.map.insert(
                        key,
                        Remembered {
                            build,
                            channels: scan.channels.clone(),
                            used: now,
                        },
                    );
                }
            }
        }
        Ok(scan.channels)
    }
}

/// Checks that `channel` can be a LAN channel (1 to 0Bh), as given by a user.
pub fn lan_channel_number(channel: u8) -> Result<Channel, IpmiError> {
    Channel::new(channel)
        .filter(|c| !matches!(c, Channel::Current | Channel::System | Channel::Primary))
        .ok_or_else(|| {
            IpmiError::InvalidArgument(format!(
                "channel {channel} is not a LAN channel number (1 to 11)"
            ))
        })
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::ipmi::lan::tests::two_lan_bmc;
    use crate::ipmi::lan::{read_all_lan_configs, read_lan_configs};
    use crate::ipmi::test_support::Recording;
    use crate::ipmi::{CompletionCode, NetFn, RawRequest, execute};
    use crate::sim::{BmcConfig, SimBmc};

    #[tokio::test]
    async fn finds_every_lan_channel_and_skips_absent_ones() {
        let bmc = Recording::new(two_lan_bmc());
        assert_eq!(find_lan_channels(&bmc).await.unwrap(), vec![1, 3]);
        assert_eq!(bmc.count(NetFn::App, 0x42), 11);
    }

    async fn memo_channels(memo: &LanChannelMemo, bmc: &Recording<SimBmc>) -> (Vec<u8>, usize) {
        let d = execute(&bmc.inner, crate::ipmi::app::GetDeviceId)
            .await
            .unwrap();
        let channels = memo.lan_channels(bmc, &d, "h").await.unwrap();
        (channels, bmc.count(NetFn::App, 0x42))
    }

    #[tokio::test]
    async fn a_firmware_build_is_scanned_once_and_checked_on_each_bmc() {
        let memo = LanChannelMemo::new();
        // The first BMC of a build is scanned in full; the next ones of the build only have
        // their two LAN channels confirmed.
        assert_eq!(
            memo_channels(&memo, &Recording::new(two_lan_bmc())).await,
            (vec![1, 3], 11)
        );
        for _ in 0..3 {
            let bmc = Recording::new(two_lan_bmc());
            assert_eq!(memo_channels(&memo, &bmc).await, (vec![1, 3], 2));
            let asked: Vec<u8> = bmc.requests().iter().map(|r| r.data()[0]).collect();
            assert_eq!(asked, vec![1, 3]);
        }
        // Another firmware revision is another build: scanned.
        let mut config = BmcConfig::default();
        config.identity.firmware_minor_bcd = 0x81;
        let other = Recording::new(SimBmc::new(config));
        assert_eq!(memo_channels(&memo, &other).await, (vec![1], 11));
        // The configurations read from the confirmed channels are those of a full read.
        let bmc = two_lan_bmc();
        let d = execute(&bmc, crate::ipmi::app::GetDeviceId).await.unwrap();
        let channels = memo.lan_channels(&bmc, &d, "h").await.unwrap();
        assert_eq!(
            read_lan_configs(&bmc, &channels).await.unwrap(),
            read_all_lan_configs(&bmc).await.unwrap()
        );
    }

    #[tokio::test]
    async fn per_host_each_host_is_scanned_once() {
        let memo = LanChannelMemo::per_host(2);
        let ask = |host: &'static str, config: BmcConfig| {
            let memo = &memo;
            async move {
                let bmc = Recording::new(SimBmc::new(config));
                let d = execute(&bmc.inner, crate::ipmi::app::GetDeviceId)
                    .await
                    .unwrap();
                let channels = memo.lan_channels(&bmc, &d, host).await.unwrap();
                (channels, bmc.count(NetFn::App, 0x42))
            }
        };
        let two = || two_lan_bmc().config().clone();
        // Same build, other hosts: each scanned once, then confirmed.
        assert_eq!(ask("a", two()).await, (vec![1, 3], 11));
        assert_eq!(ask("b", two()).await, (vec![1, 3], 11));
        assert_eq!(ask("A", two()).await, (vec![1, 3], 2));
        assert_eq!(ask("b", two()).await, (vec![1, 3], 2));
        // A host that lost a channel: scanned once, and its new list replaces the old one.
        assert_eq!(ask("b", BmcConfig::default()).await, (vec![1], 2 + 11));
        assert_eq!(ask("b", BmcConfig::default()).await, (vec![1], 1));
        // A firmware update: scanned once, in place of the old entry.
        let mut updated = two();
        updated.identity.firmware_minor_bcd = 0x81;
        assert_eq!(ask("b", updated.clone()).await, (vec![1, 3], 11));
        assert_eq!(ask("b", updated.clone()).await, (vec![1, 3], 2));
        // Full: the least recently used host ("a") goes; the newcomer is remembered.
        assert_eq!(ask("c", two()).await, (vec![1, 3], 11));
        assert_eq!(ask("c", two()).await, (vec![1, 3], 2));
        assert_eq!(ask("b", updated).await, (vec![1, 3], 2));
        assert_eq!(ask("a", two()).await, (vec![1, 3], 11));
        assert_eq!(
            format!("{memo:?}"),
            "LanChannelMemo { entries: 2, per_host: true }"
        );
    }

    #[tokio::test]
    async fn a_bmc_that_lacks_a_remembered_channel_is_scanned() {
        let memo = LanChannelMemo::new();
        memo_channels(&memo, &Recording::new(two_lan_bmc())).await;
        // Same build, but channel 3 does not exist on this one.
        let bmc = Recording::new(SimBmc::new(BmcConfig::default()));
        assert_eq!(memo_channels(&memo, &bmc).await, (vec![1], 2 + 11));
        // It does not cut the list down for the others: they still confirm both channels, and
        // it is scanned again the next time.
        let a = Recording::new(two_lan_bmc());
        assert_eq!(memo_channels(&memo, &a).await, (vec![1, 3], 2));
        let b = Recording::new(SimBmc::new(BmcConfig::default()));
        assert_eq!(memo_channels(&memo, &b).await, (vec![1], 2 + 11));
    }

    #[tokio::test]
    async fn a_scan_with_more_channels_than_remembered_replaces_the_list() {
        // As when the first BMCs of a run are scanned at once: one with channel 1 only, then
        // one with channels 1 and 3 whose confirmation was cut short (C0h), so it is scanned.
        fn channel_1(r: &RawRequest) -> bool {
            r.cmd() == 0x42 && r.data()[0] == 1
        }
        let memo = LanChannelMemo::new();
        let one = Recording::new(SimBmc::new(BmcConfig::default()));
        assert_eq!(memo_channels(&memo, &one).await, (vec![1], 11));
        let busy = Recording::new(two_lan_bmc()).failing(channel_1, 0, CompletionCode::NodeBusy);
        assert_eq!(memo_channels(&memo, &busy).await, (vec![1, 3], 1 + 11));
        // Both channels are remembered now, whichever scan came last.
        let next = Recording::new(two_lan_bmc());
        assert_eq!(memo_channels(&memo, &next).await, (vec![1, 3], 2));
    }

    #[tokio::test]
    async fn a_scan_cut_short_by_a_transient_code_is_not_remembered() {
        fn channel_5(r: &RawRequest) -> bool {
            r.cmd() == 0x42 && r.data()[0] == 5
        }
        for code in [CompletionCode::NodeBusy, CompletionCode::Timeout] {
            let memo = LanChannelMemo::new();
            let busy = Recording::new(two_lan_bmc()).failing(channel_5, 0, code);
            assert_eq!(memo_channels(&memo, &busy).await, (vec![1, 3], 11));
            let next = Recording::new(two_lan_bmc());
            assert_eq!(memo_channels(&memo, &next).await, (vec![1, 3], 11));
            // That full scan was definitive: the one after it is a memo hit.
            let third = Recording::new(two_lan_bmc());
            assert_eq!(memo_channels(&memo, &third).await, (vec![1, 3], 2));
        }
        // A BMC whose scan found no LAN channel is not remembered either.
        let memo = LanChannelMemo::new();
        for _ in 0..2 {
            let none = Recording::new(SimBmc::new(BmcConfig {
                lan_channels: vec![],
                ..BmcConfig::default()
            }));
            assert_eq!(memo_channels(&memo, &none).await, (vec![], 11));
        }
        assert_eq!(
            format!("{memo:?}"),
            "LanChannelMemo { entries: 0, per_host: false }"
        );
    }

    #[tokio::test]
    async fn the_medium_byte_is_masked() {
        // A BMC setting bit 7 of the medium byte (reserved) still has a LAN channel.
        struct HighBit(SimBmc);
        impl Bmc for HighBit {
            type Error = IpmiError;
            async fn request(&self, r: RawRequest) -> Result<RawResponse, IpmiError> {
                let mut resp = self.0.handle(&r);
                if r.cmd() == 0x42 && resp.completion.is_success() {
                    resp.data[1] |= 0x80;
                }
                Ok(resp)
            }
        }
        use crate::ipmi::RawResponse;
        let bmc = HighBit(SimBmc::new(BmcConfig::default()));
        assert_eq!(find_lan_channels(&bmc).await.unwrap(), vec![1]);
    }
}
