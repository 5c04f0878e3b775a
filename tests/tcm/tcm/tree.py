"""Writes a whole TFTP tree for one phone, plus an attack set.

Layout of OUT:
  keys/       cluster PKI (pki.py); keys/mic.pem is the phone's --mic file
  tftp/       what the TFTP server serves (serve with --root OUT/tftp)
  attack/     one directory per attack, holding the file under the name the
              phone asks for (serve e.g. --root OUT/attack/attacker-itl or
              copy it over tftp/)
  expected/   plaintext the .enc.sgn must decrypt to
  manifest.json  every file with the verdict a phone must reach, the trust
              state it assumes and the interop vector it corresponds to
"""
import json
import shutil
import struct
from pathlib import Path

from . import files, parse, pki

OK = "ok"


def _flip(data, offset, mask=0x01):
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)


def _set_u16(data, offset, value):
    return data[:offset] + struct.pack(">H", value) + data[offset + 2:]


def _element(data, tag):
    return next(e for e in parse.parse(data).elements if e.tag == tag)


class TreeBuilder:
    def __init__(self, out, cluster, hash_name="sha1", encrypt=None, config=None,
                 keys=None):
        self.out = Path(out)
        self.keys = Path(keys) if keys else self.out / "keys"
        self.c = cluster
        self.hash = hash_name
        self.encrypt = encrypt
        self.config = dict(config or {})
        self.entries = []
        self.mac = cluster.mac
        self.cnf = files.config_name(self.mac)

    # -- helpers --
    def _write(self, rel, data):
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return rel

    def _entry(self, name, rel, expected, serve_as, trust_itl=None, trust_ctl=None,
               op="verify", key=None, interop=None, interop_trust_itl=None,
               interop_trust_ctl=None, interop_key=None, plaintext=None):
        self.entries.append({
            "name": name, "path": rel, "serve_as": serve_as, "op": op,
            "expected": expected, "trust_itl": trust_itl, "trust_ctl": trust_ctl,
            "key": key, "plaintext": plaintext, "interop": interop,
            "interop_trust_itl": interop_trust_itl,
            "interop_trust_ctl": interop_trust_ctl, "interop_key": interop_key})

    def _attack(self, name, serve_as, data, expected, interop, **kw):
        rel = self._write("attack/%s/%s" % (name, serve_as), data)
        kw.setdefault("trust_itl", "tftp/ITLFile.tlv")
        kw.setdefault("interop_trust_itl", "tlv/sha1/ITLFile.tlv")
        self._entry(name, rel, expected, serve_as, interop=interop, **kw)

    # -- the served tree --
    def build_tftp(self):
        c, h = self.c, self.hash
        ctl = files.build_ctl(c, h)
        itl = files.build_itl(c, h)
        ih = "sha512" if h == "sha512" else "sha1"
        for generic, per_phone, data in (("CTLFile.tlv", "CTLSEP%s.tlv", ctl),
                                         ("ITLFile.tlv", "ITLSEP%s.tlv", itl)):
            for served in (generic, per_phone % self.mac):
                rel = self._write("tftp/" + served, data)
                self._entry("good-" + served, rel, OK, served,
                            interop="tlv/%s/%s" % (ih, served.replace(self.mac, "001E7A4C11A1")))
        self.itl, self.ctl = itl, ctl
        full = files.build_config(**self.config)
        self.full_config = full
        other = files.config_name(c.other_mac)
        self._write("tftp/" + other + ".sgn",
                    files.build_sgn(c["callmanager"], full, other + ".sgn", h))
        if self.encrypt:
            self._build_encrypted(full)
        else:
            self._write("tftp/" + self.cnf, full)
            rel = self._write("tftp/%s.sgn" % self.cnf,
                              files.build_sgn(c["callmanager"], full, self.cnf + ".sgn", h))
            self._entry("good-sgn", rel, OK, self.cnf + ".sgn",
                        trust_itl="tftp/ITLFile.tlv",
                        interop="cnf/%s/SEP001E7A4C11A1.cnf.xml.sgn" % ih,
                        interop_trust_itl="tlv/sha1/ITLFile.tlv")

    def _key_path(self, ident):
        """Combined key+cert PEM, relative to OUT when it lies inside."""
        path = self.keys.resolve() / (ident.name + ".pem")
        try:
            return str(path.relative_to(self.out.resolve()))
        except ValueError:
            return str(path)

    def _device(self):
        return self.c["lsc" if self.encrypt == "lsc" else "mic"]

    def _build_encrypted(self, _full):
        c, h, dev = self.c, self.hash, self._device()
        ih = "sha512" if h == "sha512" else "sha1"
        full = files.build_config(**dict(self.config, cert_hash=dev.md5, encr_config=True))
        self.plaintext = full
        self._write("expected/" + self.cnf, full)
        partial = files.build_partial_config(
            dev.md5, capf=self.config.get("capf"),
            capf_auth_mode=self.config.get("capf_auth_mode", 1),
            load_information=self.config.get("load_information"))
        rel = self._write("tftp/%s.sgn" % self.cnf,
                          files.build_sgn(c["callmanager"], partial, self.cnf + ".sgn", h))
        self._entry("good-partial-sgn", rel, OK, self.cnf + ".sgn",
                    trust_itl="tftp/ITLFile.tlv",
                    interop="cnf/enc-%s-%s/SEP001E7A4C11A1.cnf.xml.sgn" % (self.encrypt, ih),
                    interop_trust_itl="tlv/sha1/ITLFile.tlv")
        enc = files.build_enc_sgn(c["callmanager"], full, self.cnf + ".enc.sgn", dev.cert, h)
        self.enc = enc
        rel = self._write("tftp/%s.enc.sgn" % self.cnf, enc)
        self._entry("good-enc-sgn", rel, OK, self.cnf + ".enc.sgn", op="decrypt",
                    trust_itl="tftp/ITLFile.tlv", key=self._key_path(dev),
                    plaintext="expected/" + self.cnf,
                    interop="cnf/enc-%s-%s/SEP001E7A4C11A1.cnf.xml.enc.sgn" % (self.encrypt, ih),
                    interop_trust_itl="tlv/sha1/ITLFile.tlv",
                    interop_key="keys/%s.pem" % dev.name)

    # -- the attack set --
    def build_attacks(self):
        self._trust_list_attacks()
        self._config_attacks()
        self._structure_attacks()
        if self.encrypt:
            self._encryption_attacks()

    def _trust_list_attacks(self):
        c, h, itl = self.c, self.hash, "ITLFile.tlv"
        self._attack("attacker-itl", itl,
                     files.build_itl(c, h, signer="attacker"),
                     "reject:signer_not_trusted", "tlv/attacker/ITLFile.tlv")
        spoof = files.itl_records(c, signer="attacker_spoof_cm")
        self._attack("attacker-spoof-itl", itl,
                     files.build_itl(c, h, signer="attacker_spoof_cm", records=spoof),
                     "reject:signature_invalid", "tlv/attacker-spoof/ITLFile.tlv")
        self._attack("regen-callmanager-itl", itl,
                     files.build_itl(c, h, signer="callmanager_regen"),
                     "reject:signer_not_trusted", "tlv/regen-callmanager/ITLFile.tlv")
        self._attack("regen-tvs-itl", itl, files.build_itl(c, h, tvs="tvs_regen"),
                     OK, "tlv/regen-tvs/ITLFile.tlv")
        self._attack("rollback-itl", itl, files.build_rollback_itl(c, h),
                     OK, "tlv/rollback/ITLFile.tlv")
        self._attack("empty-itl", itl,
                     files.trust_list(c["callmanager"], [], itl, h),
                     "reject:no_records", "tlv/empty-crafted/ITLFile.tlv")

    def _config_attacks(self):
        c, h, name = self.c, self.hash, self.cnf + ".sgn"
        body = self.full_config
        good = files.build_sgn(c["callmanager"], body, name, h)
        self._attack("cnf-attacker-signed", name, files.build_sgn(c["attacker"], body, name, h),
                     "reject:signer_not_trusted", "bad/cnf-attacker-signed/" + _ref(name))
        self._attack("cnf-attacker-spoof-signed", name,
                     files.build_sgn(c["attacker_spoof_cm"], body, name, h),
                     "reject:signature_invalid", "bad/cnf-attacker-spoof-signed/" + _ref(name))
        other = files.config_name(c.other_mac) + ".sgn"
        self._attack("cnf-other-mac", name, files.build_sgn(c["callmanager"], body, other, h),
                     "reject:filename_mismatch", "bad/cnf-other-mac-renamed/" + _ref(name))
        sig = _element(good, 12)
        self._attack("cnf-sig-flip", name, _flip(good, sig.offset + 3 + sig.length // 2),
                     "reject:signature_invalid", "bad/cnf-sig-byte-flip/" + _ref(name))
        load = good.index(b"<loadInformation>") + len(b"<loadInformation>")
        self._attack("cnf-body-flip", name, _flip(good, load),
                     "reject:signature_invalid", "bad/cnf-body-byte-flip/" + _ref(name))
        self._attack("cnf-regen-callmanager", name,
                     files.build_sgn(c["callmanager_regen"], body, name, h),
                     "reject:signer_not_trusted",
                     "cnf/regen-callmanager/SEP001E7A4C11A1.cnf.xml.sgn")

    def _structure_attacks(self):
        key, h, itl = self.c["callmanager"].key, self.hash, self.itl
        f = parse.parse(itl)
        r1 = f.records[1]
        self._attack("itl-trunc-mid-record", "ITLFile.tlv",
                     itl[:r1.offset + r1.length // 2], "reject:truncated",
                     "bad/itl-trunc-mid-record/ITLFile.tlv")
        self._attack("itl-header-length-gt-file-resigned", "ITLFile.tlv",
                     files.resign(_set_u16(itl, 8, len(itl) + 4), key, h),
                     "reject:header_length_exceeds_file",
                     "bad/itl-header-length-gt-file-resigned/ITLFile.tlv")
        self._attack("itl-header-length-byte-flip-resigned", "ITLFile.tlv",
                     files.resign(_set_u16(itl, 8, f.header_length + 4), key, h),
                     "reject:malformed",
                     "bad/itl-header-length-byte-flip-resigned/ITLFile.tlv")
        last = f.records[-1]
        self._attack("itl-record-length-overrun-resigned", "ITLFile.tlv",
                     files.resign(_set_u16(itl, last.offset + 3, last.length + 16), key, h),
                     "reject:record_length_overrun",
                     "bad/itl-record-length-overrun-resigned/ITLFile.tlv")

    def _encryption_attacks(self):
        c, h, name = self.c, self.hash, self.cnf + ".enc.sgn"
        key = c["callmanager"].key
        dev = self._device()
        # The interop bad/enc-* vectors are all encrypted for the MIC.
        kw = dict(op="decrypt", key=self._key_path(dev), interop_key="keys/mic.pem")
        wrong = files.build_enc_sgn(c["callmanager"], self.plaintext, name,
                                    c["mic_other"].cert, h)
        self._attack("enc-wrong-device", name, wrong, "reject:key_unwrap_failed",
                     "bad/enc-wrong-device/" + _ref(name), **kw)
        pad = _element(self.enc, 20)
        self._attack("enc-pad-len-zero-resigned", name,
                     files.resign(_set_u16(self.enc, pad.offset + 3, 0), key, h),
                     "reject:padding_length_invalid",
                     "bad/enc-pad-len-zero-resigned/" + _ref(name), **kw)
        digest = _element(self.enc, 27)
        self._attack("enc-digest-flip-resigned", name,
                     files.resign(_flip(self.enc, digest.offset + 3), key, h),
                     "reject:plaintext_digest_mismatch",
                     "bad/enc-digest-byte-flip-resigned/" + _ref(name), **kw)
        wrapped = _element(self.enc, 25)
        self._attack("enc-wrapped-key-flip-resigned", name,
                     files.resign(_flip(self.enc, wrapped.offset + 3 + wrapped.length // 2),
                                  key, h),
                     "reject:key_unwrap_failed",
                     "bad/enc-wrapped-key-byte-flip-resigned/" + _ref(name), **kw)

    def write_manifest(self):
        manifest = {"mac": self.mac, "model": self.c.model, "hash": self.hash,
                    "encrypt": self.encrypt, "files": self.entries}
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        return manifest


def _ref(name):
    """Interop vectors are for SEP001E7A4C11A1."""
    return "SEP001E7A4C11A1" + name[name.index(".cnf"):]


def build(out, mac=pki.DEFAULT_MAC, model=pki.DEFAULT_MODEL, hash_name="sha1",
          encrypt=None, attack=True, keys=None, config=None, clean=True):
    """Builds OUT (see module doc); returns the manifest dict."""
    out = Path(out)
    keys = Path(keys) if keys else out / "keys"
    cluster = pki.generate(keys, mac=mac, model=model)
    for sub in ("tftp", "attack", "expected"):
        if clean and (out / sub).exists():
            shutil.rmtree(out / sub)
    b = TreeBuilder(out, cluster, hash_name, encrypt, config, keys)
    b.build_tftp()
    if attack:
        b.build_attacks()
    return b.write_manifest()
