"""Builders for the files a CUCM TFTP server hands a phone.

Byte layouts follow ../shared/spec/wire-formats.md and the interop vectors
(checked by test_files.py):

header  = 1 version, 2 header length, [28 signer version (.tlv)],
          3 {4 signer name, 6 issuer name, 5 serial},
          7 {8 hash, 9 {10 algorithm, 11 modulus index}}, 12 signature,
          14 filename, 15 timestamp, [.enc.sgn: 16 {17 {18, 19 IV, 20 pad},
          21 {22, 23 key bits, 24, 25 wrapped key}}, 26, 27 digest],
          0x0D padding to a multiple of 4
records = 1 record length, 3 subject, 5 issuer, 6 serial, 4 role,
          7 public key, 8 certificate signature, 9 certificate DER
          (or 11 certificate hash + 12 hash algorithm instead of 9)

The signature is RSASSA-PKCS1-v1_5 over the whole file with the signature
TLV cut out; the header length counts the signature TLV.
"""
import hashlib
import os
import struct
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# Record roles ("function").
SAST, CCM, CCM_TFTP, TFTP, CAPF, APP_SERVER, TVS = 0, 1, 2, 3, 4, 7, 21
ROLE_NAMES = {SAST: "SAST", CCM: "CCM", CCM_TFTP: "CCM+TFTP", TFTP: "TFTP",
              CAPF: "CAPF", APP_SERVER: "APP-SERVER", TVS: "TVS"}

# Hash algorithm numbers of tags 8, 12 (record) and 26.
HASH_IDS = {"sha1": 1, "sha256": 2, "sha512": 3}
HASH_NAMES = {v: k for k, v in HASH_IDS.items()}
_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512}

VERSION_TLV = (1, 2)
VERSION_SGN = (1, 0)
VERSION_ENC = (2, 0)
PAD_BYTE = 0x0D
AES_BLOCK = 16


def tlv(tag, value):
    """One element: u8 tag, u16 length, value. Containers are TLVs whose
    value is their children, so they are built the same way."""
    if len(value) > 0xFFFF:
        raise ValueError("TLV value too long: %d" % len(value))
    return struct.pack(">BH", tag, len(value)) + value


def u8(n):
    return struct.pack(">B", n)


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def cstr(s):
    return s.encode() + b"\0"


def modulus_index(sig_len):
    """Tag 11: 0,1,2,3 for a 64,128,256,512-byte signature."""
    table = {64: 0, 128: 1, 256: 2, 512: 3}
    if sig_len not in table:
        raise ValueError("unsupported RSA signature length %d" % sig_len)
    return table[sig_len]


def hash_of(name, data):
    return hashlib.new(name, data).digest()


# --- signed-file framing ----------------------------------------------------

def _signer_info(signer):
    return tlv(3, tlv(4, cstr(signer.subject)) + tlv(6, cstr(signer.issuer))
               + tlv(5, signer.serial_bytes))


def _signature_info(hash_name, sig_len):
    return tlv(7, tlv(8, u8(HASH_IDS[hash_name]))
               + tlv(9, tlv(10, u8(0)) + tlv(11, u8(modulus_index(sig_len)))))


def _assemble(version, signer, hash_name, filename, timestamp, extra,
              signer_version, signature):
    """Header bytes with the given signature value, and the offset of the
    signature TLV."""
    before = []
    if signer_version is not None:
        before.append(tlv(28, bytes(signer_version)))
    before.append(_signer_info(signer))
    before.append(_signature_info(hash_name, len(signature)))
    after = tlv(14, cstr(filename)) + tlv(15, u32(timestamp)) + extra
    fixed = 5 + 5 + sum(len(b) for b in before) + 3 + len(signature) + len(after)
    pad = (-fixed) % 4
    head = tlv(1, bytes(version)) + tlv(2, u16(fixed + pad)) + b"".join(before)
    return head + tlv(12, signature) + after + bytes([PAD_BYTE]) * pad, len(head)


def sign_file(version, signer, hash_name, filename, body, extra=b"",
              signer_version=None, timestamp=None):
    """Header + body, signed by signer (a pki.Identity)."""
    if timestamp is None:
        timestamp = int(time.time())
    sig_len = signer.key_bits // 8
    header, off = _assemble(version, signer, hash_name, filename, timestamp,
                            extra, signer_version, bytes(sig_len))
    unsigned = header[:off] + header[off + 3 + sig_len:] + body
    signature = sign_bytes(signer.key, hash_name, unsigned)
    return header[:off] + tlv(12, signature) + header[off + 3 + sig_len:] + body


def sign_bytes(key, hash_name, data):
    return key.sign(data, padding.PKCS1v15(), _HASHES[hash_name]())


def find_signature(data):
    """Offset and length of the signature TLV (tag 12), found by walking the
    header from the start without trusting the header-length field."""
    off = 0
    while off + 3 <= len(data):
        tag = data[off]
        if tag == PAD_BYTE:
            off += 1
            continue
        length = struct.unpack_from(">H", data, off + 1)[0]
        if tag == 12:
            return off, length
        off += 3 if tag in (3, 7, 9, 16, 17, 21) else 3 + length
    raise ValueError("no signature TLV")


def unsigned_bytes(data):
    """The bytes the signature covers: the file with the signature TLV cut."""
    off, length = find_signature(data)
    return data[:off] + data[off + 3 + length:]


def resign(data, key, hash_name):
    """Re-signs (possibly tampered) file bytes in place: the signature is
    valid again, so only structural checks can reject the file."""
    off, length = find_signature(data)
    signature = sign_bytes(key, hash_name, unsigned_bytes(data))
    if len(signature) != length:
        raise ValueError("key size differs from the file's signature length")
    return data[:off + 3] + signature + data[off + 3 + length:]


# --- trust lists ------------------------------------------------------------

def public_key_bytes(cert):
    """Tag 7: PKCS#1 RSAPublicKey DER, or the uncompressed EC point."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.PKCS1)


def record(ident, role, hash_only=None, dns_name=None, ip=None):
    """One trust-list record for a pki.Identity.

    hash_only: 'sha1'/'sha256'/'sha512' to carry the certificate hash
    (tags 11, 12) instead of the certificate (tag 9), as CUCM does for TVS.
    """
    fields = b""
    if dns_name is not None:
        fields += tlv(2, cstr(dns_name))
    fields += (tlv(3, cstr(ident.subject)) + tlv(5, cstr(ident.issuer))
               + tlv(6, ident.serial_bytes) + tlv(4, u16(role))
               + tlv(7, public_key_bytes(ident.cert))
               + tlv(8, ident.cert.signature))
    if hash_only is None:
        fields += tlv(9, ident.der)
    else:
        fields += tlv(11, hash_of(hash_only, ident.der)) + tlv(12, u8(HASH_IDS[hash_only]))
    if ip is not None:
        fields += tlv(10, ip)
    return tlv(1, u16(5 + len(fields))) + fields


def trust_list(signer, records, filename, hash_name="sha1", timestamp=None,
               signer_version=(1, 0)):
    """A CTL or ITL .tlv: header version 1.2 then the records."""
    return sign_file(VERSION_TLV, signer, hash_name, filename, b"".join(records),
                     signer_version=signer_version, timestamp=timestamp)


def ctl_records(cluster, sast=("sast1", "sast2"), ccm="callmanager", capf="capf",
                tvs="tvs"):
    """Record set of the interop CTL: SAST x2, CCM+TFTP, CAPF, TVS."""
    recs = [record(cluster[s], SAST) for s in sast]
    recs.append(record(cluster[ccm], CCM_TFTP))
    recs.append(record(cluster[capf], CAPF))
    recs.append(record(cluster[tvs], TVS))
    return recs


def itl_records(cluster, signer="callmanager", tvs="tvs", capf="capf",
                tvs_hash_only=None):
    """Record set of the interop ITL: SAST and CCM+TFTP for the CallManager
    certificate, then TVS and CAPF."""
    return [record(cluster[signer], SAST), record(cluster[signer], CCM_TFTP),
            record(cluster[tvs], TVS, hash_only=tvs_hash_only),
            record(cluster[capf], CAPF)]


def build_ctl(cluster, hash_name="sha1", signer="sast1", filename="CTLFile.tlv",
              records=None, timestamp=None):
    if records is None:
        records = ctl_records(cluster)
    return trust_list(cluster[signer], records, filename, hash_name, timestamp)


def build_itl(cluster, hash_name="sha1", signer="callmanager", tvs="tvs",
              filename="ITLFile.tlv", tvs_hash_only=None, records=None,
              timestamp=None):
    if records is None:
        records = itl_records(cluster, signer, tvs, tvs_hash_only=tvs_hash_only)
    return trust_list(cluster[signer], records, filename, hash_name, timestamp)


def build_rollback_itl(cluster, hash_name="sha1", signer="callmanager",
                       filename="ITLFile.tlv", timestamp=None):
    """"Prepare Cluster for Rollback": only the signer's own SAST record."""
    return trust_list(cluster[signer], [record(cluster[signer], SAST)], filename,
                      hash_name, timestamp)


# --- signed and encrypted configs -------------------------------------------

def build_sgn(signer, body, filename, hash_name="sha1", timestamp=None):
    """Signed file (.sgn), header version 1.0; filename is the signed name,
    e.g. SEP001E7A4C11A1.cnf.xml.sgn."""
    return sign_file(VERSION_SGN, signer, hash_name, filename, body,
                     timestamp=timestamp)


def pad_count(length):
    """N = 16 - (len mod 16): 1..16 bytes of 0x0D."""
    return AES_BLOCK - length % AES_BLOCK


def encryption_info(iv, pad, key_bits, wrapped, digest_name, digest):
    return (tlv(16, tlv(17, tlv(18, u8(0)) + tlv(19, iv) + tlv(20, u16(pad)))
                + tlv(21, tlv(22, u8(0)) + tlv(23, u16(key_bits)) + tlv(24, u8(1))
                      + tlv(25, wrapped)))
            + tlv(26, u8(HASH_IDS[digest_name])) + tlv(27, digest))


def build_enc_sgn(signer, plaintext, filename, device_cert, hash_name="sha1",
                  digest_name=None, aes_key=None, iv=None, timestamp=None):
    """Encrypted config (.enc.sgn, header version 2.0).

    The AES-128 key is wrapped (RSAES-PKCS1-v1_5) under device_cert (the
    phone's LSC or MIC, an x509.Certificate); the digest (tag 27) is over
    the unpadded plaintext, with digest_name defaulting to hash_name.
    """
    digest_name = digest_name or hash_name
    aes_key = aes_key or os.urandom(16)
    iv = iv or os.urandom(16)
    pad = pad_count(len(plaintext))
    enc = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    body = enc.update(plaintext + bytes([PAD_BYTE]) * pad) + enc.finalize()
    device_key = device_cert.public_key()
    wrapped = device_key.encrypt(aes_key, padding.PKCS1v15())
    extra = encryption_info(iv, pad, device_key.key_size, wrapped, digest_name,
                            hash_of(digest_name, plaintext))
    return sign_file(VERSION_ENC, signer, hash_name, filename, body, extra=extra,
                     timestamp=timestamp)


# --- config XML --------------------------------------------------------------

def cert_hash(cert_der):
    """certHash: lowercase hex MD5 of the device certificate DER."""
    return hashlib.md5(cert_der).hexdigest()


def _members(items, render):
    return "".join(render(i, item) for i, item in enumerate(items))


def _cm_member(i, cm):
    host, sip, secure = cm
    return ('        <member priority="%d">\n'
            '          <callManager>\n'
            '            <ports>\n'
            '              <sipPort>%d</sipPort>\n'
            '              <securedSipPort>%d</securedSipPort>\n'
            '            </ports>\n'
            '            <processNodeName>%s</processNodeName>\n'
            '          </callManager>\n'
            '        </member>\n' % (i, sip, secure, host))


def _tvs_member(i, tvs):
    address, port = tvs
    return ('      <member priority="%d">\n'
            '        <port>%d</port>\n'
            '        <address>%s</address>\n'
            '      </member>\n' % (i, port, address))


def _capf_list(capfs):
    return "".join('    <capf>\n'
                   '      <phonePort>%d</phonePort>\n'
                   '      <processNodeName>%s</processNodeName>\n'
                   '    </capf>\n' % (port, host) for host, port in capfs)


def _bool(v):
    return "true" if v else "false"


DEFAULT_CONFIG = {
    "call_managers": [("127.0.0.11", 5060, 5061), ("127.0.0.12", 5060, 5061),
                      ("127.0.0.13", 5060, 5061)],
    "tvs": [("127.0.0.1", 22445)],
    "capf": [("127.0.0.1", 23804)],
    "capf_auth_mode": 1,
    "cert_hash": "",
    "encr_config": False,
    "full_config": True,
    "load_information": "sip8845_65.14-1-1MN-366",
    "ntp": "127.0.0.1",
    "line": "1001",
    "label": "Reception Desk",
    "auth_password": "Zk4rT9wq",
    "device_security_mode": 3,
    "transport": 3,
    "version_stamp": "7f3e2a10-5b2c-4d9e-9a41-0c6f2b1d8e55",
}

_CONFIG_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<device>
  <fullConfig>{full_config}</fullConfig>
  <deviceProtocol>SIP</deviceProtocol>
  <ipAddressMode>0</ipAddressMode>
  <allowAutoConfig>true</allowAutoConfig>
  <dadEnable>true</dadEnable>
  <redirectEnable>false</redirectEnable>
  <echoMultiEnable>false</echoMultiEnable>
  <ipPreferenceModeControl>0</ipPreferenceModeControl>
  <ipMediaAddressFamilyPreference>0</ipMediaAddressFamilyPreference>
  <devicePool>
    <dateTimeSetting>
      <dateTemplate>D/M/YA</dateTemplate>
      <timeZone>New Zealand Standard/Daylight Time</timeZone>
      <ntps>
        <ntp>
          <name>{ntp}</name>
          <ntpMode>unicast</ntpMode>
        </ntp>
      </ntps>
    </dateTimeSetting>
    <callManagerGroup>
      <members>
{cm_members}      </members>
    </callManagerGroup>
  </devicePool>
{tvs_block}  <sipProfile>
    <sipProxies>
      <registerWithProxy>true</registerWithProxy>
    </sipProxies>
    <sipCallFeatures>
      <callForwardURI>x-cisco-serviceuri-cfwdall</callForwardURI>
      <callPickupURI>x-cisco-serviceuri-pickup</callPickupURI>
      <callPickupListURI>x-cisco-serviceuri-opickup</callPickupListURI>
      <callPickupGroupURI>x-cisco-serviceuri-gpickup</callPickupGroupURI>
      <meetMeServiceURI>x-cisco-serviceuri-meetme</meetMeServiceURI>
      <abbreviatedDialURI>x-cisco-serviceuri-abbrdial</abbreviatedDialURI>
    </sipCallFeatures>
    <sipStack>
      <sipInviteRetx>6</sipInviteRetx>
      <sipRetx>10</sipRetx>
      <timerRegisterExpires>3600</timerRegisterExpires>
      <timerT1>500</timerT1>
      <timerT2>4000</timerT2>
      <maxRedirects>70</maxRedirects>
      <remotePartyID>true</remotePartyID>
      <userInfo>Phone</userInfo>
    </sipStack>
    <dtmfAvtPayload>101</dtmfAvtPayload>
    <dtmfOutofBand>avt</dtmfOutofBand>
    <phoneLabel>{label}</phoneLabel>
    <startMediaPort>16384</startMediaPort>
    <stopMediaPort>32766</stopMediaPort>
    <sipLines>
      <line button="1" lineIndex="1">
        <featureID>9</featureID>
        <featureLabel>{line}</featureLabel>
        <proxy>USECALLMANAGER</proxy>
        <port>5061</port>
        <name>{line}</name>
        <displayName>{label}</displayName>
        <callWaiting>1</callWaiting>
        <authName>{line}</authName>
        <authPassword>{auth_password}</authPassword>
        <contact>{line}</contact>
        <sharedLine>false</sharedLine>
        <messagesNumber>*97</messagesNumber>
      </line>
    </sipLines>
    <voipControlPort>5061</voipControlPort>
    <dialTemplate>DialTemplate.xml</dialTemplate>
    <softKeyFile>SoftKeys.xml</softKeyFile>
  </sipProfile>
  <commonProfile>
    <phonePassword></phonePassword>
    <backgroundImageAccess>true</backgroundImageAccess>
    <callLogBlfEnabled>2</callLogBlfEnabled>
  </commonProfile>
  <loadInformation>{load_information}</loadInformation>
  <vendorConfig>
    <webAccess>1</webAccess>
    <sshAccess>0</sshAccess>
    <tls12Only>1</tls12Only>
  </vendorConfig>
  <versionStamp>{version_stamp}</versionStamp>
  <userLocale>
    <name>English_United_States</name>
    <uid>1</uid>
    <langCode>en_US</langCode>
    <version>1.0.0.0-1</version>
    <winCharSet>utf-8</winCharSet>
  </userLocale>
  <networkLocale>United_States</networkLocale>
  <networkLocaleInfo>
    <name>United_States</name>
    <version>1.0.0.0-1</version>
  </networkLocaleInfo>
  <deviceSecurityMode>{device_security_mode}</deviceSecurityMode>
  <transportLayerProtocol>{transport}</transportLayerProtocol>
  <TLSResumptionTimer>3600</TLSResumptionTimer>
  <capfAuthMode>{capf_auth_mode}</capfAuthMode>
  <capfList>
{capf_list}  </capfList>
  <certHash>{cert_hash}</certHash>
  <encrConfig>{encr_config}</encrConfig>
  <userId></userId>
  <ownerId></ownerId>
</device>
"""


def build_config(**overrides):
    """Full SEP<MAC>.cnf.xml. Parameters (see DEFAULT_CONFIG): call_managers
    [(host, sipPort, securedSipPort)], tvs [(address, port)] (empty: no
    <TVS> block, the phone falls back to the call managers), capf
    [(host, port)], capf_auth_mode, cert_hash, encr_config, full_config,
    load_information, ntp, line, label, auth_password, ..."""
    p = dict(DEFAULT_CONFIG)
    unknown = set(overrides) - set(p)
    if unknown:
        raise TypeError("unknown config parameters: %s" % sorted(unknown))
    p.update(overrides)
    tvs_block = ""
    if p["tvs"]:
        tvs_block = ("  <TVS>\n    <members>\n%s    </members>\n  </TVS>\n"
                     % _members(p["tvs"], _tvs_member))
    fields = dict(p, full_config=_bool(p["full_config"]),
                  encr_config=_bool(p["encr_config"]),
                  cm_members=_members(p["call_managers"], _cm_member),
                  tvs_block=tvs_block, capf_list=_capf_list(p["capf"]))
    return _CONFIG_TEMPLATE.format(**fields).encode()


def build_partial_config(cert_hash_hex, capf=None, capf_auth_mode=1,
                         load_information=None, ip_address_mode=0):
    """Partial config served as SEP<MAC>.cnf.xml.sgn next to the .enc.sgn:
    fullConfig false, encrConfig true, certHash of the device certificate
    the server encrypted to ('' when it knows none)."""
    capf = DEFAULT_CONFIG["capf"] if capf is None else capf
    load = load_information or DEFAULT_CONFIG["load_information"]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<device>\n'
            '  <fullConfig>false</fullConfig>\n'
            '  <ipAddressMode>%d</ipAddressMode>\n'
            '  <loadInformation>%s</loadInformation>\n'
            '  <capfAuthMode>%d</capfAuthMode>\n'
            '  <capfList>\n%s  </capfList>\n'
            '  <certHash>%s</certHash>\n'
            '  <encrConfig>true</encrConfig>\n'
            '</device>\n' % (ip_address_mode, load, capf_auth_mode,
                             _capf_list(capf), cert_hash_hex)).encode()


def config_name(mac):
    return "SEP%s.cnf.xml" % mac.upper()
