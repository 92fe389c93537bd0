//! Nominal, warning or critical for a sensor's event bits, as FreeIPMI's interpret module
//! decides it (`_get_threshold_sensor_state`, `_get_sensor_state`) with its default tables
//! (interpret_tables.rs) and `--ignore-unrecognized-events`, which ipmi_exporter passes.

use super::interpret_tables::{GENERIC, SPECIFIC, TABLES, THRESHOLD};
use crate::ipmi::sdr::SensorRecord;

/// 0 nominal, 1 warning, 2 critical; NaN where FreeIPMI has no table (N/A).
pub(super) fn state(s: &SensorRecord, bits: u16) -> f64 {
    let table = match s.event_type {
        0x01 => Some(THRESHOLD),
        0x02..=0x0C => GENERIC
            .iter()
            .find(|(e, t, _)| *e == s.event_type && *t == s.sensor_type)
            .map(|r| r.2),
        0x6F => SPECIFIC
            .iter()
            .find(|(t, _)| *t == s.sensor_type)
            .map(|r| r.1),
        _ => None,
    };
    let Some(table) = table else {
        return f64::NAN;
    };
    let entries = TABLES[table].as_bytes();
    let mut mask = if s.event_type == 0x01 {
        bits & 0x3F
    } else {
        bits & 0x7FFF
    };
    let mut worst = 0u8;
    for (i, e) in entries.iter().enumerate().take(16) {
        let applies = if i == 0 {
            mask == 0
        } else {
            mask & (1 << (i - 1)) != 0
        };
        if applies {
            worst = worst.max(match e {
                b'W' => 1,
                b'C' => 2,
                _ => 0,
            });
        }
        if i > 0 {
            mask &= !(1 << (i - 1));
        }
    }
    // Bits past the table: ignored (--ignore-unrecognized-events).
    f64::from(worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::sdr::Units;

    fn sensor(sensor_type: u8, event_type: u8) -> SensorRecord {
        SensorRecord {
            name: "s".into(),
            owner_id: 0x20,
            owner_lun: 0,
            number: 1,
            entity_id: 0,
            entity_instance: 0,
            sensor_type,
            event_type,
            capabilities: 0,
            assertion_mask: 0,
            deassertion_mask: 0,
            reading_mask: 0,
            units: Units::NO_READING,
            conversion: None,
            limits: None,
            record_type: 0x02,
        }
    }

    #[test]
    fn every_offset_of_a_sixteen_entry_table_counts() {
        // System ACPI Power State (22h, sensor-specific): FreeIPMI's table has 16 entries
        // (none asserted, then offsets 0–0Eh); the last, 0Eh "Unknown", is critical.
        let acpi = sensor(0x22, 0x6F);
        assert_eq!(state(&acpi, 0), 0.0);
        assert_eq!(state(&acpi, 1 << 0x00), 0.0);
        assert_eq!(state(&acpi, 1 << 0x0D), 2.0);
        assert_eq!(state(&acpi, 1 << 0x0E), 2.0);
    }
}
