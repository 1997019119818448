"""id_measure.py - runs ppscan-id in a lab namespace and measures what it cost: wall time, CPU
seconds (user + system, from wait4), peak resident memory (ru_maxrss) and the peak number of
connections it held at once (its open sockets, sampled from /proc/PID/fd every 10 ms, with
VmRSS at that moment). Used by tests/id/hostile_test.py and bench/id_bench.py.

Memory per connection is measured, not computed: run() at concurrency c against c silent
endpoints (servers that accept and never send: hostile_servers.py mode `silent`) holds c
connections open at once for the greeting window and the handshake timeout; the difference
between two such runs' peak RSS, divided by the difference of their peak connection counts,
is what one more connection in flight costs in user space (the kernel's socket buffers come
on top and are not in RSS).
"""

import json
import os
import subprocess
import threading
import time


def endpoints_csv(path, n, ports, first="198.18.4.0", n_addrs=3072):
    """Writes n endpoints, address-major over n_addrs addresses from `first` (198.18.4.0 up to
    198.18.15.255 by default: no nftables rule of the lab touches them), each address with
    every port of `ports` in turn. Returns the list of (ip, port)."""
    a, b, c, d = (int(x) for x in first.split("."))
    base = a << 24 | b << 16 | c << 8 | d
    out = []
    with open(path, "w") as f:
        f.write("saddr,sport,classification\n")
        i = 0
        while len(out) < n:
            ip_n = base + (i // len(ports)) % n_addrs
            ip = f"{ip_n >> 24}.{(ip_n >> 16) & 255}.{(ip_n >> 8) & 255}.{ip_n & 255}"
            port = ports[i % len(ports)]
            f.write(f"{ip},{port},synack\n")
            out.append((ip, port))
            i += 1
    return out


def _sockets(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def _rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(netns, argv, output, stderr_path, sample=True):
    """Runs argv (ppscan-id and its arguments; -o output is added) in netns. Returns a dict:
    rc, wall_s, cpu_s, maxrss_kib, peak_conns, rss_at_peak_kib, summary (last stderr line),
    records (the parsed NDJSON lines), raw (the output bytes)."""
    if os.path.exists(output):
        os.unlink(output)
    cmd = ["ip", "netns", "exec", netns] + list(argv) + ["-o", output]
    errf = open(stderr_path, "wb")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, stdin=subprocess.DEVNULL)
    peak = [0, 0]
    stop = threading.Event()

    def sampler():
        # `ip netns exec` execs the program, so p.pid is ppscan-id itself
        while not stop.is_set():
            s = _sockets(p.pid)
            if s > peak[0]:
                peak[0], peak[1] = s, _rss_kib(p.pid)
            time.sleep(0.01)

    th = threading.Thread(target=sampler, daemon=True)
    if sample:
        th.start()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    stop.set()
    if sample:
        th.join()
    errf.close()
    raw = open(output, "rb").read() if os.path.exists(output) else b""
    records = [json.loads(l) for l in raw.decode("utf-8").splitlines() if l.strip()]
    err = open(stderr_path, "rb").read().decode("utf-8", "replace").strip().splitlines()
    return {
        "rc": p.returncode, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
        "maxrss_kib": ru.ru_maxrss, "peak_conns": peak[0], "rss_at_peak_kib": peak[1],
        "summary": err[-1] if err else "", "records": records, "raw": raw,
    }


def memory_per_connection(netns, binary, blocklist, workdir, levels, ports,
                          greeting_wait=3, timeout=2):
    """At each concurrency c of `levels`: c silent endpoints, -c c -r 0, one client-first
    handshake, so all c connections are in flight together, twice over: first in the
    greeting window (plaintext state: the slot and the buffers a server has not filled; RSS
    sampled when the socket count peaks, within the window), then in a TLS handshake (the
    engine's first client-first handshake on a silent port is TLS: an OpenSSL client state
    waiting for a ServerHello that never comes; the run's peak RSS). Returns a list of dicts:
    concurrency, peak_conns, rss_greeting_kib, maxrss_kib, and per connection against the
    first level (None for it): bytes_per_conn_greeting, bytes_per_conn_tls."""
    rows = []
    for c in levels:
        csv = os.path.join(workdir, f"mem{c}.csv")
        endpoints_csv(csv, c, ports)
        r = run(netns, [binary, "-b", blocklist, "-q", "-c", str(c), "-r", "0",
                        "--per-host", "0", "--greeting-wait", str(greeting_wait),
                        "-t", str(timeout), "--max-handshakes", "1", csv],
                os.path.join(workdir, f"mem{c}.json"), os.path.join(workdir, f"mem{c}.err"))
        rows.append({"concurrency": c, "peak_conns": r["peak_conns"],
                     "rss_greeting_kib": r["rss_at_peak_kib"],
                     "maxrss_kib": r["maxrss_kib"], "rc": r["rc"],
                     "records": len(r["records"]),
                     "no_service": sum(1 for x in r["records"]
                                       if x.get("protocol") == "no_service"),
                     "cpu_s": r["cpu_s"], "wall_s": r["wall_s"]})
    base = rows[0]
    for row in rows:
        dc = row["peak_conns"] - base["peak_conns"]
        for key, col in (("bytes_per_conn_greeting", "rss_greeting_kib"),
                         ("bytes_per_conn_tls", "maxrss_kib")):
            row[key] = (None if row is base or dc <= 0 else
                        (row[col] - base[col]) * 1024 / dc)
    return rows
