#!/usr/bin/python3
"""Flash and static RAM of a Cortex-M image per module, from its GNU ld map
file (-Wl,-Map): every input section is attributed to a module by the
archive or object it comes from.

    footprint.py build/qemu-mps2-an385/boards/qemu-mps2-an385/secd-firmware.map
    footprint.py --objects 5 MAP    # also the 5 largest objects per module

flash = text + data (initialised data is stored in flash and copied to RAM
at reset), static RAM = data + bss. The heap and the stack are reserved by
the linker script, not by a module: they are printed apart. Run by the
`bench` target of the qemu-mps2-an385 preset (tests/bench/CMakeLists.txt);
described in docs/performance.md. Only the standard library is used."""
import argparse
import re
import sys
from collections import defaultdict

# Module of an input file, by archive name (or object path): first match
# wins. Libraries of ours map to the source directory they are built from.
MODULES = [
    ("secd", r"(^|/)libsecd\.a$"),
    ("tftpc", r"(^|/)libtftpc\.a$"),
    ("httpc", r"(^|/)libhttpc\.a$"),
    ("firmware", r"(^|/)lib(firmware_core|trace)\.a$"),
    ("hal", r"(^|/)lib(hal_common|wolfssl_glue)\.a$"),
    # boards/qemu-mps2-an385: board library, the phone's main loop and
    # drivers, startup.c, and the lwIP port of config/lwip (our glue).
    ("board", r"(^|/)lib(board|phone|lwip_port)\.a$|(^|/)boards/.*\.o(bj)?$"),
    ("bench", r"(^|/)tests/bench/.*\.o(bj)?$"),
    ("wolfSSL", r"(^|/)libwolfssl\.a$"),
    ("lwIP", r"(^|/)liblwip\.a$"),
    ("expat", r"(^|/)libexpat\.a$"),
    ("libc/libgcc", r"(^|/)lib(c|c_nano|g|g_nano|gcc|m|nosys|rdimon)\.a$|(^|/)crt\w*\.o$"),
]
OURS = ("secd", "tftpc", "httpc", "firmware", "hal", "board", "bench")
FILL = "fill/linker"

DATA_SECTIONS = (".data", ".igot.plt", ".got", ".tdata")
BSS_SECTIONS = (".bss", ".tbss")
RESERVED_SECTIONS = (".heap", ".stack")
NOT_LOADED = (".debug", ".comment", ".ARM.attributes", ".stab", ".note", ".gnu.attributes")

HEX = r"0x[0-9a-fA-F]+"
OUTPUT_RE = re.compile(r"^(\.\S+)(?:\s+(%s)\s+(%s))?" % (HEX, HEX))
INPUT_RE = re.compile(r"^ (\S+)(?:\s+(%s)\s+(%s)\s+(.+))?$" % (HEX, HEX))
CONT_RE = re.compile(r"^\s+(%s)\s+(%s)\s+(\S.*)$" % (HEX, HEX))
FILL_RE = re.compile(r"^ \*fill\*\s+(%s)\s+(%s)" % (HEX, HEX))
RESERVE_RE = re.compile(r"^\s+%s\s+(__stack_size|__heap_size) = (%s)" % (HEX, HEX))


def module_of(path):
    """The module an input file belongs to; its archive/object path when
    no rule matches (shown as is, never dropped)."""
    archive = re.sub(r"\(.*\)$", "", path.strip())
    for name, pattern in MODULES:
        if re.search(pattern, archive):
            return name
    return "other: " + archive


def object_of(path):
    """`libwolfssl.a(rsa.c.obj)` -> `rsa.c.obj`; a loose object: its name."""
    m = re.search(r"\(([^)]*)\)$", path.strip())
    return m.group(1) if m else path.strip().rsplit("/", 1)[-1]


def kind_of(section):
    """text, data or bss for an allocated output section; None otherwise."""
    if section.startswith(NOT_LOADED):
        return None
    if section in RESERVED_SECTIONS:
        return "reserved"
    if section in DATA_SECTIONS:
        return "data"
    if section in BSS_SECTIONS:
        return "bss"
    return "text"


class Footprint:
    def __init__(self):
        self.modules = defaultdict(lambda: {"text": 0, "data": 0, "bss": 0})
        # module -> object -> {text, data, bss}
        self.objects = defaultdict(lambda: defaultdict(lambda: {"text": 0, "data": 0, "bss": 0}))
        self.outputs = {}       # output section -> size from its header
        self.reserved = {}      # __heap_size, __stack_size, .heap ...

        self.entries = defaultdict(list)  # output section -> [(address, size, path)]

    def add(self, section, address, size, path):
        if size:
            self.entries[section].append((address, size, path))

    def attribute(self):
        """Counts each byte of an output section once. Merged string
        sections (.rodata.*.str1.*) are listed with their size before
        merging and overlap: shared bytes go to the first object."""
        for section, entries in self.entries.items():
            kind = kind_of(section)
            if kind not in ("text", "data", "bss"):
                continue
            covered = 0
            for address, size, path in sorted(entries, key=lambda e: e[0]):
                own = address + size - max(address, covered)
                covered = max(covered, address + size)
                if own <= 0:
                    continue
                module = module_of(path) if path else FILL
                self.modules[module][kind] += own
                self.objects[module][object_of(path) if path else "*fill*"][kind] += own


def parse(lines):
    """Walks the "Linker script and memory map" part of the map."""
    fp = Footprint()
    in_map = False
    section = None
    pending = None  # an input section name whose address/size wrapped
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        if line.startswith("Cross Reference Table"):
            break
        m = RESERVE_RE.match(line)
        if m:
            fp.reserved[m.group(1)] = int(m.group(2), 16)
            continue
        m = OUTPUT_RE.match(line)
        if m:
            section, pending = m.group(1), None
            if m.group(3):
                fp.outputs[section] = int(m.group(3), 16)
            continue
        if section is None:
            continue
        m = FILL_RE.match(line)
        if m:
            fp.add(section, int(m.group(1), 16), int(m.group(2), 16), None)
            continue
        if pending is not None:
            m = CONT_RE.match(line)
            pending = None
            if m:
                fp.add(section, int(m.group(1), 16), int(m.group(2), 16), m.group(3))
                continue
        m = INPUT_RE.match(line)
        if m and not m.group(1).startswith("*"):
            if m.group(2):
                fp.add(section, int(m.group(2), 16), int(m.group(3), 16), m.group(4))
            else:
                pending = m.group(1)
        elif section not in fp.outputs:
            # An output section whose name wrapped: its address/size line.
            m = re.match(r"^\s+(%s)\s+(%s)\s*$" % (HEX, HEX), line)
            if m:
                fp.outputs[section] = int(m.group(2), 16)
    if not in_map:
        raise ValueError("no 'Linker script and memory map' part: not a GNU ld map file")
    fp.attribute()
    return fp


def kib(n):
    return "%.1f" % (n / 1024.0)


def row(name, s):
    flash, ram = s["text"] + s["data"], s["data"] + s["bss"]
    return "%-28s %8d %6d %8d %9d %7s %9d %7s" % (
        name, s["text"], s["data"], s["bss"], flash, kib(flash), ram, kib(ram))


def total(stats):
    t = {"text": 0, "data": 0, "bss": 0}
    for s in stats:
        for k in t:
            t[k] += s[k]
    return t


def report(fp, top_objects, out):
    header = "%-28s %8s %6s %8s %9s %7s %9s %7s" % (
        "module", "text", "data", "bss", "flash", "KiB", "RAM", "KiB")
    out.write(header + "\n" + "-" * len(header) + "\n")
    ours = [m for m in OURS if m in fp.modules or m in ("secd", "tftpc", "httpc")]
    others = [m for m, _ in MODULES if m not in OURS and m in fp.modules]
    others += sorted(m for m in fp.modules if m.startswith("other: "))
    if FILL in fp.modules:
        others.append(FILL)

    def show(name, label):
        out.write(row(label, fp.modules[name]) + "\n")
        ranked = sorted(fp.objects[name].items(),
                        key=lambda kv: -(kv[1]["text"] + kv[1]["data"] + kv[1]["bss"]))
        for obj, stats in ranked[:top_objects]:
            out.write(row("    " + obj[:24], stats) + "\n")

    for m in ours:
        show(m, "  " + m)
    out.write(row("ours", total(fp.modules[m] for m in ours)) + "\n")
    for m in others:
        show(m, m)
    all_stats = total(fp.modules.values())
    out.write("-" * len(header) + "\n" + row("total", all_stats) + "\n")
    check(fp, all_stats, out)
    heap = fp.reserved.get("__heap_size", fp.outputs.get(".heap", 0))
    stack = fp.reserved.get("__stack_size", 0)
    out.write("reserved by the linker script (not in the static RAM above): heap %d (%s KiB), "
              "stack %d (%s KiB)\n" % (heap, kib(heap), stack, kib(stack)))


def check(fp, stats, out):
    """The attributed bytes must add up to the output sections' sizes."""
    want = defaultdict(int)
    for section, size in fp.outputs.items():
        kind = kind_of(section)
        if kind in ("text", "data", "bss"):
            want[kind] += size
    for kind in ("text", "data", "bss"):
        if want[kind] != stats[kind]:
            out.write("warning: %s attributed %d bytes, output sections hold %d\n"
                      % (kind, stats[kind], want[kind]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("map", help="GNU ld map file (-Wl,-Map=...)")
    ap.add_argument("--objects", type=int, default=0, metavar="N",
                    help="also list the N largest objects (flash + RAM) of each module")
    args = ap.parse_args(argv)
    try:
        with open(args.map, encoding="utf-8", errors="replace") as f:
            fp = parse(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("footprint: %s: %s\n" % (args.map, e))
        return 1
    sys.stdout.write("Footprint of %s (bytes; flash = text + data, RAM = data + bss)\n"
                     % args.map)
    report(fp, args.objects, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
