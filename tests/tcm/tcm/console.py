"""Parsers of the phone's console output (the board-independent command
answers) and console dialogues, shared by the host scenario tests and the
QEMU tests."""
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


def ride_out_capf_retry_later(con, delay):
    """A phone whose boot's CAPF server answers "retry later {delay}", at
    its console `con` (anything with wait_for(regex) and send(line)): the
    failed boot arms a retry after exactly the server's delay (not the
    phone's own backoff, which would double), `show cert` is typed while it
    waits, the boot runs again and fails the same way; then `quit`."""
    asked = r"^boot retry in %d s, as the CAPF server asked \(failed boots: %d\)$"
    con.wait_for(asked % (delay, 1))
    con.send("show cert")
    con.wait_for(r"^retrying the boot \(failed boots: 1\)$")
    con.wait_for(asked % (delay, 2))
    con.send("quit")
