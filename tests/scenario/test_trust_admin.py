"""Rollback ITL, the administrator's `erase trustlist`, a damaged trust
store (B2, B5, B7)."""
from tcm import files

from conftest import CNF, CTL_PHONE, ITL_PHONE, SGN, timestamp_of


def test_rollback_itl_then_unsigned_config_accepted(phone, server, tftp_tree, cluster):
    tftp_tree.drop_ctl()
    assert phone.boot(server).rc == 0

    # CUCM "prepare cluster for rollback": a signed ITL with no functions,
    # and the cluster serves the plain config only.
    rollback = tftp_tree.attack("rollback-itl")
    tftp_tree.serve_itl(rollback)
    tftp_tree.remove(SGN)
    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: ITL, rollback ITL: signatures no longer required\), "
               r"MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    assert run.requested()[-1] == CNF
    assert not run.find(r"add \.sgn")
    run.expect(r"^boot complete: config accepted")
    tl = phone.show_trustlist(server)
    assert tl["ITL"] == tftp_tree.md5(ITL_PHONE)
    assert "rollback ITL" in tl["state"]

    # A normal ITL again, generated after the rollback ITL (the replay rule
    # refuses lists older than the one held, docs/security.md): taken as on
    # first use, and signatures are back.
    tftp_tree.serve_itl(files.build_itl(cluster, timestamp=timestamp_of(rollback) + 1))
    run = phone.boot(server)
    run.expect(r"^ITL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    assert run.requested()[-1] == SGN
    assert run.rc != 0, run.stdout  # the cluster still serves no .sgn
    run.expect_error(r"config %s not found" % SGN.replace(".", r"\."))


def test_erase_trustlist_returns_to_first_use(secure_phone, server, tftp_tree):
    run = secure_phone.boot(server, commands=["erase trustlist", "show trustlist"])

    run.expect(r"^trust list erased by the administrator: all; next download is trusted on "
               r"first use$", level="WRN", module="SECD")
    tl = run.trust_list()
    assert (tl["state"], tl["CTL_status"], tl["ITL_status"]) == (
        "NONE", "not installed", "not installed")

    run = secure_phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^boot: trust state NONE,")
    run.expect(r"^CTL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(CTL_PHONE))
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))


def test_erase_trustlist_itl_only(secure_phone, server, tftp_tree):
    ctl_md5 = tftp_tree.md5(CTL_PHONE)
    run = secure_phone.boot(server, commands=["erase trustlist itl", "show trustlist"])

    run.expect(r"^trust list erased by the administrator: itl;", level="WRN")
    tl = run.trust_list()
    assert (tl["state"], tl["CTL"], tl["ITL_status"]) == ("CTL only", ctl_md5, "not installed")

    run = secure_phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^boot: trust state CTL only,")
    run.expect(r"\(CTL unchanged, MD5 %s\)$" % ctl_md5)
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))


def test_erase_trustlist_bad_argument_erases_nothing(secure_phone, server, tftp_tree):
    run = secure_phone.boot(server, commands=["erase trustlist everything", "show trustlist"])

    run.expect_error(r"^erase trustlist everything failed")
    tl = run.trust_list()
    assert (tl["CTL"], tl["ITL"]) == (tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE))


def test_erase_recovers_from_regenerated_keys(phone, server, tftp_tree):
    """B4/B7: keys regenerated without TVS: refused until the administrator
    erases the trust list; then the new cluster is trusted on first use."""
    tftp_tree.drop_ctl()
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(tftp_tree.attack("regen-callmanager-itl"))
    tftp_tree.put(SGN, tftp_tree.attack("cnf-regen-callmanager"))
    assert phone.boot(server).rc != 0

    run = phone.boot(server, commands=["erase trustlist itl"])
    run.expect(r"^trust list erased by the administrator: itl;", level="WRN")
    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/%s>" % CNF)


def _damage(flash_bin, stored):
    """Flips one byte in the middle of every stored copy of `stored`."""
    image = bytearray(flash_bin.read_bytes())
    hits, at = [], image.find(stored)
    while at >= 0:
        hits.append(at)
        at = image.find(stored, at + 1)
    assert hits, "the installed list was not found in %s" % flash_bin
    for at in hits:
        image[at + len(stored) // 2] ^= 0x40
    flash_bin.write_bytes(bytes(image))


def test_corrupted_flash_refuses_everything_until_erase(secure_phone, server, tftp_tree):
    _damage(secure_phone.flash_bin, tftp_tree.read(ITL_PHONE))

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^EROR:trust store damaged \(CTL ok, ITL corrupt\): every file will be "
                     r"refused until 'erase trustlist'$")
    # Nothing is accepted: not the CTL, not the ITL, not the config.
    assert set(run.received()) == {CTL_PHONE, ITL_PHONE, SGN}
    assert not run.find(r"verify SUCCESS|installed|config accepted")
    for name in run.received():
        run.expect_error(r"%s refused: trust_store_corrupt" % name.replace(".", r"\."))
    run.expect_error(r"^boot failed: ")
    tl = secure_phone.show_trustlist(server)
    assert "CORRUPT" in tl["state"] and tl["ITL_status"] == "DAMAGED"

    run = secure_phone.boot(server, commands=["erase trustlist"])
    run.expect(r"^trust list erased by the administrator: all;", level="WRN")
    run = secure_phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^CTL installed \(anchor: first use\)")
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))


def test_corrupted_flash_is_not_first_use(secure_phone, server, tftp_tree):
    """A damaged store must not fall back to NONE: a server offering no
    trust list and only the plain config gets nothing accepted."""
    _damage(secure_phone.flash_bin, tftp_tree.read(ITL_PHONE))
    tftp_tree.drop_ctl()
    tftp_tree.remove(ITL_PHONE, "ITLFile.tlv", SGN)

    run = secure_phone.boot(server)

    assert run.rc != 0, run.stdout
    assert CNF not in server.requests()
    run.expect_error(r"^EROR:trust store damaged")
    run.expect_error(r"^boot failed: ")
