#!/usr/bin/env bash
# Long runs kept out of CI (figures in the README):
# - soak: one client, 1,000,000 sealed requests against the simulator (a separate process),
#   reconnecting every 1,000 replies and retrying a C0h every 500th request; client RSS after
#   warm-up vs at the end (SOAK_REQUESTS, SOAK_CLOSE_EVERY, SOAK_BUSY_EVERY to change);
# - abuse: 10,000 connections dropped mid-handshake, three rounds, then a normal client is served;
#   simulator RSS and open fds per round (ABUSE_CONNECTIONS, ABUSE_ROUNDS).
#   scripts/soak.sh [soak|abuse]...
set -euo pipefail
cd "$(dirname "$0")/.."
runs=("$@"); [ ${#runs[@]} -gt 0 ] || runs=(soak abuse)
for r in "${runs[@]}"; do
  cargo bench --quiet --bench "$r" 2>&1 | grep -v "^\s*$"
done
