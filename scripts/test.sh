#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test (unit, golden, property, examples built,
# doc tests). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
cargo test --doc
