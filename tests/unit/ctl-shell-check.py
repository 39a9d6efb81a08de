#!/usr/bin/env python3
"""ctl-shell-check: gwlbctl's interactive shell, driven through a pty.

    ctl-shell-check.py GWLBCTL FAKE_SERVER

Starts its own tests/ctl-fake-server, then in the shell: TAB-completes a
command, an ENI id and a link name, runs `show eni` on them, asks `?`,
makes an ambiguous abbreviation, drops a line with ^C, watches the prompt
say the daemon went away and come back when it is restarted, and quits;
then checks the history file.  Exit 0 on success, 1 with a transcript on
failure.
"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ENI = "076bc493b822cd32f"
LINK = "gwi-e8WXgsTQDkf"
# Plain strings are matched literally, bytes are regular expressions.
PROMPT = "gwlbctl> "
PROMPT_DOWN = "gwlbctl (disconnected)> "


class Shell:
    def __init__(self, ctl, sock, home):
        env = dict(os.environ, HOME=home, TERM="dumb", INPUTRC="/dev/null")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(ctl, [ctl, "-s", sock], env)
        self.seen = b""      # everything, for the transcript
        self.buf = b""       # what expect() has not consumed yet

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.seen += data
        self.buf += data
        return bool(data)

    def expect(self, pattern, timeout=5.0, what=None):
        rx = re.compile(pattern if isinstance(pattern, bytes) else re.escape(pattern.encode()))
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                fail("expected %s" % (what or pattern), self)
            if not self.read(left):
                time.sleep(0.01)    # the child is gone: do not spin

    def send(self, s):
        os.write(self.fd, s.encode() if isinstance(s, str) else s)


def fail(msg, sh=None):
    print("ctl-shell-check: FAIL: " + msg, file=sys.stderr)
    if sh is not None:
        print("---- transcript ----", file=sys.stderr)
        print(sh.seen.decode(errors="replace"), file=sys.stderr)
        print("---- unconsumed ----", file=sys.stderr)
        print(sh.buf.decode(errors="replace"), file=sys.stderr)
    sys.exit(1)


def start_fake(fake, sock):
    # show workers takes 3 s: a daemon that hangs, for ^C.
    p = subprocess.Popen([fake, "-s", sock, "-d", "3000"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    if line.strip() != b"ready":
        fail("fake server did not start")
    return p


def main():
    ctl, fake = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="ctl-shell.")
    sock = os.path.join(tmp, "gwlbtund.sock")
    server = start_fake(fake, sock)
    sh = None
    try:
        sh = Shell(ctl, sock, tmp)
        sh.expect(PROMPT, what="the prompt")

        # A command by TAB, then run it.
        sh.send("sh\t")
        sh.expect("show ", what="'sh' completed to 'show '")
        sh.send("sta\t")
        sh.expect("status", what="'sta' completed to 'status'")
        sh.send("\r")
        sh.expect(b"uptime_s: +3725", what="show status output")
        sh.expect(PROMPT)

        # An ENI id from the daemon's show enis, by TAB.
        sh.send("show eni 076\t")
        sh.expect(ENI[3:], what="ENI id completed")
        sh.send("\r")
        sh.expect(b"hook_runs: +1", what="show eni output")
        sh.expect(b"route:", what="routes of the ENI")
        sh.expect(PROMPT)

        # A link name, by TAB, in an abbreviated command.
        sh.send("sh eni gwi-e\t")
        sh.expect(LINK[5:], what="link name completed")
        sh.send("\r")
        sh.expect(("eni: +" + ENI).encode(), what="show eni by link name")
        sh.expect(PROMPT)

        # ? lists what may come next; the line stays as it was.
        sh.send("show flows ?")
        sh.expect(b"limit +at most N flows", what="? help")
        sh.expect(b"<Enter> +run the command", what="? says the command is complete")
        sh.send("lim\t")
        sh.expect("limit ", what="'lim' completed after ?")
        sh.send("2\r")
        sh.expect(b"eni +proto +src", what="show flows header")
        sh.expect(PROMPT)

        # Ambiguity is an error that names the choices.
        sh.send("sh en\r")
        sh.expect("ambiguous command 'show en': enis, eni", what="ambiguity error")
        sh.expect(PROMPT)

        # ^C drops the line being edited.
        sh.send("show bogus")
        sh.send(b"\x03")
        sh.expect(PROMPT, what="a fresh prompt after ^C")
        sh.send("show drops\r")
        sh.expect(b"bad-version", what="show drops after ^C")
        sh.expect(PROMPT)

        # ^C gives up on a command the daemon is slow to answer.
        sh.send("show workers\r")
        time.sleep(0.3)
        t0 = time.monotonic()
        sh.send(b"\x03")
        sh.expect("gwlbctl: interrupted", timeout=2, what="^C interrupting a command")
        sh.expect(PROMPT, timeout=2)
        if b"^C" in sh.buf:
            fail("one ^C acted twice", sh)
        if time.monotonic() - t0 > 1.5:
            fail("^C took %.1f s" % (time.monotonic() - t0), sh)
        sh.send("show enis\r")
        sh.expect(b"gwi-jgaxFrqQprQ", what="the next command after ^C")
        sh.expect(PROMPT)

        # The daemon goes away: the prompt says so; it comes back: reconnected.
        server.send_signal(signal.SIGTERM)
        server.wait(5)
        sh.expect("gwlbtund went away", what="notice of the daemon leaving")
        sh.expect(PROMPT_DOWN, what="the disconnected prompt")
        sh.send("show status\r")
        sh.expect(b"cannot reach gwlbtund at .*gwlbtund.sock", what="unreachable error")
        sh.expect(PROMPT_DOWN, what="still disconnected after the error")
        server = start_fake(fake, sock)
        sh.expect("connected to gwlbtund", timeout=5, what="reconnection notice")
        sh.expect(PROMPT)
        sh.send("show enis\r")
        sh.expect(b"gwi-jgaxFrqQprQ", what="show enis after reconnecting")
        sh.expect(PROMPT)

        sh.send("quit\r")
        _, status = os.waitpid(sh.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            fail("gwlbctl exited with status %r" % status, sh)

        hist = [l.strip() for l in
                open(os.path.join(tmp, ".gwlbctl_history")).read().splitlines()]
        for want in ("show eni 076bc493b822cd32f", "sh eni gwi-e8WXgsTQDkf", "quit"):
            if want not in hist:
                fail("history lacks %r: %r" % (want, hist), sh)
        print("ctl-shell-check: completion, ?, ambiguity, ^C (line and command), "
              "reconnect, history: ok")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(5)
        if sh is not None:
            try:
                os.kill(sh.pid, signal.SIGKILL)
                os.waitpid(sh.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
