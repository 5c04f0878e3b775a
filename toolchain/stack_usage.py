#!/usr/bin/env python3
"""Stack usage of the Cortex-M3 image from gcc's -fstack-usage (.su) and
-fcallgraph-info=su (.ci) files (issue 9).

    toolchain/stack_usage.py BUILD_DIR [--root phone_main] [--top N]
                             [--linker-script mps2_an385.ld]

BUILD_DIR is a configured and built qemu-mps2-an385 tree (our code, wolfSSL
and lwIP are compiled with both flags there, see CMakeLists.txt). Prints
the functions with the largest frames, then the worst call path from each
root: the sum of the frames along the deepest chain of direct calls,
frames included. Caveats, printed with the figures:
  - calls through function pointers (wolfSSL's callbacks, the sans-I/O
    sinks, lwIP's netif hooks) are not in gcc's call graph: a path ends at
    an indirect call, whose target's own worst path is listed separately
    among the roots' figures only if named with --root;
  - recursion (a cycle in the graph) is reported and cut at the repeat;
  - functions gcc marks "dynamic" (alloca/VLA) count their static part;
  - newlib's libc (memcpy, printf...) is prebuilt without .su: its frames
    are unknown and counted as 0.
Exits 1 when no .ci file is found (the image was built without the flags),
or when the worst path exceeds the linker script's __stack_size.
Prints one line "SUMMARY stack ..." for toolchain/test.sh.
"""
import argparse
import re
import sys
from pathlib import Path

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
FRAME = re.compile(r"\\n(\d+) bytes \((\w+(?:,\w+)?)\)")


def load(build, exclude):
    """{name: (bytes, qualifier, file)}, {name: set(callees)}. A static
    function whose name another file also uses is told apart as
    file.c:name; the same function compiled for two targets counts once."""
    ci_files = sorted(p for p in Path(build).rglob("*.ci")
                      if not any(part in exclude for part in p.relative_to(build).parts))
    frames, calls = {}, {}
    for ci in ci_files:
        # gcc names static functions by their full source path: keep the
        # file's base name only
        text = re.sub(r'((?:title|sourcename|targetname): ")[^"]*/([^"/]+:)', r'\1\2',
                      ci.read_text(errors="replace"))
        local = {}
        for title, label in NODE.findall(text):
            m = FRAME.search(label)
            if not m:
                continue  # a callee declared elsewhere
            parts = label.split("\\n")
            src = Path(parts[1].split(":")[0]).name if len(parts) > 1 else ci.name
            key = title
            if title in frames and frames[title][2] != src:
                key = "%s:%s" % (src, title)  # a static twin
            local[title] = key
            if key not in frames or frames[key][0] < int(m[1]):
                frames[key] = (int(m[1]), m[2], src)
        for src, dst in EDGE.findall(text):
            calls.setdefault(local.get(src, src), set()).add(local.get(dst, dst))
    return ci_files, frames, calls


def worst_path(root, frames, calls):
    """(total bytes, [functions], notes) of the deepest direct-call chain."""
    memo, notes = {}, set()

    def visit(f, stack):
        if f in memo:
            return memo[f]
        if f in stack:
            notes.add("recursion: " + " -> ".join(stack[stack.index(f):] + [f]))
            return 0, []
        own = frames.get(f, (0, "unknown", ""))[0]
        if f not in frames and not f.startswith("__indirect_call"):
            notes.add("no frame data (newlib or assembly): " + f)
        if f.startswith("__indirect_call"):
            notes.add("indirect calls not followed")
        best = (0, [])
        for callee in sorted(calls.get(f, ())):
            sub = visit(callee, stack + [f])
            if sub[0] > best[0]:
                best = sub
        memo[f] = (own + best[0], [f] + best[1])
        return memo[f]

    total, path = visit(root, [])
    return total, path, sorted(notes)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--root", action="append",
                    help="entry points (default: Reset_Handler, phone_main, and every "
                         "exception handler found)")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--linker-script", help="compare with its __stack_size = N[K]")
    ap.add_argument("--exclude", action="append", default=["tests", "CMakeFiles_bench"],
                    help="build sub-directories to leave out (other images: tests/bench)")
    a = ap.parse_args(argv)

    ci_files, frames, calls = load(a.build, set(a.exclude))
    if not ci_files:
        print("stack_usage: no .ci files under %s (built without -fcallgraph-info=su?)"
              % a.build)
        return 1
    print("stack usage: %d functions from %d objects (-fstack-usage -fcallgraph-info=su)"
          % (len(frames), len(ci_files)))
    print("\nlargest frames:")
    for name, (size, qual, src) in sorted(frames.items(), key=lambda kv: -kv[1][0])[:a.top]:
        print("  %6d  %-8s %s  (%s)" % (size, qual, name, src))
    dynamic = sorted(n for n, (_, q, _) in frames.items() if "dynamic" in q)
    if dynamic:
        print("  dynamic frames (alloca/VLA): " + ", ".join(dynamic))

    roots = a.root or [r for r in ("Reset_Handler", "phone_main", "firmware_main")
                       if r in frames] + sorted(
        n for n in frames if n.endswith("_Handler") and n != "Reset_Handler")
    worst = (0, "none", [])
    for root in roots:
        if root not in frames:
            print("\nroot %s: not in the call graph" % root)
            continue
        total, path, notes = worst_path(root, frames, calls)
        print("\nworst path from %s: %d bytes, %d calls deep" % (root, total, len(path)))
        for f in path:
            print("  %6d  %s" % (frames.get(f, (0,))[0], f))
        for n in notes[:6]:
            print("  note: " + n)
        if len(notes) > 6:
            print("  note: ... %d more" % (len(notes) - 6))
        if total > worst[0]:
            worst = (total, root, path)
    top = max(frames.items(), key=lambda kv: kv[1][0])
    budget = None
    if a.linker_script:
        m = re.search(r"__stack_size\s*=\s*(\d+)\s*(K?)", Path(a.linker_script).read_text())
        if m:
            budget = int(m[1]) * (1024 if m[2] else 1)
            print("\nstack reserved by %s: %d bytes; worst static path: %d bytes (%d %%)"
                  % (Path(a.linker_script).name, budget, worst[0], 100 * worst[0] // budget))
    print("\nSUMMARY stack worst-function=%s frame=%d worst-path-root=%s worst-path=%d "
          "depth=%d budget=%s" % (top[0], top[1][0], worst[1], worst[0], len(worst[2]),
                                  budget if budget else "?"))
    if budget and worst[0] > budget:
        print("stack_usage: the worst path exceeds the stack budget")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
