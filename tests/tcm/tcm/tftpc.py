"""Minimal TFTP read client, for the server's tests and for debugging
(`python3 -m tcm get`). Counts what it saw so tests can assert that the
server's faults really reached the wire."""
import socket
import time
from dataclasses import dataclass, field

from . import tftp


class TftpError(Exception):
    def __init__(self, code, message, result=None):
        super().__init__("TFTP error %d: %s" % (code, message))
        self.code, self.message, self.result = code, message, result


class TftpTimeout(Exception):
    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


@dataclass
class Result:
    data: bytes = b""
    oack: dict = None         # options the server acknowledged (None: no OACK)
    blksize: int = tftp.DEFAULT_BLKSIZE
    blocks: int = 0
    duplicates: int = 0       # DATA for the block just received again
    stale: int = 0            # DATA for an older block (reordered / late)
    retransmits: int = 0      # our RRQ/ACK resent after a timeout
    elapsed: float = 0.0
    server_tid: int = None
    packets: list = field(default_factory=list)  # (opcode, block) as received

    @property
    def tsize(self):
        return int(self.oack["tsize"]) if self.oack and "tsize" in self.oack else None


def get(port, filename, host="127.0.0.1", options=None, mode="octet",
        timeout=1.0, retries=5):
    """Downloads filename; raises TftpError on an ERROR packet and
    TftpTimeout when the server falls silent."""
    r = Result()
    start = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        _transfer(sock, (host, port), filename, options or {}, mode, timeout, retries, r)
    finally:
        sock.close()
        r.elapsed = time.monotonic() - start
    return r


def _transfer(sock, server, filename, options, mode, timeout, retries, r):
    last = tftp.make_request(tftp.RRQ, filename, mode, options)
    sock.sendto(last, server)
    peer, expected, tries = None, 1, 0
    while True:
        sock.settimeout(timeout)
        try:
            pkt, addr = sock.recvfrom(65536)
        except socket.timeout:
            tries += 1
            if tries > retries:
                raise TftpTimeout("no answer after %d tries (block %d)" % (tries, expected), r)
            r.retransmits += 1
            sock.sendto(last, peer or server)
            continue
        if peer is None:
            peer, r.server_tid = addr, addr[1]
        elif addr != peer:
            sock.sendto(tftp.make_error(tftp.E_UNKNOWN_TID, "Unknown transfer ID"), addr)
            continue
        op = tftp.opcode_of(pkt)
        r.packets.append((op, tftp.block_of(pkt) if op in (tftp.DATA, tftp.ACK) else None))
        if op == tftp.ERROR:
            raise TftpError(*tftp.parse_error(pkt), result=r)
        if op == tftp.OACK and expected == 1 and not r.blocks:
            r.oack = tftp.parse_oack(pkt)
            r.blksize = int(r.oack.get("blksize", tftp.DEFAULT_BLKSIZE))
            last = tftp.make_ack(0)
            sock.sendto(last, peer)
            tries = 0
            continue
        if op != tftp.DATA:
            continue
        block = tftp.block_of(pkt)
        if block == expected & 0xFFFF:
            r.data += pkt[4:]
            r.blocks += 1
            last = tftp.make_ack(block)
            sock.sendto(last, peer)
            tries = 0
            if len(pkt) - 4 < r.blksize:
                return
            expected += 1
        elif block == (expected - 1) & 0xFFFF:
            r.duplicates += 1
            sock.sendto(tftp.make_ack(block), peer)
        else:
            r.stale += 1
