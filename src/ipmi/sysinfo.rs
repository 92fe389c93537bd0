//! System Info strings (parameters 1–7): reading them across blocks, and writing them atomically
//! with the set-in-progress handshake, then reading back.
//!
//! A string is stored in 16-byte sets. Set 0 carries the encoding, the total length and the
//! first 14 bytes; set *n* carries the next 16 (IPMI 2.0 Table 22-16a).

use serde::Serialize;

use super::app::{GetSystemInfoParameters, SetSystemInfoParameters, SystemInfoParameter};
use super::{Bmc, CompletionCode, IpmiError, execute, try_execute};

/// The longest string the one-byte length field allows.
pub const MAX_STRING_BYTES: usize = 255;

/// Bytes of a string in set 0 and in each later set.
const FIRST_SET_BYTES: usize = 14;
const SET_BYTES: usize = 16;

/// Parameter 0 values.
const SET_COMPLETE: u8 = 0x00;
const SET_IN_PROGRESS: u8 = 0x01;
const COMMIT_WRITE: u8 = 0x02;

/// Completion code 80h of Get/Set System Info Parameters.
const PARAMETER_NOT_SUPPORTED: CompletionCode = CompletionCode::CommandSpecific(0x80);

/// How a System Info string is encoded (set 0, byte 1, bits 3:0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StringEncoding {
    /// 0: ASCII+Latin-1.
    Latin1,
    /// 1: UTF-8.
    Utf8,
    /// 2: Unicode, as UCS-2 least-significant byte first.
    Ucs2,
    /// Reserved values, kept.
    Other(u8),
}

impl StringEncoding {
    /// From the nibble.
    pub const fn from_nibble(b: u8) -> Self {
        match b & 0x0F {
            0 => StringEncoding::Latin1,
            1 => StringEncoding::Utf8,
            2 => StringEncoding::Ucs2,
            b => StringEncoding::Other(b),
        }
    }

    /// The nibble.
    pub const fn nibble(self) -> u8 {
        match self {
            StringEncoding::Latin1 => 0,
            StringEncoding::Utf8 => 1,
            StringEncoding::Ucs2 => 2,
            StringEncoding::Other(b) => b & 0x0F,
        }
    }

    /// The smallest encoding that holds `text`: Latin-1 if every character fits, else UTF-8.
    pub fn for_text(text: &str) -> Self {
        if text.chars().all(|c| (c as u32) < 0x100) {
            StringEncoding::Latin1
        } else {
            StringEncoding::Utf8
        }
    }

    /// Encodes `text`; characters the encoding cannot hold are an error.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, IpmiError> {
        match self {
            StringEncoding::Latin1 => text
                .chars()
                .map(|c| {
                    u8::try_from(c as u32).map_err(|_| {
                        IpmiError::InvalidArgument(format!(
                            "{c:?} cannot be written in ASCII+Latin-1; use UTF-8"
                        ))
                    })
                })
                .collect(),
            StringEncoding::Utf8 => Ok(text.as_bytes().to_vec()),
            StringEncoding::Ucs2 => text
                .chars()
                .map(|c| {
                    u16::try_from(c as u32)
                        .ok()
                        .filter(|u| !(0xD800..0xE000).contains(u))
                        .map(u16::to_le_bytes)
                        .ok_or_else(|| {
                            IpmiError::InvalidArgument(format!("{c:?} is outside UCS-2; use UTF-8"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.concat()),
            StringEncoding::Other(b) => Err(IpmiError::InvalidArgument(format!(
                "string encoding {b} is reserved"
            ))),
        }
    }

    /// Decodes bytes read from the BMC. Invalid UTF-8 / UCS-2 is replaced with U+FFFD rather
    /// than failing: the raw bytes are kept beside the text.
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            StringEncoding::Latin1 | StringEncoding::Other(_) => {
                bytes.iter().map(|&b| b as char).collect()
            }
            StringEncoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            StringEncoding::Ucs2 => {
                let units: Vec<u16> = bytes
                    .chunks(2)
                    .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect();
                String::from_utf16_lossy(&units)
            }
        }
    }
}

/// A System Info string read from the BMC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemInfoString {
    /// Encoding.
    pub encoding: StringEncoding,
    /// The decoded text, trailing NULs removed.
    pub text: String,
    /// The bytes as stored (exactly the declared length).
    pub raw: Vec<u8>,
}

/// Reads string parameter `parameter`. `None` if the BMC does not support it (completion code
/// 80h, "parameter not supported").
pub async fn read_string<B: Bmc + ?Sized>(
    bmc: &B,
    parameter: SystemInfoParameter,
) -> Result<Option<SystemInfoString>, B::Error> {
    const CMD: &str = "Get System Info Parameters";
    let first = match try_execute(bmc, GetSystemInfoParameters::new(parameter, 0)).await? {
        Ok(first) => first,
        Err(refused) if refused.code == PARAMETER_NOT_SUPPORTED => return Ok(None),
        Err(refused) => return Err(IpmiError::from(refused).into()),
    };
    let d = &first.data;
    if d.len() < 3 {
        return Err(IpmiError::malformed(
            CMD,
            format!("set 0 has {} bytes, expected at least 3", d.len()),
        )
        .into());
    }
    if d[0] != 0 {
        return Err(IpmiError::malformed(CMD, format!("asked for set 0, got set {}", d[0])).into());
    }
    let encoding = StringEncoding::from_nibble(d[1]);
    let length = d[2] as usize;
    let mut raw = Vec::with_capacity(length);
    raw.extend_from_slice(&d[3..d.len().min(3 + FIRST_SET_BYTES)]);
    let mut set: u8 = 1;
    while raw.len() < length {
        let block = execute(bmc, GetSystemInfoParameters::new(parameter, set)).await?;
        let b = &block.data;
        if b.first() != Some(&set) {
            return Err(IpmiError::malformed(
                CMD,
                format!("asked for set {set}, got {:?}", b.first()),
            )
            .into());
        }
        let bytes = &b[1..b.len().min(1 + SET_BYTES)];
        if bytes.is_empty() {
            return Err(IpmiError::malformed(CMD, format!("set {set} is empty")).into());
        }
        raw.extend_from_slice(bytes);
        set = set
            .checked_add(1)
            .ok_or_else(|| IpmiError::malformed(CMD, "more than 255 sets"))?;
    }
    raw.truncate(length);
    let mut text = encoding.decode(&raw);
    text.truncate(text.trim_end_matches('\0').len());
    Ok(Some(SystemInfoString {
        encoding,
        text,
        raw,
    }))
}

/// Builds the Set System Info Parameters data for each set of a string: ipmitool's fixed
/// 16-byte blocks, zero-padded, as many as `len + 2` bytes need (at least one).
pub fn string_sets(encoding: StringEncoding, bytes: &[u8]) -> Result<Vec<Vec<u8>>, IpmiError> {
    if bytes.len() > MAX_STRING_BYTES {
        return Err(IpmiError::InvalidArgument(format!(
            "the string is {} bytes encoded; a System Info string holds at most {MAX_STRING_BYTES}",
            bytes.len()
        )));
    }
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.push(encoding.nibble());
    framed.push(bytes.len() as u8);
    framed.extend_from_slice(bytes);
    Ok(framed
        .chunks(SET_BYTES)
        .enumerate()
        .map(|(set, chunk)| {
            let mut block = Vec::with_capacity(SET_BYTES + 1);
            block.push(set as u8);
            block.extend_from_slice(chunk);
            block.resize(SET_BYTES + 1, 0);
            block
        })
        .collect())
}

/// Checks that `text` can be written to `parameter` in `encoding` (before any traffic), and
/// returns the Set System Info Parameters data blocks that carry it.
pub fn validate_string(
    parameter: SystemInfoParameter,
    text: &str,
    encoding: StringEncoding,
) -> Result<Vec<Vec<u8>>, IpmiError> {
    encode_string(parameter, text, encoding).map(|(_, sets)| sets)
}

/// The encoded string and its data blocks.
fn encode_string(
    parameter: SystemInfoParameter,
    text: &str,
    encoding: StringEncoding,
) -> Result<(Vec<u8>, Vec<Vec<u8>>), IpmiError> {
    if matches!(parameter, SystemInfoParameter::SetInProgress) {
        return Err(IpmiError::InvalidArgument(
            "parameter 0 (set in progress) is not a string".into(),
        ));
    }
    let bytes = encoding.encode(text)?;
    let sets = string_sets(encoding, &bytes)?;
    Ok((bytes, sets))
}

/// Writes string parameter `parameter` and reads it back.
///
/// The write is bracketed by the set-in-progress handshake (parameter 0: *set in progress*,
/// the blocks, *commit write*, *set complete*), so a BMC that supports it commits all blocks at
/// once. If a block fails, the handshake is closed with *set complete* without *commit write*,
/// which a BMC with rollback takes as "discard". BMCs that do not implement parameter 0
/// (completion code 80h) are written block by block. The value is then read back and compared;
/// a difference is [`IpmiError::VerifyFailed`].
pub async fn write_string<B: Bmc + ?Sized>(
    bmc: &B,
    parameter: SystemInfoParameter,
    text: &str,
    encoding: StringEncoding,
) -> Result<SystemInfoString, B::Error> {
    let (bytes, sets) = encode_string(parameter, text, encoding)?;

    let handshake = match try_execute(bmc, set_in_progress(SET_IN_PROGRESS)).await? {
        Ok(()) => true,
        Err(refused) if refused.code == PARAMETER_NOT_SUPPORTED => false,
        Err(refused) => return Err(IpmiError::from(refused).into()),
    };
    for set in sets {
        let written = execute(
            bmc,
            SetSystemInfoParameters {
                parameter,
                data: set,
            },
        )
        .await;
        if let Err(e) = written {
            if handshake {
                // Best effort: a failure here must not hide the error that caused it.
                let _ = execute(bmc, set_in_progress(SET_COMPLETE)).await;
            }
            return Err(e);
        }
    }
    if handshake {
        // Commit-write is optional (a BMC may refuse it): set complete is sent whatever its
        // answer, then its failure reported, so the lock is never left held.
        let committed = execute(bmc, set_in_progress(COMMIT_WRITE)).await;
        let completed = execute(bmc, set_in_progress(SET_COMPLETE)).await;
        committed?;
        completed?;
    }

    let read = read_string(bmc, parameter).await?;
    match read {
        Some(r) if r.raw == bytes && r.encoding == encoding => Ok(r),
        other => Err(IpmiError::VerifyFailed {
            what: format!(
                "System Info parameter {} ({})",
                parameter.selector(),
                parameter.name()
            ),
            written: text.to_string(),
            read: other
                .map(|r| r.text)
                .unwrap_or_else(|| "<parameter not supported>".into()),
        }
        .into()),
    }
}

/// Set System Info Parameters for parameter 0 (set in progress).
fn set_in_progress(value: u8) -> SetSystemInfoParameters {
    SetSystemInfoParameters {
        parameter: SystemInfoParameter::SetInProgress,
        data: vec![value],
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::ipmi::test_support::Recording;
    use crate::ipmi::{NetFn, RawRequest};
    use crate::sim::{BmcConfig, SimBmc};

    fn bmc() -> Recording<SimBmc> {
        Recording::new(SimBmc::new(BmcConfig::default()))
    }

    /// The OS name written in Latin-1, as most tests here write it.
    async fn write_os_name<B: Bmc + ?Sized>(
        bmc: &B,
        text: &str,
    ) -> Result<SystemInfoString, B::Error> {
        write_string(
            bmc,
            SystemInfoParameter::OsName,
            text,
            StringEncoding::Latin1,
        )
        .await
    }

    #[test]
    fn sets_are_ipmitool_fixed_blocks() {
        let sets = string_sets(StringEncoding::Latin1, b"abc").unwrap();
        assert_eq!(
            sets,
            vec![vec![
                0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]]
        );
        // 14 bytes fill set 0 exactly; the 15th opens set 1.
        assert_eq!(
            string_sets(StringEncoding::Latin1, &[b'x'; 14])
                .unwrap()
                .len(),
            1
        );
        let sets = string_sets(StringEncoding::Latin1, &[b'x'; 15]).unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[1][..2], [1, b'x']);
        assert!(sets.iter().all(|s| s.len() == 17));
        assert_eq!(
            string_sets(StringEncoding::Latin1, &[b'x'; 255])
                .unwrap()
                .len(),
            17
        );
        assert!(matches!(
            string_sets(StringEncoding::Latin1, &[b'x'; 256]),
            Err(IpmiError::InvalidArgument(_))
        ));
        // An empty string is one set holding length 0 (the seed module's "clear").
        assert_eq!(
            string_sets(StringEncoding::Utf8, b"").unwrap()[0][..3],
            [0, 1, 0]
        );
    }

    #[tokio::test]
    async fn write_commits_with_handshake_and_reads_back() {
        let bmc = bmc();
        let os = "Microsoft Windows Server 2022 Datacenter";
        let r = write_os_name(&bmc, os).await.unwrap();
        assert_eq!(r.text, os);
        // param 0 in-progress, 3 blocks (40 + 2 bytes), commit, complete = 6 sets.
        assert_eq!(bmc.count(NetFn::App, 0x58), 6);
        let log = bmc.requests();
        let sets: Vec<&[u8]> = log
            .iter()
            .filter(|r| r.cmd() == 0x58)
            .map(|r| r.data())
            .collect();
        assert_eq!(sets[0], [0, 1]);
        assert_eq!(sets[4], [0, 2]);
        assert_eq!(sets[5], [0, 0]);
        assert!(sets[1..4].iter().all(|s| s.len() == 18 && s[0] == 4));
        let again = read_string(&bmc, SystemInfoParameter::OsName)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.text, os);
        assert_eq!(again.encoding, StringEncoding::Latin1);
    }

    #[tokio::test]
    async fn longest_string_and_other_encodings() {
        let bmc = bmc();
        let long: String =
            std::iter::repeat_n("0123456789", 26).collect::<String>()[..255].to_string();
        let r = write_string(
            &bmc,
            SystemInfoParameter::SystemName,
            &long,
            StringEncoding::Latin1,
        )
        .await
        .unwrap();
        assert_eq!(r.text, long);
        let utf8 = "Windows Server 2025 — Straße ✓";
        let r = write_string(
            &bmc,
            SystemInfoParameter::PrimaryOsName,
            utf8,
            StringEncoding::Utf8,
        )
        .await
        .unwrap();
        assert_eq!(r.text, utf8);
        let r = write_string(
            &bmc,
            SystemInfoParameter::PresentOsVersion,
            "10.0 Ω",
            StringEncoding::Ucs2,
        )
        .await
        .unwrap();
        assert_eq!(r.text, "10.0 Ω");
        assert_eq!(r.raw.len(), 12);
        assert_eq!(StringEncoding::for_text("Straße"), StringEncoding::Latin1);
        assert_eq!(StringEncoding::for_text("✓"), StringEncoding::Utf8);
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_any_traffic() {
        let bmc = bmc();
        let e = write_os_name(&bmc, &"x".repeat(256)).await.unwrap_err();
        assert!(matches!(e, IpmiError::InvalidArgument(_)), "{e}");
        let e = write_os_name(&bmc, "✓").await.unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        let e = write_string(
            &bmc,
            SystemInfoParameter::OsName,
            "😀",
            StringEncoding::Ucs2,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, IpmiError::InvalidArgument(_)));
        assert_eq!(bmc.total(), 0);
    }

    #[tokio::test]
    async fn a_failed_block_rolls_back() {
        fn is_block(r: &RawRequest) -> bool {
            r.cmd() == 0x58 && r.data()[0] == 4
        }
        let bmc = Recording::new(SimBmc::new(BmcConfig::default())).failing(
            is_block,
            1,
            CompletionCode::Unspecified,
        );
        write_os_name(&bmc.inner, "old value").await.unwrap();
        let e = write_os_name(&bmc, &"n".repeat(40)).await.unwrap_err();
        assert_eq!(e.completion_code(), Some(CompletionCode::Unspecified));
        // The handshake was closed without commit: the old value stands, nothing half-written.
        let log = bmc.requests();
        let last = log.iter().rev().find(|r| r.cmd() == 0x58).unwrap();
        assert_eq!(last.data(), [0, 0]);
        let now = read_string(&bmc.inner, SystemInfoParameter::OsName)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.text, "old value");
    }

    #[tokio::test]
    async fn a_refused_commit_write_still_completes_the_handshake() {
        fn is_commit(r: &RawRequest) -> bool {
            r.cmd() == 0x58 && r.data() == [0, 2]
        }
        let bmc = Recording::new(SimBmc::new(BmcConfig::default())).failing(
            is_commit,
            0,
            CompletionCode::from_byte(0xCC),
        );
        let e = write_os_name(&bmc, "x").await.unwrap_err();
        assert_eq!(e.completion_code().map(|c| c.byte()), Some(0xCC));
        let last = bmc.requests().into_iter().rev().find(|r| r.cmd() == 0x58);
        assert_eq!(last.unwrap().data(), [0, 0], "set complete sent last");
        // The next writer is not locked out.
        write_os_name(&bmc.inner, "y").await.unwrap();
    }

    #[tokio::test]
    async fn bmc_without_set_in_progress_still_writes() {
        let bmc = Recording::new(SimBmc::new(BmcConfig {
            sysinfo_set_in_progress: false,
            ..BmcConfig::default()
        }));
        let r = write_os_name(&bmc, "Windows").await.unwrap();
        assert_eq!(r.text, "Windows");
        // The refused param-0 request, then one block: no commit requests.
        assert_eq!(bmc.count(NetFn::App, 0x58), 2);
    }

    #[tokio::test]
    async fn a_concurrent_writer_is_reported() {
        let bmc = SimBmc::new(BmcConfig::default());
        bmc.handle(&RawRequest::new(NetFn::App, 0x58, vec![0, 1]).unwrap());
        let e = write_os_name(&bmc, "x").await.unwrap_err();
        assert_eq!(
            e.completion_code(),
            Some(CompletionCode::CommandSpecific(0x81))
        );
        assert!(e.to_string().contains("'set in progress'"), "{e}");
    }

    #[tokio::test]
    async fn unsupported_parameter_reads_as_none_and_firmware_version_reads() {
        let bmc = bmc();
        assert_eq!(
            read_string(&bmc, SystemInfoParameter::Other(0x20))
                .await
                .unwrap(),
            None
        );
        let fw = read_string(&bmc, SystemInfoParameter::FirmwareVersion)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fw.text, "2.19.1");
        assert_eq!(
            SystemInfoParameter::parse("os_name"),
            Some(SystemInfoParameter::OsName)
        );
        assert_eq!(
            SystemInfoParameter::parse("0x03"),
            Some(SystemInfoParameter::PrimaryOsName)
        );
        assert_eq!(SystemInfoParameter::parse("nope"), None);
    }
}
