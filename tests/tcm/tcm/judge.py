"""A small Python judge of the phone's verdicts (secd-behaviour.md B2/B3/B6),
used to check that the attack set's expected verdicts are coherent without
the C implementation. It is deliberately simple: no TVS, no CTL+ITL
interplay beyond "signer found in an installed list"."""
from cryptography import x509

from . import files, parse

SIGNER_ROLES_TLV = (files.SAST,)
SIGNER_ROLES_SGN = (files.CCM_TFTP, files.TFTP)
GENERIC_NAMES = ("CTLFile.tlv", "ITLFile.tlv")


class Reject(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _find(records, issuer, serial, roles):
    for r in records:
        if r.role in roles and r.issuer == issuer and r.serial == serial and r.cert:
            return x509.load_der_x509_certificate(r.cert)
    return None


def _installed(paths):
    records = []
    for p in paths:
        if p is not None:
            records += parse.parse(p.read_bytes()).records
    return records


def _check_name(f, serve_as):
    if f.filename == serve_as:
        return
    if f.kind == "tlv" and f.filename in GENERIC_NAMES and serve_as[:3] == f.filename[:3]:
        return
    raise Reject("filename_mismatch")


def _verify(f, serve_as, trusted):
    if f.kind == "tlv" and not f.records:
        raise Reject("no_records")
    if f.kind == "tlv" and not trusted:
        # First use: the signer must be the file's own SAST record.
        cert = _find(f.records, f.issuer_name, f.serial, SIGNER_ROLES_TLV)
        if cert is None:
            raise Reject("signer_not_trusted")
    else:
        roles = SIGNER_ROLES_TLV + SIGNER_ROLES_SGN if f.kind == "tlv" else SIGNER_ROLES_SGN
        cert = _find(trusted, f.issuer_name, f.serial, roles)
        if cert is None:
            raise Reject("signer_not_trusted")
    if not parse.verify_signature(f, cert.public_key()):
        raise Reject("signature_invalid")
    _check_name(f, serve_as)


def verdict(path, serve_as, ctl=None, itl=None, key=None):
    """'ok' or 'reject:<reason>' for the file at path, as a phone holding
    ctl/itl (paths or None) that asked for serve_as would judge it; key is
    the device private key for an .enc.sgn."""
    try:
        f = parse.parse(path.read_bytes())
        _verify(f, serve_as, _installed([ctl, itl]))
        if key is not None:
            parse.decrypt(f, key)
    except parse.ParseError as e:
        return "reject:" + e.reason
    except (Reject, parse.DecryptError) as e:
        return "reject:" + e.reason
    return "ok"
