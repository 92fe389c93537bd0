//! The simulated BMC's SDR repository: the two records of a real Dell R630 (storage.rs), and
//! the rest of a two-socket server's sensors built here (CPU and DIMM temperatures, fans,
//! voltages, power; power supply and intrusion discrete sensors), so fleets exercise a
//! repository of realistic size (40 records) and the sensor-record cache has something to save.

use std::sync::OnceLock;

use super::storage::SDR_RECORDS;

/// One synthesized sensor: its record and the reading it answers with.
struct Built {
    record: Vec<u8>,
    reading: [u8; 4],
}

/// A full threshold record: sensor `number` of `sensor_type`, unit `unit`, y = M·x·10^rexp,
/// thresholds (UNR, UCR, UNC, LNR, LCR, LNC) raw, `nominal` raw as the reading.
#[allow(clippy::too_many_arguments)]
fn full(
    id: u16,
    number: u8,
    name: &str,
    sensor_type: u8,
    entity: u8,
    unit: u8,
    m: u8,
    rexp: i8,
    thresholds: [u8; 6],
    nominal: u8,
) -> Built {
    let name = &name.as_bytes()[..name.len().min(16)];
    let [i0, i1] = id.to_le_bytes();
    let mut r = vec![
        i0, i1, 0x51, 0x01, 0, 0x20, 0x00, number, entity, 0x01, 0x7F, 0x68,
    ];
    r.extend_from_slice(&[sensor_type, 0x01, 0x95, 0x7A, 0x95, 0x7A, 0x3F, 0x3F]);
    r.extend_from_slice(&[0x00, unit, 0x00, 0x00, m, 0x00, 0x00, 0x00, 0x00]);
    r.push(((rexp as u8) & 0x0F) << 4);
    r.extend_from_slice(&[0x01, nominal, 0xFF, 0x00, 0xFF, 0x00]);
    r.extend_from_slice(&thresholds);
    r.extend_from_slice(&[0x01, 0x01, 0x00, 0x00, 0x00, 0xC0 | name.len() as u8]);
    r.extend_from_slice(name);
    r[4] = (r.len() - 5) as u8;
    Built {
        record: r,
        reading: [nominal, 0xC0, 0x00, 0x00],
    }
}

/// A compact discrete record with the sensor-specific states in `states` asserted.
fn compact(id: u16, number: u8, name: &str, sensor_type: u8, entity: u8, states: u8) -> Built {
    let name = &name.as_bytes()[..name.len().min(16)];
    let [i0, i1] = id.to_le_bytes();
    let mut r = vec![
        i0, i1, 0x51, 0x02, 0, 0x20, 0x00, number, entity, 0x01, 0x7F, 0x40,
    ];
    r.extend_from_slice(&[sensor_type, 0x6F, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00]);
    r.extend_from_slice(&[
        0xC0, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    r.push(0xC0 | name.len() as u8);
    r.extend_from_slice(name);
    r[4] = (r.len() - 5) as u8;
    Built {
        record: r,
        reading: [0x00, 0xC0, states, 0x00],
    }
}

fn built() -> &'static Vec<Built> {
    static SENSORS: OnceLock<Vec<Built>> = OnceLock::new();
    SENSORS.get_or_init(|| {
        let mut out = Vec::new();
        let mut id = 0x0100u16;
        let mut next = || {
            id += 1;
            id
        };
        for cpu in 1..=2u8 {
            out.push(full(
                next(),
                0x60 + cpu,
                &format!("CPU{cpu} Temp"),
                0x01,
                0x03,
                1,
                1,
                0,
                [100, 95, 90, 0, 3, 5],
                44 + cpu,
            ));
        }
        for (i, slot) in ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4"]
            .iter()
            .enumerate()
        {
            out.push(full(
                next(),
                0x70 + i as u8,
                &format!("DIMM {slot} Temp"),
                0x01,
                0x20,
                1,
                1,
                0,
                [95, 90, 85, 0, 3, 5],
                36 + i as u8,
            ));
        }
        for fan in 1..=6u8 {
            out.push(full(
                next(),
                0x80 + fan,
                &format!("Fan{fan}"),
                0x04,
                0x1D,
                18,
                60,
                0,
                [250, 240, 230, 5, 10, 15],
                88 + fan,
            ));
        }
        for (i, (name, m, rexp, raw, t)) in [
            ("12V", 6u8, -2i8, 200u8, [233, 222, 211, 167, 178, 189]),
            ("5V", 3, -2, 167, [194, 186, 178, 147, 155, 161]),
            ("3.3V", 15, -3, 220, [254, 242, 236, 198, 204, 210]),
            ("VBAT", 15, -3, 204, [255, 255, 255, 140, 160, 180]),
            ("CPU1 VCore", 5, -3, 180, [255, 240, 230, 100, 110, 120]),
            ("CPU2 VCore", 5, -3, 181, [255, 240, 230, 100, 110, 120]),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(full(
                next(),
                0x90 + i as u8,
                name,
                0x02,
                0x07,
                4,
                m,
                rexp,
                t,
                raw,
            ));
        }
        out.push(full(
            next(),
            0xA0,
            "Pwr Consumption",
            0x0B,
            0x15,
            6,
            4,
            0,
            [255, 250, 225, 0, 0, 0],
            78,
        ));
        out.push(full(
            next(),
            0xA1,
            "Current 1",
            0x03,
            0x0A,
            5,
            2,
            -1,
            [255, 120, 100, 0, 0, 0],
            7,
        ));
        out.push(full(
            next(),
            0xA2,
            "Current 2",
            0x03,
            0x0A,
            5,
            2,
            -1,
            [255, 120, 100, 0, 0, 0],
            7,
        ));
        out.push(full(
            next(),
            0xA3,
            "Exhaust Temp",
            0x01,
            0x07,
            1,
            1,
            0,
            [80, 75, 70, 0, 3, 8],
            38,
        ));
        for (i, name) in ["PS1 Status", "PS2 Status"].iter().enumerate() {
            out.push(compact(next(), 0xB0 + i as u8, name, 0x08, 0x0A, 0x01));
        }
        out.push(compact(next(), 0xB2, "Intrusion", 0x05, 0x17, 0x00));
        out.push(compact(next(), 0xB3, "PS Redundancy", 0x0B, 0x13, 0x01));
        for i in 0..9u8 {
            out.push(compact(
                next(),
                0xC0 + i,
                &format!("DIMM Slot {}", i + 1),
                0x0C,
                0x20,
                0x40,
            ));
        }
        out
    })
}

/// Every record, in repository order (R630's first), each with its next record's ID.
pub(super) fn repository() -> &'static [Vec<u8>] {
    static ALL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ALL.get_or_init(|| {
        SDR_RECORDS
            .iter()
            .map(|r| r.to_vec())
            .chain(built().iter().map(|b| b.record.clone()))
            .collect()
    })
}

/// The synthesized sensors' Get Sensor Reading data.
pub(super) fn reading(number: u8) -> Option<[u8; 4]> {
    built()
        .iter()
        .find(|b| b.record[7] == number)
        .map(|b| b.reading)
}
