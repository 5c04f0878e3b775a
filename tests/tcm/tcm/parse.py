"""Structural parser for .tlv / .sgn / .enc.sgn files.

Used by the tests on both the interop vectors and our own builders, so that
"same layout" is decided by one piece of code. It never trusts a length:
every element is bounds-checked against its container, the header length
and the end of the file, and a defect is reported with the reason names of
the interop MANIFEST (truncated, malformed, header_length_exceeds_file,
record_length_overrun).

Also holds the Python reference checks used on our builders' output:
signature verification and .enc.sgn decryption.
"""
import hashlib
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAD = 13
CONTAINERS = (3, 7, 9, 16, 17, 21)
HEADER_TAGS = set(range(1, 29)) - {13}
REQUIRED = (1, 2, 3, 4, 6, 5, 7, 8, 9, 10, 11, 12, 14, 15)
REQUIRED_ENC = tuple(range(16, 28))
KIND_BY_VERSION = {(1, 2): "tlv", (1, 0): "sgn", (2, 0): "enc"}
HASH_BY_ID = {1: "sha1", 2: "sha256", 3: "sha512"}
_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512}


class ParseError(Exception):
    def __init__(self, reason, detail):
        super().__init__("%s: %s" % (reason, detail))
        self.reason = reason
        self.detail = detail


@dataclass
class Element:
    tag: int
    offset: int
    length: int  # 0 for a padding byte
    value: bytes  # for a container: its children's bytes


@dataclass
class Record:
    offset: int
    length: int
    elements: list

    def get(self, tag):
        for e in self.elements:
            if e.tag == tag:
                return e.value
        return None

    @property
    def tags(self):
        return [e.tag for e in self.elements]

    @property
    def role(self):
        v = self.get(4)
        return None if v is None or len(v) != 2 else struct.unpack(">H", v)[0]

    @property
    def subject(self):
        return _cstr(self.get(3))

    @property
    def issuer(self):
        return _cstr(self.get(5))

    @property
    def serial(self):
        return self.get(6)

    @property
    def cert(self):
        return self.get(9)


@dataclass
class SignedFile:
    data: bytes
    kind: str  # tlv | sgn | enc
    header_length: int
    elements: list
    records: list = field(default_factory=list)

    def get(self, tag):
        for e in self.elements:
            if e.tag == tag:
                return e.value
        return None

    def _int(self, tag):
        return int.from_bytes(self.get(tag), "big")

    @property
    def version(self):
        return tuple(self.get(1))

    @property
    def header_tags(self):
        return [e.tag for e in self.elements]

    @property
    def signer_name(self):
        return _cstr(self.get(4))

    @property
    def issuer_name(self):
        return _cstr(self.get(6))

    @property
    def serial(self):
        return self.get(5)

    @property
    def hash_name(self):
        return HASH_BY_ID.get(self._int(8))

    @property
    def signature(self):
        return self.get(12)

    @property
    def signature_element(self):
        return next(e for e in self.elements if e.tag == 12)

    @property
    def filename(self):
        return _cstr(self.get(14))

    @property
    def timestamp(self):
        return self._int(15)

    @property
    def body(self):
        return self.data[self.header_length:]

    @property
    def unsigned(self):
        """The bytes the signature covers."""
        sig = self.signature_element
        return self.data[:sig.offset] + self.data[sig.offset + 3 + sig.length:]

    def layout(self):
        """Structure without the variable data: header tags (padding left
        out, its count is implied by the 4-byte alignment), fixed-size
        header values and each record's tag sequence and role."""
        fixed = {t: self.get(t) for t in (1, 8, 10, 11, 18, 22, 24, 26, 28)
                 if self.get(t) is not None}
        return {"kind": self.kind,
                "header_tags": [t for t in self.header_tags if t != PAD],
                "fixed": fixed,
                "containers": {e.tag: e.length for e in self.elements
                               if e.tag in (7, 9, 17)},
                "records": [(r.tags, r.role) for r in self.records]}


def _cstr(value):
    if value is None:
        return None
    if not value.endswith(b"\0"):
        raise ParseError("malformed", "string without NUL terminator")
    return value[:-1].decode("utf-8", "replace")


def _read_tlv(data, off, limit):
    """(tag, length, value_offset) of the TLV at off, or a ParseError if it
    does not fit below limit (truncated if it runs past the file end)."""
    if off + 3 > limit or off + 3 + _len_at(data, off) > limit:
        end = off + 3 if off + 3 > len(data) else off + 3 + _len_at(data, off)
        raise ParseError("truncated" if end > len(data) else "malformed",
                         "element at %d runs past %d" % (off, limit))
    return data[off], _len_at(data, off), off + 3


def _len_at(data, off):
    if off + 3 > len(data):
        return 0
    return struct.unpack_from(">H", data, off + 1)[0]


def _walk_header(data, limit, strict):
    """Walks header elements from offset 0 up to limit.

    strict: limit is the header length (every element must end inside it).
    Otherwise limit is the file end and the walk stops at the first byte
    that cannot be a header element (the structural end of the header).
    Returns (elements, end offset).
    """
    elements, seen, open_ends = [], set(), []
    off = 0
    while off < limit:
        while open_ends and open_ends[-1] == off:
            open_ends.pop()
        tag = data[off]
        if tag == PAD:
            elements.append(Element(PAD, off, 0, b""))
            off += 1
            continue
        if elements and elements[-1].tag == PAD or tag not in HEADER_TAGS or tag in seen:
            if strict:
                raise ParseError("malformed", "unexpected header tag %d at %d" % (tag, off))
            return elements, off
        tag, length, voff = _read_tlv(data, off, limit)
        if open_ends and voff + length > open_ends[-1]:
            raise ParseError("malformed", "tag %d overruns its container" % tag)
        seen.add(tag)
        elements.append(Element(tag, off, length, data[voff:voff + length]))
        if tag in CONTAINERS:
            open_ends.append(voff + length)
            off = voff
        else:
            off = voff + length
    while open_ends and open_ends[-1] == off:
        open_ends.pop()
    if open_ends:
        raise ParseError("malformed", "container not closed at header end")
    return elements, off


def _check_header(elements, header_length):
    tags = [e.tag for e in elements]
    if tags[:2] != [1, 2] or elements[0].length != 2 or elements[1].length != 2:
        raise ParseError("malformed", "header must start with version, header length")
    required = REQUIRED + (REQUIRED_ENC if tuple(elements[0].value) == (2, 0) else ())
    missing = [t for t in required if t not in tags]
    if missing:
        raise ParseError("malformed", "missing header tags %s" % missing)
    if header_length % 4:
        raise ParseError("malformed", "header length %d not a multiple of 4" % header_length)


def parse_header(data):
    """(elements, header_length) of a signed file."""
    if len(data) < 10:
        raise ParseError("truncated", "%d bytes: no version and header length" % len(data))
    if data[0] != 1 or data[5] != 2:
        raise ParseError("malformed", "file does not start with tags 1, 2")
    header_length = struct.unpack_from(">H", data, 8)[0]
    if header_length > len(data):
        # Tell a cut file from a lying header length: walk what is there.
        elements, _ = _walk_header(data, len(data), strict=False)
        tags = {e.tag for e in elements}
        if all(t in tags for t in REQUIRED):
            raise ParseError("header_length_exceeds_file",
                             "header length %d, file %d" % (header_length, len(data)))
        raise ParseError("truncated", "file ends inside the header")
    elements, _ = _walk_header(data, header_length, strict=True)
    _check_header(elements, header_length)
    return elements, header_length


def parse_record(data, off):
    if off + 5 > len(data):
        raise ParseError("truncated", "record at %d cut before its length" % off)
    if data[off] != 1 or _len_at(data, off) != 2:
        raise ParseError("malformed", "record at %d does not start with tag 1" % off)
    length = struct.unpack_from(">H", data, off + 3)[0]
    if length < 5:
        raise ParseError("malformed", "record length %d" % length)
    end = off + length
    limit = min(end, len(data))
    elements, pos, seen = [], off + 5, {1}
    while pos < limit:
        tag, n, voff = _read_tlv(data, pos, limit)
        if tag in seen:
            raise ParseError("malformed", "record tag %d repeated at %d" % (tag, pos))
        seen.add(tag)
        elements.append(Element(tag, pos, n, data[voff:voff + n]))
        pos = voff + n
    if end > len(data):
        raise ParseError("record_length_overrun",
                         "record at %d claims %d bytes, %d left" % (off, length, len(data) - off))
    return Record(off, length, [Element(1, off, 2, data[off + 3:off + 5])] + elements)


def parse(data):
    """Parses a signed file; raises ParseError with a manifest reason."""
    elements, header_length = parse_header(data)
    version = tuple(elements[0].value)
    kind = KIND_BY_VERSION.get(version)
    if kind is None:
        raise ParseError("malformed", "unknown version %s" % (version,))
    f = SignedFile(data, kind, header_length, elements)
    if kind == "tlv":
        off = header_length
        while off < len(data):
            rec = parse_record(data, off)
            f.records.append(rec)
            off += rec.length
    return f


# --- reference checks ---------------------------------------------------------

def verify_signature(f, public_key):
    """True when f's signature verifies with public_key over f.unsigned."""
    try:
        public_key.verify(f.signature, f.unsigned, padding.PKCS1v15(),
                          _HASHES[f.hash_name]())
        return True
    except Exception:  # InvalidSignature or a key/size mismatch
        return False


class DecryptError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def decrypt(f, private_key):
    """Plaintext of a parsed .enc.sgn (signature not checked here)."""
    try:
        aes_key = private_key.decrypt(f.get(25), padding.PKCS1v15())
    except ValueError:
        raise DecryptError("key_unwrap_failed")
    if len(aes_key) != 16:
        raise DecryptError("key_unwrap_failed")
    body = f.body
    if not body or len(body) % 16:
        raise DecryptError("malformed")
    dec = Cipher(algorithms.AES(aes_key), modes.CBC(f.get(19))).decryptor()
    padded = dec.update(body) + dec.finalize()
    n = struct.unpack(">H", f.get(20))[0]
    if not 1 <= n <= 16 or padded[-n:] != b"\x0d" * n:
        raise DecryptError("padding_length_invalid")
    plaintext = padded[:-n]
    digest_name = HASH_BY_ID.get(f.get(26)[0])
    if digest_name is None or hashlib.new(digest_name, plaintext).digest() != f.get(27):
        raise DecryptError("plaintext_digest_mismatch")
    return plaintext


def describe(f):
    """Human-readable dump (the `tcm dump` command)."""
    lines = ["kind:          %s" % f.kind,
             "version:       %d.%d" % f.version,
             "header length: %d" % f.header_length,
             "header tags:   %s" % " ".join(str(t) for t in f.header_tags),
             "signer:        %s" % f.signer_name,
             "issuer:        %s" % f.issuer_name,
             "serial:        %s" % f.serial.hex(),
             "hash:          %s" % f.hash_name,
             "signature:     %d bytes" % len(f.signature),
             "filename:      %s" % f.filename,
             "timestamp:     %d" % f.timestamp]
    if f.kind == "enc":
        lines.append("pad count:     %d" % struct.unpack(">H", f.get(20))[0])
        lines.append("wrapped key:   %d bytes (%d-bit key)"
                     % (len(f.get(25)), struct.unpack(">H", f.get(23))[0]))
        lines.append("digest:        %s %s" % (HASH_BY_ID.get(f.get(26)[0]), f.get(27).hex()))
    for i, r in enumerate(f.records):
        lines.append("record %d: length %d role %s tags %s subject %s serial %s"
                     % (i, r.length, r.role, r.tags, r.subject,
                        r.serial.hex() if r.serial else None))
    if f.kind != "tlv":
        lines.append("body:          %d bytes" % len(f.body))
    return "\n".join(lines)
