#!/usr/bin/env bash
# Installs the system and Python packages the build and the test suites need,
# skipping what is already present. Safe to run repeatedly.
set -euo pipefail

apt_packages=(
  libssl-dev            # SHA-256 (libcrypto) for the store
  libcurl4-openssl-dev  # the operator's Kubernetes API client
  libyaml-dev           # the operator's config and kubeconfig
  curl openssl          # the readme transcript and TLS tests
  iproute2 dnsmasq-base # the local multi-pod cluster (network namespaces, DNS)
  shellcheck            # lint of the shell scripts
)

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo_if_needed=()
  [[ $(id -u) -eq 0 ]] || sudo_if_needed=(sudo)
  "${sudo_if_needed[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_if_needed[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

here=$(cd "$(dirname "$0")/.." && pwd)
if ! python3 -c 'import pytest, requests, aiohttp, cryptography' 2>/dev/null || ! command -v ccache >/dev/null; then
  python3 -m pip install -q --root-user-action=ignore -r "$here/e2e/requirements.txt" -r "$here/e2e/kubeapi/requirements.txt"
fi
