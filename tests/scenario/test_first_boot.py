"""First boot, reboot, the cluster-file fallback and the console (B1, B2, B7, B9)."""
import re

import pytest

from conftest import CNF, CTL_PHONE, ITL_PHONE, MAC, SGN, Phone


def test_first_boot_installs_ctl_itl_and_accepts_signed_config(phone, server, tftp_tree):
    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^boot: trust state NONE, TFTP server 127\.0\.0\.1$", module="SECD")
    # B1 order: per-phone CTL, per-phone ITL, then the signed config.
    assert run.requested() == [CTL_PHONE, ITL_PHONE, SGN]
    assert server.requests() == [CTL_PHONE, ITL_PHONE, SGN]
    for name in (CTL_PHONE, ITL_PHONE):
        run.expect(r"^tlRequestFile: Request %s$" % name, module="SECD")
        run.expect(r"^\[\d+\]:Requesting %s from 127\.0\.0\.1$" % name, module="TFTP")
        run.expect(r"^verifyFile: verify SUCCESS <%s>$" % name, module="SECD")
    # Every download traced with the byte count of the server's file.
    assert run.received() == {n: len(tftp_tree.read(n)) for n in (CTL_PHONE, ITL_PHONE, SGN)}
    run.expect(r"^CTL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(CTL_PHONE))
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    run.expect(r"^authenticated file approved - add \.sgn -- %s$" % SGN, module="tftpClient")
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/%s>" % CNF, module="SECD")
    run.expect(r"^boot complete: config accepted \(load sip8845_", module="SECD")
    assert run.errors() == []


def test_reboot_keeps_trust_lists(secure_phone, server, tftp_tree, tcm, tmp_path):
    ctl_md5, itl_md5 = tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE)

    # Second boot, same server: the held lists are recognised, not re-installed.
    run = secure_phone.boot(server, commands=["show trustlist"])
    assert run.accepted(), run.stdout
    run.expect(r"^boot: trust state CTL \+ ITL,")
    run.expect(r"^verifyFile: verify SUCCESS <%s> \(CTL unchanged, MD5 %s\)$"
               % (CTL_PHONE, ctl_md5))
    run.expect(r"^verifyFile: verify SUCCESS <%s> \(ITL unchanged, MD5 %s\)$"
               % (ITL_PHONE, itl_md5))
    assert not run.find(r"installed \(anchor")
    tl = run.trust_list()
    assert (tl["state"], tl["CTL"], tl["ITL"]) == ("CTL + ITL", ctl_md5, itl_md5)

    # Third boot against a server with no trust list at all: what the phone
    # holds came from its flash, and it still insists on the signed config.
    tftp_tree.drop_ctl()
    tftp_tree.remove(ITL_PHONE, "ITLFile.tlv")
    run = secure_phone.boot(server, commands=["show trustlist"])
    assert run.accepted(), run.stdout
    assert run.requested()[-1] == SGN
    tl = run.trust_list()
    assert (tl["state"], tl["CTL"], tl["ITL"]) == ("CTL + ITL", ctl_md5, itl_md5)


def test_cluster_file_fallback_when_per_phone_files_missing(phone, server, tftp_tree):
    tftp_tree.remove(CTL_PHONE, ITL_PHONE)

    run = phone.boot(server, commands=["show trustlist"])

    assert run.accepted(), run.stdout
    assert run.requested() == [CTL_PHONE, "CTLFile.tlv", ITL_PHONE, "ITLFile.tlv", SGN]
    run.expect(r"^\[\d+\]:File not found: %s$" % CTL_PHONE, module="TFTP")
    run.expect(r"^tlRequestFile: %s not found, trying the cluster file$" % CTL_PHONE)
    run.expect(r"^tlRequestFile: Request CTLFile\.tlv$")
    run.expect(r"^tlRequestFile: %s not found, trying the cluster file$" % ITL_PHONE)
    run.expect(r"^tlRequestFile: Request ITLFile\.tlv$")
    run.expect(r"^verifyFile: verify SUCCESS <CTLFile\.tlv>$")
    run.expect(r"^verifyFile: verify SUCCESS <ITLFile\.tlv>$")
    tl = run.trust_list()
    assert (tl["CTL"], tl["ITL"]) == (tftp_tree.md5("CTLFile.tlv"), tftp_tree.md5("ITLFile.tlv"))
    assert run.errors() == []


def test_fallback_through_server_missing_option(phone, tcm, tftp_tree):
    """The same fallback when the server answers File not found (tcm --missing)."""
    srv = tcm(tftp_tree.root, "--missing", "*SEP%s.tlv" % MAC)

    run = phone.boot(srv, commands=["show trustlist"])

    assert run.accepted(), run.stdout
    assert srv.requests() == [CTL_PHONE, "CTLFile.tlv", ITL_PHONE, "ITLFile.tlv", SGN]
    tl = run.trust_list()
    assert tl["state"] == "CTL + ITL"
    assert (tl["CTL"], tl["ITL"]) == (tftp_tree.md5("CTLFile.tlv"), tftp_tree.md5("ITLFile.tlv"))


def test_no_trust_list_on_server_unsigned_config_accepted(phone, server, tftp_tree):
    """A cluster not in mixed mode and without ITL: B1, the plain config."""
    tftp_tree.drop_ctl()
    tftp_tree.remove(ITL_PHONE, "ITLFile.tlv")

    run = phone.boot(server, commands=["show trustlist"])

    assert run.accepted(), run.stdout
    assert run.requested() == [CTL_PHONE, "CTLFile.tlv", ITL_PHONE, "ITLFile.tlv", CNF]
    run.expect(r"^tlRequestFile: no CTL on the server$")
    run.expect(r"^tlRequestFile: no ITL on the server$")
    assert not run.find(r"add \.sgn")
    tl = run.trust_list()
    assert (tl["state"], tl["CTL_status"], tl["ITL_status"]) == (
        "NONE", "not installed", "not installed")


def test_show_config_reports_the_accepted_config(phone, server, tftp_tree):
    xml = tftp_tree.read(CNF).decode()
    load = re.search(r"<loadInformation>([^<]*)</loadInformation>", xml)[1]
    nodes = re.findall(r"<callManager>.*?<processNodeName>([^<]*)</processNodeName>", xml, re.S)
    assert len(nodes) == 3

    run = phone.boot(server, commands=["show config"])

    assert run.accepted(), run.stdout
    assert "loadInformation: %s" % load in run.console
    shown = [re.match(r"^callManager \d+: (\S+) ", line) for line in run.console]
    assert [m[1] for m in shown if m] == nodes
    assert "capf 1: 127.0.0.1 port 23804" in run.console


def _check_second_boot(run, tftp_tree):
    run.expect(r"^reboot requested from the console$")
    starts = [i for i, t in enumerate(run.trace) if t.msg.startswith("boot: trust state")]
    assert len(starts) == 2, run.stdout
    second = run.trace[starts[1]:]
    assert second[0].msg.startswith("boot: trust state NONE,")
    assert any(t.msg.startswith("CTL installed (anchor: first use)") for t in second)
    assert any(t.msg.startswith("boot complete: config accepted") for t in second)
    tl = run.trust_list()
    assert (tl["CTL"], tl["ITL"]) == (tftp_tree.md5(CTL_PHONE), tftp_tree.md5(ITL_PHONE))


def test_console_erase_then_reboot_installs_again(secure_phone, server, tftp_tree):
    """`reboot` typed at the console after an erase, each command once the
    previous one is done: the same process boots again from state NONE."""
    with secure_phone.console(server) as con:
        con.wait_for(r"^boot complete: ")
        con.send("erase trustlist")
        con.wait_for(r"^trust list erased by the administrator")
        con.send("reboot")
        con.wait_for(r"^boot complete: ", count=2)
        con.send("show trustlist")
        con.send("quit")
    _check_second_boot(con.run, tftp_tree)


def test_console_commands_after_reboot_in_one_script(secure_phone, server, tftp_tree):
    """The same commands piped in at once, as a script would."""
    run = secure_phone.boot(server, commands=["erase trustlist", "reboot", "show trustlist"])
    _check_second_boot(run, tftp_tree)


def test_lower_case_mac_asks_upper_case_names(phone_exe, tmp_path, server):
    """B1: <MAC> is 12 upper-case hex digits whatever was configured."""
    run = Phone(phone_exe, tmp_path / "flash-lc", mac=MAC.lower()).boot(server)

    assert run.rc == 0, run.stdout
    assert run.requested() == [CTL_PHONE, ITL_PHONE, SGN]
