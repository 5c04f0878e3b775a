"""Parsers of the phone's console output (the board-independent command
answers), shared by the host scenario tests and the QEMU tests."""
import re


def show_cert(lines):
    """`show cert` in console lines: {"in_use": "LSC"|"MIC"|..., "MIC": {...},
    "LSC": {...}}, each certificate {"installed": bool, "subject": ...,
    "issuer", "serial", "not before", "not after", "MD5", "SHA-1" as shown};
    {} when there is no `show cert` answer. The last answer counts."""
    out, cur = {}, None
    for line in lines:
        m = re.match(r"^certificate in use: (\S+)", line)
        if m:
            out, cur = {"in_use": m[1]}, None
            continue
        m = re.match(r"^(MIC|LSC): (installed|not installed)", line)
        if m:
            cur = out.setdefault(m[1], {"installed": m[2] == "installed"})
            continue
        m = re.match(r"^  (subject|issuer|serial|not before|not after|MD5|SHA-1): (.*)$", line)
        if m and cur is not None:
            cur[m[1]] = m[2]
    return out
