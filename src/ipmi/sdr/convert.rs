//! Raw sensor readings to values (IPMI 2.0 §36.3): y = L[(M·x + B·10^K1)·10^K2], computed in
//! `f64` with the C library's `pow`, as ipmitool does, so values print identically.

use super::record::SensorRecord;

/// The value of raw reading `raw` for a full sensor record (`None`: no conversion: not a
/// full record, or no analog reading).
pub fn convert_reading(sensor: &SensorRecord, raw: u8) -> Option<f64> {
    let c = sensor.conversion?;
    let (m, b) = (c.m as f64, c.b as f64);
    let k1 = 10f64.powf(c.b_exp as f64);
    let k2 = 10f64.powf(c.r_exp as f64);
    let x = match sensor.units.analog_format {
        0 => raw as f64,
        // Ones' complement: -0 is 0, and the rest as two's complement after adding one.
        1 => {
            let v = if raw & 0x80 != 0 {
                raw.wrapping_add(1)
            } else {
                raw
            };
            v as i8 as f64
        }
        2 => raw as i8 as f64,
        _ => return None,
    };
    let y = (m * x + b * k1) * k2;
    Some(match c.linearization {
        1 => y.ln(),
        2 => y.log10(),
        3 => y.ln() / 2f64.ln(),
        4 => y.exp(),
        5 => 10f64.powf(y),
        6 => 2f64.powf(y),
        7 => y.powf(-1.0),
        8 => y.powf(2.0),
        9 => y.powf(3.0),
        10 => y.sqrt(),
        11 => y.cbrt(),
        _ => y,
    })
}

/// A converted value as ipmitool's `sdr list` shows it: no decimals when it is a whole
/// number (as C's `(int)` cast sees it), else two; not-a-number as glibc's printf writes it.
pub fn format_reading(value: f64) -> String {
    if value.is_nan() {
        nan(value).to_string()
    } else if value == (value as i32) as f64 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// glibc's printf spelling of a NaN, by its sign bit (`ln` of a negative number is `-nan`).
pub fn nan(value: f64) -> &'static str {
    if value.is_sign_negative() {
        "-nan"
    } else {
        "nan"
    }
}
