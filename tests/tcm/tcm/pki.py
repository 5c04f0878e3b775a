"""Cluster PKI for the test call manager.

Generates the keys and X.509 certificates a CUCM cluster and a phone hold,
in the roles the interop vectors use (../shared/interop/keys), and writes
each identity as NAME.crt (certificate), NAME.key (PKCS#8 key) and NAME.pem
(key + certificate in one file: the reference tools' input form and the
phone's --mic option).

RSA key generation is the slow part, so keys are cached in the output
directory and reused; certificates are re-issued only when the cluster
parameters change.
"""
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_BITS = 2048
DEFAULT_MAC = "001E7A4C11A1"
DEFAULT_OTHER_MAC = "001E7A4C11A2"
DEFAULT_MODEL = "8845"
DEFAULT_HOST = "ucm-a1.tcm.test"

# Every identity a cluster holds, in issuing order (issuers first).
NAMES = (
    "root_ca", "sast1", "sast2", "callmanager", "callmanager_regen",
    "tvs", "tvs_regen", "capf", "tomcat", "attacker", "attacker_spoof_cm",
    "mfg_ca", "mic", "mic_other", "lsc",
)


def name_string(name):
    """Header/record form of a distinguished name: attributes in DER order
    joined by ',' (the reference tools' form, e.g. CN=..,O=..,OU=..)."""
    return ",".join(attr.rfc4514_string() for attr in name)


@dataclass
class Identity:
    name: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self):
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    @property
    def combined_pem(self):
        return self.key_pem + self.cert_pem

    @property
    def subject(self):
        return name_string(self.cert.subject)

    @property
    def issuer(self):
        return name_string(self.cert.issuer)

    @property
    def serial_bytes(self):
        """Serial as minimal unsigned big-endian bytes (no DER sign byte)."""
        n = self.cert.serial_number
        return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")

    @property
    def public_key_pkcs1(self):
        return self.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    @property
    def md5(self):
        """certHash form: lowercase hex MD5 of the certificate DER."""
        return hashlib.md5(self.der).hexdigest()

    @property
    def key_bits(self):
        return self.key.key_size


class Cluster:
    """All identities of one test cluster, indexed by name."""

    def __init__(self, params, identities):
        self.params = params
        self.ids = identities

    def __getitem__(self, name):
        return self.ids[name]

    def __contains__(self, name):
        return name in self.ids

    @property
    def mac(self):
        return self.params["mac"]

    @property
    def other_mac(self):
        return self.params["other_mac"]

    @property
    def model(self):
        return self.params["model"]


def _random_serial():
    # 16 bytes with the top bit set, as the reference mkcert makes them:
    # exercises the "no DER sign byte" rule of the header/record serial.
    return int.from_bytes(os.urandom(16), "big") | (1 << 127)


def _name(**attrs):
    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME,
            "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "L": NameOID.LOCALITY_NAME,
            "ST": NameOID.STATE_OR_PROVINCE_NAME, "C": NameOID.COUNTRY_NAME,
            "SN": NameOID.SERIAL_NUMBER}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


def _server_name(cn):
    return _name(CN=cn, O="TCM Test Lab", OU="Voice Services",
                 L="Wellington", ST="Wellington", C="NZ")


def _subjects(p):
    """Subject, issuer identity name and kind of every identity."""
    host, mac, model = p["host"], p["mac"], p["model"]
    root = _name(CN="TCM Root CA", O="TCM Test Lab", OU="PKI", C="NZ")
    mfg = _name(CN="TCM Manufacturing CA", O="TCM Phones Inc", OU="MIC")
    capf = _server_name("CAPF-" + hashlib.md5(host.encode()).hexdigest()[:8])
    lsc_subject = _server_name("SEP" + mac)

    def mic(m):
        return _name(CN="CP-%s-SEP%s" % (model, m), O="TCM Phones Inc",
                     OU="MIC", SN="PID:CP-%s SN:TCM%s" % (model, m[-6:]))

    return {
        "root_ca": (root, None, "ca"),
        "sast1": (_name(CN="SAST-ADN00000001", OU="IPCBU", O="TCM Test Lab"),
                  "root_ca", "leaf"),
        "sast2": (_name(CN="SAST-ADN00000002", OU="IPCBU", O="TCM Test Lab"),
                  "root_ca", "leaf"),
        "callmanager": (_server_name(host), None, "server"),
        "callmanager_regen": (_server_name(host), None, "server"),
        "tvs": (_server_name(host), None, "server"),
        "tvs_regen": (_server_name(host), None, "server"),
        "capf": (capf, None, "server"),
        "tomcat": (_server_name(host), "root_ca", "server"),
        "attacker": (_name(CN="ucm-evil.attacker.invalid", O="Mallory Telecom",
                           OU="Red Team"), None, "server"),
        "attacker_spoof_cm": (None, None, "spoof"),
        "mfg_ca": (mfg, None, "ca"),
        "mic": (mic(mac), "mfg_ca", "leaf"),
        "mic_other": (mic(p["other_mac"]), "mfg_ca", "leaf"),
        "lsc": (lsc_subject, "capf", "leaf"),
    }


def _load_or_make_key(keys_dir, name):
    path = keys_dir / (name + ".key")
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), None)
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _issue(subject, key, issuer_name, issuer_key, serial, kind, host):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=5 * 365)))
    is_ca = kind in ("ca", "server", "spoof")
    b = b.add_extension(x509.BasicConstraints(ca=is_ca, path_length=0 if is_ca else None),
                        critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
    if kind in ("server", "spoof"):
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False)
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]),
                            critical=False)
    if kind == "leaf":
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _make_identities(params, keys_dir):
    specs = _subjects(params)
    ids = {}
    for name in NAMES:
        subject, issuer, kind = specs[name]
        key = _load_or_make_key(keys_dir, name)
        if kind == "spoof":
            # CallManager's subject, issuer and serial with another key.
            cm = ids["callmanager"].cert
            cert = _issue(cm.subject, key, cm.issuer, key, cm.serial_number,
                          kind, params["host"])
        elif issuer is None:
            cert = _issue(subject, key, subject, key, _random_serial(), kind,
                          params["host"])
        else:
            parent = ids[issuer]
            cert = _issue(subject, key, parent.cert.subject, parent.key,
                          _random_serial(), kind, params["host"])
        ids[name] = Identity(name, key, cert)
    return ids


def _write_atomic(path, data):
    # Readers (a parallel test run sharing the cache) never see half a file.
    tmp = path.with_name(".%s.%d.tmp" % (path.name, os.getpid()))
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write(keys_dir, ids, params):
    for ident in ids.values():
        _write_atomic(keys_dir / (ident.name + ".key"), ident.key_pem)
        _write_atomic(keys_dir / (ident.name + ".crt"), ident.cert_pem)
        _write_atomic(keys_dir / (ident.name + ".pem"), ident.combined_pem)
    # Last: its presence marks a complete cluster.
    _write_atomic(keys_dir / "pki.json",
                  (json.dumps(params, indent=1, sort_keys=True) + "\n").encode())


def load(keys_dir):
    """Loads a cluster written by generate()."""
    keys_dir = Path(keys_dir)
    params = json.loads((keys_dir / "pki.json").read_text())
    ids = {}
    for name in NAMES:
        key = serialization.load_pem_private_key(
            (keys_dir / (name + ".key")).read_bytes(), None)
        cert = x509.load_pem_x509_certificate((keys_dir / (name + ".crt")).read_bytes())
        ids[name] = Identity(name, key, cert)
    return Cluster(params, ids)


def _complete(keys_dir):
    return all((keys_dir / (n + ext)).exists()
               for n in NAMES for ext in (".key", ".crt", ".pem"))


def generate(keys_dir, mac=DEFAULT_MAC, model=DEFAULT_MODEL, host=DEFAULT_HOST,
             other_mac=DEFAULT_OTHER_MAC, fresh=False):
    """Returns the cluster in keys_dir, creating what is missing.

    The existing cluster is reused when its parameters match and all files
    are present (unless fresh); otherwise certificates are re-issued with
    the cached keys.
    """
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(parents=True, exist_ok=True)
    params = {"mac": mac.upper(), "other_mac": other_mac.upper(),
              "model": model, "host": host}
    pki_json = keys_dir / "pki.json"
    with _exclusive(keys_dir):
        if not fresh and pki_json.exists() and _complete(keys_dir):
            if json.loads(pki_json.read_text()) == params:
                return load(keys_dir)
        ids = _make_identities(params, keys_dir)
        _write(keys_dir, ids, params)
        return Cluster(params, ids)


@contextlib.contextmanager
def _exclusive(keys_dir):
    """Serialises generate() between processes sharing a key cache (ctest -j
    runs several suites on one cache). Without it two first runs each make
    their own keys and interleave the files: a certificate of one run next to
    the key of the other, and every signature made with it is refused."""
    with open(keys_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
