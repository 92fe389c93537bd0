#!/usr/bin/env bash
# Fleet load run: N simulated hosts in one process (winrm-ipmi sim), our client inventorying
# all of them (examples/fleet_inventory: Enumerate Win32_OperatingSystem, find Microsoft_IPMI,
# Get Device ID, LAN configuration) over HTTP with NTLM and message encryption.
# Reports wall time, requests/s and the peak RSS of both processes.   scripts/load.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
cargo build -q --release --bin winrm-ipmi --example fleet_inventory
dir=$(mktemp -d)
target/release/winrm-ipmi sim --count "$n" --port 0 --endpoints-file "$dir/endpoints.txt" > "$dir/sim.log" &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 200); do [ -f "$dir/endpoints.txt" ] && break; sleep 0.05; done
[ -f "$dir/endpoints.txt" ] || { echo "simulator did not start"; exit 1; }
target/release/examples/fleet_inventory "$dir/endpoints.txt" > "$dir/out.jsonl" 2> "$dir/client.txt"
echo "library client (examples/fleet_inventory):"
cat "$dir/client.txt"
# The same fleet through the CLI, as an admin runs it.
start=$(date +%s.%N)
WINRM_PASSWORD='Sim-Passw0rd!' target/release/winrm-ipmi --hosts "$dir/endpoints.txt" -U Administrator \
  --concurrency "$n" correlate --output json > "$dir/cli.jsonl" 2> "$dir/cli.err"
end=$(date +%s.%N)
echo "CLI: winrm-ipmi --hosts (${n} hosts) correlate --output json: $(awk "BEGIN {printf \"%.3f\", $end - $start}") s wall, $(grep -c '"ok":true' "$dir/cli.jsonl") ok; $(tail -1 "$dir/cli.err")"
echo "simulator ($n hosts, one process) peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$sim/status)"
echo "hosts with BMC IP and MAC: $(grep -c '"mac_address"' "$dir/out.jsonl") of $n"
