#!/usr/bin/env bash
# The phone, end to end: builds the Cortex-M3 firmware image, builds the
# test call manager's TFTP tree (cluster PKI, CTL, ITL, signed config),
# starts the tcm TFTP server on a free loopback port and boots the phone
# under QEMU (mps2-an385, LAN9118 on QEMU's user network) against it. The
# phone's serial console (UART0) is this terminal: the secure boot trace
# scrolls by, then the console prompt takes commands (help, show
# trustlist, erase trustlist, show config, reboot, quit). Ctrl-A X also
# leaves QEMU.
#
#   toolchain/run-phone.sh [--fresh] [--once] [--loss P]
#     --fresh   factory-fresh phone: forget the flash (trust lists) first
#     --once    no console: exit after the boot (status 0 = config accepted)
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
mac=00:1e:7a:4c:11:a1 # the phone tcm builds its tree for (SEP001E7A4C11A1)
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
echo "run-phone: building the test call manager's tree ($run/tree)"
(cd "$here/tests/tcm" && PYTHONDONTWRITEBYTECODE=1 "$py" -m tcm build --out "$run/tree" \
   --keys "$run/keys" >/dev/null)
[ "$fresh" = 1 ] && rm -f "$run/flash.bin"

# The server picks a free port and says which; QEMU's user network forwards
# the guest's 10.0.2.2:PORT to 127.0.0.1:PORT. The phone still learns the
# server's address from DHCP option 66 (tftp-server-name).
log="$run/tcm-serve.log"
(cd "$here/tests/tcm" && exec env PYTHONDONTWRITEBYTECODE=1 "$py" -m tcm serve \
   --root "$run/tree/tftp" --port 0 --loss "$loss" -v) >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "run-phone: tcm serve did not start:" >&2; cat "$log" >&2; exit 1; }
echo "run-phone: tcm TFTP server on 127.0.0.1:$port (log: $log), loss $loss"

args="--tftp-port $port"
if [ "$once" = 1 ]; then args="$args --once"; else args="$args --interactive"; fi
echo "run-phone: booting the phone (QEMU mps2-an385, flash $run/flash.bin); Ctrl-A X quits"
echo
cd "$run"
set +e
qemu-system-arm -M mps2-an385 -cpu cortex-m3 -nographic \
  -semihosting-config enable=on,target=native -icount shift=3 \
  -nic "user,model=lan9118,mac=$mac,tftp-server-name=10.0.2.2" \
  -kernel "$elf" -append "$args"
status=$?
set -e
echo
echo "run-phone: QEMU exit status $status"
exit "$status"
