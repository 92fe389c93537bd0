//! Chassis (NetFn 00h), DCMI (2Ch), the watchdog, users and channel access (App), and sensor
//! thresholds (04h 27h): what the simulated BMC needs to serve the whole catalog.

use super::*;
use crate::ipmi::sdr::SdrRecord;

/// A BMC user on the simulated LAN channel.
#[derive(Clone, Debug)]
pub(super) struct SimUser {
    pub name: &'static str,
    pub enabled: bool,
    pub messaging: bool,
    pub privilege: u8,
}

/// The simulated BMC's users: 1 the anonymous user (no access), 2 `root` (administrator);
/// 3–16 unused.
pub(super) fn default_users() -> Vec<SimUser> {
    let mut users = vec![
        SimUser {
            name: "",
            enabled: false,
            messaging: false,
            privilege: 0x0F,
        },
        SimUser {
            name: "root",
            enabled: true,
            messaging: true,
            privilege: 4,
        },
    ];
    users.resize(
        16,
        SimUser {
            name: "",
            enabled: false,
            messaging: false,
            privilege: 0x0F,
        },
    );
    users
}

impl SimBmc {
    pub(super) fn chassis_status(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        no_data(d)?;
        let s = self.state();
        // Byte 3 bits 5:4: 00b off, 01b temporary (timed) on, 10b indefinite on (§28.2).
        let identify = if s.identify_forced {
            0x60
        } else if s
            .identify_until
            .is_some_and(|t| std::time::Instant::now() < t)
        {
            0x50
        } else {
            0x40
        };
        // Restore policy "previous" (01b); last event: by command after a control.
        Ok(vec![
            0x20 | u8::from(s.power_on),
            if s.power_commanded { 0x10 } else { 0 },
            identify,
            0x00,
        ])
    }

    pub(super) fn chassis_control(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [action] = exact::<1>(d)?;
        let mut s = self.state();
        match action {
            0 | 5 => s.power_on = false,
            1..=3 => s.power_on = true,
            4 => {}
            _ => return Err(CompletionCode::InvalidDataField),
        }
        s.power_commanded = true;
        Ok(Vec::new())
    }

    pub(super) fn chassis_identify(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        if d.len() > 2 {
            return Err(CompletionCode::RequestDataLengthInvalid);
        }
        // Byte 1: the interval in seconds (0 off; 15 s when absent); byte 2 bit 0: on until
        // told otherwise, whatever the interval (§28.5).
        let (seconds, forced) = match d {
            [] => (15, false),
            [seconds] => (*seconds, false),
            [seconds, force] => (*seconds, *force & 1 != 0),
            _ => unreachable!("length checked"),
        };
        let mut s = self.state();
        s.identify_forced = forced;
        s.identify_until = (!forced && seconds != 0)
            .then(|| std::time::Instant::now() + std::time::Duration::from_secs(seconds.into()));
        Ok(Vec::new())
    }

    pub(super) fn set_boot_options(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let (&param, value) = d
            .split_first()
            .ok_or(CompletionCode::RequestDataLengthInvalid)?;
        let mut s = self.state();
        match (param & 0x7F, value) {
            (0, [v]) => {
                // Set in progress: 0 complete, 1 in progress, 2 commit.
                if *v == 1 && s.boot_in_progress {
                    return Err(CompletionCode::CommandSpecific(0x81));
                }
                s.boot_in_progress = *v == 1;
            }
            (4, [_, _]) => {}
            (5, [a, b, c, e, f]) => s.boot_flags = [*a, *b, *c, *e, *f],
            (0 | 4 | 5, _) => return Err(CompletionCode::RequestDataLengthInvalid),
            _ => return Err(CompletionCode::CommandSpecific(0x80)),
        }
        Ok(Vec::new())
    }

    pub(super) fn dcmi_power_reading(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [group, mode, _, _] = exact::<4>(d)?;
        if group != 0xDC || mode != 1 {
            return Err(CompletionCode::InvalidDataField);
        }
        let on = self.state().power_on;
        let w = |v: u16| if on { v } else { 0 }.to_le_bytes();
        let (cur, min, max, avg) = (w(312), w(288), w(405), w(330));
        let ts = (self.state().last_sel_add + 3600).to_le_bytes();
        let period = 1_000_000u32.to_le_bytes();
        let mut out = vec![0xDC];
        for part in [&cur[..], &min, &max, &avg, &ts, &period] {
            out.extend_from_slice(part);
        }
        out.push(0x40);
        Ok(out)
    }

    pub(super) fn get_watchdog(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        no_data(d)?;
        // SMS/OS use, stopped, hard reset on expiry, 300 s.
        Ok(vec![0x04, 0x01, 0x00, 0x00, 0xB8, 0x0B, 0xB8, 0x0B])
    }

    pub(super) fn get_user_access(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [channel, id] = exact::<2>(d)?;
        let channel = channel & 0x0F;
        if channel != 0x0E && self.lan_channel(channel).is_none() {
            return Err(CompletionCode::InvalidDataField);
        }
        let s = self.state();
        let id = (id & 0x3F) as usize;
        let user = s
            .users
            .get(id.wrapping_sub(1))
            .ok_or(CompletionCode::InvalidDataField)?;
        let enabled = s.users.iter().filter(|u| u.enabled).count() as u8;
        let status = if user.enabled { 0x40 } else { 0x80 };
        Ok(vec![
            s.users.len() as u8,
            status | enabled,
            0x01,
            (u8::from(user.messaging) << 4) | user.privilege,
        ])
    }

    pub(super) fn get_user_name(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [id] = exact::<1>(d)?;
        let s = self.state();
        let user = s
            .users
            .get(((id & 0x3F) as usize).wrapping_sub(1))
            .ok_or(CompletionCode::InvalidDataField)?;
        let mut name = user.name.as_bytes().to_vec();
        name.resize(16, 0);
        Ok(name)
    }

    /// Get Channel Cipher Suites, listed by suite: 3 and 17 (HMAC-SHA1/SHA256 with AES), no
    /// suite 0.
    pub(super) fn get_cipher_suites(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [channel, _payload, index] = exact::<3>(d)?;
        let channel = channel & 0x0F;
        if self.lan_channel(channel).is_none() {
            return Err(CompletionCode::InvalidDataField);
        }
        let records = [0xC0, 0x03, 0x01, 0x41, 0x81, 0xC0, 0x11, 0x03, 0x44, 0x81];
        let start = ((index & 0x3F) as usize) * 16;
        let mut out = vec![channel];
        out.extend(records.iter().skip(start).take(16));
        Ok(out)
    }

    pub(super) fn get_channel_access(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [channel, _which] = exact::<2>(d)?;
        self.lan_channel(channel & 0x0F)
            .ok_or(CompletionCode::InvalidDataField)?;
        // Always available, per-message authentication on; administrator limit.
        Ok(vec![0x02, 0x04])
    }

    /// Get Sensor Thresholds from the SDR repository's full records.
    pub(super) fn sensor_thresholds(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [number] = exact::<1>(d)?;
        let record = super::sdr::repository()
            .iter()
            .filter_map(|r| SdrRecord::parse(r.to_vec()).ok())
            .find(|r| r.sensor().is_some_and(|s| s.number == number))
            .ok_or(CompletionCode::NotPresent)?;
        let s = record.sensor().expect("found as a sensor");
        let limits = s.limits.ok_or(CompletionCode::InvalidCommand)?;
        // SDR order UNR, UCR, UNC, LNR, LCR, LNC; the command's LNC, LCR, LNR, UNC, UCR, UNR.
        let t = limits.thresholds;
        Ok(vec![
            s.readable_thresholds(),
            t[5],
            t[4],
            t[3],
            t[2],
            t[1],
            t[0],
        ])
    }
}
