"""TFTP packet encoding shared by the server and the test client
(RFC 1350, option extension RFC 2347, OACK)."""
import struct

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6

# Error codes (RFC 1350, 8 from RFC 2347).
E_UNDEF, E_NOT_FOUND, E_ACCESS, E_DISK_FULL, E_ILLEGAL_OP, E_UNKNOWN_TID, \
    E_EXISTS, E_NO_USER, E_OPTION = range(9)

MAX_BLKSIZE = 65464
MIN_BLKSIZE = 8
DEFAULT_BLKSIZE = 512


class PacketError(ValueError):
    pass


def _strings(payload):
    parts = payload.split(b"\0")
    if len(parts) < 2 or parts[-1] != b"":
        raise PacketError("strings not NUL-terminated")
    return [p.decode("ascii", "replace") for p in parts[:-1]]


def make_request(opcode, filename, mode="octet", options=None):
    out = struct.pack(">H", opcode) + filename.encode() + b"\0" + mode.encode() + b"\0"
    for k, v in (options or {}).items():
        out += str(k).encode() + b"\0" + str(v).encode() + b"\0"
    return out


def parse_request(pkt):
    """(opcode, filename, mode, options) of an RRQ/WRQ; option names lower-case."""
    opcode = struct.unpack_from(">H", pkt)[0]
    fields = _strings(pkt[2:])
    if len(fields) < 2 or len(fields) % 2:
        raise PacketError("bad request fields")
    options = {}
    for i in range(2, len(fields), 2):
        options[fields[i].lower()] = fields[i + 1]
    return opcode, fields[0], fields[1].lower(), options


def make_data(block, data):
    return struct.pack(">HH", DATA, block & 0xFFFF) + data


def make_ack(block):
    return struct.pack(">HH", ACK, block & 0xFFFF)


def make_error(code, message):
    return struct.pack(">HH", ERROR, code) + message.encode() + b"\0"


def make_oack(options):
    out = struct.pack(">H", OACK)
    for k, v in options.items():
        out += k.encode() + b"\0" + str(v).encode() + b"\0"
    return out


def opcode_of(pkt):
    if len(pkt) < 2:
        raise PacketError("short packet")
    return struct.unpack_from(">H", pkt)[0]


def block_of(pkt):
    if len(pkt) < 4:
        raise PacketError("short DATA/ACK")
    return struct.unpack_from(">H", pkt, 2)[0]


def parse_error(pkt):
    code = block_of(pkt)
    msg = pkt[4:].split(b"\0")[0].decode("ascii", "replace")
    return code, msg


def parse_oack(pkt):
    fields = _strings(pkt[2:]) if len(pkt) > 2 else []
    if len(fields) % 2:
        raise PacketError("odd OACK fields")
    return {fields[i].lower(): fields[i + 1] for i in range(0, len(fields), 2)}


def to_netascii(data):
    """RFC 764 netascii: CR -> CR NUL, LF -> CR LF."""
    return data.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")
