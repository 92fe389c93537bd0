#!/usr/bin/env bash
# The performance table, from one run (release build, this machine; not in CI):
#  1. client CPU per sealed Get Device ID, one connection, client and simulator pinned to one
#     vCPU (taskset -c 0): ours, pywinrm's (from the tests' .venv), and the ratio, over
#     alternating rounds (ROUNDS, default 5) and their medians;
#  2. envelope build and reply parse (criterion);
#  3. `correlate` on 10,000 simulated hosts through the CLI, --concurrency 128, the simulator a
#     separate process on the same machine (unpinned): wall time and the client's peak RSS;
#  4. Kerberos vs NTLM, client CPU: a fresh client's first request (ticket acquisition and
#     handshake) and a steady-state sealed request (benches/kerberos.rs: its own MIT KDC and
#     `sim --keytab`, all pinned to vCPU 0). Needs krb5-kdc (scripts/peers.sh installs it).
#   scripts/bench.sh [hosts]     (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-10000}
cargo build -q --release --bin winrm-ipmi
cargo bench -q --bench per_request --no-run 2>/dev/null
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
wait_for() { for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "simulator did not start"; exit 1; }

echo "== 1. CPU per request, client + simulator pinned to vCPU 0"
taskset -c 0 target/release/winrm-ipmi sim --count 1 --port 0 --endpoints-file "$dir/one.txt" > /dev/null &
pids+=($!)
wait_for "$dir/one.txt"
ep=$(head -1 "$dir/one.txt")
# Both sides drift with the VM's phase, and not in step, so the ratio is taken over alternating
# rounds (ours, then pywinrm's, ROUNDS times, default 5): each round's figures, then the ratio
# of the medians.
rounds=${ROUNDS:-5}
py=.venv/bin/python
have_py=
if [ -x "$py" ] && "$py" -c "import winrm" 2>/dev/null; then have_py=1; fi
a_all=(); b_all=()
for r in $(seq "$rounds"); do
  ours=$(PER_REQUEST_ENDPOINT=$ep PER_REQUEST_COUNT=${OURS_REQUESTS:-50000} taskset -c 0 \
    cargo bench -q --bench per_request 2>/dev/null | grep '^ours')
  echo "round $r: $ours"
  a_all+=("$(echo "$ours" | awk '{print $2}')")
  if [ -n "$have_py" ]; then
    theirs=$(BENCH_REQUESTS=${PYWINRM_REQUESTS:-2000} taskset -c 0 "$py" tests/peers/pywinrm_client.py \
      "http://$ep/wsman" Administrator 'Sim-Passw0rd!' | grep '^pywinrm')
    echo "round $r: $theirs"
    b_all+=("$(echo "$theirs" | awk '{print $2}')")
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
a=$(median "${a_all[@]}")
echo "ours: median $a CPU-us per request over $rounds rounds (${a_all[*]})"
if [ -n "$have_py" ]; then
  b=$(median "${b_all[@]}")
  echo "pywinrm: median $b CPU-us per request over $rounds rounds (${b_all[*]})"
  echo "ratio of the medians: pywinrm's CPU per request / ours = $(awk "BEGIN {printf \"%.1f\", $b / $a}")x"
else
  echo "pywinrm: not installed (scripts/peers.sh installs it into .venv)"
fi
kill "${pids[0]}"

echo "== 2. Envelope build and parse (criterion medians)"
cargo bench -q --bench envelope -- --warm-up-time 1 --measurement-time 3 2>/dev/null \
  | awk '/^[^ ]/ && !/^Found/ {name=$0} /^ +time:/ && name != "" {print name ": median " $4 " " $5; name=""}'


echo "== 3. correlate on $hosts simulated hosts through the CLI, --concurrency 128"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
target/release/winrm-ipmi sim --count "$hosts" --port 0 --endpoints-file "$dir/fleet.txt" > /dev/null &
pids+=($!)
wait_for "$dir/fleet.txt"
WINRM_PASSWORD='Sim-Passw0rd!' /usr/bin/time -f "%e %M" -o "$dir/time" \
  target/release/winrm-ipmi --hosts "$dir/fleet.txt" -U Administrator --concurrency 128 \
  correlate --output json > "$dir/out.jsonl" 2> "$dir/err"
read -r wall rss < "$dir/time"
echo "$(grep -c '"ok":true' "$dir/out.jsonl") of $hosts hosts ok in $wall s wall; client peak RSS $((rss / 1024)) MiB; $(tail -1 "$dir/err")"
WINRM_PASSWORD='Sim-Passw0rd!' /usr/bin/time -f "%e %M" -o "$dir/time" \
  target/release/winrm-ipmi --hosts "$dir/fleet.txt" -U Administrator --concurrency 128 \
  correlate --channel 1 --output json > "$dir/out.jsonl" 2> "$dir/err"
read -r wall rss < "$dir/time"
echo "correlate --channel 1 (the channel named): $(grep -c '"ok":true' "$dir/out.jsonl") of $hosts hosts ok in $wall s wall; client peak RSS $((rss / 1024)) MiB"

echo "== 4. Kerberos vs NTLM, client CPU, everything pinned to vCPU 0"
if [ -x /usr/sbin/krb5kdc ]; then
  taskset -c 0 cargo bench -q --bench kerberos 2>/dev/null
else
  echo "krb5-kdc not installed (scripts/peers.sh installs it)"
fi
