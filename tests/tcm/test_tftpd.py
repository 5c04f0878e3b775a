"""The test call manager's TFTP server, driven by real UDP packets on
127.0.0.1: plain RFC 1350 transfers, option negotiation and every fault."""
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from conftest import HERE
from tcm import tftp, tftpc
from tcm.tftpd import Faults, TftpServer

RNG = random.Random(1350)
FILES = {
    "small.bin": bytes(RNG.randrange(256) for _ in range(1300)),
    "exact.bin": bytes(RNG.randrange(256) for _ in range(1024)),
    "empty.bin": b"",
    "big.bin": bytes(RNG.randrange(256) for _ in range(100_000)),
    "text.txt": b"line one\nline two\r\nend\n",
    "sub/ITLFile.tlv": b"x" * 3000,
}


@pytest.fixture
def root(tmp_path):
    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return tmp_path


@pytest.fixture
def serve(root):
    servers = []

    def start(faults=None, **kw):
        kw.setdefault("timeout", 0.2)
        s = TftpServer(root, faults=faults, **kw).start()
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.stop()


# --- RFC 1350 ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["small.bin", "exact.bin", "empty.bin", "big.bin", "sub/ITLFile.tlv"])
def test_plain_transfer(serve, name):
    s = serve()
    r = tftpc.get(s.port, name)
    assert r.data == FILES[name]
    assert r.oack is None and r.blksize == 512
    # A multiple of 512 ends with an empty block.
    assert r.blocks == len(FILES[name]) // 512 + 1
    assert s.wait_idle()
    st = s.stats()
    assert st["transfers_ok"] == 1 and st["bytes_sent"] == len(FILES[name])
    assert st["data_sent"] == r.blocks and st["retransmits"] == 0
    assert s.requests[0]["file"] == name and s.requests[0]["result"] == "ok"


def test_transfer_uses_a_new_port(serve):
    s = serve()
    r = tftpc.get(s.port, "small.bin")
    assert r.server_tid != s.port


def test_netascii_mode(serve):
    s = serve()
    r = tftpc.get(s.port, "text.txt", mode="netascii")
    assert r.data == b"line one\r\nline two\r\0\r\nend\r\n"


def test_file_not_found(serve):
    s = serve()
    with pytest.raises(tftpc.TftpError) as e:
        tftpc.get(s.port, "CTLSEP001E7A4C11A1.tlv")
    assert e.value.code == tftp.E_NOT_FOUND
    assert s.stats()["not_found"] == 1


def test_missing_list_hides_existing_files(serve):
    s = serve(Faults(missing=["small.*", "sub/ITL*"]))
    for name in ("small.bin", "sub/ITLFile.tlv"):
        with pytest.raises(tftpc.TftpError) as e:
            tftpc.get(s.port, name)
        assert e.value.code == tftp.E_NOT_FOUND
    assert tftpc.get(s.port, "exact.bin").data == FILES["exact.bin"]


@pytest.mark.parametrize("name", ["../secret", "/../../etc/passwd", "sub/../../x"])
def test_names_outside_root_are_refused(serve, root, name):
    (root.parent / "secret").write_bytes(b"no")
    s = serve()
    with pytest.raises(tftpc.TftpError) as e:
        tftpc.get(s.port, name)
    assert e.value.code == tftp.E_ACCESS


def _raw(port, pkt, timeout=1.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        sock.sendto(pkt, ("127.0.0.1", port))
        return sock.recvfrom(65536)
    finally:
        sock.close()


def test_write_requests_are_refused(serve, root):
    s = serve()
    reply, _ = _raw(s.port, tftp.make_request(tftp.WRQ, "new.bin"))
    assert tftp.opcode_of(reply) == tftp.ERROR and tftp.parse_error(reply)[0] == tftp.E_ACCESS
    assert not (root / "new.bin").exists()


def test_malformed_request_gets_an_error(serve):
    s = serve()
    reply, _ = _raw(s.port, struct.pack(">H", tftp.RRQ) + b"no-terminator")
    assert tftp.parse_error(reply)[0] == tftp.E_ILLEGAL_OP


def test_packets_from_a_foreign_tid_are_answered_and_ignored(serve):
    s = serve()
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for sock in (a, b):
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1.0)
    try:
        a.sendto(tftp.make_request(tftp.RRQ, "small.bin"), ("127.0.0.1", s.port))
        pkt, tid = a.recvfrom(65536)
        assert tftp.block_of(pkt) == 1
        b.sendto(tftp.make_ack(1), tid)
        err, _ = b.recvfrom(65536)
        assert tftp.parse_error(err)[0] == tftp.E_UNKNOWN_TID
        data = pkt[4:]
        a.sendto(tftp.make_ack(1), tid)
        pkt, _ = a.recvfrom(65536)
        assert tftp.block_of(pkt) == 2
        data += pkt[4:]
        a.sendto(tftp.make_ack(2), tid)
        pkt, _ = a.recvfrom(65536)
        data += pkt[4:]
        a.sendto(tftp.make_ack(3), tid)
    finally:
        a.close()
        b.close()
    assert data == FILES["small.bin"]
    assert s.wait_idle() and s.stats()["foreign_tid"] == 1, s.requests
    assert s.stats()["transfers_ok"] == 1, (s.requests, s.stats())


def test_duplicate_acks_do_not_trigger_retransmission(serve):
    """Sorcerer's Apprentice: an old ACK repeated must not make the server
    send the next block twice."""
    s = serve(timeout=2.0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    try:
        sock.sendto(tftp.make_request(tftp.RRQ, "small.bin"), ("127.0.0.1", s.port))
        _, tid = sock.recvfrom(65536)
        sock.sendto(tftp.make_ack(1), tid)
        sock.recvfrom(65536)  # block 2
        sock.sendto(tftp.make_ack(1), tid)  # duplicate, stale
        sock.settimeout(0.5)  # well before the server's 2 s retransmission
        with pytest.raises(socket.timeout):
            sock.recvfrom(65536)
    finally:
        sock.close()


def test_concurrent_transfers(serve):
    import threading
    s = serve()
    results = {}

    def fetch(name):
        results[name] = tftpc.get(s.port, name, options={"blksize": 1024}).data
    threads = [threading.Thread(target=fetch, args=(n,)) for n in ("big.bin", "small.bin", "exact.bin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert {n: FILES[n] for n in results} == results and len(results) == 3


# --- options (RFC 2347/2348/2349) ------------------------------------------------

def test_blksize_and_tsize(serve):
    s = serve()
    r = tftpc.get(s.port, "big.bin", options={"blksize": 1428, "tsize": 0})
    assert r.oack == {"blksize": "1428", "tsize": str(len(FILES["big.bin"]))}
    assert r.data == FILES["big.bin"] and r.blocks == len(FILES["big.bin"]) // 1428 + 1
    assert s.stats()["oack_sent"] == 1


def test_blksize_is_capped_and_tiny_blksize_ignored(serve):
    s = serve(max_blksize=1024)
    r = tftpc.get(s.port, "big.bin", options={"blksize": 65464})
    assert r.oack == {"blksize": "1024"} and r.data == FILES["big.bin"]
    r = tftpc.get(s.port, "small.bin", options={"blksize": 4, "tsize": 0})
    assert r.oack == {"tsize": "1300"} and r.blksize == 512 and r.data == FILES["small.bin"]


def test_timeout_option_is_acknowledged(serve):
    s = serve()
    r = tftpc.get(s.port, "small.bin", options={"timeout": 3, "bogus": "1"})
    assert r.oack == {"timeout": "3"} and r.data == FILES["small.bin"]


def test_tsize_of_an_empty_file(serve):
    s = serve()
    r = tftpc.get(s.port, "empty.bin", options={"tsize": 0})
    assert r.oack == {"tsize": "0"} and r.data == b""


def test_ignore_options_mode(serve):
    s = serve(Faults(ignore_options=True))
    r = tftpc.get(s.port, "big.bin", options={"blksize": 1428, "tsize": 0})
    assert r.oack is None and r.blksize == 512 and r.data == FILES["big.bin"]
    assert s.stats()["oack_sent"] == 0


# --- faults ------------------------------------------------------------------------

def test_loss_is_recovered_by_retransmission(serve):
    s = serve(Faults(loss=0.3, seed=7), timeout=0.05)
    r = tftpc.get(s.port, "big.bin", options={"blksize": 1024}, timeout=2.0)
    assert r.data == FILES["big.bin"]
    assert s.wait_idle()
    st = s.stats()
    assert st["dropped"] > 10 and st["retransmits"] >= st["dropped"] - 1


def test_same_seed_same_faults(root):
    """Faults come from a per-transfer generator seeded from (seed, name,
    request count): two servers with one seed inject identical faults."""
    runs = []
    for _ in range(2):
        with TftpServer(root, faults=Faults(loss=0.2, dup=0.2, reorder=0.1, seed=42),
                        timeout=0.15) as s:
            r = tftpc.get(s.port, "big.bin", options={"blksize": 4096}, timeout=5.0)
            assert r.data == FILES["big.bin"]
            assert s.wait_idle()
            st = s.stats()
        runs.append({k: st[k] for k in ("dropped", "duplicated", "reordered", "retransmits")})
    assert runs[0] == runs[1] and runs[0]["dropped"] > 0 and runs[0]["duplicated"] > 0
    with TftpServer(root, faults=Faults(loss=0.2, dup=0.2, reorder=0.1, seed=43), timeout=0.15) as s:
        tftpc.get(s.port, "big.bin", options={"blksize": 4096}, timeout=5.0)
        s.wait_idle()
        st = s.stats()
    assert {k: st[k] for k in runs[0]} != runs[0]


def test_duplication_reaches_the_client(serve):
    s = serve(Faults(dup=0.5, seed=3))
    r = tftpc.get(s.port, "big.bin", options={"blksize": 1024})
    assert r.data == FILES["big.bin"]
    assert r.duplicates > 10 and s.stats()["duplicated"] >= r.duplicates


def test_reordering_delivers_a_held_packet_late(serve):
    s = serve(Faults(reorder=0.3, seed=5), timeout=0.05)
    r = tftpc.get(s.port, "big.bin", options={"blksize": 1024}, timeout=2.0)
    assert r.data == FILES["big.bin"]
    st = s.stats()
    assert st["reordered"] > 5
    # A held DATA is sent after the next packet (its retransmission), so
    # the client sees it twice.
    assert r.duplicates + r.stale >= st["reordered"] - 1


def test_delay(serve):
    s = serve(Faults(delay=0.05))
    r = tftpc.get(s.port, "small.bin")
    assert r.data == FILES["small.bin"] and r.elapsed >= 3 * 0.05
    assert s.stats()["delayed"] == 3


@pytest.mark.parametrize("block", [1, 3])
def test_error_at_block(serve, block):
    s = serve(Faults(error_at=block, error_code=tftp.E_DISK_FULL, error_msg="boom"))
    with pytest.raises(tftpc.TftpError) as e:
        tftpc.get(s.port, "big.bin")
    assert (e.value.code, e.value.message) == (tftp.E_DISK_FULL, "boom")
    assert len(e.value.result.data) == 512 * (block - 1)
    assert s.stats()["errors_injected"] == 1


def test_truncate_ends_early_with_a_short_block(serve):
    s = serve(Faults(truncate=1000))
    r = tftpc.get(s.port, "big.bin", options={"tsize": 0})
    assert r.data == FILES["big.bin"][:1000]
    assert r.tsize == len(FILES["big.bin"])  # the announced size betrays the cut
    assert s.stats()["truncated"] == 1


def test_truncate_at_block_boundary(serve):
    s = serve(Faults(truncate=1024))
    r = tftpc.get(s.port, "big.bin")
    assert r.data == FILES["big.bin"][:1024] and r.blocks == 3


def test_stall_after(serve):
    s = serve(Faults(stall_after=1024))
    with pytest.raises(tftpc.TftpTimeout) as e:
        tftpc.get(s.port, "big.bin", timeout=0.2, retries=3)
    assert e.value.result.data == FILES["big.bin"][:1024]
    assert s.stats()["stalled"] == 1


def test_faults_only_for_matching_names(serve):
    s = serve(Faults(error_at=1, only=["*.tlv"]))
    assert tftpc.get(s.port, "small.bin").data == FILES["small.bin"]
    with pytest.raises(tftpc.TftpError):
        tftpc.get(s.port, "sub/ITLFile.tlv")


def test_server_gives_up_when_client_disappears(serve):
    s = serve(retries=2)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.sendto(tftp.make_request(tftp.RRQ, "small.bin"), ("127.0.0.1", s.port))
    sock.close()
    assert s.wait_idle(5.0, requests=1)
    st = s.stats()
    assert st["transfers_failed"] == 1 and st["transfers_ok"] == 0
    assert st["retransmits"] == 2 and st["data_sent"] == 3
    assert s.requests[0]["result"].startswith("aborted")


# --- as a process ------------------------------------------------------------------

def test_serve_command(root):
    cmd = [sys.executable, "-m", "tcm", "serve", "--root", str(root), "--port", "0",
           "--loss", "0.2", "--seed", "9", "--timeout", "0.2", "-v"]
    p = subprocess.Popen(cmd, cwd=HERE, stdout=subprocess.PIPE, text=True,
                         env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    try:
        line = p.stdout.readline()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert m, line
        port = int(m.group(1))
        r = tftpc.get(port, "big.bin", options={"blksize": 1428, "tsize": 0}, timeout=2.0)
        assert r.data == FILES["big.bin"]
        time.sleep(0.3)
    finally:
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=10)
    assert p.returncode == 0
    assert re.search(r'^RRQ big\.bin mode=octet options=\{"blksize": "1428", "tsize": "0"\}', out, re.M)
    counters = re.search(r"^counters: (.*)$", out, re.M)
    assert counters and '"dropped": 0' not in counters.group(1)
    assert '"transfers_ok": 1' in counters.group(1)


def test_server_binds_loopback_only(serve):
    s = serve()
    assert s.sock.getsockname()[0] == "127.0.0.1"
    if os.path.exists("/proc/net/udp"):
        assert s.port > 0
