#!/usr/bin/env python3
"""The mlpz-lua REPL driven through a real pseudo-terminal, as a person
types into it: libedit line editing, Tab completion, Ctrl-C and Ctrl-D,
the history file. Figures shown by the REPL are checked against an
independent reading of the MovieLens files. Prints one "ok - name" or
"not ok - name: why" line per check."""
import csv
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time

BIN = os.environ["MLPZ_BIN"]
DATA = os.environ["MLPZ_DATA"]
TIMEOUT = float(os.environ.get("MLPZ_REPL_TIMEOUT", "20"))
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x07")
SANITIZER = re.compile(rb"ERROR: (Address|Leak)Sanitizer|runtime error:")

failures = 0
sanitizer_reports = []


def check(name, cond, why=""):
    global failures
    if cond:
        print("ok - " + name)
    else:
        failures += 1
        print("not ok - %s: %s" % (name, why))
    sys.stdout.flush()


class Timeout(Exception):
    pass


class Repl:
    """One mlpz-lua process on the slave side of a pty it has as its
    controlling terminal, so Ctrl-C and Ctrl-D go through the line
    discipline exactly as from a terminal."""

    def __init__(self, home, args=(), env=None, cwd=None):
        environ = dict(os.environ, HOME=home, TERM="xterm")
        environ.update(env or {})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execve(BIN, [BIN] + list(args), environ)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.raw = b""
        self.pos = 0
        self.status = None

    def _read(self, deadline):
        wait = max(0.0, deadline - time.time())
        ready, _, _ = select.select([self.fd], [], [], min(wait, 0.2))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.raw += data
        return True

    def text(self):
        return ANSI.sub(b"", self.raw).replace(b"\r", b"")

    def expect(self, pattern, timeout=TIMEOUT):
        """Waits for pattern (bytes regex) in the output after the last
        match, ANSI codes and CRs removed; returns the match."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.time() > deadline or not self._read(deadline):
                m = rx.search(self.text(), self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise Timeout("no /%s/ within %.0fs; output since last match: %r"
                              % (pattern.decode(), timeout, self.text()[self.pos:][-400:]))

    def editing(self, timeout=TIMEOUT):
        """Waits until libedit has put the terminal in raw mode. It writes
        the prompt first, and a key typed before that is handled by the
        line discipline instead (Ctrl-D would be lost), as it would for a
        person typing within microseconds of the prompt."""
        deadline = time.time() + timeout
        while termios.tcgetattr(self.fd)[3] & termios.ICANON:
            if time.time() > deadline:
                raise Timeout("terminal still in canonical mode after the prompt")
            time.sleep(0.01)

    def prompt(self, pattern=rb"(^|\n)> $"):
        m = self.expect(pattern)
        self.editing()
        return m

    def send(self, data, pause=0.0):
        os.write(self.fd, data)
        if pause:
            time.sleep(pause)

    def line(self, text):
        """Types a line and waits for it to be evaluated (the next prompt);
        returns what was printed in between."""
        self.send(text.encode() + b"\r")
        start = self.pos
        m = self.prompt(rb"\n> $")
        return self.text()[start:m.start()]

    def settle(self, seconds=0.3):
        deadline = time.time() + seconds
        while time.time() < deadline and self._read(deadline):
            pass

    def wait(self, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                while self._read(time.time() + 0.1):
                    if not select.select([self.fd], [], [], 0)[0]:
                        break
                return self.status
            self._read(time.time() + 0.05)
        raise Timeout("still running after %.0fs" % timeout)

    def close(self):
        m = SANITIZER.search(self.raw)
        if m:
            sanitizer_reports.append(self.raw[m.start():m.start() + 800])
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


def step(name, fn):
    """Runs one check body; a timeout or other failure is a failed check,
    never a hang."""
    try:
        fn()
    except Timeout as e:
        check(name, False, str(e))
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        check(name, False, "%s: %s" % (type(e).__name__, e))


def interactions_of(user):
    """Derived interactions of a user, as the AWS notebooks build them:
    one click per rating > 1, one more watch per rating > 3."""
    n = 0
    with open(os.path.join(DATA, "ratings.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["userId"] == user:
                r = float(row["rating"])
                n += (r > 1) + (r > 3)
    return n


def users_count():
    with open(os.path.join(DATA, "ratings.csv"), newline="") as f:
        return len({row["userId"] for row in csv.DictReader(f)})


def decode_history(path):
    """libedit's history file: a _HiStOrY_V2_ header, then one entry per
    line with spaces and controls written as \\ooo (strvis)."""
    with open(path, "rb") as f:
        lines = f.read().decode().splitlines()
    entries = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), l)
               for l in lines[1:]]
    return lines[:1], entries


def session_main(home):
    r = Repl(home)
    try:
        def banner():
            r.expect(rb"mlpz-lua \d+\.\d+\.\d+ \(Lua 5\.4\.\d+\)\n")
            m = r.prompt(rb"(.*)\n> $")
            line = m.group(1)
            check("banner names help() and Ctrl-D",
                  b"help()" in line and b"Ctrl-D" in line, repr(line))
        step("banner", banner)

        def arithmetic():
            out = r.line("1+1")
            check("1+1 prints 2", out.endswith(b"\n2"), repr(out))
            out = r.line("=6*7")
            check("=expr prints like lua's '=' shortcut", out.endswith(b"\n42"), repr(out))
            out = r.line('1, "two", nil, true')
            check("several results tab-separated, strings as print shows them",
                  out.endswith(b"\n1\ttwo\tnil\ttrue"), repr(out))
            out = r.line("x = 5")
            check("a statement prints nothing", out == b"x = 5", repr(out))
            out = r.line("x * 2")
            check("globals persist between lines", out.endswith(b"\n10"), repr(out))
            out = r.line('error("oops")')
            check("an error is reported and the REPL goes on",
                  b"stdin:1: oops" in out and b"stack traceback" in out, repr(out))
        step("arithmetic", arithmetic)

        def pretty():
            r.line("t = {} for i = 1, 140 do t[i] = i * i end")
            out = r.line("t")
            check("long list elided with a count", b"... 120 more" in out, repr(out))
            check("list shown in order from the start",
                  re.search(rb"\{\s*1, 4, 9, 16, 25,", out) is not None, repr(out))
            check("elided list stops at the 20th item",
                  b" 400," in out and b" 441" not in out, repr(out))
            out = r.line('{b = 1, a = "x y", [3] = true, "first", n = {m = {l = {k = {}}}}}')
            check("table pretty-printed: array first, keys sorted, strings quoted, depth bounded",
                  out.endswith(b'\n{"first", [3] = true, a = "x y", b = 1, n = {m = {l = {...}}}}'),
                  repr(out))
            out = r.line("c = {} c.me = c return c")
            check("cycles marked", out.endswith(b"\n{me = <cycle>}"), repr(out))
        step("pretty printing", pretty)

        def multiline():
            r.send(b"function twice(x)\r")
            r.prompt(rb"\n>> $")
            r.send(b"return x * 2\r")
            r.prompt(rb"\n>> $")
            out = r.line("end")
            check("function definition continues over '>>' lines",
                  out.endswith(b"end"), repr(out))
            out = r.line("twice(21)")
            check("the multi-line function works", out.endswith(b"\n42"), repr(out))
            r.send(b"for i = 1, 3 do\r")
            r.prompt(rb"\n>> $")
            r.send(b'io.write(i, ",")\r')
            r.prompt(rb"\n>> $")
            out = r.line("end print()")
            check("for loop continues and runs once complete",
                  out.endswith(b"\n1,2,3,"), repr(out))
        step("multi-line", multiline)

        def completion():
            r.send(b"stri", 0.2)
            r.send(b"\t", 0.3)
            out = r.line('.rep("ab", 3)')
            check("Tab completes a global (stri -> string)",
                  out.endswith(b"\nababab"), repr(out))
            r.send(b"string.fo", 0.2)
            r.send(b"\t", 0.3)
            out = r.line('("%05d", 42)')
            check("Tab completes a field (string.fo -> string.format)",
                  out.endswith(b"\n00042"), repr(out))
            r.send(b"type(mlpz.datas", 0.2)
            r.send(b"\t", 0.3)
            r.send(b".op", 0.2)
            r.send(b"\t", 0.5)
            out = r.line(")")
            check("Tab completes lazy modules and their fields (mlpz.dataset.open)",
                  out.endswith(b"\nfunction"), repr(out))
            r.send(b"#ds:his", 0.2)
            r.send(b"\t", 2.0)
            out = r.line('("1")')
            want = interactions_of("1")
            check("Tab completes a method through the metatable (ds:his -> ds:history), "
                  "and the count is the notebooks' derivation (%d)" % want,
                  out.endswith(b"\n%d" % want), repr(out))
            r.send(b"ds:", 0.2)
            r.send(b"\t\t", 0.5)
            r.send(b"\x15", 0.2)
            r.line("")
            listing = r.text()
            check("Tab Tab lists the methods",
                  b"ds:history" in listing and b"ds:movie" in listing
                  and b"ds:__gc" not in listing, repr(listing[-600:]))
            r.line("probe = setmetatable({}, {__index = function() touched = true end})")
            r.send(b"probe.x", 0.2)
            r.send(b"\t", 0.3)
            r.send(b"\x15", 0.2)
            out = r.line("touched")
            check("completion runs no __index function of the user",
                  out.endswith(b"\nnil"), repr(out))
        step("completion", completion)

        def dataset():
            out = r.line("ds")
            users = users_count()
            check("ds opens the dataset on first use (%d users)" % users,
                  re.search(rb"\(%d users" % users, out) is not None, repr(out))
            out = r.line("ds:movie(1).title")
            check("ds answers queries", out.endswith(b"\nToy Story (1995)"), repr(out))
            out = r.line("mlpz")
            want = [b"mlpz." + os.path.splitext(f)[0].encode() for f in os.listdir(
                os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "lib", "mlpz"))]
            check("mlpz alone lists the modules (every scripts/lib/mlpz file and the C ones)",
                  all(w in out for w in want + [b"mlpz.dataset"]), repr(out))
            out = r.line("help()")
            check("help() lists the modules",
                  b"dataset" in out and b"backend" in out and b"table" in out, repr(out))
            out = r.line('help("dataset")')
            check("help(topic) details a module", b"ds:history" in out, repr(out))
        step("dataset", dataset)

        def interrupt():
            r.send(b"while true do end\r", 0.7)
            r.send(b"\x03")
            r.expect(rb"interrupted!")
            r.prompt()
            out = r.line("6*7")
            check("Ctrl-C stops a running loop; the REPL still answers",
                  out.endswith(b"\n42"), repr(out))
            r.send(b"for i = 1, 3 do\r")
            r.prompt(rb"\n>> $")
            r.send(b"garbage", 0.3)
            r.send(b"\x03")
            r.prompt()
            out = r.line("7*6")
            check("Ctrl-C at a prompt discards the statement being typed",
                  out.endswith(b"\n42") and b"error" not in out, repr(out))
            r.send(b"while true do end\r", 0.5)
            r.send(b"\x03")
            r.expect(rb"interrupted!")
            r.prompt()
            out = r.line("1")
            check("a second interrupted statement behaves the same",
                  out.endswith(b"\n1"), repr(out))
        step("interrupt", interrupt)

        def exit_eof():
            r.line("6 * 7")
            r.send(b"\x04")
            status = r.wait()
            check("Ctrl-D on an empty line exits with status 0", status == 0,
                  "status %s" % status)
        step("Ctrl-D", exit_eof)
    finally:
        r.close()


def session_history(home):
    path = os.path.join(home, ".mlpz_history")
    header, entries = decode_history(path) if os.path.exists(path) else ([], [])
    check("history file written under $HOME", bool(entries), "no " + path)
    check("history file in libedit's format", header == ["_HiStOrY_V2_"], repr(header))
    check("history keeps single lines", "x * 2" in entries, repr(entries[-10:]))
    check("history keeps multi-line statements whole",
          "function twice(x)\nreturn x * 2\nend" in entries, repr(entries[-10:]))
    check("history is private (mode 600)",
          os.stat(path).st_mode & 0o777 == 0o600, oct(os.stat(path).st_mode))

    r = Repl(home)
    try:
        def recall():
            r.prompt()
            r.send(b"\x1b[A", 0.3)
            out = r.line("")
            check("the next session recalls the last line with Up",
                  out.endswith(b"\n42"), repr(out))
            r.send(b"os.exit(5)\r")
        step("history recall", recall)
        status = r.wait()
        check("os.exit(n) in the REPL keeps its status", status == 5, "status %s" % status)
    except Timeout as e:
        check("history session", False, str(e))
    finally:
        r.close()
    _, after = decode_history(path)
    check("history appended by the next session, os.exit included",
          after[-1:] == ["os.exit(5)"] and "x * 2" in after, repr(after[-5:]))


def session_history_bound(work):
    home = os.path.join(work, "bounded")
    os.mkdir(home)
    path = os.path.join(home, ".mlpz_history")
    target = os.path.join(home, "dotfiles-history")
    with open(target, "w") as f:
        f.write("_HiStOrY_V2_\n" + "".join("old%d\n" % i for i in range(1, 1201)))
    os.symlink(target, path)
    r = Repl(home)
    try:
        def bounded():
            r.prompt()
            r.line("new_line = 1")
            r.line("new_line = 1")
            r.send(b"\x04")
            r.wait()
            _, entries = decode_history(path)
            check("history bounded to the newest 1000 lines",
                  len(entries) == 1000 and entries[0] == "old202"
                  and entries[-2:] == ["old1200", "new_line = 1"],
                  "%d entries, first %r, last %r" % (len(entries), entries[:1], entries[-2:]))
            check("a symlinked history file stays a symlink to the updated file",
                  os.path.islink(path) and os.path.realpath(path) == target,
                  "islink %s" % os.path.islink(path))
            check("no temporary file left behind",
                  sorted(os.listdir(home)) == [".mlpz_history", "dotfiles-history"],
                  repr(os.listdir(home)))
        step("history bound", bounded)
    finally:
        r.close()


def session_no_data(home):
    empty = tempfile.mkdtemp()
    r = Repl(home, env={"MLPZ_DATA": os.path.join(empty, "nothing")}, cwd=empty)
    try:
        def no_data():
            r.prompt()
            out = r.line("ds")
            check("without data, ds raises an error saying how to get data",
                  b"make data" in out or b"MLPZ_DATA" in out, repr(out))
            out = r.line("1+1")
            check("the REPL survives a failed ds", out.endswith(b"\n2"), repr(out))
            out = r.line("type(mlpz.pretty)")
            check("mlpz modules still load", out.endswith(b"\ntable"), repr(out))
            r.send(b"\x04")
            check("exits 0", r.wait() == 0, "status %s" % r.status)
        step("no data", no_data)
    finally:
        r.close()
        shutil.rmtree(empty, ignore_errors=True)


def session_unwritable_home():
    r = Repl("/nonexistent/home")
    try:
        def unwritable():
            r.prompt()
            r.line("1")
            r.send(b"\x04")
            status = r.wait()
            tail = r.text()[r.pos:].replace(b"^D", b"")
            check("an unwritable HOME is ignored quietly",
                  status == 0 and tail.strip() == b"", "status %s, %r" % (status, tail))
        step("unwritable HOME", unwritable)
    finally:
        r.close()


def session_script_then_repl(home, work):
    script = os.path.join(work, "setup.lua")
    with open(script, "w") as f:
        f.write("greeting = 'hello from ' .. arg[0]:match('[^/]*$')\n")
    r = Repl(home, args=["-i", script])
    try:
        def dash_i():
            r.prompt()
            out = r.line("greeting")
            check("-i enters the REPL after the script, keeping its globals",
                  out.endswith(b"\nhello from setup.lua"), repr(out))
            r.send(b"\x04")
            check("-i session exits 0", r.wait() == 0, "status %s" % r.status)
        step("-i", dash_i)
    finally:
        r.close()


def main():
    signal.alarm(int(TIMEOUT * 15))  # the whole suite, whatever happens
    work = tempfile.mkdtemp()
    home = os.path.join(work, "home")
    os.mkdir(home)
    try:
        session_main(home)
        session_history(home)
        session_history_bound(work)
        session_no_data(home)
        session_unwritable_home()
        session_script_then_repl(home, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    check("no sanitizer report in any session", not sanitizer_reports,
          repr(sanitizer_reports[:1]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
