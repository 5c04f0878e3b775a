"""CAPF (B8): secd-phone enrols, shows, fetches and deletes its LSC against
the test call manager's CAPF server (tests/tcm/tcm/capfd.py, TLS 1.2 with
the cluster's CAPF certificate, which the phone knows from the ITL).

Every test boots the phone against the tcm TFTP server first (CTL + ITL
installed, the MIC given with --mic), then runs `capf start HOST:PORT` on
the console against its own capfd on a free port."""
import hashlib
import itertools
import re
from pathlib import Path

import pytest

from conftest import MAC, _keys_of
from tcm import console
from tcm.process import Daemon, stopped_at_end

DEVICE = "SEP" + MAC


class Capfd(Daemon):
    """`python3 -m tcm.capfd -v` on 127.0.0.1, a free port."""

    def __init__(self, keys, out, *args):
        self.out = Path(out)
        super().__init__("tcm.capfd", "--keys", keys, "--port", 0, "-v", "--device", DEVICE,
                         "--out", out, *args)

    def text(self, settle=0.5, limit=10.0):
        # The phone can exit before the server logged its last message.
        return super().text(settle, limit)

    def issued(self):
        return (self.out / "issued.der").read_bytes()


@pytest.fixture
def capfd(cluster_dir, tmp_path):
    """Factory: capfd(*args) starts a CAPF server; all stopped at teardown."""
    n = itertools.count()
    yield from stopped_at_end(
        lambda *args: Capfd(_keys_of(cluster_dir), tmp_path / ("capf%d" % next(n)), *args))


@pytest.fixture
def mic(cluster_dir):
    return ("--mic", str(_keys_of(cluster_dir) / "mic.pem"))


def show_cert(run):
    """`show cert` output: {"in_use": .., "MIC": {..}, "LSC": {..}}."""
    out = console.show_cert(run.console)
    assert "in_use" in out, "no `show cert` output in:\n" + run.stdout
    return out


def capf_session(phone, server, capf, mic, *extra_commands, before=()):
    return phone.boot(server, commands=[*before, "capf start " + capf.addr, *extra_commands,
                                        "show cert"], extra=mic, timeout=60)


def install(phone, server, capfd, mic, *args):
    capf = capfd("--op", "install", *args)
    run = capf_session(phone, server, capf, mic)
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    certs = show_cert(run)
    assert certs["in_use"] == "LSC"
    assert certs["LSC"]["MD5"] == hashlib.md5(capf.issued()).hexdigest()
    return capf, run, certs


def test_install_null_string_rsa_pregenerated(secure_phone, server, capfd, mic):
    """The console pre-generates the RSA-2048 key in slices while idle; the
    console answers in between (`capf status` shows the generation running,
    before it has ended); the key generate request is then answered at once
    with it, without `request in progress`."""
    capf = capfd("--op", "install", "--auth", 2)
    with secure_phone.console(server, extra=mic) as con:
        con.wait_for(r"^pre-generating the next RSA-2048 key in slices")
        con.send("capf status")
        con.wait_for(r"^pre-generated the next RSA-2048 key in \d+ ms$", timeout=60)
        con.send("capf start " + capf.addr)
        con.wait_for(r"^session ended: ")
        con.send("show cert")
        con.send("quit")
    run = con.run
    status = [line for line in run.console if line.startswith("pre-generation: ")]
    assert status and re.match(r"^pre-generation: RSA-2048 running \(.*\), \d+ slices, \d+ "
                               r"candidates, \d+ Miller-Rabin rounds so far$", status[0]), status
    # the answer came while the generation ran: its line is before the end
    out = run.stdout.splitlines()
    answered = next(i for i, line in enumerate(out) if line.startswith("pre-generation: RSA"))
    ended = next(i for i, line in enumerate(out) if "pre-generated the next RSA-2048" in line)
    assert answered < ended
    run.expect(r"^pre-generation: \d+ slices, \d+ candidates \(\d+ refused by trial "
               r"division/gcd/\|p-q\|\), \d+ Miller-Rabin rounds, at most 1 modexp a slice$",
               module="CAPF")
    run.expect(r"^key generate request RSA-2048: using the pre-generated key$", module="CAPF")
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    assert "request in progress" not in capf.text()
    certs = show_cert(run)
    assert certs["in_use"] == "LSC"
    assert certs["LSC"]["MD5"] == hashlib.md5(capf.issued()).hexdigest()
    assert "CN=" + DEVICE in certs["LSC"]["subject"].replace("/", ",")
    assert "CAPF-" in certs["LSC"]["issuer"]
    assert certs["MIC"]["installed"]
    assert re.search(r"auth response: device=%s reason=1 password=''" % DEVICE, capf.text())
    # the TLS client certificate was the MIC (no LSC yet)
    assert "client certificate: " in capf.text() and "CP-8845-SEP" in capf.text()
    # The LSC survives a reboot and is the certificate in use.
    again = secure_phone.boot(server, commands=["show cert"], extra=mic)
    assert show_cert(again)["LSC"]["MD5"] == certs["LSC"]["MD5"]
    again.expect(r"^-PXY_CERT: \[CONFIG\], cert \[LSC\]$", module="SECD")


def test_install_ec_generates_with_request_in_progress(secure_phone, server, capfd, mic):
    capf, run, _ = install(secure_phone, server, capfd, mic, "--auth", 0, "--key-type", "ec",
                           "--curve", 0)
    run.expect(r"^key generate request EC P-256: generating \(request in progress sent\)$")
    assert "request in progress" in capf.text()
    assert "EllipticCurvePublicKey" in capf.text()


def test_install_auth_string_entered_on_console(secure_phone, server, capfd, mic):
    capf = capfd("--op", "install", "--auth", 1, "--password", "20260417")
    run = capf_session(secure_phone, server, capf, mic, "capf status",
                       "capf auth-string 20260417")
    run.expect(r"waiting for the string", level="WRN", module="CAPF")
    assert "CAPF: waiting for the authentication string" in run.console
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    assert "password='20260417'" in capf.text()
    assert show_cert(run)["in_use"] == "LSC"


@pytest.mark.attack("capf-wrong-password")
def test_wrong_password_refused_old_lsc_kept(secure_phone, server, capfd, mic):
    _, _, before = install(secure_phone, server, capfd, mic)
    capf = capfd("--op", "install", "--auth", 1, "--password", "1111")
    run = capf_session(secure_phone, server, capf, mic, before=["capf auth-string 9999"])
    run.expect_error(r"session ended by the server: reason 7 ")
    assert "wrong password '9999'" in capf.text()
    assert show_cert(run)["LSC"]["MD5"] == before["LSC"]["MD5"]


def test_auth_by_mic_then_by_lsc(secure_phone, server, capfd, mic):
    capf, _, _ = install(secure_phone, server, capfd, mic, "--auth", 4)
    assert re.search(r"auth certificate MIC .*: signed data ok, SHA-2 signed data ok", capf.text())
    # precedence to LSC: the LSC just installed authenticates the next one,
    # which also proves the stored key is the LSC's key
    capf2, _, _ = install(secure_phone, server, capfd, mic, "--auth", 3, "--key-type", "ec",
                          "--curve", 1)
    assert re.search(r"auth certificate LSC [^\n]*CN=%s: signed data ok, SHA-2 signed data ok"
                     % DEVICE, capf2.text())
    # and the LSC is now the TLS client certificate too
    assert re.search(r"client certificate: [^\n]*CN=%s\n" % DEVICE, capf2.text())


def test_fetch_then_delete_back_to_mic(secure_phone, server, capfd, mic):
    capf, _, certs = install(secure_phone, server, capfd, mic)
    fetch = capfd("--op", "fetch")
    run = capf_session(secure_phone, server, fetch, mic)
    run.expect(r"^session ended: LSC fetched$", module="CAPF")
    assert (fetch.out / "fetched.der").read_bytes() == capf.issued()
    delete = capfd("--op", "delete")
    run = capf_session(secure_phone, server, delete, mic, "capf status")
    run.expect(r"^LSC deleted at the server's request$", module="CAPF")
    after = show_cert(run)
    assert after["in_use"] == "MIC" and not after["LSC"]["installed"]
    assert "delete certificate response reason 1" in delete.text()
    boot = secure_phone.boot(server, commands=["show cert"], extra=mic)
    boot.expect(r"^-PXY_NO_LSC: No LSC for \[CONFIG\], will try MIC$", level="WRN", module="SECD")


@pytest.mark.fault("capf-close-mid-install")
def test_connection_lost_mid_install_keeps_lsc_and_key(secure_phone, server, capfd, mic):
    _, _, before = install(secure_phone, server, capfd, mic)
    capf = capfd("--op", "install", "--fault", "close-mid")
    run = capf_session(secure_phone, server, capf, mic)
    run.expect_error(r"connection lost mid-session: previous LSC and key kept")
    assert show_cert(run)["LSC"]["MD5"] == before["LSC"]["MD5"]
    # the kept key still signs for the kept LSC
    check, _, _ = install(secure_phone, server, capfd, mic, "--auth", 3)
    assert re.search(r"auth certificate LSC .*: signed data ok, SHA-2 signed data ok", check.text())


@pytest.mark.parametrize("fault,pattern", [
    ("end-9", r"session ended by the server: reason 9 \(unknown device\)"),
    ("garbage", r"session failed: malformed message from the server"),
    ("oversized", r"session failed: server message too large"),
])
@pytest.mark.fault("capf-first-install")
def test_server_faults_leave_no_lsc(secure_phone, server, capfd, mic, fault, pattern):
    capf = capfd("--op", "install", "--fault", fault)
    run = capf_session(secure_phone, server, capf, mic)
    run.expect_error(pattern)
    certs = show_cert(run)
    assert certs["in_use"] == "MIC" and not certs["LSC"]["installed"]


@pytest.mark.attack("capf-certificate-for-foreign-key")
def test_lsc_for_a_key_the_phone_did_not_generate_refused(secure_phone, server, capfd, mic):
    _, _, before = install(secure_phone, server, capfd, mic)
    capf = capfd("--op", "install", "--fault", "wrong-key")
    run = capf_session(secure_phone, server, capf, mic)
    run.expect_error(r"certificate is not for the key the phone generated")
    assert "store certificate response reason" in capf.text()
    assert show_cert(run)["LSC"]["MD5"] == before["LSC"]["MD5"]


@pytest.mark.attack("capf-impostor-certificate")
def test_unknown_capf_certificate_refused(secure_phone, server, capfd, mic):
    capf = capfd("--op", "install", "--cert", "attacker")
    run = capf_session(secure_phone, server, capf, mic)
    run.expect_error(r"TLS to CAPF .* refused: .*CAPF certificate not in CTL/ITL")
    assert "auth response: device" not in capf.text()  # nothing reached the server
    assert not show_cert(run)["LSC"]["installed"]


# Server faults (issue 9) after an LSC is installed: whatever the server
# does, the session ends with a traced reason within the phone's bounded
# timeouts (15 s per read, firmware/capf_client.h), and the previous LSC and
# its key stay: nothing half-received is installed.
CAPF_FAULTS = [
    ("stall", r"connection: timeout\n.*connection lost mid-session: previous LSC and key kept"),
    ("stall-mid", r"connection: timeout\n.*connection lost mid-session: previous LSC and key kept"),
    ("reset", r"connection lost mid-session: previous LSC and key kept"),
    ("reset-mid", r"connection lost mid-session: previous LSC and key kept"),
    ("close-in-message", r"connection lost mid-session: previous LSC and key kept"),
    ("close-mid", r"connection lost mid-session: previous LSC and key kept"),
    ("garbage", r"session failed: malformed message from the server"),
    ("oversized", r"session failed: server message too large"),
    ("bad-der", r"session failed: store certificate request: certificate does not parse"),
]


@pytest.mark.fault("capf")
@pytest.mark.parametrize("fault,pattern", CAPF_FAULTS, ids=[f for f, _ in CAPF_FAULTS])
def test_server_fault_keeps_previous_lsc(secure_phone, server, capfd, mic, fault, pattern):
    _, _, before = install(secure_phone, server, capfd, mic)
    capf = capfd("--op", "install", "--fault", fault)

    run = capf_session(secure_phone, server, capf, mic)

    assert not run.find(r"^session ended: LSC installed", module="CAPF"), run.stdout
    errs = [t.msg for t in run.trace if t.level == "ERR" and t.module == "CAPF"]
    assert errs, "no ERR trace from CAPF for fault %s:\n%s" % (fault, run.stdout)
    assert re.search(pattern, run.stdout), run.stdout
    after = show_cert(run)
    assert after["in_use"] == "LSC" and after["LSC"]["MD5"] == before["LSC"]["MD5"]
    assert run.elapsed < 40, "bounded: %.1f s" % run.elapsed
