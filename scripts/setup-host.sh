#!/usr/bin/env bash
# Installs the host tools LAP's local runtime and its tests need (Debian/Ubuntu, as root):
# iproute2 (netns, veth), iptables (nft backend), util-linux (unshare, nsenter, setpriv), and the real
# clients the tests drive (curl, python3, openssl, dig). Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(iproute2 iptables util-linux curl python3 openssl dnsutils ca-certificates procps)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-host: run as root (sudo $0): it installs Debian packages" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup-host: host tools present (${packages[*]})"
