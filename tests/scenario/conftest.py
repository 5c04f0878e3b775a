"""Fixtures of the scenario tests: secd-phone booted as a process against
the test call manager's TFTP server (tests/tcm).

Environment:
  SECD_PHONE      path of the secd-phone executable (required)
  SECD_TCM_DIR    directory holding the tcm package (default ../tcm)
  TCM_KEY_CACHE   keep the generated cluster keys there between runs

One cluster PKI and one TFTP tree are generated per session; every test
copies the served tree into its own tmp_path, mutates the copy, starts its
own `python3 -m tcm serve` on a free loopback port and gives the phone its
own flash directory, so tests can run in parallel.
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.dont_write_bytecode = True  # never write __pycache__ into the source tree

HERE = Path(__file__).resolve().parent
TCM_DIR = Path(os.environ.get("SECD_TCM_DIR") or HERE.parent / "tcm").resolve()
sys.path.insert(0, str(TCM_DIR))

from tcm import parse, pki, tree  # noqa: E402
from tcm.process import Daemon, stopped_at_end  # noqa: E402

MAC = pki.DEFAULT_MAC
OTHER_MAC = pki.DEFAULT_OTHER_MAC
CTL_PHONE = "CTLSEP%s.tlv" % MAC
ITL_PHONE = "ITLSEP%s.tlv" % MAC
CNF = "SEP%s.cnf.xml" % MAC
SGN = CNF + ".sgn"
MAX_SIZE = 550001  # the phone's per-download limit (B1)

# B9: <seq>: <LVL> <HH:MM:SS.micros> <MODULE>: <message>
TRACE_RE = re.compile(r"^(\d+): (NOT|WRN|ERR|DBG) (\d\d:\d\d:\d\d\.\d{6}) ([A-Za-z]+): (.*)$")


def md5(data):
    return hashlib.md5(data).hexdigest()


def closed_port(kind=socket.SOCK_STREAM):
    """A loopback port nobody listens on: a TCP connect is refused, a UDP
    datagram gets ICMP port unreachable."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timestamp_of(data):
    """The header timestamp (signing time) of a signed file."""
    return parse.parse(data).timestamp


# -- the phone's output --

@dataclass
class TraceLine:
    seq: int
    level: str
    time: str
    module: str
    msg: str


@dataclass
class PhoneRun:
    """What one secd-phone process printed and how it ended."""
    rc: int
    stdout: str
    elapsed: float
    trace: list = field(default_factory=list)    # TraceLine, in order
    console: list = field(default_factory=list)  # console output (non-trace lines)

    @classmethod
    def parse(cls, rc, stdout, elapsed):
        run = cls(rc, stdout, elapsed)
        for line in stdout.splitlines():
            m = TRACE_RE.match(line)
            if m:
                run.trace.append(TraceLine(int(m[1]), m[2], m[3], m[4], m[5]))
            else:
                run.console.append(line)
        return run

    def accepted(self):
        """The boot's verdict from the trace (for console runs, whose exit
        status is that of `quit`)."""
        ok = self.find(r"^boot complete: config accepted", module="SECD")
        failed = self.find(r"^boot failed: ", level="ERR", module="SECD")
        assert bool(ok) != bool(failed), "no single boot verdict in:\n" + self.stdout
        return bool(ok)

    def errors(self):
        return [t.msg for t in self.trace if t.level == "ERR"]

    def find(self, pattern, level=None, module=None):
        """First trace message matching the regex, as a match object."""
        rx = re.compile(pattern)
        for t in self.trace:
            if (level is None or t.level == level) and (module is None or t.module == module):
                m = rx.search(t.msg)
                if m:
                    return m
        return None

    def expect(self, pattern, level=None, module=None):
        m = self.find(pattern, level, module)
        assert m, "no %s%s trace line matching %r in:\n%s" % (
            level or "", " " + module if module else "", pattern, self.stdout)
        return m

    def expect_error(self, pattern):
        return self.expect(pattern, level="ERR")

    # How a download starts in the trace of each transport: `[n]:Requesting
    # FILE from ...` (TFTP), `[n]:HTTP GET /FILE from ...` (HTTP).
    REQUEST_RE = {"TFTP": r"^\[(\d+)\]:Requesting (\S+) from ",
                  "HTTP": r"^\[(\d+)\]:HTTP GET /(\S+) from "}

    def requested(self, module="TFTP"):
        """Files the phone asked for, from its own TFTP (or HTTP) trace, in order."""
        return [m[2] for m in (re.search(self.REQUEST_RE[module], t.msg)
                               for t in self.trace if t.module == module) if m]

    def received(self, module="TFTP"):
        """{file: bytes} from the `Requesting`/`Finished --> rcvd N` pairs
        (with module="HTTP": `HTTP GET /FILE`/`Finished --> rcvd N`)."""
        names, got = {}, {}
        for t in self.trace:
            if t.module != module:
                continue
            m = re.search(self.REQUEST_RE[module], t.msg)
            if m:
                names[m[1]] = m[2]
            m = re.search(r"^\[(\d+)\]:Finished --> rcvd (\d+) bytes$", t.msg)
            if m:
                got[names[m[1]]] = int(m[2])
        return got

    def trust_list(self):
        """Parses `show trustlist`: {"state": ..., "CTL": md5|None, "ITL": md5|None,
        plus "<X>_status": installed | not installed | DAMAGED}."""
        out = {}
        for line in self.console:
            m = re.match(r"^trust state: (.*)$", line)
            if m:
                out["state"] = m[1]
            m = re.match(r"^(CTL|ITL): (installed|not installed|DAMAGED)"
                         r"(?:, (\d+) bytes, MD5 ([0-9a-f]{32}))?", line)
            if m:
                out[m[1] + "_status"] = m[2]
                out[m[1]] = m[4]
        assert "state" in out and "CTL_status" in out and "ITL_status" in out, \
            "no `show trustlist` output in:\n" + self.stdout
        return out

    def check_format(self):
        """B9: every trace line in the phone's format, sequence increasing."""
        seqs = [t.seq for t in self.trace]
        assert seqs, "no trace output:\n" + self.stdout
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
        # Console output is only what the console commands printed.
        for line in self.console:
            assert not re.match(r"^\d+: ", line), "malformed trace line %r" % line


class Phone:
    """One phone: a MAC and a flash directory that survives its boots."""

    def __init__(self, exe, flash, mac=MAC):
        self.exe, self.flash, self.mac = exe, Path(flash), mac

    @property
    def flash_bin(self):
        return self.flash / "flash.bin"

    def boot(self, server, commands=None, timeout=30.0, extra=()):
        """Boots against server (a TcmServer or "host:port"). Without
        commands: --once, the exit status says whether a config was
        accepted. With commands: console lines fed on stdin after the boot
        (a final `quit` is added)."""
        addr = server if isinstance(server, str) else server.addr
        argv = [str(self.exe), "--mac", self.mac, "--tftp", addr, "--flash", str(self.flash),
                *extra]
        stdin = None
        if commands is None:
            argv.append("--once")
        else:
            stdin = "".join(c + "\n" for c in list(commands) + ["quit"])
        start = time.monotonic()
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout,
                           stdin=None if stdin is not None else subprocess.DEVNULL)
        run = PhoneRun.parse(p.returncode, p.stdout, time.monotonic() - start)
        assert p.stderr == "", "secd-phone wrote to stderr: %s" % p.stderr
        if commands is not None:
            assert p.returncode == 0, "console `quit` must exit 0:\n" + p.stdout
        run.check_format()
        return run

    def console(self, server, extra=()):
        """An interactive session: `with phone.console(srv) as con:`
        con.send(line), con.wait_for(regex); con.run (a PhoneRun) after."""
        addr = server if isinstance(server, str) else server.addr
        return Console([str(self.exe), "--mac", self.mac, "--tftp", addr, "--flash",
                        str(self.flash), *extra])

    def show_trustlist(self, server, **kw):
        return self.boot(server, commands=["show trustlist"], **kw).trust_list()


class Console:
    """secd-phone without --once, its stdin written line by line."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.start = time.monotonic()
        self.out = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.run = None

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.out.append(line)
                self._cond.notify_all()

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, pattern, count=1, timeout=20.0):
        """Waits until `count` trace messages match the regex."""
        rx = re.compile(pattern)

        def seen():
            msgs = [m[5] for m in map(TRACE_RE.match, self.out) if m]
            return sum(1 for msg in msgs if rx.search(msg)) >= count

        with self._cond:
            ok = self._cond.wait_for(seen, timeout)
        assert ok, "no %d x %r in:\n%s" % (count, pattern, "".join(self.out))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._reader.join(5)
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        self.run = PhoneRun.parse(rc, "".join(self.out), time.monotonic() - self.start)
        if exc[0] is None:
            assert err == "", "secd-phone wrote to stderr: %s" % err
            assert rc == 0, "console `quit` must exit 0:\n" + self.run.stdout
            self.run.check_format()
        return False


# -- the test call manager's TFTP server --

class TcmServer(Daemon):
    """`python3 -m tcm serve -v` on 127.0.0.1, a free port."""

    def __init__(self, root, args=()):
        super().__init__("tcm", "serve", "--root", root, "--port", 0, "-v", *args)

    def requests(self):
        """File names of the read requests the server received, in order."""
        # Log lines are printed from several server threads and may run
        # into one another, so search the whole text.
        return re.findall(r"RRQ (\S+) mode=", self.text())

    def wait_idle(self, timeout=10.0):
        """Waits until every transfer the server started has ended (the
        phone may exit before the server has read its final ACK)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if len(re.findall(r"RRQ \S+ mode=", text)) == len(re.findall(r"END \S+ ", text)):
                return True
            time.sleep(0.02)
        return False

    def before_stop(self):
        self.wait_idle()


# -- the served tree --

class Tree:
    """A test's own copy of the served TFTP tree (and the session's attack set)."""

    def __init__(self, root, attack_dir, keys):
        self.root, self.attack_dir, self.keys = Path(root), Path(attack_dir), Path(keys)

    def path(self, name):
        return self.root / name

    def read(self, name):
        return self.path(name).read_bytes()

    def put(self, name, data):
        self.path(name).write_bytes(data)

    def remove(self, *names):
        for n in names:
            self.path(n).unlink()

    def md5(self, name):
        return md5(self.read(name))

    def attack(self, name):
        """The attack file named `name` (tree.py), one file per directory."""
        files = list((self.attack_dir / name).iterdir())
        assert len(files) == 1, files
        return files[0].read_bytes()

    def serve_itl(self, data):
        """Serves data as both the per-phone and the cluster ITL."""
        self.put(ITL_PHONE, data)
        self.put("ITLFile.tlv", data)

    def drop_ctl(self):
        """A cluster not in mixed mode: no CTL at all (ITL only)."""
        self.remove(CTL_PHONE, "CTLFile.tlv")


# -- fixtures --

@pytest.fixture(scope="session")
def phone_exe():
    exe = os.environ.get("SECD_PHONE")
    assert exe, "SECD_PHONE must name the secd-phone executable (run through ctest)"
    assert os.access(exe, os.X_OK), "SECD_PHONE=%s is not executable" % exe
    return Path(exe)


@pytest.fixture(scope="session")
def cluster_dir(tmp_path_factory):
    """One generated cluster and tree (tree.py layout) for the session."""
    out = tmp_path_factory.mktemp("cluster")
    cache = os.environ.get("TCM_KEY_CACHE")
    keys = Path(cache) if cache else out / "keys"
    tree.build(out, mac=MAC, keys=keys)
    out.joinpath("keys-dir").write_text(str(keys))
    return out


@pytest.fixture(scope="session")
def encrypted_cluster_dir(cluster_dir, tmp_path_factory):
    """The same cluster serving an encrypted config (B6) for the phone's MIC:
    a signed partial config and SEP<MAC>.cnf.xml.enc.sgn."""
    out = tmp_path_factory.mktemp("cluster-enc")
    tree.build(out, mac=MAC, keys=_keys_of(cluster_dir), encrypt="mic")
    return out


@pytest.fixture(scope="session")
def cluster(cluster_dir):
    """The session's cluster PKI (tcm.pki.Cluster), to build extra files."""
    return pki.load(_keys_of(cluster_dir))


def _keys_of(cluster_dir):
    return Path(cluster_dir.joinpath("keys-dir").read_text())


def _copy_tree(built, dest, keys):
    """A test's own copy of the tftp/ tree of a tree.build() output."""
    shutil.copytree(built / "tftp", dest)
    return Tree(dest, built / "attack", keys)


@pytest.fixture
def tftp_tree(cluster_dir, tmp_path):
    return _copy_tree(cluster_dir, tmp_path / "tftp", _keys_of(cluster_dir))


@pytest.fixture
def encrypted_tree(encrypted_cluster_dir, cluster_dir, tmp_path):
    return _copy_tree(encrypted_cluster_dir, tmp_path / "tftp", _keys_of(cluster_dir))


@pytest.fixture
def tcm():
    """Factory: tcm(root, *serve_args) starts a server; all are stopped at teardown."""
    yield from stopped_at_end(lambda root, *args: TcmServer(root, args))


@pytest.fixture
def server(tcm, tftp_tree):
    """The tcm server serving this test's tree, no faults."""
    return tcm(tftp_tree.root)


@pytest.fixture
def phone(phone_exe, tmp_path):
    return Phone(phone_exe, tmp_path / "flash")


@pytest.fixture
def secure_phone(phone, server, tftp_tree):
    """A phone after a first boot that installed the cluster's CTL and ITL."""
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    assert run.find(r"^CTL installed") and run.find(r"^ITL installed"), run.stdout
    return phone


# -- summary lines for toolchain/test.sh (issue 9) --
#
# @pytest.mark.attack("name")  a test that fails if the phone accepts an attack
# @pytest.mark.fault("name")   a test that injects a server or network fault
# At the end of the run every marked test gives one line
#   SUMMARY attack <name>[<param>] verdict=refused|NOT-REFUSED
#   SUMMARY fault <name>[<param>] outcome=handled|NOT-HANDLED
# which test.sh collects from ctest's LastTest.log into its summary table.

_summary = []


def pytest_configure(config):
    config.addinivalue_line("markers", "attack(name): the phone must refuse this attack")
    config.addinivalue_line("markers", "fault(name): a fault the phone must survive")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" and not (rep.when == "setup" and rep.failed):
        return
    for kind, ok, bad in (("attack", "verdict=refused", "verdict=NOT-REFUSED"),
                          ("fault", "outcome=handled", "outcome=NOT-HANDLED")):
        m = item.get_closest_marker(kind)
        if m is None:
            continue
        name = m.args[0]
        spec = getattr(item, "callspec", None)
        if spec is not None:
            # the first parameter names the case (ids may carry whole patterns)
            first = next(iter(spec.params.values()), None)
            named = isinstance(first, str) or (isinstance(first, int) and
                                               not isinstance(first, bool))
            name += "[%s]" % (first if named else spec.id)
        _summary.append("SUMMARY %s %s %s" % (kind, name, ok if rep.passed else bad))


def pytest_terminal_summary(terminalreporter):
    for line in _summary:
        terminalreporter.write_line(line)
