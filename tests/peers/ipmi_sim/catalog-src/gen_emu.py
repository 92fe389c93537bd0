#!/usr/bin/env python3
"""Generate sim.emu for OpenIPMI ipmi_sim.

Inputs : sensors.bsdr  (sdrcomp -8 -r -o sensors.bsdr sensors.sdrs)
Output : ../catalog.emu    (self-contained text; no other file needed at run time)

FRU images are built here from the field values below (IPMI Platform
Management FRU Information Storage Definition v1.0 rev 1.3).
"""
import datetime, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- SDRs
def read_sdrs(path):
    data = open(path, "rb").read()
    recs, i = [], 0
    while i < len(data):
        n = data[i + 4] + 5
        recs.append(data[i:i + n])
        i += n
    return recs

# ---------------------------------------------------------------- FRU
def tl(s):
    """8-bit ASCII type/length field (type code 11b)."""
    b = s.encode("ascii")
    assert len(b) <= 63
    return bytes([0xC0 | len(b)]) + b

def area(body):
    """Pad an info area (starting with version+length) to 8 bytes + checksum."""
    body = bytearray(body)
    body += b"\xc1"                       # end-of-fields marker
    while (len(body) + 1) % 8:
        body += b"\x00"
    body[1] = (len(body) + 1) // 8         # area length in multiples of 8
    body += bytes([(-sum(body)) & 0xFF])
    return bytes(body)

def chassis_area(ctype, part, serial, custom=()):
    b = bytes([0x01, 0x00, ctype]) + tl(part) + tl(serial)
    for c in custom:
        b += tl(c)
    return area(b)

def mfg_minutes(dt):
    return int((dt - datetime.datetime(1996, 1, 1)).total_seconds() // 60)

def board_area(dt, mfr, name, serial, part, fileid="", custom=()):
    m = mfg_minutes(dt)
    b = bytes([0x01, 0x00, 0x00, m & 0xFF, (m >> 8) & 0xFF, (m >> 16) & 0xFF])
    b += tl(mfr) + tl(name) + tl(serial) + tl(part) + tl(fileid)
    for c in custom:
        b += tl(c)
    return area(b)

def product_area(mfr, name, part, version, serial, asset, fileid="", custom=()):
    b = bytes([0x01, 0x00, 0x00])
    b += tl(mfr) + tl(name) + tl(part) + tl(version) + tl(serial) + tl(asset) + tl(fileid)
    for c in custom:
        b += tl(c)
    return area(b)

def fru_image(chassis=None, board=None, product=None):
    off = 8
    hdr = bytearray([0x01, 0, 0, 0, 0, 0, 0])
    body = b""
    for idx, a in ((2, chassis), (3, board), (4, product)):
        if a:
            hdr[idx] = off // 8
            body += a
            off += len(a)
    hdr += bytes([(-sum(hdr)) & 0xFF])
    return bytes(hdr) + body

FRU0 = fru_image(
    chassis=chassis_area(0x17, "CH-S200-2U", "ACC2311000042", ["Acme rack 2U"]),
    board=board_area(datetime.datetime(2023, 3, 14, 9, 30), "Acme Servers Inc.",
                     "S200 Mainboard", "ACB2311000042", "90-S200-MB01", "FRU v1.2"),
    product=product_area("Acme Servers Inc.", "Acme S200", "S200-8X", "A02",
                         "ACS2311000042", "ASSET-0042", "FRU v1.2"),
)
FRU1 = fru_image(
    board=board_area(datetime.datetime(2022, 11, 2, 17, 5), "Acme Power Co.",
                     "PSU 800W AC", "PSU1-0007", "PS-800-AC"),
    product=product_area("Acme Power Co.", "PSU 800W AC", "PS-800-AC", "B1",
                         "PSU1-0007", "N/A"),
)

def hexbytes(b, per_line=16, indent="    "):
    lines = []
    for i in range(0, len(b), per_line):
        lines.append(indent + " ".join("0x%02x" % x for x in b[i:i + per_line]))
    return " \\\n".join(lines)

def emit_fru(devid, size, img):
    assert len(img) <= size
    return "mc_add_fru_data 0x20 %d %d data \\\n%s\n" % (devid, size, hexbytes(img))

def emit_sdr(rec):
    name = ""
    return "main_sdr_add 0x20 \\\n%s\n" % hexbytes(rec)

# ---------------------------------------------------------------- emu text
def main():
    sdrs = read_sdrs(os.path.join(HERE, "sensors.bsdr"))
    tmpl = open(os.path.join(HERE, "sim.emu.in")).read()
    sdr_txt = []
    for n, r in enumerate(sdrs, 1):
        t = r[3]
        idlen = r[{1: 47, 2: 31, 3: 16, 0x11: 15, 0x12: 15}[t]] & 0x3F
        idstr = r[-idlen:].decode()
        snum = (" sensor 0x%02x" % r[7]) if t in (1, 2, 3) else ""
        sdr_txt.append("# SDR record %d: type 0x%02x%s \"%s\"\n" % (n, t, snum, idstr))
        sdr_txt.append(emit_sdr(r))
    out = tmpl.replace("@SDRS@\n", "".join(sdr_txt))
    out = out.replace("@FRU0@\n", emit_fru(0, 256, FRU0))
    out = out.replace("@FRU1@\n", emit_fru(1, 256, FRU1))
    open(os.path.join(HERE, "..", "catalog.emu"), "w").write(out)
    open(os.path.join(HERE, "fru0.bin"), "wb").write(FRU0)
    open(os.path.join(HERE, "fru1.bin"), "wb").write(FRU1)
    print("FRU0 %d bytes, FRU1 %d bytes, %d SDRs" % (len(FRU0), len(FRU1), len(sdrs)),
          file=sys.stderr)

main()
