"""What the tcm servers (tftpd, httpd, tvsd, capfd) share, written once:

Counters           thread-safe event counters ("counters: {json}" at exit)
tlv, parse_elements, read_exact
                   the u8 tag / u16 length framing of the TCP protocols
                   (TVS, CAPF) and reading a whole message off a socket
server_context     the TLS server context (Python's ssl module)
TlsServer          listening socket on 127.0.0.1, accept thread, stop,
                   TLS handshake with its counters and log line
serve_until_signal the command-line run: "listening on 127.0.0.1:PORT",
                   serve until SIGTERM/SIGINT, "counters: {json}" (the
                   lines tcm.process.Daemon reads)
"""
import json
import signal
import socket
import ssl
import struct
import threading
from pathlib import Path

from .out import say

BIND_ADDR = "127.0.0.1"


class Counters:
    """Named counters; `names` start at 0 (listed in every snapshot), others
    appear once counted."""

    def __init__(self, names=()):
        self._lock = threading.Lock()
        self._c = {k: 0 for k in names}

    def add(self, name, n=1):
        with self._lock:
            self._c[name] = self._c.get(name, 0) + n

    def snapshot(self):
        with self._lock:
            return dict(self._c)


def tlv(tag, value):
    return struct.pack(">BH", tag, len(value)) + value


def parse_elements(body):
    """{tag: value} of a message body; ValueError when it does not parse."""
    out, pos = {}, 0
    while pos < len(body):
        if len(body) - pos < 3:
            raise ValueError("truncated element")
        tag, length = struct.unpack_from(">BH", body, pos)
        pos += 3
        if length > len(body) - pos:
            raise ValueError("element overruns the body")
        out[tag] = body[pos:pos + length]
        pos += length
    return out


def read_exact(conn, n):
    """n bytes from conn, or None once the peer closed before."""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def server_context(keys, cert, tls="1.2", ciphers=None, client_cas=()):
    """TLS server context presenting KEYS/<cert>.crt. With client_cas a
    client certificate is asked for (optional), verified against those of
    KEYS/<ca>.crt that exist; without, none is asked for."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    version = {"1.2": ssl.TLSVersion.TLSv1_2, "1.0": ssl.TLSVersion.TLSv1}[tls]
    if tls == "1.0":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers + (":@SECLEVEL=0" if tls == "1.0" else ""))
    keys = Path(keys)
    ctx.load_cert_chain(str(keys / (cert + ".crt")), str(keys / (cert + ".key")))
    ctx.verify_mode = ssl.CERT_NONE  # no client certificate
    if client_cas:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        for ca in client_cas:
            if (keys / (ca + ".crt")).exists():
                ctx.load_verify_locations(str(keys / (ca + ".crt")))
    return ctx


class TlsServer:
    """TCP listener on 127.0.0.1 with an accept thread; every connection
    goes to self._accepted(conn, peer). A subclass sets self.ctx,
    self.counters and self.log (a line callable or None) before calling
    TlsServer.__init__."""

    def __init__(self, port, backlog):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((BIND_ADDR, port))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)

    def stats(self):
        return self.counters.snapshot()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self._accepted(conn, peer)

    def _accepted(self, conn, peer):
        raise NotImplementedError

    def _say(self, line):
        if self.log:
            self.log(line)

    def _handshake(self, raw, where=""):
        """The TLS connection over raw, or None (counted, logged
        "handshake failed<where>: <error>", raw closed)."""
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.counters.add("handshake_failures")
            self._say("handshake failed%s: %s" % (where, e))
            raw.close()
            return None
        self.counters.add("handshakes")
        return conn


def serve_until_signal(server, addr):
    """Starts server, says "listening on ADDR", serves until SIGTERM or
    SIGINT, stops it and says "counters: {json}" of server.stats()."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start()
    say("listening on %s" % addr)
    # Polled, not done.wait(): the kernel may deliver SIGTERM to a server
    # thread; Python then only runs the handler once the main thread
    # returns to the interpreter, which a lock wait without timeout never
    # does (a test's tvsd_stop() waited forever, about one run in 15).
    while not done.wait(0.2):
        pass
    server.stop()
    say("counters: %s" % json.dumps(server.stats(), sort_keys=True))
    return 0
