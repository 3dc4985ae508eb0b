#!/usr/bin/env bash
# Tools the tests call besides Node: xmllint (JUnit output is validated against
# junit-10.xsd), openssl (throwaway test certificates), python3 (the probe's
# "listener that never accepts": Node accepts every connection it is offered),
# dnsmasq (a real DNS server on loopback serving the probe's made-up zones) and chromium (the HTML
# report is opened in headless Chromium, driven by playwright-core, which downloads no browser). Installed from
# Debian when missing and running as root; otherwise the exact command is shown.
set -euo pipefail
need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3-minimal)
# dnsmasq lives in /usr/sbin, which a non-root PATH may lack.
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
# The browser test launches /usr/bin/chromium by that path.
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "mailprobe tests need: ${need[*]}; install with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "mailprobe: installing ${need[*]} from Debian" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
