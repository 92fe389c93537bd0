#!/usr/bin/env bash
# Installs the independent test peers into .venv (Python: pyspnego). Idempotent; needs only
# PyPI. Prints what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages: OpenIPMI's ipmi_sim and ipmitool (the BMC comparison tests), tinyproxy (a
# real HTTP proxy for the proxy tests), MIT Kerberos' KDC and tools (a throwaway realm for the
# Kerberos tests; libkrb5-dev for pyspnego's gssapi/krb5 to build against), and libfaketime
# (a client whose clock is off, for the clock-skew test), Prometheus and prometheus-community's
# ipmi_exporter with FreeIPMI's tools (the exporter tests).
need=()
for tool in ipmi_sim:openipmi ipmitool:ipmitool tinyproxy:tinyproxy krb5kdc:krb5-kdc \
            kadmin.local:krb5-admin-server kinit:krb5-user krb5-config:libkrb5-dev faketime:faketime \
            prometheus:prometheus prometheus-ipmi-exporter:prometheus-ipmi-exporter \
            ipmimonitoring:freeipmi-tools; do
  command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null \
      && echo "peers: installed ${need[*]}" \
      || echo "peers: could not install ${need[*]}"
  else
    echo "peers: missing Debian packages ${need[*]} and not root; install them"
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
