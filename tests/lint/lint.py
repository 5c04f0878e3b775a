#!/usr/bin/python3
"""Static analysis gate for our C code (developers' guide: no warnings from
cppcheck or clang-tidy on our code), plus the newlib-nano format rule.

Runs, and fails on any finding:
  * clang-tidy (rules in /.clang-tidy) on every .c of ours, with the flags
    it is really built with: the host build's compile_commands.json, a
    configure-only tree of the fuzz preset (the libFuzzer targets) and of
    the qemu-mps2-an385 preset (the Cortex-M3-only files, parsed by clang
    as --target=arm-none-eabi against newlib's headers; files both trees
    build are analysed once, as host files, for time);
  * cppcheck over all three trees (the Cortex-M3 one as --platform=unix32);
  * no %zu/%zd/%zx (nor the other C99 size modifiers j and t) in string
    literals of code that can run on the Cortex-M3: newlib-nano's printf
    prints them literally;
  * every .c of ours is built by some preset (otherwise it cannot be linted
    with its real flags).

Each file is given to clang-tidy once, one process per file: clang-tidy 14
keeps analyzer state between the translation units of one process (two
compile commands for firmware/boot.c gave a false "uninitialized va_list").

Usage: lint.py --source-dir SRC --build-dir HOST_BUILD --work-dir DIR
               [--clang-tidy PATH] [--cppcheck PATH] [--jobs N] [--only-formats]
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

OUR_DIRS = ("secd", "tftpc", "httpc", "firmware", "hal", "boards", "config", "tests")
# Code that can run on the Cortex-M3 (newlib-nano printf).
TARGET_DIRS = ("secd", "tftpc", "httpc", "firmware", "hal", "boards", "config", "tests/bench", "tests/heap")
CPPCHECK_ARGS = ["--enable=warning,style,performance,portability", "--std=c11",
                 "--inline-suppr", "-q", "--error-exitcode=1",
                 "--template={file}:{line}:{column}: {severity}: {message} [{id}]"]
FINDING = re.compile(r"^\S+:\d+:\d+: (warning|error): ", re.M)


def fail(msg):
    print("lint: ERROR: " + msg, flush=True)
    sys.exit(1)


def rel(src, path):
    return os.path.relpath(path, src)


def is_ours(src, path):
    r = rel(src, os.path.realpath(path))
    return not r.startswith("..") and r.split(os.sep)[0] in OUR_DIRS


def load_db(src, path):
    """Our .c files in a compile database, first compile command of each."""
    if not os.path.isfile(path):
        fail(f"{path} missing (configure the build first)")
    out = {}
    for e in json.load(open(path, encoding="utf-8")):
        f = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if f.endswith(".c") and is_ours(src, f) and f not in out:
            out[f] = dict(e, file=f)
    return out


def write_db(entries, directory, strip=()):
    os.makedirs(directory, exist_ok=True)
    rows = []
    for e in entries:
        e = dict(e)
        if strip and "command" in e:
            e["command"] = " ".join(w for w in e["command"].split(" ") if not w.startswith(strip))
        elif strip:
            e["arguments"] = [w for w in e["arguments"] if not w.startswith(strip)]
        rows.append(e)
    path = os.path.join(directory, "compile_commands.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=1)
    return path


def configure(src, preset, bindir):
    """Configure-only tree of a preset: we need its compile_commands.json."""
    r = subprocess.run(["cmake", "--preset", preset, "-B", bindir], cwd=src,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout)
        fail(f"cmake --preset {preset} failed (toolchain/setup.sh installs its compilers)")
    return os.path.join(bindir, "compile_commands.json")


def newlib_sysroot():
    """newlib's prefix (include/ has stdio.h) from arm-none-eabi-gcc itself."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        fail("arm-none-eabi-gcc not found: run toolchain/setup.sh")
    libc = subprocess.run([gcc, "-print-file-name=libc.a"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip()
    root = os.path.dirname(os.path.dirname(libc))
    if not os.path.isfile(os.path.join(root, "include", "stdio.h")):
        fail(f"newlib headers not found under {root}")
    return root


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def tidy_job(tidy, dbdir, extra, path):
    rc, out = run([tidy, "-p", dbdir, "--quiet"] + extra + [path])
    bad = rc != 0 or FINDING.search(out)
    # "N warnings generated." counts diagnostics filtered out (third-party
    # headers, disabled checks); anything else is a finding.
    shown = "\n".join(l for l in out.splitlines() if not re.match(r"^\d+ warnings? generated\.$", l))
    return path, bool(bad), shown


def cppcheck(tool, src, db, extra):
    args = [tool, f"--project={db}", f"--include={src}/config/wolfssl/user_settings.h"]
    rc, out = run(args + CPPCHECK_ARGS + extra)
    return rc, out.strip()


# ---- newlib-nano format rule ------------------------------------------------

# "%%" is a literal percent sign, so it is matched (and skipped) first.
C99_SIZE = re.compile(r"%%|(%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*)?)?[zjt][diouxXn])")


def string_literals(text):
    """(line, text) of each string literal, adjacent ones joined, comments
    and character constants skipped."""
    out, i, n, line = [], 0, len(text), 1
    joined, joined_line, last_was_str = None, 0, False
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'":
            j, buf = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\":
                    buf.append(text[j:j + 2])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            if c == '"':
                if last_was_str:
                    joined += "".join(buf)
                else:
                    if joined is not None:
                        out.append((joined_line, joined))
                    joined, joined_line = "".join(buf), line
                last_was_str = True
            else:
                last_was_str = False
            line += text.count("\n", i, j)
            i = j + 1
            continue
        if c == "\n":
            line += 1
        if not c.isspace():
            last_was_str = False
        i += 1
    if joined is not None:
        out.append((joined_line, joined))
    return out


def c99_size_formats(src):
    found = []
    for top in TARGET_DIRS:
        for root, _, files in os.walk(os.path.join(src, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for line, lit in string_literals(fh.read()):
                        for m in C99_SIZE.finditer(lit):
                            if not m.group(1):
                                continue
                            found.append(f"{rel(src, path)}:{line}: \"{m.group(1)}\" in a format: "
                                         "newlib-nano prints it literally; cast to unsigned long, use %lu/%lx")
    return found


def all_our_c_files(src):
    out = set()
    for top in OUR_DIRS:
        for root, _, files in os.walk(os.path.join(src, top)):
            out.update(os.path.realpath(os.path.join(root, f)) for f in files if f.endswith(".c"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir")
    ap.add_argument("--work-dir")
    ap.add_argument("--clang-tidy", default="clang-tidy")
    ap.add_argument("--cppcheck", default="cppcheck")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("LINT_JOBS", "2")))
    ap.add_argument("--only-formats", action="store_true", help="only the newlib-nano format rule")
    a = ap.parse_args()
    src = os.path.realpath(a.source_dir)
    t0 = time.monotonic()

    formats = c99_size_formats(src)
    for f in formats:
        print(f)
    if a.only_formats:
        print(f"lint: {len(formats)} C99 size formats in target code")
        return 1 if formats else 0
    if not a.build_dir or not a.work_dir:
        fail("--build-dir and --work-dir are required")

    for tool in (a.clang_tidy, a.cppcheck):
        if shutil.which(tool) is None:
            fail(f"{tool} not found: run toolchain/setup.sh (Debian packages clang-tidy, cppcheck)")

    work = os.path.realpath(a.work_dir)
    host = load_db(src, os.path.join(a.build_dir, "compile_commands.json"))
    fuzz_all = load_db(src, configure(src, "fuzz", os.path.join(work, "fuzz-tree")))
    fuzz = {f: e for f, e in fuzz_all.items() if f not in host}
    arm = load_db(src, configure(src, "qemu-mps2-an385", os.path.join(work, "qemu-tree")))

    unbuilt = sorted(all_our_c_files(src) - set(host) - set(fuzz_all) - set(arm))
    for f in unbuilt:
        print(f"{rel(src, f)}: built by no preset, so it cannot be linted with its flags")

    # cppcheck (fast) sees every file of each tree; clang-tidy (slow) sees
    # the Cortex-M3 build's files shared with the host build only once, as
    # host files, to keep the test well under two minutes on two cores.
    arm_only = [f for f in arm if f not in host]
    sets = [  # name, files, clang-tidy files, database, clang-tidy args, cppcheck args
        ("host", host, list(host), write_db(host.values(), os.path.join(work, "host")), [], []),
        ("fuzz", fuzz, list(fuzz), write_db(fuzz.values(), os.path.join(work, "fuzz")), [], []),
        # gcc's --specs=nano.specs and -fcallgraph-info=su (the stack report,
        # toolchain/stack_usage.py) mean nothing to clang.
        ("arm", arm, arm_only,
         write_db(arm.values(), os.path.join(work, "arm"),
                  strip=("--specs=", "-fcallgraph-info")),
         ["--extra-arg=--target=arm-none-eabi", f"--extra-arg=--sysroot={newlib_sysroot()}"],
         ["--platform=unix32", "-D__arm__"]),
    ]

    findings = len(formats) + len(unbuilt)
    for name, files, _, db, _, cpp_extra in sets:
        if not files:
            continue
        rc, out = cppcheck(a.cppcheck, src, db, [f"-j{a.jobs}"] + cpp_extra)
        if rc != 0 or out:
            findings += max(1, len(out.splitlines()))
            print(f"cppcheck ({name}):\n{out}")
    t_cpp = time.monotonic() - t0

    jobs = [(os.path.dirname(db), extra, f) for _, _, tidy_files, db, extra, _ in sets
            for f in tidy_files]
    jobs.sort(key=lambda j: -os.path.getsize(j[2]))  # longest first: both workers stay busy
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for path, bad, out in pool.map(lambda j: tidy_job(a.clang_tidy, *j), jobs):
            if bad:
                findings += max(1, len(FINDING.findall(out)))
                print(f"clang-tidy {rel(src, path)}:\n{out}")

    counts = ", ".join(f"{n} {len(t)}/{len(f)}" for n, f, t, *_ in sets)
    print(f"lint: clang-tidy/cppcheck on {counts} files, "
          f"format rule on {', '.join(TARGET_DIRS)}: {findings} findings "
          f"in {time.monotonic() - t0:.1f} s (cppcheck and setup {t_cpp:.1f} s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
