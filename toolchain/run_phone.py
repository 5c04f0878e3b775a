"""The main job's phone session (called by toolchain/run-phone.sh): the
test call manager's TFTP, TVS, HTTPS and CAPF servers on loopback, the
phone's factory MIC in its flash, and the Cortex-M3 image under QEMU with
its serial console on this terminal.

What the trace shows, in order: the self-test; DHCP; the CTL and ITL
(trusted on first use, then kept); the signed partial config, whose
certHash names the MIC, so the encrypted config is fetched, verified and
decrypted with the MIC's key; then, typed on the console by this script,
`capf start` (an LSC enrolled over TLS with the MIC as client
certificate), `show cert`, and `verify https` against an HTTPS server the
trust lists do not know (TVS vouches for it). Then the console is yours
(`help`; `quit` or Ctrl-D ends), or with --once the phone exits.

Reference only for the tests: tests/qemu holds the same steps as
assertions. Usage: run_phone.py --elf ELF --run DIR [--fresh] [--once]
[--loss P]."""
import argparse
import hashlib
import os
import sys
import termios
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "qemu"))
from phone_qemu import MAC, SGN, QemuConsole, Qemu, TcmServer, build_tree, provision_mic  # noqa: E402
from tcm import files, pki  # noqa: E402  (phone_qemu put tests/tcm on sys.path)
from tcm.process import Daemon  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

ENC = "SEP%s.cnf.xml.enc.sgn" % MAC
DEVICE = "SEP" + MAC
STEP_TIMEOUT_S = 300


def certificate_in_use(cluster, issued):
    """What the phone decrypts with: the LSC the CAPF server issued in an
    earlier run (kept in the phone's flash, as on a real phone), else the
    factory MIC. Returns (certificate, what)."""
    if issued.exists():
        return x509.load_der_x509_certificate(issued.read_bytes()), "the LSC of the last run"
    return cluster["mic"].cert, "the MIC"


def serve_encrypted_config(root, cluster, tvs, capf, cert):
    """The partial config (certHash = MD5 of the certificate in use, the
    CAPF server) and the full config encrypted for that certificate (TVS
    and CAPF servers as the guest reaches them)."""
    cert_hash = hashlib.md5(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    full = files.build_config(tvs=[("10.0.2.2", tvs.port)], capf=[("10.0.2.2", capf.port)])
    partial = files.build_partial_config(cert_hash, capf=[("10.0.2.2", capf.port)])
    (root / SGN).write_bytes(files.build_sgn(cluster["callmanager"], partial, SGN))
    (root / ENC).write_bytes(files.build_enc_sgn(cluster["callmanager"], full, ENC, cert))


class Console(QemuConsole):
    """The phone's console, every line shown on this terminal as it comes."""

    def __init__(self, argv, cwd):
        super().__init__(argv, cwd, STEP_TIMEOUT_S, echo=True)

    def wait_after(self, start, pattern):
        """Waits for a line matching pattern from line index start on."""
        try:
            self.wait_for(pattern, start=start)
        except AssertionError:
            raise SystemExit("run-phone: no %r within %d s" % (pattern, STEP_TIMEOUT_S))

    def type(self, line, done):
        start = len(self.out)
        print("run-phone: typing '%s'" % line, flush=True)
        self.send(line)
        self.wait_after(start, done)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--elf", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--loss", default="0")
    a = ap.parse_args()

    run = Path(a.run).resolve()
    run.mkdir(parents=True, exist_ok=True)
    print("run-phone: building the test call manager's tree (%s)" % (run / "tree"), flush=True)
    build_tree(run / "tree", run / "keys")
    cluster = pki.load(run / "keys")
    root = run / "tree" / "tftp"

    phone = Qemu(a.qemu, a.elf, run)
    issued = run / "capf" / "issued.der"
    if a.fresh or not phone.flash.exists():
        for stale in (phone.flash, issued):
            if stale.exists():
                stale.unlink()
    provision_mic(phone.flash, (run / "keys" / "mic.pem").read_text())

    servers, tty = [], None
    try:
        tftp = TcmServer(root, ("--loss", a.loss))
        servers.append(tftp)
        tvs = Daemon("tcm.tvsd", "--keys", run / "keys", "-v", "--vouch", "tomcat=7")
        servers.append(tvs)
        https = Daemon("tcm.tvsd", "--keys", run / "keys", "--https", "tomcat")
        servers.append(https)
        capf = Daemon("tcm.capfd", "--keys", run / "keys", "--port", 0, "-v", "--device", DEVICE,
                      "--out", run / "capf", "--op", "install", "--auth", 0,
                      "--key-type", "rsa", "--key-size", 2048)
        servers.append(capf)
        cert, what = certificate_in_use(cluster, issued)
        serve_encrypted_config(root, cluster, tvs, capf, cert)
        print("run-phone: the config is encrypted for %s (--fresh starts from the factory "
              "state)" % what, flush=True)
        print("run-phone: TFTP 127.0.0.1:%d (loss %s), TVS :%d, HTTPS :%d, CAPF :%d "
              "(the phone reaches them as 10.0.2.2:PORT)"
              % (tftp.port, a.loss, tvs.port, https.port, capf.port), flush=True)
        print("run-phone: booting the phone (QEMU mps2-an385, flash %s)\n" % phone.flash,
              flush=True)

        con = Console(phone.argv(tftp.port, once=False, extra=["--interactive"]), run)
        con.wait_after(0, r"boot complete: config accepted|boot failed")
        if not any("boot complete: config accepted" in x for x in con.out):
            con.send("quit")
            raise SystemExit(1)
        if what == "the MIC":
            # Enrolment: the phone generates an RSA-2048 key in the session
            # (`request in progress` meanwhile; seconds to a minute under
            # QEMU, a random prime search). Later runs keep that LSC.
            con.type("capf start", r"session ended: |^TLS to CAPF .* refused|^CAPF enrolment failed")
        con.type("show cert", r"^LSC: ")
        con.type("verify https " + https.guest_addr, r"verify https .*(TRUSTED|failed)")
        if a.once:
            con.send("quit")
        else:
            print("\nrun-phone: the console is yours (help; quit or Ctrl-D ends)", flush=True)
            keys = sys.stdin.isatty()
            if keys:
                tty = keystrokes_mode(sys.stdin.fileno())
            con.send("")  # a fresh prompt
            forward = threading.Thread(target=forward_keys if keys else forward_lines,
                                       args=(con,), daemon=True)
            forward.start()
        rc = con.proc.wait()
        con._reader.join(5)
        print("\nrun-phone: QEMU exit status %d" % rc)
        return rc
    finally:
        if tty:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, tty)
        for s in servers:
            s.stop()


def keystrokes_mode(fd):
    """The terminal hands over each key unechoed, as on a serial console:
    the phone echoes and edits the line (one echo, its backspace). Ctrl-C
    still interrupts. Returns the settings to restore."""
    saved = termios.tcgetattr(fd)
    keys = termios.tcgetattr(fd)
    keys[3] &= ~(termios.ECHO | termios.ICANON)
    keys[6][termios.VMIN], keys[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSADRAIN, keys)
    return saved


def forward_keys(con):
    """Keystrokes to UART0; Ctrl-D (or the end of input) types `quit`."""
    while True:
        data = os.read(sys.stdin.fileno(), 64)
        end = data.find(b"\x04")
        try:
            if end >= 0 or not data:
                con.send_bytes(data[:max(end, 0)] + b"\nquit\n")
                return
            con.send_bytes(data)
        except (BrokenPipeError, ValueError):
            return


def forward_lines(con):
    """Input that is not a terminal (a pipe, a file): line by line."""
    for line in sys.stdin:
        try:
            con.send(line.rstrip("\n"))
        except (BrokenPipeError, ValueError):
            return
    try:
        con.send("quit")
    except (BrokenPipeError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
