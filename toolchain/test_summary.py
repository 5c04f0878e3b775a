#!/usr/bin/env python3
"""The summary table at the end of toolchain/test.sh (issue 9).

    toolchain/test_summary.py LASTTEST_LOG...

Reads ctest's full logs (BUILD/Testing/Temporary/LastTest.log, which holds
every test's output, passed or failed) and prints:
  - fuzz targets x executions x coverage x findings, from libFuzzer's final
    lines ("Done N runs", the last "cov:") of each fuzz.* test; a target
    whose test failed or printed a sanitizer/libFuzzer error counts as a
    finding;
  - faults injected x outcomes, attacks x verdicts, analysis gates (the
    lint.* tests' results, cppcheck + clang-tidy), and the machine-readable
    lines tests print,
      SUMMARY fault <name> [injected=N] [key=value...] outcome=...
      SUMMARY attack <name> verdict=...
      SUMMARY analysis <name> key=value...
      SUMMARY stack key=value...
    (tests/scenario/conftest.py, tests/hardening/*, toolchain/stack_usage.py).
Prints nothing but the table; the exit status is always 0 (test.sh decides
pass/fail from the ctest totals).
"""
import re
import sys
from pathlib import Path

TEST_START = re.compile(r"^\d+/\d+ Testing: (\S+)$")
TEST_END = re.compile(r"^Test (Passed|Failed)\.?")
LINE = re.compile(r"^(?:\S+ )?SUMMARY (fuzz|fault|attack|analysis|stack) (.*)$")
DONE = re.compile(r"Done (\d+) runs in (\d+) second")
COV = re.compile(r"^#\d+\s+\w+\s+cov: (\d+)")
FINDING = re.compile(r"==\d+==ERROR|^SUMMARY: (?:Address|Undefined|Leak)Sanitizer|"
                     r"deadly signal|Test unit written to|runtime error:")


def blocks(path):
    """(test name, passed, output lines) per test in a LastTest.log."""
    name, lines = None, []
    for raw in Path(path).read_text(errors="replace").splitlines():
        m = TEST_START.match(raw)
        if m:
            name, lines = m[1], []
            continue
        if name is None:
            continue
        m = TEST_END.match(raw)
        if m:
            yield name, m[1] == "Passed", lines
            name = None
            continue
        lines.append(raw)


def kv(text):
    return dict(re.findall(r"(\S+?)=(\S+)", text))


def merge(rows, key, is_bad):
    """Rows with the same key once, in first-seen order: the first bad one
    if any, else the first; a name seen in several runs gets " xN"."""
    order, seen = [], {}
    for r in rows:
        k = key(r)
        if k not in seen:
            order.append(k)
            seen[k] = [r, 0]
        seen[k][1] += 1
        if is_bad(r) and not is_bad(seen[k][0]):
            seen[k][0] = r
    out = []
    for k in order:
        r, n = seen[k]
        out.append(((r[0] + (" x%d" % n if n > 1 else "")),) + tuple(r[1:]))
    return out


def main(logs):
    fuzz, faults, attacks, analysis = [], [], [], []
    for log in logs:
        if not Path(log).is_file():
            continue
        for name, passed, lines in blocks(log):
            if name.startswith("fuzz."):
                runs = cov = None
                found = 0 if passed else 1
                for line in lines:
                    m = DONE.search(line)
                    if m:
                        runs = int(m[1])
                    m = COV.match(line)
                    if m:
                        cov = int(m[1])
                    if FINDING.search(line):
                        found = 1
                fuzz.append((name, runs, cov, found))
            if name.startswith("lint."):
                analysis.append((name, "passed" if passed else "FAILED"))
            for line in lines:
                m = LINE.match(line.strip())
                if not m:
                    continue
                kind, rest = m[1], m[2]
                label = rest.split()[0] if rest.split() else "?"
                if kind == "fault":
                    d = kv(rest)
                    faults.append((label, d, d.get("outcome", "?") not in ("FAILED", "?")
                                   and not d.get("outcome", "").startswith("NOT")))
                elif kind == "attack":
                    attacks.append((label, kv(rest).get("verdict", "?")))
                else:
                    analysis.append((kind if kind == "stack" else label,
                                     rest if kind == "stack" else rest[len(label):].strip()))

    print("\n=== summary")
    print("fuzz targets (libFuzzer + ASan/UBSan)")
    print("  %-28s %12s %8s  %s" % ("target", "executions", "cov", "findings"))
    for name, runs, cov, found in sorted(fuzz):
        print("  %-28s %12s %8s  %s" % (name, runs if runs is not None else "?",
                                        cov if cov is not None else "?", found))
    if fuzz:
        print("  %-28s %12d %8s  %d" % ("total (%d targets)" % len(fuzz),
                                        sum(r or 0 for _, r, _, _ in fuzz), "",
                                        sum(f for *_, f in fuzz)))

    # The scenario suite runs in both trees (host, and ASan + UBSan in the
    # fuzz tree): one row per name, the worse outcome, and how many runs.
    faults = merge(faults, lambda f: f[0], lambda f: not f[2])
    attacks = merge(attacks, lambda a: a[0], lambda a: a[1] != "refused")

    print("faults injected")
    print("  %-52s %9s  %s" % ("fault", "injected", "outcome"))
    total = 0
    for label, d, passed in faults:
        n = int(d.pop("injected", 1))
        total += n
        outcome = d.pop("outcome", "?")
        extra = " ".join("%s=%s" % x for x in d.items())
        print("  %-52s %9d  %s%s" % (label, n, outcome, " (%s)" % extra if extra else ""))
    bad = sum(1 for _, _, p in faults if not p)
    print("  %-52s %9d  %d handled, %d not" % ("total (%d fault kinds)" % len(faults), total,
                                               len(faults) - bad, bad))

    print("attacks")
    print("  %-56s %s" % ("attack", "verdict"))
    for label, verdict in attacks:
        print("  %-56s %s" % (label, verdict))
    refused = sum(1 for _, v in attacks if v == "refused")
    print("  %-56s %d refused, %d not" % ("total (%d)" % len(attacks), refused,
                                          len(attacks) - refused))

    print("analysis gates")
    for label, rest in analysis:
        print("  %-28s %s" % (label, rest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
