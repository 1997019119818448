#!/usr/bin/python3
"""id_bench.py - ppscan-id beside Debian's nmap -sV (default intensity) on the same lab
endpoints, in one run. Called by bench/id_bench.sh once the lab and its servers are up.

Measures (every number from this run, on this machine):
  1. agreement: nmap -sV and ppscan-id on the same NMAP_HOSTS addresses x the servers' ports;
     per endpoint, protocol, product and version compared; a table per service;
  2. endpoints identified per second: nmap on its set (wall time of the whole -sV run),
     ppscan-id on the same set and on ID_ADDRS addresses x the same ports (thousands of
     endpoints: throughput-bound, not latency-bound), median of RUNS runs;
  3. endpoints per CPU-second (user + system) for the plaintext services and TLS handshakes
     per CPU-second (the HTTPS port alone), median of RUNS runs;
  4. memory per connection in flight at concurrency 100, 1,000 and 10,000 (tests/id/
     id_measure.py: c silent endpoints held open at once).
Writes bench/results/id_bench.json, bench/results/id_agreement.csv and the "ppscan-id"
section of BENCHMARKS.md (between its markers; the rest of the file is left as it is).
"""

import csv
import json
import os
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "id"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench  # noqa: E402
import id_measure  # noqa: E402

BEGIN, END = "<!-- id_bench: begin -->", "<!-- id_bench: end -->"

# port -> (service as this bench names it, the server's package and version source)
SERVICES = {2222: "ssh", 8080: "http", 8443: "https", 6380: "redis", 11212: "memcached"}
# nmap's service names -> ppscan-id's protocol names (nmap "ssl/http" = http inside TLS)
NMAP_NAMES = {"ssh": "ssh", "http": "http", "redis": "redis", "memcached": "memcached",
              "https": "http", "ssl": "tls"}


def log(msg):
    print(f"id_bench: {msg}", file=sys.stderr, flush=True)


def env_int(name, default):
    return int(os.environ.get(name, default))


def addresses(n, first=(198, 18, 4, 0)):
    base = first[0] << 24 | first[1] << 16 | first[2] << 8 | first[3]
    return [f"{(base + i) >> 24}.{((base + i) >> 16) & 255}.{((base + i) >> 8) & 255}."
            f"{(base + i) & 255}" for i in range(n)]


def write_input(path, addrs, ports):
    with open(path, "w") as f:
        f.write("saddr,sport,classification\n")
        for a in addrs:
            for p in ports:
                f.write(f"{a},{p},synack\n")
    return len(addrs) * len(ports)


def run_nmap(cli, addrs, ports, work):
    hosts = os.path.join(work, "nmap_hosts.txt")
    open(hosts, "w").write("\n".join(addrs) + "\n")
    xml = os.path.join(work, "nmap.xml")
    cmd = ["ip", "netns", "exec", cli, "nmap", "-sV", "-Pn", "-n", "-p",
           ",".join(map(str, ports)), "-iL", hosts, "-oX", xml]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit(f"id_bench: nmap exited {rc}")
    res = {}
    for host in ET.parse(xml).getroot().iter("host"):
        ip = host.find("address").get("addr")
        for port in host.iter("port"):
            st = port.find("state")
            if st is None or st.get("state") != "open":
                continue
            s = port.find("service")
            name = s.get("name", "") if s is not None else ""
            tunnel = s.get("tunnel", "") if s is not None else ""
            res[(ip, int(port.get("portid")))] = {
                "name": name, "tunnel": tunnel,
                "product": (s.get("product") or "") if s is not None else "",
                "version": (s.get("version") or "") if s is not None else "",
                "method": s.get("method", "") if s is not None else ""}
    return res, wall, ru.ru_utime + ru.ru_stime, " ".join(cmd[4:])


def nmap_protocol(n):
    if not n["name"] or n["method"] == "table":  # "table": from the port number only
        return ""
    return NMAP_NAMES.get(n["name"], n["name"])


def our_protocol(r):
    return r.get("protocol") or ""


def first_word(s):
    return s.lower().replace("/", " ").split()[0] if s and s.split() else ""


def product_agrees(a, b):
    """Products agree when their first words agree, case aside ("Redis key-value store" and
    "Redis", "nginx" and "nginx")."""
    return bool(a) and bool(b) and first_word(a) == first_word(b)


def version_agrees(a, b):
    """Versions agree when one is the other or starts it at a boundary ("9.2p1" and "9.2p1
    Debian 2+deb12u10")."""
    if not a or not b:
        return False
    a, b = a.lower(), b.lower()
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return long_ == short or (long_.startswith(short) and not long_[len(short)].isalnum())


def agreement(nm, ours, ports):
    """Per endpoint of nmap's set: for each of protocol, product and version: both name it
    and agree / only nmap / only ppscan-id / they disagree / neither."""
    rows = {}
    per_ep = []
    for key in sorted(nm.keys() | ours.keys()):
        n, o = nm.get(key), ours.get(key)
        svc = SERVICES.get(key[1], str(key[1]))
        row = rows.setdefault(svc, {"service": svc, "port": key[1], "endpoints": 0,
                                    "nmap": {}, "ours": {},
                                    **{f"{f}_{k}": 0 for f in ("protocol", "product", "version")
                                       for k in ("agree", "nmap_only", "ours_only",
                                                 "disagree", "neither")}})
        row["endpoints"] += 1
        np_ = nmap_protocol(n) if n else ""
        if n and n["tunnel"] == "ssl" and np_:
            np_ = np_ + "+tls"
        op = our_protocol(o) if o else ""
        if o and o.get("tls") and op not in ("tls", ""):
            op = op + "+tls"
        if op in ("unknown", "no_service"):
            op = ""
        vals = {"protocol": (np_, op),
                "product": ((n or {}).get("product", ""), (o or {}).get("product") or ""),
                "version": ((n or {}).get("version", ""), (o or {}).get("version") or "")}
        same = {"protocol": lambda a, b: a == b, "product": product_agrees,
                "version": version_agrees}
        ep = {"ip": key[0], "port": key[1], "service": svc}
        for f, (a, b) in vals.items():
            if a and b:
                k = "agree" if same[f](a, b) else "disagree"
            elif a:
                k = "nmap_only"
            elif b:
                k = "ours_only"
            else:
                k = "neither"
            row[f"{f}_{k}"] += 1
            ep[f"nmap_{f}"], ep[f"ours_{f}"], ep[f"{f}"] = a, b, k
        label_n = " / ".join(x or "-" for x in (np_, vals["product"][0], vals["version"][0]))
        label_o = " / ".join(x or "-" for x in (op, vals["product"][1], vals["version"][1]))
        row["nmap"][label_n] = row["nmap"].get(label_n, 0) + 1
        row["ours"][label_o] = row["ours"].get(label_o, 0) + 1
        per_ep.append(ep)
    return [rows[s] for s in sorted(rows, key=lambda s: rows[s]["port"])], per_ep


def id_run(cli, binary, blocklist, inp, work, tag, extra=()):
    r = id_measure.run(cli, [binary, "-b", blocklist, "-c", str(env_int("ID_CONCURRENCY", 5000)),
                             "-r", "0", *extra, inp],
                       os.path.join(work, f"{tag}.json"), os.path.join(work, f"{tag}.err"))
    if r["rc"] != 0:
        raise SystemExit(f"id_bench: ppscan-id exited {r['rc']}: {r['summary']}")
    recs = {(x["ip"], x["port"]): x for x in r["records"]}
    named = sum(1 for x in r["records"] if x.get("protocol") not in ("unknown", "no_service",
                                                                     None))
    tls_ok = sum(1 for x in r["records"] if (x.get("tls") or {}).get("classification") == "tls")
    return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "endpoints": len(r["records"]),
            "named": named, "tls_handshakes": tls_ok, "summary": r["summary"],
            "maxrss_kib": r["maxrss_kib"]}, recs


def median_run(runs, key):
    return statistics.median(x[key] for x in runs)


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}" if x >= 10 else f"{x:,.2f}"


def top(d):
    return "; ".join(f"{k} ({v})" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))


def main(argv):
    binary, cli, work, lab = argv[1], argv[2], argv[3], argv[4]
    blocklist = os.path.join(ROOT, "scripts", "lab-blocklist.conf")
    ports = sorted(SERVICES)
    nmap_hosts = env_int("NMAP_HOSTS", 64)
    id_addrs = env_int("ID_ADDRS", 3072)
    runs = env_int("RUNS", 3)
    levels = [int(x) for x in os.environ.get("LEVELS", "100 1000 10000").split()]
    t_start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    load0 = open("/proc/loadavg").read().split()[:3]

    nm_addrs = addresses(nmap_hosts)
    small = os.path.join(work, "small.csv")
    n_small = write_input(small, nm_addrs, ports)
    log(f"nmap -sV on {n_small} endpoints ({nmap_hosts} addresses x {len(ports)} ports)")
    nm, nm_wall, nm_cpu, nm_cmd = run_nmap(cli, nm_addrs, ports, work)
    nm_named = sum(1 for v in nm.values() if nmap_protocol(v))
    log(f"nmap: {len(nm)} open, {nm_named} named in {nm_wall:.1f} s ({nm_cpu:.2f} CPU s)")

    log(f"ppscan-id on the same {n_small} endpoints")
    same, ours = id_run(cli, binary, blocklist, small, work, "same")
    table, per_ep = agreement(nm, ours, ports)

    big = os.path.join(work, "big.csv")
    n_big = write_input(big, addresses(id_addrs), ports)
    plain = os.path.join(work, "plain.csv")
    n_plain = write_input(plain, addresses(id_addrs), [p for p in ports if p != 8443])
    tls = os.path.join(work, "tls.csv")
    n_tls = write_input(tls, addresses(id_addrs), [8443])
    big_runs, plain_runs, tls_runs = [], [], []
    for i in range(runs):
        log(f"run {i + 1}/{runs}: ppscan-id on {n_big} endpoints, {n_plain} plaintext, "
            f"{n_tls} TLS")
        big_runs.append(id_run(cli, binary, blocklist, big, work, "big")[0])
        plain_runs.append(id_run(cli, binary, blocklist, plain, work, "plain")[0])
        tls_runs.append(id_run(cli, binary, blocklist, tls, work, "tls")[0])
    for x in big_runs + plain_runs + tls_runs:
        x["eps"] = x["named"] / x["wall_s"]
        x["eps_cpu"] = x["named"] / x["cpu_s"] if x["cpu_s"] else 0
        x["hs_cpu"] = x["tls_handshakes"] / x["cpu_s"] if x["cpu_s"] else 0
    log("memory per connection")
    plain_ports, tls_ports = [7001, 7002, 7003, 7004], [4443, 8443, 9443, 10443]
    mem_plain = id_measure.memory_per_connection(cli, binary, blocklist, work, levels,
                                                 plain_ports, tag="plain")
    # TLS goes first on ports the TLS module lists; nginx holds 8443 until now
    subprocess.run([os.path.join(ROOT, "bench", "id_servers.sh"), "stop",
                    os.path.join(work, "srv")], check=True)
    time.sleep(1)
    subprocess.run([os.path.join(ROOT, "tests", "id", "hostile_lab.sh"), "silent", lab, work]
                   + [str(p) for p in tls_ports], check=True)
    mem_tls = id_measure.memory_per_connection(cli, binary, blocklist, work, levels, tls_ports,
                                               tag="tls")
    mem = [{"concurrency": p["concurrency"], "peak_conns": p["peak_conns"],
            "rss_greeting_kib": p["rss_greeting_kib"], "rss_plain_kib": p["maxrss_kib"],
            "rss_tls_kib": t["maxrss_kib"], "per_conn_greeting": p["bytes_per_conn_greeting"],
            "per_conn_plain": p["bytes_per_conn_handshake"],
            "per_conn_tls": t["bytes_per_conn_handshake"], "first_plain": p["handshakes"],
            "first_tls": t["handshakes"], "tls_peak_conns": t["peak_conns"]}
           for p, t in zip(mem_plain, mem_tls)]
    load1 = open("/proc/loadavg").read().split()[:3]

    nm_eps = nm_named / nm_wall
    res = {
        "when": t_start, "commit": commit, "load_start": load0, "load_end": load1,
        "nmap": {"command": nm_cmd, "endpoints": n_small, "named": nm_named, "wall_s": nm_wall,
                 "cpu_s": nm_cpu, "eps": nm_eps,
                 "eps_cpu": nm_named / nm_cpu if nm_cpu else 0,
                 "version": subprocess.run(["nmap", "--version"], capture_output=True,
                                           text=True).stdout.split("\n")[0]},
        "same_set": same, "big": big_runs, "plain": plain_runs, "tls": tls_runs,
        "agreement": table, "memory": mem,
        "sizes": {"small": n_small, "big": n_big, "plain": n_plain, "tls": n_tls},
    }
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "id_bench.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(ROOT, "bench", "results", "id_agreement.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(per_ep[0].keys()) if per_ep else ["ip"])
        w.writeheader()
        w.writerows(per_ep)
    write_markdown(res)
    log("done: bench/results/id_bench.json, id_agreement.csv, BENCHMARKS.md")


def write_markdown(res):
    nm = res["nmap"]
    big_eps = median_run(res["big"], "eps")
    L = [BEGIN, "## ppscan-id: service identification beside nmap -sV", "",
         f"Written by `bench/id_bench.sh` ({res['when']}, ppscan `{res['commit']}`, load "
         f"{' '.join(res['load_start'])} at the start, {' '.join(res['load_end'])} at the end; "
         "the 2-core machine is shared, so absolute rates are noisy). One run: the lab's "
         "target namespace holds real Debian servers listening on 0.0.0.0 (OpenSSH 2222, nginx "
         "8080 and 8443 with TLS, Redis 6380, memcached 11212: ports off their IANA ones), so "
         "every lab address is one more endpoint of the same servers; client and servers share "
         "the machine. ppscan-id runs with its defaults (greeting window 2 s, at most 5 "
         f"handshakes, timeouts 5 s) and `-c {env_int('ID_CONCURRENCY', 5000)} -r 0`; nmap "
         f"with `{nm['command']}` ({nm['version']}, default intensity 7). Raw data: "
         "bench/results/id_bench.json, per endpoint bench/results/id_agreement.csv.", "",
         "### Agreement on the same endpoints", "",
         f"{res['sizes']['small']} endpoints. Per endpoint and field: *agree* (both name it, "
         "the same: products by their first word, versions when one starts the other), "
         "*nmap only*, *ppscan-id only*, *disagree*.", "",
         "| service | endpoints | nmap says | ppscan-id says | protocol agree / nmap only / "
         "ppscan-id only / disagree | product | version |", "|---|---|---|---|---|---|---|"]
    worse = 0
    for r in res["agreement"]:
        cell = {f: f"{r[f + '_agree']} / {r[f + '_nmap_only']} / {r[f + '_ours_only']} / "
                   f"{r[f + '_disagree']}" for f in ("protocol", "product", "version")}
        worse += sum(r[f + "_nmap_only"] + r[f + "_disagree"]
                     for f in ("protocol", "product", "version"))
        L.append(f"| {r['service']} ({r['port']}) | {r['endpoints']} | {top(r['nmap'])} | "
                 f"{top(r['ours'])} | {cell['protocol']} | {cell['product']} | "
                 f"{cell['version']} |")
    L += ["", f"Goal: every endpoint nmap names, named at least as well — **"
          f"{'met' if worse == 0 else f'not met ({worse} fields nmap names that ppscan-id misses or names otherwise)'}**.",
          "", "### Throughput", "",
          "Endpoints identified (a protocol named) per second of wall time, and per CPU-second "
          "of the identifying process (user + system). ppscan-id: median of "
          f"{len(res['big'])} run{'s' if len(res['big']) > 1 else ''} (min – max).", "",
          "| run | endpoints | named | seconds | endpoints/s | CPU s | endpoints per CPU-s |",
          "|---|---|---|---|---|---|---|",
          f"| nmap -sV | {nm['endpoints']} | {nm['named']} | {nm['wall_s']:.1f} | "
          f"{fmt_rate(nm['eps'])} | {nm['cpu_s']:.2f} | {fmt_rate(nm['eps_cpu'])} |",
          f"| ppscan-id, the same endpoints | {res['same_set']['endpoints']} | "
          f"{res['same_set']['named']} | {res['same_set']['wall_s']:.1f} | "
          f"{fmt_rate(res['same_set']['named'] / res['same_set']['wall_s'])} | "
          f"{res['same_set']['cpu_s']:.2f} | "
          f"{fmt_rate(res['same_set']['named'] / max(res['same_set']['cpu_s'], 1e-9))} |"]
    for name, key in (("all services", "big"), ("plaintext services", "plain"),
                      ("HTTPS only", "tls")):
        rr = res[key]
        eps = [x["eps"] for x in rr]
        epc = [x["eps_cpu"] for x in rr]
        L.append(f"| ppscan-id, {name} | {rr[0]['endpoints']} | {median_run(rr, 'named'):.0f} | "
                 f"{median_run(rr, 'wall_s'):.1f} | **{fmt_rate(statistics.median(eps))}** "
                 f"({fmt_rate(min(eps))} – {fmt_rate(max(eps))}) | "
                 f"{median_run(rr, 'cpu_s'):.2f} | {fmt_rate(statistics.median(epc))} |")
    tls_hs = [x["hs_cpu"] for x in res["tls"]]
    ratio = big_eps / nm["eps"] if nm["eps"] else 0
    L += ["", f"Throughput ratio ppscan-id / nmap (endpoints named per second): **{ratio:,.0f}×** "
          f"— goal ≥ 50× **{'met' if ratio >= 50 else 'not met'}**. nmap waits up to 6 s for a "
          "greeting on every port that does not speak first and runs a bounded number of "
          "probes in parallel; ppscan-id keeps thousands of connections in flight on one "
          "thread.", "",
          f"TLS: **{fmt_rate(statistics.median(tls_hs))} completed handshakes per CPU-second** "
          f"({fmt_rate(min(tls_hs))} – {fmt_rate(max(tls_hs))}; full handshakes, RSA-2048 "
          "server, certificate parsed and verified, then the HTTP request inside), bounded by "
          "libcrypto.", "",
          "### Memory per connection in flight", "",
          "c silent endpoints (a listener that accepts and never sends) at `-c c -r 0 "
          "--per-host 0 --max-handshakes 1`: all c connections are open at once, first in the "
          "greeting window, then in one client-first handshake whose answer never comes: on "
          "ports 7001-7004 a plaintext one (the engine's most likely module, HTTP: its request "
          "sent), on 4443, 8443, 9443, 10443 TLS (the ports the TLS module lists: an OpenSSL "
          "client waiting for a ServerHello). Resident memory of ppscan-id (VmRSS when the "
          "connections peak in the greeting window, VmHWM for the handshakes); per connection "
          f"= the difference to the c = {res['memory'][0]['concurrency']} run over the "
          "difference in connections. Kernel socket buffers are not in RSS.", "",
          "| concurrency | in flight | RSS: greeting window | plaintext handshake | TLS "
          "handshake | per connection: greeting | plaintext | TLS |",
          "|---|---|---|---|---|---|---|---|"]
    for m in res["memory"]:
        def kib(v):
            return "—" if v is None else f"{v / 1024:.1f} KiB"
        L.append(f"| {m['concurrency']:,} | {m['peak_conns']:,} | "
                 f"{m['rss_greeting_kib'] / 1024:.1f} MiB | {m['rss_plain_kib'] / 1024:.1f} MiB | "
                 f"{m['rss_tls_kib'] / 1024:.1f} MiB | {kib(m['per_conn_greeting'])} | "
                 f"{kib(m['per_conn_plain'])} | {kib(m['per_conn_tls'])} |")
    L += ["", END]
    bench.replace_section(BEGIN, END, L)


if __name__ == "__main__":
    main(sys.argv)
