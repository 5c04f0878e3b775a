"""Provisioning over HTTP (port 6970 on a real cluster) with TFTP fallback
(issue 11, docs/http.md): HTTP only, TFTP only, HTTP down, broken HTTP
answers refused and never installed, a 404 on HTTP with the file on TFTP.

The HTTP server is tcm's (tests/tcm/tcm/httpd.py), run in this process on
a free loopback port and serving the test's own copy of the tree; the TFTP
server is conftest's `tcm serve` process on the same address."""
import re
import socket
import sys
import threading

import pytest

from conftest import CTL_PHONE, ITL_PHONE, MAX_SIZE, SGN, TCM_DIR, closed_port

sys.path.insert(0, str(TCM_DIR))
from tcm.httpd import HttpFaults, HttpServer  # noqa: E402
from tcm.process import stopped_at_end  # noqa: E402

FILES = (CTL_PHONE, ITL_PHONE, SGN)


@pytest.fixture
def httpd():
    """Factory: httpd(root, **faults) starts an HTTP server; all stop at teardown."""
    yield from stopped_at_end(lambda root, **faults:
                              HttpServer(root, faults=HttpFaults(**faults)).start())


def no_tftp():
    """A TFTP address where nothing listens (ICMP port unreachable)."""
    return "127.0.0.1:%d" % closed_port(socket.SOCK_DGRAM)


def http(port):
    return ("--http-port", str(port))


def http_received(run):
    """{file: bytes} from the phone's HTTP trace (`[n]:HTTP GET /X` ...
    `[n]:Finished --> rcvd N bytes`)."""
    return run.received("HTTP")


def http_requested(run):
    return run.requested("HTTP")


def assert_installed_from(phone, tree, run):
    """CTL and ITL installed with the served files' MD5 (checked on a boot
    with no server at all, so nothing can be re-fetched)."""
    run.expect(r"^CTL installed \(anchor: first use\), MD5 %s$" % tree.md5(CTL_PHONE))
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tree.md5(ITL_PHONE))
    tl = phone.show_trustlist(no_tftp(), extra=http(0))
    assert (tl["CTL"], tl["ITL"]) == (tree.md5(CTL_PHONE), tree.md5(ITL_PHONE))


def assert_nothing_installed(phone, tree):
    tl = phone.show_trustlist(no_tftp(), extra=http(0))
    assert (tl["state"], tl["CTL_status"], tl["ITL_status"]) == \
        ("NONE", "not installed", "not installed")
    image = phone.flash_bin.read_bytes()
    assert tree.read(CTL_PHONE)[:64] not in image


# -- where the files come from --

def test_boot_over_http_only(phone, httpd, tftp_tree):
    """No TFTP server at all: every file comes over HTTP, traced like the
    real phone's capture (`HTTP GET /ITLSEP....tlv`, status, bytes)."""
    web = httpd(tftp_tree.root)

    run = phone.boot(no_tftp(), extra=http(web.port))

    assert run.rc == 0, run.stdout
    assert web.files_requested() == list(FILES)
    assert all(r["host"] == web.addr and r["connection"] == "close" for r in web.requests)
    assert http_received(run) == {n: len(tftp_tree.read(n)) for n in FILES}
    run.expect(r"^\[1\]:HTTP GET /%s from %s$" % (CTL_PHONE, re.escape(web.addr)),
               module="HTTP")
    run.expect(r"^\[1\]:HTTP/1\.1 200 OK$", module="HTTP")
    assert run.requested() == []  # no TFTP request at all
    assert run.errors() == []
    assert_installed_from(phone, tftp_tree, run)


def test_boot_over_tftp_only_when_http_port_closed(phone, server, tftp_tree):
    """Connection refused on the HTTP port: TFTP for this file and, without
    asking HTTP again, for every other file of the boot."""
    port = closed_port()

    run = phone.boot(server, extra=http(port))

    assert run.rc == 0, run.stdout
    assert http_requested(run) == [CTL_PHONE]
    run.expect(r"^\[1\]:HTTP server 127\.0\.0\.1:%d: Connection refused, TFTP only for "
               r"this boot$" % port, module="HTTP")
    assert run.requested() == list(FILES)
    assert run.received() == {n: len(tftp_tree.read(n)) for n in FILES}
    assert run.errors() == []
    assert_installed_from(phone, tftp_tree, run)


def test_http_disabled(phone, server):
    run = phone.boot(server, extra=http(0))

    assert run.rc == 0, run.stdout
    assert not [t for t in run.trace if t.module == "HTTP"]
    assert run.requested() == list(FILES)


def test_http_down_then_tftp(phone, server, tftp_tree):
    """A server that accepts connections and never answers: one idle
    timeout, then TFTP for the rest of the boot."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except socket.timeout:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        run = phone.boot(server, extra=http(listener.getsockname()[1]))
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        listener.close()

    assert run.rc == 0, run.stdout
    assert http_requested(run) == [CTL_PHONE]
    run.expect(r"^\[1\]:HTTP server 127\.0\.0\.1:\d+: idle timeout, TFTP only", module="HTTP")
    assert run.received() == {n: len(tftp_tree.read(n)) for n in FILES}
    assert 4.5 < run.elapsed < 15, run.elapsed
    assert_installed_from(phone, tftp_tree, run)


def test_slow_http_body_is_waited_for(phone, httpd, tftp_tree):
    web = httpd(tftp_tree.root, slow=0.05, piece=1024)

    run = phone.boot(no_tftp(), extra=http(web.port))

    assert run.rc == 0, run.stdout
    assert http_received(run) == {n: len(tftp_tree.read(n)) for n in FILES}


# -- broken HTTP answers: refused, never handed to the boot flow --

BROKEN = {
    "content-length-long": ({"length_delta": 100},
                            r"truncated \(closed before Content-Length bytes arrived\)"),
    "content-length-short": ({"length_delta": -100},
                             r"protocol error \(bytes after the end of the body\)"),
    "truncated": ({"truncate": 1000},
                  r"truncated \(closed before Content-Length bytes arrived\)"),
    "truncated-chunked": ({"truncate_chunked": 1500, "chunk": 512},
                          r"truncated \(closed before the last chunk\)"),
    "status-500": ({"status": 500}, r"unexpected status \(only 200 is accepted\)"),
    "garbage": ({"garbage": True}, r"protocol error \(not an HTTP status line\)"),
    "redirect": ({"redirect": "http://127.0.0.2:6970/evil.tlv"},
                 r"redirect refused \(Location not followed\)"),
}


@pytest.mark.fault("http-broken-answer")
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_http_answer_falls_back_to_tftp(phone, httpd, server, tftp_tree, name):
    faults, why = BROKEN[name]
    web = httpd(tftp_tree.root, **faults)

    run = phone.boot(server, extra=http(web.port))

    assert run.rc == 0, run.stdout
    # Each file: HTTP tried, refused with a reason, then TFTP.
    assert web.files_requested() == list(FILES)
    assert http_requested(run) == list(FILES)
    assert http_received(run) == {}
    for n in FILES:
        run.expect(r"^\[\d+\]:HTTP GET /%s refused: %s, asking TFTP$" % (re.escape(n), why),
                   level="WRN", module="HTTP")
    assert run.requested() == list(FILES)
    assert run.received() == {n: len(tftp_tree.read(n)) for n in FILES}
    assert not run.find(r"verify FAIL|refused: .*Trust List")
    assert run.errors() == []
    assert_installed_from(phone, tftp_tree, run)


@pytest.mark.fault("http-broken-answer-no-tftp")
@pytest.mark.parametrize("name", ["content-length-long", "truncated-chunked", "oversize"])
def test_broken_http_answer_without_tftp_installs_nothing(phone, httpd, tftp_tree, name):
    """No TFTP to fall back to: the boot fails on the first file, and the
    bytes HTTP delivered never reached the trust store."""
    faults = {"oversize": MAX_SIZE + 1} if name == "oversize" else BROKEN[name][0]
    web = httpd(tftp_tree.root, **faults)

    run = phone.boot(no_tftp(), extra=http(web.port))

    assert run.rc == 1, run.stdout
    assert web.files_requested() == [CTL_PHONE]
    assert not run.find(r"^verifyFile:")
    run.expect_error(r"^boot failed: TFTP download of %s failed: server unreachable$"
                     % CTL_PHONE)
    if name == "oversize":
        run.expect(r"^\[1\]:%s exceeds max size = %d on HTTP, asking TFTP$"
                   % (CTL_PHONE, MAX_SIZE), level="WRN", module="HTTP")
    assert_nothing_installed(phone, tftp_tree)


def test_oversize_http_body_refused_then_tftp(phone, httpd, server, tftp_tree):
    """Only the CTL is oversize on HTTP: it comes from TFTP, the rest over HTTP."""
    web = httpd(tftp_tree.root, oversize=MAX_SIZE + 1, only=[CTL_PHONE])

    run = phone.boot(server, extra=http(web.port))

    assert run.rc == 0, run.stdout
    run.expect(r"^\[1\]:%s exceeds max size = %d on HTTP, asking TFTP$" % (CTL_PHONE, MAX_SIZE),
               level="WRN", module="HTTP")
    assert run.requested() == [CTL_PHONE]
    assert http_received(run) == {n: len(tftp_tree.read(n)) for n in (ITL_PHONE, SGN)}
    assert_installed_from(phone, tftp_tree, run)


def test_http_body_of_exactly_the_limit_is_accepted(phone, httpd, tftp_tree):
    """550001 bytes over HTTP pass the transport (the same limit as TFTP);
    the padded trust list is then judged by secd like any other file."""
    web = httpd(tftp_tree.root, oversize=MAX_SIZE, only=[CTL_PHONE])

    run = phone.boot(no_tftp(), extra=http(web.port))

    assert http_received(run)[CTL_PHONE] == MAX_SIZE
    run.expect(r"^\[1\]:HTTP/1\.1 200 OK$", module="HTTP")


# -- 404: HTTP can never make the phone skip a file TFTP has --

def test_404_on_http_with_file_on_tftp(phone, httpd, server, tftp_tree):
    """The HTTP service has no trust lists (404) while TFTP does: the phone
    asks TFTP before concluding "not found", and installs them."""
    web = httpd(tftp_tree.root, missing=["CTL*", "ITL*"])

    run = phone.boot(server, extra=http(web.port))

    assert run.rc == 0, run.stdout
    for n in (CTL_PHONE, ITL_PHONE):
        run.expect(r"^\[\d+\]:HTTP/1\.1 404 Not Found$", module="HTTP")
        run.expect(r"^\[\d+\]:File not found on HTTP: %s, asking TFTP$" % n, module="HTTP")
    assert run.requested() == [CTL_PHONE, ITL_PHONE]
    assert http_received(run) == {SGN: len(tftp_tree.read(SGN))}
    assert_installed_from(phone, tftp_tree, run)


def test_404_on_both_is_not_found(phone, httpd, server, tftp_tree):
    """No CTL anywhere (cluster not in mixed mode): HTTP 404, TFTP file not
    found, and the boot moves on to the ITL as it does over TFTP alone."""
    tftp_tree.drop_ctl()
    web = httpd(tftp_tree.root)

    run = phone.boot(server, extra=http(web.port))

    assert run.rc == 0, run.stdout
    assert web.files_requested() == [CTL_PHONE, "CTLFile.tlv", ITL_PHONE, SGN]
    assert run.requested() == [CTL_PHONE, "CTLFile.tlv"]
    run.expect(r"^\[\d+\]:File not found: %s$" % CTL_PHONE, module="TFTP")
    run.expect(r"^ITL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
