"""secd-tool over every verdict-bearing file of the interop manifest: the
command-line contract (last line `verdict: ...`, exit 0/1) and the
plaintext of encrypted configs. Also `show` on every signed file (no crash,
MD5 as in the manifest)."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import gen_table  # noqa: E402

TOOL = os.environ["SECD_TOOL"]
INTEROP = os.environ["SECD_INTEROP_DIR"]
MANIFEST = json.load(open(os.path.join(INTEROP, "MANIFEST.json")))


def P(rel):
    return os.path.join(INTEROP, rel)


def run(args):
    r = subprocess.run([TOOL] + args, capture_output=True, text=True, timeout=60)
    lines = [l for l in r.stdout.splitlines() if l.startswith("verdict:")]
    return r.returncode, (lines[-1].split(":", 1)[1].strip() if lines else None), r


def test_every_verdict():
    rows = list(gen_table.rows(MANIFEST))
    assert len(rows) >= 60
    bad = []
    for path, ctl, itl, key, reasons, sha in rows:
        args = []
        if ctl:
            args += ["--ctl", P(ctl)]
        if itl:
            args += ["--itl", P(itl)]
        out = None
        if key:
            out = tempfile.mktemp()
            cmd = ["decrypt", "--key", P(key)] + args + [P(path), "-o", out]
        else:
            cmd = ["verify"] + args + [P(path)]
        rc, got, _ = run(cmd)
        want_ok = reasons == ["ok"]
        if want_ok:
            good = got == "ok" and rc == 0
            if good and sha:
                good = hashlib.sha256(open(out, "rb").read()).hexdigest() == sha
        else:
            good = rc == 1 and got is not None and got.startswith("reject:") and got[7:] in reasons
            if out:
                assert not os.path.exists(out), "plaintext written for a rejected file"
        if out and os.path.exists(out):
            os.unlink(out)
        if not good:
            bad.append(f"{path}: got {got} rc={rc}, want {reasons}")
    print(f"secd-tool: {len(rows) - len(bad)}/{len(rows)} manifest verdicts agree")
    assert not bad, "\n".join(bad)


def test_show_every_signed_file():
    n = 0
    for f in MANIFEST["files"]:
        p = f["path"]
        if not (p.endswith(".tlv") or p.endswith(".sgn")):
            continue
        rc, _, r = run(["show", P(p)])
        assert rc in (0, 1), p
        assert f"File MD5:          {f['md5']}" in r.stdout, p
        n += 1
    assert n >= 60


def test_usage_errors_exit_2():
    assert run([])[0] == 2
    assert run(["verify"])[0] == 2
    assert run(["verify", "/nonexistent/file.sgn"])[0] == 2
    assert run(["decrypt", P("cnf/sha1/SEP001E7A4C11A1.cnf.xml.sgn")])[0] == 2  # no --key


def test_show_prints_records_like_show_itl():
    rc, _, r = run(["show", P("tlv/sha1/ITLFile.tlv")])
    assert rc == 0
    out = r.stdout
    assert "Version:           1.2" in out
    assert "Header Length:     544 bytes" in out
    assert "Role:              System Administrator Security Token" in out
    assert "Role:              CCM+TFTP" in out
    assert "Role:              TVS" in out
    assert "Role:              CAPF" in out
    assert "Records:           4" in out
