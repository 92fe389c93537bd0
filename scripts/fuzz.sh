#!/usr/bin/env bash
# Runs each fuzz target on stable Rust for N seconds (default 60), starting from the committed
# seed corpora in tests/fuzz/corpus/ and the WS-Man dictionary. New inputs go to a scratch
# directory, so the committed corpora stay small.
#   scripts/fuzz.sh [seconds] [target...]
set -euo pipefail
cd "$(dirname "$0")/../tests/fuzz"
secs=${1:-60}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(wsman_reply wsman_request ipmi_response ntlm_and_framing)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "== $t ($secs s)"
  cargo fuzz run -s none --fuzz-dir . "$t" "$scratch/$t" "corpus/$t" -- \
    -dict=wsman.dict -max_total_time="$secs" 2>&1 | grep -E "^Done|panicked|ERROR|SUMMARY" || true
done
