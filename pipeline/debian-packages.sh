#!/usr/bin/env bash
# Installs the Debian packages the project's scripts call, where missing.
# curl: the emulator's health check; openssl: its TLS certificates;
# chromium and chromium-driver: the browser tests drive Debian's Chromium at
# /usr/bin/chromium (Playwright's own browser download needs a network it cannot have);
# terraform itself is not a Debian package: the README says how to get it (its requirements paragraph).
set -euo pipefail
needed=(curl openssl)
missing=()
for command in "${needed[@]}"; do
  command -v "$command" >/dev/null || missing+=("$command")
done
[[ -x /usr/bin/chromium ]] || missing+=(chromium chromium-driver)
if ! command -v terraform >/dev/null; then
  echo "error: terraform (>= 1.10) is not on PATH; install it from HashiCorp's releases and retry" >&2
  exit 1
fi
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "error: missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "==> apt-get install ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
