#!/usr/bin/env bash
# Installs the independent test peers into .venv (Python: pyspnego). Idempotent; needs only
# PyPI. Prints what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/peers/requirements.txt
stamp=.venv/.installed-$(sha256sum "$req" | cut -c1-16)
if [ -f "$stamp" ]; then
  echo "peers: .venv up to date"
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
touch "$stamp"
echo "peers: installed $(grep -v '^#' "$req" | tr '\n' ' ')"
