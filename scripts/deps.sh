#!/usr/bin/env bash
# Installs every build and test dependency of memlens with apt-get, only what is missing.
# Works on a minimal Debian 12 root (debootstrap minbase: no compiler), as root or via sudo.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config          # toolchain
  libelf-dev zlib1g-dev libpcre2-dev        # library and tool dependencies
  liblz4-dev libzstd-dev liblzma-dev        # snapshot chunk codecs, compressed cores
  check libsubunit-dev                      # unit tests
  clang                                     # libFuzzer, sanitizers
  gdb elfutils valgrind binutils            # core checks, leak checks
  abigail-tools                             # the ABI test (abidiff against tests/abi/libmemlens.abi)
  procps psmisc util-linux bsdutils bc python3 python3-psutil file  # comparisons, CLI tests
  zstd lz4 xz-utils gzip                    # compressed cores made by the core-source tests
  smem                                      # ps is compared with it
  prometheus                                # promtool checks the --prometheus output (the daemon is not started)
  libxml2-utils librsvg2-bin                # the pictures (SVG) are checked with xmllint and rendered with rsvg-convert
  zsh groff-base                            # the zsh completion is loaded, the man pages checked, in tests
)
# Vectorscan is optional (grep's many-pattern accelerator) and exists on amd64 only.
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
  pkgs+=(libvectorscan-dev yara)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "deps: all installed"; exit 0; }

SUDO=
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 2; }
  SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Only promtool is wanted from prometheus: its postinst must not start a daemon (and on a
# machine without systemd, e.g. a container, trying could hang or fail). policy-rc.d
# answering 101 tells invoke-rc.d and deb-systemd-invoke to start nothing; one that is
# already there is left alone.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && own_policy=1
fi
trap '[ -z "$own_policy" ] || $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
