"""Files the phone must refuse, and what it keeps when it does (B2, B3, B4, B9)."""
import pytest
from tcm import files

from conftest import CNF, CTL_PHONE, ITL_PHONE, MAX_SIZE, OTHER_MAC, SGN


def _held(phone, server):
    tl = phone.show_trustlist(server)
    return tl["state"], tl["CTL"], tl["ITL"]


@pytest.mark.attack("unsigned-config-downgrade")
def test_unsigned_config_refused_once_trust_list_held(secure_phone, server, tftp_tree):
    """No downgrade: the .sgn is gone, the plain config is still served."""
    before = _held(secure_phone, server)
    tftp_tree.remove(SGN)
    assert tftp_tree.path(CNF).is_file()

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    assert run.requested()[-1] == SGN
    assert CNF not in run.requested() and CNF not in server.requests()
    run.expect_error(r"config %s not found on the server" % SGN.replace(".", r"\."))
    run.expect_error(r"^boot failed: ")
    assert not run.find(r"config accepted")
    assert _held(secure_phone, server) == before


@pytest.mark.attack("plain-config-as-sgn")
def test_plain_config_served_as_sgn_refused(secure_phone, server, tftp_tree):
    """An attacker replaces the .sgn by the plain XML under the signed name."""
    tftp_tree.put(SGN, tftp_tree.read(CNF))

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"verifyFile: %s refused: (malformed|truncated)" % SGN.replace(".", r"\."))
    run.expect_error(r"^signed config refused: ")
    assert not run.find(r"config parsed")


@pytest.mark.attack("other-phone-signed-config")
def test_other_phones_signed_config_refused(secure_phone, server, tftp_tree):
    """A config validly signed for another phone, served under this phone's name."""
    tftp_tree.put(SGN, tftp_tree.read("SEP%s.cnf.xml.sgn" % OTHER_MAC))

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"refused: filename_mismatch")
    run.expect_error(r"^signed config refused: filename_mismatch$")
    assert not run.find(r"config parsed")


@pytest.mark.parametrize("attack,reason", [
    ("cnf-attacker-signed", "signer_not_trusted"),
    ("cnf-attacker-spoof-signed", "signature_invalid"),
    ("cnf-body-flip", "signature_invalid"),
])
@pytest.mark.attack("tampered-signed-config")
def test_tampered_signed_config_refused(secure_phone, server, tftp_tree, attack, reason):
    tftp_tree.put(SGN, tftp_tree.attack(attack))

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^signed config refused: %s$" % reason)


# Every ITL of the tcm attack set the phone must refuse, with its reason.
ITL_ATTACKS = [
    ("attacker-itl", "signer_not_trusted"),
    ("attacker-spoof-itl", "signature_invalid"),
    ("regen-callmanager-itl", "signer_not_trusted"),
    ("empty-itl", "no_records"),
    ("itl-trunc-mid-record", "truncated"),
    ("itl-header-length-gt-file-resigned", "header_length_exceeds_file"),
    ("itl-header-length-byte-flip-resigned", "malformed"),
    ("itl-record-length-overrun-resigned", "record_length_overrun"),
]


@pytest.mark.attack("bad-itl")
@pytest.mark.parametrize("attack,reason", ITL_ATTACKS, ids=[a for a, _ in ITL_ATTACKS])
def test_bad_itl_refused_old_itl_kept(secure_phone, server, tftp_tree, attack, reason):
    good = tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE)
    tftp_tree.serve_itl(tftp_tree.attack(attack))

    run = secure_phone.boot(server)

    run.expect_error(r"ITL %s refused: %s - Trust List verification failed$"
                     % (ITL_PHONE, reason))
    assert not run.find(r"ITL installed")
    # The old ITL still verifies the genuine config.
    assert run.rc == 0, run.stdout
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/%s>" % CNF)
    tl = secure_phone.show_trustlist(server)
    assert (tl["state"], tl["CTL"], tl["ITL"]) == ("CTL + ITL",) + good


@pytest.mark.attack("attacker-itl")
def test_attacker_itl_refused_by_itl_only_phone(phone, server, tftp_tree):
    tftp_tree.drop_ctl()
    good_itl = tftp_tree.md5(ITL_PHONE)
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(tftp_tree.attack("attacker-itl"))

    run = phone.boot(server)

    run.expect_error(r"ITL %s refused: signer_not_trusted - Trust List verification failed$"
                     % ITL_PHONE)
    assert run.rc == 0, run.stdout
    tl = phone.show_trustlist(server)
    assert (tl["state"], tl["ITL"]) == ("ITL only", good_itl)


def test_empty_itl_refused_on_first_use(phone, server, tftp_tree):
    """B5: a signed ITL without records cannot name its signer, even when
    the phone trusts blindly."""
    tftp_tree.drop_ctl()
    tftp_tree.serve_itl(tftp_tree.attack("empty-itl"))

    run = phone.boot(server)

    run.expect_error(r"ITL %s refused: no_records - Trust List verification failed$" % ITL_PHONE)
    assert phone.show_trustlist(server)["ITL_status"] == "not installed"


@pytest.mark.attack("unknown-itl-signer-no-tvs")
def test_regenerated_callmanager_without_tvs_refused(phone, server, tftp_tree):
    """B4: CallManager certificate regenerated, no TVS to vouch: new ITL and
    the config it signs are refused; the old ITL stays."""
    tftp_tree.drop_ctl()
    good_itl = tftp_tree.md5(ITL_PHONE)
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(tftp_tree.attack("regen-callmanager-itl"))
    tftp_tree.put(SGN, tftp_tree.attack("cnf-regen-callmanager"))

    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"ITL %s refused: signer_not_trusted - Trust List verification failed$"
                     % ITL_PHONE)
    run.expect_error(r"^signed config refused: signer_not_trusted$")
    tl = phone.show_trustlist(server)
    assert (tl["state"], tl["ITL"]) == ("ITL only", good_itl)


@pytest.mark.attack("oversize-itl")
def test_oversize_itl_refused_nothing_installed(phone, server, tftp_tree):
    tftp_tree.drop_ctl()
    tftp_tree.serve_itl(tftp_tree.read(ITL_PHONE).ljust(550002, b"\0"))

    run = phone.boot(server, commands=["show trustlist"])

    run.expect(r"^\[\d+\]:%s exceeds max size = 550001$" % ITL_PHONE, level="ERR", module="TFTP")
    run.expect_error(r"^EROR:%s refused: larger than the download limit$" % ITL_PHONE)
    tl = run.trust_list()
    assert (tl["state"], tl["CTL_status"], tl["ITL_status"]) == (
        "NONE", "not installed", "not installed")


@pytest.mark.attack("oversize-config")
@pytest.mark.parametrize("negotiate", [True, False], ids=["tsize", "no-options"])
def test_oversize_config_refused(secure_phone, tcm, tftp_tree, negotiate):
    """With tsize the phone refuses before any data; from a server that
    ignores options it stops at the limit."""
    srv = tcm(tftp_tree.root, *([] if negotiate else ["--ignore-options"]))
    before = _held(secure_phone, srv)
    tftp_tree.put(SGN, tftp_tree.read(SGN).ljust(600000, b" "))

    run = secure_phone.boot(srv)

    assert run.rc != 0, run.stdout
    run.expect(r"^\[\d+\]:%s exceeds max size = 550001$" % SGN.replace(".", r"\."),
               level="ERR", module="TFTP")
    run.expect_error(r"^boot failed: config too large$")
    assert SGN not in run.received()
    assert _held(secure_phone, srv) == before


def _signed_config_of_size(cluster, body, size):
    """A validly signed config of exactly `size` bytes (trailing XML
    whitespace after the root element makes up the difference)."""
    base = len(files.build_sgn(cluster["callmanager"], body, SGN, timestamp=1700000000))
    data = files.build_sgn(cluster["callmanager"], body + b"\n" * (size - base), SGN,
                           timestamp=1700000000)
    assert len(data) == size
    return data


@pytest.mark.parametrize("size,accepted", [(MAX_SIZE, True), (MAX_SIZE + 1, False)])
def test_config_size_limit_is_inclusive(secure_phone, server, tftp_tree, cluster, size,
                                        accepted):
    """B1 `max size = 550001`: a file of exactly that size is taken."""
    tftp_tree.put(SGN, _signed_config_of_size(cluster, tftp_tree.read(CNF), size))

    run = secure_phone.boot(server)

    if accepted:
        assert run.rc == 0, run.stdout
        assert run.received()[SGN] == MAX_SIZE
        run.expect(r"^verifyFile: verify SUCCESS </usr/ram/%s>" % CNF)
    else:
        assert run.rc != 0, run.stdout
        assert SGN not in run.received()
        run.expect_error(r"^boot failed: config too large$")


@pytest.mark.attack("config-signed-by-wrong-role")
@pytest.mark.parametrize("signer", ["capf", "sast1", "tvs"])
def test_config_signed_by_wrong_role_refused(secure_phone, server, tftp_tree, cluster, signer):
    """B3: only a CCM+TFTP or TFTP record may sign a config; CAPF, SAST and
    TVS certificates the phone trusts for other uses may not (the TVS
    certificate even shares the CallManager's subject name)."""
    tftp_tree.put(SGN, files.build_sgn(cluster[signer], tftp_tree.read(CNF), SGN))

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^signed config refused: signer_not_trusted$")
    assert not run.find(r"config parsed")


@pytest.mark.attack("itl-signed-by-capf")
def test_itl_signed_by_capf_refused_by_itl_only_phone(phone, server, tftp_tree, cluster):
    """B2 ITL only: a new ITL must be signed by a SAST record of the ITL."""
    tftp_tree.drop_ctl()
    good_itl = tftp_tree.md5(ITL_PHONE)
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(files.build_itl(cluster, signer="capf"))

    run = phone.boot(server)

    run.expect_error(r"ITL %s refused: \w+ - Trust List verification failed$" % ITL_PHONE)
    assert phone.show_trustlist(server)["ITL"] == good_itl
