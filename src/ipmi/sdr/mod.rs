//! The SDR repository (IPMI 2.0 §33): its info, and reading every record.
//!
//! Each record is asked for whole (`Get SDR`, 0xFF bytes: one request per record, which is what
//! matters when each request is a WinRM round trip). A BMC that cannot return that many bytes
//! (C7h, C8h, CAh, FFh) gets the header and then chunks of 32 bytes, shrinking to 16 and 8; a
//! reservation cancelled mid-walk (C5h) is renewed and the record read again.

pub mod cache;
mod convert;
mod record;

pub use cache::{CacheOutcome, SdrCache, SdrKey};
pub use convert::{convert_reading, format_reading, nan};
pub use record::{
    Conversion, FruLocator, Limits, McLocator, RecordError, RecordKind, SdrRecord, SensorRecord,
    Units,
};

use serde::Serialize;

use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest};

/// Renewed reservations per walk before giving up.
const MAX_RESERVATIONS: u32 = 5;
/// Chunk sizes after a BMC refuses a whole record.
const CHUNKS: [u8; 3] = [32, 16, 8];

/// Get SDR Repository Info (§33.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RepositoryInfo {
    /// SDR version (51h: IPMI 1.5/2.0).
    pub version: u8,
    /// Record count.
    pub records: u16,
    /// Free space in bytes (FFFFh unspecified).
    pub free: u16,
    /// Most recent addition (seconds since 1970; FFFFFFFFh none).
    pub last_add: u32,
    /// Most recent erase.
    pub last_erase: u32,
    /// Operation support flags.
    pub operations: u8,
}

/// Reads the repository's info.
pub async fn repository_info<B: Bmc + ?Sized>(bmc: &B) -> Result<RepositoryInfo, B::Error> {
    let r = bmc
        .request(RawRequest::new(NetFn::Storage, 0x20, Vec::new())?)
        .await?;
    if !r.completion.is_success() {
        return Err(IpmiError::Completion {
            netfn: NetFn::Storage,
            cmd: 0x20,
            code: r.completion,
        }
        .into());
    }
    let d = &r.data;
    if d.len() < 14 {
        return Err(IpmiError::malformed(
            "Get SDR Repository Info",
            format!("expected 14 bytes, got {}", d.len()),
        )
        .into());
    }
    let word = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
    let dword = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
    Ok(RepositoryInfo {
        version: d[0],
        records: word(1),
        free: word(3),
        last_add: dword(5),
        last_erase: dword(9),
        operations: d[13],
    })
}

/// Reserve SDR Repository (0Ah 22h); 0000h where the BMC has no reservations.
async fn reserve<B: Bmc + ?Sized>(bmc: &B) -> Result<u16, B::Error> {
    let r = bmc
        .request(RawRequest::new(NetFn::Storage, 0x22, Vec::new())?)
        .await?;
    match r.completion {
        CompletionCode::Normal if r.data.len() >= 2 => {
            Ok(u16::from_le_bytes([r.data[0], r.data[1]]))
        }
        CompletionCode::Normal => {
            Err(IpmiError::malformed("Reserve SDR Repository", "no reservation ID").into())
        }
        // No reservations: whole-record reads need none.
        CompletionCode::InvalidCommand => Ok(0),
        code => Err(IpmiError::Completion {
            netfn: NetFn::Storage,
            cmd: 0x22,
            code,
        }
        .into()),
    }
}

/// One Get SDR: the next record ID and the bytes read, or the completion code.
async fn get_sdr<B: Bmc + ?Sized>(
    bmc: &B,
    reservation: u16,
    id: u16,
    offset: u8,
    count: u8,
) -> Result<Result<(u16, Vec<u8>), CompletionCode>, B::Error> {
    let [r0, r1] = reservation.to_le_bytes();
    let [i0, i1] = id.to_le_bytes();
    let request = RawRequest::new(NetFn::Storage, 0x23, vec![r0, r1, i0, i1, offset, count])?;
    let response = bmc.request(request).await?;
    if !response.completion.is_success() {
        return Ok(Err(response.completion));
    }
    let d = response.data;
    if d.len() < 2 {
        return Err(IpmiError::malformed("Get SDR", "no next record ID").into());
    }
    Ok(Ok((u16::from_le_bytes([d[0], d[1]]), d[2..].to_vec())))
}

fn too_many_bytes(code: CompletionCode) -> bool {
    matches!(code.byte(), 0xC7 | 0xC8 | 0xCA | 0xFF)
}

/// Every record, first to last, decoded. Records that do not decode are errors: a repository
/// that lies about lengths is not shown half-read.
pub async fn read_repository<B: Bmc + ?Sized>(bmc: &B) -> Result<Vec<SdrRecord>, B::Error> {
    let mut reservation = reserve(bmc).await?;
    let mut renewed = 0;
    // `None` until a BMC refuses a whole record; then the index into CHUNKS.
    let mut chunk: Option<usize> = None;
    let mut id = 0u16;
    let mut records = Vec::new();
    // Record IDs asked for: a chain that points back to one of them would never end.
    let mut asked = std::collections::HashSet::from([id]);
    let fail = |code| IpmiError::Completion {
        netfn: NetFn::Storage,
        cmd: 0x23,
        code,
    };
    loop {
        let read = match chunk {
            None => match get_sdr(bmc, reservation, id, 0, 0xFF).await? {
                Ok(r) => Ok(r),
                Err(code) if too_many_bytes(code) => {
                    chunk = Some(0);
                    continue;
                }
                Err(code) => Err(code),
            },
            Some(size) => read_in_chunks(bmc, reservation, id, CHUNKS[size]).await?,
        };
        let (next, mut raw) = match read {
            Ok(r) => r,
            Err(CompletionCode::ReservationCanceled) if renewed < MAX_RESERVATIONS => {
                renewed += 1;
                reservation = reserve(bmc).await?;
                continue;
            }
            Err(code) if too_many_bytes(code) && chunk.is_some_and(|c| c + 1 < CHUNKS.len()) => {
                chunk = chunk.map(|c| c + 1);
                continue;
            }
            // An empty repository answers "not present" for the first record.
            Err(CompletionCode::NotPresent) if id == 0 && records.is_empty() => {
                return Ok(records);
            }
            Err(code) => return Err(fail(code).into()),
        };
        // A whole-record read may bring bytes past the record (ipmi_sim does): the header's
        // length says where it ends. One that brings fewer is read again in parts.
        match raw.get(4).map(|l| 5 + *l as usize) {
            Some(len) if raw.len() >= len => raw.truncate(len),
            _ if chunk.is_none() => {
                chunk = Some(0);
                continue;
            }
            _ => {}
        }
        let record =
            SdrRecord::parse(raw).map_err(|e| IpmiError::malformed("Get SDR", e.to_string()))?;
        records.push(record);
        if next == 0xFFFF {
            return Ok(records);
        }
        if records.len() > u16::MAX as usize || !asked.insert(next) {
            return Err(IpmiError::malformed(
                "Get SDR",
                format!("the record chain does not end (next {next:#06x} was read before)"),
            )
            .into());
        }
        id = next;
    }
}

/// A record read as its 5-byte header, then the body in `size`-byte chunks.
async fn read_in_chunks<B: Bmc + ?Sized>(
    bmc: &B,
    reservation: u16,
    id: u16,
    size: u8,
) -> Result<Result<(u16, Vec<u8>), CompletionCode>, B::Error> {
    let (next, mut raw) = match get_sdr(bmc, reservation, id, 0, 5).await? {
        Ok(r) => r,
        Err(code) => return Ok(Err(code)),
    };
    if raw.len() != 5 {
        return Err(IpmiError::malformed(
            "Get SDR",
            format!("asked for the 5-byte header, got {} bytes", raw.len()),
        )
        .into());
    }
    let total = 5 + raw[4] as usize;
    while raw.len() < total {
        let want = (total - raw.len()).min(size as usize) as u8;
        // The offset is one byte: a record longer than 255 bytes cannot be read in parts.
        let offset = u8::try_from(raw.len()).map_err(|_| {
            IpmiError::malformed("Get SDR", format!("record {id:#06x} is over 255 bytes"))
        })?;
        match get_sdr(bmc, reservation, id, offset, want).await? {
            Ok((_, part)) if !part.is_empty() && part.len() <= want as usize => {
                raw.extend_from_slice(&part)
            }
            Ok((_, part)) => {
                return Err(IpmiError::malformed(
                    "Get SDR",
                    format!("asked for {want} bytes, got {}", part.len()),
                )
                .into());
            }
            Err(code) => return Ok(Err(code)),
        }
    }
    Ok(Ok((next, raw)))
}
