//! System Info parameters (App 58h/59h), with set-in-progress, commit and rollback.

use super::*;

/// Sets a System Info string can have: set 0 (14 bytes) plus 16 more (16 bytes each) cover the
/// longest string the one-byte length allows.
pub(super) const SYSINFO_MAX_SET: u8 = 16;
/// Bytes of storage behind those sets.
pub(super) const SYSINFO_CAPACITY: usize = 14 + 16 * SYSINFO_MAX_SET as usize;

#[derive(Clone, Debug)]
pub(super) struct SysInfoString {
    encoding: u8,
    length: u8,
    bytes: [u8; SYSINFO_CAPACITY],
}

impl SysInfoString {
    pub(super) fn new(text: &str) -> Self {
        let mut bytes = [0; SYSINFO_CAPACITY];
        let n = text.len().min(255);
        bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
        SysInfoString {
            encoding: 0,
            length: n as u8,
            bytes,
        }
    }
}

impl SimBmc {
    pub(super) fn get_system_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [flags, param, set, _block] = exact::<4>(d)?;
        let mut out = vec![PARAMETER_REVISION];
        if flags & 0x80 != 0 {
            return Ok(out);
        }
        let state = self.state.lock().expect("BMC state lock");
        match param {
            0 if self.config.sysinfo_set_in_progress => {
                out.push(u8::from(state.staged.is_some()));
            }
            1..=7 => {
                if set > SYSINFO_MAX_SET {
                    return Err(CompletionCode::ParameterOutOfRange);
                }
                let s = &state.sysinfo[param as usize - 1];
                out.push(set);
                if set == 0 {
                    out.extend_from_slice(&[s.encoding, s.length]);
                    out.extend_from_slice(&s.bytes[..14]);
                } else {
                    let start = 14 + 16 * (set as usize - 1);
                    out.extend_from_slice(&s.bytes[start..start + 16]);
                }
            }
            _ => return Err(CompletionCode::CommandSpecific(0x80)),
        }
        Ok(out)
    }

    pub(super) fn set_system_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let (&param, rest) = d
            .split_first()
            .ok_or(CompletionCode::RequestDataLengthInvalid)?;
        let mut state = self.state.lock().expect("BMC state lock");
        match param {
            0 => {
                if !self.config.sysinfo_set_in_progress {
                    return Err(CompletionCode::CommandSpecific(0x80));
                }
                let [value] = exact::<1>(rest)?;
                match value & 0x03 {
                    0 => state.staged = None,
                    1 => {
                        if state.staged.is_some() {
                            return Err(CompletionCode::CommandSpecific(0x81));
                        }
                        state.staged = Some(state.sysinfo.clone());
                    }
                    2 => {
                        if let Some(staged) = state.staged.clone() {
                            state.sysinfo = staged;
                        }
                    }
                    _ => return Err(CompletionCode::InvalidDataField),
                }
                Ok(Vec::new())
            }
            1..=7 => {
                let (&set, block) = rest
                    .split_first()
                    .ok_or(CompletionCode::RequestDataLengthInvalid)?;
                if block.is_empty() || block.len() > 16 {
                    return Err(CompletionCode::RequestDataLengthInvalid);
                }
                if set > SYSINFO_MAX_SET {
                    return Err(CompletionCode::ParameterOutOfRange);
                }
                let state = &mut *state;
                let target = match state.staged.as_mut() {
                    Some(staged) => &mut staged[param as usize - 1],
                    None => &mut state.sysinfo[param as usize - 1],
                };
                if set == 0 {
                    if block.len() < 2 {
                        return Err(CompletionCode::RequestDataLengthInvalid);
                    }
                    if block[0] & 0x0F > 2 {
                        return Err(CompletionCode::InvalidDataField);
                    }
                    target.encoding = block[0] & 0x0F;
                    target.length = block[1];
                    let bytes = &block[2..];
                    target.bytes[..bytes.len()].copy_from_slice(bytes);
                } else {
                    let start = 14 + 16 * (set as usize - 1);
                    target.bytes[start..start + block.len()].copy_from_slice(block);
                }
                Ok(Vec::new())
            }
            _ => Err(CompletionCode::CommandSpecific(0x80)),
        }
    }
}
