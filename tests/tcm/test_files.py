"""Builders of the test call manager, checked against the wire format with
python-cryptography and against the interop vectors with one structural
parser (tcm/parse.py)."""
import hashlib
import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import HERE, interop_dir
from tcm import files, judge, parse, pki, tree

HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512}
STRUCTURAL = ("truncated", "malformed", "header_length_exceeds_file", "record_length_overrun")
CNF = "SEP001E7A4C11A1.cnf.xml"


def sig_cut(data):
    """Independent of tcm: walk to tag 12 and cut its TLV out."""
    off = 0
    while data[off] != 12:
        tag, length = data[off], struct.unpack_from(">H", data, off + 1)[0]
        off += 3 if tag in (3, 7, 9, 16, 17, 21) else 3 + length
    length = struct.unpack_from(">H", data, off + 1)[0]
    return data[off + 3:off + 3 + length], data[:off] + data[off + 3 + length:]


def rsa_verify(cert, signature, data, hash_name):
    try:
        cert.public_key().verify(signature, data, padding.PKCS1v15(), HASHES[hash_name]())
        return True
    except InvalidSignature:
        return False


# --- signed-file framing -------------------------------------------------------

@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha512"])
def test_sgn_signature_covers_file_without_signature_tlv(cluster, hash_name):
    body = files.build_config()
    data = files.build_sgn(cluster["callmanager"], body, CNF + ".sgn", hash_name)
    signature, signed = sig_cut(data)
    cert = cluster["callmanager"].cert
    assert len(signature) == 256
    assert rsa_verify(cert, signature, signed, hash_name)
    assert not rsa_verify(cert, signature, data, hash_name)  # not over the whole file
    other = "sha512" if hash_name != "sha512" else "sha1"
    assert not rsa_verify(cert, signature, signed, other)
    f = parse.parse(data)
    assert f.hash_name == hash_name and f.get(8) == bytes([files.HASH_IDS[hash_name]])
    assert f.body == body and f.filename == CNF + ".sgn" and f.version == (1, 0)


def test_header_length_counts_every_header_byte(cluster):
    data = files.build_sgn(cluster["callmanager"], b"<x/>", "a.sgn")
    f = parse.parse(data)
    top = [e for e in f.elements if e.tag in (1, 2, 3, 7, 12, 14, 15)]
    pads = [e for e in f.elements if e.tag == 13]
    assert f.header_length == sum(3 + e.length for e in top) + len(pads)
    assert f.header_length % 4 == 0 and len(pads) < 4
    assert data[f.header_length - len(pads):f.header_length] == b"\x0d" * len(pads)
    assert struct.unpack_from(">H", data, 8)[0] == f.header_length
    assert data[f.header_length:] == b"<x/>"


@pytest.mark.parametrize("name_len", range(8))
def test_padding_is_minimal_for_every_alignment(cluster, name_len):
    data = files.build_sgn(cluster["callmanager"], b"", "n" * (name_len + 1) + ".sgn")
    f = parse.parse(data)
    pads = sum(1 for e in f.elements if e.tag == 13)
    unpadded = f.header_length - pads
    assert pads == (-unpadded) % 4
    assert f.elements[-1 - pads].tag == 15  # padding comes last


def test_signer_fields_and_signature_info(cluster):
    sast = cluster["sast1"]
    f = parse.parse(files.build_ctl(cluster, "sha512"))
    assert f.signer_name == sast.subject and f.issuer_name == sast.issuer
    assert int.from_bytes(f.serial, "big") == sast.cert.serial_number
    assert f.serial[0] != 0  # minimal: no DER sign byte
    assert len(f.get(7)) == 15
    assert f.get(10) == b"\x00" and f.get(11) == b"\x02"  # RSA, 256-byte signature
    assert f.get(28) == b"\x01\x00" and f.version == (1, 2)


def test_modulus_index_follows_key_size(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "small")])
    cert = pki._issue(name, key, name, key, 5, "server", "small")
    ident = pki.Identity("small", key, cert)
    data = files.build_sgn(ident, b"x", "x.sgn")
    f = parse.parse(data)
    assert f.get(11) == b"\x01" and len(f.signature) == 128
    assert f.serial == b"\x05"
    assert rsa_verify(cert, *sig_cut(data), "sha1")


def test_resign_makes_tampered_bytes_valid(cluster):
    cm = cluster["callmanager"]
    data = bytearray(files.build_sgn(cm, b"<a>1</a>", "x.sgn"))
    data[-3] ^= 1
    assert not rsa_verify(cm.cert, *sig_cut(bytes(data)), "sha1")
    assert rsa_verify(cm.cert, *sig_cut(files.resign(bytes(data), cm.key, "sha1")), "sha1")


# --- trust lists ------------------------------------------------------------------

def test_itl_records_carry_each_certificate(cluster):
    data = files.build_itl(cluster)
    f = parse.parse(data)
    assert [r.role for r in f.records] == [files.SAST, files.CCM_TFTP, files.TVS, files.CAPF]
    expected = [cluster["callmanager"], cluster["callmanager"], cluster["tvs"], cluster["capf"]]
    offset = f.header_length
    for r, ident in zip(f.records, expected):
        assert r.offset == offset
        offset += r.length
        assert r.tags == [1, 3, 5, 6, 4, 7, 8, 9]
        assert r.length == 5 + sum(3 + e.length for e in r.elements[1:])
        cert = x509.load_der_x509_certificate(r.cert)
        assert cert == ident.cert
        assert r.subject == pki.name_string(cert.subject)
        assert r.issuer == pki.name_string(cert.issuer)
        assert int.from_bytes(r.serial, "big") == cert.serial_number
        assert r.get(7) == ident.public_key_pkcs1
        assert r.get(8) == cert.signature
    assert offset == len(data)
    signer = f.records[0]
    assert (signer.issuer, signer.serial) == (f.issuer_name, f.serial)
    assert rsa_verify(cluster["callmanager"].cert, *sig_cut(data), "sha1")


def test_ctl_signed_by_first_sast(cluster):
    data = files.build_ctl(cluster, "sha256")
    f = parse.parse(data)
    assert [r.role for r in f.records] == [0, 0, 2, 4, 21]
    sast = [r for r in f.records if r.role == files.SAST]
    assert [r.subject for r in sast] == [cluster["sast1"].subject, cluster["sast2"].subject]
    assert (sast[0].issuer, sast[0].serial) == (f.issuer_name, f.serial)
    assert rsa_verify(cluster["sast1"].cert, *sig_cut(data), "sha256")
    assert not rsa_verify(cluster["sast2"].cert, *sig_cut(data), "sha256")


@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha512"])
def test_hash_only_record(cluster, hash_name):
    f = parse.parse(files.build_itl(cluster, tvs_hash_only=hash_name))
    tvs = f.records[2]
    assert tvs.tags == [1, 3, 5, 6, 4, 7, 8, 11, 12]
    assert tvs.get(11) == hashlib.new(hash_name, cluster["tvs"].der).digest()
    assert tvs.get(12) == bytes([files.HASH_IDS[hash_name]])


def test_rollback_itl_has_only_the_signer_sast_record(cluster):
    f = parse.parse(files.build_rollback_itl(cluster))
    assert len(f.records) == 1 and f.records[0].role == files.SAST
    assert f.records[0].serial == f.serial


def test_optional_record_fields(cluster):
    rec = files.record(cluster["tomcat"], files.APP_SERVER, dns_name="ucm", ip=bytes([127, 0, 0, 1]))
    f = parse.parse(files.trust_list(cluster["callmanager"], [rec], "ITLFile.tlv"))
    r = f.records[0]
    assert r.tags == [1, 2, 3, 5, 6, 4, 7, 8, 9, 10] and r.role == 7
    assert r.get(2) == b"ucm\0" and r.get(10) == b"\x7f\0\0\x01"


# --- encrypted config ---------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 4837])
@pytest.mark.parametrize("digest", ["sha1", "sha512"])
def test_enc_sgn_decrypts_with_device_key(cluster, length, digest):
    plaintext = bytes((i * 7) % 251 for i in range(length))
    mic = cluster["mic"]
    data = files.build_enc_sgn(cluster["callmanager"], plaintext, CNF + ".enc.sgn",
                               mic.cert, "sha512", digest_name=digest)
    f = parse.parse(data)
    assert f.version == (2, 0) and f.filename == CNF + ".enc.sgn"
    assert rsa_verify(cluster["callmanager"].cert, *sig_cut(data), "sha512")
    aes_key = mic.key.decrypt(f.get(25), padding.PKCS1v15())
    assert len(aes_key) == 16
    assert struct.unpack(">H", f.get(23))[0] == 2048 and f.get(24) == b"\x01"
    dec = Cipher(algorithms.AES(aes_key), modes.CBC(f.get(19))).decryptor()
    padded = dec.update(f.body) + dec.finalize()
    n = struct.unpack(">H", f.get(20))[0]
    assert n == 16 - length % 16 and 1 <= n <= 16
    assert padded == plaintext + b"\x0d" * n
    assert f.get(26) == bytes([files.HASH_IDS[digest]])
    assert f.get(27) == hashlib.new(digest, plaintext).digest()
    assert parse.decrypt(f, mic.key) == plaintext
    with pytest.raises(parse.DecryptError):
        parse.decrypt(f, cluster["mic_other"].key)


def test_enc_containers_hold_their_children(cluster):
    f = parse.parse(files.build_enc_sgn(cluster["callmanager"], b"abc", "x", cluster["lsc"].cert))
    by_tag = {e.tag: e for e in f.elements}
    assert by_tag[17].length == 4 + 19 + 5
    assert by_tag[21].length == 4 + 5 + 4 + 3 + 256
    assert by_tag[16].length == 3 + by_tag[17].length + 3 + by_tag[21].length


# --- config XML -----------------------------------------------------------------------

def test_config_builder_reproduces_interop_config(interop):
    assert files.build_config() == (interop / "cnf" / CNF).read_bytes()
    enc = (interop / "cnf/enc-mic-sha1/expected" / CNF).read_bytes()
    assert files.build_config(cert_hash="f404a38a23030f6fc7eecca3617fb132",
                              encr_config=True) == enc


def test_partial_config_matches_interop(interop, cluster):
    for dev in ("mic", "lsc"):
        expected = (interop / ("cnf/enc-%s-sha1/expected/partial.cnf.xml" % dev)).read_bytes()
        der = x509.load_pem_x509_certificate((interop / "keys" / (dev + ".crt")).read_bytes())
        der = der.public_bytes(files.serialization.Encoding.DER)
        assert files.build_partial_config(files.cert_hash(der)) == expected
    root = ET.fromstring(files.build_partial_config(cluster["mic"].md5))
    assert root.findtext("fullConfig") == "false" and root.findtext("encrConfig") == "true"
    assert root.findtext("certHash") == hashlib.md5(cluster["mic"].der).hexdigest()


def test_config_parameters():
    xml = files.build_config(tvs=[("10.0.0.1", 2445), ("10.0.0.2", 2446)],
                             call_managers=[("cm1", 5060, 5061)], capf=[("capf1", 3804)],
                             capf_auth_mode=4, cert_hash="ab", encr_config=True,
                             full_config=False, load_information="load-1")
    root = ET.fromstring(xml)
    members = root.findall("TVS/members/member")
    assert [(m.get("priority"), m.findtext("address"), m.findtext("port")) for m in members] == \
        [("0", "10.0.0.1", "2445"), ("1", "10.0.0.2", "2446")]
    assert [m.text for m in root.iter("processNodeName")] == ["cm1", "capf1"]
    assert root.findtext("capfList/capf/phonePort") == "3804"
    assert (root.findtext("capfAuthMode"), root.findtext("certHash"), root.findtext("encrConfig"),
            root.findtext("fullConfig"), root.findtext("loadInformation")) == \
        ("4", "ab", "true", "false", "load-1")
    assert ET.fromstring(files.build_config(tvs=[])).find("TVS") is None
    with pytest.raises(TypeError):
        files.build_config(bogus=1)


# --- interop vectors: one parser for both sides --------------------------------------

def _manifest():
    return {f["path"]: f for f in json.loads((interop_dir() / "MANIFEST.json").read_text())["files"]}


def _signed_vectors():
    d = interop_dir()
    return sorted(str(p.relative_to(d)) for p in d.rglob("*")
                  if p.name.endswith((".tlv", ".sgn")))


def test_interop_vectors_are_present():
    assert len(_signed_vectors()) >= 60


@pytest.mark.parametrize("rel", _signed_vectors())
def test_parser_on_interop_vector(interop, rel):
    entry = _manifest()[rel]
    expected = entry.get("expected") or ""
    reason = expected.split()[0].split(":", 1)[-1]
    data = (interop / rel).read_bytes()
    signer = entry.get("signer")
    if reason in STRUCTURAL and rel != "bad/itl-trunc-at-header-end/ITLFile.tlv":
        with pytest.raises(parse.ParseError) as e:
            parse.parse(data)
        assert e.value.reason == reason
        return
    f = parse.parse(data)
    if reason in STRUCTURAL:
        # Cut exactly at the header end: structurally a record-less ITL,
        # only the signature (over the lost records) tells it was cut.
        cert = x509.load_pem_x509_certificate((interop / signer).read_bytes())
        assert f.records == [] and not parse.verify_signature(f, cert.public_key())
        return
    assert f.header_length % 4 == 0
    assert len(f.unsigned) == len(data) - 3 - len(f.signature)
    if expected.startswith("ok") and signer:
        cert = x509.load_pem_x509_certificate((interop / signer).read_bytes())
        assert parse.verify_signature(f, cert.public_key())
    if "byte-flip" in rel and "resigned" not in rel and signer:
        cert = x509.load_pem_x509_certificate((interop / signer).read_bytes())
        assert not parse.verify_signature(f, cert.public_key())


@pytest.mark.parametrize("dev,h", [("mic", "sha1"), ("mic", "sha512"), ("lsc", "sha1"), ("lsc", "sha512")])
def test_parser_decrypts_interop_enc(interop, dev, h):
    from cryptography.hazmat.primitives import serialization
    d = interop / ("cnf/enc-%s-%s" % (dev, h))
    key = serialization.load_pem_private_key((interop / "keys" / (dev + ".key")).read_bytes(), None)
    f = parse.parse((d / (CNF + ".enc.sgn")).read_bytes())
    assert parse.decrypt(f, key) == (d / "expected" / CNF).read_bytes()


def _layout_pairs(cluster):
    cm = cluster["callmanager"]
    body = files.build_config()
    partial = files.build_partial_config(cluster["mic"].md5)
    return {
        "tlv/sha1/CTLFile.tlv": files.build_ctl(cluster, "sha1"),
        "tlv/sha512/CTLFile.tlv": files.build_ctl(cluster, "sha512"),
        "tlv/sha1/ITLFile.tlv": files.build_itl(cluster, "sha1"),
        "tlv/sha512/ITLFile.tlv": files.build_itl(cluster, "sha512"),
        "tlv/rollback/ITLFile.tlv": files.build_rollback_itl(cluster),
        "tlv/empty-crafted/ITLFile.tlv": files.trust_list(cm, [], "ITLFile.tlv"),
        "cnf/sha1/" + CNF + ".sgn": files.build_sgn(cm, body, CNF + ".sgn", "sha1"),
        "cnf/sha512/" + CNF + ".sgn": files.build_sgn(cm, body, CNF + ".sgn", "sha512"),
        "cnf/enc-mic-sha1/" + CNF + ".sgn": files.build_sgn(cm, partial, CNF + ".sgn"),
        "cnf/enc-mic-sha1/" + CNF + ".enc.sgn":
            files.build_enc_sgn(cm, body, CNF + ".enc.sgn", cluster["mic"].cert, "sha1"),
        "cnf/enc-lsc-sha512/" + CNF + ".enc.sgn":
            files.build_enc_sgn(cm, body, CNF + ".enc.sgn", cluster["lsc"].cert, "sha512"),
    }


def test_builders_match_interop_layout(interop, cluster):
    for rel, mine in _layout_pairs(cluster).items():
        ref = parse.parse((interop / rel).read_bytes())
        got = parse.parse(mine)
        assert got.layout() == ref.layout(), rel
        # Same header up to the variable strings: every fixed-size element
        # has the same length in both files.
        fixed = {e.tag: e.length for e in ref.elements if e.tag not in (3, 4, 6, 5, 14, 13)}
        assert {e.tag: e.length for e in got.elements if e.tag in fixed} == fixed, rel


# --- the whole tree -------------------------------------------------------------------

@pytest.fixture(scope="module", params=[("sha1", "none"), ("sha512", "mic"), ("sha256", "lsc")])
def built(request, tmp_path_factory, keys_dir, cluster):
    h, enc = request.param
    out = tmp_path_factory.mktemp("tree-%s-%s" % (h, enc))
    cmd = [sys.executable, "-m", "tcm", "build", "--out", str(out), "--keys", str(keys_dir),
           "--hash", h, "--encrypt", enc]
    subprocess.run(cmd, cwd=HERE, check=True, capture_output=True,
                   env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    return out, json.loads((out / "manifest.json").read_text())


def test_tree_layout(built, cluster):
    out, manifest = built
    mac = cluster.mac
    t = out / "tftp"
    assert (t / "CTLFile.tlv").read_bytes() == (t / ("CTLSEP%s.tlv" % mac)).read_bytes()
    assert (t / "ITLFile.tlv").read_bytes() == (t / ("ITLSEP%s.tlv" % mac)).read_bytes()
    assert parse.parse((t / "ITLFile.tlv").read_bytes()).hash_name == manifest["hash"]
    cnf = "SEP%s.cnf.xml" % mac
    sgn = parse.parse((t / (cnf + ".sgn")).read_bytes())
    assert sgn.filename == cnf + ".sgn"
    root = ET.fromstring(sgn.body)
    if manifest["encrypt"]:
        assert not (t / cnf).exists()
        dev = cluster[manifest["encrypt"]]
        assert root.findtext("certHash") == dev.md5 and root.findtext("encrConfig") == "true"
        f = parse.parse((t / (cnf + ".enc.sgn")).read_bytes())
        assert parse.decrypt(f, dev.key) == (out / "expected" / cnf).read_bytes()
    else:
        assert (t / cnf).read_bytes() == sgn.body and root.findtext("fullConfig") == "true"
    names = [e["name"] for e in manifest["files"]]
    assert "attacker-itl" in names and "cnf-other-mac" in names
    assert all((out / e["path"]).is_file() for e in manifest["files"])
    assert all(Path(e["path"]).name == e["serve_as"] for e in manifest["files"])


def _key(out, rel):
    if rel is None:
        return None
    from cryptography.hazmat.primitives import serialization
    return serialization.load_pem_private_key((out / rel).read_bytes(), None)


def _opt(base, rel):
    return None if rel is None else base / rel


def test_tree_verdicts_with_python_judge(built, interop):
    """Every manifest entry gets its expected verdict from the Python judge,
    and so does the interop vector it corresponds to."""
    out, manifest = built
    wrong = []
    for e in manifest["files"]:
        got = judge.verdict(out / e["path"], e["serve_as"], _opt(out, e["trust_ctl"]),
                            _opt(out, e["trust_itl"]), _key(out, e["key"]))
        ref = judge.verdict(interop / e["interop"], Path(e["interop"]).name,
                            _opt(interop, e["interop_trust_ctl"]),
                            _opt(interop, e["interop_trust_itl"]), _key(interop, e["interop_key"]))
        if not (got == ref == e["expected"]):
            wrong.append("%s: mine %s, interop %s, expected %s" % (e["name"], got, ref, e["expected"]))
    assert not wrong, "\n".join(wrong)


def test_pki_cache_reuses_keys(tmp_path):
    a = pki.generate(tmp_path, host="h1.test")
    b = pki.generate(tmp_path, host="h1.test")
    assert a["callmanager"].der == b["callmanager"].der
    c = pki.generate(tmp_path, host="h2.test")
    assert c["callmanager"].key.private_numbers() == a["callmanager"].key.private_numbers()
    assert c["callmanager"].der != a["callmanager"].der
    pem = (tmp_path / "mic.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----") and b"BEGIN CERTIFICATE" in pem
    assert c["mic"].cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == \
        "CP-8845-SEP001E7A4C11A1"
    assert c["attacker_spoof_cm"].cert.serial_number == c["callmanager"].cert.serial_number
    assert c["callmanager_regen"].subject == c["callmanager"].subject
    assert c["callmanager_regen"].serial_bytes != c["callmanager"].serial_bytes
    assert c["sast1"].issuer == c["root_ca"].subject and c["lsc"].issuer == c["capf"].subject


def test_pki_cache_shared_by_parallel_first_runs(tmp_path):
    """Two processes that find the same cache empty (ctest -j, two suites on
    one key cache) both get the cluster that ends up on disk, and it is
    whole: CI once failed when one suite signed its files with the keys it
    had just made while the cache held the other suite's."""
    code = ("import sys; from tcm import pki; "
            "c = pki.generate(sys.argv[1]); print(c['sast1'].der.hex(), c['mic'].der.hex())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              env={"PYTHONPATH": str(HERE), "PYTHONDONTWRITEBYTECODE": "1"})
             for _ in range(2)]
    seen = [p.communicate(timeout=300)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    cluster = pki.load(tmp_path)
    assert seen[0] == seen[1] == [cluster["sast1"].der.hex().encode(),
                                  cluster["mic"].der.hex().encode()]
    for leaf, ca in (("sast1", "root_ca"), ("mic", "mfg_ca"), ("lsc", "capf")):
        cert = cluster[leaf].cert
        assert cert.public_key().public_numbers() == cluster[leaf].key.public_key().public_numbers()
        cluster[ca].cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                             padding.PKCS1v15(), cert.signature_hash_algorithm)
