"""CAPF server with fault injection, for the phone's CAPF client tests
(wire-formats section 5).

  python3 -m tcm.capfd --keys KEYS [--cert capf] [--port 0]
                       [--op install|fetch|delete|none] [--auth 0..4]
                       [--password DIGITS] [--device SEP<MAC>]
                       [--key-type rsa|ec] [--key-size 1024|2048] [--curve 0|1]
                       [--fault F] [--slow SECONDS] [--out DIR] [-v]

TLS 1.2 (Python's ssl module) with KEYS/<cert>.crt; a client certificate
is asked for but optional (verified against the CAPF and manufacturing
CAs of KEYS; the one the phone shows is logged). The server speaks first:
auth request {version 3, auth type}. It checks the auth response (device
name, password in mode 1, certificate + signed data + SHA-2 signed data in
modes 3 and 4, verified with the certificate's public key: raw RSA
`00 01 FF..FF 00 || H` without DigestInfo, or ECDSA), then runs the
operation: install (key generate request, waits through `request in
progress`, issues an LSC signed by the CAPF key for the public key the
phone sent, store certificate request), fetch or delete, and ends the
session with reason 1. A wrong password or a bad signature ends the session
with reason 7; an unexpected device name with reason 9.

Faults (--fault):
  end-7          end session reason 7 right after the auth response
  end-9          end session reason 9 (unknown device)
  retry-later    retry later {delay --retry-delay, default 30 s} instead of an operation
  close-mid      close the connection after the key generate response
  garbage        send random bytes instead of the auth request
  oversized      send a header announcing a 65535-byte body, then close
  wrong-key      issue the LSC for another key than the phone's
  stall          complete the TLS handshake, then send nothing
  stall-mid      send nothing after the key generate response
  reset          TCP reset right after the TLS handshake
  reset-mid      TCP reset after the key generate response
  close-in-message  send half of the store certificate request, then close
  bad-der        store certificate request whose certificate is malformed
                 DER (a valid LSC cut in the middle, outer length kept)
--slow S sleeps S seconds before each server message.

Writes OUT/issued.der (the LSC it issued), OUT/fetched.der (what a fetch
returned) when --out is given. Prints "listening on 127.0.0.1:PORT" once
ready, one line per event with -v, "counters: {json}" when stopped.
"""
import argparse
import datetime
import hashlib
import os
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from .out import say
from .serving import (BIND_ADDR, Counters, TlsServer, parse_elements, read_exact,
                      serve_until_signal, server_context, tlv)

PROTOCOL_ID, VERSION = 85, 3
(AUTH_REQ, AUTH_RESP, KEYGEN_REQ, KEYGEN_RESP) = (1, 2, 3, 4)
(STORE_REQ, STORE_RESP, FETCH_REQ, FETCH_RESP, DELETE_REQ, DELETE_RESP) = range(9, 15)
END_SESSION, RETRY_LATER, IN_PROGRESS = 15, 16, 17
(EL_REASON, EL_CERT_TYPE, EL_CERT, EL_SIGNED, EL_VERSION, EL_AUTH, EL_PUBKEY,
 EL_KEY_SIZE, EL_PASSWORD, EL_RETRY, EL_DEVICE, EL_KEY_TYPE, EL_CURVE,
 EL_SHA2_SIGNED) = (1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 17, 18, 20)
MAX_BODY = 8192
FAULTS = ("end-7", "end-9", "retry-later", "close-mid", "garbage", "oversized", "wrong-key",
          "stall", "stall-mid", "reset", "reset-mid", "close-in-message", "bad-der")
OPS = ("install", "fetch", "delete", "none")


def message(cmd, session, *elements):
    body = b"".join(tlv(t, v) for t, v in elements)
    return struct.pack(">BBIH", PROTOCOL_ID, cmd, session, len(body)) + body


def cert_element(cert_type, der):
    return struct.pack(">BHBB", 1, len(der) + 2, 0, cert_type) + der


def parse_cert_element(value):
    if len(value) < 5 or value[0] != 1 or value[3] != 0:
        raise ValueError("malformed certificate element")
    (inner,) = struct.unpack_from(">H", value, 1)
    if inner != len(value) - 3:
        raise ValueError("certificate element length mismatch")
    return value[4], value[5:]


def read_message(conn):
    head = read_exact(conn, 8)
    if head is None:
        return None
    pid, cmd, session, length = struct.unpack(">BBIH", head)
    if pid != PROTOCOL_ID or length > MAX_BODY:
        raise ValueError("bad message header %r" % head)
    body = read_exact(conn, length) if length else b""
    if body is None:
        return None
    return cmd, session, parse_elements(body)


def verify_signed_data(cert, data, sig, sha512):
    """The phone's signed data: raw RSA 00 01 FF..FF 00 || H(data) without
    DigestInfo, or ECDSA over H(data)."""
    h = hashes.SHA512() if sha512 else hashes.SHA1()
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        n, e = key.public_numbers().n, key.public_numbers().e
        k = (n.bit_length() + 7) // 8
        block = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
        digest = hashlib.new("sha512" if sha512 else "sha1", data).digest()
        want = b"\x00\x01" + b"\xff" * (k - 3 - len(digest)) + b"\x00" + digest
        return len(sig) == k and block == want
    try:
        key.verify(sig, data, ec.ECDSA(h))
        return True
    except InvalidSignature:
        return False


class Server(TlsServer):
    def __init__(self, keys, cert="capf", port=0, op="install", auth=2, password=None,
                 device=None, key_type="rsa", key_size=2048, curve=0, fault=None, slow=0.0,
                 out=None, log=None, retry_delay=30):
        self.keys = Path(keys)
        self.capf_cert = x509.load_pem_x509_certificate((self.keys / (cert + ".crt")).read_bytes())
        self.capf_key = serialization.load_pem_private_key(
            (self.keys / (cert + ".key")).read_bytes(), None)
        # TLS 1.2; a client certificate is asked for (optional): the LSC
        # this CAPF issued or the MIC
        self.ctx = server_context(keys, cert, client_cas=(cert, "mfg_ca"))
        if fault is not None and fault not in FAULTS:
            raise ValueError("unknown fault %r" % fault)
        self.op, self.auth, self.password, self.device = op, auth, password, device
        self.key_type, self.key_size, self.curve = key_type, key_size, curve
        self.fault, self.slow, self.log = fault, slow, log
        self.retry_delay = retry_delay
        self.out = Path(out) if out else None
        self.counters = Counters()
        super().__init__(port, 8)

    def _accepted(self, conn, peer):
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw):
        self.counters.add("connections")
        raw.settimeout(30)
        conn = self._handshake(raw)
        if conn is None:
            return
        peer = conn.getpeercert(binary_form=True)
        if peer:
            subject = x509.load_der_x509_certificate(peer).subject.rfc4514_string()
            self._say("client certificate: %s" % subject)
        else:
            self._say("client certificate: none")
        try:
            self._session(conn)
        except (ValueError, OSError, struct.error) as e:
            self.counters.add("errors")
            self._say("session error: %s" % e)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _send(self, conn, data):
        if self.slow:
            time.sleep(self.slow)
        conn.sendall(data)

    def _end(self, conn, sid, reason, why):
        self._say("end session reason %d: %s" % (reason, why))
        self.counters.add("end_%d" % reason)
        self._send(conn, message(END_SESSION, sid, (EL_REASON, bytes([reason]))))

    def _stall(self):
        self._say("fault stall: sending nothing")
        self._stop.wait(60)

    def _reset(self, conn):
        self._say("fault %s: TCP reset" % self.fault)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    def _session(self, conn):
        sid = int.from_bytes(os.urandom(4), "big")
        if self.fault == "stall":
            return self._stall()
        if self.fault == "reset":
            return self._reset(conn)
        if self.fault == "garbage":
            self._send(conn, os.urandom(64))
            return
        if self.fault == "oversized":
            self._send(conn, struct.pack(">BBIH", PROTOCOL_ID, AUTH_REQ, sid, 65535))
            return
        self._send(conn, message(AUTH_REQ, sid, (EL_VERSION, bytes([VERSION])),
                                 (EL_AUTH, bytes([self.auth]))))
        got = read_message(conn)
        if got is None:
            self._say("phone closed before the auth response")
            return
        cmd, psid, el = got
        if cmd != AUTH_RESP or psid != sid:
            raise ValueError("expected auth response with session %08x, got %d/%08x" % (sid, cmd, psid))
        ok, why = self._check_auth(el)
        if not ok:
            self._end(conn, sid, 9 if why.startswith("unknown device") else 7, why)
            return
        self.counters.add("auth_ok")
        if self.fault in ("end-7", "end-9"):
            self._end(conn, sid, int(self.fault[-1]), "fault " + self.fault)
            return
        if self.fault == "retry-later":
            self._say("retry later")
            self._send(conn, message(RETRY_LATER, sid,
                                     (EL_RETRY, struct.pack(">I", self.retry_delay))))
            return
        device = el.get(EL_DEVICE, b"").rstrip(b"\0").decode(errors="replace")
        getattr(self, "_op_" + self.op)(conn, sid, device)

    def _check_auth(self, el):
        device = el.get(EL_DEVICE, b"").rstrip(b"\0").decode(errors="replace")
        password = el.get(EL_PASSWORD, b"").rstrip(b"\0").decode(errors="replace")
        reason = el.get(EL_REASON, b"\x01")[0]
        self._say("auth response: device=%s reason=%d password=%r" % (device, reason, password))
        if reason != 1:
            return False, "phone refused to authenticate (reason %d)" % reason
        if self.device and device != self.device:
            return False, "unknown device %s" % device
        if self.auth == 1 and password != self.password:
            self.counters.add("wrong_password")
            return False, "wrong password %r" % password
        if self.auth in (3, 4):
            return self._check_cert_auth(device, el)
        return True, "ok"

    def _check_cert_auth(self, device, el):
        if EL_CERT not in el or EL_SIGNED not in el or EL_SHA2_SIGNED not in el:
            return False, "certificate authentication without certificate or signatures"
        ctype, der = parse_cert_element(el[EL_CERT])
        kind = {1: "LSC", 2: "MIC"}.get(ctype, "?")
        if self.auth == 4 and ctype != 2:
            return False, "MIC required, got %s" % kind
        cert = x509.load_der_x509_certificate(der)
        data = device.encode() + b"\0" + der
        sha2 = el[EL_SHA2_SIGNED]
        if sha2[0] != 3 or struct.unpack_from(">H", sha2, 1)[0] != len(sha2) - 3:
            return False, "malformed SHA-2 signed data"
        ok1 = verify_signed_data(cert, data, el[EL_SIGNED], False)
        ok2 = verify_signed_data(cert, data, sha2[3:], True)
        self._say("auth certificate %s %s: signed data %s, SHA-2 signed data %s" % (
            kind, cert.subject.rfc4514_string(), "ok" if ok1 else "BAD", "ok" if ok2 else "BAD"))
        if not (ok1 and ok2):
            return False, "bad signed data"
        self.counters.add("auth_cert_" + kind.lower())
        return True, "ok"

    def _issue(self, public_key, device):
        subject_attrs = [a for a in self.capf_cert.subject if a.oid != NameOID.COMMON_NAME]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device)] + subject_attrs)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.capf_cert.subject)
             .public_key(public_key).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=5 * 365))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                            critical=False))
        return b.sign(self.capf_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def _op_none(self, conn, sid, device):
        self._end(conn, sid, 0, "no operation scheduled")

    def _op_install(self, conn, sid, device):
        els = [(EL_KEY_TYPE, bytes([0 if self.key_type == "rsa" else 1]))]
        if self.key_type == "rsa":
            els.append((EL_KEY_SIZE, struct.pack(">H", self.key_size)))
        else:
            els.append((EL_CURVE, bytes([self.curve])))
        self._send(conn, message(KEYGEN_REQ, sid, *els))
        while True:
            got = read_message(conn)
            if got is None:
                self._say("phone closed during key generation")
                return
            cmd, _, el = got
            if cmd == IN_PROGRESS:
                self._say("request in progress")
                self.counters.add("in_progress")
                continue
            break
        if cmd != KEYGEN_RESP or EL_PUBKEY not in el:
            self._say("key generate response refused (command %d, reason %r)" % (
                cmd, el.get(EL_REASON)))
            return
        public_key = serialization.load_der_public_key(el[EL_PUBKEY])
        self._say("key generate response: %s" % type(public_key).__name__)
        if self.fault == "close-mid":
            self._say("fault close-mid: closing")
            conn.shutdown(socket.SHUT_RDWR)
            return
        if self.fault == "stall-mid":
            return self._stall()
        if self.fault == "reset-mid":
            return self._reset(conn)
        if self.fault == "wrong-key":
            public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        der = self._issue(public_key, device)
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "issued.der").write_bytes(der)
        if self.fault == "bad-der":
            # Same outer SEQUENCE header, but the content is cut short.
            der = der[:len(der) // 2]
            self._say("fault bad-der: certificate cut to %d bytes" % len(der))
        store = message(STORE_REQ, sid, (EL_CERT_TYPE, b"\x01"), (EL_CERT, cert_element(1, der)))
        if self.fault == "close-in-message":
            self._say("fault close-in-message: %d of %d bytes, then close"
                      % (len(store) // 2, len(store)))
            self._send(conn, store[:len(store) // 2])
            conn.shutdown(socket.SHUT_RDWR)
            return
        self._send(conn, store)
        got = read_message(conn)
        if got is None or got[0] != STORE_RESP:
            self._say("no store certificate response")
            return
        reason = got[2].get(EL_REASON, b"\xff")[0]
        self._say("store certificate response reason %d" % reason)
        if reason == 1:
            self.counters.add("installed")
            self._end(conn, sid, 1, "LSC installed")
        else:
            self._end(conn, sid, 7, "phone refused the certificate")

    def _op_fetch(self, conn, sid, device):
        self._send(conn, message(FETCH_REQ, sid))
        got = read_message(conn)
        if got is None or got[0] != FETCH_RESP:
            self._say("no fetch certificate response")
            return
        el = got[2]
        reason = el.get(EL_REASON, b"\xff")[0]
        if EL_CERT in el:
            _, der = parse_cert_element(el[EL_CERT])
            cert = x509.load_der_x509_certificate(der)
            self._say("fetched certificate %s md5=%s" % (cert.subject.rfc4514_string(),
                                                           hashlib.md5(der).hexdigest()))
            if self.out:
                self.out.mkdir(parents=True, exist_ok=True)
                (self.out / "fetched.der").write_bytes(der)
            self.counters.add("fetched")
        self._say("fetch certificate response reason %d" % reason)
        self._end(conn, sid, 1, "fetch done")

    def _op_delete(self, conn, sid, device):
        self._send(conn, message(DELETE_REQ, sid))
        got = read_message(conn)
        if got is None or got[0] != DELETE_RESP:
            self._say("no delete certificate response")
            return
        reason = got[2].get(EL_REASON, b"\xff")[0]
        self._say("delete certificate response reason %d" % reason)
        if reason == 1:
            self.counters.add("deleted")
        self._end(conn, sid, 1, "delete done")


def main(argv=None):
    p = argparse.ArgumentParser(prog="tcm.capfd", description=__doc__.splitlines()[0])
    p.add_argument("--keys", required=True)
    p.add_argument("--cert", default="capf")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--op", choices=OPS, default="install")
    p.add_argument("--auth", type=int, choices=range(5), default=2)
    p.add_argument("--password")
    p.add_argument("--device")
    p.add_argument("--key-type", choices=("rsa", "ec"), default="rsa")
    p.add_argument("--key-size", type=int, default=2048)
    p.add_argument("--curve", type=int, default=0)
    p.add_argument("--fault", choices=FAULTS)
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--retry-delay", type=int, default=30)
    p.add_argument("--out")
    p.add_argument("-v", action="store_true")
    a = p.parse_args(argv)

    srv = Server(a.keys, a.cert, a.port, a.op, a.auth, a.password, a.device, a.key_type,
                 a.key_size, a.curve, a.fault, a.slow, a.out, say if a.v else None,
                 a.retry_delay)
    return serve_until_signal(srv, "%s:%d" % (BIND_ADDR, srv.port))


if __name__ == "__main__":
    sys.exit(main())
