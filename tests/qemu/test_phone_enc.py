"""Encrypted config (B6) on the Cortex-M phone under QEMU, for its factory
MIC: an interop-sized config (~5 KB) and one padded to the 550001-byte
download limit are both verified, decrypted and parsed, with the same RAM
peak (issue 7: downloads stream through the signature hash into flash
staging, and are read back, decrypted and parsed piece by piece).

Each config is booted by its own fresh phone (own flash.bin, MIC
provisioned into the factory region, same trust lists installed on first
use), so the two RAM peaks cover the same work but for the config's size."""
import re

from phone_qemu import MAC, SGN, Qemu, provision_mic
from tcm import files  # on sys.path through conftest.py

ENC = "SEP%s.cnf.xml.enc.sgn" % MAC
LIMIT = 550001          # the phone's per-download limit (B1), config.h CONFIG_MAX_BYTES
PEAK_MARGIN = 2048      # bytes the big config's heap + stack peak may exceed the small one's
COMMENT_BODY = 1000     # bytes per padding comment: expat buffers one token at a time
VERIFIED = r"^verifyFile: verify SUCCESS <%s>$" % re.escape(ENC)
DECRYPTED = r"^encrypted config decrypted and verified \((\d+) bytes\)$"


def enc_sgn(cluster, plaintext):
    return files.build_enc_sgn(cluster["callmanager"], plaintext, ENC, cluster["mic"].cert)


def padded_config(cluster, small):
    """build_config() grown with XML comments before </device> so that its
    .enc.sgn is the largest that fits the download limit: the body is a
    multiple of 16 (1..16 bytes of 0x0D padding), the header a constant."""
    header = len(enc_sgn(cluster, small)) - (len(small) + files.pad_count(len(small)))
    target = (LIMIT - header) // 16 * 16 - 1  # one padding byte
    head, tail = small.rsplit(b"</device>", 1)
    need = target - len(small)
    comments = []
    while need > 0:
        body = min(COMMENT_BODY, need - len(b"<!--  -->\n"))
        comment = b"<!-- " + b"p" * max(body, 0) + b" -->\n"
        if len(comment) > need:  # a remainder too short for a comment: spaces
            comment = b" " * need
        comments.append(comment)
        need -= len(comment)
    big = head + b"".join(comments) + b"</device>" + tail
    assert len(big) == target, (len(big), target)
    return big


def serve_encrypted(tree, cluster, plaintext):
    """The partial config naming the MIC (certHash matches) and the config
    encrypted for it; returns the .enc.sgn's size."""
    partial = files.build_partial_config(cluster["mic"].md5)
    tree.put(SGN, files.build_sgn(cluster["callmanager"], partial, SGN))
    data = enc_sgn(cluster, plaintext)
    tree.put(ENC, data)
    return len(data)


def boot_encrypted(phone, server, keys):
    provision_mic(phone.flash, (keys / "mic.pem").read_text())
    run = phone.boot(server, timeout=240)
    assert run.rc == 0, run.out
    run.expect(r"^partial config: encrConfig true, certHash [0-9a-f]{32}$")
    run.expect(VERIFIED)
    return run


def figures(run, name, size, plain_len):
    """Prints and returns (heap + stack peak, verify+decrypt virtual ms)."""
    _, stack, heap = run.exit_line()
    # From the end of the download (the signature hash ran as it arrived)
    # to the decrypted, parsed config: the RSA signature check, the key
    # unwrap and the read-back + AES-CBC + digest + expat pass. Pure
    # computation, so its virtual time counts instructions (8 ns each).
    done = r"^\[\d+\]:Finished --> rcvd %d bytes$" % size
    ms = run.virtual_ms(done, DECRYPTED)
    verify_ms = run.virtual_ms(done, VERIFIED)
    print("[figure] %s: .enc.sgn %d bytes (plaintext %d): heap high-water %d + stack peak %d "
          "= %d bytes" % (name, size, plain_len, heap, stack, heap + stack))
    print("[figure] %s: config parser arena peak %d of %d bytes" % ((name,) + run.arena_peak()))
    print("[figure] %s: virtual time download done -> verified + decrypted + parsed: %.1f ms "
          "= %.1f M instructions (-icount shift=3); of which signature check %.1f ms, key "
          "unwrap + read-back + AES-CBC + digest + expat %.1f ms"
          % (name, ms, ms * 1e3 / 8e3, verify_ms, ms - verify_ms))
    return heap + stack, ms


def test_encrypted_config_same_ram_peak_at_download_limit(elf, phone, server, tree, tcm,
                                                          cluster, keys, tmp_path):
    small = files.build_config()
    small_size = serve_encrypted(tree, cluster, small)
    run = boot_encrypted(phone, server, keys)
    assert int(run.expect(DECRYPTED)[1]) == len(small) + files.pad_count(len(small))
    small_peak, _ = figures(run, "~5 KB config", small_size, len(small))

    big = padded_config(cluster, small)
    big_size = serve_encrypted(tree, cluster, big)
    assert LIMIT - 16 < big_size <= LIMIT, big_size
    big_phone = Qemu(phone.qemu, elf, tmp_path / "big-phone")
    big_run = boot_encrypted(big_phone, server, keys)
    assert int(big_run.expect(DECRYPTED)[1]) == len(big) + files.pad_count(len(big))
    big_peak, _ = figures(big_run, "550001-byte limit config", big_size, len(big))
    # The padding comments are ignored: the same settings as the small one.
    for r in (run, big_run):
        r.expect(r"^boot complete: config accepted", module="SECD")
        assert not r.errors(), r.out

    print("[figure] RAM peak (heap + stack) difference big - small: %+d bytes (limit %d)"
          % (big_peak - small_peak, PEAK_MARGIN))
    assert big_peak <= small_peak + PEAK_MARGIN, "RAM peak grows with the config's size"
