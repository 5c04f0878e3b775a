#!/usr/bin/python3
"""Boots secd-firmware.elf in qemu-system-arm (mps2-an385) and checks what
the phone prints on its serial console and the status it exits with.
The image (the ELF, or the flashable .bin or .hex built next to it) runs
with the command line `--no-network` here (banner, self-test, boot
counter, then exit); the network boot is tested by test_phone.py.

Scenarios (each in its own working directory, i.e. its own flash.bin):
  boot           fresh flash: banner, every self-test OK, boot count 1, exit 0
  persist        two boots on the same flash: boot count 1, then 2
  corrupt_flash  damage the stored boot counter between two boots: the
                 second boot must report it (ERR) and exit 2, not restart
                 the count from zero
"""
import argparse
import os
import re
import subprocess
import sys
import time

# <seq>: <LVL> <HH:MM:SS.micros> <MODULE>: <message>   (secd-behaviour B9)
TRACE = re.compile(r"^(\d+): (NOT|WRN|ERR|DBG) (\d\d):(\d\d):(\d\d)\.(\d{6}) (\w+): (.*)$")
BANNER = re.compile(r"^secd \d+\.\d+\.\d+ on qemu-mps2-an385, deps: "
                    r"wolfssl 5\.5\.4-\S+, lwip 2\.1\.3\S*, expat 2\.5\.0-\S+$")
SELFTESTS = [re.compile(r"^self-test sha256: OK$"),
             re.compile(r"^self-test drbg: OK$"),
             re.compile(r"^self-test: RSA PKCS#1 v1\.5 signature of interop ITLFile\.tlv \(\d+ bytes\) OK$"),
             re.compile(r"^self-test OK$")]
FLASH = "flash.bin"
STORAGE_HEADER_SIZE = 32
BOOTCOUNT_SLOT_SIZE = STORAGE_HEADER_SIZE + 32  # firmware/main.c layout
TIMEOUT_S = 60


class Failure(Exception):
    pass


def check(cond, what, output=""):
    if not cond:
        raise Failure(what + ("\n--- console ---\n" + output if output else ""))


def load_args(image):
    """How QEMU loads the image: the ELF or the raw .bin with -kernel (a
    file that is not an ELF is copied to address 0), the Intel HEX with the
    generic loader at its own addresses. The semihosting command line is the
    same either way (first word: the program name, skipped by the board)."""
    if image.endswith(".hex"):
        return (["-semihosting-config", "enable=on,target=native,arg=secd-firmware,arg=--no-network",
                 "-device", "loader,file=" + image])
    return (["-semihosting-config", "enable=on,target=native",
             "-kernel", image, "-append", "--no-network"])


def boot(qemu, elf, workdir):
    """One emulator run; returns (exit status, console text, trace tuples)."""
    cmd = [qemu, "-M", "mps2-an385", "-cpu", "cortex-m3", "-nographic",
           "-monitor", "none", "-serial", "stdio",
           "-icount", "shift=0,sleep=off", "-nic", "none"] + load_args(elf)
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=workdir, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"QEMU did not exit within {TIMEOUT_S} s\n"
                      + (e.stdout or b"").decode(errors="replace"))
    wall = time.monotonic() - start
    out = p.stdout.decode(errors="replace").replace("\r\n", "\n")
    print(out, end="")
    if p.stderr:
        print(p.stderr.decode(errors="replace"), file=sys.stderr, end="")
    print(f"[boot.py] exit status {p.returncode}, wall {wall * 1000:.0f} ms")
    lines = [l for l in out.split("\n") if l]
    traces = []
    for l in lines:
        m = TRACE.match(l)
        check(m, f"console line not in trace format: {l!r}", out)
        traces.append(m.groups())
    seqs = [int(t[0]) for t in traces]
    check(seqs == list(range(1, len(seqs) + 1)), f"trace numbers not 1..n: {seqs}", out)
    stamps = [((int(t[2]) * 60 + int(t[3])) * 60 + int(t[4])) * 10**6 + int(t[5]) for t in traces]
    for a, b in zip(stamps, stamps[1:]):
        # Monotonic, unless the day rolled over between two lines.
        check(b >= a or a - b > 23 * 3600 * 10**6, "trace time went backwards", out)
    return p.returncode, out, traces


def messages(traces, level=None, module=None):
    return [t[7] for t in traces if (level is None or t[1] == level)
            and (module is None or t[6] == module)]


def expect_good_boot(traces, out, count):
    secd = messages(traces, module="SECD")
    check(secd and BANNER.match(secd[0]), "first SECD line is not the banner", out)
    for rx in SELFTESTS:
        check(any(rx.search(m) for m in messages(traces, "NOT", "SECD")),
              f"missing self-test line /{rx.pattern}/", out)
    check(f"boot count {count}" in secd, f"missing 'boot count {count}'", out)
    check(not messages(traces, "ERR"), "unexpected ERR lines", out)
    check(re.search(r"BOARD: exit 0: stack peak \d+ bytes, heap \d+ bytes", out),
          "missing board exit line", out)


def fresh(workdir):
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, FLASH)
    if os.path.exists(path):
        os.remove(path)


def scenario_boot(a):
    fresh(a.workdir)
    rc, out, traces = boot(a.qemu, a.elf, a.workdir)
    check(rc == 0, f"exit status {rc}, expected 0", out)
    expect_good_boot(traces, out, 1)
    size = os.path.getsize(os.path.join(a.workdir, FLASH))
    check(size == 2 * 1024 * 1024, f"flash.bin is {size} bytes, expected 2 MiB")


def scenario_persist(a):
    fresh(a.workdir)
    for count in (1, 2):
        rc, out, traces = boot(a.qemu, a.elf, a.workdir)
        check(rc == 0, f"boot {count}: exit status {rc}, expected 0", out)
        expect_good_boot(traces, out, count)


def scenario_corrupt_flash(a):
    fresh(a.workdir)
    rc, out, traces = boot(a.qemu, a.elf, a.workdir)
    check(rc == 0, f"first boot: exit status {rc}", out)
    # Flip a data byte in both slots of the boot counter: the written slot
    # keeps its magic but fails its checksum; the empty one stays empty.
    with open(os.path.join(a.workdir, FLASH), "r+b") as f:
        for slot in (0, 1):
            off = slot * BOOTCOUNT_SLOT_SIZE + STORAGE_HEADER_SIZE
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0x01]))
    rc, out, traces = boot(a.qemu, a.elf, a.workdir)
    check(rc == 2, f"exit status {rc}, expected 2 (storage failure)", out)
    errs = messages(traces, "ERR", "SECD")
    check(any(m.startswith("boot counter: read failed: corrupt") for m in errs),
          "corruption not reported at ERR level", out)
    check(not any(m.startswith("boot count") for m in messages(traces, "NOT", "SECD")),
          "a damaged counter must not be restarted", out)


SCENARIOS = {"boot": scenario_boot, "persist": scenario_persist,
             "corrupt_flash": scenario_corrupt_flash}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--elf", required=True,
                    help="the image: secd-firmware.elf, .bin (raw, from address 0) or .hex")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    a = ap.parse_args()
    a.elf = os.path.abspath(a.elf)
    try:
        SCENARIOS[a.scenario](a)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print(f"PASS: {a.scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
