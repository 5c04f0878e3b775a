"""The test call manager's HTTP server, driven over real TCP on 127.0.0.1:
good answers and every fault, checked on the raw bytes."""
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import HERE
from tcm.httpd import HttpFaults, HttpServer

RNG = random.Random(6970)
FILES = {
    "ITLSEPA45630BBFA40.tlv": bytes(RNG.randrange(256) for _ in range(5000)),
    "SEPA45630BBFA40.cnf.xml.sgn": b"<device>" + b"x" * 3000 + b"</device>",
    "empty.bin": b"",
    "sub/a b.txt": b"spaces\n",
}
ITL = "ITLSEPA45630BBFA40.tlv"


@pytest.fixture
def root(tmp_path):
    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path.parent / "secret").write_bytes(b"outside the root")
    return tmp_path


@pytest.fixture
def serve(root):
    servers = []

    def start(**faults):
        s = HttpServer(root, faults=HttpFaults(**faults)).start()
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.stop()


def raw_get(port, path, host="127.0.0.1"):
    """Sends a GET like the phone and returns every byte until the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                   % (path, host, port)).encode())
        out = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                return out
            out += piece


def split(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    return lines[0], fields, body


def dechunk(body):
    """Decodes a chunked body; returns (data, complete)."""
    data = b""
    while body:
        line, sep, rest = body.partition(b"\r\n")
        if not sep:
            return data, False
        n = int(line.split(b";")[0], 16)
        if n == 0:
            return data, rest == b"\r\n"
        if len(rest) < n + 2:
            return data + rest[:n], False
        data += rest[:n]
        body = rest[n + 2:]
    return data, False


@pytest.mark.parametrize("name", sorted(FILES))
def test_serves_files_like_the_call_manager(serve, name):
    s = serve()
    status, fields, body = split(raw_get(s.port, "/" + name.replace(" ", "%20")))
    assert status == "HTTP/1.1 200 OK"
    assert fields["content-length"] == str(len(FILES[name]))
    assert fields["cache-control"] == "no-store"
    assert fields["content-type"] == "*/*"
    assert fields["connection"] == "close"
    assert body == FILES[name]
    assert s.requests[-1]["file"] == name
    assert s.requests[-1]["host"] == "127.0.0.1:%d" % s.port
    assert s.stats()["ok"] == 1


def test_python_client_agrees(serve):
    s = serve()
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("GET", "/" + ITL)
    r = c.getresponse()
    assert (r.status, r.read()) == (200, FILES[ITL])


@pytest.mark.parametrize("path", ["/missing.tlv", "/../secret", "/sub/../../secret", "/sub"])
def test_not_found_and_no_escape(serve, path):
    s = serve()
    status, _, body = split(raw_get(s.port, path))
    assert status == "HTTP/1.1 404 Not Found"
    assert b"secret" not in body and b"outside" not in body
    assert s.stats()["not_found"] == 1


def test_missing_glob(serve):
    s = serve(missing=["ITL*"])
    assert split(raw_get(s.port, "/" + ITL))[0] == "HTTP/1.1 404 Not Found"
    assert split(raw_get(s.port, "/empty.bin"))[0] == "HTTP/1.1 200 OK"


def test_bad_requests(serve):
    s = serve()
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(b"POST /x HTTP/1.1\r\nHost: a\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 405 ")
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(b"hello\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 400 ")
    assert s.stats()["bad_request"] == 1


def test_slow_body(serve):
    s = serve(slow=0.05, piece=1000)
    start = time.monotonic()
    _, fields, body = split(raw_get(s.port, "/" + ITL))
    elapsed = time.monotonic() - start
    assert body == FILES[ITL] and fields["content-length"] == "5000"
    assert elapsed >= 0.25, elapsed  # 5 pieces, 50 ms before each
    assert s.requests[-1]["fault"] == "slow"


def test_content_length_short(serve):
    """Announces 100 bytes less than the file, sends all of it."""
    s = serve(length_delta=-100)
    _, fields, body = split(raw_get(s.port, "/" + ITL))
    assert fields["content-length"] == "4900"
    assert body == FILES[ITL]
    assert s.stats()["ok"] == 0 and s.stats()["faulty"] == 1


def test_content_length_long(serve):
    """Announces 100 bytes more than the file, then closes."""
    s = serve(length_delta=100)
    _, fields, body = split(raw_get(s.port, "/" + ITL))
    assert fields["content-length"] == "5100"
    assert body == FILES[ITL]
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("GET", "/" + ITL)
    with pytest.raises(http.client.IncompleteRead):
        c.getresponse().read()


def test_truncate(serve):
    s = serve(truncate=1234)
    _, fields, body = split(raw_get(s.port, "/" + ITL))
    assert fields["content-length"] == "5000" and body == FILES[ITL][:1234]


def test_chunked(serve):
    s = serve(chunked=True, chunk=700)
    _, fields, body = split(raw_get(s.port, "/" + ITL))
    assert fields["transfer-encoding"] == "chunked" and "content-length" not in fields
    assert dechunk(body) == (FILES[ITL], True)
    assert body.startswith(b"2bc\r\n")
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("GET", "/" + ITL)
    assert c.getresponse().read() == FILES[ITL]


def test_truncated_chunked(serve):
    s = serve(truncate_chunked=2000, chunk=700)
    _, _, body = split(raw_get(s.port, "/" + ITL))
    assert dechunk(body) == (FILES[ITL][:2000], False)
    assert not body.endswith(b"0\r\n\r\n")
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("GET", "/" + ITL)
    with pytest.raises(http.client.IncompleteRead):
        c.getresponse().read()


def test_oversize(serve):
    s = serve(oversize=550002, only=["ITL*"])
    _, fields, body = split(raw_get(s.port, "/" + ITL))
    assert fields["content-length"] == "550002" and len(body) == 550002
    assert body[:5000] == FILES[ITL] and not any(body[5000:])
    # `only`: other files are served as they are.
    assert split(raw_get(s.port, "/empty.bin"))[2] == b""


@pytest.mark.parametrize("status", [500, 503])
def test_status(serve, status):
    s = serve(status=status)
    line, _, body = split(raw_get(s.port, "/" + ITL))
    assert line.startswith("HTTP/1.1 %d " % status)
    assert FILES[ITL] not in body


def test_garbage_status_line(serve):
    s = serve(garbage=True)
    raw = raw_get(s.port, "/" + ITL)
    assert not raw.startswith(b"HTTP/")
    assert s.requests[-1]["fault"] == "garbage"


def test_redirect(serve):
    s = serve(redirect="http://127.0.0.2/ITLFile.tlv")
    line, fields, _ = split(raw_get(s.port, "/" + ITL))
    assert line == "HTTP/1.1 302 Found"
    assert fields["location"] == "http://127.0.0.2/ITLFile.tlv"


def test_request_log(serve):
    s = serve()
    for name in (ITL, "missing", "empty.bin"):
        raw_get(s.port, "/" + name)
    assert s.files_requested() == [ITL, "missing", "empty.bin"]
    assert [r["status"] for r in s.requests] == [200, 404, 200]
    assert all(r["connection"] == "close" for r in s.requests)


def test_stopped_server_refuses(serve):
    s = serve()
    port = s.port
    s.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    s.stop = lambda: None  # already stopped


def test_command_line(root):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.Popen([sys.executable, "-m", "tcm.httpd", "--root", str(root), "-v",
                          "--status", "503", "--only", "ITL*"],
                         cwd=str(HERE), env=env, stdout=subprocess.PIPE, text=True)
    try:
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", p.stdout.readline().strip())
        assert m
        port = int(m[1])
        assert split(raw_get(port, "/" + ITL))[0] == "HTTP/1.1 503 Service Unavailable"
        assert split(raw_get(port, "/empty.bin"))[0] == "HTTP/1.1 200 OK"
    finally:
        p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=10)[0]
    assert p.returncode == 0
    assert "GET %s from 127.0.0.1:" % ITL in out
    m = re.search(r"^counters: (.*)$", out, re.M)
    assert m and '"faulty": 1' in m[1] and '"ok": 1' in m[1], out
