"""Trust-list updates in each trust state (B2) and trust-list file names (B3)."""
import pytest
from tcm import files

from conftest import CTL_PHONE, ITL_PHONE, OTHER_MAC, SGN, md5, timestamp_of


def test_ctl_update_signed_by_other_sast_accepted(secure_phone, server, tftp_tree, cluster):
    """CTL + ITL: a new CTL signed by a SAST token of the installed CTL."""
    new_ctl = files.build_ctl(cluster, signer="sast2",
                              timestamp=timestamp_of(tftp_tree.read(CTL_PHONE)) + 1)
    assert new_ctl != tftp_tree.read(CTL_PHONE)
    tftp_tree.put(CTL_PHONE, new_ctl)

    run = secure_phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^CTL installed \(anchor: CTL\), MD5 %s$" % tftp_tree.md5(CTL_PHONE))
    assert secure_phone.show_trustlist(server)["CTL"] == tftp_tree.md5(CTL_PHONE)


@pytest.mark.attack("attacker-ctl")
def test_attacker_ctl_refused_old_kept(secure_phone, server, tftp_tree, cluster):
    """CTL + ITL: a CTL that names the attacker as SAST and CCM+TFTP, signed
    by the attacker, with a config the attacker signed."""
    good = tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE)
    evil = files.build_ctl(cluster, signer="attacker",
                           records=files.ctl_records(cluster, sast=("attacker",), ccm="attacker"))
    tftp_tree.put(CTL_PHONE, evil)
    tftp_tree.put(SGN, tftp_tree.attack("cnf-attacker-signed"))

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"CTL %s refused: signer_not_trusted - Trust List verification failed$"
                     % CTL_PHONE)
    run.expect_error(r"^signed config refused: signer_not_trusted$")
    tl = secure_phone.show_trustlist(server)
    assert (tl["CTL"], tl["ITL"]) == good


def test_itl_only_phone_takes_first_ctl(phone, server, tftp_tree):
    """ITL only: the cluster moves to mixed mode; the first CTL is installed
    blindly and the ITL is then checked against it."""
    ctl = tftp_tree.read(CTL_PHONE)
    tftp_tree.drop_ctl()
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: first use\)")

    tftp_tree.put(CTL_PHONE, ctl)
    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^boot: trust state ITL only,")
    run.expect(r"^CTL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(CTL_PHONE))
    run.expect(r"^verifyFile: verify SUCCESS <%s> \(ITL unchanged" % ITL_PHONE)
    tl = phone.show_trustlist(server)
    assert (tl["state"], tl["CTL"], tl["ITL"]) == (
        "CTL + ITL", tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE))


@pytest.mark.attack("itl-not-signed-by-ctl-entry")
def test_ctl_only_phone_refuses_itl_not_signed_by_ctl_entry(phone, server, tftp_tree):
    """CTL only: an ITL must verify against a CCM+TFTP record of the CTL."""
    ctl_md5 = tftp_tree.md5(CTL_PHONE)
    tftp_tree.remove(ITL_PHONE, "ITLFile.tlv")
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(tftp_tree.attack("attacker-itl"))

    run = phone.boot(server)

    run.expect(r"^boot: trust state CTL only,")
    run.expect_error(r"ITL %s refused: signer_not_trusted - Trust List verification failed$"
                     % ITL_PHONE)
    tl = phone.show_trustlist(server)
    assert (tl["state"], tl["CTL"], tl["ITL_status"]) == ("CTL only", ctl_md5, "not installed")


@pytest.mark.attack("other-phone-itl")
def test_per_phone_itl_under_either_name(phone, server, tftp_tree, cluster):
    """B3: ITLSEP<MAC>.tlv is accepted whether its header names
    ITLSEP<MAC>.tlv or ITLFile.tlv (the tree's, checked in the first-boot
    test); a header naming another phone's ITL is refused."""
    tftp_tree.drop_ctl()
    own = files.build_itl(cluster, filename=ITL_PHONE)
    tftp_tree.put(ITL_PHONE, own)
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))

    other = files.build_itl(cluster, filename="ITLSEP%s.tlv" % OTHER_MAC, timestamp=1700000000)
    tftp_tree.put(ITL_PHONE, other)
    run = phone.boot(server)
    run.expect_error(r"ITL %s refused: filename_mismatch - Trust List verification failed$"
                     % ITL_PHONE)
    assert phone.show_trustlist(server)["ITL"] == md5(own)


def test_itl_with_regenerated_tvs_certificate_accepted(secure_phone, server, tftp_tree):
    """An ITL from the same CallManager announcing a new TVS certificate."""
    tftp_tree.serve_itl(tftp_tree.attack("regen-tvs-itl"))

    run = secure_phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: (CTL|ITL)\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    assert secure_phone.show_trustlist(server)["ITL"] == tftp_tree.md5(ITL_PHONE)


def test_itl_only_phone_takes_itl_signed_by_its_sast(phone, server, tftp_tree, cluster):
    """B2 ITL only: a new ITL from the same CallManager (a SAST record of
    the installed ITL) replaces the old one."""
    tftp_tree.drop_ctl()
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(files.build_itl(cluster,
                                        timestamp=timestamp_of(tftp_tree.read(ITL_PHONE)) + 1))

    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: ITL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
