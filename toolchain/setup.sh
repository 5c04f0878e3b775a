#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12
# machine, and fetches the pinned third-party sources (Debian source
# packages, Debian patches applied) into .deps/ (ignored by git).
#
# Pinning rule (see docs/dependencies.md): we pin the UPSTREAM version and
# take the newest Debian revision the archive offers, because old security
# revisions vanish from the archive. The revision actually used is printed
# and written to .deps/deps.lock, which the build embeds in the banner.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
deps="$here/.deps"
stamp="$deps/.setup-done"
# The stamp records this script's own checksum: a changed package list or
# pin makes the next run install again.
self_sum=$(sha256sum "$0" | cut -d" " -f1)

die() { echo "setup: ERROR: $*" >&2; exit 1; }

# name upstream-version minimum-debian-revision
PINS=(
  "wolfssl 5.5.4 5.5.4-2+deb12u2"
  "lwip 2.1.3 2.1.3+dfsg1-2"
  "expat 2.5.0 2.5.0-1+deb12u1"
)

PACKAGES=(
  build-essential cmake ninja-build pkg-config dpkg-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  qemu-system-arm
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
  libcmocka-dev valgrind
  clang llvm libclang-rt-14-dev clang-tidy cppcheck
  python3-pytest python3-cryptography
  tftpd-hpa openssl
)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$self_sum" ] && [ "${SECD_SETUP_FORCE:-0}" != 1 ]; then
  echo "setup: already done ($(tr '\n' ' ' < "$deps/deps.lock"))"
  exit 0
fi

[ "$(id -u)" = 0 ] || SUDO=sudo
SUDO=${SUDO:-}
command -v apt-get >/dev/null || die "apt-get not found: this project installs its tools from Debian 12 packages"

# deb-src entries: copy the machine's own Debian entries (no archive host is
# written in this repository).
src_list=/etc/apt/sources.list.d/secd-deb-src.sources
if [ ! -f "$src_list" ]; then
  base=/etc/apt/sources.list.d/debian.sources
  [ -f "$base" ] || die "no $base to derive deb-src entries from; add deb-src lines for bookworm and bookworm-security by hand"
  sed 's/^Types: deb$/Types: deb-src/' "$base" | $SUDO tee "$src_list" >/dev/null
fi

echo "setup: apt-get update"
$SUDO apt-get update -qq || die "apt-get update failed: is Debian's package archive reachable?"

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "could not install: ${missing[*]}"
fi

mkdir -p "$deps"
: > "$deps/deps.lock.tmp"
for pin in "${PINS[@]}"; do
  set -- $pin
  name=$1 upstream=$2 minimum=$3
  # Newest revision first; the index can list a revision the archive no
  # longer serves (seen: expat 2.5.0-1+deb12u5 404), so fall back in order.
  versions=$(apt-cache showsrc "$name" 2>/dev/null | awk '/^Version:/{print $2}' | grep "^$upstream" | sort -Vru || true)
  [ -n "$versions" ] || die "no source package $name $upstream in the archive (deb-src configured? apt-get update ran?)"
  dir="$deps/$name"
  got=""
  for ver in $versions; do
    dpkg --compare-versions "$ver" ge "$minimum" || continue
    if [ -f "$dir/.version" ] && [ "$(cat "$dir/.version")" = "$ver" ]; then got=$ver; break; fi
    echo "setup: fetching source $name $ver"
    rm -rf "$dir" "$deps/dl-$name"
    mkdir -p "$deps/dl-$name"
    if (cd "$deps/dl-$name" && apt-get source -qq --download-only "$name=$ver" >/dev/null 2>&1); then
      dsc=$(ls "$deps/dl-$name"/*.dsc | head -n 1)
      (cd "$deps/dl-$name" && dpkg-source -q -x "$dsc" "$dir" >/dev/null) || die "dpkg-source -x $dsc failed"
      rm -rf "$deps/dl-$name"
      echo "$ver" > "$dir/.version"
      got=$ver
      break
    fi
    echo "setup: $name $ver is listed but not served; trying an older revision"
  done
  rm -rf "$deps/dl-$name"
  [ -n "$got" ] || die "no revision of $name $upstream >= $minimum could be downloaded"
  ver=$got
  echo "$name $ver" >> "$deps/deps.lock.tmp"
done
mv "$deps/deps.lock.tmp" "$deps/deps.lock"
echo "$self_sum" > "$stamp"
echo "setup: done: $(tr '\n' ' ' < "$deps/deps.lock")"
