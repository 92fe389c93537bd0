//! `sdr list`, `sdr elist` and `sensor list`, laid out as ipmitool 1.8.19 lays them out
//! (`ipmi_sdr_print_sensor_fc`, `ipmi_sensor_print_fc_*`): the same widths, precisions and
//! words, so one host's output compares byte for byte.

use std::fmt::Write;

use winrm_ipmi::ipmi::sdr::{SdrRecord, format_reading, nan};
use winrm_ipmi::ipmi::sensor::{Sensor, asserted_states};

/// `%.3f`, a NaN as glibc writes it.
fn fixed3(value: f64) -> String {
    if value.is_nan() {
        nan(value).to_string()
    } else {
        format!("{value:.3}")
    }
}

/// The value column of `sdr list`: 17 columns wide after the text.
fn list_value(s: &Sensor) -> String {
    if s.reading_valid() {
        match s.value {
            Some(v) => format!("{} {}", format_reading(v), s.unit),
            None if s.has_analog() => format!("{} {}", format_reading(0.0), s.unit),
            // Debian's ipmitool prints the first state byte here (its 0105 patch).
            None => format!("0x{:02x}", s.data2_data3().0),
        }
    } else {
        let full = s.record.record_type == 0x01;
        match (s.scanning_disabled(), full) {
            (true, true) => "disabled".into(),
            (false, true) => "no reading".into(),
            (_, false) => "Not Readable".into(),
        }
    }
}

fn status(s: &Sensor, extended: bool) -> &'static str {
    if !s.reading_valid() {
        return "ns";
    }
    if !s.threshold {
        return "ok";
    }
    if extended {
        s.status.word()
    } else {
        s.status.short()
    }
}

/// One `sdr list` line.
pub fn sdr_list_line(out: &mut String, s: &Sensor) {
    // ipmitool's value buffer is 16 bytes: longer text is cut at 15.
    let mut value = list_value(s);
    value.truncate(15);
    let _ = writeln!(out, "{:<16} | {value:<17} | {}", s.name, status(s, false));
}

/// One `sdr elist` line.
pub fn sdr_elist_line(out: &mut String, s: &Sensor) {
    let _ = write!(
        out,
        "{:<16} | {:02X}h | {:<3} | {:2}.{:1} | ",
        s.name,
        s.number,
        status(s, true),
        s.entity.0,
        s.entity.1
    );
    if !s.reading_valid() {
        let _ = writeln!(
            out,
            "{}",
            if s.scanning_disabled() {
                "Disabled"
            } else {
                "No Reading"
            }
        );
        return;
    }
    if s.threshold && s.has_analog() {
        let mut value = format!("{} {}", format_reading(s.value.unwrap_or(0.0)), s.unit);
        value.truncate(15);
        let _ = writeln!(out, "{value}");
        return;
    }
    // Discrete (or a threshold sensor without analog units): the asserted states, from the
    // table its event/reading type names (a threshold sensor's status bits read through the
    // generic table of type 01h, as ipmitool reads them).
    let mut line = String::new();
    let mut header = "";
    if s.has_analog() {
        let _ = write!(
            line,
            "{} {}",
            format_reading(s.value.unwrap_or(0.0)),
            s.unit
        );
        header = ", ";
    }
    let (data2, data3) = s.data2_data3();
    if data2 != 0 || data3 & 0x7F != 0 {
        let states = asserted_states(&s.record, u16::from(data2) | (u16::from(data3 & 0x7F) << 8));
        line.push_str(header);
        line.push_str(&states.join(", "));
    }
    let _ = writeln!(out, "{line}");
}

/// One event-only record in `sdr list` / `sdr elist`.
pub fn eventonly_line(out: &mut String, r: &SdrRecord, extended: bool) {
    let Some(s) = r.sensor() else { return };
    if extended {
        let _ = writeln!(
            out,
            "{:<16} | {:02X}h | ns  | {:2}.{:1} | Event-Only",
            s.name, s.number, s.entity_id, s.entity_instance
        );
    } else {
        let _ = writeln!(out, "{:<16} | Event-Only        | ns", s.name);
    }
}

/// The units `sensor list` shows: the unit string where the reading was answered with
/// scanning on (even if unavailable), else nothing.
fn shown_units(s: &Sensor) -> &str {
    if s.has_analog() && s.reading.is_some_and(|r| r.scanning) {
        &s.unit
    } else {
        ""
    }
}

/// One `sensor list` line.
pub fn sensor_list_line(out: &mut String, s: &Sensor) {
    let _ = write!(out, "{:<16} ", s.name);
    let (data2, data3) = s.data2_data3();
    let raw = s.reading.map_or(0, |r| r.raw);
    if !s.threshold {
        if s.reading_valid() {
            // Debian's ipmitool prints the first state byte as the value (its 0105 patch).
            let _ = write!(
                out,
                "| 0x{data2:<8x} | {:<10} | 0x{data2:02x}{data3:02x}",
                "discrete"
            );
        } else {
            let _ = write!(out, "| {:<10} | {:<10} | {:<6}", "na", "discrete", "na");
        }
        let _ = writeln!(
            out,
            "| {:<10}| {:<10}| {:<10}| {:<10}| {:<10}| {:<10}",
            "na", "na", "na", "na", "na", "na"
        );
        return;
    }
    let units = shown_units(s);
    if s.reading_valid() {
        match s.value {
            Some(v) if s.has_analog() => {
                let _ = write!(
                    out,
                    "| {:<10} | {units:<10} | {:<6}",
                    fixed3(v),
                    status(s, false)
                );
            }
            _ => {
                let _ = write!(out, "| 0x{raw:<8x} | {units:<10} | {:<6}", status(s, false));
            }
        }
    } else {
        let _ = write!(out, "| {:<10} | {units:<10} | {:<6}", "na", "na");
    }
    match (s.raw_thresholds, s.record.record_type == 0x01) {
        (Some(t), true) => {
            // LNR, LCR, LNC, UNC, UCR, UNR: bits 2, 1, 0, 3, 4, 5 of the readable mask.
            let converted = s.thresholds.unwrap_or([None; 6]);
            for (k, bit) in [2usize, 1, 0, 3, 4, 5].into_iter().enumerate() {
                out.push_str("| ");
                if t.readable & (1 << bit) == 0 {
                    let _ = write!(out, "{:<10}", "na");
                } else if s.record.is_analog() {
                    let _ = write!(out, "{:<10}", fixed3(converted[k].unwrap_or(0.0)));
                } else {
                    let _ = write!(out, "0x{:<8x}", t.raw[bit]);
                }
            }
            out.push('\n');
        }
        _ => {
            let _ = writeln!(
                out,
                "| {:<10}| {:<10}| {:<10}| {:<10}| {:<10}| {:<10}",
                "na", "na", "na", "na", "na", "na"
            );
        }
    }
}
