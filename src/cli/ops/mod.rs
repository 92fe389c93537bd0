//! What each command does on one host, and how its result reads in text, JSON and CSV.

use serde_json::json;
use winrm_ipmi::ipmi::app::{GetDeviceId, GetSystemGuid, GuidOrder, SystemInfoParameter};
use winrm_ipmi::ipmi::lan::{self, LanChannelMemo};
use winrm_ipmi::ipmi::sysinfo::{self, StringEncoding};
use winrm_ipmi::ipmi::{self, IpmiError, RawRequest};
use winrm_ipmi::{Client, Error};

use super::args::{Command, Global, LanCommand, McCommand, SysinfoCommand};
use super::render;

mod catalog;
pub use catalog::Catalog;

/// One host's result.
pub struct HostOutput {
    /// For `--output json`.
    pub json: serde_json::Value,
    /// ipmitool's layout, for one host.
    pub text: String,
    /// Columns for tables and CSV.
    pub columns: Vec<(&'static str, String)>,
    /// A finding worth the exit status (a GUID mismatch, a high-severity audit finding): the
    /// result is shown in full, and the run exits 1.
    pub alert: bool,
}

/// A command, ready to run on any number of hosts.
pub enum Op {
    Raw(RawRequest),
    McInfo,
    McGuid,
    LanPrint {
        channel: Option<u8>,
        /// The LAN channels of each firmware build seen in this run (`None`: `--full-scan`).
        lan_channels: Option<LanChannelMemo>,
    },
    SysinfoGet(Option<SystemInfoParameter>),
    SysinfoSet(SystemInfoParameter, String),
    SetOsName,
    Correlate {
        verify: bool,
        channel: Option<u8>,
        /// The LAN channels of each firmware build seen in this run (`None`: `--full-scan`).
        lan_channels: Option<LanChannelMemo>,
    },
    /// The in-band catalog: sensors, FRU, SEL, chassis, ...
    Catalog(Catalog),
}

fn label(p: SystemInfoParameter) -> String {
    p.label()
        .map_or_else(|| format!("Parameter {}", p.selector()), str::to_string)
}

impl Op {
    /// Checks a command's arguments (before any traffic).
    pub fn from_command(c: Command, g: &Global) -> Result<Op, String> {
        if let Some(catalog) = Catalog::from_command(&c, g)? {
            return Ok(Op::Catalog(catalog));
        }
        Ok(match c {
            Command::Raw(raw) => Op::Raw(raw.request()?),
            Command::Mc {
                what: McCommand::Info,
            } => Op::McInfo,
            Command::Mc {
                what: McCommand::Guid,
            } => Op::McGuid,
            Command::Lan {
                what: LanCommand::Print { channel, full_scan },
            } => {
                if let Some(c) = channel {
                    lan::lan_channel_number(c).map_err(|e| e.to_string())?;
                }
                Op::LanPrint {
                    channel,
                    lan_channels: (!full_scan).then(LanChannelMemo::new),
                }
            }
            Command::Sysinfo {
                what: SysinfoCommand::Get { param },
            } => Op::SysinfoGet(param),
            Command::Sysinfo {
                what: SysinfoCommand::Set { param, value },
            } => {
                sysinfo::validate_string(param, &value, StringEncoding::for_text(&value))
                    .map_err(|e| e.to_string())?;
                Op::SysinfoSet(param, value)
            }
            Command::Sysinfo {
                what: SysinfoCommand::SetOsName,
            } => Op::SetOsName,
            Command::Correlate {
                verify,
                channel,
                full_scan,
            } => Op::Correlate {
                verify,
                channel,
                lan_channels: (!full_scan).then(LanChannelMemo::new),
            },
            _ => return Err("this command does not run against hosts".into()),
        })
    }

    /// ipmitool's own wording for a failure, where it has one.
    pub fn failure_text(&self, e: &Error) -> Option<String> {
        match (self, e) {
            (
                Op::Raw(r),
                Error::Ipmi {
                    source: IpmiError::Completion { code, .. },
                    ..
                },
            ) => Some(render::raw_failure(
                r.netfn().request_byte(),
                r.lun(),
                r.cmd(),
                *code,
            )),
            _ => None,
        }
    }

    /// Runs on one host.
    pub async fn run(&self, client: &Client) -> Result<HostOutput, Error> {
        let bmc = client.ipmi().await?;
        match self {
            Op::Catalog(c) => c.run(client, &bmc).await,
            Op::Raw(request) => {
                let r = bmc.raw(request.clone()).await?;
                let data = r.into_success(request.netfn(), request.cmd())?;
                let hex: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
                Ok(HostOutput {
                    alert: false,
                    json: json!({"completion_code": 0, "data": data}),
                    text: render::raw(&data),
                    columns: vec![("data", hex.join(" "))],
                })
            }
            Op::McInfo => {
                let d = ipmi::execute(&bmc, GetDeviceId).await?;
                Ok(HostOutput {
                    alert: false,
                    text: render::mc_info(&d),
                    columns: vec![
                        ("device_id", d.device_id.to_string()),
                        ("firmware", d.firmware_revision()),
                        ("ipmi_version", d.ipmi_version()),
                        ("manufacturer_id", d.manufacturer_id.to_string()),
                        (
                            "manufacturer",
                            d.manufacturer_name().unwrap_or("").to_string(),
                        ),
                        ("product_id", format!("0x{:04x}", d.product_id)),
                    ],
                    json: json!({
                        "device_id": d, "firmware_revision": d.firmware_revision(), "ipmi_version": d.ipmi_version(),
                        "manufacturer_name": d.manufacturer_name(),
                    }),
                })
            }
            Op::McGuid => {
                let g = ipmi::execute(&bmc, GetSystemGuid).await?;
                Ok(HostOutput {
                    alert: false,
                    text: render::mc_guid(&g),
                    columns: vec![("system_guid", g.ipmi_string())],
                    json: json!({"system_guid": g.ipmi_string(), "rfc4122": g.rfc4122_string(), "smbios": g.smbios_string()}),
                })
            }
            Op::LanPrint {
                channel,
                lan_channels,
            } => {
                let configs = match channel {
                    Some(c) => vec![lan::read_lan_config(&bmc, *c).await?],
                    None => match lan_channels {
                        Some(memo) => {
                            let d = ipmi::execute(&bmc, GetDeviceId).await?;
                            let channels = memo.lan_channels(&bmc, &d, &client.endpoint()).await?;
                            lan::read_lan_configs(&bmc, &channels).await?
                        }
                        None => lan::read_all_lan_configs(&bmc).await?,
                    },
                };
                if configs.is_empty() {
                    return Err(Error::NoBmc {
                        host: client.endpoint(),
                        detail: "the BMC reports no LAN channel".into(),
                    });
                }
                let text = if configs.len() == 1 {
                    render::lan_print(&configs[0])
                } else {
                    configs
                        .iter()
                        .map(|c| format!("Channel {}:\n{}", c.channel, render::lan_print(c)))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let first = &configs[0];
                Ok(HostOutput {
                    alert: false,
                    text,
                    columns: vec![
                        ("channel", first.channel.to_string()),
                        (
                            "ip_address",
                            first.ip_address.map(|a| a.to_string()).unwrap_or_default(),
                        ),
                        (
                            "mac_address",
                            first.mac_address.map(|m| m.to_string()).unwrap_or_default(),
                        ),
                        (
                            "subnet_mask",
                            first.subnet_mask.map(|a| a.to_string()).unwrap_or_default(),
                        ),
                        (
                            "default_gateway",
                            first
                                .default_gateway
                                .map(|a| a.to_string())
                                .unwrap_or_default(),
                        ),
                    ],
                    json: json!({"channels": configs}),
                })
            }
            Op::SysinfoGet(param) => {
                let params: Vec<SystemInfoParameter> = match param {
                    Some(p) => vec![*p],
                    None => SystemInfoParameter::SUMMARY.to_vec(),
                };
                let mut text = String::new();
                let mut columns = Vec::new();
                let mut obj = serde_json::Map::new();
                for p in params {
                    let v = sysinfo::read_string(&bmc, p).await?;
                    let shown = v
                        .as_ref()
                        .map_or("(not supported)".to_string(), |s| s.text.clone());
                    if param.is_some() {
                        text.push_str(&format!("{shown}\n"));
                    } else {
                        text.push_str(&format!("{:<24}: {shown}\n", label(p)));
                    }
                    columns.push((
                        p.name(),
                        v.as_ref().map(|s| s.text.clone()).unwrap_or_default(),
                    ));
                    obj.insert(p.name().into(), json!(v));
                }
                Ok(HostOutput {
                    alert: false,
                    json: serde_json::Value::Object(obj),
                    text,
                    columns,
                })
            }
            Op::SysinfoSet(param, value) => {
                let r = sysinfo::write_string(&bmc, *param, value, StringEncoding::for_text(value))
                    .await?;
                Ok(HostOutput {
                    alert: false,
                    text: format!(
                        "{:<24}: {} (written and read back)\n",
                        label(*param),
                        r.text
                    ),
                    columns: vec![(param.name(), r.text.clone())],
                    json: json!({param.name(): r}),
                })
            }
            Op::SetOsName => {
                let os = client.operating_system().await?;
                let caption = os
                    .map(|o| o.caption)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| Error::Wsman {
                        endpoint: client.endpoint(),
                        source: winrm_ipmi::wsman::WsmanError::MissingProperty(
                            "Win32_OperatingSystem.Caption".into(),
                        ),
                    })?
                    .to_string();
                let encoding = StringEncoding::for_text(&caption);
                let primary = sysinfo::write_string(
                    &bmc,
                    SystemInfoParameter::PrimaryOsName,
                    &caption,
                    encoding,
                )
                .await?;
                let running =
                    sysinfo::write_string(&bmc, SystemInfoParameter::OsName, &caption, encoding)
                        .await?;
                Ok(HostOutput {
                    alert: false,
                    text: format!(
                        "{:<24}: {}\n{:<24}: {}\n(written and read back)\n",
                        "Primary OS Name", primary.text, "OS Name", running.text
                    ),
                    columns: vec![("os", caption.clone())],
                    json: json!({"os": caption, "primary_os_name": primary.text, "os_name": running.text}),
                })
            }
            Op::Correlate {
                verify,
                channel,
                lan_channels,
            } => {
                let os = client.operating_system().await?.unwrap_or_default();
                let host_name = os.computer_name.unwrap_or_default();
                let caption = os.caption;
                let d = ipmi::execute(&bmc, GetDeviceId).await?;
                let guid = ipmi::execute(&bmc, GetSystemGuid).await.ok();
                let lans = match channel {
                    Some(c) => vec![lan::read_lan_config(&bmc, *c).await?],
                    None => match lan_channels {
                        Some(memo) => {
                            let channels = memo.lan_channels(&bmc, &d, &client.endpoint()).await?;
                            lan::read_lan_configs(&bmc, &channels).await?
                        }
                        None => lan::read_all_lan_configs(&bmc).await?,
                    },
                };
                let ip = lans
                    .iter()
                    .find_map(|l| l.ip_address)
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                let mac = lans
                    .iter()
                    .find_map(|l| l.mac_address)
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                let mut text = format!(
                    "{:<18}: {host_name}\n{:<18}: {caption}\n{:<18}: {ip}\n{:<18}: {mac}\n{:<18}: {} ({})\n{:<18}: {}\n",
                    "Host Name",
                    "OS",
                    "BMC IP Address",
                    "BMC MAC Address",
                    "BMC Firmware",
                    d.firmware_revision(),
                    d.manufacturer_name().unwrap_or("unknown vendor"),
                    "System GUID",
                    guid.map(|g| g.ipmi_string()).unwrap_or_default()
                );
                let mut columns = vec![
                    ("host_name", host_name.clone()),
                    ("os", caption.clone()),
                    ("bmc_ip", ip.clone()),
                    ("bmc_mac", mac.clone()),
                    ("bmc_firmware", d.firmware_revision()),
                ];
                let mut json = json!({
                    "host_name": host_name, "os": caption, "bmc_ip": ip, "bmc_mac": mac,
                    "bmc_firmware": d.firmware_revision(), "bmc_manufacturer": d.manufacturer_name(),
                    "system_guid": guid.map(|g| g.ipmi_string()), "bmc_lan": lans,
                });
                let mut alert = false;
                if *verify {
                    let product = client.computer_system_product().await?.unwrap_or_default();
                    let uuid = product.uuid.clone().unwrap_or_default();
                    let matched = guid.and_then(|g| g.matches_smbios_uuid(&uuid));
                    let verdict = match (&guid, matched) {
                        (_, Some(order)) => format!(
                            "match ({})",
                            match order {
                                GuidOrder::Smbios => "SMBIOS byte order",
                                GuidOrder::Ipmi => "IPMI byte order",
                                GuidOrder::Rfc4122 => "RFC 4122 byte order",
                            }
                        ),
                        (None, None) => "unknown (the BMC has no System GUID)".into(),
                        (Some(_), None) if uuid.is_empty() => {
                            "unknown (the host reports no SMBIOS UUID)".into()
                        }
                        (Some(_), None) => {
                            alert = true;
                            "MISMATCH: this BMC's System GUID is not this host's SMBIOS UUID".into()
                        }
                    };
                    text.push_str(&format!(
                        "{:<18}: {uuid}\n{:<18}: {verdict}\n",
                        "Host SMBIOS UUID", "GUID Check"
                    ));
                    columns.push((
                        "guid_check",
                        if alert {
                            "MISMATCH".into()
                        } else if matched.is_some() {
                            "ok".into()
                        } else {
                            "unknown".into()
                        },
                    ));
                    json["smbios_uuid"] = json!(uuid);
                    json["guid_match"] = json!(matched);
                    json["guid_mismatch"] = json!(alert);
                }
                Ok(HostOutput {
                    alert,
                    text,
                    columns,
                    json,
                })
            }
        }
    }
}
