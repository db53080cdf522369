"""Times the status page's requests against a running vodhook (bench/page.sh
starts it over a database of many media records).

    VH_BENCH_TOKEN=... python3 bench/page.py PORT DATABASE_URL

Each request is sent WARMUP times, then RUNS times on one kept-alive
connection; prints its median, 95th percentile and largest time in
milliseconds, and the size of the answer. Then the time PostgreSQL takes
to count the media as the summary does (psql's \\timing), and its plan.
"""
import http.client
import os
import statistics
import subprocess
import sys
import time

WARMUP, RUNS = 20, 200


def main():
    port, url = int(sys.argv[1]), sys.argv[2]
    auth = {"Authorization": "Bearer " + os.environ["VH_BENCH_TOKEN"]}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(path):
        conn.request("GET", path, headers=auth)
        r = conn.getresponse()
        body = r.read()
        # A search by file id that finds nothing answers 404.
        if r.status != 200 and not (r.status == 404 and "/alibaba/" in path):
            raise SystemExit("%s: %d %s" % (path, r.status, body[:200]))
        return body

    # A cursor near the end of the listing, and a media in the middle.
    last = subprocess.run(["psql", "-X", "-At", url, "-c",
                           "SELECT max(id) - 100, (SELECT file_id FROM media WHERE provider ="
                           " 'tencent' ORDER BY id OFFSET (SELECT count(*) / 2 FROM media) LIMIT 1)"
                           " FROM media"], capture_output=True, text=True, check=True).stdout
    cursor, file_id = last.strip().split("|")
    paths = [
        "/", "/ui/app.js",
        "/v1/summary",
        "/v1/failures",
        "/v1/media?limit=50",
        "/v1/media?limit=50&cursor=" + cursor,
        "/v1/media?limit=50&state=failed",
        "/v1/media?limit=50&state=processing&provider=alibaba",
        "/v1/media?limit=50&provider=alibaba",
        "/v1/media/tencent/" + file_id,
        "/v1/media/tencent/" + file_id + "/events",
        "/v1/media/alibaba/" + file_id,
    ]
    print("%-58s %8s %8s %8s %8s" % ("request (ms)", "median", "p95", "max", "bytes"))
    for p in paths:
        times = []
        for i in range(WARMUP + RUNS):
            t0 = time.perf_counter()
            body = get(p)
            if i >= WARMUP:
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print("%-58s %8.2f %8.2f %8.2f %8d" % (p[:58], statistics.median(times),
                                               times[int(len(times) * 0.95) - 1], times[-1], len(body)))
    # The count itself, which /v1/summary runs at most once a second.
    sql = ("SELECT provider, state, count(*) FROM media GROUP BY provider, state;\n"
           * (WARMUP + RUNS // 4))
    out = subprocess.run(["psql", "-X", "-At", url], input="\\timing on\n" + sql,
                         capture_output=True, text=True, check=True).stdout
    times = sorted([float(line.split()[1]) for line in out.splitlines()
                    if line.startswith("Time:")][WARMUP:])
    print("\nthe summary's count in PostgreSQL (psql \\timing, %d runs): median %.2f ms,"
          " p95 %.2f ms" % (len(times), statistics.median(times),
                            times[int(len(times) * 0.95) - 1]))
    plan = subprocess.run(["psql", "-X", "-At", url, "-c",
                           "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT provider, state,"
                           " count(*) FROM media GROUP BY provider, state"],
                          capture_output=True, text=True, check=True).stdout
    print(plan)


if __name__ == "__main__":
    main()
