"""Fixtures of the QEMU phone tests (test_phone.py; helpers in phone_qemu.py).

Environment (set by tests/qemu/CMakeLists.txt):
  SECD_QEMU_ELF   the firmware image (required)
  QEMU_SYSTEM_ARM qemu-system-arm (default: on PATH)
  SECD_QEMU_TREE  a `tcm build` output to serve (default: built per session)
  SECD_TCM_DIR    the tcm package (default ../tcm)
Every test serves its own copy of the tree on its own port and boots its
own phone (own flash.bin in pytest's tmp_path): ctest -j runs them side by
side."""
import os
import sys
from pathlib import Path

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from phone_qemu import Qemu, TcmServer, Tree, build_tree  # noqa: E402


@pytest.fixture(scope="session")
def elf():
    path = os.environ.get("SECD_QEMU_ELF")
    assert path and os.path.exists(path), "SECD_QEMU_ELF must name secd-firmware.elf"
    return Path(path)


@pytest.fixture(scope="session")
def built_tree(tmp_path_factory):
    given = os.environ.get("SECD_QEMU_TREE")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("tree")
    build_tree(out, out / "keys")
    return out


@pytest.fixture
def tree(built_tree, tmp_path):
    return Tree(built_tree, tmp_path / "tftp")


@pytest.fixture
def tcm():
    servers = []

    def start(root, *args):
        s = TcmServer(root, args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def server(tcm, tree):
    return tcm(tree.root)


@pytest.fixture
def phone(elf, tmp_path):
    return Qemu(os.environ.get("QEMU_SYSTEM_ARM", "qemu-system-arm"), elf, tmp_path / "phone")
