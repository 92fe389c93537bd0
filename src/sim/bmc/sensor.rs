//! Sensor/Event (NetFn 04h): Get Sensor Reading for the SDR repository's sensors.

use super::*;

/// The same R630's readings for those sensors (Get Sensor Reading data): 44 → 5280 RPM, and
/// 153 → 25 °C.
pub(super) const SENSOR_READINGS: [(u8, [u8; 3]); 2] =
    [(0x32, [0x2C, 0xC0, 0xC0]), (0x04, [0x99, 0xC0, 0xC0])];

impl SimBmc {
    pub(super) fn sensor_reading(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [number] = exact::<1>(d)?;
        SENSOR_READINGS
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, r)| r.to_vec())
            .or_else(|| super::sdr::reading(number).map(|r| r.to_vec()))
            .ok_or(CompletionCode::NotPresent)
    }
}
