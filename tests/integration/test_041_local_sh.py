"""deploy/local.sh as a newcomer runs it, in demo mode (the emulator as the
cloud), with the test's vodhook and a state directory of the test's: it
stops everything it started and exits 1 as soon as one of its processes
(vodhook, the emulator, PostgreSQL) ends, and a second run says nothing a
newcomer should not have to read."""
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

import harness as h

LOCAL_SH = os.path.join(h.SOURCE_DIR, "deploy", "local.sh")


def processes_under(path):
    """Pids of the processes whose command line names path."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmd and int(pid) != os.getpid():
            out.append((int(pid), cmd))
    return out


class LocalSh:
    """One run of local.sh; its stdout and stderr collected as they come."""

    def __init__(self, state, port):
        env = h.clean_env({"VH_LOCAL_BIN": h.BIN, "VH_LOCAL_STATE": state,
                           "VODHOOK_LISTEN": "127.0.0.1:%d" % port,
                           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")})
        self.proc = subprocess.Popen(["bash", LOCAL_SH], env=env,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.chunks = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.chunks.append(line.decode(errors="replace"))

    def output(self):
        return "".join(self.chunks)

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError("local.sh did not exit:\n" + self.output())
        self.reader.join(10)
        return rc


class LocalScript(unittest.TestCase):
    def setUp(self):
        h.require_env(self)
        self.state = os.path.join(h.tmpdir("vodhook-local-"), "state")
        # pg.sh runs PostgreSQL as the postgres user when run as root.
        os.chmod(os.path.dirname(self.state), 0o755)
        self.addCleanup(self.assert_nothing_left)

    def assert_nothing_left(self):
        left = processes_under(self.state)
        for pid, _ in left:
            os.kill(pid, signal.SIGKILL)
        self.assertEqual(left, [], "local.sh left these running")

    def test_port_taken(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            run = LocalSh(self.state, port)
            rc = run.wait()
        out = run.output()
        self.assertEqual(rc, 1, out)
        self.assertIn("vodhook: listen (VODHOOK_LISTEN)", out)
        self.assertIn("local.sh: vodhook exited", out)
        self.assertIn("local.sh: stopped", out)

    def test_a_process_ending_stops_the_rest_and_a_second_run(self):
        port = h.free_port()
        run = LocalSh(self.state, port)
        h.wait_for(lambda: "vodhook is running" in run.output() or
                   run.proc.poll() is not None, "local.sh to start", timeout=120)
        self.assertIn("DEMO CLOUD", run.output())
        # The status page's address, and the token to paste into it (never
        # in the address).
        with open(os.path.join(self.state, "api_token")) as f:
            token = f.read().strip()
        self.assertIn("  status page   http://127.0.0.1:%d/   (paste the token: %s)"
                      % (port, token), run.output())
        st, _, body = h.HttpClient(port).request("GET", "/")
        self.assertEqual(st, 200)
        self.assertIn(b"vodhook", body)
        emulator = [p for p, cmd in processes_under(self.state)
                    if "emulator.py" in cmd]
        self.assertEqual(len(emulator), 1, processes_under(self.state))
        os.kill(emulator[0], signal.SIGKILL)
        rc = run.wait()
        self.assertEqual(rc, 1, run.output())
        self.assertIn("local.sh: the emulator exited", run.output())
        self.assertEqual(processes_under(self.state), [])

        # Again, on the data kept: it starts without the server's notices,
        # and Ctrl-C stops it.
        run = LocalSh(self.state, port)
        h.wait_for(lambda: "vodhook is running" in run.output() or
                   run.proc.poll() is not None, "local.sh to start again",
                   timeout=120)
        self.assertNotIn("NOTICE", run.output())
        os.killpg(run.proc.pid, signal.SIGINT)
        self.assertEqual(run.wait(), 130, run.output())
        self.assertIn("local.sh: stopped", run.output())

        # PostgreSQL is one of the processes it started too.
        run = LocalSh(self.state, port)
        h.wait_for(lambda: "vodhook is running" in run.output() or
                   run.proc.poll() is not None, "local.sh to start a third time",
                   timeout=120)
        with open(os.path.join(self.state, "pg", "data", "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGINT)  # a fast shutdown
        self.assertEqual(run.wait(), 1, run.output())
        self.assertIn("local.sh: PostgreSQL exited", run.output())


if __name__ == "__main__":
    unittest.main()
