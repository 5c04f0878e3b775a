"""Fixtures of the linux-armhf tests: the scenario tests' fixtures
(tests/scenario/conftest.py: cluster tree, tcm server, Phone) with the
phone being the ARM secd-phone run under qemu-arm user mode.

Environment (set by tests/linux-armhf/CMakeLists.txt):
  SECD_ARM_PHONE, SECD_ARM_TOOL   the cross-built programs (required)
  QEMU_ARM                        qemu-arm (default: on PATH)
  SECD_ARM_SYSROOT                the armhf libc for -L (default /usr/arm-linux-gnueabihf)
  SECD_INTEROP_DIR                the interop vectors
  SECD_TCM_DIR, TCM_KEY_CACHE     as for the scenario tests
"""
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent

# The scenario fixtures, loaded under another module name (both files are
# called conftest.py) and re-exported so that pytest finds them here.
_spec = importlib.util.spec_from_file_location(
    "scenario_conftest", HERE.parent / "scenario" / "conftest.py")
scenario = importlib.util.module_from_spec(_spec)
sys.modules["scenario_conftest"] = scenario
_spec.loader.exec_module(scenario)
from scenario_conftest import (  # noqa: E402,F401
    cluster, cluster_dir, phone, secure_phone, server, tcm, tftp_tree)

QEMU_ARM = os.environ.get("QEMU_ARM") or shutil.which("qemu-arm")
SYSROOT = os.environ.get("SECD_ARM_SYSROOT", "/usr/arm-linux-gnueabihf")


def qemu_argv(exe):
    """How a cross-built program runs here: qemu-arm user mode, the armhf
    libc and dynamic loader taken from the cross sysroot."""
    return [QEMU_ARM, "-L", SYSROOT, str(exe)]


def _program(var):
    path = os.environ.get(var)
    assert path and os.access(path, os.X_OK), "%s must name the cross-built program" % var
    assert QEMU_ARM, "qemu-arm not found (Debian package qemu-user)"
    return Path(path)


@pytest.fixture(scope="session")
def arm_phone():
    return _program("SECD_ARM_PHONE")


@pytest.fixture(scope="session")
def arm_tool():
    return _program("SECD_ARM_TOOL")


@pytest.fixture(scope="session")
def phone_exe(arm_phone, tmp_path_factory):
    """Overrides the scenario fixture: Phone runs argv[0] with its options,
    so give it a launcher that execs the ARM secd-phone under qemu-arm."""
    launcher = tmp_path_factory.mktemp("armhf") / "secd-phone-armhf"
    launcher.write_text("#!/bin/sh\nexec %s \"$@\"\n" % " ".join("'%s'" % a for a in qemu_argv(arm_phone)))
    launcher.chmod(0o755)
    return launcher
