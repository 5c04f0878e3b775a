#!/usr/bin/python3
"""docs/console.md must list every trace message and console command.

Every trace call in our C sources (NOT/WRN/ERR/DBG(MODULE, "format", ...),
trace(LEVEL, MODULE, "format", ...)) is split at its printf conversions;
each literal piece of four characters or more must appear in the document
(whitespace runs compared as one blank, so the document may wrap). Every
console command's help text ({"words", min, max, fn, "help"} tables) must
appear too. Prints what is missing, with the source line, and exits 1.

usage: check_console_doc.py SOURCE_DIR [DOC]"""
import os
import re
import sys

DIRS = ("secd", "tftpc", "httpc", "firmware", "hal", "boards", "config")
STRINGS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
CALLS = [re.compile(r'\b(?:NOT|WRN|ERR|DBG)\(\s*([A-Za-z_"][^,]*?),\s*' + STRINGS, re.S),
         re.compile(r'\btrace\(\s*\w+\s*,\s*([A-Za-z_"][^,]*?),\s*' + STRINGS, re.S)]
COMMAND = re.compile(r'\{\s*"([a-z][a-z -]*)"\s*,\s*\d+\s*,\s*\d+\s*,\s*\w+\s*,\s*"([^"]+)"\s*\}')
CONVERSION = re.compile(r"%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t)?[diouxXcsp%]")
MIN_PIECE = 4


def c_string(literals):
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', literals))
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


def sources(root):
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith(".c"):
                    yield os.path.join(dirpath, f)


def main():
    root = sys.argv[1]
    doc_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "docs", "console.md")
    # A pipe inside a table cell is written \| in Markdown.
    doc = squash(open(doc_path, encoding="utf-8").read().replace("\\|", "|"))
    missing, messages, commands = [], 0, 0
    for path in sources(root):
        src = open(path, encoding="utf-8").read()
        rel = os.path.relpath(path, root)
        for rx in CALLS:
            for m in rx.finditer(src):
                fmt = c_string(m[2])
                line = src.count("\n", 0, m.start()) + 1
                messages += 1
                for piece in CONVERSION.split(fmt):
                    piece = squash(piece)
                    if len(piece) >= MIN_PIECE and piece not in doc:
                        missing.append("%s:%d: message %r: %r not in %s"
                                       % (rel, line, fmt, piece, os.path.basename(doc_path)))
        for m in COMMAND.finditer(src):
            commands += 1
            if squash(m[2]) not in doc:
                line = src.count("\n", 0, m.start()) + 1
                missing.append("%s:%d: console command %r not in %s"
                               % (rel, line, m[2], os.path.basename(doc_path)))
    print("check_console_doc: %d trace calls, %d console commands, %d missing pieces"
          % (messages, commands, len(missing)))
    for m in missing:
        print("  " + m)
    if messages < 100 or commands < 10:
        print("check_console_doc: found too few trace calls or commands: the scanner is broken")
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
