"""Read-only HTTP/1.1 file server with fault injection: the call manager's
HTTP file service (port 6970 on a real cluster), serving the same tree as
the TFTP server.

Serves one directory on 127.0.0.1 only, one thread per connection, one
request per connection (always `Connection: close`). A good answer looks
like the real one (Content-length, Cache-Control: no-store, Content-type
*/*). Faults apply to the files matching `only` (all when empty):

  slow            seconds to sleep between body pieces of `piece` bytes
  length_delta    Content-Length = real size + delta: negative announces
                  less than what follows, positive more (then the server
                  closes after the real bytes)
  truncate        announce the real size, close after N body bytes
  chunked         chunked transfer coding (`chunk` bytes per chunk)
  truncate_chunked  chunked, close after N body bytes without the last chunk
  oversize        serve the file padded with zeros to N bytes
  status          answer with this status (500, 503, ...) and a short page
  garbage         answer with a line that is not HTTP at all
  redirect        answer 302 with this Location
  missing         names/globs answered 404

"Connection refused" is simply no server: do not start one.

CLI: python3 -m tcm.httpd --root DIR [--port 0] [-v] [faults...]
prints "listening on 127.0.0.1:PORT", serves until SIGTERM/SIGINT, then
prints "counters: {json}".
"""
import argparse
import fnmatch
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from .out import say
from .serving import BIND_ADDR, Counters, serve_until_signal

MAX_REQUEST_HEAD = 8192


@dataclass
class HttpFaults:
    slow: float = 0.0
    piece: int = 512
    length_delta: int = 0
    truncate: int = -1
    chunked: bool = False
    chunk: int = 1024
    truncate_chunked: int = -1
    oversize: int = 0
    status: int = 0
    garbage: bool = False
    redirect: str = ""
    missing: list = field(default_factory=list)
    only: list = field(default_factory=list)

    def applies_to(self, name):
        return not self.only or any(fnmatch.fnmatch(name, g) for g in self.only)

    def is_missing(self, name):
        return any(fnmatch.fnmatch(name, g) for g in self.missing)


COUNTERS = ("connections", "requests", "ok", "not_found", "bad_request", "faulty",
            "bytes_sent", "aborted")

REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server.owner
        srv.count("connections")
        self.request.settimeout(5.0)
        try:
            head = self._read_head()
            if head is not None:
                srv.serve(self.request, head, self.client_address)
        except OSError:
            srv.count("aborted")  # the client went away: not our problem

    def _read_head(self):
        data = b""
        while b"\r\n\r\n" not in data:
            if len(data) > MAX_REQUEST_HEAD:
                return None
            piece = self.request.recv(2048)
            if not piece:
                return None
            data += piece
        return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class HttpServer:
    """server = HttpServer(root, faults=HttpFaults(status=500)).start();
    ...; server.stop(). Also a context manager. server.requests lists
    {"method", "path", "file", "host", "status", "bytes", "fault"}."""

    def __init__(self, root, port=0, faults=None, log=None):
        self.root = Path(root).resolve()
        self.faults = faults or HttpFaults()
        self.requests = []
        self._log = log
        self._lock = threading.Lock()
        self.counters = Counters(COUNTERS)
        self._tcp = _TcpServer((BIND_ADDR, port), _Handler, bind_and_activate=True)
        self._tcp.owner = self
        self.port = self._tcp.server_address[1]
        self.addr = "%s:%d" % (BIND_ADDR, self.port)
        self._thread = threading.Thread(target=self._tcp.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    # -- lifecycle --
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._tcp.shutdown()
        self._tcp.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def count(self, name, n=1):
        self.counters.add(name, n)

    def stats(self):
        return self.counters.snapshot()

    def log(self, line):
        if self._log:
            self._log(line)

    def files_requested(self):
        with self._lock:
            return [r["file"] for r in self.requests]

    # -- one request --
    def resolve(self, name):
        """Path of a requested name inside root, or None if it escapes."""
        path = (self.root / name.lstrip("/")).resolve()
        if path != self.root and self.root not in path.parents:
            return None
        return path

    def serve(self, sock, head, peer):
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        record = {"method": parts[0], "path": parts[1] if len(parts) > 1 else "",
                  "file": None, "host": headers.get("host"), "status": None, "bytes": 0,
                  "fault": None, "connection": headers.get("connection")}
        with self._lock:
            self.requests.append(record)
        self.count("requests")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self.count("bad_request")
            return self._simple(sock, record, 400)
        if parts[0] != "GET":
            return self._simple(sock, record, 405)
        name = urllib.parse.unquote(urllib.parse.urlsplit(parts[1]).path).lstrip("/")
        record["file"] = name
        self.log("GET %s from %s:%d" % (name, *peer))
        self._answer(sock, record, name)
        if record["fault"]:
            self.count("faulty")
        self.log("END %s status=%s bytes=%d fault=%s" % (name, record["status"],
                                                        record["bytes"], record["fault"]))
        # Done sending, and counted: the client sees the close only now.
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _answer(self, sock, record, name):
        f = self.faults
        faulty = f.applies_to(name)
        path = self.resolve(name)
        if f.is_missing(name) or path is None or not path.is_file():
            self.count("not_found")
            return self._simple(sock, record, 404)
        if faulty and self._status_fault(sock, record):
            return
        data = path.read_bytes()
        if faulty and f.oversize:
            record["fault"] = "oversize"
            data = data + bytes(max(0, f.oversize - len(data)))
        if faulty and (f.chunked or f.truncate_chunked >= 0):
            return self._send_chunked(sock, record, data, faulty)
        self._send_length(sock, record, data, faulty)

    def _status_fault(self, sock, record):
        f = self.faults
        if f.garbage:
            record["fault"] = "garbage"
            sock.sendall(b"SSH-2.0-OpenSSH_9.2p1 not an HTTP server\r\n")
            return True
        if f.redirect:
            record["fault"] = "redirect"
            self._simple(sock, record, 302, extra="Location: %s\r\n" % f.redirect)
            return True
        if f.status:
            record["fault"] = "status"
            self._simple(sock, record, f.status)
            return True
        return False

    def _simple(self, sock, record, status, extra=""):
        body = ("<html><body>%d %s</body></html>\n"
                % (status, REASONS.get(status, "Error"))).encode()
        record["status"] = status
        sock.sendall(self._head(status, extra + "Content-Length: %d\r\n" % len(body)) + body)

    @staticmethod
    def _head(status, fields):
        return ("HTTP/1.1 %d %s\r\n%sCache-Control: no-store\r\nContent-type: */*\r\n"
                "Connection: close\r\n\r\n" % (status, REASONS.get(status, "Error"),
                                               fields)).encode()

    def _send_length(self, sock, record, data, faulty):
        f = self.faults
        announced, send = len(data), data
        if faulty and f.length_delta:
            record["fault"] = "length %+d" % f.length_delta
            announced = max(0, len(data) + f.length_delta)
        if faulty and f.truncate >= 0:
            record["fault"] = "truncate %d" % f.truncate
            send = data[:f.truncate]
        record["status"] = 200
        sock.sendall(self._head(200, "Content-length: %d\r\n" % announced))
        self._send_body(sock, record, send, faulty)
        if announced == len(send):
            self.count("ok")

    def _send_chunked(self, sock, record, data, faulty):
        f = self.faults
        cut = f.truncate_chunked if f.truncate_chunked >= 0 else len(data)
        record["fault"] = ("truncate_chunked %d" % cut) if cut < len(data) else record["fault"]
        record["status"] = 200
        sock.sendall(self._head(200, "Transfer-Encoding: chunked\r\n"))
        out = bytearray()
        for off in range(0, cut, f.chunk):
            piece = data[off:min(off + f.chunk, cut)]
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        if cut == len(data):
            out += b"0\r\n\r\n"
        self._send_body(sock, record, bytes(out), faulty)
        if cut == len(data):
            self.count("ok")

    def _send_body(self, sock, record, body, faulty):
        f = self.faults
        step = f.piece if (faulty and f.slow) else 65536
        for off in range(0, len(body), step):
            if faulty and f.slow:
                record["fault"] = record["fault"] or "slow"
                time.sleep(f.slow)
            sock.sendall(body[off:off + step])
            record["bytes"] += len(body[off:off + step])
            self.count("bytes_sent", len(body[off:off + step]))


def _parser():
    p = argparse.ArgumentParser(prog="python3 -m tcm.httpd",
                                description="HTTP file server with fault injection")
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, default=0, help="0: pick a free port")
    p.add_argument("-v", "--verbose", action="store_true", help="log requests")
    p.add_argument("--slow", type=float, default=0.0, help="seconds between body pieces")
    p.add_argument("--piece", type=int, default=512, help="bytes per piece when slow")
    p.add_argument("--length-delta", type=int, default=0,
                   help="announce Content-Length = size + N (negative: short)")
    p.add_argument("--truncate", type=int, default=-1, help="close after N body bytes")
    p.add_argument("--chunked", action="store_true")
    p.add_argument("--chunk", type=int, default=1024)
    p.add_argument("--truncate-chunked", type=int, default=-1,
                   help="chunked, close after N body bytes without the last chunk")
    p.add_argument("--oversize", type=int, default=0, help="pad files to N bytes")
    p.add_argument("--status", type=int, default=0, help="answer with this status")
    p.add_argument("--garbage", action="store_true", help="answer with a non-HTTP line")
    p.add_argument("--redirect", default="", help="answer 302 with this Location")
    p.add_argument("--missing", action="append", default=[], help="name/glob answered 404")
    p.add_argument("--only", action="append", default=[], help="faults only for this glob")
    return p


def main(argv=None):
    a = _parser().parse_args(argv)
    faults = HttpFaults(slow=a.slow, piece=a.piece, length_delta=a.length_delta,
                        truncate=a.truncate, chunked=a.chunked, chunk=a.chunk,
                        truncate_chunked=a.truncate_chunked, oversize=a.oversize,
                        status=a.status, garbage=a.garbage, redirect=a.redirect,
                        missing=a.missing, only=a.only)

    server = HttpServer(a.root, port=a.port, faults=faults, log=say if a.verbose else None)
    return serve_until_signal(server, server.addr)


if __name__ == "__main__":
    sys.exit(main())
