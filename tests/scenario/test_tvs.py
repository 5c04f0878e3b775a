"""Trust Verification Service (B4): certificate regeneration, TVS failures
and impostors, HTTPS server decisions and the TVS cache.

Each test starts its own TVS server(s) (python3 -m tcm.tvsd, TLS 1.2, the
cluster's TVS certificate unless told otherwise) on free loopback ports and
serves a config whose <TVS><members> name them. Trees are ITL-only (no CTL),
the security-by-default case the regeneration story is about.
"""
import re
import time

import pytest
from tcm import files
from tcm.process import Daemon, stopped_at_end

from conftest import CNF, ITL_PHONE, SGN, _keys_of, closed_port

REGEN = "callmanager_regen"


class Tvsd(Daemon):
    """`python3 -m tcm.tvsd -v ...` on 127.0.0.1, a free port."""

    def __init__(self, keys, *args):
        super().__init__("tcm.tvsd", "--keys", keys, "-v", *args)

    def requests(self):
        return self.logged("tvs request ")


@pytest.fixture
def tvsd(cluster_dir):
    """Factory: tvsd(*args) starts a TVS (or --https) server; all stopped at teardown."""
    yield from stopped_at_end(lambda *args: Tvsd(_keys_of(cluster_dir), *args))


def serve_config(tree, cluster, tvs_ports, signer="callmanager"):
    """The phone's signed config, naming these TVS members in order."""
    body = files.build_config(tvs=[("127.0.0.1", p) for p in tvs_ports])
    tree.put(CNF, body)
    tree.put(SGN, files.build_sgn(cluster[signer], body, SGN))


def regenerate(tree, cluster, tvs="tvs"):
    """CUCM after "regenerate CallManager.pem" (and TVS.pem when tvs is
    tvs_regen): a new ITL signed by the new key, configs signed by it."""
    tree.serve_itl(files.build_itl(cluster, signer=REGEN, tvs=tvs))
    body = tree.read(CNF)
    tree.put(SGN, files.build_sgn(cluster[REGEN], body, SGN))


@pytest.fixture
def itl_phone(phone, server, tftp_tree, cluster, tvsd):
    """An ITL-only phone after a first boot; returns (phone, tvs server)."""
    tftp_tree.drop_ctl()
    tvs = tvsd("--vouch", REGEN + "=0,2", "--vouch", "tomcat=7")
    serve_config(tftp_tree, cluster, [tvs.port])
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: first use\)")
    run.expect(r"^getTvsServerInfo: 1 TVS server\(s\) from the config's TVS members$")
    return phone, tvs


# -- certificate regeneration --

def test_regenerated_callmanager_itl_installed_via_tvs(itl_phone, server, tftp_tree, cluster):
    phone, tvs = itl_phone
    old_itl = phone.show_trustlist(server)["ITL"]
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^processTvsClntReq: TVS Certificate Authentication request \(signer ")
    run.expect(r"^lookupAuthCertTvsCacheEntry: No matching entry found at cache$")
    run.expect(r"^connectToTvsServer: Successfully started a TLS connection establishment to "
               r"the TVS server: IP:127\.0\.0\.1, port:%d" % tvs.port)
    run.expect(r"^findByIssuerAndSerialAndRoleInTL: Searching TL from ITL file$")
    run.expect(r"^tvs_cert_vfy: TVS cert verified with certificate from TL, <127\.0\.0\.1>$")
    run.expect(r"^saveCertToTvsCache: Saving certificate in TVS cache with default "
               r"time-to-live value: 86400 seconds$")
    run.expect(r"^ITL installed \(anchor: TVS\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/SEP\w+\.cnf\.xml> \(signer anchor: ITL\)")
    assert phone.show_trustlist(server)["ITL"] == tftp_tree.md5(ITL_PHONE) != old_itl
    assert len(tvs.requests()) == 1
    assert "device=CP-8845-SEP" in tvs.requests()[0] and "known=%s" % REGEN in tvs.requests()[0]

    # From now on the new ITL itself vouches: TVS is not asked again.
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    assert not run.find(r"processTvsClntReq"), run.stdout
    assert len(tvs.requests()) == 1


def test_regeneration_with_hash_only_tvs_record(phone, server, tftp_tree, cluster, tvsd):
    """CUCM's ITL carries only the TVS certificate's hash (tags 11/12)."""
    tftp_tree.drop_ctl()
    tftp_tree.serve_itl(files.build_itl(cluster, tvs_hash_only="sha1"))
    tvs = tvsd("--vouch", REGEN + "=0,2")
    serve_config(tftp_tree, cluster, [tvs.port])
    assert phone.boot(server).rc == 0
    tftp_tree.serve_itl(files.build_itl(cluster, signer=REGEN, tvs_hash_only="sha1"))
    tftp_tree.put(SGN, files.build_sgn(cluster[REGEN], tftp_tree.read(CNF), SGN))

    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect(r"^verifyCertWithHashFromTL: cert hash and hash in TL MATCH$")
    run.expect(r"^tvs_cert_vfy: TVS cert verified with hash from TL, <127\.0\.0\.1>$")
    run.expect(r"^ITL installed \(anchor: TVS\)")


@pytest.mark.attack("unknown-itl-signer-tvs-down")
def test_tvs_down_refused_with_reason(itl_phone, server, tftp_tree, cluster):
    phone, tvs = itl_phone
    old = phone.show_trustlist(server)["ITL"]
    tvs.stop()
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^EROR:connectToTvsServer: TVS server 127\.0\.0\.1:%d failed: connect: "
                     r"server unreachable$" % tvs.port)
    run.expect_error(r"^EROR:processTvsClntReq: signer .* not trusted: no TVS server could be "
                     r"asked securely \(1 tried")
    run.expect_error(r"ITL %s refused: signer_not_trusted - Trust List verification failed$"
                     % ITL_PHONE)
    run.expect_error(r"SEP\w+\.cnf\.xml\.sgn refused: signer_not_trusted$")
    assert phone.show_trustlist(server)["ITL"] == old


@pytest.mark.attack("tvs-says-invalid")
def test_tvs_says_invalid_refused(phone, server, tftp_tree, cluster, tvsd):
    tftp_tree.drop_ctl()
    tvs = tvsd()  # knows no certificate
    serve_config(tftp_tree, cluster, [tvs.port])
    assert phone.boot(server).rc == 0
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^EROR:processTvsClntReq: signer .* not trusted: TVS says the certificate "
                     r"is not valid \(status 1\)$")
    assert not run.find(r"^saveCertToTvsCache"), "negative answers are never cached"
    assert tvs.stop()["unknown"] == 1


@pytest.mark.attack("tvs-impostor-certificate")
@pytest.mark.parametrize("impostor", ["attacker", "tvs_regen"])
def test_tvs_with_untrusted_certificate_refused(phone, server, tftp_tree, cluster, tvsd,
                                                impostor):
    tftp_tree.drop_ctl()
    tvs = tvsd("--cert", impostor, "--vouch", REGEN + "=0,2")
    serve_config(tftp_tree, cluster, [tvs.port])
    assert phone.boot(server).rc == 0
    old = phone.show_trustlist(server)["ITL"]
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    run.expect_error(r"^EROR:tvs_cert_vfy: TVS cert not in CTL/ITL \(no TVS record names it\), "
                     r"<127\.0\.0\.1>$")
    run.expect_error(r"failed: TVS certificate not trusted")
    run.expect_error(r"ITL %s refused: signer_not_trusted" % ITL_PHONE)
    assert phone.show_trustlist(server)["ITL"] == old
    counters = tvs.stop()
    assert counters["requests"] == 0 and counters["handshakes"] == 0, counters


@pytest.mark.attack("itl-signer-and-tvs-both-unknown")
def test_both_certificates_regenerated_refused_until_erase(phone, server, tftp_tree, cluster,
                                                           tvsd):
    """CallManager.pem and TVS.pem regenerated together: TVS cannot be
    reached securely; only `erase trustlist` recovers."""
    tftp_tree.drop_ctl()
    tvs = tvsd("--cert", "tvs_regen", "--vouch", REGEN + "=0,2")  # already regenerated
    serve_config(tftp_tree, cluster, [tvs.port])
    assert phone.boot(server).rc == 0
    regenerate(tftp_tree, cluster, tvs="tvs_regen")
    old = phone.show_trustlist(server)["ITL"]

    for _ in range(2):  # refused on every boot, not just once
        run = phone.boot(server)
        assert run.rc != 0, run.stdout
        run.expect_error(r"^EROR:tvs_cert_vfy: TVS cert not in CTL/ITL")
        run.expect_error(r"both regenerated, only a manual trust list erase \(erase trustlist\) "
                         r"recovers$")
        run.expect_error(r"ITL %s refused: signer_not_trusted" % ITL_PHONE)
        assert phone.show_trustlist(server)["ITL"] == old

    run = phone.boot(server, commands=["erase trustlist"])
    run.expect(r"^trust list erased by the administrator: all", level="WRN")
    run = phone.boot(server)
    assert run.rc == 0, run.stdout
    run.expect(r"^ITL installed \(anchor: first use\), MD5 %s$" % tftp_tree.md5(ITL_PHONE))
    run.expect(r"^verifyFile: verify SUCCESS </usr/ram/SEP\w+\.cnf\.xml> \(signer anchor: ITL\)")


def _spliced_record(signer, vouched, role):
    """A record naming `signer` (subject, issuer, serial, public key) but
    carrying the certificate DER of `vouched`."""
    f = files
    fields = (f.tlv(3, f.cstr(signer.subject)) + f.tlv(5, f.cstr(signer.issuer))
              + f.tlv(6, signer.serial_bytes) + f.tlv(4, f.u16(role))
              + f.tlv(7, f.public_key_bytes(signer.cert)) + f.tlv(8, signer.cert.signature)
              + f.tlv(9, vouched.der))
    return f.tlv(1, f.u16(5 + len(fields))) + fields


@pytest.mark.attack("tvs-vouched-cert-foreign-key")
def test_vouched_certificate_with_foreign_key_refused(itl_phone, server, tftp_tree, cluster):
    """An attacker's ITL whose signer record carries a certificate TVS
    vouches for, next to the attacker's own key: the signature must be
    checked with the vouched certificate's key, so it fails."""
    phone, tvs = itl_phone
    old = phone.show_trustlist(server)["ITL"]
    evil = cluster["attacker"]
    recs = [_spliced_record(evil, cluster[REGEN], files.SAST),
            _spliced_record(evil, cluster[REGEN], files.CCM_TFTP),
            files.record(cluster["tvs"], files.TVS), files.record(cluster["capf"], files.CAPF)]
    tftp_tree.serve_itl(files.trust_list(evil, recs, "ITLFile.tlv"))

    run = phone.boot(server)

    run.expect(r"^processTvsClntReq: signer .* trusted by TVS \(roles SAST,CCM\+TFTP\)$")
    run.expect_error(r"ITL %s refused: signature_invalid - Trust List verification failed$"
                     % ITL_PHONE)
    assert len(tvs.requests()) == 1
    assert phone.show_trustlist(server)["ITL"] == old


# -- failover --

@pytest.mark.fault("tvs-first-faulty")
@pytest.mark.parametrize("fault", ["closed", "reset", "garbage", "wrong-session", "oversized",
                                   "close-mid", "no-tls", "impostor"])
def test_first_tvs_faulty_second_used(phone, server, tftp_tree, cluster, tvsd, fault):
    tftp_tree.drop_ctl()
    good = tvsd("--vouch", REGEN + "=0,2")
    if fault == "closed":
        first_port, bad = closed_port(), None
    elif fault == "impostor":
        bad = tvsd("--cert", "attacker", "--vouch", REGEN + "=0,2")
        first_port = bad.port
    else:
        bad = tvsd("--fault", fault, "--vouch", REGEN + "=0,2")
        first_port = bad.port
    serve_config(tftp_tree, cluster, [first_port, good.port])
    assert phone.boot(server).rc == 0
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect_error(r"^EROR:connectToTvsServer: TVS server 127\.0\.0\.1:%d failed: .*; trying "
                     r"the next one$" % first_port)
    run.expect(r"port:%d; Waiting" % good.port)
    run.expect(r"^ITL installed \(anchor: TVS\)")
    assert len(good.requests()) == 1
    if bad is not None and fault != "impostor" and fault != "no-tls":
        assert bad.stop()["requests"] == 1


@pytest.mark.fault("tvs-stall")
def test_stalled_tvs_times_out_then_next(phone, server, tftp_tree, cluster, tvsd):
    tftp_tree.drop_ctl()
    bad = tvsd("--fault", "stall")
    good = tvsd("--vouch", REGEN + "=0,2")
    serve_config(tftp_tree, cluster, [bad.port, good.port])
    assert phone.boot(server).rc == 0
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc == 0, run.stdout
    run.expect_error(r"^EROR:connectToTvsServer: TVS server 127\.0\.0\.1:%d failed: timed out; "
                     r"trying the next one$" % bad.port)
    run.expect(r"^ITL installed \(anchor: TVS\)")
    assert run.elapsed < 15, "bounded timeout: %.1f s" % run.elapsed


@pytest.mark.fault("tvs-all-faulty")
def test_all_tvs_faulty_clean_refusal(phone, server, tftp_tree, cluster, tvsd):
    tftp_tree.drop_ctl()
    a = tvsd("--fault", "garbage")
    b = tvsd("--fault", "reset")
    serve_config(tftp_tree, cluster, [a.port, b.port, closed_port()])
    assert phone.boot(server).rc == 0
    regenerate(tftp_tree, cluster)

    run = phone.boot(server)

    assert run.rc != 0, run.stdout
    assert len([e for e in run.errors() if e.startswith("EROR:connectToTvsServer")]) == 3
    run.expect_error(r"no TVS server could be asked securely \(3 tried, last: connect: server "
                     r"unreachable\)$")
    run.expect_error(r"ITL %s refused: signer_not_trusted" % ITL_PHONE)


# -- HTTPS decisions: CTL -> ITL -> cache -> TVS --

def test_verify_https_via_tvs_then_cache(itl_phone, server, tvsd):
    phone, tvs = itl_phone
    https = tvsd("--https", "tomcat")
    cmd = "verify https 127.0.0.1:%d" % https.port

    run = phone.boot(server, commands=[cmd, cmd, "show tvs"])

    first, second = [line for line in run.console if line.startswith("verify https")]
    assert re.match(r"^verify https 127\.0\.0\.1:\d+: TRUSTED, decided by TVS \(TLSv1\.2 ", first)
    assert re.match(r"^verify https 127\.0\.0\.1:\d+: TRUSTED, decided by TVS cache ", second)
    assert run.console.count("  GET /: HTTP/1.1 200 OK") == 2
    run.expect(r"^findByCertAndRoleInTL: Searching TL from CTL file$")
    run.expect(r"^findByCertAndRoleInTL: Searching TL from ITL file$")
    run.expect_error(r"^EROR:https_cert_vfy: HTTPS cert not in CTL, <127\.0\.0\.1>$")
    run.expect(r"^saveCertToTvsCache: Saving certificate in TVS cache with default "
               r"time-to-live value: 86400 seconds$")
    run.expect(r"^Authenticated the HTTPS conn via TVS$")
    run.expect(r"^lookupAuthCertTvsCacheEntry: Matching entry found at cache \(expires in "
               r"8640\d s\)$")
    run.expect(r"^Authenticated the HTTPS conn via TVS cache$")
    assert len(tvs.requests()) == 1, "the second check must not reach TVS"
    assert any(re.match(r"^  cache: sha256 [0-9a-f]{16}\.\.\. roles APP-SERVER, ttl 86400 s, "
                        r"expires in 8640\d s$", line) for line in run.console), run.console
    assert "  server 1: 127.0.0.1:%d" % tvs.port in run.console
    assert https.stop()["https_requests"] == 2


def test_verify_https_asks_again_after_ttl(phone, server, tftp_tree, cluster, tvsd):
    tftp_tree.drop_ctl()
    tvs = tvsd("--vouch", "tomcat=7:1")
    https = tvsd("--https", "tomcat")
    serve_config(tftp_tree, cluster, [tvs.port])
    cmd = "verify https 127.0.0.1:%d" % https.port
    with phone.console(server) as con:
        con.wait_for(r"^boot complete")
        con.send(cmd)
        con.wait_for(r"^Authenticated the HTTPS conn via TVS$")
        con.send(cmd)
        con.wait_for(r"^Authenticated the HTTPS conn via TVS cache$")
        time.sleep(1.3)
        con.send(cmd)
        con.wait_for(r"^Authenticated the HTTPS conn via TVS$", count=2)
        con.send("quit")
    run = con.run
    run.expect(r"^saveCertToTvsCache: Saving certificate in TVS cache with time-to-live value: "
               r"1 seconds$")
    assert len(tvs.requests()) == 2


def test_verify_https_untrusted_server(itl_phone, server, tvsd):
    phone, tvs = itl_phone
    https = tvsd("--https", "attacker")

    run = phone.boot(server, commands=["verify https 127.0.0.1:%d" % https.port])

    line = next(x for x in run.console if x.startswith("verify https"))
    assert re.match(r"^verify https 127\.0\.0\.1:\d+: NOT TRUSTED, decided by TVS: TVS says the "
                    r"certificate is not valid \(status 1\)", line), line
    run.expect_error(r"^EROR:processTvsClntReq: HTTPS server certificate of 127\.0\.0\.1 not "
                     r"trusted: TVS says the certificate is not valid")
    assert not any(x.startswith("  GET /") for x in run.console), "nothing sent when untrusted"
    assert https.stop()["https_requests"] == 0


@pytest.mark.attack("https-wrong-role")
def test_verify_https_wrong_role_refused(itl_phone, server, tvsd):
    """TVS knows the certificate, but not as an APP-SERVER."""
    phone, tvs = itl_phone
    https = tvsd("--https", REGEN)  # vouched for as SAST + CCM+TFTP only

    run = phone.boot(server, commands=["verify https 127.0.0.1:%d" % https.port])

    line = next(x for x in run.console if x.startswith("verify https"))
    assert "NOT TRUSTED, decided by TVS: TVS vouches for roles SAST,CCM+TFTP, not APP-SERVER" \
        in line, line


def test_verify_https_tvs_unreachable(itl_phone, server, tvsd):
    phone, tvs = itl_phone
    https = tvsd("--https", "tomcat")
    tvs.stop()

    run = phone.boot(server, commands=["verify https 127.0.0.1:%d" % https.port])

    line = next(x for x in run.console if x.startswith("verify https"))
    assert "NOT TRUSTED, decided by TVS: no TVS server could be asked securely" in line, line


# -- the phone's certificate towards TVS (B8: LSC, else MIC) --

def test_tvs_sees_mic_then_lsc(phone, server, tftp_tree, cluster, tvsd, cluster_dir, tmp_path):
    """A TVS that asks for a client certificate (tvsd --client-cert; the
    reference server asks none) sees the MIC before a CAPF install and the
    LSC after it, in the same console session."""
    from test_capf import Capfd, show_cert
    tftp_tree.drop_ctl()
    tvs = tvsd("--client-cert", "--vouch", "tomcat=7", "--vouch", REGEN + "=7")
    serve_config(tftp_tree, cluster, [tvs.port])
    mic = ("--mic", str(_keys_of(cluster_dir) / "mic.pem"))
    first = phone.boot(server, extra=mic)
    assert first.rc == 0, first.stdout
    # two HTTPS servers with certificates only TVS knows: each one a TVS
    # request (the second is not answered from the TVS cache)
    before, after = tvsd("--https", "tomcat"), tvsd("--https", REGEN)
    capf = Capfd(_keys_of(cluster_dir), tmp_path / "capf", "--op", "install", "--auth", 0,
                 "--key-type", "ec", "--curve", 0)
    try:
        run = phone.boot(server, extra=mic, timeout=60, commands=[
            "verify https 127.0.0.1:%d" % before.port, "show cert",
            "capf start " + capf.addr,
            "verify https 127.0.0.1:%d" % after.port, "show cert"])
        capf.text()
    finally:
        capf.stop()
    verdicts = [line for line in run.console if line.startswith("verify https")]
    assert len(verdicts) == 2 and all("TRUSTED, decided by TVS (" in v for v in verdicts), (
        verdicts, tvs.log, run.stdout)
    run.expect(r"^session ended: LSC installed$", module="CAPF")
    run.expect(r"^-PXY_NO_LSC: No LSC for \[TVS\], will try MIC$", level="WRN", module="SECD")
    run.expect(r"^-PXY_CERT: \[TVS\], cert \[LSC\]$", module="SECD")
    # show cert before and after: the MIC's and the LSC's MD5
    outs = [i for i, line in enumerate(run.console) if line.startswith("certificate in use:")]
    assert len(outs) == 2, run.console

    class Part:
        def __init__(self, lines):
            self.console = lines
            self.stdout = "\n".join(lines)

    mic_md5 = show_cert(Part(run.console[outs[0]:outs[1]]))["MIC"]["MD5"]
    lsc_md5 = show_cert(Part(run.console[outs[1]:]))["LSC"]["MD5"]
    seen = [line for line in tvs.log if line.startswith("client certificate: ")]
    assert len(seen) == 2, tvs.log
    assert seen[0].endswith("md5 " + mic_md5) and "CP-8845-SEP" in seen[0], seen
    assert seen[1].endswith("md5 " + lsc_md5) and "CN=SEP" in seen[1], seen
