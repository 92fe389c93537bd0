#!/bin/sh
# Regenerates ../catalog.emu from sim.emu.in + sensors.sdrs (needs sdrcomp from
# the Debian "openipmi" package, and python3).
set -e
cd "$(dirname "$0")"
sdrcomp -8 -r -o sensors.bsdr sensors.sdrs   # -r raw binary, -8 8-bit ASCII id strings
python3 gen_emu.py                            # writes ../catalog.emu, fru0.bin, fru1.bin
