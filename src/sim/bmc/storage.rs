//! Storage (NetFn 0Ah): the SEL (info, reserve, entries, clear, time), the SDR repository
//! (info, reserve, Get SDR) and FRU 0 (area info, read).

use super::*;

/// Two full sensor records of a real Dell R630 (Get SDR data without the next-record ID,
/// `datdenkikniet/ipmi-rs` `dell_r630.rs`, quoted in shared/reference §4.11): "Fan2A" (sensor
/// 32h, RPM, M=120) and "Inlet Temp" (sensor 04h, °C, M=1, B=-128).
pub(super) const SDR_RECORDS: [&[u8]; 2] = [
    &[
        0x0D, 0x00, 0x51, 0x01, 0x30, 0x20, 0x00, 0x32, 0x07, 0x01, 0x7F, 0xD4, 0x04, 0x01, 0x05,
        0x30, 0x05, 0x00, 0x03, 0x00, 0x00, 0x12, 0x00, 0x00, 0x78, 0x02, 0x00, 0x02, 0x30, 0x00,
        0x07, 0x54, 0xC5, 0x8B, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x05, 0x07, 0x01, 0x01, 0x00,
        0x00, 0x00, 0xC5, 0x46, 0x61, 0x6E, 0x32, 0x41,
    ],
    &[
        0x12, 0x00, 0x51, 0x01, 0x35, 0x20, 0x00, 0x04, 0x07, 0x01, 0x7F, 0x68, 0x01, 0x01, 0x85,
        0x32, 0x85, 0x32, 0x1B, 0x09, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x80, 0xC2, 0x30, 0x00,
        0x07, 0x97, 0xC5, 0x8B, 0xFF, 0x00, 0xFF, 0xAF, 0xAA, 0x00, 0x79, 0x83, 0x01, 0x01, 0x00,
        0x00, 0x00, 0xCA, 0x49, 0x6E, 0x6C, 0x65, 0x74, 0x20, 0x54, 0x65, 0x6D, 0x70,
    ],
];

/// Builds a FRU image (IPMI Platform Management FRU Information Storage Definition 1.0): common
/// header, chassis, board and product areas, 8-bit ASCII fields, zero checksums.
pub(super) fn fru_image(id: &BmcIdentity) -> Vec<u8> {
    fn area(mut body: Vec<u8>, fields: &[&str]) -> Vec<u8> {
        for f in fields {
            let b = &f.as_bytes()[..f.len().min(63)];
            body.push(0xC0 | b.len() as u8);
            body.extend_from_slice(b);
        }
        body.push(0xC1);
        // Version, length (8-byte units), body, padding, checksum.
        let mut a = vec![0x01, 0x00];
        a.extend_from_slice(&body);
        while (a.len() + 1) % 8 != 0 {
            a.push(0);
        }
        a[1] = ((a.len() + 1) / 8) as u8;
        let sum = a.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        a.push(0u8.wrapping_sub(sum));
        a
    }
    // Chassis: type 17h (rack mount), part number, serial.
    let chassis = area(vec![0x17], &["", &id.chassis_serial]);
    // Board: language 0 (English), manufacturing date 0 (unspecified).
    let board = area(
        vec![0x00, 0x00, 0x00, 0x00],
        &[
            &id.board_manufacturer,
            &id.board_product,
            &id.board_serial,
            &id.board_part_number,
            "",
        ],
    );
    let product = area(
        vec![0x00],
        &[
            "Dell Inc.",
            &id.product_name,
            "",
            "",
            &id.product_serial,
            "",
            "",
        ],
    );
    let chassis_at = 1u8;
    let board_at = chassis_at + (chassis.len() / 8) as u8;
    let product_at = board_at + (board.len() / 8) as u8;
    let mut header = vec![0x01, 0x00, chassis_at, board_at, product_at, 0x00, 0x00];
    let sum = header.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    header.push(0u8.wrapping_sub(sum));
    [header, chassis, board, product].concat()
}

impl SimBmc {
    /// Adds a SEL record (as the BMC's event receiver would); cancels the SEL reservation, as
    /// the specification says an add does.
    pub fn add_sel_event(
        &self,
        sensor_type: u8,
        sensor_number: u8,
        event_dir_type: u8,
        data: [u8; 3],
    ) -> u16 {
        let mut s = self.state();
        let id = s.next_sel_id;
        s.next_sel_id = s.next_sel_id.wrapping_add(1).max(1);
        s.last_sel_add = s.last_sel_add.wrapping_add(60);
        let (i, t) = (id.to_le_bytes(), s.last_sel_add.to_le_bytes());
        s.sel.push([
            i[0],
            i[1],
            0x02,
            t[0],
            t[1],
            t[2],
            t[3],
            0x20,
            0x00,
            0x04,
            sensor_type,
            sensor_number,
            event_dir_type,
            data[0],
            data[1],
            data[2],
        ]);
        s.sel_reservation = 0;
        id
    }

    pub(super) fn sel_info(&self) -> Vec<u8> {
        let s = self.state();
        let n = (s.sel.len() as u16).to_le_bytes();
        let free = ((512 - s.sel.len().min(512)) as u16 * 16).to_le_bytes();
        let (a, e) = (s.last_sel_add.to_le_bytes(), s.last_sel_erase.to_le_bytes());
        // Operations: reserve supported (bit 1).
        vec![
            0x51, n[0], n[1], free[0], free[1], a[0], a[1], a[2], a[3], e[0], e[1], e[2], e[3],
            0x02,
        ]
    }

    /// Reserve SEL / Reserve SDR Repository: a new ID cancels the previous one.
    pub(super) fn reserve(&self, sel: bool) -> Vec<u8> {
        let mut s = self.state();
        s.reservations = s.reservations.wrapping_add(1).max(1);
        let id = s.reservations;
        if sel {
            s.sel_reservation = id;
        } else {
            s.sdr_reservation = id;
        }
        id.to_le_bytes().to_vec()
    }

    pub(super) fn get_sel_entry(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [r0, r1, i0, i1, offset, count] = exact::<6>(d)?;
        let s = self.state();
        check_reservation(u16::from_le_bytes([r0, r1]), offset, s.sel_reservation)?;
        read_record(
            s.sel
                .iter()
                .map(|r| (u16::from_le_bytes([r[0], r[1]]), r.as_slice())),
            u16::from_le_bytes([i0, i1]),
            offset,
            count,
        )
    }

    pub(super) fn clear_sel(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [r0, r1, c, l, r, action] = exact::<6>(d)?;
        if [c, l, r] != *b"CLR" {
            return Err(CompletionCode::InvalidDataField);
        }
        let mut s = self.state();
        if u16::from_le_bytes([r0, r1]) != s.sel_reservation || s.sel_reservation == 0 {
            return Err(CompletionCode::ReservationCanceled);
        }
        match action {
            0xAA => {
                s.sel.clear();
                s.last_sel_erase = s.last_sel_add.wrapping_add(1);
                Ok(vec![0x01])
            }
            0x00 => Ok(vec![0x01]),
            _ => Err(CompletionCode::InvalidDataField),
        }
    }

    pub(super) fn get_sdr(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [r0, r1, i0, i1, offset, count] = exact::<6>(d)?;
        let s = self.state();
        check_reservation(u16::from_le_bytes([r0, r1]), offset, s.sdr_reservation)?;
        read_record(
            super::sdr::repository()
                .iter()
                .map(|r| (u16::from_le_bytes([r[0], r[1]]), r.as_slice())),
            u16::from_le_bytes([i0, i1]),
            offset,
            count,
        )
    }

    pub(super) fn fru_area_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [fru] = exact::<1>(d)?;
        if fru != 0 {
            return Err(CompletionCode::NotPresent);
        }
        let n = (self.fru.len() as u16).to_le_bytes();
        Ok(vec![n[0], n[1], 0x00])
    }

    pub(super) fn read_fru(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [fru, o0, o1, count] = exact::<4>(d)?;
        if fru != 0 {
            return Err(CompletionCode::NotPresent);
        }
        // Like many BMCs behind KCS: no more than 64 bytes per read.
        if count > 64 {
            return Err(CompletionCode::CannotReturnRequestedBytes);
        }
        let offset = u16::from_le_bytes([o0, o1]) as usize;
        if offset >= self.fru.len() {
            return Err(CompletionCode::ParameterOutOfRange);
        }
        let end = (offset + count as usize).min(self.fru.len());
        let mut out = vec![(end - offset) as u8];
        out.extend_from_slice(&self.fru[offset..end]);
        Ok(out)
    }
}

/// A partial read (offset ≠ 0) needs the current reservation; a whole-record read may pass
/// 0000h, but any other ID must be the current one.
pub(super) fn check_reservation(
    given: u16,
    offset: u8,
    current: u16,
) -> Result<(), CompletionCode> {
    let needed = offset != 0 || given != 0;
    if needed && (given == 0 || given != current) {
        Err(CompletionCode::ReservationCanceled)
    } else {
        Ok(())
    }
}

/// Get SEL Entry / Get SDR: record `id` (0000h first, FFFFh last) from `records`, the next ID
/// (FFFFh at the end), then `count` bytes from `offset` (FFh: the whole record).
pub(super) fn read_record<'a>(
    records: impl Iterator<Item = (u16, &'a [u8])>,
    id: u16,
    offset: u8,
    count: u8,
) -> Result<Vec<u8>, CompletionCode> {
    let records: Vec<(u16, &[u8])> = records.collect();
    let at = match id {
        0x0000 if !records.is_empty() => 0,
        0xFFFF if !records.is_empty() => records.len() - 1,
        id => records
            .iter()
            .position(|(i, _)| *i == id)
            .ok_or(CompletionCode::NotPresent)?,
    };
    let next = records
        .get(at + 1)
        .map_or(0xFFFF, |(i, _)| *i)
        .to_le_bytes();
    let record = records[at].1;
    let start = (offset as usize).min(record.len());
    let end = if count == 0xFF {
        record.len()
    } else {
        (start + count as usize).min(record.len())
    };
    if count != 0xFF && start + count as usize > record.len() {
        return Err(CompletionCode::ParameterOutOfRange);
    }
    let mut out = vec![next[0], next[1]];
    out.extend_from_slice(&record[start..end]);
    Ok(out)
}
