"""Encrypted configuration for the phone's MIC (B6)."""
import re

import pytest

from conftest import CNF, CTL_PHONE, ITL_PHONE, SGN

ENC = CNF + ".enc.sgn"


@pytest.fixture
def enc_server(tcm, encrypted_tree):
    return tcm(encrypted_tree.root)


def _mic(tree):
    return ("--mic", str(tree.keys / "mic.pem"))


def _load_of(xml):
    return re.search(rb"<loadInformation>([^<]*)</loadInformation>", xml)[1].decode()


def test_encrypted_config_decrypted_with_mic(phone, enc_server, encrypted_tree,
                                             encrypted_cluster_dir, cluster):
    plaintext = (encrypted_cluster_dir / "expected" / CNF).read_bytes()

    run = phone.boot(enc_server, extra=_mic(encrypted_tree))

    assert run.rc == 0, run.stdout
    assert run.requested() == [CTL_PHONE, ITL_PHONE, SGN, ENC]
    run.expect(r"^partial config: encrConfig true, certHash %s$" % cluster["mic"].md5)
    run.expect(r"^verifyFile: verify SUCCESS <%s>$" % re.escape(ENC))
    run.expect(r"^encrypted config decrypted and verified \(\d+ bytes\)$")
    run.expect(r"^boot complete: config accepted \(load %s\)$" % re.escape(_load_of(plaintext)))
    # The decrypted config stays in RAM: nothing of it reaches the flash. (The
    # signed partial config, public anyway, is staged in flash while it
    # downloads; the encrypted file is staged as ciphertext.)
    flash = phone.flash_bin.read_bytes()
    assert b"<capfAuthMode>" in flash  # the staged partial config: the probe works
    for element in (b"callManagerGroup", b"devicePool", b"securedSipPort"):
        assert element in plaintext and element not in flash, element
    shown = phone.boot(enc_server, commands=["show config"], extra=_mic(encrypted_tree))
    assert "loadInformation: %s" % _load_of(plaintext) in shown.console
    assert any(re.match(r"^callManager 1: ", line) for line in shown.console), shown.stdout


def test_encrypted_config_without_device_certificate(phone, enc_server):
    """No MIC, no LSC: certHash cannot match, so the phone tries CAPF (B6);
    with no CAPF server reachable it stops with the reason, and never asks
    for a file it could not decrypt."""
    run = phone.boot(enc_server)

    assert run.rc != 0, run.stdout
    run.expect(r"^certHash cannot match: the phone has no certificate: starting CAPF "
               r"\(round 1 of 2\)$")
    run.expect_error(r"^boot failed: CAPF enrolment failed: ")
    assert ENC not in run.requested()


@pytest.mark.parametrize("attack,reason", [
    ("enc-wrong-device", "key_unwrap_failed"),
    ("enc-wrapped-key-flip-resigned", "key_unwrap_failed"),
    ("enc-pad-len-zero-resigned", "padding_length_invalid"),
    ("enc-digest-flip-resigned", "plaintext_digest_mismatch"),
])
@pytest.mark.attack("bad-encrypted-config")
def test_bad_encrypted_config_refused_settings_dropped(phone, enc_server, encrypted_tree,
                                                       attack, reason):
    encrypted_tree.put(ENC, encrypted_tree.attack(attack))

    run = phone.boot(enc_server, extra=_mic(encrypted_tree))

    assert run.rc != 0, run.stdout
    run.expect_error(r"^boot failed: encrypted config refused: %s$" % reason)
    assert not run.find(r"decrypted and verified")
    # None of the decrypted settings survive a refusal.
    shown = phone.boot(enc_server, commands=["show config"], extra=_mic(encrypted_tree))
    assert not any(re.match(r"^(callManager|tvs) \d+:", line) for line in shown.console), \
        shown.stdout
