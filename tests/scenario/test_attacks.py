"""Attack scenarios of issue 9 not covered elsewhere (each fails if the
phone accepts): CTL/ITL replay refused by the header timestamp (the rule
in docs/security.md), an attacker's ITL with TVS unreachable, an endless
TFTP transfer, malformed ASN.1 in trust-list records.

The other attacks of the issue live next to the feature they attack
(test_refusals, test_trust_updates, test_tvs, test_capf); every one is
marked @pytest.mark.attack and listed in toolchain/test.sh's summary."""
import pytest
from tcm import files

from conftest import CNF, CTL_PHONE, ITL_PHONE, SGN, closed_port, md5, timestamp_of
from test_tvs import serve_config

REPLAY = r"EROR:%s %s is a replay: header timestamp %s older than the installed %s's %d "


def _newer_itl(tree, cluster, seconds=100):
    old = tree.read(ITL_PHONE)
    new = files.build_itl(cluster, timestamp=timestamp_of(old) + seconds)
    return old, new


@pytest.mark.attack("itl-replay")
def test_older_itl_replayed_after_newer_refused(phone, server, tftp_tree, cluster):
    """ITL only: the cluster published a newer ITL, the attacker serves the
    older one again (validly signed by the same CallManager)."""
    tftp_tree.drop_ctl()
    assert phone.boot(server).rc == 0
    old, new = _newer_itl(tftp_tree, cluster)
    tftp_tree.serve_itl(new)
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: ITL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    new_md5 = tftp_tree.md5(ITL_PHONE)

    tftp_tree.serve_itl(old)
    run = phone.boot(server)

    run.expect_error(r"ITL %s refused: older_than_installed - Trust List verification failed$"
                     % ITL_PHONE)
    run.expect_error(REPLAY % ("ITL", ITL_PHONE, timestamp_of(old), "ITL", timestamp_of(new)))
    assert not run.find(r"^ITL installed")
    assert run.rc == 0, run.stdout  # the held (newer) ITL still verifies the config
    assert phone.show_trustlist(server)["ITL"] == new_md5


@pytest.mark.attack("ctl-replay")
def test_older_ctl_replayed_after_newer_refused(secure_phone, server, tftp_tree, cluster):
    old = tftp_tree.read(CTL_PHONE)
    new = files.build_ctl(cluster, signer="sast2", timestamp=timestamp_of(old) + 100)
    tftp_tree.put(CTL_PHONE, new)
    run = secure_phone.boot(server)
    run.expect(r"^CTL installed \(anchor: CTL\)")

    tftp_tree.put(CTL_PHONE, old)
    run = secure_phone.boot(server)

    run.expect_error(r"CTL %s refused: older_than_installed - Trust List verification failed$"
                     % CTL_PHONE)
    run.expect_error(REPLAY % ("CTL", CTL_PHONE, timestamp_of(old), "CTL", timestamp_of(new)))
    assert secure_phone.show_trustlist(server)["CTL"] == md5(new)


@pytest.mark.attack("rollback-itl-replay")
def test_old_rollback_itl_replayed_refused(phone, server, tftp_tree, cluster):
    """The worst replay: a rollback ITL the cluster once published (it
    turns signature checks off) served again after the cluster moved on."""
    tftp_tree.drop_ctl()
    rollback = files.build_rollback_itl(cluster, timestamp=timestamp_of(
        tftp_tree.read(ITL_PHONE)) + 10)
    tftp_tree.serve_itl(rollback)
    run = phone.boot(server)
    run.expect(r"rollback ITL: signatures no longer required")
    # The cluster returns to security: a freshly generated ITL, newer.
    tftp_tree.serve_itl(files.build_itl(cluster, timestamp=timestamp_of(rollback) + 10))
    run = phone.boot(server)
    run.expect(r"^ITL installed \(anchor: first use\)")
    held = tftp_tree.md5(ITL_PHONE)

    tftp_tree.serve_itl(rollback)
    tftp_tree.remove(SGN)  # and an unsigned config, which the rollback would allow
    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"ITL %s refused: older_than_installed" % ITL_PHONE)
    assert not run.find(r"rollback ITL: signatures no longer required")
    assert CNF not in run.requested(), "signatures are still required"
    tl = phone.show_trustlist(server)
    assert tl["ITL"] == held and "rollback" not in tl["state"]


def test_erase_trustlist_takes_an_older_itl(phone, server, tftp_tree, cluster):
    """Documented limit of the rule: after `erase trustlist` nothing is
    compared, the next list is trusted on first use whatever its age."""
    tftp_tree.drop_ctl()
    old, new = _newer_itl(tftp_tree, cluster)
    tftp_tree.serve_itl(new)
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(old)

    run = phone.boot(server, commands=["erase trustlist"])
    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: first use\), MD5 %s$" % md5(old))


@pytest.mark.attack("unknown-itl-signer-tvs-unreachable")
def test_attacker_itl_refused_when_tvs_unreachable(phone, server, tftp_tree, cluster):
    """An ITL and config signed by a key no list knows, and the only TVS
    named by the config does not answer: refused, old ITL kept."""
    tftp_tree.drop_ctl()
    port = closed_port()
    serve_config(tftp_tree, cluster, [port])
    assert phone.boot(server).rc == 0
    good = tftp_tree.md5(ITL_PHONE)
    tftp_tree.serve_itl(tftp_tree.attack("attacker-itl"))
    tftp_tree.put(SGN, files.build_sgn(cluster["attacker"], tftp_tree.read(CNF), SGN))

    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^EROR:connectToTvsServer: TVS server 127\.0\.0\.1:%d failed: connect: "
                     r"server unreachable" % port)
    run.expect_error(r"ITL %s refused: signer_not_trusted - Trust List verification failed$"
                     % ITL_PHONE)
    run.expect_error(r"^signed config refused: signer_not_trusted$")
    assert phone.show_trustlist(server)["ITL"] == good


@pytest.mark.attack("endless-tftp-transfer")
@pytest.mark.parametrize("negotiate", [True, False], ids=["lying-tsize", "no-options"])
def test_endless_transfer_stopped_at_limit(secure_phone, tcm, tftp_tree, negotiate):
    """A server that never ends the config transfer (full blocks forever,
    tsize announcing the real size): the phone stops at its limit."""
    srv = tcm(tftp_tree.root, "--endless", "--only", SGN,
              *([] if negotiate else ["--ignore-options"]))
    before = secure_phone.show_trustlist(srv)

    run = secure_phone.boot(srv, timeout=120)

    assert run.rc != 0, run.stdout
    run.expect(r"^\[\d+\]:%s exceeds max size = 550001$" % SGN.replace(".", r"\."),
               level="ERR", module="TFTP")
    run.expect_error(r"^boot failed: config too large$")
    assert not run.find(r"config parsed")
    assert secure_phone.show_trustlist(srv) == before


def _itl_with_bad_record(cluster, tree, field):
    """The cluster's ITL, re-signed by the CallManager, with malformed ASN.1
    in the signer's own SAST record: its public key (tag 7, PKCS#1 DER) or
    its certificate (tag 9, X.509 DER) gets a SEQUENCE length past its end."""
    cm = cluster["callmanager"]
    recs = files.itl_records(cluster)
    sast = recs[0]
    target = files.public_key_bytes(cm.cert) if field == "key" else cm.der
    assert target in sast and target[0] == 0x30 and target[1] == 0x82
    bad = target[:2] + b"\xff\xff" + target[4:]
    recs[0] = sast.replace(target, bad)
    return files.trust_list(cm, recs, "ITLFile.tlv",
                            timestamp=timestamp_of(tree.read(ITL_PHONE)) + 1)


@pytest.mark.attack("malformed-asn1-in-record-key")
def test_malformed_asn1_key_in_itl_record_refused(phone, server, tftp_tree, cluster):
    """First use, where the ITL authenticates itself through its signer's
    record: a public key whose DER length runs past its end must not
    verify, crash or install."""
    tftp_tree.drop_ctl()
    tftp_tree.serve_itl(_itl_with_bad_record(cluster, tftp_tree, "key"))

    run = phone.boot(server, commands=["show trustlist"])

    run.expect_error(r"ITL %s refused: \w+ - Trust List verification failed$" % ITL_PHONE)
    assert run.trust_list()["ITL_status"] == "not installed"


def test_malformed_certificate_in_itl_record_is_inert(phone, server, tftp_tree, cluster):
    """The same with the record's X.509 DER broken: the signature is checked
    with the record's key (tag 7), so the CallManager-signed list installs;
    the certificate bytes are only ever compared or handed to TVS, never
    trusted on their own, and nothing crashes reading them back."""
    tftp_tree.drop_ctl()
    bad = _itl_with_bad_record(cluster, tftp_tree, "cert")
    tftp_tree.serve_itl(bad)

    run = phone.boot(server, commands=["show trustlist", "show cert"])

    run.expect(r"^ITL installed \(anchor: first use\)")
    assert run.trust_list()["ITL"] == md5(bad)
