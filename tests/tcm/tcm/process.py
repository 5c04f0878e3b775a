"""A tcm server (``python3 -m tcm serve``, ``tcm.tvsd``, ``tcm.capfd``, ...)
run as a child process for tests: started on 127.0.0.1 with a free port,
its log collected line by line, stopped with the counters it prints.

Shared by the host scenario tests and the QEMU tests, so both drive the
test call manager the same way; so is stopped_at_end, the body of their
factory fixtures ("start a server, stop them all at teardown")."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TCM_DIR = Path(__file__).resolve().parent.parent


class Daemon:
    """``python3 -m MODULE ARGS...``; waits for "listening on 127.0.0.1:PORT"."""

    def __init__(self, module, *args):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(TCM_DIR),
                                                            os.environ.get("PYTHONPATH")])))
        self.module = module
        self.proc = subprocess.Popen([sys.executable, "-m", module, *map(str, args)],
                                     cwd=str(TCM_DIR), env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.log, self.counters = [], None
        self._up = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._up.wait(15):
            self.proc.kill()
            raise RuntimeError("%s did not start:\n%s" % (module, "\n".join(self.log)))
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", "\n".join(self.log))
        assert m, "%s did not say its port:\n%s" % (module, "\n".join(self.log))
        self.port = int(m[1])
        self.addr = "127.0.0.1:%d" % self.port
        self.guest_addr = "10.0.2.2:%d" % self.port  # as a phone under QEMU reaches it

    def _read(self):
        for line in self.proc.stdout:
            self.log.append(line.rstrip("\n"))
            if line.startswith("listening on"):
                self._up.set()
        self._up.set()

    def text(self, settle=0.0, limit=10.0):
        """The log so far; with settle > 0, once it has been quiet that long
        (the phone may exit before the server logged the last message)."""
        deadline = time.monotonic() + limit
        seen, quiet_since = len(self.log), time.monotonic()
        while settle and time.monotonic() < deadline and time.monotonic() - quiet_since < settle:
            time.sleep(0.05)
            if len(self.log) != seen:
                seen, quiet_since = len(self.log), time.monotonic()
        return "\n".join(list(self.log))

    def logged(self, prefix, settle=0.3):
        """Log lines starting with prefix, once the log has been quiet for
        `settle` s: the phone may trace a server's answer before the
        server's own log line has been read."""
        return [line for line in self.text(settle=settle).splitlines()
                if line.startswith(prefix)]

    def before_stop(self):
        """Hook: what a server must finish before it is stopped."""

    def stop(self):
        """Stops the server; returns the counters it printed (or None)."""
        if self.proc.poll() is None:
            self.before_stop()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        for line in self.log:
            if line.startswith("counters: "):
                self.counters = json.loads(line[len("counters: "):])
        return self.counters


def stopped_at_end(make):
    """Body of a pytest factory fixture, `yield from stopped_at_end(make)`:
    the test gets start(*args, **kwargs) = make(*args, **kwargs); every
    server made is stopped at teardown, in the order started."""
    made = []

    def start(*args, **kwargs):
        s = make(*args, **kwargs)
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()
