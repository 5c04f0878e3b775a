#!/usr/bin/python3
"""The bench table of the Cortex-M3 image (issue 10), printed by
`cmake --build --preset qemu-mps2-an385 --target bench`
(tests/bench/CMakeLists.txt); described in docs/performance.md.

One run collects three sources and prints ONE table:
  1. secd-bench.elf under `qemu-system-arm -icount shift=0,sleep=off`
     (deterministic: 1 guest instruction = 1 ns of virtual time): the
     verifications, the encrypted config, TFTP and the wolfSSL primitives;
  2. the footprint per module of secd-firmware.elf from its map file
     (toolchain/footprint.py);
  3. the phone's measurement runs under QEMU against the test call manager
     (pytest on the figure tests of tests/qemu: tcm TFTP, TVS and CAPF
     servers on loopback, lwIP in the guest). They need the network to
     answer, so they run at `-icount shift=3` with sleep (8 ns per
     instruction): busy instructions are virtual time minus the time the
     guest slept waiting for packets. `--no-scenarios` skips them.
Only the standard library (and pytest for part 3) is used."""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import footprint  # noqa: E402

FLASH_TARGET_KIB = 320
RAM_TARGET_KIB = 96


def run_bench_elf(qemu, elf):
    cmd = [qemu, "-M", "mps2-an385", "-cpu", "cortex-m3", "-nographic", "-monitor", "none",
           "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
           "-icount", "shift=0,sleep=off", "-kernel", str(elf)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                       check=False)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError("secd-bench.elf failed (exit %d):\n%s" % (p.returncode, out))
    return out


def parse_bench(out):
    """kinsn figures of secd-bench.elf by name."""
    f = {}
    for name, kind in (("CTLFile", "ctl"), ("ITLFile", "itl"), ("SEP...cnf.xml.sgn", "cnf")):
        m = re.search(r"BENCH: verify %s.*?(\d+) B +(\d+) kinsn  crypto floor +(\d+) kinsn"
                      % re.escape(name), out)
        f[kind] = (int(m[1]), int(m[2]), int(m[3]))
    f["rsa_pub"] = int(re.search(r"RSA-2048 public operation: (\d+) kinsn", out)[1])
    m = re.search(r"verify \.enc\.sgn .*? (\d+) B +(\d+) kinsn", out)
    f["enc_verify"] = (int(m[1]), int(m[2]))
    m = re.search(r"unwrap AES key .*? (\d+) kinsn  crypto floor +(\d+) kinsn", out)
    f["enc_unwrap"], f["rsa_priv"] = int(m[1]), int(m[2])
    m = re.search(r"AES-128-CBC \+ SHA-1 \+ padding +(\d+) B +(\d+) kinsn", out)
    f["enc_aes"] = (int(m[1]), int(m[2]))
    f["enc_total"] = int(re.search(r"verify \+ decrypt interop enc-mic-sha1: (\d+) kinsn", out)[1])
    for bs in (512, 1428):
        m = re.search(r"blksize +%d: +(\d+) datagrams +(\d+)\.(\d+) kinsn = (\d+)\.(\d+) kinsn/KiB"
                      % bs, out)
        f["tftp%d" % bs] = (int(m[1]), int(m[2]) * 1000 + int(m[3]), int(m[4]) * 1000 + int(m[5]))
    m = re.search(r"memcpy of 64 KiB: (\d+)\.(\d+) kinsn", out)
    f["memcpy"] = int(m[1]) * 1000 + int(m[2])
    for key, pat in (("sha256_969", r"SHA-256 of 969 bytes"), ("p256_gen", r"P-256 key generation"),
                     ("p256_gen2", r"P-256 key generation, second key"),
                     ("p256_dh", r"P-256 ECDH shared secret"), ("p256_sign", r"P-256 ECDSA sign"),
                     ("p384_gen", r"P-384 key generation \(generic math\)")):
        f[key] = int(re.search(r"primitive %s: (\d+) kinsn" % pat, out)[1])
    return f


def run_scenarios(source, qemu, elf, workdir):
    """The figure tests of tests/qemu in one pytest session; their
    `[figure]` lines."""
    tests = source / "tests" / "qemu"
    env = dict(os.environ, SECD_QEMU_ELF=str(elf), QEMU_SYSTEM_ARM=qemu,
               SECD_TCM_DIR=str(source / "tests" / "tcm"), PYTHONDONTWRITEBYTECODE="1")
    for tool in ("size", "nm"):
        env.setdefault("SECD_ARM_" + tool.upper(), "arm-none-eabi-" + tool)
    cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
           "--basetemp", str(workdir),
           str(tests / "test_phone.py") + "::test_figures",
           str(tests / "test_phone_tls.py") + "::test_figures_tls",
           str(tests / "test_phone_tls.py") + "::test_pregen_in_slices_console_answers",
           str(tests / "test_phone_enc.py")
           + "::test_encrypted_config_same_ram_peak_at_download_limit",
           str(tests / "test_main_job.py")]
    p = subprocess.run(cmd, cwd=str(tests), env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=1800, check=False)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError("measurement runs failed (pytest exit %d):\n%s"
                           % (p.returncode, out[-4000:]))
    return out


def parse_scenarios(out):
    s = {}

    def grab(key, pat, conv=float):
        m = re.search(r"\[figure\] " + pat, out, re.M)
        if m:
            s[key] = tuple(conv(g) for g in m.groups())

    grab("https_miss", r"HTTPS decision, cache miss.*?: ([\d.]+) M instructions.*?elapsed "
                       r"([\d.]+) ms virtual")
    grab("https_hit", r"HTTPS decision, cache hit: ([\d.]+) M instructions.*?one trace line "
                      r"(\d+).*?certificate \((\d+)\)")
    grab("capf_pre", r"CAPF key generate request -> response, RSA-2048 pre-generated: ([\d.]+) us")
    grab("pregen", r"RSA-2048 pre-generation in slices: longest slice ([\d.]+) M instructions; "
                   r"whole generation ([\d.]+) G instructions in (\d+) slices")
    grab("capf_ec", r"CAPF key generate request -> response, EC P-256 generated in the session: "
                    r"([\d.]+) us")
    grab("capf_ram", r"CAPF TLS session: heap high-water (\d+) bytes, stack peak (\d+) bytes "
                     r"\(static data\+bss (\d+) bytes\)", int)
    grab("boot_ram", r"heap high-water (\d+) bytes, stack peak (\d+) bytes$", int)
    grab("main_ram", r"RAM of the main job's first run .*?: heap high-water (\d+) bytes, "
                     r"stack peak (\d+) bytes, whole run", int)
    grab("static", r"static RAM \(data\+bss\): (\d+) bytes", int)
    grab("ctl_ms", r"virtual time first CTL request -> signed config verified: ([\d.]+) ms "
                   r"\(-icount shift=3; the real phone")
    m = re.findall(r"\[figure\] (.+?): \.enc\.sgn (\d+) bytes \(plaintext \d+\): heap high-water "
                   r"(\d+) \+ stack peak (\d+)", out)
    s["enc_ram"] = [(name, int(size), int(heap), int(stack)) for name, size, heap, stack in m]
    m = re.findall(r"\[figure\] (.+?): virtual time download done -> verified \+ decrypted \+ "
                   r"parsed: ([\d.]+) ms = ([\d.]+) M instructions", out)
    s["enc_time"] = [(name, float(ms), float(mi)) for name, ms, mi in m]
    return s


def kib(n):
    return "%.1f KiB" % (n / 1024.0)


def verdict(value, target, unit=""):
    if value <= target:
        return "met"
    over = value - target
    return "**missed by %.0f %%** (%s%s over)" % ((value / target - 1) * 100,
                                                  "%.1f" % over if isinstance(over, float)
                                                  else over, unit)


def ratio(a, b):
    return "%.2f" % (a / b) if b else ""


def table(b, fp, sc, sc_error):
    rows = []

    def add(what, value, prim="", rat="", target="", status=""):
        rows.append((what, value, prim, rat, target, status))

    # --- boot-file verification (shift=0, kinsn) ---
    names = {"ctl": "verify CTLFile.tlv (first use)", "itl": "verify ITLFile.tlv (against the CTL)",
             "cnf": "verify SEP….cnf.xml.sgn (CTL + ITL)"}
    floors = 0
    for k in ("ctl", "itl", "cnf"):
        size, v, fl = b[k]
        floors += fl
        add("%s, %d B" % (names[k], size), "%d kinsn" % v, "RSA-2048 verify + hash: %d kinsn" % fl,
            ratio(v, fl))
    three = b["ctl"][1] + b["itl"][1] + b["cnf"][1]
    add("**CTL + ITL + signed config**", "**%d kinsn**" % three, "%d kinsn" % floors,
        ratio(three, floors), "≤ 6000 kinsn", verdict(three, 6000, " kinsn"))
    # --- HTTPS via TVS (shift=3 busy instructions) ---
    ecdhe = b["p256_gen2"] + b["p256_dh"]
    if "https_miss" in sc:
        m, ms = sc["https_miss"]
        prim = ecdhe + b["rsa_pub"]
        add("HTTPS decision via TVS, cache miss (TLS 1.2 handshake ECDHE-RSA + TVS request)",
            "%.2f M" % m, "P-256 keygen + ECDH + RSA-2048 verify: %.2f M" % (prim / 1e3),
            ratio(m * 1e3, prim), "≤ 10 M", verdict(m, 10.0, " M"))
    if "https_hit" in sc:
        h, line, sha = sc["https_hit"]
        add("HTTPS decision, cache hit (CTL, ITL, cache; 8 trace lines)", "%.3f M" % h,
            "trace line %d insn; SHA-256 of the cert %.0f k (in the handshake; primitive %d k)"
            % (line, sha / 1e3, b["sha256_969"]), "", "≤ 0.05 M", verdict(h, 0.05, " M"))
    # --- CAPF ---
    if "capf_pre" in sc:
        (us,) = sc["capf_pre"]
        add("CAPF key generate request → response, RSA-2048 pre-generated", "%.2f M" % (us / 8e3),
            "", "", "≤ 2 M", verdict(us / 8e3, 2.0, " M"))
    if "pregen" in sc:
        longest, whole, slices = sc["pregen"]
        add("CAPF RSA-2048 key pre-generation while idle, in slices: longest slice",
            "%.1f M" % longest, "one Miller-Rabin round (one 1024-bit modexp)", "", "bounded slice")
        add("CAPF RSA-2048 key pre-generation while idle: whole key (random prime search)",
            "%.2f G in %d slices" % (whole, slices), "", "", "", "varies run to run")
    if "capf_ec" in sc:
        (us,) = sc["capf_ec"]
        add("CAPF key generate request → response, EC P-256 generated in the session",
            "%.2f M" % (us / 8e3), "P-256 key generation: %.2f M" % (b["p256_gen2"] / 1e3),
            ratio(us / 8, b["p256_gen2"]))
    add("EC P-384 key generation (CAPF key type; generic math)", "%.1f M" % (b["p384_gen"] / 1e3))
    # --- encrypted config ---
    add("verify .enc.sgn (5744 B, streamed in 512 B)", "%d kinsn" % b["enc_verify"][1],
        "RSA-2048 verify: %d kinsn" % b["rsa_pub"], ratio(b["enc_verify"][1], b["rsa_pub"]))
    add("unwrap the AES key (RSA-2048 private op)", "%d kinsn" % b["enc_unwrap"],
        "RSA-2048 private: %d kinsn" % b["rsa_priv"], ratio(b["enc_unwrap"], b["rsa_priv"]))
    add("AES-128-CBC + SHA-1 + padding (%d B)" % b["enc_aes"][0], "%d kinsn" % b["enc_aes"][1])
    efl = b["rsa_priv"] + b["rsa_pub"]
    add("**.enc.sgn verify + decrypt (interop enc-mic-sha1)**", "**%d kinsn**" % b["enc_total"],
        "RSA private + public: %d kinsn" % efl, ratio(b["enc_total"], efl), "≤ 45000 kinsn",
        verdict(b["enc_total"], 45000, " kinsn"))
    # --- TFTP ---
    for bs in (512, 1428):
        grams, insn, per = b["tftp%d" % bs]
        add("TFTP receive 64 KiB, blksize %d (%d datagrams, tftpc)" % (bs, grams),
            "%.3f kinsn/KiB" % (per / 1e3), "memcpy: %.3f kinsn/KiB" % (b["memcpy"] / 64e3),
            ratio(insn, b["memcpy"]))
    # --- comparisons with the real phone ---
    if "ctl_ms" in sc:
        (ms,) = sc["ctl_ms"]
        add("first CTL request → signed config verified (virtual, shift=3, with network)",
            "%.1f ms" % ms, "", "", "real phone 1,095 ms", "%.0fx faster" % (1095 / ms))
    if "https_miss" in sc:
        add("TVS HTTPS decision, cache miss (virtual, shift=3, with network)",
            "%.1f ms" % sc["https_miss"][1], "", "", "real phone 455 ms",
            "%.0fx faster" % (455 / sc["https_miss"][1]))
    for name, ms, mi in sc.get("enc_time", []):
        add("encrypted config on the phone (%s): download done → verified + decrypted + parsed"
            % name,
            "%.1f M" % mi, "", "", "", "")
    # --- footprint ---
    mods = fp.modules
    groups = [("ours (secd, tftpc, httpc, firmware, hal, board)",
               [m for m in footprint.OURS if m in mods]),
              ("wolfSSL", ["wolfSSL"]), ("lwIP", ["lwIP"]), ("expat", ["expat"]),
              ("libc/libgcc (newlib-nano)", ["libc/libgcc"]), ("fill/linker", [footprint.FILL])]
    for label, ms in groups:
        t = footprint.total(mods[m] for m in ms if m in mods)
        add("footprint %s: flash / static RAM" % label,
            "%s / %s" % (kib(t["text"] + t["data"]), kib(t["data"] + t["bss"])))
    t = footprint.total(mods.values())
    flash, static = t["text"] + t["data"], t["data"] + t["bss"]
    add("**flash (text + data)**", "**%s** (%d B)" % (kib(flash), flash), "", "",
        "≤ %d KiB" % FLASH_TARGET_KIB, verdict(flash / 1024.0, float(FLASH_TARGET_KIB), " KiB"))
    add("static RAM (data + bss; heap and stack reserved apart)", "%s (%d B)" % (kib(static), static))
    peaks = []
    if "boot_ram" in sc:
        heap, stack = sc["boot_ram"]
        peaks.append(("boot scenario", heap, stack))
    if "capf_ram" in sc:
        heap, stack, _ = sc["capf_ram"]
        peaks.append(("CAPF TLS session", heap, stack))
    for name, size, heap, stack in sc.get("enc_ram", []):
        peaks.append(("encrypted config (%s)" % name, heap, stack))
    if "main_ram" in sc:
        heap, stack = sc["main_ram"]
        peaks.append(("main job (CAPF generating RSA-2048 in the session)", heap, stack))
    for name, heap, stack in peaks:
        add("heap high-water / stack peak: %s" % name, "%d B / %d B" % (heap, stack))
    if peaks:
        worst = max(peaks, key=lambda p: p[1] + p[2])
        peak = static + worst[1] + worst[2]
        add("**RAM peak (static + heap + stack)** (worst: %s)" % worst[0],
            "**%s** (%d B)" % (kib(peak), peak), "", "", "≤ %d KiB" % RAM_TARGET_KIB,
            verdict(peak / 1024.0, float(RAM_TARGET_KIB), " KiB"))
    if sc_error:
        add("scenario figures (TVS, CAPF, RAM peak, real-phone comparisons)", "not measured",
            "", "", "", sc_error)

    head = ("figure", "measured", "wolfSSL primitive (same run)", "ratio", "target / peer",
            "status")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--bench-elf", required=True, type=Path)
    ap.add_argument("--firmware-elf", required=True, type=Path)
    ap.add_argument("--map", required=True, type=Path)
    ap.add_argument("--source-dir", required=True, type=Path)
    ap.add_argument("--workdir", required=True, type=Path)
    ap.add_argument("--no-scenarios", action="store_true",
                    help="skip the phone's measurement runs (TVS, CAPF, RAM peak)")
    ap.add_argument("--raw", action="store_true", help="also print the raw outputs")
    args = ap.parse_args(argv)
    for a in ("bench_elf", "firmware_elf", "map", "source_dir", "workdir"):
        setattr(args, a, getattr(args, a).resolve())  # the runs change directory

    bench_out = run_bench_elf(args.qemu, args.bench_elf)
    b = parse_bench(bench_out)
    with open(args.map, encoding="utf-8", errors="replace") as f:
        fp = footprint.parse(f)
    sc, sc_error = {}, ""
    if args.no_scenarios:
        sc_error = "skipped (--no-scenarios)"
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        try:
            scen_out = run_scenarios(args.source_dir, args.qemu, args.firmware_elf, args.workdir)
            sc = parse_scenarios(scen_out)
            if args.raw:
                sys.stdout.write(scen_out)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            sc_error = "failed: see above"
            sys.stderr.write("bench: %s\n" % e)
    if args.raw:
        sys.stdout.write(bench_out)
    sys.stdout.write("\nsecd bench: Cortex-M3 image (%s); kinsn = 1000 guest instructions at "
                     "-icount shift=0,sleep=off (deterministic); M / G = guest instructions "
                     "busy at -icount shift=3 (virtual time minus time asleep, 8 ns each)\n\n"
                     % args.firmware_elf.name)
    sys.stdout.write(table(b, fp, sc, sc_error))
    sys.stdout.write("\nFootprint per module and largest objects:\n")
    footprint.report(fp, 0, sys.stdout)
    return 1 if sc_error.startswith("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
