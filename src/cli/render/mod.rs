//! Text in ipmitool's layouts, so admins read what they are used to.

use std::fmt::Write;

use winrm_ipmi::ipmi::CompletionCode;
use winrm_ipmi::ipmi::app::{DeviceId, SystemGuid};
use winrm_ipmi::ipmi::lan::LanConfig;

pub mod catalog;
pub mod sensors;
pub mod time;

/// `ipmitool raw`'s output: ` %02x` per byte, a newline every 16 bytes and at the end.
pub fn raw(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, b) in data.iter().enumerate() {
        if i % 16 == 0 && i != 0 {
            out.push('\n');
        }
        let _ = write!(out, " {b:02x}");
    }
    out.push('\n');
    out
}

/// ipmitool's short text for a completion code (`Unknown (0xNN)` where it has none).
pub fn completion_text(code: CompletionCode) -> String {
    code.ipmitool_text().map_or_else(
        || format!("Unknown (0x{:02X})", code.byte()),
        str::to_string,
    )
}

/// `ipmitool raw`'s message for a failed request.
pub fn raw_failure(netfn: u8, lun: u8, cmd: u8, code: CompletionCode) -> String {
    format!(
        "Unable to send RAW command (channel=0x0 netfn=0x{netfn:x} lun=0x{lun:x} cmd=0x{cmd:x} rsp=0x{:x}): {}",
        code.byte(),
        completion_text(code)
    )
}

fn line(out: &mut String, label: &str, width: usize, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{label:<width$}: {value}");
}

/// `ipmitool mc info`.
pub fn mc_info(d: &DeviceId) -> String {
    let mut o = String::new();
    let w = 26;
    line(&mut o, "Device ID", w, d.device_id);
    line(&mut o, "Device Revision", w, d.device_revision);
    line(&mut o, "Firmware Revision", w, d.firmware_revision());
    line(&mut o, "IPMI Version", w, d.ipmi_version());
    line(&mut o, "Manufacturer ID", w, d.manufacturer_id);
    line(
        &mut o,
        "Manufacturer Name",
        w,
        d.manufacturer_name().map_or_else(
            || format!("Unknown (0x{:X})", d.manufacturer_id),
            str::to_string,
        ),
    );
    line(
        &mut o,
        "Product ID",
        w,
        format!("{} (0x{:04x})", d.product_id, d.product_id),
    );
    line(
        &mut o,
        "Product Name",
        w,
        format!("Unknown (0x{:X})", d.product_id),
    );
    line(
        &mut o,
        "Device Available",
        w,
        if d.device_available { "yes" } else { "no" },
    );
    line(
        &mut o,
        "Provides Device SDRs",
        w,
        if d.provides_device_sdrs { "yes" } else { "no" },
    );
    let _ = writeln!(o, "{:<w$}:", "Additional Device Support");
    for name in d.additional_support.names() {
        let _ = writeln!(o, "    {name}");
    }
    if let Some(aux) = d.aux_firmware_revision {
        let _ = writeln!(o, "{:<w$}: ", "Aux Firmware Rev Info");
        for b in aux {
            let _ = writeln!(o, "    0x{b:02x}");
        }
    }
    o
}

/// `ipmitool mc guid` (IPMI encoding).
pub fn mc_guid(g: &SystemGuid) -> String {
    let s = g.ipmi_string();
    let version = u8::from_str_radix(&s[14..15], 16).unwrap_or(0);
    let version = match version {
        1 => "Time-based",
        2 => "DCE Security with POSIX UIDs (not for IPMI)",
        3 => "Name-based using MD5",
        4 => "Random",
        5 => "Name-based using SHA-1",
        _ => "Unknown",
    };
    let mut o = String::new();
    line(&mut o, "System GUID", 14, &s);
    line(&mut o, "GUID Encoding", 14, "IPMI");
    line(&mut o, "GUID Version", 14, version);
    o
}

/// `ipmitool lan print` for the parameters we read.
pub fn lan_print(c: &LanConfig) -> String {
    let mut o = String::new();
    let w = 24;
    let dash = || "-".to_string();
    line(
        &mut o,
        "IP Address Source",
        w,
        c.ip_address_source
            .map_or("Unspecified".into(), |s| s.description().to_string()),
    );
    line(
        &mut o,
        "IP Address",
        w,
        c.ip_address.map_or_else(dash, |a| a.to_string()),
    );
    line(
        &mut o,
        "Subnet Mask",
        w,
        c.subnet_mask.map_or_else(dash, |a| a.to_string()),
    );
    line(
        &mut o,
        "MAC Address",
        w,
        c.mac_address.map_or_else(dash, |m| m.to_string()),
    );
    line(
        &mut o,
        "Default Gateway IP",
        w,
        c.default_gateway.map_or_else(dash, |a| a.to_string()),
    );
    line(
        &mut o,
        "Default Gateway MAC",
        w,
        c.default_gateway_mac.map_or_else(dash, |m| m.to_string()),
    );
    line(
        &mut o,
        "802.1q VLAN ID",
        w,
        match c.vlan {
            Some(v) if v.enabled => v.id.to_string(),
            Some(_) => "Disabled".to_string(),
            None => dash(),
        },
    );
    if let Some(v6) = &c.ipv6 {
        line(&mut o, "IPv6/IPv4 Addressing", w, v6.addressing);
        for a in &v6.addresses {
            line(
                &mut o,
                "IPv6 Address",
                w,
                format!(
                    "{}/{} ({}, {})",
                    a.address, a.prefix_length, a.source, a.status
                ),
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_layout_matches_ipmitool() {
        assert_eq!(raw(&[0, 3, 9]), " 00 03 09\n");
        assert_eq!(raw(&[]), "\n");
        let sixteen: Vec<u8> = (0..17).collect();
        assert!(raw(&sixteen).contains(" 0f\n 10\n"));
        assert_eq!(
            raw_failure(6, 0, 4, CompletionCode::InvalidCommand),
            "Unable to send RAW command (channel=0x0 netfn=0x6 lun=0x0 cmd=0x4 rsp=0xc1): Invalid command"
        );
        assert_eq!(
            completion_text(CompletionCode::from_byte(0x80)),
            "Unknown (0x80)"
        );
    }
}
