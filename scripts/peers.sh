#!/usr/bin/env bash
# Installs the independent test peers into .venv (Python: pyspnego). Idempotent; needs only
# PyPI. Prints what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages: OpenIPMI's ipmi_sim and ipmitool (the BMC comparison tests), tinyproxy (a
# real HTTP proxy for the proxy tests).
if ! command -v ipmi_sim >/dev/null || ! command -v ipmitool >/dev/null || ! command -v tinyproxy >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openipmi ipmitool tinyproxy) >/dev/null \
      && echo "peers: installed openipmi (ipmi_sim), ipmitool and tinyproxy" \
      || echo "peers: could not install openipmi/ipmitool/tinyproxy"
  else
    echo "peers: ipmi_sim/ipmitool/tinyproxy missing and not root; install the Debian packages openipmi, ipmitool and tinyproxy"
  fi
fi
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
