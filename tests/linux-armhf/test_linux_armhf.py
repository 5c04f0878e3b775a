"""The POSIX board cross-built for embedded Linux on ARM (linux-armhf
preset), run under qemu-arm user mode: the programs are ARM hard-float ELF
files, secd-phone boots against the test call manager (first boot installs
CTL and ITL and accepts the signed config; an attacker ITL is refused and
the old one kept), and secd-tool gives the interop manifest's verdicts."""
import hashlib
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

from conftest import qemu_argv
from scenario_conftest import CNF, CTL_PHONE, ITL_PHONE, SGN

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "interop"))
import gen_table  # noqa: E402

EM_ARM = 40
EF_ARM_ABI_FLOAT_HARD = 0x400
EF_ARM_EABI_VER5 = 0x05000000


def elf_header(path):
    head = Path(path).read_bytes()[:52]
    assert head[:4] == b"\x7fELF", path
    ei_class, ei_data = head[4], head[5]
    e_machine, = struct.unpack_from("<H", head, 18)
    e_flags, = struct.unpack_from("<I", head, 36)
    return ei_class, ei_data, e_machine, e_flags


def test_programs_are_armhf_elf(arm_phone, arm_tool):
    for exe in (arm_phone, arm_tool):
        ei_class, ei_data, machine, flags = elf_header(exe)
        # 32-bit, little endian, ARM, EABI 5, hard-float calling convention.
        assert (ei_class, ei_data, machine) == (1, 1, EM_ARM), exe
        assert flags & 0xFF000000 == EF_ARM_EABI_VER5, hex(flags)
        assert flags & EF_ARM_ABI_FLOAT_HARD, hex(flags)
        assert b"/lib/ld-linux-armhf.so.3" in exe.read_bytes()[:4096], exe
        print("linux-armhf: %s: ELF32 ARM EABI5 hard-float, %d bytes" % (exe.name, exe.stat().st_size))


def test_first_boot_then_reboot_under_qemu_arm(phone, server, tftp_tree):
    start = time.monotonic()
    run = phone.boot(server)
    elapsed = time.monotonic() - start

    assert run.rc == 0, run.stdout
    run.expect(r"^boot: trust state NONE, TFTP server 127\.0\.0\.1$", module="SECD")
    assert run.requested() == [CTL_PHONE, ITL_PHONE, SGN]
    assert server.requests() == [CTL_PHONE, ITL_PHONE, SGN]
    assert run.received() == {n: len(tftp_tree.read(n)) for n in (CTL_PHONE, ITL_PHONE, SGN)}
    for name in (CTL_PHONE, ITL_PHONE):
        run.expect(r"^verifyFile: verify SUCCESS <%s>$" % name, module="SECD")
    run.expect(r"^CTL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(CTL_PHONE))
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    run.expect(r"^authenticated file approved - add \.sgn -- %s$" % SGN, module="tftpClient")
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/%s>" % CNF, module="SECD")
    run.expect(r"^boot complete: config accepted \(load sip8845_", module="SECD")
    assert run.errors() == []
    print("linux-armhf: first secure boot under qemu-arm: %.0f ms wall" % (elapsed * 1000))

    # The trust lists the ARM phone wrote to its flash file survive a reboot.
    run = phone.boot(server, commands=["show trustlist"])
    assert run.accepted(), run.stdout
    run.expect(r"^verifyFile: verify SUCCESS <%s> \(CTL unchanged, MD5 %s\)$"
               % (CTL_PHONE, tftp_tree.md5(CTL_PHONE)))
    tl = run.trust_list()
    assert (tl["state"], tl["CTL"], tl["ITL"]) == (
        "CTL + ITL", tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE))


def test_attacker_itl_refused_under_qemu_arm(secure_phone, server, tftp_tree):
    good = tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE)
    tftp_tree.serve_itl(tftp_tree.attack("attacker-itl"))

    run = secure_phone.boot(server, commands=["show trustlist"])

    run.expect_error(r"ITL %s refused: signer_not_trusted - Trust List verification failed$"
                     % ITL_PHONE)
    assert not run.find(r"ITL installed")
    # The old ITL is kept and still verifies the genuine signed config.
    assert run.accepted(), run.stdout
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/%s>" % CNF)
    tl = run.trust_list()
    assert (tl["state"], tl["CTL"], tl["ITL"]) == ("CTL + ITL",) + good


def test_secd_tool_gives_manifest_verdicts_under_qemu_arm(arm_tool, tmp_path):
    interop = Path(os.environ["SECD_INTEROP_DIR"])
    manifest = json.loads((interop / "MANIFEST.json").read_text())
    rows = list(gen_table.rows(manifest))
    assert len(rows) >= 60
    bad = []
    start = time.monotonic()
    for path, ctl, itl, key, reasons, sha in rows:
        args = []
        if ctl:
            args += ["--ctl", str(interop / ctl)]
        if itl:
            args += ["--itl", str(interop / itl)]
        out = tmp_path / "plain.xml"
        if key:
            cmd = ["decrypt", "--key", str(interop / key)] + args + [str(interop / path), "-o", str(out)]
        else:
            cmd = ["verify"] + args + [str(interop / path)]
        r = subprocess.run(qemu_argv(arm_tool) + cmd, capture_output=True, text=True, timeout=60)
        verdicts = [l.split(":", 1)[1].strip() for l in r.stdout.splitlines() if l.startswith("verdict:")]
        got = verdicts[-1] if verdicts else None
        if reasons == ["ok"]:
            good = got == "ok" and r.returncode == 0
            if good and sha:
                good = hashlib.sha256(out.read_bytes()).hexdigest() == sha
        else:
            good = (r.returncode == 1 and got is not None and got.startswith("reject:")
                    and got[7:] in reasons and not out.exists())
        if out.exists():
            out.unlink()
        if not good:
            bad.append("%s: got %s rc=%d, want %s %s" % (path, got, r.returncode, reasons, r.stderr))
    print("linux-armhf: secd-tool under qemu-arm: %d/%d manifest verdicts agree (%.1f s)"
          % (len(rows) - len(bad), len(rows), time.monotonic() - start))
    assert not bad, "\n".join(bad)
