"""The project's secd-tool must judge the files the test call manager builds
exactly as it judges the corresponding interop vectors, and both must be
the verdict the tree's manifest expects.

SECD_TOOL (path to secd-tool) is required: without it this file fails.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HERE, interop_dir

TOOL = os.environ["SECD_TOOL"]
TREES = [("sha1", "none"), ("sha1", "mic"), ("sha512", "lsc")]


def test_secd_tool_is_executable():
    assert os.access(TOOL, os.X_OK), "SECD_TOOL=%s is not executable" % TOOL
    r = subprocess.run([TOOL], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "secd-tool verify" in r.stderr


@pytest.fixture(scope="module", params=TREES, ids=["-".join(t) for t in TREES])
def tree(request, tmp_path_factory, keys_dir):
    h, enc = request.param
    out = tmp_path_factory.mktemp("tool-%s-%s" % (h, enc))
    subprocess.run([sys.executable, "-m", "tcm", "build", "--out", str(out),
                    "--keys", str(keys_dir), "--hash", h, "--encrypt", enc],
                   cwd=HERE, check=True, capture_output=True,
                   env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    return out, json.loads((out / "manifest.json").read_text())


def run_tool(base, path, serve_as, ctl, itl, key, out_file):
    args = []
    if ctl:
        args += ["--ctl", str(base / ctl)]
    if itl:
        args += ["--itl", str(base / itl)]
    args += ["--as", serve_as]
    if key:
        cmd = ["decrypt", "--key", str(base / key)] + args + [str(base / path), "-o", str(out_file)]
    else:
        cmd = ["verify"] + args + [str(base / path)]
    r = subprocess.run([TOOL] + cmd, capture_output=True, text=True, timeout=60)
    lines = r.stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    assert last.startswith("verdict: "), "no verdict line: %r %r" % (r.stdout, r.stderr)
    verdict = last.split(" ", 1)[1]
    assert r.returncode == (0 if verdict == "ok" else 1), (verdict, r.returncode)
    return verdict


def test_generated_and_interop_get_the_same_verdicts(tree, tmp_path):
    out, manifest = tree
    interop = interop_dir()
    results, wrong = [], []
    for e in manifest["files"]:
        mine_pt, ref_pt = tmp_path / (e["name"] + ".mine"), tmp_path / (e["name"] + ".ref")
        mine = run_tool(out, e["path"], e["serve_as"], e["trust_ctl"], e["trust_itl"],
                        e["key"], mine_pt)
        ref = run_tool(interop, e["interop"], Path(e["interop"]).name,
                       e["interop_trust_ctl"], e["interop_trust_itl"], e["interop_key"], ref_pt)
        results.append((e["name"], mine, ref))
        if not mine == ref == e["expected"]:
            wrong.append("%s: generated %s, interop %s (%s), expected %s"
                         % (e["name"], mine, ref, e["interop"], e["expected"]))
        if e["op"] == "decrypt" and mine == "ok":
            assert mine_pt.read_bytes() == (out / e["plaintext"]).read_bytes(), e["name"]
        if e["op"] == "decrypt" and mine != "ok":
            assert not mine_pt.exists(), "plaintext written for rejected %s" % e["name"]
    for name, mine, ref in results:
        print("%-40s generated %-34s interop %s" % (name, mine, ref))
    assert not wrong, "\n".join(wrong)
    assert len(results) >= 18
