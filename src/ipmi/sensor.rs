//! Sensor readings (IPMI 2.0 §35): Get Sensor Reading and Get Sensor Thresholds, and the
//! sensors of a whole SDR repository read and converted.

use serde::Serialize;

use super::names;
use super::sdr::{Conversion, SdrRecord, SensorRecord, convert_reading};
use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest};

/// What Get Sensor Reading (04h 2Dh) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// The raw reading (threshold sensors).
    pub raw: u8,
    /// Event messages enabled.
    pub event_messages: bool,
    /// Sensor scanning enabled.
    pub scanning: bool,
    /// Reading or state unavailable (initial update in progress).
    pub unavailable: bool,
    /// Threshold sensors: comparison status bits 0–5 (at or past LNC, LCR, LNR, UNC, UCR,
    /// UNR). Discrete sensors: states 0–7.
    pub status: u8,
    /// Discrete sensors: states 8–14 (absent on some BMCs).
    pub status_high: Option<u8>,
}

impl Reading {
    /// Discrete states 0–14 as one mask.
    pub fn states(&self) -> u16 {
        u16::from(self.status) | (u16::from(self.status_high.unwrap_or(0) & 0x7F) << 8)
    }
}

/// Reads one sensor; `None` where the BMC says it is not present (CBh) or has no reading.
/// Another completion code, or an answer too short to hold a reading, is an error.
pub async fn read<B: Bmc + ?Sized>(
    bmc: &B,
    sensor: &SensorRecord,
) -> Result<Option<Reading>, B::Error> {
    match answer(bmc, sensor).await? {
        Answer::Reading(r) => Ok(Some(r)),
        Answer::NotPresent => Ok(None),
        Answer::Refused(code) => Err(IpmiError::Completion {
            netfn: NetFn::SensorEvent,
            cmd: 0x2D,
            code,
        }
        .into()),
        Answer::Short(len) => Err(IpmiError::malformed(
            "Get Sensor Reading",
            format!("expected at least 2 bytes, got {len}"),
        )
        .into()),
    }
}

/// What Get Sensor Reading (04h 2Dh) brought back.
enum Answer {
    Reading(Reading),
    /// Not present, or a sensor the BMC cannot read now (CBh, CDh, D5h, D6h).
    NotPresent,
    Refused(CompletionCode),
    /// Fewer than the 2 bytes of a reading.
    Short(usize),
}

async fn answer<B: Bmc + ?Sized>(bmc: &B, sensor: &SensorRecord) -> Result<Answer, B::Error> {
    let request = RawRequest::new(NetFn::SensorEvent, 0x2D, vec![sensor.number])?
        .with_lun(sensor.owner_lun)?
        .with_responder(sensor.owner_id);
    let r = bmc.request(request).await?;
    match r.completion {
        CompletionCode::Normal => {}
        c if matches!(c.byte(), 0xCB | 0xCD | 0xD5 | 0xD6) => return Ok(Answer::NotPresent),
        code => return Ok(Answer::Refused(code)),
    }
    let d = &r.data;
    if d.len() < 2 {
        return Ok(Answer::Short(d.len()));
    }
    Ok(Answer::Reading(Reading {
        raw: d[0],
        event_messages: d[1] & 0x80 != 0,
        scanning: d[1] & 0x40 != 0,
        unavailable: d[1] & 0x20 != 0,
        status: d.get(2).copied().unwrap_or(0),
        status_high: d.get(3).copied(),
    }))
}

/// Get Sensor Reading Factors (04h 23h) for a non-linear sensor's `raw` reading: the record
/// with the factors that convert it (§35.5), or `None` where the BMC gives none (no analog
/// value can be shown, as ipmitool then shows none).
pub async fn with_reading_factors<B: Bmc + ?Sized>(
    bmc: &B,
    sensor: &SensorRecord,
    raw: u8,
) -> Result<Option<SensorRecord>, B::Error> {
    let Some(conversion) = sensor.conversion else {
        return Ok(None);
    };
    let request = RawRequest::new(NetFn::SensorEvent, 0x23, vec![sensor.number, raw])?
        .with_lun(sensor.owner_lun)?
        .with_responder(sensor.owner_id);
    let r = bmc.request(request).await?;
    // [0] the next reading with other factors, [1..7] the factors.
    let Some(f) = r
        .data
        .get(1..7)
        .filter(|_| r.completion.is_success())
        .and_then(|f| <[u8; 6]>::try_from(f).ok())
    else {
        return Ok(None);
    };
    let mut record = sensor.clone();
    record.conversion = Some(Conversion::from_factors(conversion.linearization, f));
    Ok(Some(record))
}

/// Get Sensor Thresholds (04h 27h): which are readable, and their raw values in the order LNC,
/// LCR, LNR, UNC, UCR, UNR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// Readable mask (bit 0 LNC ... bit 5 UNR).
    pub readable: u8,
    /// Raw values.
    pub raw: [u8; 6],
}

/// Reads a threshold sensor's thresholds; `None` where the BMC has none to give.
pub async fn thresholds<B: Bmc + ?Sized>(
    bmc: &B,
    sensor: &SensorRecord,
) -> Result<Option<Thresholds>, B::Error> {
    let request = RawRequest::new(NetFn::SensorEvent, 0x27, vec![sensor.number])?
        .with_lun(sensor.owner_lun)?
        .with_responder(sensor.owner_id);
    let r = bmc.request(request).await?;
    let d = &r.data;
    // A refusal, or a short answer: no thresholds to show (the sensor is still listed).
    if !r.completion.is_success() || d.len() < 7 {
        return Ok(None);
    }
    Ok(Some(Thresholds {
        readable: d[0] & 0x3F,
        raw: [d[1], d[2], d[3], d[4], d[5], d[6]],
    }))
}

/// A threshold sensor's status, as ipmitool names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Within every threshold.
    Ok,
    /// At or past a lower non-critical threshold.
    LowerNonCritical,
    /// At or past a lower critical threshold.
    LowerCritical,
    /// At or past a lower non-recoverable threshold.
    LowerNonRecoverable,
    /// At or past an upper non-critical threshold.
    UpperNonCritical,
    /// At or past an upper critical threshold.
    UpperCritical,
    /// At or past an upper non-recoverable threshold.
    UpperNonRecoverable,
    /// No reading (not present, scanning disabled, unavailable).
    NoReading,
}

impl Status {
    /// From the threshold comparison bits, most severe first (as ipmitool checks them).
    pub fn from_bits(bits: u8) -> Status {
        if bits & 0x04 != 0 {
            Status::LowerNonRecoverable
        } else if bits & 0x20 != 0 {
            Status::UpperNonRecoverable
        } else if bits & 0x02 != 0 {
            Status::LowerCritical
        } else if bits & 0x10 != 0 {
            Status::UpperCritical
        } else if bits & 0x01 != 0 {
            Status::LowerNonCritical
        } else if bits & 0x08 != 0 {
            Status::UpperNonCritical
        } else {
            Status::Ok
        }
    }

    /// `sdr list`'s word: ok, nc, cr, nr, ns.
    pub const fn short(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::LowerNonCritical | Status::UpperNonCritical => "nc",
            Status::LowerCritical | Status::UpperCritical => "cr",
            Status::LowerNonRecoverable | Status::UpperNonRecoverable => "nr",
            Status::NoReading => "ns",
        }
    }

    /// `sdr elist`'s word: ok, lnc, lcr, lnr, unc, ucr, unr, ns.
    pub const fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::LowerNonCritical => "lnc",
            Status::LowerCritical => "lcr",
            Status::LowerNonRecoverable => "lnr",
            Status::UpperNonCritical => "unc",
            Status::UpperCritical => "ucr",
            Status::UpperNonRecoverable => "unr",
            Status::NoReading => "ns",
        }
    }

    /// The severity the Prometheus exporters use: 0 nominal, 1 warning, 2 critical.
    pub const fn severity(self) -> u8 {
        match self {
            Status::Ok | Status::NoReading => 0,
            Status::LowerNonCritical | Status::UpperNonCritical => 1,
            _ => 2,
        }
    }
}

/// One sensor, read: its record, reading, and (for `sensor list`) thresholds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sensor {
    /// Name.
    pub name: String,
    /// SDR record ID.
    pub record_id: u16,
    /// Sensor number.
    pub number: u8,
    /// Sensor type name.
    pub sensor_type: &'static str,
    /// Entity ID and instance.
    pub entity: (u8, u8),
    /// A threshold sensor (else discrete).
    pub threshold: bool,
    /// The converted value (threshold sensors with an analog reading).
    pub value: Option<f64>,
    /// Units as ipmitool writes them ("degrees C", "RPM"; "discrete" for discrete sensors).
    pub unit: String,
    /// Threshold status; for discrete sensors `Ok` with a reading, else `NoReading`.
    pub status: Status,
    /// Thresholds, converted, in the order LNR, LCR, LNC, UNC, UCR, UNR (readable ones only).
    pub thresholds: Option<[Option<f64>; 6]>,
    /// Discrete sensors: the asserted states' texts.
    pub states: Vec<&'static str>,
    /// The record as decoded.
    #[serde(skip)]
    pub record: SensorRecord,
    /// The reading as read (`None`: the BMC had none).
    #[serde(skip)]
    pub reading: Option<Reading>,
    /// Get Sensor Thresholds as answered (when asked for and given).
    #[serde(skip)]
    pub raw_thresholds: Option<Thresholds>,
}

impl Sensor {
    /// A valid reading: answered, scanning enabled, not unavailable.
    pub fn reading_valid(&self) -> bool {
        self.reading.is_some_and(|r| r.scanning && !r.unavailable)
    }

    /// Answered, with scanning disabled.
    pub fn scanning_disabled(&self) -> bool {
        self.reading.is_some_and(|r| !r.scanning)
    }

    /// An analog reading (a full threshold record with analog units).
    pub fn has_analog(&self) -> bool {
        self.threshold && self.record.is_analog()
    }

    /// Event data 2 and 3 of the reading as ipmitool keeps them (0 where absent, and
    /// nothing kept when scanning is disabled).
    pub fn data2_data3(&self) -> (u8, u8) {
        match self.reading {
            Some(r) if r.scanning => (r.status, r.status_high.unwrap_or(0)),
            _ => (0, 0),
        }
    }
}

/// The units of a sensor record, as ipmitool's `ipmi_sdr_get_unit_string` writes them.
pub fn unit_string(s: &SensorRecord) -> String {
    let pct = if s.units.percentage { "% " } else { "" };
    let base = names::unit(s.units.base);
    let modifier = names::unit(s.units.modifier);
    match s.units.modifier_use {
        2 => format!("{pct}{base}*{modifier}"),
        1 => format!("{pct}{base}/{modifier}"),
        _ if s.units.base == 0 && s.units.percentage => "percent".into(),
        _ => format!("{pct}{base}"),
    }
}

/// The texts of a discrete sensor's asserted states (generic tables for event/reading types
/// 02h–0Ch, sensor-specific for 6Fh), joined as ipmitool joins them.
pub fn asserted_states(s: &SensorRecord, states: u16) -> Vec<&'static str> {
    let table: &[names::EventState] = if s.event_type == 0x6F {
        names::SENSOR_SPECIFIC_EVENTS
    } else {
        names::GENERIC_EVENTS
    };
    let code = if s.event_type == 0x6F {
        s.sensor_type
    } else {
        s.event_type
    };
    table
        .iter()
        .filter(|(c, offset, data, _)| {
            *c == code && *data == 0xFF && *offset < 15 && states & (1 << offset) != 0
        })
        .map(|(_, _, _, text)| *text)
        .collect()
}

/// Reads every full and compact record's sensor, with thresholds when `with_thresholds`
/// (threshold sensors only).
pub async fn read_all<B: Bmc + ?Sized>(
    bmc: &B,
    records: &[SdrRecord],
    with_thresholds: bool,
) -> Result<Vec<Sensor>, B::Error> {
    let mut out = Vec::new();
    for r in records {
        let Some(s) = r.sensor() else { continue };
        if s.record_type == 0x03 {
            continue; // event-only: no reading to take
        }
        // A sensor the BMC will not read (a refusal, a short answer) is listed with no
        // reading, as ipmitool lists it; only the carrier's failure ends the listing.
        let mut reading = match answer(bmc, s).await? {
            Answer::Reading(r) => Some(r),
            Answer::NotPresent | Answer::Refused(_) | Answer::Short(_) => None,
        };
        let mut record = std::borrow::Cow::Borrowed(s);
        // Only an analog threshold sensor has a value to convert (ipmitool's
        // sdr_sensor_has_analog_reading): a discrete one keeps its reading as it is.
        if let (Some(rd), Some(c)) = (reading, s.conversion)
            && c.is_non_linear()
            && s.is_threshold()
            && s.is_analog()
            && rd.scanning
            && !rd.unavailable
        {
            match with_reading_factors(bmc, s, rd.raw).await? {
                Some(factored) => record = std::borrow::Cow::Owned(factored),
                None => reading = None,
            }
        }
        let raw_thresholds = if with_thresholds && s.is_threshold() {
            thresholds(bmc, s).await?
        } else {
            None
        };
        out.push(sensor_from(r.id, &record, reading, raw_thresholds));
    }
    Ok(out)
}

/// A sensor from its record, reading and thresholds: what each means, converted.
pub fn sensor_from(
    record_id: u16,
    s: &SensorRecord,
    reading: Option<Reading>,
    raw_thresholds: Option<Thresholds>,
) -> Sensor {
    let mut sensor = Sensor {
        name: s.name.clone(),
        record_id,
        number: s.number,
        sensor_type: names::sensor_type(s.sensor_type),
        entity: (s.entity_id, s.entity_instance),
        threshold: s.is_threshold(),
        value: None,
        unit: String::new(),
        status: Status::NoReading,
        thresholds: None,
        states: Vec::new(),
        record: s.clone(),
        reading,
        raw_thresholds,
    };
    let valid = sensor.reading_valid();
    let (data2, data3) = sensor.data2_data3();
    if sensor.threshold {
        if sensor.has_analog() {
            sensor.unit = unit_string(s);
            if valid {
                sensor.value = reading.and_then(|r| convert_reading(s, r.raw));
            }
        }
        if valid {
            sensor.status = Status::from_bits(data2);
        }
        sensor.thresholds = raw_thresholds.filter(|_| s.is_analog()).map(|t| {
            // LNR, LCR, LNC, UNC, UCR, UNR from the command's LNC, LCR, LNR, UNC, UCR, UNR.
            [2usize, 1, 0, 3, 4, 5].map(|i| {
                (t.readable & (1 << i) != 0)
                    .then(|| convert_reading(s, t.raw[i]))
                    .flatten()
            })
        });
    } else {
        sensor.unit = "discrete".into();
        if valid {
            sensor.status = Status::Ok;
            sensor.states = asserted_states(s, u16::from(data2) | (u16::from(data3 & 0x7F) << 8));
        }
    }
    sensor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::RawResponse;

    /// A full threshold record (01h) for sensor `number`: unsigned, degrees C, readable
    /// value, the given linearization and M (B = 0, no exponents).
    fn full(number: u8, linearization: u8, m: u8) -> SdrRecord {
        let name = format!("Temp{number}");
        let mut r = vec![number, 0, 0x51, 0x01, 0];
        r.extend_from_slice(&[0x20, 0, number, 3, 1, 0x7F, 0x68, 0x01, 0x01]); // 5..=13
        r.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // 14..=19 masks
        r.extend_from_slice(&[0x00, 1, 0, linearization, m, 0, 0, 0, 0, 0]); // 20..=29
        r.extend_from_slice(&[0; 17]); // 30..=46
        r.push(0xC0 | name.len() as u8);
        r.extend_from_slice(name.as_bytes());
        r[4] = (r.len() - 5) as u8;
        SdrRecord::parse(r).unwrap()
    }

    /// Sensor 1 refused (C3h), 2 reads 48, 3 answers one byte, 4 is non-linear (raw 20, and
    /// Get Sensor Reading Factors gives M = 3), 5 is non-linear with its factors refused.
    struct Bmc1;
    impl Bmc for Bmc1 {
        type Error = IpmiError;
        async fn request(&self, r: RawRequest) -> Result<RawResponse, IpmiError> {
            let ok = |d: Vec<u8>| RawResponse::new(CompletionCode::Normal, d);
            Ok(match (r.cmd(), r.data()[0]) {
                (0x2D, 1) => RawResponse::new(CompletionCode::from_byte(0xC3), vec![]),
                (0x2D, 2) => ok(vec![48, 0xC0, 0, 0]),
                (0x2D, 3) => ok(vec![48]),
                (0x2D, 4 | 5) => ok(vec![20, 0xC0, 0, 0]),
                (0x23, 4) => {
                    assert_eq!(r.data(), [4, 20]);
                    ok(vec![21, 3, 0, 0, 0, 0, 0])
                }
                _ => RawResponse::new(CompletionCode::InvalidCommand, vec![]),
            })
        }
    }

    #[tokio::test]
    async fn a_sensor_the_bmc_will_not_read_is_listed_with_no_reading() {
        let records: Vec<SdrRecord> = (1..=3).map(|n| full(n, 0, 1)).collect();
        let sensors = read_all(&Bmc1, &records, false).await.unwrap();
        let values: Vec<(String, bool, Option<f64>)> = sensors
            .iter()
            .map(|s| (s.name.clone(), s.reading_valid(), s.value))
            .collect();
        assert_eq!(
            values,
            [
                ("Temp1".to_string(), false, None),
                ("Temp2".to_string(), true, Some(48.0)),
                ("Temp3".to_string(), false, None),
            ]
        );
        // One sensor at a time still says why.
        let s1 = records[0].sensor().unwrap();
        assert_eq!(
            read(&Bmc1, s1).await.unwrap_err().completion_code(),
            Some(CompletionCode::Timeout)
        );
    }

    #[tokio::test]
    async fn a_non_linear_sensor_is_converted_with_its_reading_factors() {
        let records = [full(4, 0x70, 2), full(5, 0x70, 2)];
        let sensors = read_all(&Bmc1, &records, false).await.unwrap(); // 3 x 20 with the BMC's factors, not 2 x 20 with the record's.
        assert_eq!(sensors[0].value, Some(60.0));
        // Factors refused: no analog value to show, as ipmitool shows none.
        assert!(!sensors[1].reading_valid());
        assert_eq!(sensors[1].value, None);
    }

    #[cfg(feature = "sim")]
    #[tokio::test]
    async fn reading_factors_only_for_an_analog_threshold_sensor() {
        // A discrete sensor, or one with discrete units, has no value to convert: no factors
        // asked, its reading kept (sensor 5's factors would be refused).
        for (at, value) in [(13usize, 0x6F), (20, 0xC0)] {
            let mut raw = full(5, 0x70, 2).raw.clone();
            raw[at] = value;
            let record = SdrRecord::parse(raw).unwrap();
            let bmc = crate::ipmi::test_support::Recording::new(Bmc1);
            let s = read_all(&bmc, &[record], false).await.unwrap();
            assert!(s[0].reading_valid(), "byte {at}");
            assert_eq!(bmc.count(NetFn::SensorEvent, 0x23), 0, "byte {at}");
        }
    }

    #[test]
    fn readings_print_as_ipmitool_prints_them() {
        use crate::ipmi::sdr::format_reading;
        assert_eq!(format_reading(1_303_050_000_000.0), "1303050000000.00");
        assert_eq!(format_reading(-5.0), "-5");
        assert_eq!(format_reading(2.5), "2.50");
        assert_eq!(format_reading(f64::NAN.copysign(-1.0)), "-nan");
        assert_eq!(format_reading(f64::NAN.copysign(1.0)), "nan");
    }
}
