#!/usr/bin/env bash
# The exporter under a fleet's load (release build; not in CI): one `winrm-ipmi exporter`
# process in front of N simulated hosts (default 2,000), each scraped once every INTERVAL
# seconds (default 30), spread evenly as Prometheus spreads them, for ROUNDS rounds (default 4).
# Round 1 pays the NTLM handshakes and the sensor-record download; rounds 2.. are the steady
# state. Prints, per phase: scrapes, failures, latency p50/p99/max, and the exporter's CPU
# (utime + stime from /proc, as a share of one core) and RSS (current and peak).
# The simulator and the load driver are separate processes on the same machine (unpinned).
#   scripts/exporter_bench.sh [hosts] [interval_s] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-2000}
interval=${2:-30}
rounds=${3:-4}
cargo build -q --release --bin winrm-ipmi
bin=target/release/winrm-ipmi
dir=$(mktemp -d)
sim= exp=
cleanup() {
  [ -n "$exp" ] && kill "$exp" 2>/dev/null
  [ -n "$sim" ] && kill "$sim" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true
$bin sim --count "$hosts" --port 0 --endpoints-file "$dir/fleet.txt" > /dev/null &
sim=$!
for _ in $(seq 400); do [ -s "$dir/fleet.txt" ] && break; sleep 0.05; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WINRM_USER=Administrator WINRM_PASSWORD='Sim-Passw0rd!' XDG_CACHE_HOME="$dir/cache" \
  $bin exporter --listen "127.0.0.1:$port" > "$dir/exporter.log" 2>&1 &
exp=$!
for _ in $(seq 200); do grep -q listening "$dir/exporter.log" && break; sleep 0.05; done
echo "exporter pid $exp on 127.0.0.1:$port; $hosts simulated hosts (pid $sim); every ${interval} s, $rounds rounds"
python3 - "$port" "$dir/fleet.txt" "$interval" "$rounds" "$exp" <<'PY'
import http.client, os, queue, statistics, sys, threading, time

port, fleet, interval, rounds, pid = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
targets = [l.strip() for l in open(fleet) if l.strip()]
tick = os.sysconf("SC_CLK_TCK")

def proc():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(f[11]) + int(f[12])) / tick
    st = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    kib = lambda k: int(st[k].split()[0])
    return cpu, kib("VmRSS"), kib("VmHWM")

# Each target's scrape times: offset i * interval / n within every round (Prometheus spreads
# a job's targets over the interval by a hash; an even spread is the same load).
n = len(targets)
work = queue.Queue()
results = [[] for _ in range(rounds)]  # (latency_s, ok)
start = time.monotonic() + 1.0
lock = threading.Lock()

def worker():
    conn = None
    while True:
        item = work.get()
        if item is None:
            return
        due, r, t = item
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s = time.monotonic()
        ok = False
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
            conn.request("GET", f"/ipmi?target={t}", headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"})
            body = conn.getresponse().read()
            ok = b'ipmi_up{collector="ipmi"} 1' in body
        except Exception:
            conn = None
        with lock:
            results[r].append((time.monotonic() - s, ok))

# Enough workers that a slow scrape never delays the schedule (the driver is open-loop).
threads = [threading.Thread(target=worker, daemon=True) for _ in range(256)]
for th in threads:
    th.start()

def feed():
    for r in range(rounds):
        for i, t in enumerate(targets):
            due = start + r * interval + i * interval / n
            while due - time.monotonic() > 0.5:
                time.sleep(0.1)
            work.put((due, r, t))
threading.Thread(target=feed, daemon=True).start()

marks = []
for r in range(rounds + 1):
    wait = start + r * interval - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    marks.append((time.monotonic(), *proc()))
# Let the last round's stragglers finish.
deadline = time.monotonic() + 30
while sum(map(len, results)) < rounds * n and time.monotonic() < deadline:
    time.sleep(0.2)
for _ in threads:
    work.put(None)

def report(label, lat, t0, t1):
    ok = sum(1 for _, o in lat if o)
    ls = sorted(l for l, _ in lat)
    q = lambda p: ls[min(len(ls) - 1, int(p * len(ls)))] * 1000 if ls else float("nan")
    wall = t1[0] - t0[0]
    cpu = t1[1] - t0[1]
    print(f"{label}: {len(lat)} scrapes, {len(lat) - ok} failed; latency p50 {q(0.5):.1f} ms, "
          f"p99 {q(0.99):.1f} ms, max {ls[-1] * 1000 if ls else 0:.1f} ms; exporter CPU "
          f"{cpu:.2f} s in {wall:.1f} s = {cpu / wall:.3f} core; RSS {t1[2] / 1024:.1f} MiB "
          f"(peak {t1[3] / 1024:.1f} MiB)")

report("round 1 (handshakes, first sensor records)", results[0], marks[0], marks[1])
steady = [x for r in results[1:] for x in r]
report(f"rounds 2-{rounds} (steady)", steady, marks[1], marks[rounds])
PY
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^winrm_ipmi_exporter_(scrapes_total|clients|sdr_cache_total|shared_scrapes_total)' || true
