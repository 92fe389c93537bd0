#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test (unit, golden, property, peer interop,
# examples built, doc tests). CI runs exactly this (.ci/run).
#
# Independent peers (pyspnego, ...) are installed into .venv first. Under CI, a peer that cannot
# run fails its test; elsewhere it prints SKIP and why.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CI:-}" ]; then
  export WINRM_IPMI_REQUIRE_PEERS=1
fi
scripts/peers.sh || echo "peers: could not install (tests that need them will SKIP or, under CI, fail)"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
cargo test --doc
