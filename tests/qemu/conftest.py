"""Fixtures of the QEMU phone tests (test_phone.py; helpers in phone_qemu.py).

Environment (set by tests/qemu/CMakeLists.txt):
  SECD_QEMU_ELF   the firmware image (required)
  QEMU_SYSTEM_ARM qemu-system-arm (default: on PATH)
  SECD_QEMU_TREE  a `tcm build` output to serve (default: built per session)
  SECD_QEMU_KEYS  the cluster PKI of that tree (tcm build --keys)
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

from phone_qemu import TCM_DIR, Daemon, Qemu, TcmServer, Tree, build_tree  # noqa: E402

sys.path.insert(0, str(TCM_DIR))
from tcm import pki  # noqa: E402
from tcm.process import stopped_at_end  # noqa: E402


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


@pytest.fixture(scope="session")
def keys(built_tree):
    given = os.environ.get("SECD_QEMU_KEYS")
    path = Path(given) if given else built_tree / "keys"
    assert (path / "pki.json").exists(), "no cluster PKI in %s" % path
    return path


@pytest.fixture(scope="session")
def cluster(keys):
    return pki.load(keys)


@pytest.fixture
def daemons():
    """Factory: daemons(module, *args) starts a tcm server (tcm.tvsd,
    tcm.capfd); all are stopped at teardown."""
    yield from stopped_at_end(Daemon)


@pytest.fixture
def tree(built_tree, tmp_path):
    return Tree(built_tree, tmp_path / "tftp")


@pytest.fixture
def tcm():
    """Factory: tcm(root, *serve_args) starts a server; all are stopped at teardown."""
    yield from stopped_at_end(lambda root, *args: TcmServer(root, args))


@pytest.fixture
def server(tcm, tree):
    return tcm(tree.root)


@pytest.fixture
def phone(elf, tmp_path):
    return Qemu(os.environ.get("QEMU_SYSTEM_ARM", "qemu-system-arm"), elf, tmp_path / "phone")
