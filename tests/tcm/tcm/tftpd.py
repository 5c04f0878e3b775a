"""Read-only TFTP server with fault injection (RFC 1350, 2347, 2348, 2349).

Serves one directory on 127.0.0.1 only. Each read request gets its own
socket (transfer ID) and thread. Faults are applied to the packets the
server sends in a transfer (OACK, DATA) and are drawn from a random
generator seeded per transfer from (seed, file name, n-th request for that
file), so a run with the same seed and the same client behaviour injects
the same faults.
"""
import fnmatch
import json
import random
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import tftp
from .serving import BIND_ADDR, Counters


@dataclass
class Faults:
    loss: float = 0.0          # probability an outgoing packet is dropped
    dup: float = 0.0           # probability it is sent twice
    reorder: float = 0.0       # probability it is held back and sent after the next one
    delay: float = 0.0         # seconds to sleep before sending a packet
    delay_prob: float = 1.0    # probability the delay applies to a packet
    error_at: int = 0          # send ERROR instead of DATA block N (0: never)
    error_code: int = tftp.E_UNDEF
    error_msg: str = "injected error"
    truncate: int = -1         # serve only the first N bytes (short block ends early)
    stall_after: int = -1      # go silent once N bytes were sent
    ignore_options: bool = False  # never OACK: plain RFC 1350 transfer
    missing: list = field(default_factory=list)  # names/globs answered "File not found"
    only: list = field(default_factory=list)     # globs the faults apply to (empty: all)
    seed: int = None
    # Faults at exact positions: the n-th packet a transfer sends (1-based,
    # OACK and retransmissions counted), the n-th ACK it receives.
    drop_packets: list = field(default_factory=list)
    dup_packets: list = field(default_factory=list)
    delay_packets: list = field(default_factory=list)  # by `delay` seconds (random delay off)
    drop_acks: list = field(default_factory=list)
    # Never end: after the file, full blocks of zeros for as long as the
    # client ACKs (an attacker's endless transfer; tsize still says the
    # file's real size).
    endless: bool = False

    def applies_to(self, name):
        return not self.only or any(fnmatch.fnmatch(name, g) for g in self.only)

    def is_missing(self, name):
        return any(fnmatch.fnmatch(name, g) for g in self.missing)


COUNTERS = ("requests", "wrq_refused", "not_found", "access_denied", "oack_sent",
            "data_sent", "retransmits", "acks_received", "dropped", "duplicated",
            "reordered", "delayed", "errors_injected", "errors_sent", "truncated",
            "stalled", "foreign_tid", "transfers_ok", "transfers_failed", "bytes_sent")


class TransferAborted(Exception):
    pass


class Transfer(threading.Thread):
    """One read transfer, from request to final ACK."""

    def __init__(self, server, peer, filename, mode, options, rng):
        super().__init__(daemon=True)
        self.srv, self.peer, self.filename = server, peer, filename
        self.mode, self.options = mode, options
        self.faulty = server.faults.applies_to(filename)
        self.rng = rng
        self.held = None
        self.sent = self.acks = 0  # packets sent, ACKs received (exact-position faults)
        self.timeout = server.timeout
        self.blksize = tftp.DEFAULT_BLKSIZE
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((BIND_ADDR, 0))
        self.record = {"file": filename, "mode": mode, "options": dict(options),
                       "peer": "%s:%d" % peer, "result": None, "bytes": 0}

    # -- sending, through the fault injector --
    def _raw_send(self, pkt):
        self.sock.sendto(pkt, self.peer)

    def send(self, pkt):
        f, c = self.srv.faults, self.srv.counters
        self.sent += 1
        if self.faulty:
            if (f.loss and self.rng.random() < f.loss) or self.sent in f.drop_packets:
                c.add("dropped")
                return
            at = self.sent in f.delay_packets if f.delay_packets else \
                f.delay and self.rng.random() < f.delay_prob
            if f.delay and at:
                c.add("delayed")
                time.sleep(f.delay)
            if f.reorder and self.held is None and self.rng.random() < f.reorder:
                c.add("reordered")
                self.held = pkt
                return
        self._raw_send(pkt)
        if self.faulty and ((f.dup and self.rng.random() < f.dup) or self.sent in f.dup_packets):
            c.add("duplicated")
            self._raw_send(pkt)
        self.flush_held()

    def flush_held(self):
        if self.held is not None:
            held, self.held = self.held, None
            self._raw_send(held)

    def send_error(self, code, msg):
        self.srv.counters.add("errors_sent")
        self._raw_send(tftp.make_error(code, msg))

    # -- receiving --
    def wait_ack(self, block, pkt, is_data):
        """Sends pkt and waits for ACK block, retransmitting on timeout."""
        c = self.srv.counters
        for attempt in range(self.srv.retries + 1):
            if attempt:
                c.add("retransmits")
            if is_data:
                c.add("data_sent")
            self.send(pkt)
            deadline = time.monotonic() + self.timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if self.srv.stopping():
                    raise TransferAborted("server stopped")
                if self._recv_ack(block, left):
                    return
        raise TransferAborted("no ACK for block %d" % block)

    def _recv_ack(self, block, left):
        self.sock.settimeout(min(left, 0.1))  # stays responsive to stop()
        try:
            pkt, addr = self.sock.recvfrom(65536)
        except socket.timeout:
            return False
        if addr != self.peer:
            self.srv.counters.add("foreign_tid")
            self.sock.sendto(tftp.make_error(tftp.E_UNKNOWN_TID, "Unknown transfer ID"), addr)
            return False
        op = tftp.opcode_of(pkt)
        if op == tftp.ERROR:
            raise TransferAborted("client error %d %s" % tftp.parse_error(pkt))
        if op != tftp.ACK or len(pkt) < 4:
            self.send_error(tftp.E_ILLEGAL_OP, "expected ACK")
            raise TransferAborted("unexpected opcode %d" % op)
        self.srv.counters.add("acks_received")
        self.acks += 1
        if self.faulty and self.acks in self.srv.faults.drop_acks:
            self.srv.counters.add("dropped")
            return False
        # Duplicate ACKs of earlier blocks are ignored, never answered with a
        # retransmission (Sorcerer's Apprentice, RFC 1123 4.2.3.1).
        return tftp.block_of(pkt) == block & 0xFFFF

    # -- the transfer --
    def run(self):
        try:
            self.record["result"] = self._serve()
        except (TransferAborted, OSError, tftp.PacketError) as e:
            self.srv.counters.add("transfers_failed")
            self.record["result"] = "aborted: %s" % e
        finally:
            self.flush_held()
            self.sock.close()
            self.srv.log("END %s %s bytes=%d" % (self.filename, self.record["result"],
                                                  self.record["bytes"]))

    def _open(self):
        f, c = self.srv.faults, self.srv.counters
        path = self.srv.resolve(self.filename)
        if path is None:
            c.add("access_denied")
            self.send_error(tftp.E_ACCESS, "Access violation")
            return None
        if f.is_missing(self.filename) or not path.is_file():
            c.add("not_found")
            self.send_error(tftp.E_NOT_FOUND, "File not found")
            return None
        data = path.read_bytes()
        return tftp.to_netascii(data) if self.mode == "netascii" else data

    def _negotiate(self, size):
        """Accepted options (RFC 2348 blksize, 2349 timeout and tsize)."""
        if self.srv.faults.ignore_options:
            return {}
        acc = {}
        opts = self.options
        if "blksize" in opts and opts["blksize"].isdigit():
            n = int(opts["blksize"])
            if n >= tftp.MIN_BLKSIZE:
                self.blksize = min(n, self.srv.max_blksize)
                acc["blksize"] = self.blksize
        if "timeout" in opts and opts["timeout"].isdigit() and 1 <= int(opts["timeout"]) <= 255:
            self.timeout = int(opts["timeout"])
            acc["timeout"] = opts["timeout"]
        if opts.get("tsize") == "0":
            acc["tsize"] = size
        return acc

    def _serve(self):
        f, c = self.srv.faults, self.srv.counters
        data = self._open()
        if data is None:
            return "error"
        accepted = self._negotiate(len(data))
        if self.faulty and f.truncate >= 0 and len(data) > f.truncate:
            c.add("truncated")
            data = data[:f.truncate]
        if accepted:
            c.add("oack_sent")
            self.srv.log("OACK %s %s" % (self.filename, accepted))
            self.wait_ack(0, tftp.make_oack({k: str(v) for k, v in accepted.items()}), False)
        return self._send_blocks(data)

    def _send_blocks(self, data):
        f, c = self.srv.faults, self.srv.counters
        block, offset = 1, 0
        while True:
            chunk = data[offset:offset + self.blksize]
            if self.faulty and f.endless and len(chunk) < self.blksize:
                chunk = chunk.ljust(self.blksize, b"\0")
            if self.faulty and f.error_at and block == f.error_at:
                c.add("errors_injected")
                self.send_error(f.error_code, f.error_msg)
                return "error injected at block %d" % block
            if self.faulty and f.stall_after >= 0 and offset >= f.stall_after:
                c.add("stalled")
                return "stalled after %d bytes" % offset
            self.wait_ack(block, tftp.make_data(block, chunk), True)
            offset += len(chunk)
            c.add("bytes_sent", len(chunk))
            self.record["bytes"] = offset
            if len(chunk) < self.blksize:
                c.add("transfers_ok")
                return "ok"
            block = (block + 1) & 0xFFFF  # wraps in an endless transfer


class TftpServer:
    """server = TftpServer(root, faults=Faults(loss=.2, seed=1)).start();
    ...; server.stop(). Also a context manager."""

    def __init__(self, root, port=0, faults=None, timeout=1.0, retries=5,
                 max_blksize=tftp.MAX_BLKSIZE, log=None):
        self.root = Path(root).resolve()
        self.faults = faults or Faults()
        self.timeout, self.retries, self.max_blksize = timeout, retries, max_blksize
        self.counters = Counters(COUNTERS)
        self.requests = []
        self._log = log
        self._per_file = {}
        self._lock = threading.Lock()
        self._transfers = []
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((BIND_ADDR, port))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def log(self, line):
        if self._log:
            self._log(line)

    def start(self):
        self._thread.start()
        return self

    def stopping(self):
        return self._stop.is_set()

    def stop(self, wait=2.0):
        self._stop.set()
        self._thread.join(wait)
        for t in list(self._transfers):
            t.join(wait)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stats(self):
        return self.counters.snapshot()

    def wait_idle(self, timeout=10.0, requests=0):
        """Waits until at least `requests` requests arrived and every
        transfer thread has finished."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < requests and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            transfers = list(self._transfers)
        for t in transfers:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in transfers)

    def resolve(self, name):
        """Path of a requested name inside root, or None if it escapes."""
        rel = name.lstrip("/")
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            return None
        return path

    def _rng(self, filename):
        with self._lock:
            n = self._per_file.get(filename, 0)
            self._per_file[filename] = n + 1
        if self.faults.seed is None:
            return random.Random()
        return random.Random("%s/%s/%d" % (self.faults.seed, filename, n))

    def _loop(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                pkt, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self._handle(pkt, peer)

    def _handle(self, pkt, peer):
        try:
            op = tftp.opcode_of(pkt)
            if op == tftp.WRQ:
                self.counters.add("wrq_refused")
                self.counters.add("errors_sent")
                self.sock.sendto(tftp.make_error(tftp.E_ACCESS, "read-only server"), peer)
                return
            if op != tftp.RRQ:
                self.counters.add("errors_sent")
                self.sock.sendto(tftp.make_error(tftp.E_ILLEGAL_OP, "expected RRQ"), peer)
                return
            _, filename, mode, options = tftp.parse_request(pkt)
        except tftp.PacketError:
            self.counters.add("errors_sent")
            self.sock.sendto(tftp.make_error(tftp.E_ILLEGAL_OP, "malformed request"), peer)
            return
        self.counters.add("requests")
        self.log("RRQ %s mode=%s options=%s from %s:%d"
                 % (filename, mode, json.dumps(options, sort_keys=True), *peer))
        t = Transfer(self, peer, filename, mode, options, self._rng(filename))
        # Registered before it can send anything: once a client has seen a
        # packet, wait_idle() knows the transfer.
        with self._lock:
            self._transfers = [x for x in self._transfers if x.is_alive()] + [t]
            self.requests.append(t.record)
            t.start()


def faults_from_dict(d):
    return Faults(**{k: v for k, v in d.items() if k in Faults.__dataclass_fields__})


def faults_as_dict(f):
    return asdict(f)
