//! Reading the System Event Log: Reserve SEL, then Get SEL Entry from the first record to the
//! last (IPMI 2.0 §31). A reservation cancelled mid-walk (completion code C5h, e.g. because an
//! event was logged) is renewed and the read retried.

use serde::Serialize;

use super::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest, try_execute};
use ipmi_rs_core::storage::sel::ReserveSel;

/// Renewed reservations per walk before giving up.
const MAX_RESERVATIONS: u32 = 5;

/// One SEL record (16 bytes), decoded where the type is a system event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SelRecord {
    /// Record ID.
    pub record_id: u16,
    /// Record type: 02h system event, C0h–DFh timestamped OEM, E0h–FFh OEM.
    pub record_type: u8,
    /// Seconds since 1970 (or since BMC init when ≤ 20000000h); `None` for FFFFFFFFh or untimestamped OEM records.
    pub timestamp: Option<u32>,
    /// For system events: generator ID, sensor type, sensor number, event direction and type,
    /// event data 1–3.
    pub event: Option<SelEvent>,
    /// The raw record.
    pub raw: [u8; 16],
}

/// The system-event fields of a SEL record (type 02h).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SelEvent {
    /// Generator ID (IPMB slave address or software ID, and LUN/channel).
    pub generator_id: u16,
    /// Sensor type (08h power supply, 10h event logging, ...).
    pub sensor_type: u8,
    /// Sensor number.
    pub sensor_number: u8,
    /// `true` for a deassertion event.
    pub deassertion: bool,
    /// Event/reading type code.
    pub event_type: u8,
    /// Event data 1–3.
    pub data: [u8; 3],
}

impl SelRecord {
    /// Decodes a 16-byte record.
    pub fn parse(raw: [u8; 16]) -> Self {
        let record_type = raw[2];
        let ts = u32::from_le_bytes([raw[3], raw[4], raw[5], raw[6]]);
        let timestamped = record_type == 0x02 || (0xC0..=0xDF).contains(&record_type);
        SelRecord {
            record_id: u16::from_le_bytes([raw[0], raw[1]]),
            record_type,
            timestamp: (timestamped && ts != 0xFFFF_FFFF).then_some(ts),
            event: (record_type == 0x02).then(|| SelEvent {
                generator_id: u16::from_le_bytes([raw[7], raw[8]]),
                sensor_type: raw[10],
                sensor_number: raw[11],
                deassertion: raw[12] & 0x80 != 0,
                event_type: raw[12] & 0x7F,
                data: [raw[13], raw[14], raw[15]],
            }),
            raw,
        }
    }
}

/// A new SEL reservation; 0000h (read without one) if the BMC does not support reservations.
async fn reserve<B: Bmc + ?Sized>(bmc: &B) -> Result<u16, B::Error> {
    match try_execute(bmc, ReserveSel).await? {
        Ok(id) => Ok(id.get()),
        Err(r) if r.code == CompletionCode::InvalidCommand => Ok(0),
        Err(r) => Err(IpmiError::from(r).into()),
    }
}

/// Every SEL record, first to last.
pub async fn read_sel<B: Bmc + ?Sized>(bmc: &B) -> Result<Vec<SelRecord>, B::Error> {
    const CMD: &str = "Get SEL Entry";
    let mut reservation: u16 = reserve(bmc).await?;
    let mut renewed = 0;
    let mut id: u16 = 0x0000;
    let mut records = Vec::new();
    // Record IDs asked for: a chain that points back to one of them would never end.
    let mut asked = std::collections::HashSet::from([id]);
    loop {
        let [r0, r1] = reservation.to_le_bytes();
        let [i0, i1] = id.to_le_bytes();
        let request = RawRequest::new(NetFn::Storage, 0x43, vec![r0, r1, i0, i1, 0x00, 0xFF])?;
        let response = bmc.request(request).await?;
        match response.completion {
            CompletionCode::Normal => {}
            CompletionCode::ReservationCanceled if renewed < MAX_RESERVATIONS => {
                renewed += 1;
                reservation = reserve(bmc).await?;
                continue;
            }
            // An empty SEL answers "not present" for the first record.
            CompletionCode::NotPresent if id == 0 && records.is_empty() => return Ok(records),
            code => {
                return Err(IpmiError::Completion {
                    netfn: NetFn::Storage,
                    cmd: 0x43,
                    code,
                }
                .into());
            }
        }
        let d = &response.data;
        let raw: [u8; 16] = d
            .get(2..18)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                IpmiError::malformed(CMD, format!("expected 18 bytes, got {}", d.len()))
            })?;
        records.push(SelRecord::parse(raw));
        let next = u16::from_le_bytes([d[0], d[1]]);
        if next == 0xFFFF {
            return Ok(records);
        }
        if records.len() > u16::MAX as usize || !asked.insert(next) {
            return Err(IpmiError::malformed(
                CMD,
                format!("the record chain does not end (next {next:#06x} was read before)"),
            )
            .into());
        }
        id = next;
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::ipmi::test_support::Recording;
    use crate::sim::{BmcConfig, SimBmc};

    #[tokio::test]
    async fn reads_clears_and_renews_a_cancelled_reservation() {
        let bmc = SimBmc::new(BmcConfig::default());
        let sel = read_sel(&bmc).await.unwrap();
        assert_eq!(sel.len(), 3);
        let e = sel[1].event.as_ref().unwrap();
        assert_eq!(
            (
                e.sensor_type,
                e.sensor_number,
                e.deassertion,
                e.data[0] & 0x0F
            ),
            (0x08, 0x63, false, 0x03)
        );
        assert!(sel[2].event.as_ref().unwrap().deassertion);
        assert!(sel[0].timestamp.is_some());

        // The second entry read answers C5h: a new reservation, and the walk completes.
        fn entry(r: &RawRequest) -> bool {
            r.cmd() == 0x43
        }
        let flaky = Recording::new(SimBmc::new(BmcConfig::default())).failing(
            entry,
            1,
            CompletionCode::ReservationCanceled,
        );
        assert_eq!(read_sel(&flaky).await.unwrap().len(), 3);
        assert_eq!(flaky.count(NetFn::Storage, 0x42), 2);

        // A logged event cancels the reservation held; clearing with it is refused (C5h).
        let held = u16::from_le_bytes(
            bmc.handle(&RawRequest::new(NetFn::Storage, 0x42, vec![]).unwrap())
                .data[..2]
                .try_into()
                .unwrap(),
        );
        bmc.add_sel_event(0x07, 0x01, 0x6F, [0x00, 0xFF, 0xFF]);
        let [h0, h1] = held.to_le_bytes();
        let clear = |r0, r1| {
            RawRequest::new(NetFn::Storage, 0x47, vec![r0, r1, b'C', b'L', b'R', 0xAA]).unwrap()
        };
        assert_eq!(
            bmc.handle(&clear(h0, h1)).completion,
            CompletionCode::ReservationCanceled
        );
        assert_eq!(read_sel(&bmc).await.unwrap().len(), 4);
        let fresh = bmc
            .handle(&RawRequest::new(NetFn::Storage, 0x42, vec![]).unwrap())
            .data;
        let r = bmc.handle(&clear(fresh[0], fresh[1]));
        assert_eq!((r.completion, r.data), (CompletionCode::Normal, vec![0x01]));
        assert!(read_sel(&bmc).await.unwrap().is_empty());
    }
}

/// Get SEL Info (§31.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SelInfo {
    /// SEL version (51h: IPMI 1.5/2.0).
    pub version: u8,
    /// Entries.
    pub entries: u16,
    /// Free space in bytes.
    pub free: u16,
    /// Most recent addition.
    pub last_add: u32,
    /// Most recent erase.
    pub last_erase: u32,
    /// Operation support (overflow bit 7, delete 3, partial add 2, reserve 1, allocation info 0).
    pub operations: u8,
}

/// Reads the SEL's info.
pub async fn sel_info<B: Bmc + ?Sized>(bmc: &B) -> Result<SelInfo, B::Error> {
    let d = super::mc::call(bmc, NetFn::Storage, 0x40, vec![], "Get SEL Info", 14).await?;
    let word = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
    let dword = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
    Ok(SelInfo {
        version: d[0],
        entries: word(1),
        free: word(3),
        last_add: dword(5),
        last_erase: dword(9),
        operations: d[13],
    })
}

/// Clears the SEL: Reserve SEL, then Clear SEL ('CLR', initiate erase), renewing a reservation
/// cancelled in between once. The erase is not waited for (as ipmitool does not).
pub async fn clear_sel<B: Bmc + ?Sized>(bmc: &B) -> Result<(), B::Error> {
    let mut renewed = false;
    loop {
        let [r0, r1] = reserve(bmc).await?.to_le_bytes();
        let request = RawRequest::new(NetFn::Storage, 0x47, vec![r0, r1, b'C', b'L', b'R', 0xAA])?;
        let r = bmc.request(request).await?;
        match r.completion {
            CompletionCode::Normal => return Ok(()),
            CompletionCode::ReservationCanceled if !renewed => renewed = true,
            code => {
                return Err(IpmiError::Completion {
                    netfn: NetFn::Storage,
                    cmd: 0x47,
                    code,
                }
                .into());
            }
        }
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;
    use crate::ipmi::RawResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A SEL and an SDR repository of two records, each pointing back to the first.
    #[derive(Default)]
    struct Looping(AtomicUsize);

    impl Bmc for Looping {
        type Error = IpmiError;
        async fn request(&self, r: RawRequest) -> Result<RawResponse, IpmiError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let ok = |d: Vec<u8>| Ok(RawResponse::new(CompletionCode::Normal, d));
            match (r.netfn(), r.cmd()) {
                (NetFn::Storage, 0x42 | 0x22) => ok(vec![0x01, 0x00]), // reservations
                (NetFn::Storage, 0x43) => {
                    // Get SEL Entry: record 0 → 1 → 0 → ...
                    let next: u16 = if r.data()[2..4] == [0, 0] { 1 } else { 0 };
                    let mut d = next.to_le_bytes().to_vec();
                    d.extend_from_slice(&[
                        0x01, 0x00, 0x02, 0, 0, 0, 0, 0x20, 0, 0x04, 0x01, 0x01, 0x01, 0, 0, 0,
                    ]);
                    ok(d)
                }
                (NetFn::Storage, 0x23) => {
                    // Get SDR: an OEM record, 0 → 1 → 0 → ...
                    let next: u16 = if r.data()[2..4] == [0, 0] { 1 } else { 0 };
                    let mut d = next.to_le_bytes().to_vec();
                    d.extend_from_slice(&[0x01, 0x00, 0x51, 0xC0, 0x03, 0x57, 0x01, 0x00]);
                    ok(d)
                }
                _ => Ok(RawResponse::new(CompletionCode::InvalidCommand, vec![])),
            }
        }
    }

    #[tokio::test]
    async fn a_record_chain_that_points_back_ends_at_once() {
        let sel = Looping::default();
        let e = read_sel(&sel).await.unwrap_err();
        assert!(e.to_string().contains("does not end"), "{e}");
        assert!(
            sel.0.load(Ordering::SeqCst) <= 4,
            "{} requests",
            sel.0.load(Ordering::SeqCst)
        );
        let sdr = Looping::default();
        let e = crate::ipmi::sdr::read_repository(&sdr).await.unwrap_err();
        assert!(e.to_string().contains("does not end"), "{e}");
        assert!(
            sdr.0.load(Ordering::SeqCst) <= 4,
            "{} requests",
            sdr.0.load(Ordering::SeqCst)
        );
    }
}
