#!/usr/bin/python3
"""Interop test: tftp_get (tftpc + POSIX glue) against Debian's tftpd-hpa.

Starts private in.tftpd instances in the foreground on free loopback ports
(no system-wide tftpd service is used), serves files of various sizes and
checks that tftp_get downloads them byte-exactly with blksize 512 and 1428,
refuses a file over the 550001-byte limit, reports file-not-found, falls
back when the server refuses options, and walks a server list past a closed
port and a silent one.
"""
import argparse
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

LIMIT = 550001
SIZES = [0, 511, 512, 513, 1428, 2856, 100 * 1024, LIMIT]
EXIT = {"ok": 0, "not_found": 1, "too_large": 2, "timeout": 3, "server_error": 4,
        "protocol": 5, "unreachable": 6}

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def content(size):
    # Not a repeating 512-byte pattern: a misplaced block would show.
    return bytes(((i * 131) ^ (i >> 9)) & 0xFF for i in range(size))


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, deadline=5.0):
    """Asks for a missing file until the server answers with an ERROR."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    end = time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            s.sendto(b"\x00\x01probe-missing\x00octet\x00", ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(600)
                if data[:2] == b"\x00\x05":
                    return True
            except (socket.timeout, ConnectionRefusedError):
                time.sleep(0.05)
        return False
    finally:
        s.close()


class Tftpd:
    def __init__(self, binary, root, extra=()):
        self.port = free_udp_port()
        user = pwd.getpwuid(os.geteuid()).pw_name
        cmd = [binary, "--foreground", "--address", "127.0.0.1:%d" % self.port,
               "--user", user, *extra, "--secure", root]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_ready(self.port):
            self.stop()
            raise RuntimeError("in.tftpd did not come up: %s" % " ".join(cmd))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_get(tool, servers, name, out, *opts):
    if os.path.exists(out):
        os.unlink(out)
    cmd = [tool, *opts, "-o", out, ",".join(servers), name]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                       universal_newlines=True)
    lines = p.stdout.splitlines()
    summary = dict(re.findall(r"(\w+)=(\S+)", lines[-1] if lines else ""))
    summary["_requests"] = re.findall(r"^\[(\d+)\]:Requesting (\S+) from (\S+)$",
                                      p.stderr, re.M)
    summary["_downloads"] = len(lines)
    return p.returncode, summary


def expect_file(tool, servers, name, out, data, blksize, *opts, server="0"):
    rc, s = run_get(tool, servers, name, out, *opts)
    label = "%s via %s %s" % (name, ",".join(servers), " ".join(opts))
    check(rc == 0, "%s: exit %d (%s)" % (label, rc, s))
    if rc != 0:
        return s
    with open(out, "rb") as f:
        got = f.read()
    check(got == data, "%s: %d bytes received, %d expected or content differs"
          % (label, len(got), len(data)))
    check(s.get("blksize") == str(blksize), "%s: blksize %s, expected %s"
          % (label, s.get("blksize"), blksize))
    check(s.get("server") == server, "%s: served by %s, expected %s"
          % (label, s.get("server"), server))
    print("ok   %-14s %7d bytes blksize=%-5s options=%s retransmits=%s %sms"
          % (name, len(got), s.get("blksize"), s.get("options"), s.get("retransmits"),
             s.get("elapsed_ms")), flush=True)
    return s


def expect_failure(tool, servers, name, out, reason, *opts):
    rc, s = run_get(tool, servers, name, out, *opts)
    label = "%s via %s %s" % (name, ",".join(servers), " ".join(opts))
    check(rc == EXIT[reason], "%s: exit %d, expected %s (%s)" % (label, rc, reason, s))
    check(not os.path.exists(out), "%s: output written for a failed download" % label)
    print("ok   %-14s refused: %s (exit %d) %sms" % (name, s.get("result"), rc,
                                                     s.get("elapsed_ms")), flush=True)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tftp-get", required=True)
    ap.add_argument("--in-tftpd", default="/usr/sbin/in.tftpd")
    args = ap.parse_args()
    tool = args.tftp_get

    work = tempfile.mkdtemp(prefix="tftpc-interop-")
    root = os.path.join(work, "root")
    os.mkdir(root)
    os.chmod(work, 0o755)
    os.chmod(root, 0o755)
    files = {}
    for size in SIZES:
        files["f%d.bin" % size] = content(size)
    files["over.bin"] = content(LIMIT + 1)
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(root, name), 0o644)
    out = os.path.join(work, "out.bin")

    servers = []
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        plain = Tftpd(args.in_tftpd, root)
        servers.append(plain)
        capped = Tftpd(args.in_tftpd, root, ["--blocksize", "1024"])
        servers.append(capped)
        no_opts = Tftpd(args.in_tftpd, root, ["--refuse", "blksize", "--refuse", "tsize",
                                              "--refuse", "timeout"])
        servers.append(no_opts)
        srv = "127.0.0.1:%d" % plain.port

        print("-- sizes, blksize 512 and 1428", flush=True)
        for size in SIZES:
            name = "f%d.bin" % size
            expect_file(tool, [srv], name, out, files[name], 512, "-b", "512")
            s = expect_file(tool, [srv], name, out, files[name], 1428, "-b", "1428")
            check(s.get("options") == "1", "%s: options not acknowledged" % name)

        print("-- size limit", flush=True)
        s = expect_failure(tool, [srv], "over.bin", out, "too_large", "-b", "1428")
        check(int(s.get("size", "-1")) == 0, "over.bin: refused by tsize before any data")
        s = expect_failure(tool, [srv], "over.bin", out, "too_large", "-n")
        check(int(s.get("size", "-1")) <= LIMIT, "over.bin: no more than the limit received")
        expect_failure(tool, [srv], "f2856.bin", out, "too_large", "-n", "-m", "2000")

        print("-- errors", flush=True)
        s = expect_failure(tool, [srv], "missing.bin", out, "not_found")
        check(s.get("error") == "1", "missing.bin: error code %s" % s.get("error"))

        print("-- negotiation variants", flush=True)
        expect_file(tool, [srv], "f102400.bin", out, files["f102400.bin"], 512, "-n")
        expect_file(tool, ["127.0.0.1:%d" % capped.port], "f102400.bin", out,
                    files["f102400.bin"], 1024, "-b", "1428")
        s = expect_file(tool, ["127.0.0.1:%d" % no_opts.port], "f513.bin", out,
                        files["f513.bin"], 512, "-b", "1428")
        check(s.get("options") == "0", "server refusing options: options=%s" % s.get("options"))

        print("-- one session, three downloads", flush=True)
        s = expect_file(tool, [srv], "f2856.bin", out, files["f2856.bin"], 1428, "-c", "3")
        check(s["_downloads"] == 3 and s.get("request") == "3",
              "session: %s downloads, last request %s" % (s["_downloads"], s.get("request")))
        check([r[0] for r in s["_requests"]] == ["1", "2", "3"],
              "session: request numbers %s" % s["_requests"])

        print("-- server list", flush=True)
        closed = "127.0.0.1:%d" % free_udp_port()
        s = expect_file(tool, [closed, srv], "f513.bin", out, files["f513.bin"], 1428,
                        server="1")
        check(s.get("switches") == "1", "closed port: switches=%s" % s.get("switches"))
        check(s["_requests"] == [("1", "f513.bin", "127.0.0.1")] * 2,
              "closed port: one request per server, %s" % s["_requests"])
        check(int(s.get("elapsed_ms", "99999")) < 900,
              "closed port skipped at once (ICMP), took %s ms" % s.get("elapsed_ms"))
        silent.bind(("127.0.0.1", 0))
        quiet = "127.0.0.1:%d" % silent.getsockname()[1]
        s = expect_file(tool, [quiet, srv], "f102400.bin", out, files["f102400.bin"], 1428,
                        "-t", "100", "-r", "2", server="1")
        check(300 <= int(s.get("elapsed_ms", "0")) < 3000,
              "silent server: given up after 100+200+400 ms, took %s ms" % s.get("elapsed_ms"))
        expect_failure(tool, [closed], "f513.bin", out, "unreachable")
        expect_failure(tool, [quiet], "f513.bin", out, "timeout", "-t", "50", "-r", "1")
        expect_failure(tool, [quiet, srv], "missing.bin", out, "not_found", "-t", "50",
                       "-r", "0")
    finally:
        silent.close()
        for t in servers:
            t.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("%d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
