"""Slow clients must not silence the clouds: clients that send half a request
line, or trickle a body, hold a worker only for a bounded time, and with the
default worker count a few dozen of them leave callbacks answered within a
second; real daemon, real PostgreSQL, real sockets."""
import socket
import time
import unittest
import uuid

import harness as h
import vodevents as ve

SIGN_KEY = "SignKeyForTests1"


def signed_tencent():
    t = int(time.time()) + 600
    fid = str(uuid.uuid4().int)[:19]
    return fid, ve.body(dict(ve.tencent_new_file_upload(fid),
                             Sign=ve.tencent_sign(SIGN_KEY, t), T=t))


def slow_clients(port, n):
    """n connections that send half a request line and then wait."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /callbacks/ten")
        socks.append(s)
    return socks


def timed_callback(port, timeout):
    """(status, seconds) of one signed callback on a fresh connection."""
    _, body = signed_tencent()
    req = (b"POST /callbacks/tencent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        try:
            head = s.recv(64)
        except TimeoutError:
            return None, time.monotonic() - t0
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, time.monotonic() - t0


def closed_within(sock, seconds):
    """True once the server closes sock (EOF or reset) within seconds."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if sock.recv(4096) == b"":
                return True
    except (ConnectionResetError, TimeoutError):
        return False if time.monotonic() >= deadline else True
    return False


class SlowClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.url = h.fresh_database()

    def daemon(self, **env):
        d = h.Daemon(self.url, dict({"VODHOOK_TENCENT_SIGN_KEY": SIGN_KEY}, **env))
        del d.env["VODHOOK_THREADS"]  # the default, unless env sets it
        d.env.update(env)
        return d

    def test_64_half_requests_leave_callbacks_answered(self):
        # With the default settings, as the attack was tried.
        with self.daemon() as d:
            socks = slow_clients(d.port, 64)
            try:
                status, took = timed_callback(d.port, 5)
                self.assertEqual(status, 200)
                self.assertLess(took, 1.0)
            finally:
                for s in socks:
                    s.close()

    def test_half_request_cut_after_the_request_timeout(self):
        with self.daemon(VODHOOK_THREADS="2",
                         VODHOOK_REQUEST_TIMEOUT_MS="1000") as d:
            socks = slow_clients(d.port, 2)
            try:
                t0 = time.monotonic()
                for s in socks:
                    self.assertTrue(closed_within(s, 5), "slow client kept")
                self.assertLess(time.monotonic() - t0, 4)
                status, took = timed_callback(d.port, 5)
                self.assertEqual(status, 200)
            finally:
                for s in socks:
                    s.close()

    def test_trickled_body_cut_after_the_body_timeout(self):
        before = int(h.psql(self.url, "SELECT count(*) FROM vod_events")[0][0])
        with self.daemon(VODHOOK_REQUEST_TIMEOUT_MS="1000",
                         VODHOOK_BODY_TIMEOUT_MS="1000") as d:
            t = int(time.time()) + 600
            fid = str(uuid.uuid4().int)[:19]
            ev = ve.tencent_new_file_upload(fid)
            ev["FileUploadEvent"]["MediaBasicInfo"]["Description"] = "x" * 160000
            body = ve.body(dict(ev, Sign=ve.tencent_sign(SIGN_KEY, t), T=t))
            head = (b"POST /callbacks/tencent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body))
            with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
                s.sendall(head)
                t0 = time.monotonic()
                answer = b""
                # 2 KiB every 100 ms: the whole body would take 8 s.
                for i in range(0, len(body), 2048):
                    try:
                        s.sendall(body[i:i + 2048])
                    except (BrokenPipeError, ConnectionResetError):
                        break
                    s.settimeout(0.1)
                    try:
                        answer = s.recv(4096)
                        break
                    except TimeoutError:
                        pass
                    except ConnectionResetError:
                        break
                took = time.monotonic() - t0
            self.assertLess(took, 4, "body not cut")
            self.assertFalse(answer.startswith(b"HTTP/1.1 200"), answer)
        after = int(h.psql(self.url, "SELECT count(*) FROM vod_events")[0][0])
        self.assertEqual(after, before)

if __name__ == "__main__":
    unittest.main()
