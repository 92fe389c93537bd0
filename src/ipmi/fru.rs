//! FRU inventory (IPMI 2.0 §34 and the Platform Management FRU Information Storage Definition
//! 1.0 rev 1.3): Get FRU Inventory Area Info, Read FRU Data in chunks that shrink when the BMC
//! says a read is too large (C7h, C8h, CAh), and the common header's chassis, board and product
//! areas decoded.

use serde::Serialize;

use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest};

/// The first chunk size (what ipmitool asks over LAN); shrinks by 8 above 32, else by 1, to 8.
const FIRST_CHUNK: u8 = 32;
const SMALLEST_CHUNK: u8 = 8;
/// Read FRU Data answered 81h (FRU device busy): tries again, this many times, after a pause.
const FRU_BUSY_RETRIES: u32 = 3;
const FRU_BUSY_PAUSE: std::time::Duration = std::time::Duration::from_millis(30);

/// A FRU device's inventory, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fru {
    /// Chassis info area.
    pub chassis: Option<ChassisArea>,
    /// Board info area.
    pub board: Option<BoardArea>,
    /// Product info area.
    pub product: Option<ProductArea>,
}

/// The chassis info area.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChassisArea {
    /// Chassis type (SMBIOS 3.3 type codes).
    pub chassis_type: u8,
    /// Part number.
    pub part_number: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Custom fields.
    pub extra: Vec<String>,
}

/// The board info area.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BoardArea {
    /// Manufacturing date: seconds since 1970 (`None`: unspecified).
    pub mfg_date: Option<u32>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Product name.
    pub product: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Part number.
    pub part_number: Option<String>,
    /// FRU file ID.
    pub fru_id: Option<String>,
    /// Custom fields.
    pub extra: Vec<String>,
}

/// The product info area.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProductArea {
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Product name.
    pub name: Option<String>,
    /// Part/model number.
    pub part_number: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Asset tag.
    pub asset_tag: Option<String>,
    /// FRU file ID.
    pub fru_id: Option<String>,
    /// Custom fields.
    pub extra: Vec<String>,
}

/// Why a FRU device could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FruRead {
    /// Read and decoded.
    Ok(Box<Fru>),
    /// The device answered Get FRU Inventory Area Info with this code (not present, ...).
    NotPresent(CompletionCode),
}

/// How a FRU device is addressed (Get FRU Inventory Area Info, byte 3 bit 0): a word device's
/// Read FRU Data offsets and counts are in 16-bit words (IPMI 2.0 §34.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Bytes,
    Words,
}

/// Reads `count` bytes at byte `offset` (both even for a word device).
async fn read_chunk<B: Bmc + ?Sized>(
    bmc: &B,
    id: u8,
    offset: u16,
    count: u8,
    access: Access,
) -> Result<Result<Vec<u8>, CompletionCode>, B::Error> {
    let unit = if access == Access::Words { 2 } else { 1 };
    let [o0, o1] = (offset / unit).to_le_bytes();
    let r = bmc
        .request(RawRequest::new(
            NetFn::Storage,
            0x11,
            vec![id, o0, o1, count / unit as u8],
        )?)
        .await?;
    if !r.completion.is_success() {
        return Ok(Err(r.completion));
    }
    let n = *r.data.first().unwrap_or(&0) as usize * unit as usize;
    if n > count as usize || r.data.len() < 1 + n {
        return Err(IpmiError::malformed(
            "Read FRU Data",
            format!("count {n} for {count} asked, {} bytes", r.data.len()),
        )
        .into());
    }
    Ok(Ok(r.data[1..1 + n].to_vec()))
}

/// Reads `len` bytes from `offset`, in chunks; `chunk` is the current chunk size, shrunk
/// (and kept shrunk for the device) when the BMC says a read is too large.
async fn read_range<B: Bmc + ?Sized>(
    bmc: &B,
    id: u8,
    offset: u16,
    len: usize,
    chunk: &mut u8,
    access: Access,
) -> Result<Vec<u8>, B::Error> {
    let mut out = Vec::with_capacity(len);
    let mut busy = 0;
    while out.len() < len {
        let mut want = (len - out.len()).min(*chunk as usize) as u8;
        if access == Access::Words {
            // Whole words: an odd tail reads one byte more, cut below.
            want = (want + 1) & !1;
        }
        let at = offset
            .checked_add(out.len() as u16)
            .ok_or_else(|| IpmiError::malformed("Read FRU Data", "offset past 64 KiB"))?;
        match read_chunk(bmc, id, at, want, access).await? {
            Ok(part) if part.is_empty() => break, // the device has no more
            Ok(part) => out.extend_from_slice(&part),
            Err(code) if matches!(code.byte(), 0xC7 | 0xC8 | 0xCA) && *chunk > SMALLEST_CHUNK => {
                *chunk -= if *chunk > 32 { 8 } else { 1 };
            }
            // 81h: FRU device busy, e.g. a write pending (§34.2): a short wait, as OCS does.
            Err(code) if code.byte() == 0x81 && busy < FRU_BUSY_RETRIES => {
                busy += 1;
                tokio::time::sleep(FRU_BUSY_PAUSE).await;
            }
            Err(code) => {
                return Err(IpmiError::Completion {
                    netfn: NetFn::Storage,
                    cmd: 0x11,
                    code,
                }
                .into());
            }
        }
    }
    out.resize(len, 0);
    Ok(out)
}

/// Reads and decodes FRU device `id`.
pub async fn read_fru<B: Bmc + ?Sized>(bmc: &B, id: u8) -> Result<FruRead, B::Error> {
    let r = bmc
        .request(RawRequest::new(NetFn::Storage, 0x10, vec![id])?)
        .await?;
    if !r.completion.is_success() {
        return Ok(FruRead::NotPresent(r.completion));
    }
    if r.data.len() < 3 {
        return Err(IpmiError::malformed("Get FRU Inventory Area Info", "short answer").into());
    }
    let size = u16::from_le_bytes([r.data[0], r.data[1]]) as usize;
    if size < 8 {
        return Err(IpmiError::malformed(
            "Get FRU Inventory Area Info",
            format!("FRU size {size}"),
        )
        .into());
    }
    let access = if r.data[2] & 0x01 != 0 {
        Access::Words
    } else {
        Access::Bytes
    };
    let mut chunk = FIRST_CHUNK;
    let header = read_range(bmc, id, 0, 8, &mut chunk, access).await?;
    if header[0] & 0x0F != 1 {
        return Err(IpmiError::malformed(
            "Read FRU Data",
            format!("unknown FRU header version {:#04x}", header[0]),
        )
        .into());
    }
    let mut fru = Fru::default();
    for (slot, at) in [(0, header[2]), (1, header[3]), (2, header[4])] {
        let offset = at as usize * 8;
        if offset < 8 || offset + 2 > size {
            continue;
        }
        let head = read_range(bmc, id, offset as u16, 2, &mut chunk, access).await?;
        let len = (head[1] as usize * 8).min(size - offset);
        if len == 0 {
            continue;
        }
        let area = read_range(bmc, id, offset as u16, len, &mut chunk, access).await?;
        match slot {
            0 => fru.chassis = Some(chassis_area(&area)),
            1 => fru.board = Some(board_area(&area)),
            _ => fru.product = Some(product_area(&area)),
        }
    }
    Ok(FruRead::Ok(Box::new(fru)))
}

/// Reads type/length fields from `data` at `*at`.
struct Fields<'a> {
    data: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    /// The next field as ipmitool decodes it (`None` for an empty one).
    fn next(&mut self) -> Option<String> {
        let tl = *self.data.get(self.at)?;
        let len = (tl & 0x3F) as usize;
        let start = self.at + 1;
        self.at = start + len;
        let bytes = self.data.get(start..(start + len).min(self.data.len()))?;
        if len == 0 {
            return None;
        }
        let text = match tl >> 6 {
            0 => bytes.iter().map(|b| format!("{b:02x}")).collect(),
            1 => {
                const BCD: &[u8; 16] = b"0123456789 -.:,_";
                bytes
                    .iter()
                    .flat_map(|b| {
                        [
                            BCD[(b >> 4) as usize] as char,
                            BCD[(b & 0x0F) as usize] as char,
                        ]
                    })
                    .collect()
            }
            2 => {
                let mut s = String::new();
                for group in bytes.chunks(3) {
                    let mut g = [0u8; 3];
                    g[..group.len()].copy_from_slice(group);
                    let v = u32::from(g[0]) | u32::from(g[1]) << 8 | u32::from(g[2]) << 16;
                    for k in 0..4 {
                        s.push((((v >> (6 * k)) & 0x3F) as u8 + 0x20) as char);
                    }
                }
                s
            }
            _ => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                bytes[..end].iter().map(|&b| b as char).collect()
            }
        };
        (!text.is_empty()).then_some(text)
    }

    /// Custom fields until the end marker (C1h) or the area's end.
    fn extra(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while self.at < self.data.len() && self.data[self.at] != 0xC1 {
            let before = self.at;
            if let Some(f) = self.next() {
                out.push(f);
            }
            if self.at == before {
                break;
            }
        }
        out
    }
}

fn chassis_area(a: &[u8]) -> ChassisArea {
    let mut f = Fields { data: a, at: 3 };
    ChassisArea {
        chassis_type: *a.get(2).unwrap_or(&0),
        part_number: f.next(),
        serial: f.next(),
        extra: f.extra(),
    }
}

/// Minutes since 1996-01-01 00:00 UTC, as seconds since 1970 (0: unspecified).
fn mfg_date(b: &[u8]) -> Option<u32> {
    let minutes = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    (minutes != 0).then(|| minutes * 60 + 820_454_400)
}

fn board_area(a: &[u8]) -> BoardArea {
    let mut f = Fields { data: a, at: 6 };
    BoardArea {
        mfg_date: a.get(3..6).and_then(mfg_date),
        manufacturer: f.next(),
        product: f.next(),
        serial: f.next(),
        part_number: f.next(),
        fru_id: f.next(),
        extra: f.extra(),
    }
}

fn product_area(a: &[u8]) -> ProductArea {
    let mut f = Fields { data: a, at: 3 };
    ProductArea {
        manufacturer: f.next(),
        name: f.next(),
        part_number: f.next(),
        version: f.next(),
        serial: f.next(),
        asset_tag: f.next(),
        fru_id: f.next(),
        extra: f.extra(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sim")]
    #[tokio::test]
    async fn a_word_device_is_read_in_words_and_a_busy_one_is_waited_for() {
        use crate::ipmi::{CompletionCode, RawResponse};
        use crate::sim::{BmcConfig, SimBmc};
        use std::sync::atomic::{AtomicU32, Ordering};
        /// The simulator's FRU, as a word-addressed device that is busy (81h) at first.
        struct Words(SimBmc, AtomicU32);
        impl Bmc for Words {
            type Error = IpmiError;
            async fn request(&self, r: RawRequest) -> Result<RawResponse, IpmiError> {
                match r.cmd() {
                    0x10 => {
                        let mut a = self.0.request(r).await?;
                        a.data[2] |= 0x01;
                        Ok(a)
                    }
                    0x11 => {
                        if self.1.fetch_add(1, Ordering::SeqCst) < 2 {
                            return Ok(RawResponse::new(CompletionCode::from_byte(0x81), vec![]));
                        }
                        let d = r.data();
                        let words = u16::from_le_bytes([d[1], d[2]]);
                        assert!(words < 0x8000, "a word offset, not a byte one");
                        let [o0, o1] = (words * 2).to_le_bytes();
                        let bytes =
                            RawRequest::new(NetFn::Storage, 0x11, vec![d[0], o0, o1, d[3] * 2])?;
                        let mut a = self.0.request(bytes).await?;
                        assert_eq!(a.data[0] % 2, 0);
                        a.data[0] /= 2;
                        Ok(a)
                    }
                    _ => self.0.request(r).await,
                }
            }
        }
        let FruRead::Ok(direct) = read_fru(&SimBmc::new(BmcConfig::default()), 0)
            .await
            .unwrap()
        else {
            panic!("FRU 0 is present")
        };
        let words = Words(SimBmc::new(BmcConfig::default()), AtomicU32::new(0));
        let FruRead::Ok(fru) = read_fru(&words, 0).await.unwrap() else {
            panic!("FRU 0 is present")
        };
        assert_eq!(fru, direct);
        assert!(fru.product.is_some());
    }

    #[cfg(feature = "sim")]
    #[tokio::test]
    async fn reads_shrink_when_the_bmc_says_too_many_bytes() {
        use crate::ipmi::{CompletionCode, RawResponse};
        use crate::sim::{BmcConfig, SimBmc};
        /// A BMC whose interface returns at most 20 bytes of FRU data per read (C7h above).
        struct Small(SimBmc, std::sync::Mutex<Vec<u8>>);
        impl Bmc for Small {
            type Error = IpmiError;
            async fn request(&self, r: RawRequest) -> Result<RawResponse, IpmiError> {
                if r.cmd() == 0x11 {
                    self.1.lock().unwrap().push(r.data()[3]);
                    if r.data()[3] > 20 {
                        return Ok(RawResponse::new(CompletionCode::from_byte(0xC7), vec![]));
                    }
                }
                self.0.request(r).await
            }
        }
        let small = Small(SimBmc::new(BmcConfig::default()), Default::default());
        let FruRead::Ok(fru) = read_fru(&small, 0).await.unwrap() else {
            panic!("FRU 0 is present")
        };
        let FruRead::Ok(direct) = read_fru(&SimBmc::new(BmcConfig::default()), 0)
            .await
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(fru, direct);
        assert_eq!(fru.product.unwrap().serial.as_deref(), Some("SIM0001"));
        // 8 for the header, then 32 refused, shrinking by one to 20, which is kept.
        let sizes = small.1.lock().unwrap().clone();
        assert!(
            sizes.iter().skip_while(|&&n| n != 20).all(|&n| n <= 20),
            "{sizes:?}"
        );
        assert!(sizes.contains(&32) && sizes.contains(&21), "{sizes:?}");
    }

    #[test]
    fn type_length_encodings_as_ipmitool_reads_them() {
        let data = [
            0x02, 0xDE, 0xAD, 0x43, 0x12, 0xDB, 0x3F, 0xC3, b'a', b'b', 0, 0xC1,
        ];
        let mut f = Fields { data: &data, at: 0 };
        assert_eq!(f.next().as_deref(), Some("dead"));
        assert_eq!(f.next().as_deref(), Some("12:-3_"));
        assert_eq!(f.next().as_deref(), Some("ab"));
        assert!(f.extra().is_empty());
        // 6-bit ASCII: "ABCD" packed in 3 bytes.
        let six = [0x83, 0xA1, 0x38, 0x92];
        let mut f = Fields { data: &six, at: 0 };
        assert_eq!(f.next().as_deref(), Some("ABCD"));
        assert_eq!(mfg_date(&[1, 0, 0]), Some(820_454_460));
        assert_eq!(mfg_date(&[0, 0, 0]), None);
    }
}
