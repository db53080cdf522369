#!/usr/bin/env python3
"""The machine's own latency noise, measured with nothing else running.

    bench/noise.py DIR [SECONDS]

A callback's latency includes every moment the machine itself was away: a
virtual CPU the host did not run, a kernel thread holding a core (on these
machines, DAMON's proactive reclaim, kdamond), an fsync the disk was slow to
answer. None of that is vodhook's, and each such moment holds every request
in flight. This measures both kinds, one after the other, so that a
benchmark's tail can be read against them:

- CPU gaps: one process per core reads the monotonic clock in a tight loop;
  any step over 1 ms is time that process was not running. On an idle
  machine that is the host or the kernel, not another process of ours.
- fdatasync: 8 KiB appended and fdatasync'ed in DIR, again and again, as
  PostgreSQL's WAL commits are; its p50, p99 and maximum.

Prints one line per kind. Standard library only.
"""
import os
import sys
import time

GAP_NS = 1_000_000  # a step of the clock this long is time away


def spin(seconds, out):
    """Counts and sums the clock steps of at least GAP_NS; writes
    'count total_ns longest_ns' to the pipe out."""
    now = time.monotonic_ns
    end = now() + int(seconds * 1e9)
    n = total = longest = 0
    last = now()
    while last < end:
        t = now()
        d = t - last
        if d >= GAP_NS:
            n += 1
            total += d
            longest = max(longest, d)
        last = t
    os.write(out, f"{n} {total} {longest}\n".encode())


def cpu_gaps(seconds):
    cores = os.cpu_count() or 1
    r, w = os.pipe()
    pids = []
    for core in range(cores):
        pid = os.fork()
        if pid == 0:
            try:
                os.sched_setaffinity(0, {core})
                spin(seconds, w)
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(w)
    for pid in pids:
        os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        rows = [tuple(map(int, line.split())) for line in f]
    if len(rows) != cores:
        sys.exit("noise.py: a spinning process did not report")
    n = sum(x[0] for x in rows)
    lost = sum(x[1] for x in rows)
    longest = max(x[2] for x in rows)
    print(f"machine noise: CPU gaps of 1 ms or more: {n / seconds:.1f}/s over "
          f"{cores} cores, longest {longest / 1e6:.1f} ms, "
          f"{100 * lost / (seconds * 1e9 * cores):.2f}% of the time")


def fsync_latency(directory, seconds):
    path = os.path.join(directory, "noise.fsync")
    block = b"\0" * 8192
    lat = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            os.write(fd, block)
            t0 = time.monotonic_ns()
            os.fdatasync(fd)
            lat.append(time.monotonic_ns() - t0)
            # a WAL segment is 16 MB: start again, as a recycled one does
            if len(lat) % 2048 == 0:
                os.lseek(fd, 0, os.SEEK_SET)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))] / 1e6

    print(f"machine noise: fdatasync of 8 KiB in {directory}: {len(lat)} "
          f"in {seconds:g} s, p50 {pct(50):.2f} ms, p99 {pct(99):.2f} ms, "
          f"max {lat[-1] / 1e6:.2f} ms, {sum(x > 3e6 for x in lat)} over 3 ms")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: noise.py DIR [SECONDS]")
    seconds = float(sys.argv[2]) if len(sys.argv) == 3 else 5
    if seconds <= 0:
        sys.exit("noise.py: SECONDS must be positive")
    cpu_gaps(seconds)
    fsync_latency(sys.argv[1], seconds)


if __name__ == "__main__":
    main()
