"""Shared fixtures of the test-call-manager tests."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tcm import pki  # noqa: E402


def interop_dir():
    env = os.environ.get("SECD_INTEROP_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "interop"


@pytest.fixture(scope="session")
def interop():
    d = interop_dir()
    assert (d / "MANIFEST.json").is_file(), "interop vectors not found at %s" % d
    return d


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    """PKI directory; TCM_KEY_CACHE keeps generated keys between runs."""
    cache = os.environ.get("TCM_KEY_CACHE")
    return Path(cache) if cache else tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def cluster(keys_dir):
    return pki.generate(keys_dir)
