"""Trust Verification Service (TVS) server with fault injection, and a tiny
HTTPS server, for the phone's TVS client tests (wire-formats section 4).

  python3 -m tcm.tvsd --keys KEYS [--cert tvs] [--port 0]
                      [--vouch NAME=ROLE[,ROLE...][:TTL]]... [--fault F]
                      [--tls 1.2|1.0] [--ciphers OPENSSL-LIST] [--client-cert] [-v]
  python3 -m tcm.tvsd --keys KEYS --https tomcat [--port 0]

TVS mode: TLS (Python's ssl module, TLS 1.2 by default) with the
certificate KEYS/<cert>.crt; no client certificate is asked for (the
reference server asks none) unless --client-cert: then one is requested
(optional; verified against KEYS/capf.crt, the LSC issuer, and
KEYS/mfg_ca.crt, the MIC issuer) and logged per connection with -v:
`client certificate: SUBJECT md5 HEX` or `client certificate: none`. Each
connection may carry several verify requests. A request's certificate is
looked up in the table given by --vouch (PKI identity names of KEYS, e.g.
`--vouch callmanager_regen=0,2 --vouch tomcat=7:60`): known certificates
get status 0, their roles and the TTL (no TTL element when none is given,
so the phone applies its default); unknown ones get status 1 (invalid).

Faults (--fault, applied to every connection):
  stall          read the request, never answer
  stall-accept   accept TCP, never start TLS
  no-tls         accept TCP and close at once
  reset          read the request, then reset the connection (RST)
  garbage        answer with random bytes
  oversized      answer with a header announcing a 65535-byte body
  close-mid      send half of the answer, then close
  wrong-session  answer with another session id
  invalid        answer status 1 for every certificate

HTTPS mode: serves KEYS/<name>.crt and answers any request with
`HTTP/1.1 200 OK` and a short body.

Prints "listening on 127.0.0.1:PORT" once ready, one line per request with
-v, and "counters: {json}" when stopped (SIGTERM/SIGINT).
"""
import argparse
import hashlib
import os
import socket
import ssl
import struct
import sys
import threading
import time
from pathlib import Path

from .out import say
from .serving import (BIND_ADDR, Counters, TlsServer, parse_elements, read_exact,
                      serve_until_signal, server_context, tlv)

PROTOCOL_ID, VERSION = 87, 1
VERIFY_REQUEST, VERIFY_RESPONSE = 1, 2
TAG_DEVICE, TAG_CERT, TAG_STATUS, TAG_ROLES, TAG_TTL = 1, 2, 7, 8, 9
MAX_BODY = 65535
FAULTS = ("stall", "stall-accept", "no-tls", "reset", "garbage", "oversized",
          "close-mid", "wrong-session", "invalid")
COUNTERS = ("connections", "handshakes", "handshake_failures", "requests", "vouched",
            "unknown", "faults", "https_requests", "client_certs", "no_client_cert")


def encode_message(command, session, body):
    return struct.pack(">BBBBIH", PROTOCOL_ID, VERSION, command, 0, session, len(body)) + body


def encode_request(session, device, cert_der):
    """A verify request as the phone sends it (for tests of this server)."""
    body = tlv(TAG_DEVICE, b"\x01" + device.encode()) + tlv(TAG_CERT, cert_der)
    return encode_message(VERIFY_REQUEST, session, body)


def encode_response(session, status, roles=(), ttl=None):
    body = tlv(TAG_STATUS, bytes([status]))
    if status == 0:
        body += tlv(TAG_ROLES, bytes(roles))
        if ttl is not None:
            body += tlv(TAG_TTL, struct.pack(">I", ttl))
    return encode_message(VERIFY_RESPONSE, session, body)


def parse_vouch(text):
    """NAME=ROLE[,ROLE...][:TTL] -> (name, roles, ttl)."""
    name, _, rest = text.partition("=")
    roles, _, ttl = rest.partition(":")
    return name, [int(r) for r in roles.split(",") if r != ""], int(ttl) if ttl else None


def describe_client_cert(conn):
    """`SUBJECT md5 HEX` of the client certificate, or `none`."""
    der = conn.getpeercert(binary_form=True)
    if not der:
        return "none"
    from cryptography import x509
    subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    return "%s md5 %s" % (subject, hashlib.md5(der).hexdigest())


class Server(TlsServer):
    """TVS (or HTTPS) server on 127.0.0.1, one thread per connection."""

    def __init__(self, keys, cert="tvs", port=0, vouch=(), fault=None, tls="1.2",
                 ciphers=None, https=False, log=None, client_cert=False):
        self.keys = Path(keys)
        self.client_cert = client_cert
        # asked for, optional: the phone's LSC (capf issues it) or MIC (mfg_ca)
        self.ctx = server_context(keys, cert, tls, ciphers,
                                  ("capf", "mfg_ca") if client_cert else ())
        self.table = {}
        for name, roles, ttl in vouch:
            der = ssl.PEM_cert_to_DER_cert((self.keys / (name + ".crt")).read_text())
            self.table[hashlib.sha256(der).digest()] = (name, roles, ttl)
        if fault is not None and fault not in FAULTS:
            raise ValueError("unknown fault %r" % fault)
        self.fault, self.https, self.log = fault, https, log
        self.counters = Counters(COUNTERS)
        self._conns = []
        self._workers = []
        super().__init__(port, 16)

    def stop(self):
        super().stop()
        # Let connections in progress finish (stalled ones wake on _stop)
        # so that the counters are complete.
        deadline = time.monotonic() + 3
        for w in list(self._workers):
            w.join(max(0.0, deadline - time.monotonic()))
        for c in list(self._conns):
            try:
                c.close()
            except OSError:
                pass

    def _accepted(self, conn, peer):
        self.counters.add("connections")
        self._conns.append(conn)
        w = threading.Thread(target=self._serve, args=(conn, peer), daemon=True)
        self._workers.append(w)
        w.start()

    def _serve(self, raw, peer):
        try:
            raw.settimeout(30)
            if self.fault == "no-tls":
                self.counters.add("faults")
                raw.close()
                return
            if self.fault == "stall-accept":
                self.counters.add("faults")
                self._stop.wait(30)
                raw.close()
                return
            conn = self._handshake(raw, " from %s:%d" % (peer[0], peer[1]))
            if conn is None:
                return
            self._conns.append(conn)
            self._say("TLS %s %s from %s:%d" % (conn.version(), conn.cipher()[0], *peer))
            if self.client_cert:
                who = describe_client_cert(conn)
                self.counters.add("client_certs" if who != "none" else "no_client_cert")
                self._say("client certificate: " + who)
            if self.https:
                self._serve_https(conn)
            else:
                self._serve_tvs(conn)
        except OSError:
            pass
        finally:
            try:
                raw.close()
            except OSError:
                pass

    # -- HTTPS --
    def _serve_https(self, conn):
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 16384:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        self.counters.add("https_requests")
        self._say("https request %r" % data.split(b"\r\n", 1)[0].decode(errors="replace"))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                     b"Connection: close\r\n\r\nok\n")
        conn.close()

    # -- TVS --
    def _serve_tvs(self, conn):
        while True:
            head = read_exact(conn, 10)
            if head is None:
                return
            pid, ver, cmd, _, session, length = struct.unpack(">BBBBIH", head)
            body = read_exact(conn, length)
            if body is None or pid != PROTOCOL_ID or ver != VERSION or cmd != VERIFY_REQUEST:
                self._say("bad request header %s" % head.hex())
                return
            self.counters.add("requests")
            elements = parse_elements(body)
            device = elements.get(TAG_DEVICE, b"")
            cert = elements.get(TAG_CERT, b"")
            known = self.table.get(hashlib.sha256(cert).digest())
            self._say("tvs request session=%08x device=%s cert=%s known=%s" % (
                session, device[1:].decode(errors="replace") if device[:1] == b"\x01"
                else "(no 0x01 prefix) " + device.hex(),
                hashlib.sha256(cert).hexdigest()[:16], known[0] if known else "no"))
            if self._answer(conn, session, known) is False:
                return

    def _answer(self, conn, session, known):
        if self.fault in (None, "invalid", "wrong-session"):
            status = 0 if known and self.fault != "invalid" else 1
            self.counters.add("vouched" if status == 0 else "unknown")
            if self.fault == "wrong-session":
                self.counters.add("faults")
                session = (session + 1) & 0xFFFFFFFF
            roles, ttl = (known[1], known[2]) if known else ((), None)
            conn.sendall(encode_response(session, status, roles, ttl))
            return True
        self.counters.add("faults")
        if self.fault == "stall":
            self._stop.wait(30)
            return False
        if self.fault == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return False
        if self.fault == "garbage":
            conn.sendall(os.urandom(64))
            return True
        if self.fault == "oversized":
            conn.sendall(struct.pack(">BBBBIH", PROTOCOL_ID, VERSION, VERIFY_RESPONSE, 0,
                                     session, MAX_BODY) + b"\0" * 64)
            self._stop.wait(5)
            return False
        if self.fault == "close-mid":
            msg = encode_response(session, 0, known[1] if known else (2,), None)
            conn.sendall(msg[:len(msg) // 2])
            conn.close()
            return False
        return False


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m tcm.tvsd", description=__doc__.split("\n")[0])
    p.add_argument("--keys", required=True, help="cluster PKI directory (tcm.pki)")
    p.add_argument("--cert", default="tvs", help="identity the server presents")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--vouch", action="append", default=[], metavar="NAME=ROLES[:TTL]")
    p.add_argument("--fault", choices=FAULTS)
    p.add_argument("--tls", choices=("1.2", "1.0"), default="1.2")
    p.add_argument("--ciphers", help="OpenSSL cipher list, e.g. AES256-SHA")
    p.add_argument("--https", metavar="NAME", help="HTTPS server presenting NAME instead")
    p.add_argument("--client-cert", action="store_true",
                   help="ask for a client certificate (optional) and log it")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)

    srv = Server(a.keys, cert=a.https or a.cert, port=a.port,
                 vouch=[parse_vouch(v) for v in a.vouch], fault=a.fault, tls=a.tls,
                 ciphers=a.ciphers, https=bool(a.https), log=say if a.verbose else None,
                 client_cert=a.client_cert)
    return serve_until_signal(srv, "%s:%d" % (BIND_ADDR, srv.port))


if __name__ == "__main__":
    sys.exit(main())
