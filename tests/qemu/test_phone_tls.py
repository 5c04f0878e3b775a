"""TLS on the Cortex-M phone: TVS and CAPF over lwIP TCP (tcp_lwip.c) under
QEMU, against the test call manager's TVS, HTTPS and CAPF servers
(python3 -m tcm.tvsd / tcm.capfd) on free loopback ports, which the phone
reaches as 10.0.2.2:PORT through QEMU's user network.

The trees are ITL-only (no CTL) where TVS matters, as in
tests/scenario/test_tvs.py; the MIC is provisioned into flash.bin's
factory region before the first boot (phone_qemu.provision_mic)."""
import hashlib
import os
import re

import pytest
from cryptography import x509

from phone_qemu import ITL_PHONE, MAC, MIC_REGION_OFFSET, SGN, image_sizes, provision_mic
from tcm import console, files  # on sys.path through conftest.py

CNF = "SEP%s.cnf.xml" % MAC
REGEN = "callmanager_regen"
DEVICE = "SEP" + MAC


def serve_config(tree, cluster, tvs_ports, signer="callmanager"):
    """The signed config, naming these TVS members (as the guest reaches them)."""
    body = files.build_config(tvs=[("10.0.2.2", p) for p in tvs_ports])
    tree.put(CNF, body)
    tree.put(SGN, files.build_sgn(cluster[signer], body, SGN))


def regenerate(tree, cluster):
    """CUCM after "regenerate CallManager.pem": a new ITL and configs signed
    by the new key, which the phone's installed ITL does not know."""
    tree.serve_itl(files.build_itl(cluster, signer=REGEN))
    tree.put(SGN, files.build_sgn(cluster[REGEN], tree.read(CNF), SGN))


def tvs_requests(tvs):
    return tvs.logged("tvs request ")


@pytest.fixture
def itl_phone(phone, server, tree, cluster, keys, daemons):
    """An ITL-only phone after its first boot, knowing one TVS server."""
    tree.drop_ctl()
    tvs = daemons("tcm.tvsd", "--keys", keys, "-v", "--vouch", REGEN + "=0,2",
                  "--vouch", "tomcat=7")
    serve_config(tree, cluster, [tvs.port])
    run = phone.boot(server)
    assert run.rc == 0, run.out
    run.expect(r"^ITL installed \(anchor: first use\)")
    run.expect(r"^getTvsServerInfo: 1 TVS server\(s\) from the config's TVS members$")
    return phone, tvs


def test_regenerated_callmanager_recovered_via_tvs(itl_phone, server, tree, cluster):
    """B4 under QEMU: the new ITL's signer is unknown to the installed ITL;
    TVS (authenticated by the ITL's TVS record, over lwIP TCP + TLS 1.2)
    vouches for it, the ITL is installed and the new config verifies. The
    next boot needs TVS no more."""
    phone, tvs = itl_phone
    regenerate(tree, cluster)

    run = phone.boot(server)

    assert run.rc == 0, run.out
    run.expect(r"^processTvsClntReq: TVS Certificate Authentication request \(signer ")
    run.expect(r"^lookupAuthCertTvsCacheEntry: No matching entry found at cache$")
    run.expect(r"^connectToTvsServer: Successfully started a TLS connection establishment to "
               r"the TVS server: IP:10\.0\.2\.2, port:%d" % tvs.port)
    run.expect(r"^tvs_cert_vfy: TVS cert verified with certificate from TL, <10\.0\.2\.2>$")
    run.expect(r"^saveCertToTvsCache: Saving certificate in TVS cache with default "
               r"time-to-live value: 86400 seconds$")
    run.expect(r"^ITL installed \(anchor: TVS\), MD5 %s$" % tree.md5(ITL_PHONE))
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/SEP\w+\.cnf\.xml> \(signer anchor: ITL\)")
    (req,) = tvs_requests(tvs)
    assert "device=CP-8845-SEP%s" % MAC in req and "known=%s" % REGEN in req, req

    again = phone.boot(server, commands=["show trustlist"])
    assert again.rc == 0 and not again.find(r"processTvsClntReq"), again.out
    assert again.trust_lists()[0]["ITL"] == tree.md5(ITL_PHONE)
    assert len(tvs_requests(tvs)) == 1


def test_regeneration_refused_when_tvs_is_down(itl_phone, server, tree, cluster):
    """TVS unreachable (its port closed: QEMU's user network resets the
    guest's SYN): the new ITL is refused with the reason, the old one kept."""
    phone, tvs = itl_phone
    old = tree.md5(ITL_PHONE)
    tvs.stop()
    regenerate(tree, cluster)

    run = phone.boot(server, commands=["show trustlist"])

    run.expect(r"^EROR:connectToTvsServer: TVS server 10\.0\.2\.2:%d failed: connect: "
               r"(server unreachable|timed out)$" % tvs.port, level="ERR")
    run.expect(r"ITL %s refused: signer_not_trusted" % ITL_PHONE, level="ERR")
    assert run.trust_lists()[0]["ITL"] == old


def test_verify_https_via_tvs_then_cache(itl_phone, server, keys, daemons):
    """`verify https` on UART0: a real TLS connection to the HTTPS server,
    its certificate (unknown to the ITL) trusted by TVS, then from the
    cache without asking TVS again; a GET goes through both times."""
    phone, tvs = itl_phone
    https = daemons("tcm.tvsd", "--keys", keys, "--https", "tomcat")
    cmd = "verify https " + https.guest_addr

    run = phone.boot(server, commands=[cmd, cmd, "show tvs"])

    first, second = [line for line in run.console if line.startswith("verify https")]
    assert re.match(r"^verify https 10\.0\.2\.2:\d+: TRUSTED, decided by TVS \(TLSv1\.2 ", first)
    assert re.match(r"^verify https 10\.0\.2\.2:\d+: TRUSTED, decided by TVS cache ", second)
    assert run.console.count("  GET /: HTTP/1.1 200 OK") == 2
    run.expect(r"^EROR:https_cert_vfy: HTTPS cert not in CTL, <10\.0\.2\.2>$", level="ERR")
    run.expect(r"^Authenticated the HTTPS conn via TVS$")
    run.expect(r"^Authenticated the HTTPS conn via TVS cache$")
    assert len(tvs_requests(tvs)) == 1, "the second check must not reach TVS"
    assert "  server 1: 10.0.2.2:%d" % tvs.port in run.console
    assert any(re.match(r"^  cache: sha256 [0-9a-f]{16}\.\.\. roles APP-SERVER, ttl 86400 s",
                        line) for line in run.console), run.console
    assert https.stop()["https_requests"] == 2


def test_verify_https_untrusted_server(itl_phone, server, keys, daemons):
    """An HTTPS server TVS does not know: refused, nothing sent to it."""
    phone, _ = itl_phone
    https = daemons("tcm.tvsd", "--keys", keys, "--https", "attacker")

    run = phone.boot(server, commands=["verify https " + https.guest_addr])

    line = next(x for x in run.console if x.startswith("verify https"))
    assert "NOT TRUSTED, decided by TVS: TVS says the certificate is not valid" in line, line
    assert https.stop()["https_requests"] == 0


def capfd(daemons, keys, tmp_path, *args):
    return daemons("tcm.capfd", "--keys", keys, "--port", 0, "-v", "--device", DEVICE,
                   "--out", tmp_path / "capf", *args)


def show_cert(run):
    """`show cert`: {"in_use": "LSC"|"MIC"|..., "MIC": {...}, "LSC": {...}}."""
    out = console.show_cert(run.console)
    assert "in_use" in out, "no `show cert` output in:\n" + run.out
    return out


def test_capf_install_null_auth_survives_reboot(phone, server, keys, daemons, tmp_path):
    """CAPF over lwIP TCP + TLS 1.2 with the factory MIC as client
    certificate: null-string auth, EC P-256 key generated on the phone, the
    LSC stored; it is the certificate in use after a QEMU restart."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    capf = capfd(daemons, keys, tmp_path, "--op", "install", "--auth", 0, "--key-type", "ec",
                 "--curve", 0)

    run = phone.boot(server, commands=["capf start " + capf.guest_addr, "show cert",
                                       "capf status"])

    run.expect(r"^MIC from the factory region: \d+-byte certificate$")
    run.expect(r"^server certificate is the CAPF record of the CTL$", module="CAPF")
    run.expect(r"^key generate request EC P-256: generating \(request in progress sent\)$")
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    issued = (tmp_path / "capf" / "issued.der").read_bytes()
    certs = show_cert(run)
    assert certs["in_use"] == "LSC" and certs["MIC"]["installed"]
    assert certs["LSC"]["MD5"] == hashlib.md5(issued).hexdigest()
    assert "CN=" + DEVICE in certs["LSC"]["subject"].replace("/", ",")
    text = capf.text()
    assert "client certificate: " in text and "CN=CP-8845-SEP" + MAC in text, text
    assert "auth response: device=%s reason=1 password=''" % DEVICE in text

    again = phone.boot(server, commands=["show cert"])
    assert again.rc == 0, again.out
    again.expect(r"^-PXY_CERT: \[CONFIG\], cert \[LSC\]$", module="SECD")
    assert show_cert(again)["LSC"]["MD5"] == hashlib.md5(issued).hexdigest()


def test_no_mic_provisioned_is_said(phone, server):
    """A flash image without the factory region: the phone says so and
    has no certificate in use."""
    run = phone.boot(server, commands=["show cert"])
    run.expect(r"^no MIC provisioned in the flash image \(factory region empty\)$", level="WRN")
    assert show_cert(run)["in_use"] != "MIC"


def test_damaged_mic_not_used(phone, server, keys):
    """One flipped bit in the factory region's certificate: the SHA-256
    check fails, the MIC is reported damaged and not used."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    with open(phone.flash, "r+b") as f:
        f.seek(MIC_REGION_OFFSET + 40 + 100)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x01]))
    run = phone.boot(server, commands=["show cert"])
    run.expect(r"^EROR:MIC factory region damaged \(format or SHA-256\): MIC not used$",
               level="ERR")
    assert show_cert(run)["in_use"] != "MIC"


def keygen_window_us(run):
    """Virtual time from the key generate request to the response."""
    return run.virtual_ms(r"^received key generate request$",
                          r"^sending key generate response$") * 1000.0


def test_figures_tls(phone, server, tree, cluster, keys, daemons, tmp_path):
    """The M3 figures of TVS and CAPF (docs/performance.md): busy guest
    instructions of one HTTPS decision, cache miss then hit (`bench https`:
    virtual time minus time asleep, -icount shift=3 = 8 ns per
    instruction); CAPF key generate request -> response without a
    pre-generated key (EC P-256 generated in the session; the RSA-2048
    pre-generated case is test_pregen_in_slices_console_answers); RAM peak of a boot + CAPF TLS session with client
    certificate."""
    tree.drop_ctl()
    tvs = daemons("tcm.tvsd", "--keys", keys, "-v", "--vouch", "tomcat=7")
    https = daemons("tcm.tvsd", "--keys", keys, "--https", "tomcat")
    serve_config(tree, cluster, [tvs.port])
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    bench = "bench https " + https.guest_addr
    run = phone.boot(server, commands=[bench, bench])
    miss, hit = [re.match(r"^bench https \S+: TRUSTED by (TVS|TVS cache), busy \d+ ns = (\d+) "
                          r"instructions at -icount shift=3 \(elapsed (\d+) us", line)
                 for line in run.console if line.startswith("bench https")]
    assert miss[1] == "TVS" and hit[1] == "TVS cache", run.console
    parts = re.search(r"^bench parts: SHA-256 of the (\d+)-byte certificate (\d+) instructions, "
                      r"one trace line (\d+) instructions$", "\n".join(run.console), re.M)
    print("[figure] HTTPS decision, cache miss (TLS 1.2 to TVS + request): %.2f M instructions "
          "(target <= 10 M); elapsed %.1f ms virtual with the network (the real phone: 455 ms)"
          % (int(miss[2]) / 1e6, int(miss[3]) / 1e3))
    print("[figure] HTTPS decision, cache hit: %.3f M instructions (target <= 0.05 M); one trace "
          "line %s (8 lines per decision); the cache key, SHA-256 of the %s-byte certificate "
          "(%s), is computed once in the handshake" % (int(hit[2]) / 1e6, parts[3], parts[1],
                                                       parts[2]))
    assert 0 < int(hit[2]) < int(miss[2])

    # (the RSA-2048 pre-generated case: test_pregen_in_slices_console_answers)
    ec = capfd(daemons, keys, tmp_path, "--op", "install", "--auth", 0, "--key-type", "ec",
               "--curve", 0)
    gen = phone.boot(server, commands=["capf start " + ec.guest_addr])
    gen.expect(r"^key generate request EC P-256: generating \(request in progress sent\)$")
    gen.expect(r"^session ended: LSC installed$", module="CAPF")
    without = keygen_window_us(gen)
    print("[figure] CAPF key generate request -> response, EC P-256 generated in the session: "
          "%.0f us = %.2f M instructions" % (without, without / 8e3))

    # RAM of the CAPF session (TLS with the MIC as client certificate, the
    # LSC installed since the first session now authenticates the second).
    _, stack, heap = gen.exit_line()
    s = image_sizes(phone.elf, os.environ.get("SECD_ARM_SIZE", "arm-none-eabi-size"),
                    os.environ.get("SECD_ARM_NM", "arm-none-eabi-nm"))
    print("[figure] CAPF TLS session: heap high-water %d bytes, stack peak %d bytes (static "
          "data+bss %d bytes)" % (heap, stack, s["data"] + s["bss"]))
    text = s["flash"] - s["data"]
    print("[figure] image: text %d, data %d, bss %d bytes; flash (text+data) %.1f KiB "
          "(target <= 320 KiB)" % (text, s["data"], s["bss"], s["flash"] / 1024.0))
    assert s["flash"] <= 320 * 1024, "flash budget exceeded"


def test_pregen_in_slices_console_answers(phone, server, keys, daemons, tmp_path):
    """--pregen: the RSA-2048 key of the next enrolment is generated in
    slices from the main loop (at most one modexp each); the console
    answers between two slices (`capf status` says the generation is
    running, before it ends); the key generate request of the next CAPF
    session is answered with it at once (no `request in progress`). Prints
    the longest slice and the whole generation in guest instructions
    (busy time at -icount shift=3, 8 ns an instruction) and the key
    generate request -> response window."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    rsa = capfd(daemons, keys, tmp_path, "--op", "install", "--auth", 0)
    with phone.console(server, extra=["--pregen"], timeout=600) as con:
        con.wait_for(r"^pre-generating the next RSA-2048 key in slices")
        con.send("capf status")
        asked, _ = con.wait_for(r"^pre-generation: RSA-2048 running \((.*)\), (\d+) slices, "
                                r"(\d+) candidates, (\d+) Miller-Rabin rounds so far$")
        con.send("show cert")
        shown, _ = con.wait_for(r"^certificate in use: MIC")
        done, _ = con.wait_for(r"^pre-generated the next RSA-2048 key in \d+ ms$", timeout=600)
        assert asked < shown < done, "the console answered only after the generation"
        con.send("capf start " + rsa.guest_addr)
        con.wait_for(r"^session ended: ")
        con.send("quit")
    run = con.run
    run.expect(r"^key generate request RSA-2048: using the pre-generated key$", module="CAPF")
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    assert "request in progress" not in rsa.text()
    stats = run.expect(r"^pre-generation: (\d+) slices, (\d+) candidates \((\d+) refused by "
                       r"trial division/gcd/\|p-q\|\), (\d+) Miller-Rabin rounds, at most 1 "
                       r"modexp a slice$", module="CAPF")
    busy = run.expect(r"^pre-generation busy time: longest slice (\d+) instructions, all (\d+) "
                      r"slices (\d+) k instructions \(-icount shift=3\)$", module="CAPF")
    kinds = run.expect(r"^pre-generation longest slice by kind: candidates (\d+), Miller-Rabin "
                       r"(\d+), assembly (\d+), round trip (\d+) instructions$", module="CAPF")
    virtual_ms = int(run.expect(r"^pre-generated the next RSA-2048 key in (\d+) ms$")[1])
    window = keygen_window_us(run)
    print("[figure] RSA-2048 pre-generation in slices: longest slice %.1f M instructions; "
          "whole generation %.2f G instructions in %s slices (%s candidates, %s refused without "
          "a modexp, %s Miller-Rabin rounds); %d ms virtual including the loop's other work"
          % (int(busy[1]) / 1e6, int(busy[3]) / 1e6, busy[2], stats[2], stats[3], stats[4],
             virtual_ms))
    print("[figure] RSA-2048 pre-generation, longest slice by kind: %.1f M candidates "
          "(DRBG + gcd + trial division, up to 8), %.1f M one Miller-Rabin round, %.1f M key "
          "assembly, %.1f M one round-trip half" % tuple(int(kinds[i]) / 1e6 for i in range(1, 5)))
    print("[figure] CAPF key generate request -> response, RSA-2048 pre-generated: %.0f us = "
          "%.2f M instructions (target <= 2 M)" % (window, window / 8e3))
    _, stack, heap = run.exit_line()
    print("[figure] RAM of this run (RSA-2048 pre-generation, then a CAPF TLS session with the "
          "MIC as client certificate): heap high-water %d bytes, stack peak %d bytes"
          % (heap, stack))
    assert int(stats[1]) == int(busy[2])
    assert 0 < window < 250000  # 2 M instructions at 8 ns


def test_auth_string_wait_then_the_boot_resumes(phone, server, tree, cluster, keys, daemons,
                                                tmp_path):
    """B6 by authentication string on the M3: the boot's enrolment stops
    and says what to type; `capf auth-string DIGITS` finishes the session
    (LSC installed) and the phone asks for the config again by itself, as
    the POSIX board does."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    capf = capfd(daemons, keys, tmp_path, "--op", "install", "--auth", 1, "--password",
                 "20261124", "--key-type", "ec", "--curve", 0)
    partial = files.build_partial_config("", capf=[("10.0.2.2", capf.port)])
    tree.put(SGN, files.build_sgn(cluster["callmanager"], partial, SGN))
    with phone.console(server, timeout=300) as con:
        con.wait_for(r"CAPF waits for the authentication string: type 'capf auth-string DIGITS'")
        con.send("capf auth-string 20261124")
        again, _ = con.wait_for(r"^CAPF enrolment done: requesting the config again$")
        con.wait_for(r"^tlRequestFile: Request CTLSEP", start=again)
        con.wait_for(r"^boot failed: ", start=again)  # the server still serves the partial config
        con.send("quit")
    run = con.run
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    assert (tmp_path / "capf" / "issued.der").exists()
    text = capf.text()
    assert "password='20261124'" in text, text


def test_capf_retry_later_honoured_by_the_boot(phone, server, tree, cluster, keys, daemons,
                                               tmp_path):
    """The CAPF server is busy ("retry later {2 s}") during the boot's
    enrolment: the boot fails with that reason, no LSC is installed, and
    the phone boots again after the server's delay, not its own backoff
    (30 s by default), with the console answering meanwhile."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    capf = capfd(daemons, keys, tmp_path, "--op", "install", "--fault", "retry-later",
                 "--retry-delay", 2)
    partial = files.build_partial_config("", capf=[("10.0.2.2", capf.port)])
    tree.put(SGN, files.build_sgn(cluster["callmanager"], partial, SGN))
    with phone.console(server, timeout=300) as con:
        console.ride_out_capf_retry_later(con, 2)
    run = con.run
    run.expect(r"^session ended: retry later \(2 s\)$", level="WRN", module="CAPF")
    run.expect(r"^boot failed: CAPF enrolment failed: retry later", level="ERR")
    assert show_cert(run)["in_use"] == "MIC"
    assert not (tmp_path / "capf" / "issued.der").exists()


def test_session_continues_the_pregen_under_way(phone, server, keys, daemons, tmp_path):
    """A key generate request for the size the pre-generation is making,
    while it runs: the session takes that generation over (its slices so
    far are kept) and finishes it in slices with lwIP polled between them;
    the next key is pre-generated after the session. `capf start` is typed
    as soon as the generation starts: a whole RSA-2048 key is at least 16
    Miller-Rabin rounds (over 0.3 G instructions), the session reaches its
    key generate request in a small fraction of that."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    rsa = capfd(daemons, keys, tmp_path, "--op", "install", "--auth", 0)
    with phone.console(server, extra=["--pregen"], timeout=600) as con:
        con.wait_for(r"^pre-generating the next RSA-2048 key in slices")
        con.send("capf start " + rsa.guest_addr)
        con.wait_for(r"^session ended: ")
        con.wait_for(r"^pre-generated the next RSA-2048 key in \d+ ms$", timeout=600)
        con.send("quit")
    run = con.run
    run.expect(r"^key generate request RSA-2048: generating \(request in progress sent\)$",
               module="CAPF")
    made = run.expect(r"^generated RSA-2048 key in \d+ ms, (\d+) slices with the network polled "
                      r"between them \(continuing the pre-generation under way\)$", module="CAPF")
    assert int(made[1]) > 1
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    # the generation the session finished is not stored as the next key:
    # a new one starts after the session
    assert run.out.count("pre-generating the next RSA-2048 key in slices") == 2


def test_cert_hash_mismatch_enrols_lsc_then_decrypts(phone, server, tree, cluster, keys,
                                                      daemons, tmp_path):
    """B6 with B8 on the M3: the partial config's certHash names no
    certificate the phone has, so the boot flow enrols an LSC through CAPF
    (the <capfList> server) and asks for the config again; once the server
    encrypts for that LSC, the next boot decrypts with it."""
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    capf = capfd(daemons, keys, tmp_path, "--op", "install", "--auth", 0)
    enc = "SEP%s.cnf.xml.enc.sgn" % MAC
    partial = files.build_partial_config("", capf=[("10.0.2.2", capf.port)])
    tree.put(SGN, files.build_sgn(cluster["callmanager"], partial, SGN))

    run = phone.boot(server, timeout=300)

    run.expect(r"^certHash (cannot match|does not match).*: starting CAPF \(round 1 of 2\)$")
    # The RSA-2048 key is made inside the session in bounded slices with
    # lwIP polled between them, not in one call that stops the network.
    made = run.expect(r"^generated RSA-2048 key in \d+ ms, (\d+) slices with the network "
                      r"polled between them$", module="CAPF")
    assert int(made[1]) > 1
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    run.expect(r"^CAPF enrolment done: requesting the config again$")
    assert run.rc != 0  # the server still serves the partial config for nobody
    issued = (tmp_path / "capf" / "issued.der").read_bytes()

    lsc = x509.load_der_x509_certificate(issued)
    partial = files.build_partial_config(hashlib.md5(issued).hexdigest(),
                                         capf=[("10.0.2.2", capf.port)])
    tree.put(SGN, files.build_sgn(cluster["callmanager"], partial, SGN))
    tree.put(enc, files.build_enc_sgn(cluster["callmanager"], files.build_config(), enc, lsc))

    again = phone.boot(server, timeout=300)

    assert again.rc == 0, again.out
    again.expect(r"^-PXY_CERT: \[CONFIG\], cert \[LSC\]$", module="SECD")
    again.expect(r"^encrypted config decrypted and verified \(\d+ bytes\)$")
    assert "starting CAPF" not in again.out
