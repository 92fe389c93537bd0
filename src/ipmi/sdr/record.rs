//! Sensor Data Records decoded from their bytes (IPMI 2.0 §43): the sensor records (full 01h,
//! compact 02h, event-only 03h) and the locators (FRU 11h, management controller 12h).
//!
//! Decoded here rather than by `ipmi-rs-core` 0.6, whose full-record parser drops bit 9 of a
//! negative M and maps linearization codes 9–11 to the wrong functions; a reading converted
//! with those would be wrong, and these records are what the conversions rest on.

use serde::Serialize;

/// One SDR as stored: its bytes (header included) and what they say.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SdrRecord {
    /// Record ID.
    pub id: u16,
    /// Record type (01h full sensor, 02h compact, 03h event-only, 11h FRU locator, 12h MC
    /// locator, ...).
    pub record_type: u8,
    /// The decoded contents.
    pub kind: RecordKind,
    /// The record's bytes, header included (what the cache keeps).
    #[serde(skip)]
    pub raw: Vec<u8>,
}

/// What a record describes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecordKind {
    /// A sensor (full, compact or event-only record).
    Sensor(SensorRecord),
    /// A FRU device locator.
    FruLocator(FruLocator),
    /// A management controller locator.
    McLocator(McLocator),
    /// Another record type, kept as bytes.
    Other,
}

/// The parts of a sensor record the readings and their display need.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensorRecord {
    /// The sensor's name (ID string, at most 16 bytes, shown as is).
    pub name: String,
    /// Sensor owner ID (slave address, or software ID when bit 0 is set).
    pub owner_id: u8,
    /// Owner LUN (where Get Sensor Reading goes).
    pub owner_lun: u8,
    /// Sensor number.
    pub number: u8,
    /// Entity ID.
    pub entity_id: u8,
    /// Entity instance (0–127).
    pub entity_instance: u8,
    /// Sensor type (01h temperature, 02h voltage, 04h fan, ...).
    pub sensor_type: u8,
    /// Event/reading type code (01h threshold, 02h–0Ch generic discrete, 6Fh sensor-specific).
    pub event_type: u8,
    /// Sensor capabilities byte (threshold access in bits 3:2).
    pub capabilities: u8,
    /// Assertion event mask / lower threshold reading mask.
    pub assertion_mask: u16,
    /// Deassertion event mask / upper threshold reading mask.
    pub deassertion_mask: u16,
    /// Discrete reading mask / settable and readable threshold masks.
    pub reading_mask: u16,
    /// Units.
    pub units: Units,
    /// How raw readings convert (full records only).
    pub conversion: Option<Conversion>,
    /// Thresholds and limits as raw bytes (full records only).
    pub limits: Option<Limits>,
    /// 01h full, 02h compact, 03h event-only.
    pub record_type: u8,
}

/// Sensor units (sensor units 1, base and modifier unit bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Units {
    /// Analog data format: 0 unsigned, 1 ones' complement, 2 two's complement, 3 no analog
    /// reading.
    pub analog_format: u8,
    /// Rate unit (0 none, 1 µs ... 6 day).
    pub rate: u8,
    /// Modifier unit use: 0 none, 1 base/modifier, 2 base×modifier.
    pub modifier_use: u8,
    /// Percentage.
    pub percentage: bool,
    /// Base unit code.
    pub base: u8,
    /// Modifier unit code.
    pub modifier: u8,
}

impl Units {
    /// No analog reading and no unit: what an event-only record has.
    pub const NO_READING: Units = Units {
        analog_format: 3,
        rate: 0,
        modifier_use: 0,
        percentage: false,
        base: 0,
        modifier: 0,
    };
}

/// The conversion factors of a full sensor record (§36.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Conversion {
    /// Linearization (0 linear, 1 ln, ... 0Bh cube root; 70h–7Fh non-linear/OEM).
    pub linearization: u8,
    /// M, 10-bit two's complement.
    pub m: i16,
    /// B, 10-bit two's complement.
    pub b: i16,
    /// B exponent (K1), 4-bit two's complement.
    pub b_exp: i8,
    /// Result exponent (K2), 4-bit two's complement.
    pub r_exp: i8,
    /// Tolerance, in ±½ raw counts.
    pub tolerance: u8,
}

impl Conversion {
    /// From the six factor bytes as a full record (bytes 24–29) and Get Sensor Reading
    /// Factors (after the next-reading byte) both lay them out: M, M/tolerance, B,
    /// B/accuracy, accuracy/direction, R exponent/B exponent.
    pub fn from_factors(linearization: u8, f: [u8; 6]) -> Self {
        Conversion {
            linearization,
            m: ten_bit(f[0], f[1]),
            b: ten_bit(f[2], f[3]),
            b_exp: four_bit(f[5] & 0x0F),
            r_exp: four_bit(f[5] >> 4),
            tolerance: f[1] & 0x3F,
        }
    }

    /// Non-linear (70h–7Fh): the factors depend on the reading, and come from Get Sensor
    /// Reading Factors (§35.5, §36.2), not from the record.
    pub fn is_non_linear(&self) -> bool {
        (0x70..=0x7F).contains(&self.linearization)
    }
}

/// A full record's raw limits: nominal, normal and sensor range, and the six thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Analog characteristic flags (which of nominal, normal max, normal min are given).
    pub flags: u8,
    /// Nominal reading.
    pub nominal: u8,
    /// Normal maximum.
    pub normal_max: u8,
    /// Normal minimum.
    pub normal_min: u8,
    /// Sensor maximum reading.
    pub max: u8,
    /// Sensor minimum reading.
    pub min: u8,
    /// Thresholds, raw: UNR, UCR, UNC, LNR, LCR, LNC.
    pub thresholds: [u8; 6],
    /// Positive- and negative-going hysteresis.
    pub hysteresis: [u8; 2],
}

/// A FRU device locator (11h).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FruLocator {
    /// The FRU's name.
    pub name: String,
    /// Device access address (slave address of the controller that holds it).
    pub access_address: u8,
    /// FRU device ID (logical) or slave address (non-intelligent).
    pub device_id: u8,
    /// Logical FRU device (accessed with Read FRU Data), as opposed to a bare SEEPROM.
    pub logical: bool,
    /// Access LUN.
    pub lun: u8,
    /// Channel.
    pub channel: u8,
    /// Device type.
    pub device_type: u8,
    /// Device type modifier.
    pub device_type_modifier: u8,
    /// Entity ID.
    pub entity_id: u8,
    /// Entity instance.
    pub entity_instance: u8,
}

/// A management controller locator (12h).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct McLocator {
    /// The controller's name.
    pub name: String,
    /// Slave address.
    pub address: u8,
    /// Channel.
    pub channel: u8,
    /// Device capabilities.
    pub capabilities: u8,
    /// Entity ID.
    pub entity_id: u8,
    /// Entity instance.
    pub entity_instance: u8,
}

/// Why a record does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SDR record {id:#06x} (type {record_type:#04x}): {detail}")]
pub struct RecordError {
    /// Record ID.
    pub id: u16,
    /// Record type.
    pub record_type: u8,
    /// What is wrong.
    pub detail: String,
}

/// A 10-bit two's complement from 8 low bits and the 2 high bits in bits 7:6 of `hi`.
fn ten_bit(lo: u8, hi: u8) -> i16 {
    let v = (((hi as u16) >> 6) << 8) | lo as u16;
    ((v << 6) as i16) >> 6
}

/// A 4-bit two's complement.
fn four_bit(v: u8) -> i8 {
    ((v << 4) as i8) >> 4
}

/// An SDR ID string as ipmitool shows it: the bytes as given (up to 16), cut at a NUL.
fn id_string(type_length: u8, bytes: &[u8]) -> String {
    let len = (type_length & 0x1F) as usize;
    let bytes = &bytes[..len.min(bytes.len()).min(16)];
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].iter().map(|&b| b as char).collect()
}

impl SdrRecord {
    /// Decodes a record from its bytes (5-byte header, then the body).
    pub fn parse(raw: Vec<u8>) -> Result<SdrRecord, RecordError> {
        let err = |id, record_type, detail: &str| RecordError {
            id,
            record_type,
            detail: detail.into(),
        };
        if raw.len() < 5 {
            return Err(err(0, 0, "shorter than its 5-byte header"));
        }
        let id = u16::from_le_bytes([raw[0], raw[1]]);
        let record_type = raw[3];
        let length = raw[4] as usize;
        if raw.len() != 5 + length {
            return Err(err(
                id,
                record_type,
                &format!("{} bytes, the header says {}", raw.len(), 5 + length),
            ));
        }
        let need = |n: usize| {
            if raw.len() < n {
                Err(err(
                    id,
                    record_type,
                    &format!("needs {n} bytes, has {}", raw.len()),
                ))
            } else {
                Ok(())
            }
        };
        let r = &raw;
        let kind = match record_type {
            0x01..=0x03 => {
                let (id_at, min) = match record_type {
                    0x01 => (47, 48),
                    0x02 => (31, 32),
                    _ => (16, 17),
                };
                need(min)?;
                let name = id_string(r[id_at], &r[id_at + 1..]);
                let event_only = record_type == 0x03;
                let (sensor_type, event_type) = if event_only {
                    (r[10], r[11])
                } else {
                    (r[12], r[13])
                };
                let word = |at: usize| {
                    if event_only {
                        0
                    } else {
                        u16::from_le_bytes([r[at], r[at + 1]])
                    }
                };
                let units = if event_only {
                    Units::NO_READING
                } else {
                    Units {
                        analog_format: r[20] >> 6,
                        rate: (r[20] >> 3) & 0x07,
                        modifier_use: (r[20] >> 1) & 0x03,
                        percentage: r[20] & 0x01 != 0,
                        base: r[21],
                        modifier: r[22],
                    }
                };
                let full = record_type == 0x01;
                RecordKind::Sensor(SensorRecord {
                    name,
                    owner_id: r[5],
                    owner_lun: r[6] & 0x03,
                    number: r[7],
                    entity_id: r[8],
                    entity_instance: r[9] & 0x7F,
                    sensor_type,
                    event_type,
                    capabilities: if event_only { 0 } else { r[11] },
                    assertion_mask: word(14),
                    deassertion_mask: word(16),
                    reading_mask: word(18),
                    units,
                    conversion: full.then(|| {
                        let factors = [r[24], r[25], r[26], r[27], r[28], r[29]];
                        Conversion::from_factors(r[23] & 0x7F, factors)
                    }),
                    limits: full.then(|| Limits {
                        flags: r[30],
                        nominal: r[31],
                        normal_max: r[32],
                        normal_min: r[33],
                        max: r[34],
                        min: r[35],
                        thresholds: [r[36], r[37], r[38], r[39], r[40], r[41]],
                        hysteresis: [r[42], r[43]],
                    }),
                    record_type,
                })
            }
            0x11 => {
                need(16)?;
                RecordKind::FruLocator(FruLocator {
                    name: id_string(r[15], &r[16..]),
                    access_address: r[5],
                    device_id: r[6],
                    logical: r[7] & 0x80 != 0,
                    lun: (r[7] >> 3) & 0x03,
                    channel: r[8] >> 4,
                    device_type: r[10],
                    device_type_modifier: r[11],
                    entity_id: r[12],
                    entity_instance: r[13],
                })
            }
            0x12 => {
                need(16)?;
                RecordKind::McLocator(McLocator {
                    name: id_string(r[15], &r[16..]),
                    address: r[5],
                    channel: r[6] & 0x0F,
                    capabilities: r[8],
                    entity_id: r[12],
                    entity_instance: r[13],
                })
            }
            _ => RecordKind::Other,
        };
        Ok(SdrRecord {
            id,
            record_type,
            kind,
            raw,
        })
    }

    /// The sensor this record describes, if it is a sensor record.
    pub fn sensor(&self) -> Option<&SensorRecord> {
        match &self.kind {
            RecordKind::Sensor(s) => Some(s),
            _ => None,
        }
    }
}

impl SensorRecord {
    /// A threshold sensor (event/reading type 01h).
    pub fn is_threshold(&self) -> bool {
        self.event_type == 0x01
    }

    /// Whether the sensor has an analog reading (full record, analog format not "none").
    pub fn is_analog(&self) -> bool {
        self.conversion.is_some() && self.units.analog_format != 3
    }

    /// Threshold access: 0 none, 1 readable, 2 readable and settable, 3 fixed, unreadable.
    pub fn threshold_access(&self) -> u8 {
        (self.capabilities >> 2) & 0x03
    }

    /// Which thresholds are readable (bits 0–5: LNC, LCR, LNR, UNC, UCR, UNR).
    pub fn readable_thresholds(&self) -> u8 {
        (self.reading_mask & 0x3F) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_fields() {
        assert_eq!(ten_bit(0xFF, 0xC0), -1);
        assert_eq!(ten_bit(0x00, 0x80), -512);
        assert_eq!(ten_bit(0xFF, 0x40), 511);
        // ipmi-rs-core 0.6 reads M = -200 (0x338) as a different number; we do not.
        assert_eq!(ten_bit(0x38, 0xC0), -200);
        assert_eq!(four_bit(0x0F), -1);
        assert_eq!(four_bit(0x08), -8);
        assert_eq!(four_bit(0x07), 7);
    }

    #[test]
    fn id_strings_as_ipmitool_shows_them() {
        assert_eq!(id_string(0xC5, b"Fan2A"), "Fan2A");
        assert_eq!(id_string(0xC8, b"ab\0cdefg"), "ab");
        assert_eq!(id_string(0xDF, &[b'x'; 31]), "x".repeat(16));
        assert_eq!(id_string(0xC9, b"short"), "short");
    }
}
