"""Runs a command and prints "WALL CPU" seconds: wall-clock time and the CPU
time (user + system) of the command and its children. Its stdout goes to
the file named first. Used by tests/bench.sh where a shared server's time
would otherwise hide the client's own cost."""
import resource
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
with open(out, "wb") as f:
    rc = subprocess.call(cmd, stdout=f)
wall = time.monotonic() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.3f} {r.ru_utime + r.ru_stime:.3f}")
sys.exit(rc)
