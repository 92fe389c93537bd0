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
cargo clippy --all-targets --all-features -- -D warnings
# The library alone (default features off): no CLI or simulator code, its own tests.
cargo clippy --no-default-features --lib --tests -- -D warnings
cargo test --no-default-features --lib --tests
# The exporter as a library feature, without the CLI or the simulator.
cargo clippy --no-default-features --features exporter --lib -- -D warnings
cargo test --all-targets
cargo test --doc
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
