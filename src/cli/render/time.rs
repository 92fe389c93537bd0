//! IPMI timestamps as ipmitool 1.8.19 prints them in the C locale, in UTC (`TZ=UTC`): `%x` is
//! `MM/DD/YY`, `%X` is `HH:MM:SS`, `%c` is `Tue Mar  1 12:00:00 2022`, `%Z` is `UTC`. Stamps
//! below 20000000h count seconds since the BMC started (`S+ ...`).

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Broken-down UTC time: year, month 1–12, day, hour, minute, second, weekday name, day of year
/// (1-based).
struct Tm {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: &'static str,
    yday: u32,
}

fn gmtime(t: u32) -> Tm {
    let secs = t as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let before: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = before[month as usize - 1] + day + u32::from(leap && month > 2);
    Tm {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem / 60 % 60,
        second: rem % 60,
        weekday: DAYS[days.rem_euclid(7) as usize],
        yday,
    }
}

const SPECIAL: u32 = 0x2000_0000;

/// `ipmi_timestamp_numeric`: `%x %X %Z`, or `S+ ...` since BMC start.
pub fn numeric(t: u32) -> String {
    if t == 0xFFFF_FFFF {
        return "Unspecified".into();
    }
    let tm = gmtime(t);
    if t < SPECIAL {
        return since_start(t, &tm, '/');
    }
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02} UTC",
        tm.month,
        tm.day,
        tm.year % 100,
        tm.hour,
        tm.minute,
        tm.second
    )
}

fn since_start(t: u32, tm: &Tm, sep: char) -> String {
    if t < 86_400 {
        format!("S+ {:02}:{:02}:{:02}", tm.hour, tm.minute, tm.second)
    } else if sep == '/' {
        format!(
            "S+ {:02}/{:03} {:02}:{:02}:{:02}",
            tm.year % 100,
            tm.yday,
            tm.hour,
            tm.minute,
            tm.second
        )
    } else {
        format!(
            "S+ {:02} years {:03} days {:02}:{:02}:{:02}",
            tm.year % 100,
            tm.yday,
            tm.hour,
            tm.minute,
            tm.second
        )
    }
}

/// `ipmi_timestamp_date`: `%x`.
pub fn date(t: u32) -> String {
    if t == 0xFFFF_FFFF {
        return "Unspecified".into();
    }
    let tm = gmtime(t);
    if t < SPECIAL {
        return format!("S+ {:02}/{:03}", tm.year % 100, tm.yday);
    }
    format!("{:02}/{:02}/{:02}", tm.month, tm.day, tm.year % 100)
}

/// `ipmi_timestamp_time`: `%X %Z`.
pub fn time(t: u32) -> String {
    if t == 0xFFFF_FFFF {
        return "Unspecified".into();
    }
    let tm = gmtime(t);
    format!("{:02}:{:02}:{:02} UTC", tm.hour, tm.minute, tm.second)
}

/// `ipmi_timestamp_string`: `%c %Z`.
pub fn string(t: u32) -> String {
    if t == 0xFFFF_FFFF {
        return "Unspecified".into();
    }
    let tm = gmtime(t);
    if t < SPECIAL {
        return since_start(t, &tm, ' ');
    }
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {} UTC",
        tm.weekday,
        MONTHS[tm.month as usize - 1],
        tm.day,
        tm.hour,
        tm.minute,
        tm.second,
        tm.year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_ipmitool_prints_them_in_c_locale_utc() {
        // 2022-03-01 12:00:00 UTC (the reference's measurements).
        assert_eq!(numeric(1_646_136_000), "03/01/22 12:00:00 UTC");
        assert_eq!(date(1_646_136_000), "03/01/22");
        assert_eq!(time(1_646_136_000), "12:00:00 UTC");
        assert_eq!(string(1_646_136_000), "Tue Mar  1 12:00:00 2022 UTC");
        assert_eq!(string(820_454_460), "Mon Jan  1 00:01:00 1996 UTC");
        assert_eq!(numeric(10_346), "S+ 02:52:26");
        assert_eq!(numeric(0xFFFF_FFFF), "Unspecified");
        assert_eq!(string(1_678_786_200), "Tue Mar 14 09:30:00 2023 UTC");
    }
}
