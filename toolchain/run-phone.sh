#!/usr/bin/env bash
# The phone, end to end: builds the Cortex-M3 firmware image, builds the
# test call manager's tree (cluster PKI, CTL, ITL, a partial config and
# the config encrypted for the phone's MIC), starts the tcm TFTP, TVS,
# HTTPS and CAPF servers on free loopback ports and boots the phone under
# QEMU (mps2-an385, LAN9118 on QEMU's user network) against them. The
# phone's serial console (UART0) is this terminal: the secure boot trace
# scrolls by (trust lists, signed config, encrypted config decrypted with
# the MIC), then `capf start` (LSC enrolment), `show cert` and `verify
# https` (a TVS check) are typed for you, and the console is yours (help,
# show trustlist, show cert, capf status, show tvs, reboot, quit).
#
#   toolchain/run-phone.sh [--fresh] [--once] [--loss P]
#     --fresh   factory-fresh phone: forget the flash (trust lists) first
#     --once    exit after the scripted commands (status 0 = config accepted)
#     --loss P  the server drops a fraction P of its datagrams (e.g. 0.2)
#
# Runs toolchain/setup.sh first (a no-op once everything is installed).
# Everything is written under build/run-phone/ (the phone's flash.bin
# survives between runs, as a phone's flash does).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
run="$here/build/run-phone"
image="$here/build/qemu-mps2-an385"
elf="$image/boards/qemu-mps2-an385/secd-firmware.elf"
py=/usr/bin/python3

fresh=0 once=0 loss=0
while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) fresh=1 ;;
    --once) once=1 ;;
    --loss) shift; loss=${1:?--loss needs a fraction} ;;
    *) echo "usage: $0 [--fresh] [--once] [--loss P]" >&2; exit 2 ;;
  esac
  shift
done

"$here/toolchain/setup.sh" >&2 || { echo "run-phone: setup failed" >&2; exit 2; }

for tool in cmake ninja arm-none-eabi-gcc qemu-system-arm "$py"; do
  command -v "$tool" >/dev/null || { echo "run-phone: $tool missing: run toolchain/setup.sh" >&2; exit 2; }
done
[ -f "$here/.deps/deps.lock" ] || { echo "run-phone: .deps missing: run toolchain/setup.sh" >&2; exit 2; }

echo "run-phone: building the firmware image ($image)"
[ -f "$image/CMakeCache.txt" ] || cmake --preset qemu-mps2-an385 -S "$here" -B "$image" >/dev/null
cmake --build "$image" -j"$(nproc)" >/dev/null
cmake --build "$image" --target size | tail -n 2

mkdir -p "$run"
# toolchain/run_phone.py: the tcm servers (TFTP, TVS, HTTPS, CAPF) on free
# loopback ports, the factory MIC in flash.bin, QEMU with UART0 on this
# terminal, and the console commands that show CAPF and TVS.
opts=()
[ "$fresh" = 1 ] && opts+=(--fresh)
[ "$once" = 1 ] && opts+=(--once)
exec env PYTHONDONTWRITEBYTECODE=1 "$py" "$here/toolchain/run_phone.py" --elf "$elf" \
  --run "$run" --loss "$loss" "${opts[@]}"
