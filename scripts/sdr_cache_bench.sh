#!/usr/bin/env bash
# The sensor-record cache's effect, on the simulator (release build; not in CI):
#  1. `sdr list` on one host: no cache vs the cache warm (on disk), mean wall of 10 runs;
#  2. `sensor list --output json` on a fleet of identical hosts (default 500), --concurrency 64:
#     no cache (every host downloads its SDR repository) vs warm, wall time and WinRM requests
#     per host. The simulator is a separate process on the same machine (unpinned).
#   scripts/sdr_cache_bench.sh [hosts]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-500}
cargo build -q --release --bin winrm-ipmi
bin=target/release/winrm-ipmi
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true
$bin sim --count "$hosts" --port 0 --endpoints-file "$dir/fleet.txt" > /dev/null &
pid=$!
for _ in $(seq 400); do [ -s "$dir/fleet.txt" ] && break; sleep 0.05; done
export WINRM_PASSWORD='Sim-Passw0rd!' XDG_CACHE_HOME="$dir/cache"
one=$(head -1 "$dir/fleet.txt")
mean() { # runs "$@" 10 times, prints the mean wall in ms
  python3 - "$@" <<'PY'
import subprocess, sys, time
t = []
for _ in range(10):
    s = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); t.append(time.perf_counter() - s)
print(f"{sum(t) / len(t) * 1000:.1f} ms")
PY
}
requests() { python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in rows if r["ok"]]
n = sum(r["result"]["winrm_requests"] for r in ok) / max(len(ok), 1)
print("%d/%d ok, %.1f WinRM requests per host" % (len(ok), len(rows), n))' "$1"; }
echo "== 1. sdr list, one host"
echo "no cache: $(mean $bin -H "$one" -U Administrator --no-sdr-cache sdr list)"
$bin -H "$one" -U Administrator sdr list > /dev/null
echo "warm:     $(mean $bin -H "$one" -U Administrator sdr list)"
echo "== 2. sensor list --output json, $hosts hosts, --concurrency 64"
rm -rf "$dir/cache"
s=$(date +%s.%N); $bin --hosts "$dir/fleet.txt" -U Administrator --concurrency 64 --no-sdr-cache --output json sensor list > "$dir/cold.jsonl"; e=$(date +%s.%N)
echo "no cache: $(python3 -c "print(f'{$e - $s:.2f} s')"); $(requests "$dir/cold.jsonl")"
s=$(date +%s.%N); $bin --hosts "$dir/fleet.txt" -U Administrator --concurrency 64 --output json sensor list > "$dir/warm.jsonl"; e=$(date +%s.%N)
echo "cache (first run, one download then memory): $(python3 -c "print(f'{$e - $s:.2f} s')"); $(requests "$dir/warm.jsonl")"
s=$(date +%s.%N); $bin --hosts "$dir/fleet.txt" -U Administrator --concurrency 64 --output json sensor list > "$dir/warm2.jsonl"; e=$(date +%s.%N)
echo "cache (warm on disk):                        $(python3 -c "print(f'{$e - $s:.2f} s')"); $(requests "$dir/warm2.jsonl")"
