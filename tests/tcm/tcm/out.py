"""Line output of the tcm servers: one whole line per write, under a lock.

print() writes the text and its newline separately, so a handler thread's
log line could land inside the "counters: {json}" line the main thread
prints at shutdown, which the tests parse (seen once in CI-like load)."""
import sys
import threading

_lock = threading.Lock()


def say(line):
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
