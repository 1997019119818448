"""id_measure.py - runs ppscan-id in a lab namespace and measures what it cost: wall time, CPU
seconds (user + system, from wait4), peak resident memory (VmHWM) and the peak number of
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


def _mem_kib(pid):
    """(VmRSS, VmHWM) of pid in KiB, (0, 0) once it is gone. VmHWM is the peak since exec():
    unlike wait4's ru_maxrss it does not count the forked Python parent's pages."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def run(netns, argv, output, stderr_path):
    """Runs argv (ppscan-id and its arguments; -o output is added) in netns. Returns a dict:
    rc, wall_s, cpu_s (its user + system seconds, wait4), maxrss_kib (its peak VmHWM, sampled
    every 10 ms), peak_conns, rss_at_peak_kib (VmRSS when the socket count peaked), summary
    (the last stderr line), records (the parsed NDJSON lines), raw (the output bytes)."""
    if os.path.exists(output):
        os.unlink(output)
    cmd = ["ip", "netns", "exec", netns] + list(argv) + ["-o", output]
    errf = open(stderr_path, "wb")
    t0 = time.monotonic()
    # meson test sets MALLOC_PERTURB_, which makes malloc write every block it hands out and so
    # touch each slot's reserved receive and send buffers: the worst case (every server filled
    # them), not what a run costs. The measurement runs without it.
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, stdin=subprocess.DEVNULL,
                         env=env)
    peak = [0, 0, 0]  # sockets, VmRSS then, VmHWM
    stop = threading.Event()

    def sampler():
        # `ip netns exec` execs the program, so p.pid is ppscan-id itself (once it has exec'd:
        # before, the socket count is 0 and the memory is the forked Python's, not counted)
        while not stop.is_set():
            s = _sockets(p.pid)
            rss, hwm = _mem_kib(p.pid)
            try:
                exe = os.readlink(f"/proc/{p.pid}/exe")
            except OSError:
                exe = ""
            if os.path.basename(exe) == os.path.basename(argv[0]):
                if s > peak[0]:
                    peak[0], peak[1] = s, rss
                peak[2] = max(peak[2], hwm)
            time.sleep(0.01)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    stop.set()
    th.join()
    errf.close()
    raw = open(output, "rb").read() if os.path.exists(output) else b""
    records = [json.loads(l) for l in raw.decode("utf-8").splitlines() if l.strip()]
    err = open(stderr_path, "rb").read().decode("utf-8", "replace").strip().splitlines()
    return {
        "rc": p.returncode, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
        "maxrss_kib": peak[2], "peak_conns": peak[0], "rss_at_peak_kib": peak[1],
        "summary": err[-1] if err else "", "records": records, "raw": raw,
    }


def memory_per_connection(netns, binary, blocklist, workdir, levels, ports,
                          greeting_wait=3, timeout=2, tag="mem"):
    """At each concurrency c of `levels`: c silent endpoints on `ports`, -c c -r 0
    --per-host 0 --max-handshakes 1, so all c connections are in flight together, twice
    over: first in the greeting window (the slot and the buffers no server has filled; RSS
    sampled when the socket count peaks, within the window), then in the one client-first
    handshake, the request sent and no answer coming (the run's peak RSS). Which handshake
    that is follows from the ports, as the engine orders them: TLS on ports the TLS module
    lists (4443, 8443, 9443, 10443: an OpenSSL client waiting for a ServerHello), the most
    likely plaintext module elsewhere. Returns a list of dicts: concurrency, peak_conns,
    rss_greeting_kib, maxrss_kib, and per connection against the first level (None for it):
    bytes_per_conn_greeting, bytes_per_conn_handshake."""
    rows = []
    for c in levels:
        csv = os.path.join(workdir, f"{tag}{c}.csv")
        endpoints_csv(csv, c, ports)
        r = run(netns, [binary, "-b", blocklist, "-q", "-c", str(c), "-r", "0",
                        "--per-host", "0", "--greeting-wait", str(greeting_wait),
                        "-t", str(timeout), "--max-handshakes", "1", csv],
                os.path.join(workdir, f"{tag}{c}.json"), os.path.join(workdir, f"{tag}{c}.err"))
        hs = {}
        for x in r["records"]:
            for h in x.get("handshakes", []):
                hs[h.get("name")] = hs.get(h.get("name"), 0) + 1
        rows.append({"concurrency": c, "peak_conns": r["peak_conns"],
                     "rss_greeting_kib": r["rss_at_peak_kib"],
                     "maxrss_kib": r["maxrss_kib"], "rc": r["rc"],
                     "records": len(r["records"]), "handshakes": hs,
                     "no_service": sum(1 for x in r["records"]
                                       if x.get("protocol") == "no_service"),
                     "cpu_s": r["cpu_s"], "wall_s": r["wall_s"]})
    base = rows[0]
    for row in rows:
        dc = row["peak_conns"] - base["peak_conns"]
        for key, col in (("bytes_per_conn_greeting", "rss_greeting_kib"),
                         ("bytes_per_conn_handshake", "maxrss_kib")):
            row[key] = (None if row is base or dc <= 0 else
                        (row[col] - base[col]) * 1024 / dc)
    return rows
