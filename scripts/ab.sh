#!/usr/bin/env bash
# Old build against new, in alternating runs: on this class of VM the CPU per request of one
# binary drifts by up to a quarter over an hour (host contention), so a change is judged by
# pairs run back to back, never by figures taken at different times.
#   scripts/ab.sh [REV] [PAIRS] [--fleet]
# REV (default HEAD~1) is built in a git worktree with its own target directory; the working
# tree is the new side. Each pair runs benches/per_request.rs on each build, client and its own
# simulator pinned to vCPU 0, and prints client and simulator CPU-µs per sealed request.
# --fleet adds, per pair, `correlate` on 10,000 simulated hosts (--concurrency 128, unpinned):
# wall time, client and simulator CPU-s. Not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=HEAD~1; pairs=4; fleet=
for a in "$@"; do
  if [ "$a" = --fleet ]; then fleet=1
  elif [[ $a =~ ^[0-9]{1,3}$ ]]; then pairs=$a   # a count; a revision is anything else
  else rev=$a
  fi
done
old_src=target/ab/src; old_target=target/ab/target
rm -rf "$old_src"; git worktree prune
git worktree add --detach -f "$old_src" "$rev" > /dev/null
dir=$(mktemp -d); pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$dir"; git worktree remove --force "$old_src" 2>/dev/null || true
}
trap cleanup EXIT
echo "building $rev ($(git rev-parse --short "$rev")) and the working tree; $pairs pairs"
(cd "$old_src" && CARGO_TARGET_DIR="$PWD/../target" cargo build -q --release --bin winrm-ipmi \
  && CARGO_TARGET_DIR="$PWD/../target" cargo bench -q --bench per_request --no-run 2> /dev/null)
cargo build -q --release --bin winrm-ipmi
cargo bench -q --bench per_request --no-run 2> /dev/null
newest() { ls -t "$1"/release/deps/per_request-* | grep -v '\.d$' | head -1; }
old_bench=$(newest "$old_target"); new_bench=$(newest target)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_for() { for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "simulator did not start"; exit 1; }

per_request() { # label binary bench
  rm -f "$dir/one.txt"
  taskset -c 0 "$2" sim --count 1 --port 0 --endpoints-file "$dir/one.txt" > /dev/null &
  local sim=$!; pids+=("$sim"); wait_for "$dir/one.txt"
  local n=50000 t0 t1 out
  t0=$(cpu_ticks "$sim")
  out=$(PER_REQUEST_COUNT=$n PER_REQUEST_ENDPOINT=$(head -1 "$dir/one.txt") taskset -c 0 "$3" --bench)
  t1=$(cpu_ticks "$sim")
  # The simulator also served the bench's n/10 warm-up requests.
  echo "$1: ${out#ours: } | simulator $(awk "BEGIN {printf \"%.1f\", ($t1 - $t0) * 1e4 / ($n * 1.1)}") CPU-us per request"
  kill "$sim"; wait "$sim" 2> /dev/null || true
}

fleet_run() { # label binary
  ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"
  rm -f "$dir/fleet.txt"
  "$2" sim --count 10000 --port 0 --endpoints-file "$dir/fleet.txt" > /dev/null &
  local sim=$!; pids+=("$sim"); wait_for "$dir/fleet.txt"
  local t0 t1 wall user sys
  t0=$(cpu_ticks "$sim")
  WINRM_PASSWORD='Sim-Passw0rd!' /usr/bin/time -f "%e %U %S" -o "$dir/time" \
    "$2" --hosts "$dir/fleet.txt" -U Administrator --concurrency 128 correlate --output json \
    > "$dir/out.jsonl" 2> /dev/null
  t1=$(cpu_ticks "$sim")
  read -r wall user sys < "$dir/time"
  echo "$1: correlate, $(grep -c '"ok":true' "$dir/out.jsonl") of 10000 hosts ok in $wall s;" \
    "client $(awk "BEGIN {print $user + $sys}") CPU-s, simulator $(awk "BEGIN {print ($t1 - $t0) / 100}") CPU-s"
  kill "$sim"; wait "$sim" 2> /dev/null || true
}

for i in $(seq "$pairs"); do
  echo "== pair $i"
  per_request "old" "$old_target/release/winrm-ipmi" "$old_bench"
  per_request "new" target/release/winrm-ipmi "$new_bench"
  if [ -n "$fleet" ]; then
    fleet_run "old" "$old_target/release/winrm-ipmi"
    fleet_run "new" target/release/winrm-ipmi
  fi
done
