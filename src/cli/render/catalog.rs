//! The catalog's other commands laid out as ipmitool 1.8.19 lays them out (C locale, UTC):
//! chassis, `mc selftest`/`watchdog get`, `user list`, `channel info`, `dcmi power reading`,
//! `sel info|list|elist` and `fru print`.

use std::fmt::Write;

use winrm_ipmi::ipmi::chassis::{ChassisStatus, PowerAction};
use winrm_ipmi::ipmi::dcmi::PowerReading;
use winrm_ipmi::ipmi::fru::Fru;
use winrm_ipmi::ipmi::mc::{ChannelInfo, User, Watchdog};
use winrm_ipmi::ipmi::names;
use winrm_ipmi::ipmi::sdr::{SdrRecord, convert_reading};
use winrm_ipmi::ipmi::sel::{SelInfo, SelRecord};
use winrm_ipmi::ipmi::sensor::unit_string;

use super::time;

fn yes(b: bool, t: &'static str, f: &'static str) -> &'static str {
    if b { t } else { f }
}

/// `chassis status`.
pub fn chassis_status(s: &ChassisStatus) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "System Power         : {}", yes(s.power_on, "on", "off"));
    let _ = writeln!(
        o,
        "Power Overload       : {}",
        yes(s.power_overload, "true", "false")
    );
    let _ = writeln!(
        o,
        "Power Interlock      : {}",
        yes(s.power_interlock, "active", "inactive")
    );
    let _ = writeln!(
        o,
        "Main Power Fault     : {}",
        yes(s.main_power_fault, "true", "false")
    );
    let _ = writeln!(
        o,
        "Power Control Fault  : {}",
        yes(s.power_control_fault, "true", "false")
    );
    let policy = ["always-off", "previous", "always-on", "unknown"][s.restore_policy as usize & 3];
    let _ = writeln!(o, "Power Restore Policy : {policy}");
    o.push_str("Last Power Event     : ");
    for (bit, word) in [
        (1, "ac-failed "),
        (2, "overload "),
        (4, "interlock "),
        (8, "fault "),
        (16, "command"),
    ] {
        if s.last_power_event & bit != 0 {
            o.push_str(word);
        }
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "Chassis Intrusion    : {}",
        yes(s.intrusion, "active", "inactive")
    );
    let _ = writeln!(
        o,
        "Front-Panel Lockout  : {}",
        yes(s.front_panel_lockout, "active", "inactive")
    );
    let _ = writeln!(
        o,
        "Drive Fault          : {}",
        yes(s.drive_fault, "true", "false")
    );
    let _ = writeln!(
        o,
        "Cooling/Fan Fault    : {}",
        yes(s.cooling_fault, "true", "false")
    );
    match s.front_panel {
        None => {}
        Some(0) => o.push_str("Front Panel Control  : none\n"),
        Some(d) => {
            for (bit, label) in [
                (0x80, "Sleep"),
                (0x40, "Diag"),
                (0x20, "Reset"),
                (0x10, "Power"),
            ] {
                let _ = writeln!(
                    o,
                    "{:<21}: {}",
                    format!("{label} Button Disable"),
                    yes(d & bit != 0, "allowed", "not allowed")
                );
            }
            for (bit, label) in [
                (0x08, "Sleep"),
                (0x04, "Diag"),
                (0x02, "Reset"),
                (0x01, "Power"),
            ] {
                let _ = writeln!(
                    o,
                    "{:<21}: {}",
                    format!("{label} Button Disabled"),
                    yes(d & bit != 0, "true", "false")
                );
            }
        }
    }
    o
}

/// `chassis power <action>`'s line.
pub fn power_control(a: PowerAction) -> String {
    let word = match a {
        PowerAction::Off => "Down/Off",
        PowerAction::On => "Up/On",
        PowerAction::Cycle => "Cycle",
        PowerAction::Reset => "Reset",
        PowerAction::Diag => "Diag",
        PowerAction::Soft => "Soft",
    };
    format!("Chassis Power Control: {word}\n")
}

/// `chassis identify`'s line.
pub fn identify(seconds: Option<u8>, force: bool) -> String {
    match (force, seconds) {
        (true, _) => "Chassis identify interval: indefinite\n".into(),
        (false, None) => "Chassis identify interval: default (15 seconds)\n".into(),
        (false, Some(0)) => "Chassis identify interval: off\n".into(),
        (false, Some(s)) => format!("Chassis identify interval: {s} seconds\n"),
    }
}

/// `mc selftest`; `false` where ipmitool exits 1 (not implemented, corrupted, fatal).
pub fn selftest(code: u8, detail: u8) -> (String, bool) {
    let mut o = String::new();
    let ok = match code {
        0x55 => {
            o.push_str("Selftest: passed\n");
            true
        }
        0x56 => {
            o.push_str("Selftest: not implemented\n");
            false
        }
        0x57 => {
            o.push_str("Selftest: device corrupted\n");
            for (bit, text) in [
                (0x80, " -> SEL device not accessible"),
                (0x40, " -> SDR repository not accessible"),
                (0x20, "FRU device not accessible"),
                (0x10, "IPMB signal lines do not respond"),
                (0x08, "SDR repository empty"),
                (0x04, "Internal Use Area corrupted"),
                (0x02, "Controller update boot block corrupted"),
                (0x01, "controller operational firmware corrupted"),
            ] {
                if detail & bit != 0 {
                    let _ = writeln!(o, "{text}");
                }
            }
            false
        }
        0x58 => {
            let _ = write!(
                o,
                "Selftest     : fatal error\nFailure code : {detail:02x}\n"
            );
            false
        }
        0xFF => {
            o.push_str("Selftest: N/A");
            false
        }
        c => {
            let _ = write!(
                o,
                "Selftest     : device specific ({c:02X}h)\nFailure code : {detail:02X}h\n"
            );
            true
        }
    };
    (o, ok)
}

const WDT_USE: [&str; 8] = [
    "Reserved",
    "BIOS FRB2",
    "BIOS/POST",
    "OS Load",
    "SMS/OS",
    "OEM",
    "Reserved",
    "Reserved",
];

/// `mc watchdog get`.
pub fn watchdog(w: &Watchdog) -> String {
    let action = [
        "No action",
        "Hard Reset",
        "Power Down",
        "Power Cycle",
        "Reserved",
        "Reserved",
        "Reserved",
        "Reserved",
    ];
    let interrupt = [
        "None",
        "SMI",
        "NMI/Diagnostic",
        "Messaging",
        "Reserved",
        "Reserved",
        "Reserved",
        "Reserved",
    ];
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Watchdog Timer Use:     {} (0x{:02x})",
        WDT_USE[(w.timer_use & 7) as usize],
        w.timer_use
    );
    let _ = writeln!(
        o,
        "Watchdog Timer Is:      {}",
        yes(w.timer_use & 0x40 != 0, "Started/Running", "Stopped")
    );
    let _ = writeln!(
        o,
        "Watchdog Timer Logging: {}",
        yes(w.timer_use & 0x80 != 0, "Off", "On")
    );
    let _ = writeln!(
        o,
        "Watchdog Timer Action:  {} (0x{:02x})",
        action[(w.actions & 7) as usize],
        w.actions
    );
    let _ = writeln!(
        o,
        "Pre-timeout interrupt:  {}",
        interrupt[((w.actions >> 4) & 7) as usize]
    );
    let _ = writeln!(o, "Pre-timeout interval:   {} seconds", w.pretimeout);
    let flags = w.expiration_flags;
    let _ = writeln!(
        o,
        "Timer Expiration Flags: {}(0x{flags:02x})",
        yes(flags == 0, "None ", "")
    );
    for (i, name) in WDT_USE.iter().enumerate() {
        if flags & (1 << i) != 0 {
            let _ = writeln!(o, "                        * {name}");
        }
    }
    let _ = writeln!(
        o,
        "Initial Countdown:      {:.1} sec",
        f64::from(w.initial) / 10.0
    );
    let _ = writeln!(
        o,
        "Present Countdown:      {:.1} sec",
        f64::from(w.present) / 10.0
    );
    o
}

/// A privilege level as ipmitool names it.
pub fn privilege(p: u8) -> String {
    match p {
        1 => "CALLBACK".into(),
        2 => "USER".into(),
        3 => "OPERATOR".into(),
        4 => "ADMINISTRATOR".into(),
        5 => "OEM".into(),
        0x0F => "NO ACCESS".into(),
        p => format!("Unknown (0x{p:02X})"),
    }
}

/// `user list`.
pub fn user_list(users: &[User]) -> String {
    let mut o = String::from("ID  Name\t     Callin  Link Auth\tIPMI Msg   Channel Priv Limit\n");
    for u in users {
        let _ = writeln!(
            o,
            "{:<4}{:<17}{:<8}{:<11}{:<11}{}",
            u.id,
            u.name,
            yes(u.callback_only, "false", "true "),
            yes(u.link_auth, "true ", "false"),
            yes(u.ipmi_messaging, "true ", "false"),
            privilege(u.privilege)
        );
    }
    o
}

fn medium(m: u8) -> String {
    const T: [&str; 13] = [
        "reserved",
        "IPMB (I2C)",
        "ICMB v1.0",
        "ICMB v0.9",
        "802.3 LAN",
        "Serial/Modem",
        "Other LAN",
        "PCI SMBus",
        "SMBus v1.0/v1.1",
        "SMBus v2.0",
        "USB 1.x",
        "USB 2.x",
        "System Interface",
    ];
    T.get(m as usize)
        .map_or_else(|| format!("Unknown (0x{m:02X})"), |s| s.to_string())
}

fn protocol(p: u8) -> String {
    match p {
        0 | 3 => "reserved".into(),
        1 => "IPMB-1.0".into(),
        2 => "ICMB-1.0".into(),
        4 => "IPMI-SMBus".into(),
        5 => "KCS".into(),
        6 => "SMIC".into(),
        7 => "BT-10".into(),
        8 => "BT-15".into(),
        9 => "TMode".into(),
        0x1C..=0x1F => format!("OEM {}", p - 0x1B),
        p => format!("Unknown (0x{p:02X})"),
    }
}

/// `channel info`, with the LAN channel's volatile and non-volatile access bytes.
pub fn channel_info(c: &ChannelInfo, access: Option<(u8, u8)>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Channel 0x{:x} info:", c.channel);
    let _ = writeln!(o, "  Channel Medium Type   : {}", medium(c.medium));
    let _ = writeln!(o, "  Channel Protocol Type : {}", protocol(c.protocol));
    let session = [
        "session-less",
        "single-session",
        "multi-session",
        "session-based",
    ][(c.sessions >> 6) as usize];
    let _ = writeln!(o, "  Session Support       : {session}");
    let _ = writeln!(o, "  Active Session Count  : {}", c.sessions & 0x3F);
    let _ = writeln!(o, "  Protocol Vendor ID    : {}", c.vendor);
    if let Some((active, stored)) = access {
        for (title, d) in [
            ("  Volatile(active) Settings", active),
            ("  Non-Volatile Settings", stored),
        ] {
            let _ = writeln!(o, "{title}");
            let _ = writeln!(
                o,
                "    Alerting            : {}abled",
                yes(d & 0x20 != 0, "dis", "en")
            );
            let _ = writeln!(
                o,
                "    Per-message Auth    : {}abled",
                yes(d & 0x10 != 0, "dis", "en")
            );
            let _ = writeln!(
                o,
                "    User Level Auth     : {}abled",
                yes(d & 0x08 != 0, "dis", "en")
            );
            let mode = ["disabled", "pre-boot only", "always available", "shared"]
                .get((d & 7) as usize)
                .copied()
                .unwrap_or("unknown");
            let _ = writeln!(o, "    Access Mode         : {mode}");
        }
    }
    o
}

/// `dcmi power reading` (with 1.8.19's missing newline after the timestamp).
pub fn dcmi_power(p: &PowerReading) -> String {
    let mut o = String::from("\n");
    let _ = writeln!(
        o,
        "    Instantaneous power reading:              {:8} Watts",
        p.current_watts
    );
    let _ = writeln!(
        o,
        "    Minimum during sampling period:           {:8} Watts",
        p.minimum_watts
    );
    let _ = writeln!(
        o,
        "    Maximum during sampling period:           {:8} Watts",
        p.maximum_watts
    );
    let _ = writeln!(
        o,
        "    Average power reading over sample period: {:8} Watts",
        p.average_watts
    );
    let _ = write!(
        o,
        "    IPMI timestamp:                           {}",
        time::numeric(p.timestamp)
    );
    let _ = writeln!(
        o,
        "    Sampling period:                          {:08} Seconds.",
        p.period_ms / 1000
    );
    let _ = write!(
        o,
        "    Power reading state is:                   {}\n\n",
        yes(p.active, "activated", "deactivated")
    );
    o
}

/// `sel info`.
pub fn sel_info(i: &SelInfo) -> String {
    let mut o = String::from("SEL Information\n");
    let _ = writeln!(
        o,
        "Version          : {}.{} ({})",
        i.version & 0xF,
        i.version >> 4,
        yes(
            i.version == 0x51 || i.version == 0x02,
            "v1.5, v2 compliant",
            "Unknown"
        )
    );
    let _ = writeln!(o, "Entries          : {}", i.entries);
    let _ = writeln!(
        o,
        "Free Space       : {} bytes {}",
        i.free,
        yes(i.free == 65535, "or more", "")
    );
    let (mut e, mut f) = (i.entries as i64, i.free as i64);
    let mut pct = 0;
    if e != 0 {
        e *= 16;
        f += e;
        pct = (100.0 * (e as f64 / f as f64)) as i64;
    }
    if f >= 65535 {
        o.push_str("Percent Used     : unknown\n");
    } else {
        let _ = writeln!(o, "Percent Used     : {pct}%");
    }
    let stamp = |t: u32| {
        if t == 0 || t == 0xFFFF_FFFF {
            "Not Available".to_string()
        } else {
            time::numeric(t)
        }
    };
    let _ = writeln!(o, "Last Add Time    : {}", stamp(i.last_add));
    let _ = writeln!(o, "Last Del Time    : {}", stamp(i.last_erase));
    let _ = writeln!(
        o,
        "Overflow         : {}",
        yes(i.operations & 0x80 != 0, "true", "false")
    );
    o.push_str("Supported Cmds   : ");
    if i.operations & 0x0F == 0 {
        o.push_str("None");
    }
    for (bit, word) in [
        (8, "'Delete' "),
        (4, "'Partial Add' "),
        (2, "'Reserve' "),
        (1, "'Get Alloc Info' "),
    ] {
        if i.operations & bit != 0 {
            o.push_str(word);
        }
    }
    o.push('\n');
    o
}

/// The text of a SEL event (`ipmi_get_event_desc`): the first state of its table with that
/// offset whose data is FFh, or whose data is event data 2 when event data 1 says it is given.
fn event_desc(sensor_type: u8, event_type: u8, data: [u8; 3]) -> Option<&'static str> {
    if (0x70..=0x7E).contains(&event_type) {
        return None;
    }
    let (table, code) = if event_type == 0x6F {
        (names::SENSOR_SPECIFIC_EVENTS, sensor_type)
    } else {
        (names::GENERIC_EVENTS, event_type)
    };
    let offset = data[0] & 0x0F;
    table
        .iter()
        .find(|(c, o, d, _)| {
            *c == code && *o == offset && (*d == 0xFF || (data[0] & 0xC0 != 0 && *d == data[1]))
        })
        .map(|r| r.3)
}

/// One `sel list` (or, with `sdrs`, `sel elist`) line.
pub fn sel_line(out: &mut String, r: &SelRecord, sdrs: Option<&[SdrRecord]>) {
    let _ = write!(out, "{:4x} | ", r.record_id);
    let raw = &r.raw;
    if r.record_type < 0xE0 {
        let ts = u32::from_le_bytes([raw[3], raw[4], raw[5], raw[6]]);
        if ts < 0x2000_0000 {
            let _ = write!(out, " Pre-Init  |{ts:010}| ");
        } else {
            let _ = write!(out, "{} | {} | ", time::date(ts), time::time(ts));
        }
    }
    if r.record_type >= 0xC0 {
        let _ = write!(out, "OEM record {:02x} | ", r.record_type);
        if r.record_type <= 0xDF {
            let _ = write!(out, "{:02x}{:02x}{:02x} | ", raw[9], raw[8], raw[7]);
            for b in &raw[10..16] {
                let _ = write!(out, "{b:02x}");
            }
        } else {
            for b in &raw[3..16] {
                let _ = write!(out, "{b:02x}");
            }
        }
        out.push('\n');
        return;
    }
    let Some(e) = &r.event else {
        out.push('\n');
        return;
    };
    let type_name = names::sensor_type(e.sensor_type);
    let type_name = if (0x2D..0xC0).contains(&e.sensor_type) || e.sensor_type >= 0xC0 {
        "Unknown"
    } else {
        type_name
    };
    let sdr = sdrs.and_then(|all| {
        all.iter().find(|s| {
            s.sensor().is_some_and(|s| {
                s.number == e.sensor_number
                    && s.owner_id == (e.generator_id & 0xFF) as u8
                    && s.sensor_type == e.sensor_type
            })
        })
    });
    match sdr.and_then(|s| s.sensor()) {
        Some(s) => {
            let _ = write!(out, "{type_name} {}", s.name);
        }
        None => {
            out.push_str(type_name);
            if e.sensor_number != 0 {
                let _ = write!(out, " #0x{:02x}", e.sensor_number);
            }
        }
    }
    out.push_str(" | ");
    if let Some(d) = event_desc(e.sensor_type, e.event_type, e.data) {
        out.push_str(d);
    }
    out.push_str(" | ");
    out.push_str(yes(e.deassertion, "Deasserted", "Asserted"));
    if let Some(s) = sdr
        .and_then(|s| s.sensor())
        .filter(|_| e.event_type == 0x01)
    {
        // Converted through f32, as ipmitool stores them.
        let conv = |raw: u8| convert_reading(s, raw).unwrap_or(0.0) as f32 as f64;
        let trigger = if (e.data[0] >> 6) & 3 == 1 {
            conv(e.data[1])
        } else {
            0.0
        };
        let threshold = ((e.data[0] >> 4) & 3 == 1).then(|| conv(e.data[2]));
        let fmt = |v: f64| {
            if v == (v as i32) as f64 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        };
        let _ = write!(out, " | Reading {}", fmt(trigger));
        if let Some(t) = threshold {
            let mut high = (e.data[0] & 0x0F) % 2 == 1;
            if e.deassertion {
                high = !high;
            }
            let _ = write!(
                out,
                " {} Threshold {} {}",
                yes(high, ">", "<"),
                fmt(t),
                unit_string(s)
            );
        }
    }
    if e.event_type == 0x6F
        && e.sensor_type == 0x0C
        && e.sensor_number == 0
        && e.data[0] & 0x30 == 0x20
    {
        let _ = write!(out, " | CPU {} DIMM {}", e.data[2] & 0x0F, e.data[2] >> 4);
    }
    out.push('\n');
}

const CHASSIS_TYPES: [&str; 30] = [
    "Unspecified",
    "Other",
    "Unknown",
    "Desktop",
    "Low Profile Desktop",
    "Pizza Box",
    "Mini Tower",
    "Tower",
    "Portable",
    "LapTop",
    "Notebook",
    "Hand Held",
    "Docking Station",
    "All in One",
    "Sub Notebook",
    "Space-saving",
    "Lunch Box",
    "Main Server Chassis",
    "Expansion Chassis",
    "SubChassis",
    "Bus Expansion Chassis",
    "Peripheral Chassis",
    "RAID Chassis",
    "Rack Mount Chassis",
    "Sealed-case PC",
    "Multi-system Chassis",
    "CompactPCI",
    "AdvancedTCA",
    "Blade",
    "Blade Enclosure",
];

/// One FRU device's fields, as `fru print` shows them.
pub fn fru(o: &mut String, f: &Fru) {
    let mut field = |label: &str, v: &Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(o, " {label:<22}: {v}");
        }
    };
    if let Some(c) = &f.chassis {
        let t = CHASSIS_TYPES
            .get(c.chassis_type as usize)
            .copied()
            .unwrap_or("Unknown");
        field("Chassis Type", &Some(t.to_string()));
        field("Chassis Part Number", &c.part_number);
        field("Chassis Serial", &c.serial);
        for e in &c.extra {
            field("Chassis Extra", &Some(e.clone()));
        }
    }
    if let Some(b) = &f.board {
        let date = b
            .mfg_date
            .map_or_else(|| "Unspecified".to_string(), time::string);
        field("Board Mfg Date", &Some(date));
        field("Board Mfg", &b.manufacturer);
        field("Board Product", &b.product);
        field("Board Serial", &b.serial);
        field("Board Part Number", &b.part_number);
        for e in &b.extra {
            field("Board Extra", &Some(e.clone()));
        }
    }
    if let Some(p) = &f.product {
        field("Product Manufacturer", &p.manufacturer);
        field("Product Name", &p.name);
        field("Product Part Number", &p.part_number);
        field("Product Version", &p.version);
        field("Product Serial", &p.serial);
        field("Product Asset Tag", &p.asset_tag);
        for e in &p.extra {
            field("Product Extra", &Some(e.clone()));
        }
    }
}
