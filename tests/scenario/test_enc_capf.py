"""B6 with B8: the partial config's certHash names no certificate the phone
has, so the phone enrols an LSC through CAPF by itself, asks for the config
again (a bounded number of times), and — once the server encrypts for the
new LSC — decrypts the config with the LSC's private key."""
import hashlib
import re

from cryptography import x509

from conftest import MAC
from tcm import files
from test_capf import capfd, mic  # noqa: F401  (fixtures)

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

    again = secure_phone.boot(server, extra=mic)

    assert again.rc == 0, again.stdout
    again.expect(r"^verifyFile: verify SUCCESS <%s>$" % re.escape(ENC))
    again.expect(r"^encrypted config decrypted and verified \(\d+ bytes\)$")
    assert "starting CAPF" not in again.stdout


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
