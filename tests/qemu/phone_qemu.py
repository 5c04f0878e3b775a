"""Helpers of the QEMU phone tests (test_phone.py): the firmware image
booted in qemu-system-arm (mps2-an385, LAN9118 on QEMU's user network)
against the test call manager's TFTP server (tests/tcm) on 127.0.0.1.

Network: `-nic user,model=lan9118,mac=...,tftp-server-name=10.0.2.2`.
QEMU's DHCP hands out 10.0.2.15 and option 66 "10.0.2.2"; guest traffic
to 10.0.2.2:PORT reaches the host's 127.0.0.1:PORT, so each test runs its
own server on a free unprivileged port and passes it with
`-append "--tftp-port PORT"`. The server ADDRESS still comes from DHCP.

Time: `-icount shift=3` (1 instruction = 8 ns of virtual time) with QEMU's
default sleep=on: while the CPU executes, virtual time is the instruction
count (deterministic); while it sleeps in WFI waiting for the network,
virtual time follows the host clock. With sleep=off, idle time is skipped
at once, so the phone's 1 s TFTP retransmission timer would fire after a
few host milliseconds and a loaded CI machine would see spurious timeouts
and failed boots; network timing is not deterministic under any icount
mode with user networking, so the tests assert on the trace, never on
exact times.
"""
import base64
import codecs
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TCM_DIR = Path(os.environ.get("SECD_TCM_DIR") or HERE.parent / "tcm").resolve()
sys.path.insert(0, str(TCM_DIR))
from tcm.process import Daemon  # noqa: E402  (shared with the host scenario tests)

MAC = "001E7A4C11A1"   # tcm's default phone (pki.DEFAULT_MAC)
QEMU_MAC = ":".join(MAC[i:i + 2] for i in range(0, 12, 2)).lower()
CTL_PHONE = "CTLSEP%s.tlv" % MAC
ITL_PHONE = "ITLSEP%s.tlv" % MAC
SGN = "SEP%s.cnf.xml.sgn" % MAC
BOOT_TIMEOUT_S = 90

# The factory region holding the MIC (boards/qemu-mps2-an385/mic_flash.h):
# the last 8 KiB of the 2 MiB semihosted flash.
FLASH_SIZE = 2 * 1024 * 1024
MIC_REGION_SIZE = 8192
MIC_REGION_OFFSET = FLASH_SIZE - MIC_REGION_SIZE

# B9: <seq>: <LVL> <HH:MM:SS.micros> <MODULE>: <message>
TRACE_RE = re.compile(r"^(\d+): (NOT|WRN|ERR|DBG) (\d\d):(\d\d):(\d\d)\.(\d{6}) ([A-Za-z]+): (.*)$")
EXIT_RE = re.compile(r"BOARD: exit (-?\d+): stack peak (\d+) bytes, heap (\d+) bytes")


def md5(data):
    return hashlib.md5(data).hexdigest()


@dataclass
class Line:
    seq: int
    level: str
    us: int          # time of day in microseconds
    module: str
    msg: str


@dataclass
class Run:
    """What one QEMU run printed on UART0 and how it ended."""
    rc: int
    out: str
    wall_s: float
    trace: list = field(default_factory=list)
    console: list = field(default_factory=list)

    @classmethod
    def parse(cls, rc, out, wall_s):
        r = cls(rc, out, wall_s)
        for line in out.replace("\r\n", "\n").split("\n"):
            m = TRACE_RE.match(line)
            if m:
                us = ((int(m[3]) * 60 + int(m[4])) * 60 + int(m[5])) * 10**6 + int(m[6])
                r.trace.append(Line(int(m[1]), m[2], us, m[7], m[8]))
            elif line:
                r.console.append(line)
        return r

    def check_format(self):
        seqs = [t.seq for t in self.trace]
        assert seqs == list(range(1, len(seqs) + 1)), "trace numbers not 1..n: %s" % seqs
        for line in self.console:
            assert not re.match(r"^\d+: ", line), "malformed trace line %r" % line

    def find(self, pattern, level=None, module=None):
        rx = re.compile(pattern)
        for t in self.trace:
            if (level is None or t.level == level) and (module is None or t.module == module):
                m = rx.search(t.msg)
                if m:
                    return m
        return None

    def line(self, pattern, module=None):
        rx = re.compile(pattern)
        return next((t for t in self.trace if (module is None or t.module == module)
                     and rx.search(t.msg)), None)

    def expect(self, pattern, level=None, module=None):
        m = self.find(pattern, level, module)
        assert m, "no %s trace line matching %r in:\n%s" % (level or "", pattern, self.out)
        return m

    def errors(self):
        return [t.msg for t in self.trace if t.level == "ERR"]

    def requested(self):
        return [m[1] for m in (re.search(r"^\[\d+\]:Requesting (\S+) from 10\.0\.2\.2$", t.msg)
                               for t in self.trace if t.module == "TFTP") if m]

    def exit_line(self):
        m = EXIT_RE.search(self.out)
        assert m, "no BOARD exit line:\n" + self.out
        return int(m[1]), int(m[2]), int(m[3])

    def arena_peak(self):
        """The config parser arena's high-water mark (BOARD line at exit)."""
        m = re.search(r"config parser arena peak (\d+) of (\d+) bytes", self.out)
        assert m, "no arena line:\n" + self.out
        return int(m[1]), int(m[2])

    def trust_lists(self):
        """`show trustlist` output: [{"state":..., "CTL": md5|None, "ITL": ...}, ...]."""
        out, cur = [], None
        for line in self.console:
            m = re.match(r"^trust state: (.*)$", line)
            if m:
                cur = {"state": m[1]}
                out.append(cur)
            m = re.match(r"^(CTL|ITL): (installed|not installed|DAMAGED)(.*)$", line)
            if m and cur is not None:
                h = re.search(r"([0-9a-f]{32})\s*$", m[3])
                cur[m[1]] = h[1] if h else None
        return out

    def virtual_ms(self, start_pattern, end_pattern):
        a, b = self.line(start_pattern), self.line(end_pattern)
        assert a and b, "missing %r or %r in:\n%s" % (start_pattern, end_pattern, self.out)
        return (b.us - a.us) / 1000.0


class Qemu:
    """One phone: an image and a flash directory kept across its boots."""

    def __init__(self, qemu, elf, workdir):
        self.qemu, self.elf, self.workdir = qemu, str(elf), Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def flash(self):
        return self.workdir / "flash.bin"

    def argv(self, port=None, once=True, option66=True, extra=(), nic=True):
        netdev = "user,model=lan9118,mac=%s" % QEMU_MAC
        if option66:
            netdev += ",tftp-server-name=10.0.2.2"
        args = (["--once"] if once else []) + (["--tftp-port", str(port)] if port else [])
        return [self.qemu, "-M", "mps2-an385", "-cpu", "cortex-m3", "-nographic",
                "-monitor", "none", "-serial", "stdio",
                "-semihosting-config", "enable=on,target=native", "-icount", "shift=3",
                "-nic", netdev if nic else "none", "-kernel", self.elf,
                "-append", " ".join(args + list(extra))]

    def boot(self, server=None, commands=None, timeout=BOOT_TIMEOUT_S, **kw):
        """--once without commands (exit status 0 = config accepted); with
        commands: lines typed on UART0 after the boot, `quit` added."""
        port = server.port if server else None
        io = {"stdin": subprocess.DEVNULL}
        if commands is not None:
            io = {"input": "".join(c + "\n" for c in list(commands) + ["quit"]).encode()}
        argv = self.argv(port, once=commands is None, **kw)
        start = time.monotonic()
        try:
            p = subprocess.run(argv, cwd=self.workdir, capture_output=True,
                               timeout=timeout, **io)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("QEMU did not exit within %d s:\n%s" % (
                timeout, (e.stdout or b"").decode(errors="replace")))
        out = p.stdout.decode(errors="replace")
        run = Run.parse(p.returncode, out, time.monotonic() - start)
        print(out)
        print("[qemu] exit status %d, wall %.2f s" % (p.returncode, run.wall_s))
        err = p.stderr.decode(errors="replace")
        if not kw.get("nic", True):  # -nic none: QEMU says so, and that is all
            err = err.replace("qemu-system-arm: warning: nic lan9118.0 has no peer\n", "")
        assert err == "", "QEMU wrote to stderr: %s" % err
        run.check_format()
        return run

    def console(self, server=None, extra=(), timeout=BOOT_TIMEOUT_S):
        """An interactive run: `with phone.console(srv) as con:` then
        con.send(line) / con.wait_for(regex) while the phone runs (lines
        are typed when the test decides, not all before the boot);
        con.run (a Run) after `quit`."""
        port = server.port if server else None
        return QemuConsole(self.argv(port, once=False, extra=extra), self.workdir, timeout)


class QemuConsole:
    """QEMU with UART0 on a pipe written line by line."""

    def __init__(self, argv, cwd, timeout, echo=False):
        """echo: also copy the serial output to stdout as it arrives, partial
        lines included (the main job's terminal: the prompt and the
        phone's echo of what is typed show at once)."""
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.timeout, self.start, self.out, self.run = timeout, time.monotonic(), [], None
        self.echo = echo
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        fd, pending = self.proc.stdout.fileno(), b""
        shown = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            chunk = os.read(fd, 4096)
            if self.echo:
                sys.stdout.write(shown.decode(chunk, final=not chunk))
                sys.stdout.flush()
            pending += chunk
            *lines, pending = pending.split(b"\n") if chunk else [pending, b""]
            with self._cond:
                self.out.extend(raw.decode(errors="replace").rstrip("\r") for raw in lines
                                if chunk or raw)
                self._cond.notify_all()
            if not chunk:
                return

    def send(self, line):
        self.send_bytes((line + "\n").encode())

    def send_bytes(self, data):
        """Raw bytes to UART0 (keystrokes)."""
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_for(self, pattern, timeout=None, start=0):
        """Waits for a line (trace message or console output) matching the
        regex, from line index `start` on; returns its index in self.out
        and the match."""
        rx = re.compile(pattern)

        def seen():
            for i, line in enumerate(self.out[start:], start):
                m = TRACE_RE.match(line)
                m = rx.search(m[8] if m else line)
                if m:
                    return i, m
            return None

        with self._cond:
            hit = self._cond.wait_for(seen, timeout or self.timeout)
        assert hit, "no %r in:\n%s" % (pattern, "\n".join(self.out))
        return hit

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            rc = self.proc.wait(0 if exc[0] else self.timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._reader.join(5)
        err = self.proc.stderr.read().decode(errors="replace")
        for f in (self.proc.stdin, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        out = "\n".join(self.out)
        print(out)
        self.run = Run.parse(rc, out, time.monotonic() - self.start)
        if exc[0] is None:
            assert err == "", "QEMU wrote to stderr: %s" % err
            self.run.check_format()
        return False


def pem_blocks(text):
    """{label: DER} of the PEM blocks in text (the first of each label)."""
    out = {}
    for m in re.finditer(r"-----BEGIN ([A-Z ]+)-----\n(.*?)-----END \1-----", text, re.S):
        out.setdefault(m[1], base64.b64decode("".join(m[2].split())))
    return out


def mic_region(pem_text):
    """The factory region for a MIC given as certificate + key PEM (the
    file secd-phone --mic reads): "MIC1", u16 cert length, u16 key length,
    SHA-256(cert || key), cert DER, key DER, zero padded."""
    blocks = pem_blocks(pem_text)
    cert = blocks["CERTIFICATE"]
    key = next(v for k, v in blocks.items() if k.endswith("PRIVATE KEY"))
    body = (b"MIC1" + len(cert).to_bytes(2, "big") + len(key).to_bytes(2, "big")
            + hashlib.sha256(cert + key).digest() + cert + key)
    assert len(body) <= MIC_REGION_SIZE
    return body + bytes(MIC_REGION_SIZE - len(body))


def provision_mic(flash, pem_text):
    """The factory step: writes the MIC region into the phone's flash.bin
    (created zero-filled, as the firmware would, when missing)."""
    flash = Path(flash)
    flash.parent.mkdir(parents=True, exist_ok=True)
    with open(flash, "r+b" if flash.exists() else "w+b") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() < FLASH_SIZE:
            f.truncate(FLASH_SIZE)
        f.seek(MIC_REGION_OFFSET)
        f.write(mic_region(pem_text))


class TcmServer(Daemon):
    """`python3 -m tcm serve -v` on 127.0.0.1, a free port."""

    def __init__(self, root, args=()):
        super().__init__("tcm", "serve", "--root", root, "--port", 0, "-v", *args)

    def requests(self):
        return re.findall(r"RRQ (\S+) mode=", self.text())


class Tree:
    """A test's own copy of the served tree (tcm build output)."""

    def __init__(self, built, dest):
        shutil.copytree(Path(built) / "tftp", dest)
        self.root, self.attack_dir = Path(dest), Path(built) / "attack"

    def path(self, name):
        return self.root / name

    def md5(self, name):
        return md5(self.path(name).read_bytes())

    def attack(self, name):
        files = list((self.attack_dir / name).iterdir())
        assert len(files) == 1, files
        return files[0].read_bytes()

    def serve_itl(self, data):
        self.path(ITL_PHONE).write_bytes(data)
        self.path("ITLFile.tlv").write_bytes(data)

    def read(self, name):
        return self.path(name).read_bytes()

    def put(self, name, data):
        self.path(name).write_bytes(data)

    def drop_ctl(self):
        """A cluster not in mixed mode: ITL only."""
        for name in (CTL_PHONE, "CTLFile.tlv"):
            self.path(name).unlink()


def build_tree(out, keys):
    """tcm build --out OUT --keys KEYS (the cluster PKI is reused if present)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-m", "tcm", "build", "--out", str(out), "--keys", str(keys)],
                   cwd=str(TCM_DIR), env=env, check=True, stdout=subprocess.DEVNULL)


def image_sizes(elf, size_tool="arm-none-eabi-size", nm_tool="arm-none-eabi-nm"):
    """Flash and static RAM of the image from its sections, and the largest
    RAM objects (bytes)."""
    out = subprocess.run([size_tool, "-A", str(elf)], check=True, capture_output=True,
                         text=True).stdout
    sec = {m[1]: int(m[2]) for m in re.finditer(r"^(\.\S+)\s+(\d+)\s+\d+$", out, re.M)}
    flash = sum(sec.get(s, 0) for s in (".vectors", ".text", ".ARM.exidx", ".init_array",
                                        ".data"))
    syms = subprocess.run([nm_tool, "-S", "--size-sort", str(elf)], check=True,
                          capture_output=True, text=True).stdout
    ram_objects = {}
    for m in re.finditer(r"^2[0-9a-f]{7} ([0-9a-f]{8}) [bBdD] (\S+)$", syms, re.M):
        ram_objects[m[2]] = int(m[1], 16)
    return {"flash": flash, "data": sec.get(".data", 0), "bss": sec.get(".bss", 0),
            "heap_reserved": sec.get(".heap", 0), "ram_objects": ram_objects}
