#!/usr/bin/env bash
# Runs each fuzz target on stable Rust for N seconds (default 60), or for N executions with
# --runs N, starting from the committed seed corpora in tests/fuzz/corpus/ and the WS-Man
# dictionary. New inputs go to a scratch directory, so the committed corpora stay small.
#   scripts/fuzz.sh [seconds] [target...]
#   scripts/fuzz.sh --runs 10000000 [target...]
set -euo pipefail
cd "$(dirname "$0")/../tests/fuzz"
if [ "${1:-}" = --runs ]; then
  limit="-runs=$2"; shift 2
else
  limit="-max_total_time=${1:-60}"; shift || true
fi
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(wsman_reply wsman_request ipmi_response ntlm_and_framing auth_exchange microsoft_ipmi_output)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "== $t ($limit)"
  cargo fuzz run -s none --fuzz-dir . "$t" "$scratch/$t" "corpus/$t" -- \
    -dict=wsman.dict "$limit" 2>&1 | grep -E "^Done|panicked|ERROR|SUMMARY" || true
done
