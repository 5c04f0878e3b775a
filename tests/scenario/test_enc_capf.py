"""B6 with B8: the partial config's certHash names no certificate the phone
has, so the phone enrols an LSC through CAPF by itself, asks for the config
again (a bounded number of times), and — once the server encrypts for the
new LSC — decrypts the config with the LSC's private key."""
import hashlib
import re

from cryptography import x509

from conftest import MAC
from tcm import console, files
from test_capf import DEVICE, capfd, mic, show_cert  # noqa: F401  (fixtures)

SGN = "SEP%s.cnf.xml.sgn" % MAC
ENC = "SEP%s.cnf.xml.enc.sgn" % MAC


def _partial(cert_hash, capf_addr):
    host, port = capf_addr.split(":")
    return files.build_partial_config(cert_hash, capf=[(host, int(port))])


def test_cert_hash_mismatch_enrols_lsc_then_decrypts(secure_phone, server, tftp_tree, capfd,
                                                      mic, cluster):
    capf = capfd("--auth", 2)  # null-string install
    # The server knows no certificate for the phone yet: empty certHash.
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"], _partial("", capf.addr), SGN))

    run = secure_phone.boot(server, extra=mic)

    run.expect(r"^partial config: encrConfig true, certHash \(empty\)$")
    run.expect(r"^certHash cannot match|^certHash does not match")
    run.expect(r"^CAPF enrolment done: requesting the config again$")
    issued = capf.issued()
    # The server still serves the old partial config: the phone does not
    # loop forever (a second round, then a clear refusal).
    assert run.rc != 0
    run.expect_error(r"certHash still does not match after 2 CAPF enrolments|"
                     r"CAPF enrolment failed")
    assert len(re.findall(r"starting CAPF \(round", run.stdout)) <= 2

    # The call manager now encrypts the config for the LSC it issued.
    lsc = x509.load_der_x509_certificate(issued)
    plaintext = files.build_config()
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"],
                                       _partial(hashlib.md5(issued).hexdigest(), capf.addr), SGN))
    tftp_tree.put(ENC, files.build_enc_sgn(cluster["callmanager"], plaintext, ENC, lsc))

    again = secure_phone.boot(server, commands=["show config"], extra=mic)

    assert again.rc == 0, again.stdout
    again.expect(r"^verifyFile: verify SUCCESS <%s>$" % re.escape(ENC))
    again.expect(r"^encrypted config decrypted and verified \(\d+ bytes\)$")
    assert "starting CAPF" not in again.stdout
    # Applied: the call managers exist only in the encrypted (full) config.
    assert b"callManagerGroup" in plaintext
    assert any(line.startswith("callManager 1: ") for line in again.console), again.console


def test_auth_string_mode_waits_then_resumes_the_boot(secure_phone, server, tftp_tree, capfd,
                                                      mic, cluster):
    """By authentication string (B6, B8): the boot stops and says so; typing
    the digits on the console finishes the enrolment and the phone asks for
    the config again by itself."""
    capf = capfd("--op", "install", "--auth", 1, "--password", "20261124")
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"], _partial("", capf.addr), SGN))

    with secure_phone.console(server, extra=mic) as con:
        con.wait_for(r"CAPF waits for the authentication string: type 'capf auth-string DIGITS'")
        con.send("capf auth-string 20261124")
        con.wait_for(r"CAPF enrolment done: requesting the config again")
        con.wait_for(r"tlRequestFile: Request CTLSEP", count=2)
        con.send("quit")
    run = con.run
    assert capf.issued()
    run.expect(r"^CAPF enrolment done: requesting the config again$")


def test_lsc_deleted_triggers_capf_again(secure_phone, server, tftp_tree, capfd, mic, cluster):
    """The config is encrypted for the phone's LSC; once the LSC is gone the
    certHash no longer matches the certificate in use (the MIC), and the
    phone enrols again by itself."""
    first = capfd("--auth", 2)
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"], _partial("", first.addr), SGN))
    secure_phone.boot(server, extra=mic)
    issued = first.issued()
    lsc = x509.load_der_x509_certificate(issued)
    second = capfd("--auth", 2)
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"],
                                       _partial(hashlib.md5(issued).hexdigest(), second.addr),
                                       SGN))
    tftp_tree.put(ENC, files.build_enc_sgn(cluster["callmanager"], files.build_config(), ENC,
                                           lsc))
    ok = secure_phone.boot(server, extra=mic)
    assert ok.rc == 0, ok.stdout
    assert "starting CAPF" not in ok.stdout

    gone = secure_phone.boot(server, commands=["erase lsc"], extra=mic)
    gone.expect(r"^LSC erased by the administrator: the MIC is used$", level="WRN")
    again = secure_phone.boot(server, extra=mic)
    again.expect(r"^certHash does not match the certificate in use: starting CAPF \(round 1 of 2\)$")
    assert second.issued()


# capfAuthMode in the config, CUCM's numbering: 0 by authentication string,
# 1 by null string, 2 by existing certificate (precedence to LSC), 3 by
# existing certificate (precedence to MIC). The phone does not act on it:
# the CAPF server's auth request carries the mode (wire type 4 = by MIC).
CAPF_AUTH_MODE_MIC = 3
CAPF_WIRE_AUTH_MIC = 4


def test_auth_by_mic_enrols_then_decrypts(secure_phone, server, tftp_tree, capfd, mic, cluster):
    """B6 with capfAuthMode "by existing certificate (precedence to MIC)":
    an empty certHash makes the phone enrol, authenticating with its MIC
    (TLS client certificate and signed auth data); once the server encrypts
    for the LSC it issued, the config decrypts with the LSC's key."""
    capf = capfd("--op", "install", "--auth", CAPF_WIRE_AUTH_MIC)
    host, port = capf.addr.split(":")
    partial = files.build_partial_config("", capf=[(host, int(port))],
                                         capf_auth_mode=CAPF_AUTH_MODE_MIC)
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"], partial, SGN))

    run = secure_phone.boot(server, extra=mic)

    run.expect(r"^partial config: encrConfig true, certHash \(empty\)$")
    run.expect(r"^certHash does not match the certificate in use: starting CAPF "
               r"\(round 1 of 2\)$")
    run.expect(r"auth mode by existing certificate \(precedence to MIC\)\)$", module="CAPF")
    run.expect(r"^CAPF enrolment done: requesting the config again$")
    # The server still serves the empty certHash: a second round, then the
    # bounded refusal.
    assert run.rc != 0
    run.expect_error(r"certHash still does not match after 2 CAPF enrolments")
    log = capf.text()
    mic_subject = "CN=CP-8845-SEP" + MAC
    # Round 1 (no LSC yet): the MIC is the TLS client certificate. Round 2:
    # the new LSC is (B8: LSC first for TLS), yet the auth data still comes
    # from the MIC (mode 4 refuses anything else).
    clients = re.findall(r"^client certificate: (.*)$", log, re.M)
    assert len(clients) == 2 and mic_subject in clients[0], log
    assert "CN=" + DEVICE in clients[1] and mic_subject not in clients[1], log
    auths = re.findall(r"^auth certificate (\S+) (.*): signed data (\S+), "
                       r"SHA-2 signed data (\S+)$", log, re.M)
    assert len(auths) == 2 and all(a[0] == "MIC" and mic_subject in a[1] and a[2:] == ("ok", "ok")
                                   for a in auths), log
    issued = capf.issued()

    lsc = x509.load_der_x509_certificate(issued)
    tftp_tree.put(SGN, files.build_sgn(
        cluster["callmanager"],
        files.build_partial_config(hashlib.md5(issued).hexdigest(), capf=[(host, int(port))],
                                   capf_auth_mode=CAPF_AUTH_MODE_MIC), SGN))
    tftp_tree.put(ENC, files.build_enc_sgn(cluster["callmanager"], files.build_config(), ENC,
                                           lsc))

    again = secure_phone.boot(server, extra=mic)

    assert again.rc == 0, again.stdout
    again.expect(r"^partial config: encrConfig true, certHash %s$"
                 % hashlib.md5(issued).hexdigest())
    again.expect(r"^verifyFile: verify SUCCESS <%s>$" % re.escape(ENC))
    again.expect(r"^encrypted config decrypted and verified \(\d+ bytes\)$")
    assert "starting CAPF" not in again.stdout


def test_retry_later_is_honoured_then_the_boot_retried(secure_phone, server, tftp_tree, capfd,
                                                       mic, cluster):
    """The CAPF server is busy ("retry later {2 s}"): the boot fails with
    that reason, nothing is installed, and at the console the phone boots
    again after the server's delay (not its own backoff, which would double
    it) while the console keeps answering."""
    capf = capfd("--op", "install", "--fault", "retry-later", "--retry-delay", 2)
    tftp_tree.put(SGN, files.build_sgn(cluster["callmanager"], _partial("", capf.addr), SGN))

    with secure_phone.console(server, extra=mic) as con:
        console.ride_out_capf_retry_later(con, 2)
    run = con.run
    run.expect(r"^session ended: retry later \(2 s\)$", level="WRN", module="CAPF")
    run.expect_error(r"^boot failed: CAPF enrolment failed: retry later")
    assert run.stdout.count("tlRequestFile: Request CTLSEP") >= 2
    assert not (capf.out / "issued.der").exists()
    assert show_cert(run)["in_use"] == "MIC"
    # Spaced by the server's delay: the second boot began >= 2 s after the first failed.
    fail1 = _seconds(run, r"^boot retry in 2 s, as the CAPF server asked \(failed boots: 1\)$")
    again = _seconds(run, r"^retrying the boot \(failed boots: 1\)$")
    assert again - fail1 >= 2.0 - 0.01, (fail1, again)


def _seconds(run, pattern):
    """The trace time of the first message matching pattern, in seconds."""
    line = next(t for t in run.trace if re.search(pattern, t.msg))
    h, m, s = line.time.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)
