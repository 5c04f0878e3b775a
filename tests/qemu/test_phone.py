"""The phone on Cortex-M: secd-firmware.elf under qemu-system-arm
(mps2-an385, LAN9118, lwIP, DHCP) booting securely against the test call
manager's TFTP server. Helpers and the choice of -icount: phone_qemu.py."""
import re
import socket
from types import SimpleNamespace

from phone_qemu import CTL_PHONE, ITL_PHONE, MAC, SGN

CONFIG_VERIFIED = r"^verifyFile: verify SUCCESS </usr/ram/SEP%s\.cnf\.xml>" % MAC


def expect_secure_first_boot(run, tree):
    assert run.rc == 0, run.out
    run.expect(r"^LAN9118 id 01180001, MAC %s, link up$" % MAC, module="NET")
    run.expect(r"^DHCP: address 10\.0\.2\.15, gateway 10\.0\.2\.2$", module="NET")
    run.expect(r"^TFTP server 10\.0\.2\.2 port \d+ \(DHCP option 66\)$", module="NET")
    assert run.requested()[:3] == [CTL_PHONE, ITL_PHONE, SGN], run.out
    run.expect(r"^CTL installed \(anchor: first use\), MD5 %s$" % tree.md5(CTL_PHONE))
    run.expect(r"^ITL installed \(anchor: CTL\), MD5 %s$" % tree.md5(ITL_PHONE))
    run.expect(CONFIG_VERIFIED)
    run.expect(r"^boot complete: config accepted", module="SECD")
    assert not run.errors(), run.out


def test_secure_first_boot(phone, server, tree):
    """Factory-fresh phone: CTL and ITL installed on first use, the signed
    config verified against them, exit status 0; the files arrive whole."""
    run = phone.boot(server)
    expect_secure_first_boot(run, tree)
    for name in (CTL_PHONE, ITL_PHONE, SGN):
        size = tree.path(name).stat().st_size
        assert re.search(r"\]:Finished --> rcvd %d bytes" % size, run.out), name
    assert server.requests() == [CTL_PHONE, ITL_PHONE, SGN]
    ms = run.virtual_ms(r"^\[\d+\]:Requesting CTL", CONFIG_VERIFIED)
    print("[figure] virtual time first CTL request -> signed config verified: %.1f ms "
          "(-icount shift=3)" % ms)
    assert ms > 0


def test_second_boot_keeps_trust_lists(phone, server, tree):
    """Reboot of QEMU on the same flash.bin: the lists stay installed, the
    same files are recognised as unchanged (MD5), `show trustlist` on UART0
    agrees with the server's files."""
    assert phone.boot(server).rc == 0
    run = phone.boot(server, commands=["show trustlist"])
    assert run.rc == 0, run.out
    run.expect(r"^boot: trust state CTL \+ ITL, TFTP server 10\.0\.2\.2$")
    run.expect(r"^verifyFile: verify SUCCESS <%s> \(CTL unchanged, MD5 %s\)$"
               % (CTL_PHONE, tree.md5(CTL_PHONE)))
    run.expect(r"^verifyFile: verify SUCCESS <%s> \(ITL unchanged, MD5 %s\)$"
               % (ITL_PHONE, tree.md5(ITL_PHONE)))
    assert not run.find(r"installed \(anchor"), "nothing may be re-installed:\n" + run.out
    run.expect(CONFIG_VERIFIED)
    (tl,) = run.trust_lists()
    assert tl == {"state": "CTL + ITL", "CTL": tree.md5(CTL_PHONE), "ITL": tree.md5(ITL_PHONE)}


def test_console_reboot_and_persistence(phone, server, tree):
    """`reboot` typed on UART0 runs the boot again; `erase trustlist` then a
    QEMU restart gives a phone that trusts on first use again."""
    run = phone.boot(server, commands=["reboot", "show trustlist", "erase trustlist"])
    assert run.rc == 0, run.out
    assert len(run.requested()) == 6, run.out
    run.expect(r"^reboot requested from the console$")
    assert len([t for t in run.trace if re.match(r"^boot complete: config accepted", t.msg)]) == 2
    (tl,) = run.trust_lists()
    assert (tl["CTL"], tl["ITL"]) == (tree.md5(CTL_PHONE), tree.md5(ITL_PHONE))
    run.expect(r"^trust list erased by the administrator: all", level="WRN")
    again = phone.boot(server)
    assert again.rc == 0, again.out
    again.expect(r"^boot: trust state NONE")
    again.expect(r"^CTL installed \(anchor: first use\)")


def test_attacker_itl_refused_old_kept(phone, server, tree):
    """An ITL signed by a key the phone's lists do not name is refused; the
    installed ITL stays (same MD5 on UART0) and the config still verifies."""
    assert phone.boot(server).rc == 0
    good_itl = tree.md5(ITL_PHONE)
    tree.serve_itl(tree.attack("attacker-itl"))
    run = phone.boot(server, commands=["show trustlist"])
    run.expect(r"^EROR:verifyFile: ITL %s refused: signer_not_trusted - Trust List "
               r"verification failed$" % ITL_PHONE, level="ERR")
    run.expect(CONFIG_VERIFIED)
    (tl,) = run.trust_lists()
    assert (tl["state"], tl["ITL"]) == ("CTL + ITL", good_itl), run.out


def test_lossy_network_still_boots(phone, tcm, tree):
    """20 % of the server's datagrams lost: tftpc's retransmissions (1 s,
    doubling) carry every download through; the trace shows the same
    sizes as the files."""
    lossy = tcm(tree.root, "--loss", "0.2", "--seed", "8")
    run = phone.boot(lossy)
    expect_secure_first_boot(run, tree)
    for name in (CTL_PHONE, ITL_PHONE, SGN):
        assert re.search(r"\]:Finished --> rcvd %d bytes" % tree.path(name).stat().st_size,
                         run.out), name
    assert len(lossy.requests()) >= 3


def test_no_option66_fails_cleanly(phone, server):
    """DHCP without option 66 (no tftp-server-name) and no configured
    server: the boot fails at once with a reason, nothing is requested,
    exit status 1."""
    run = phone.boot(server, option66=False)
    assert run.rc == 1, run.out
    run.expect(r"^DHCP: address 10\.0\.2\.15", module="NET")
    run.expect(r"^boot failed: no TFTP server: DHCP offered neither option 150 nor option 66 "
               r"and none is configured \(--tftp-server\)$", level="ERR")
    assert run.requested() == [] and server.requests() == []


def test_configured_server_when_dhcp_has_none(phone, server, tree):
    """No option 66, --tftp-server 10.0.2.2 configured: used as the fallback."""
    run = phone.boot(server, option66=False, extra=["--tftp-server", "10.0.2.2"])
    run.expect(r"^TFTP server 10\.0\.2\.2 port \d+ \(configured \(--tftp-server\)\)$")
    assert run.rc == 0, run.out
    assert run.requested() == [CTL_PHONE, ITL_PHONE, SGN]


def test_no_network_is_a_clean_failure(phone, server):
    """The cable pulled (-nic none): no DHCP lease, the boot fails after the
    DHCP timeout with a reason."""
    run = phone.boot(server, nic=False, extra=["--dhcp-timeout-ms", "2000"])
    assert run.rc == 1, run.out
    run.expect(r"^boot failed: no DHCP lease within 2000 ms$", level="ERR")


def test_failed_boot_retried_until_the_server_is_back(phone, tcm, tree):
    """No TFTP server when the phone comes up (a site outage): the boot
    fails with its reason, the console stays up, and the phone boots again
    after the first delay (less up to a quarter: jitter; 4 s here instead of
    the default 30 to keep the test short), doubling it per failure, until
    the server answers and the config is accepted."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with phone.console(SimpleNamespace(port=port), extra=["--boot-retry-s", "4"]) as con:
        _, first = con.wait_for(r"^boot retry in (\d+) s \(failed boots: 1\)$")
        assert 3 <= int(first[1]) <= 4, first[0]
        con.wait_for(r"^retrying the boot \(failed boots: 1\)$")
        con.wait_for(r"^DHCP: address 10\.0\.2\.15", start=0)
        server = tcm(tree.root, "--port", port)
        done, _ = con.wait_for(r"^boot complete: config accepted")
        con.wait_for(r"^config accepted after \d+ failed boots?$", start=done)
        con.send("quit")
    run = con.run
    run.expect(r"^boot failed: TFTP download of %s failed: " % CTL_PHONE, level="ERR")
    run.expect(CONFIG_VERIFIED)
    assert server.requests()[:3] == [CTL_PHONE, ITL_PHONE, SGN]
    delays = [int(m) for m in re.findall(r"boot retry in (\d+) s", run.out)]
    assert all(b > a for a, b in zip(delays, delays[1:]) if b < 450), delays
    assert "boot retry in" not in run.out[run.out.index("boot complete: config accepted"):]


def test_figures(phone, server, tree, elf):
    """The figures of the closing note: flash and static RAM of the image,
    RAM peak (static + heap high-water + painted-stack watermark) over a
    whole scenario (first boot, console, reboot, refused attacker ITL), and
    the virtual time from the first CTL request to the verified config."""
    import os
    from phone_qemu import image_sizes
    first = phone.boot(server, commands=["show trustlist", "show config", "reboot",
                                         "show trustlist"])
    expect_secure_first_boot(first, tree)
    tree.serve_itl(tree.attack("attacker-itl"))
    attacked = phone.boot(server)
    assert attacked.rc == 0, attacked.out
    peaks = [r.exit_line() for r in (first, attacked)]
    stack = max(p[1] for p in peaks)
    heap = max(p[2] for p in peaks)
    s = image_sizes(elf, os.environ.get("SECD_ARM_SIZE", "arm-none-eabi-size"),
                    os.environ.get("SECD_ARM_NM", "arm-none-eabi-nm"))
    static = s["data"] + s["bss"]
    # Downloads stream to the boot flow (no RAM buffer of the file's size):
    # the object must not come back.
    download = s["ram_objects"].get("download", 0)
    assert download == 0, "a download-sized RAM buffer is back"
    peak = static + heap + stack
    big = sorted(s["ram_objects"].items(), key=lambda kv: -kv[1])[:6]
    ms = first.virtual_ms(r"^\[\d+\]:Requesting CTL", CONFIG_VERIFIED)
    kib = 1024.0
    print("[figure] flash (text+data): %d bytes = %.1f KiB (target <= 320 KiB)"
          % (s["flash"], s["flash"] / kib))
    print("[figure] static RAM (data+bss): %d bytes = %.1f KiB; heap reserved %d (not counted)"
          % (static, static / kib, s["heap_reserved"]))
    print("[figure] largest RAM objects: %s" % ", ".join("%s %d" % kv for kv in big))
    print("[figure] heap high-water %d bytes, stack peak %d bytes" % (heap, stack))
    print("[figure] config parser arena peak %d of %d bytes (signed interop-like config)"
          % first.arena_peak())
    print("[figure] RAM peak: %d bytes = %.1f KiB (target <= 96 KiB)" % (peak, peak / kib))
    print("[figure] virtual time first CTL request -> signed config verified: %.1f ms "
          "(-icount shift=3; the real phone: 1095 ms, target <= 100 ms)" % ms)
    assert s["flash"] > 0 and static > 0 and heap > 0 and stack > 0
