"""Load generator for `aekit serve` (bench/serve_load.sh runs it):
concurrent keep-alive clients on loopback, standard library only.

  /usr/bin/python3 bench/serve_load.py URL --pid PID [--clients 20]
      [--requests 10000] [--rounds 2] [--seconds 60] [--seed 1]

Waits for GET /api/info, reads the server's RSS (VmRSS of /proc/PID/status),
then runs --rounds identical rounds (the same request list, same seed): each
round, --clients threads with one http.client keep-alive connection each take
the next request from the shared list until it is empty or --seconds have
passed. The mix: 70% GET /api/decode?p=X,Y (a random point of the plane),
10% GET /api/decode?z=... (a random code of latent-size values), 10% GET
/api/image/N, 10% POST /api/encode (a 28x28 PNG made once here). An error is
a status other than 200, a body that is not what the route answers (a PNG, or
JSON with a code), or an exception (timeout 10 s; the client reconnects).

Prints Markdown: per round requests/s, latency p50/p90/p99 per route and
overall (milliseconds, from sending the request to the last byte of the
answer), errors, RSS after the round, the client's CPU time (this process)
and the server's (/proc/PID/stat). Exit 1 if any request failed, if a round
was cut by --seconds, or if the RSS after the last round is more than 10%
above that after the first.
"""
import argparse
import http.client
import json
import os
import random
import resource
import struct
import sys
import threading
import time
import urllib.parse
import zlib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIX = [("decode p", 70), ("decode z", 10), ("image", 10), ("encode", 10)]
RSS_GROWTH_LIMIT = 0.10


def png_gray(w, h, pixel):
    """A greyscale 8-bit PNG of w x h, pixel(x, y) -> 0..255."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + bytes(pixel(x, y) for x in range(w)) for y in range(h))
    return (PNG_MAGIC + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def digit_like_png():
    """A ring, roughly a hand-drawn 0."""
    def pixel(x, y):
        r = ((x - 13.5) ** 2 / 36 + (y - 13.5) ** 2 / 81) ** 0.5
        return 255 if 0.75 < r < 1.15 else 0
    return png_gray(28, 28, pixel)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def cpu_seconds(pid):
    """User + system CPU time of process pid (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def get(host, port, path, timeout=5.0):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_for_info(host, port, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, body = get(host, port, "/api/info")
            if status == 200:
                return json.loads(body)
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"serve_load: no answer from /api/info in {seconds:g} s")
        time.sleep(0.1)


def make_requests(n, seed, info, png):
    """The request list: (route, method, path, body)."""
    rng = random.Random(seed)
    routes = [r for r, _ in MIX]
    weights = [w for _, w in MIX]
    latent, images = info["latent"], info["images"]
    out = []
    for _ in range(n):
        route = rng.choices(routes, weights)[0]
        if route == "decode p":
            x, y = rng.uniform(-3, 3), rng.uniform(-3, 3)
            out.append((route, "GET", f"/api/decode?p={x:.4f},{y:.4f}", None))
        elif route == "decode z":
            z = ",".join(f"{rng.gauss(0, 1.5):.4f}" for _ in range(latent))
            out.append((route, "GET", f"/api/decode?z={z}", None))
        elif route == "image":
            out.append((route, "GET", f"/api/image/{rng.randrange(images)}", None))
        else:
            out.append((route, "POST", "/api/encode", png))
    return out


def answer_ok(route, status, body):
    if status != 200:
        return False
    if route == "encode":
        try:
            return "code" in json.loads(body)
        except ValueError:
            return False
    return body.startswith(PNG_MAGIC)


def run_round(host, port, reqs, clients, seconds):
    """Returns (latencies {route: [s]}, errors [str], wall s, done, cut)."""
    lock = threading.Lock()
    next_i = [0]
    lat = {r: [] for r, _ in MIX}
    errors = []
    deadline = time.monotonic() + seconds
    cut = [False]

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=10)
        mine = []
        while True:
            if time.monotonic() > deadline:
                cut[0] = True
                break
            with lock:
                i = next_i[0]
                if i >= len(reqs):
                    break
                next_i[0] = i + 1
            route, method, path, body = reqs[i]
            headers = {"Content-Type": "image/png"} if body is not None else {}
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                dt = time.perf_counter() - t0
                if answer_ok(route, r.status, data):
                    mine.append((route, dt))
                else:
                    with lock:
                        errors.append(f"{method} {path}: {r.status} {data[:120]!r}")
                if r.will_close:
                    conn.close()
            except Exception as e:  # counted, then a new connection
                with lock:
                    errors.append(f"{method} {path}: {type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.close()
        with lock:
            for route, dt in mine:
                lat[route].append(dt)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return lat, errors, wall, min(next_i[0], len(reqs)), cut[0]


def pct(sorted_s, q):
    """Nearest-rank percentile q (0-100) of sorted seconds, in ms."""
    if not sorted_s:
        return float("nan")
    k = max(0, min(len(sorted_s) - 1, int(round(q / 100 * len(sorted_s) + 0.5)) - 1))
    return sorted_s[k] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    host, port = u.hostname, u.port

    info = wait_for_info(host, port, 30)
    png = digit_like_png()
    reqs = make_requests(a.requests, a.seed, info, png)
    ncpu = os.cpu_count()
    rss = [rss_kib(a.pid)]
    print(f"{a.clients} client(s) (Python threads, one keep-alive connection each), "
          f"{a.requests} requests a round ({', '.join(f'{w}% {r}' for r, w in MIX)}), "
          f"at most {a.seconds:g} s a round; server: {info['kind']}, latent {info['latent']}, "
          f"{info['images']} test images; {ncpu} CPUs, load before: "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
    print()
    print("| round | requests | s | requests/s | errors | route | n | p50 ms | p90 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    notes = []
    for rnd in range(1, a.rounds + 1):
        c0, s0 = self_cpu_seconds(), cpu_seconds(a.pid)
        lat, errors, wall, done, cut = run_round(host, port, reqs, a.clients, a.seconds)
        client_cpu, server_cpu = self_cpu_seconds() - c0, cpu_seconds(a.pid) - s0
        rss.append(rss_kib(a.pid))
        ok = sum(len(v) for v in lat.values())
        every = sorted(x for v in lat.values() for x in v)
        rows = [("all", every)] + [(r, sorted(lat[r])) for r, _ in MIX]
        for j, (route, s) in enumerate(rows):
            head = (f"{rnd} | {done} | {wall:.2f} | {done / wall:.0f} | {len(errors)}"
                    if j == 0 else " | | | |")
            print(f"| {head} | {route} | {len(s)} | {pct(s, 50):.2f} | {pct(s, 90):.2f} | {pct(s, 99):.2f} |")
        busy = client_cpu / wall
        notes.append(f"round {rnd}: client CPU {client_cpu:.1f} s ({busy:.0%} of one core), "
                     f"server CPU {server_cpu:.1f} s ({server_cpu / wall:.0%} of one core) "
                     f"in {wall:.1f} s ({client_cpu / max(done, 1) * 1e6:.0f} and "
                     f"{server_cpu / max(done, 1) * 1e6:.0f} us of CPU a request); "
                     f"RSS after {rss[-1] / 1024:.1f} MiB"
                     + ("; the client saturates a core (Python's GIL lets its threads use "
                        "about one): requests/s is the client's limit, not the server's"
                        if busy > 0.85 else ""))
        for e in errors[:5]:
            notes.append(f"round {rnd} error: {e}")
        if errors:
            failed = True
        if cut:
            notes.append(f"round {rnd}: stopped after {a.seconds:g} s with {done} of "
                         f"{a.requests} requests sent")
            failed = True
        if ok + len(errors) != done:
            notes.append(f"round {rnd}: {done} requests taken, {ok + len(errors)} answered")
            failed = True
    print()
    for n in notes:
        print(f"- {n}")
    growth = (rss[-1] - rss[1]) / rss[1]
    print(f"- RSS: {rss[0] / 1024:.1f} MiB before, "
          + ", ".join(f"{r / 1024:.1f}" for r in rss[1:])
          + f" MiB after each round; last round against the first: {growth:+.1%}"
          + f" (limit +{RSS_GROWTH_LIMIT:.0%})")
    if growth > RSS_GROWTH_LIMIT:
        print(f"- FAIL: RSS grew {growth:+.1%} between round 1 and round {a.rounds}")
        failed = True
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
