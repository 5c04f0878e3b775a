"""The boot over a bad network: loss, duplication, reordering, broken
transfers, no server (B1, B9)."""
import socket
import threading
import time

import pytest

from conftest import CTL_PHONE, ITL_PHONE, SGN, closed_port


@pytest.mark.fault("tftp-random-loss-dup-reorder")
@pytest.mark.parametrize("blksize", [1428, 512])
def test_boot_completes_with_loss_duplication_reordering(phone, tcm, tftp_tree, server,
                                                         blksize):
    """20 % of the server's packets lost, 20 % duplicated, 20 % held back
    and sent after the next one (fixed seed); the server retransmits after
    0.3 s. blksize 512: the server OACKs less than the phone asked for."""
    noisy = tcm(tftp_tree.root, "--loss", "0.2", "--dup", "0.2", "--reorder", "0.2",
                "--seed", "1234", "--timeout", "0.3", "--max-blksize", blksize)

    run = phone.boot(noisy, timeout=60)
    counters = noisy.stop()

    assert run.rc == 0, run.stdout
    assert run.received() == {n: len(tftp_tree.read(n)) for n in (CTL_PHONE, ITL_PHONE, SGN)}
    assert counters["dropped"] > 0 and counters["duplicated"] > 0 and counters["reordered"] > 0, \
        counters
    assert counters["transfers_ok"] == 3, counters
    tl = phone.show_trustlist(server)
    assert (tl["CTL"], tl["ITL"]) == (tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE))


def test_server_unreachable_fails_cleanly(phone):
    run = phone.boot("127.0.0.1:%d" % closed_port(socket.SOCK_DGRAM), timeout=20)

    assert run.rc == 1, run.stdout
    assert run.elapsed < 5, run.elapsed
    run.expect(r"^\[1\]:TFTP download of %s failed: server unreachable$" % CTL_PHONE,
               level="ERR", module="TFTP")
    run.expect_error(r"^boot failed: TFTP download of %s failed: server unreachable$" % CTL_PHONE)
    assert run.requested() == [CTL_PHONE]
    # Nothing was installed (the flash holds only the boot counter).
    tl = phone.show_trustlist("127.0.0.1:%d" % closed_port(socket.SOCK_DGRAM))
    assert tl["state"] == "NONE", tl
    assert tl["CTL_status"] == tl["ITL_status"] == "not installed", tl


@pytest.mark.fault("tftp-silent-server")
def test_silent_server_times_out_after_retries(phone):
    """A server that reads requests and never answers: the phone retries
    with backoff, then gives up within a bounded time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    rrqs, stop = [], threading.Event()

    def listen():
        while not stop.is_set():
            try:
                pkt, _ = sock.recvfrom(2048)
            except socket.timeout:
                continue
            rrqs.append((time.monotonic(), pkt))

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    try:
        run = phone.boot("127.0.0.1:%d" % sock.getsockname()[1], timeout=40)
    finally:
        stop.set()
        t.join()
        sock.close()

    assert run.rc == 1, run.stdout
    assert run.elapsed < 30, run.elapsed
    run.expect_error(r"^boot failed: TFTP download of %s failed: timeout$" % CTL_PHONE)
    # Only read requests for the first file, retransmitted with growing gaps.
    assert len(rrqs) >= 3 and all(p[:2] == b"\0\1" and CTL_PHONE.encode() in p for _, p in rrqs)
    gaps = [b[0] - a[0] for a, b in zip(rrqs, rrqs[1:])]
    assert all(later > earlier - 0.1 for earlier, later in zip(gaps, gaps[1:])), gaps
    assert gaps[-1] > 1.5 * gaps[0], gaps


@pytest.mark.parametrize("fault,trace", [
    (["--error-at", "3", "--error-code", "2", "--error-msg", "disk on fire"],
     r"TFTP download of %s failed: .*disk on fire" % ITL_PHONE),
    (["--truncate", "3000"],
     r"ITL %s refused: truncated - Trust List verification failed" % ITL_PHONE),
], ids=["error-mid-transfer", "truncated"])
@pytest.mark.fault("tftp-broken-itl-transfer")
def test_broken_itl_transfer_installs_nothing(phone, tcm, tftp_tree, fault, trace):
    srv = tcm(tftp_tree.root, "--only", "ITL*", *fault)

    run = phone.boot(srv)

    run.expect_error(trace)
    assert not run.find(r"^ITL installed")
    tl = phone.show_trustlist(srv)
    assert (tl["CTL"], tl["ITL_status"]) == (tftp_tree.md5(CTL_PHONE), "not installed")


def test_boot_from_server_without_option_support(phone, tcm, tftp_tree):
    """A plain RFC 1350 server (no OACK): 512-byte blocks, same files."""
    srv = tcm(tftp_tree.root, "--ignore-options")

    run = phone.boot(srv)
    counters = srv.stop()

    assert run.rc == 0, run.stdout
    assert counters["oack_sent"] == 0 and counters["transfers_ok"] == 3, counters
    assert run.received() == {n: len(tftp_tree.read(n)) for n in (CTL_PHONE, ITL_PHONE, SGN)}


def test_failed_boot_retried_until_the_server_is_back(phone, tcm, tftp_tree):
    """No TFTP server at power-up (a site outage): the boot fails with its
    reason, the phone stays at its console and boots again with backoff
    (1 s, then 2 s, ...); once the server answers, the config is accepted
    and the count of failed boots traced."""
    port = closed_port(socket.SOCK_DGRAM)
    with phone.console("127.0.0.1:%d" % port, extra=["--boot-retry-s", "1"]) as con:
        con.wait_for(r"^boot retry in 1 s \(failed boots: 1\)$")
        con.wait_for(r"^retrying the boot \(failed boots: 1\)$")
        con.wait_for(r"^boot retry in 2 s \(failed boots: 2\)$")
        server = tcm(tftp_tree.root, "--port", port)
        con.wait_for(r"^boot complete: config accepted", timeout=30)
        con.send("show trustlist")
        con.send("quit")
    run = con.run
    run.expect(r"^config accepted after \d+ failed boots?$")
    run.expect_error(r"^boot failed: TFTP download of %s failed: server unreachable$" % CTL_PHONE)
    assert server.requests()[:3] == [CTL_PHONE, ITL_PHONE, SGN]
    tl = run.trust_list()
    assert (tl["CTL"], tl["ITL"]) == (tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE))
    # No retry is armed once the config is accepted.
    accepted = run.stdout.index("boot complete: config accepted")
    assert "boot retry in" not in run.stdout[accepted:]
