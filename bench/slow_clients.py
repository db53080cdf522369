"""Slow clients against callbacks: for each count N, keep N connections open
that send half a request line and then wait (one that vodhook closes is
opened again at once, as an attacker would), send callbacks on fresh
connections one after the other, and print how many were answered within a
second and the slowest answer. The slow connections are closed before the
next count.

    python3 bench/slow_clients.py PORT CALLBACK_PATH PID "N1 N2 ..."
"""
import json
import select
import socket
import sys
import threading
import time
import uuid

CALLBACKS = 20   # callbacks sent per count
PATIENCE = 10.0  # seconds a callback is waited for at most


def slow_client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /callbacks/ten")
    return s


class SlowClients:
    """n slow connections, each replaced as soon as vodhook closes it."""

    def __init__(self, port, n):
        self.port = port
        self.socks = [slow_client(port) for _ in range(n)]
        self.done = False
        self.reopened = 0
        self.thread = threading.Thread(target=self.keep)
        self.thread.start()

    def keep(self):
        while not self.done and self.socks:
            ready, _, _ = select.select(self.socks, [], [], 0.1)
            for s in ready:
                try:
                    gone = s.recv(4096) == b""
                except OSError:
                    gone = True
                if gone:
                    self.socks.remove(s)
                    s.close()
                    self.socks.append(slow_client(self.port))
                    self.reopened += 1

    def close(self):
        self.done = True
        self.thread.join()
        for s in self.socks:
            s.close()


def callback(port, path):
    """Seconds until the status line of one callback (None: no answer)."""
    fid = str(uuid.uuid4().int)[:19]
    body = json.dumps({"EventType": "NewFileUpload", "FileUploadEvent": {
        "FileId": fid, "MediaBasicInfo": {"Name": "bench"}}}).encode()
    req = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
           % (path.encode(), len(body))) + body
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as s:
            s.sendall(req)
            head = s.recv(64)
    except OSError:
        return None
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    return time.monotonic() - t0


def threads_of(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def rss_mib(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    port, path, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    counts = [int(n) for n in " ".join(sys.argv[4:]).split()]
    print("slow_clients answered_within_1s slowest_s reopened "
          "vodhook_threads vodhook_rss_mib")
    for n in counts:
        slow = SlowClients(port, n)
        took = [callback(port, path) for _ in range(CALLBACKS)]
        slow.close()
        ok = sum(1 for t in took if t is not None and t < 1.0)
        slowest = "none" if any(t is None for t in took) else \
            "%.3f" % max(took)
        print("%d %d/%d %s %d %d %.1f" % (n, ok, CALLBACKS, slowest,
                                          slow.reopened, threads_of(pid),
                                          rss_mib(pid)))
        sys.stdout.flush()
        time.sleep(0.5)  # the workers see the closes


if __name__ == "__main__":
    main()
