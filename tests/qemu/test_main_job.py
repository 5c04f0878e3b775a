"""The README's main job (toolchain/run-phone.sh -> toolchain/run_phone.py)
as a user runs it, with --once: a factory-fresh phone, then the same phone
again. Fails if the session stops showing any step of the secure boot."""
import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "toolchain" / "run_phone.py"


def run_phone(elf, rundir, *extra):
    p = subprocess.run([sys.executable, str(SCRIPT), "--elf", str(elf), "--run", str(rundir),
                        "--qemu", os.environ.get("QEMU_SYSTEM_ARM", "qemu-system-arm"),
                        "--once", *extra],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    out = p.stdout.decode(errors="replace")
    print(out)
    return p.returncode, out


def test_main_job_shows_the_whole_secure_boot(elf, tmp_path):
    rc, out = run_phone(elf, tmp_path, "--fresh")
    assert rc == 0, out
    for step in ("CTL installed (anchor: first use)", "ITL installed (anchor: CTL)",
                 "verify SUCCESS </usr/ram/SEP001E7A4C11A1.cnf.xml>",
                 "encrypted config decrypted and verified",
                 "boot complete: config accepted",
                 "CAPF: session ended: LSC installed",
                 "certificate in use: LSC",
                 "Authenticated the HTTPS conn via TVS",
                 "TRUSTED, decided by TVS"):
        assert step in out, step
    # The phone's RAM in this run, whose CAPF session generates its
    # RSA-2048 key in the session (the bench counts it in the RAM peak).
    m = re.search(r"BOARD: exit 0: stack peak (\d+) bytes, heap (\d+) bytes", out)
    assert m, out
    print("[figure] RAM of the main job's first run (decryption with the MIC, CAPF enrolment "
          "generating RSA-2048 in the session, show cert, verify https via TVS): heap "
          "high-water %s bytes, stack peak %s bytes, whole run" % (m[2], m[1]))

    # Next run: the same flash; the config is now encrypted for that LSC.
    rc, out = run_phone(elf, tmp_path)
    assert rc == 0, out
    assert "the config is encrypted for the LSC of the last run" in out
    for step in ("-PXY_CERT: [CONFIG], cert [LSC]", "encrypted config decrypted and verified",
                 "TRUSTED, decided by TVS"):
        assert step in out, step
    assert "ERR" not in "".join(line for line in out.splitlines()
                               if "EROR:https_cert_vfy" not in line), out
