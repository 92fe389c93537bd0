//! The in-band catalog on one host: sensors and SDRs (with the fleet-wide sensor-record cache).
//! Each command gives ipmitool's text for one host, typed JSON, and columns for tables.

use serde_json::json;
use winrm_ipmi::ipmi::app::GetDeviceId;
use winrm_ipmi::ipmi::chassis::{
    self, BootDevice, ChassisControl, ChassisIdentify, GetChassisStatus, PowerAction, SetBootDevice,
};
use winrm_ipmi::ipmi::dcmi::GetPowerReading;
use winrm_ipmi::ipmi::fru::{self, FruRead};
use winrm_ipmi::ipmi::lan::IpAddressSource;
use winrm_ipmi::ipmi::lan_set::{self, LanSetting};
use winrm_ipmi::ipmi::sdr::{CacheOutcome, RecordKind, SdrCache};
use winrm_ipmi::ipmi::{self, mc, sel, sensor};
use winrm_ipmi::{Client, Error, IpmiBmc};

use super::HostOutput;
use crate::cli::args::{
    ChannelCommand, ChassisCommand, Command, DcmiCommand, DcmiPowerCommand, FruCommand, Global,
    LanCommand, McCommand, SdrCommand, SdrFilter, SelCommand, SensorCommand, UserCommand,
    WatchdogCommand,
};
use crate::cli::render::catalog as text;
use crate::cli::render::sensors as render;

/// A catalog command, ready to run on any number of hosts.
pub enum Catalog {
    /// `sdr list` / `sdr elist`.
    Sdr {
        extended: bool,
        filter: Option<SdrFilter>,
        cache: SdrCache,
    },
    /// `sensor list`.
    SensorList { cache: SdrCache },
    /// `fru print [id]`.
    FruPrint { id: Option<u8>, cache: SdrCache },
    /// `sel info`.
    SelInfo,
    /// `sel list` / `sel elist` (with sensor names from the SDRs).
    SelList { cache: Option<SdrCache> },
    /// `sel clear`.
    SelClear,
    /// `chassis status`.
    ChassisStatus,
    /// `chassis power status`.
    PowerStatus,
    /// `chassis power <action>`.
    Power(PowerAction),
    /// `chassis bootdev`, with the device word as typed.
    Bootdev(SetBootDevice, String),
    /// `chassis identify`.
    Identify(ChassisIdentify),
    /// `dcmi power reading`.
    DcmiPower,
    /// `mc selftest`.
    Selftest,
    /// `mc watchdog get`.
    Watchdog,
    /// `user list [channel]`.
    UserList(u8),
    /// `channel info [channel]`.
    ChannelInfo(u8),
    /// `lan set <channel> ...`.
    LanSet(u8, LanSetting),
    /// `audit`.
    Audit,
}

/// `lan set`'s words, as ipmitool takes them.
fn lan_setting(what: &str, value: &[String]) -> Result<LanSetting, String> {
    let ip = |v: &str| {
        v.parse::<std::net::Ipv4Addr>()
            .map_err(|_| format!("invalid IP address: {v}"))
    };
    let words: Vec<&str> = value.iter().map(String::as_str).collect();
    Ok(match (what, words.as_slice()) {
        ("ipaddr", [a]) => LanSetting::IpAddress(ip(a)?),
        ("netmask", [a]) => LanSetting::Netmask(ip(a)?),
        ("defgw", ["ipaddr", a]) => LanSetting::DefaultGateway(ip(a)?),
        ("ipsrc", [src]) => LanSetting::IpSource(match *src {
            "none" => IpAddressSource::Unspecified,
            "static" => IpAddressSource::Static,
            "dhcp" => IpAddressSource::Dhcp,
            "bios" => IpAddressSource::Bios,
            other => return Err(format!("invalid ipsrc {other:?}: none, static, dhcp, bios")),
        }),
        ("vlan", ["id", "off"]) => LanSetting::Vlan(None),
        ("vlan", ["id", n]) => {
            let id: u16 = n
                .parse()
                .map_err(|_| format!("Given VLAN ID '{n}' is invalid."))?;
            if !(1..=4094).contains(&id) {
                return Err("VLAN ID must be between 1 and 4094.".into());
            }
            LanSetting::Vlan(Some(id))
        }
        _ => {
            return Err(
                "lan set <channel> ipaddr|netmask <a.b.c.d> | defgw ipaddr <a.b.c.d> | ipsrc static|dhcp|bios|none | vlan id <1-4094>|off".into(),
            );
        }
    })
}

/// A power word as ipmitool takes it.
fn power_action(word: &str) -> Option<PowerAction> {
    Some(match word {
        "on" | "up" => PowerAction::On,
        "off" | "down" => PowerAction::Off,
        "cycle" => PowerAction::Cycle,
        "reset" => PowerAction::Reset,
        "soft" | "acpi" => PowerAction::Soft,
        "diag" => PowerAction::Diag,
        _ => return None,
    })
}

fn channel(c: Option<u8>) -> Result<u8, String> {
    match c.unwrap_or(0x0E) {
        c @ (0..=0x0B | 0x0E | 0x0F) => Ok(c),
        c => Err(format!(
            "channel {c:#04x} is invalid: channels are 0x00-0x0b, 0x0e (current) and 0x0f"
        )),
    }
}

fn cache(g: &Global) -> SdrCache {
    if g.no_sdr_cache {
        SdrCache::disabled()
    } else {
        SdrCache::new(winrm_ipmi::ipmi::sdr::cache::default_dir())
    }
}

fn outcome(o: CacheOutcome) -> &'static str {
    match o {
        CacheOutcome::Read => "read",
        CacheOutcome::Uncacheable => "uncacheable",
        CacheOutcome::Memory => "memory",
        CacheOutcome::Disk => "disk",
        CacheOutcome::Off => "off",
    }
}

impl Catalog {
    /// The catalog command `c` names, if any.
    pub fn from_command(c: &Command, g: &Global) -> Result<Option<Catalog>, String> {
        Ok(Some(match c {
            Command::Sdr { what } => {
                let (extended, filter) = match what {
                    SdrCommand::List { which } => (false, *which),
                    SdrCommand::Elist { which } => (true, *which),
                };
                Catalog::Sdr {
                    extended,
                    filter,
                    cache: cache(g),
                }
            }
            Command::Sensor {
                what: SensorCommand::List,
            } => Catalog::SensorList { cache: cache(g) },
            Command::Fru {
                what: FruCommand::Print { id },
            } => Catalog::FruPrint {
                id: *id,
                cache: cache(g),
            },
            Command::Sel { what } => match what {
                SelCommand::Info => Catalog::SelInfo,
                SelCommand::List => Catalog::SelList { cache: None },
                SelCommand::Elist => Catalog::SelList {
                    cache: Some(cache(g)),
                },
                SelCommand::Clear { yes } => {
                    fleet_needs_yes(g, *yes, "sel clear")?;
                    Catalog::SelClear
                }
            },
            Command::Chassis { what } => match what {
                ChassisCommand::Status => Catalog::ChassisStatus,
                ChassisCommand::Power { action, .. } if action == "status" => Catalog::PowerStatus,
                ChassisCommand::Power { action, yes } => {
                    let a = power_action(action).ok_or_else(|| {
                        format!("invalid chassis power command {action:?}: status, on, off, cycle, reset, soft, diag")
                    })?;
                    fleet_needs_yes(g, *yes, &format!("chassis power {action}"))?;
                    Catalog::Power(a)
                }
                ChassisCommand::Bootdev {
                    device,
                    yes,
                    options,
                    persistent,
                    efi,
                } => {
                    fleet_needs_yes(g, *yes, "chassis bootdev")?;
                    let d = BootDevice::parse(device.strip_prefix("force_").unwrap_or(device))
                        .ok_or_else(|| format!("invalid boot device {device:?}: none, pxe, disk, safe, diag, cdrom, bios, floppy"))?;
                    let mut boot = SetBootDevice {
                        device: d,
                        persistent: *persistent,
                        efi: *efi,
                    };
                    if let Some(o) = options {
                        let list = o.strip_prefix("options=").ok_or_else(|| {
                            format!(
                                "{o:?}: give options=persistent,efiboot (or --persistent, --efi)"
                            )
                        })?;
                        for opt in list.split(',') {
                            match opt {
                                "persistent" => boot.persistent = true,
                                "efiboot" => boot.efi = true,
                                other => {
                                    return Err(format!(
                                        "invalid option {other:?}: persistent, efiboot"
                                    ));
                                }
                            }
                        }
                    }
                    Catalog::Bootdev(boot, device.clone())
                }
                ChassisCommand::Identify { interval } => {
                    Catalog::Identify(match interval.as_deref() {
                        None => ChassisIdentify {
                            seconds: None,
                            force: false,
                        },
                        Some("force") => ChassisIdentify {
                            seconds: None,
                            force: true,
                        },
                        Some(n) => ChassisIdentify {
                            seconds: Some(crate::cli::args::parse_byte(n).map_err(|_| {
                                format!("invalid interval {n:?}: seconds 0-255, or force")
                            })?),
                            force: false,
                        },
                    })
                }
            },
            Command::Audit => Catalog::Audit,
            Command::Dcmi {
                what:
                    DcmiCommand::Power {
                        what: DcmiPowerCommand::Reading,
                    },
            } => Catalog::DcmiPower,
            Command::Mc {
                what: McCommand::Selftest,
            } => Catalog::Selftest,
            Command::Mc {
                what:
                    McCommand::Watchdog {
                        what: WatchdogCommand::Get,
                    },
            } => Catalog::Watchdog,
            Command::User {
                what: UserCommand::List { channel: c },
            } => Catalog::UserList(channel(*c)?),
            Command::Lan {
                what:
                    LanCommand::Set {
                        channel: c,
                        what,
                        value,
                        yes,
                    },
            } => {
                let setting = lan_setting(what, value)?;
                winrm_ipmi::ipmi::lan::lan_channel_number(*c).map_err(|e| e.to_string())?;
                if matches!(setting, LanSetting::IpAddress(_)) && !g.one_host() {
                    return Err(
                        "lan set ipaddr gives one BMC one address: name exactly one host".into(),
                    );
                }
                fleet_needs_yes(g, *yes, &format!("lan set {what}"))?;
                Catalog::LanSet(*c, setting)
            }
            Command::Channel {
                what: ChannelCommand::Info { channel: c },
            } => Catalog::ChannelInfo(channel(*c)?),
            _ => return Ok(None),
        }))
    }

    /// Runs on one host.
    pub async fn run(&self, client: &Client, bmc: &IpmiBmc) -> Result<HostOutput, Error> {
        let mut out = self.run_on(bmc).await?;
        if matches!(self, Catalog::Sdr { .. } | Catalog::SensorList { .. }) {
            // How many WinRM requests the host took (the sensor-record cache's saving).
            out.json["winrm_requests"] = json!(client.requests_sent());
        }
        Ok(out)
    }

    async fn run_on(&self, bmc: &IpmiBmc) -> Result<HostOutput, Error> {
        match self {
            Catalog::Sdr {
                extended,
                filter,
                cache,
            } => {
                let (records, from) = cache.records(bmc).await?;
                let wanted = |t: u8| match filter {
                    None => t == 0x01 || t == 0x02,
                    Some(SdrFilter::Full) => t == 0x01,
                    Some(SdrFilter::Compact) => t == 0x02,
                    Some(SdrFilter::Event) => t == 0x03,
                };
                let shown: Vec<_> = records
                    .iter()
                    .filter(|r| wanted(r.record_type))
                    .cloned()
                    .collect();
                let sensors = sensor::read_all(bmc, &shown, false).await?;
                let mut text = String::new();
                let mut next = sensors.iter();
                for r in &shown {
                    if r.record_type == 0x03 {
                        render::eventonly_line(&mut text, r, *extended);
                    } else if let Some(s) = next.next() {
                        if *extended {
                            render::sdr_elist_line(&mut text, s);
                        } else {
                            render::sdr_list_line(&mut text, s);
                        }
                    }
                }
                Ok(sensor_output(text, &sensors, from))
            }
            Catalog::SensorList { cache } => {
                let (records, from) = cache.records(bmc).await?;
                let sensors = sensor::read_all(bmc, &records, true).await?;
                let mut text = String::new();
                for s in &sensors {
                    render::sensor_list_line(&mut text, s);
                }
                Ok(sensor_output(text, &sensors, from))
            }
            Catalog::FruPrint { id, cache } => fru_print(bmc, *id, cache).await,
            Catalog::SelInfo => {
                let i = sel::sel_info(bmc).await?;
                Ok(HostOutput {
                    alert: false,
                    text: text::sel_info(&i),
                    columns: vec![
                        ("entries", i.entries.to_string()),
                        ("free_bytes", i.free.to_string()),
                    ],
                    json: json!(i),
                })
            }
            Catalog::SelList { cache } => {
                let records = sel::read_sel(bmc).await?;
                let sdrs = match cache {
                    Some(c) if !records.is_empty() => Some(c.records(bmc).await?.0),
                    _ => None,
                };
                let mut out = String::new();
                for r in &records {
                    text::sel_line(&mut out, r, sdrs.as_deref().map(|v| v.as_slice()));
                }
                Ok(HostOutput {
                    alert: false,
                    text: out,
                    columns: vec![("entries", records.len().to_string())],
                    json: json!({"entries": records}),
                })
            }
            Catalog::SelClear => {
                sel::clear_sel(bmc).await?;
                Ok(done(
                    "Clearing SEL.  Please allow a few seconds to erase.\n",
                    json!({"cleared": true}),
                ))
            }
            Catalog::ChassisStatus => {
                let s = ipmi::execute(bmc, GetChassisStatus).await?;
                Ok(HostOutput {
                    alert: false,
                    text: text::chassis_status(&s),
                    columns: vec![
                        ("power", if s.power_on { "on" } else { "off" }.into()),
                        ("intrusion", s.intrusion.to_string()),
                        (
                            "faults",
                            (s.main_power_fault
                                || s.power_control_fault
                                || s.drive_fault
                                || s.cooling_fault)
                                .to_string(),
                        ),
                    ],
                    json: json!(s),
                })
            }
            Catalog::PowerStatus => {
                let s = ipmi::execute(bmc, GetChassisStatus).await?;
                let on = if s.power_on { "on" } else { "off" };
                Ok(HostOutput {
                    alert: false,
                    text: format!("Chassis Power is {on}\n"),
                    columns: vec![("power", on.into())],
                    json: json!({"power": on}),
                })
            }
            Catalog::Power(a) => match ipmi::execute(bmc, ChassisControl(*a)).await {
                Ok(()) => Ok(done(
                    &text::power_control(*a),
                    json!({"action": a, "done": true}),
                )),
                // The host went down with the connection that carried the command, before
                // any reply: the BMC took it (nothing is re-sent), so it is done. An answer
                // (a fault, a completion code such as D5h or C0h) refuses it: an error.
                Err(e) if a.stops_the_host() && e.no_reply_after_sending() => Ok(done(
                    &text::power_control(*a),
                    json!({"action": a, "done": true, "connection_lost": true}),
                )),
                Err(e) => Err(e),
            },
            Catalog::Bootdev(boot, word) => {
                chassis::set_boot_device(bmc, *boot).await?;
                Ok(done(
                    &format!("Set Boot Device to {word}\n"),
                    json!({"boot_device": boot.device, "persistent": boot.persistent, "efi": boot.efi}),
                ))
            }
            Catalog::Identify(i) => {
                ipmi::execute(bmc, *i).await?;
                Ok(done(
                    &text::identify(i.seconds, i.force),
                    json!({"seconds": i.seconds, "force": i.force}),
                ))
            }
            Catalog::DcmiPower => {
                let p = ipmi::execute(bmc, GetPowerReading).await?;
                Ok(HostOutput {
                    alert: false,
                    text: text::dcmi_power(&p),
                    columns: vec![
                        ("watts", p.current_watts.to_string()),
                        ("average_watts", p.average_watts.to_string()),
                    ],
                    json: json!(p),
                })
            }
            Catalog::Selftest => {
                let (code, detail) = mc::self_test(bmc).await?;
                let (out, ok) = text::selftest(code, detail);
                let result = HostOutput {
                    alert: false,
                    text: out,
                    columns: vec![("selftest", format!("{code:02x}"))],
                    json: json!({"code": code, "detail": detail, "passed": code == 0x55}),
                };
                if ok {
                    Ok(result)
                } else {
                    Err(ipmi::Bmc::error(
                        bmc,
                        ipmi::IpmiError::InvalidArgument(format!(
                            "self test result {code:#04x} (detail {detail:#04x}): {}",
                            result.text.trim()
                        )),
                    ))
                }
            }
            Catalog::Watchdog => {
                let w = mc::watchdog(bmc).await?;
                Ok(HostOutput {
                    alert: false,
                    text: text::watchdog(&w),
                    columns: vec![("running", (w.timer_use & 0x40 != 0).to_string())],
                    json: json!(w),
                })
            }
            Catalog::UserList(c) => {
                let users = mc::users(bmc, *c).await?;
                let enabled: Vec<&str> = users
                    .iter()
                    .filter(|u| u.can_log_on() && !u.name.is_empty())
                    .map(|u| u.name.as_str())
                    .collect();
                Ok(HostOutput {
                    alert: false,
                    text: text::user_list(&users),
                    columns: vec![("users", enabled.join(" "))],
                    json: json!({"users": users}),
                })
            }
            Catalog::Audit => {
                let a = winrm_ipmi::ipmi::audit::audit(bmc).await?;
                let count = |s| a.findings.iter().filter(|f| f.severity == s).count();
                use winrm_ipmi::ipmi::audit::Severity;
                let (high, medium, low) = (
                    count(Severity::High),
                    count(Severity::Medium),
                    count(Severity::Low),
                );
                let mut out = String::new();
                for f in &a.findings {
                    out.push_str(&format!(
                        "{:<7} channel {}  {:<21} {}\n",
                        f.severity.word(),
                        f.channel,
                        f.id,
                        f.detail
                    ));
                }
                out.push_str(&format!("{high} high, {medium} medium, {low} low\n"));
                Ok(HostOutput {
                    alert: a.has_high(),
                    text: out,
                    columns: vec![
                        ("high", high.to_string()),
                        ("medium", medium.to_string()),
                        ("low", low.to_string()),
                        (
                            "worst",
                            a.findings
                                .iter()
                                .find(|f| f.severity > Severity::Info)
                                .map_or(String::new(), |f| f.id.to_string()),
                        ),
                    ],
                    json: json!(a),
                })
            }
            Catalog::LanSet(c, setting) => {
                lan_set::set_lan(bmc, *c, *setting).await?;
                let line = setting
                    .announcement()
                    .map(|l| format!("{l}\n"))
                    .unwrap_or_default();
                Ok(HostOutput {
                    alert: false,
                    columns: vec![("result", format!("set and read back: {setting:?}"))],
                    text: line,
                    json: json!({"channel": c, "set": setting, "verified": true}),
                })
            }
            Catalog::ChannelInfo(c) => {
                let info = mc::channel_info(bmc, *c).await?;
                let access = if info.is_lan() {
                    Some((
                        mc::channel_access(bmc, info.channel, true).await?.0,
                        mc::channel_access(bmc, info.channel, false).await?.0,
                    ))
                } else {
                    None
                };
                Ok(HostOutput {
                    alert: false,
                    text: text::channel_info(&info, access),
                    columns: vec![
                        ("channel", info.channel.to_string()),
                        ("medium", info.medium.to_string()),
                    ],
                    json: json!({"info": info, "access": access}),
                })
            }
        }
    }
}

/// A command that changes something: its line, and JSON.
fn done(line: &str, json: serde_json::Value) -> HostOutput {
    HostOutput {
        alert: false,
        text: line.to_string(),
        columns: vec![("result", line.trim().to_string())],
        json,
    }
}

/// `fru print`: one device (no header), or every device: the BMC's own FRU 0 when it has a
/// FRU inventory, then each logical FRU locator of the SDRs, each followed by a blank line.
async fn fru_print(bmc: &IpmiBmc, id: Option<u8>, cache: &SdrCache) -> Result<HostOutput, Error> {
    let mut out = String::new();
    let mut all = Vec::new();
    match id {
        Some(id) => {
            let r = fru::read_fru(bmc, id).await?;
            fru_device(&mut out, &mut all, id, r);
        }
        None => {
            out.push_str("FRU Device Description : Builtin FRU Device (ID 0)\n");
            let device = ipmi::execute(bmc, GetDeviceId).await?;
            if device.additional_support.fru_inventory {
                fru_device_of_many(bmc, &mut out, &mut all, 0).await?;
                out.push('\n');
            }
            let (records, _) = cache.records(bmc).await?;
            for r in records.iter() {
                let RecordKind::FruLocator(l) = &r.kind else {
                    continue;
                };
                let supported = l.device_type == 0x10
                    || (l.device_type_modifier == 0x02 && (0x08..=0x0F).contains(&l.device_type));
                if !l.logical || !supported || (l.access_address == 0x20 && l.device_id == 0) {
                    continue;
                }
                out.push_str(&format!(
                    "FRU Device Description : {} (ID {})\n",
                    l.name, l.device_id
                ));
                // As ipmitool: modifier 00h/02h is an IPMI FRU, 01h a DIMM's SPD (not decoded
                // here), anything else unsupported.
                if !matches!(l.device_type_modifier, 0x00 | 0x02) {
                    out.push_str(" Unsupported device\n\n");
                    all.push(json!({"id": l.device_id, "unsupported": {
                        "device_type": l.device_type, "device_type_modifier": l.device_type_modifier,
                    }}));
                    continue;
                }
                fru_device_of_many(bmc, &mut out, &mut all, l.device_id).await?;
                out.push('\n');
            }
        }
    }
    Ok(HostOutput {
        alert: false,
        text: out,
        columns: vec![("fru_devices", all.len().to_string())],
        json: json!({"devices": all}),
    })
}

/// One FRU device's text and JSON.
fn fru_device(out: &mut String, all: &mut Vec<serde_json::Value>, id: u8, r: FruRead) {
    match r {
        FruRead::Ok(f) => {
            text::fru(out, &f);
            all.push(json!({"id": id, "fru": f}));
        }
        FruRead::NotPresent(code) => {
            out.push_str(&format!(
                " Device not present ({})\n",
                crate::cli::render::completion_text(code)
            ));
            all.push(json!({"id": id, "present": false}));
        }
    }
}

/// One device of `fru print`'s list: one that does not decode (a blank EEPROM, a refused
/// read) is that device's error, on standard error as ipmitool has it, and the others are
/// still printed; a failure of the connection ends the listing.
async fn fru_device_of_many(
    bmc: &IpmiBmc,
    out: &mut String,
    all: &mut Vec<serde_json::Value>,
    id: u8,
) -> Result<(), Error> {
    match fru::read_fru(bmc, id).await {
        Ok(r) => fru_device(out, all, id, r),
        Err(e @ Error::Ipmi { .. }) => {
            tracing::warn!(device = id, error = %e, "FRU device not read");
            all.push(json!({"id": id, "error": e.to_string()}));
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Text, JSON and table columns for a list of sensors: the table shows how many sensors and
/// the worst status.
fn sensor_output(text: String, sensors: &[sensor::Sensor], from: CacheOutcome) -> HostOutput {
    let worst = sensors
        .iter()
        .filter(|s| s.threshold)
        .max_by_key(|s| s.status.severity())
        .map_or("ok", |s| s.status.word());
    let not_ok = sensors.iter().filter(|s| s.status.severity() > 0).count();
    HostOutput {
        alert: false,
        text,
        columns: vec![
            ("sensors", sensors.len().to_string()),
            ("not_ok", not_ok.to_string()),
            ("worst", worst.to_string()),
            ("sdr_cache", outcome(from).to_string()),
        ],
        json: json!({"sensors": sensors, "sdr_cache": outcome(from)}),
    }
}

/// A change to the BMC (power, boot device, SEL clear, LAN settings) on a host list (`--hosts`
/// FILE or `-`, whatever it holds) or on more than one `-H` host needs `--yes`: one typo must
/// not reach a fleet.
fn fleet_needs_yes(g: &Global, yes: bool, what: &str) -> Result<(), String> {
    if yes || g.one_host() {
        Ok(())
    } else {
        Err(format!(
            "{what} on a host list or more than one host needs --yes"
        ))
    }
}
