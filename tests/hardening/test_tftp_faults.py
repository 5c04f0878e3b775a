"""TFTP faults at every packet position of one download (issue 9).

secd-phone boots against the test call manager's TFTP server (in this
process: tcm.tftpd.TftpServer, one per case, each on its own free port)
whose faults hit only the phone's ITL (ITLSEP<MAC>.tlv), served with
blksize 512 (the phone asks for 1428: the OACK lowers it). The ITL is P
packets from the server: the OACK, then DATA 1..P-1. For every position
N in 1..P the N-th packet is dropped, and separately duplicated; DATA 1,
the middle and the last block are delayed past the phone's first
retransmission timeout; ERROR replaces each DATA block in turn; the
server ignores the ACK of the OACK and the final ACK.

Every run must end with a verdict: the boot completes, or it fails with an
ERR trace saying why. Whatever happened, `show trustlist` (same process,
after the boot) holds for each list either exactly the served file (MD5)
or nothing: nothing half-received is ever installed. Recoverable faults
(drop, duplicate, delay, lost ACK) must complete; an ERROR must fail the
ITL download with the server's message in the trace.

Cases run in parallel (threads; each phone is a process), so the whole
file takes a few seconds."""
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scenario"))  # the scenario suite's phone driver

from conftest import CTL_PHONE, ITL_PHONE, MAC, SGN, Phone, md5  # noqa: E402
from tcm import tree  # noqa: E402
from tcm.tftpd import Faults, TftpServer  # noqa: E402

BLKSIZE = 512
SERVER_TIMEOUT = 0.3  # the server's retransmission timeout (s)
PHONE_FIRST_RTO = 1.0  # tftpc's initial retransmission timeout (docs/tftp.md)
WORKERS = 8


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The generated tree (tree.py layout); keys cached across runs."""
    out = tmp_path_factory.mktemp("cluster")
    cache = os.environ.get("TCM_KEY_CACHE")
    tree.build(out, mac=MAC, keys=Path(cache) if cache else out / "keys")
    return out / "tftp"


@pytest.fixture(scope="module")
def phone_exe():
    exe = os.environ.get("SECD_PHONE")
    assert exe and os.access(exe, os.X_OK), "SECD_PHONE must name secd-phone (run through ctest)"
    return Path(exe)


def packets_of(size):
    """Server packets of a transfer: OACK + DATA blocks (a last short or
    empty block ends it)."""
    return 1 + size // BLKSIZE + 1


class Outcome:
    def __init__(self, name, run, counters, tl):
        self.name, self.run, self.counters, self.tl = name, run, counters, tl

    def __repr__(self):
        return "%s: %s" % (self.name, "completed" if self.run.accepted() else
                           "failed: " + "; ".join(self.run.errors()))


def boot_with(phone_exe, root, flash, name, **faults):
    """One phone, fresh flash, one server with `faults` on the ITL only."""
    srv = TftpServer(root, faults=Faults(only=[ITL_PHONE], **faults), timeout=SERVER_TIMEOUT,
                     max_blksize=BLKSIZE).start()
    try:
        run = Phone(phone_exe, flash / name).boot("127.0.0.1:%d" % srv.port,
                                                    commands=["show trustlist"], timeout=60)
        srv.wait_idle(timeout=10)
    finally:
        srv.stop()
    return Outcome(name, run, srv.stats(), run.trust_list())


def check_consistent(o, root):
    """A verdict, and nothing half-received installed."""
    run = o.run
    accepted = run.accepted()  # exactly one verdict line
    if not accepted:
        assert run.find(r"^boot failed: \S", level="ERR", module="SECD"), o
    for kind, name in (("CTL", CTL_PHONE), ("ITL", ITL_PHONE)):
        got = o.tl[kind]
        assert got in (None, md5((root / name).read_bytes())), \
            "%s: %s installed with MD5 %s, not the served file" % (o.name, kind, got)
    if accepted:
        assert o.tl["ITL"] == md5((root / ITL_PHONE).read_bytes()), o
        assert run.received()[ITL_PHONE] == (root / ITL_PHONE).stat().st_size, o


def test_faults_at_every_packet_position(phone_exe, served, tmp_path, capsys):
    itl_size = (served / ITL_PHONE).stat().st_size
    n = packets_of(itl_size)
    blocks = n - 1
    assert 4 <= n <= 40, "the ITL should be a small transfer (%d packets)" % n
    mid = 1 + blocks // 2
    cases = [("drop-%d" % k, dict(drop_packets=[k])) for k in range(1, n + 1)]
    cases += [("dup-%d" % k, dict(dup_packets=[k])) for k in range(1, n + 1)]
    cases += [("delay-%d" % k, dict(delay_packets=[k], delay=PHONE_FIRST_RTO + 0.2))
              for k in (2, mid + 1, n)]
    cases += [("error-block-%d" % b, dict(error_at=b, error_msg="injected at %d" % b))
              for b in range(1, blocks + 1)]
    cases += [("drop-ack-oack", dict(drop_acks=[1])), ("drop-final-ack", dict(drop_acks=[n]))]

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda c: boot_with(phone_exe, served, tmp_path, c[0], **c[1]),
                                 cases))

    failures = []
    for o in outcomes:
        check_consistent(o, served)
        recoverable = not o.name.startswith("error-")
        if recoverable and not o.run.accepted():
            failures.append(repr(o))
        if not recoverable:
            block = int(o.name.rsplit("-", 1)[1])
            if o.run.accepted():
                failures.append("%s: accepted although the ITL transfer was cut" % o.name)
            elif not any("injected at %d" % block in e for e in o.run.errors()):
                failures.append("%s: the server's error is not traced: %s" % (o.name, o))
        injected = o.counters["dropped"] + o.counters["duplicated"] + \
            o.counters["delayed"] + o.counters["errors_injected"]
        if injected == 0:
            failures.append("%s: the fault was never injected %s" % (o.name, o.counters))
    # One summary line per fault kind for toolchain/test.sh (docs/security.md).
    kinds = {}
    for o in outcomes:
        k = kinds.setdefault(o.name.rstrip("0123456789").rstrip("-"), [0, 0, 0])
        k[0] += 1
        k[1 if o.run.accepted() else 2] += 1
    with capsys.disabled():
        for kind, (n_cases, done, refused) in kinds.items():
            print("SUMMARY fault tftp-%s injected=%d boot-completed=%d boot-failed-traced=%d "
                  "half-installed=0 %s" % (kind, n_cases, done, refused,
                                           "outcome=FAILED" if failures else "outcome=handled"))
    assert not failures, "\n".join(failures)
    print("\nTFTP faults: %d packets (OACK + %d DATA, blksize %d, ITL %d bytes), %d cases: %s"
          % (n, blocks, BLKSIZE, itl_size, len(outcomes),
             ", ".join("%s %s" % (o.name, "ok" if o.run.accepted() else "failed")
                       for o in outcomes)))
