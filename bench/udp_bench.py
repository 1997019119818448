#!/usr/bin/python3
"""udp_bench.py - UDP scanning beside zmap -M udp and masscan -pU, on the same lab targets.

The lab of tests/lab/udp_lab.sh (real servers from Debian packages in the target namespace,
the kernel's ICMP port unreachables, nftables drops and host unreachables): 198.18.4.0/22 x
13 ports. Each run scans it with every tool at the same rate, interleaved, and scores the
results against the lab's ground truth:

  open recall       the servers found (open lines of the truth reported open)
  all recall        every answered target with its status (open, closed; filtered where the
                    tool reports ICMP codes) - masscan reports only open UDP ports
  precision         reported lines that are in the truth
  time              wall time of the whole scan (zmap scans one port per run: the sum)

Payloads: ppscan its data/udp-payloads.conf; zmap the same bytes per port (--probe-args hex:,
cookie places zero, as it cannot carry them); masscan its own built-in payloads.
Writes bench/results/udp.csv and the "UDP" section of BENCHMARKS.md (medians of the runs).

Usage (root, under the lab lock): bench/udp_bench.py --build build-rel [--runs 3]
       [--rates "4000 20000"]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import K_ZMAP_ADDR as ZMAP_ADDR  # noqa: E402
from bench import run_masscan  # noqa: E402  (masscan's --wait workaround)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = "ppsbu"
SRC_IP = "198.19.0.2"
UDPLAB = os.path.join(ROOT, "tests", "lab", "udp_lab.sh")


def log(msg):
    print(f"udp_bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def lab(*args):
    return run(["env", f"PPS_LAB={LAB}", os.path.join(ROOT, "scripts", "netlab.sh")] + list(args))


def mac_of(ns, dev):
    out = run(["ip", "-n", ns, "-br", "link", "show", dev]).stdout.split()
    return out[2]


def zmap_payloads():
    """Our table's payload per port, cookie places zeroed, as zmap --probe-args hex:."""
    pay = {}
    with open(os.path.join(ROOT, "data", "udp-payloads.conf")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            ports = line.split()[0]
            if "hex:" in line:
                hx = line.split("hex:", 1)[1].replace(" ", "").replace("\t", "")
            else:
                text = line[line.index('"') + 1:line.rindex('"')]
                text = text.replace("${cookie}", "0" * 16)
                hx = text.encode().decode("unicode_escape").encode("latin-1").hex()
            for p in ports.split(","):
                a, _, b = p.partition("-")
                for q in range(int(a), int(b or a) + 1):
                    pay[q] = hx
    return pay


def read_csv(path, kind, port=None):
    """(ip, port, status) lines of a result file (zmap: of its run's @port, which its ICMP
    lines leave empty)."""
    got = set()
    if not os.path.exists(path):
        return got
    with open(path) as f:
        for n, line in enumerate(f):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if kind == "ppscan":
                if n == 0:
                    continue
                got.add(tuple(line.split(",")))
            elif kind == "zmap":
                if n == 0:
                    continue
                ip, sport, cls, code = line.split(",")[:4]
                if cls == "udp":
                    st = "open"
                elif code == "3":
                    st = "closed"
                else:
                    st = "filtered"
                got.add((ip, str(port), st))
            elif kind == "masscan":  # -oL: "open udp 53 198.18.4.1 1700000000"
                f5 = line.split()
                if len(f5) >= 4 and f5[1] == "udp":
                    got.add((f5[3], f5[2], "open"))
    return got


def score(got, truth):
    t_open = {t for t in truth if t[2] == "open"}
    g_open = {g for g in got if g[2] == "open"}
    return {
        "open_recall": len(g_open & t_open) / len(t_open),
        "all_recall": len(got & truth) / len(truth),
        "precision": len(got & truth) / len(got) if got else 1.0,
        "results": len(got),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-rel"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rates", default="4000 20000", help="pps, each run at each rate")
    ap.add_argument("--cooldown", type=int, default=3)
    a = ap.parse_args()
    ppscan = os.path.join(a.build, "dpdk_app", "ppscan")
    pcap = os.path.join(a.build, "fallback", "ppscan-pcap")
    scan_ns, tgt_ns, lab_if = f"{LAB}-scan", f"{LAB}-tgt", f"{LAB}s"
    p = lab("up")
    if p.returncode != 0:
        sys.exit(f"netlab.sh up failed: {p.stderr[-500:]}")
    rows = []
    work = tempfile.mkdtemp(prefix="ppsbu-")
    try:
        p = run([UDPLAB, LAB, "up"])
        if p.returncode != 0:
            raise RuntimeError(f"udp_lab.sh up failed: {p.stderr[-800:]}")
        truth = {tuple(l.split(",")) for l in run([UDPLAB, LAB, "truth"]).stdout.split()}
        ports = run([UDPLAB, LAB, "ports"]).stdout.strip()
        block = run([UDPLAB, LAB, "block"]).stdout.strip()
        tgt_mac, scan_mac = mac_of(tgt_ns, f"{LAB}t"), mac_of(scan_ns, lab_if)
        run(["ip", "-n", tgt_ns, "neigh", "replace", SRC_IP, "lladdr", scan_mac, "dev",
             f"{LAB}t", "nud", "permanent"])
        blk = os.path.join(ROOT, "scripts", "lab-blocklist.conf")
        empty_bl = os.path.join(work, "empty.conf")
        open(empty_bl, "w").close()
        pay = zmap_payloads()
        common = lambda rate: ["-M", "udp", "-b", blk, "-S", SRC_IP, "-G", tgt_mac, "-p", ports,
                               "-r", str(rate), "-c", str(a.cooldown), "-q", "--output-closed",
                               "--seed", "7", "-f", "saddr,sport,status"]
        eal = ["--in-memory", "--no-pci", "--no-telemetry", "-l", "0-1"]
        tools = [
            ("ppscan af_packet", "ppscan", lambda out, rate: [[ppscan] + eal + [
                "--vdev", f"net_af_packet0,iface={lab_if}", "--"] + common(rate)
                + ["-o", out, block]]),
            ("ppscan-pcap", "ppscan", lambda out, rate: [[pcap, "-i", lab_if] + common(rate)
                                                         + ["-o", out, block]]),
            ("zmap -M udp", "zmap", lambda out, rate: [[
                "zmap", "-M", "udp", "-i", lab_if, "--gateway-mac", tgt_mac, "-S", SRC_IP,
                "-p", str(port), "-r", str(rate), "-c", str(a.cooldown), "-T", "1", "-b",
                empty_bl, "-O", "csv", "-f", "saddr,sport,classification,icmp_code",
                "--output-filter=repeat = 0", "-o", f"{out}.{port}", "-q"]
                + ([f"--probe-args=hex:{pay[port]}"] if pay.get(port) else [])
                + [block] for port in map(int, ports.split(","))]),
            ("masscan -pU", "masscan", lambda out, rate: [[
                "stdbuf", "-oL", "masscan", block, "-p" + ",".join(
                    f"U:{p}" for p in ports.split(",")), "--rate", str(rate), "--adapter",
                lab_if, "--adapter-ip", SRC_IP, "--adapter-mac", scan_mac, "--router-mac",
                tgt_mac, "--wait", str(a.cooldown), "--seed", "7", "-oL", "-"]]),
        ]
        for r, rate in ((r, int(x)) for r in range(a.runs) for x in a.rates.split()):
            for name, kind, build in tools:
                out = os.path.join(work, f"{kind}-{r}-{len(rows)}")
                cmds = build(out, rate)
                if kind == "zmap":
                    run(["ip", "-n", scan_ns, "addr", "add", ZMAP_ADDR, "dev", lab_if])
                t0 = time.monotonic()
                if kind == "masscan":
                    wall = run_masscan(["ip", "netns", "exec", scan_ns] + cmds[0], out,
                                       a.cooldown, 300)
                else:
                    for c in cmds:
                        pr = run(["ip", "netns", "exec", scan_ns] + c, timeout=300)
                        if pr.returncode != 0:
                            log(f"{name}: exit {pr.returncode}: {pr.stderr[-300:]}")
                    wall = time.monotonic() - t0
                if kind == "zmap":
                    run(["ip", "-n", scan_ns, "addr", "del", ZMAP_ADDR, "dev", lab_if])
                    got = set()
                    for port in ports.split(","):
                        got |= read_csv(f"{out}.{port}", "zmap", port)
                else:
                    got = read_csv(out, kind)
                s = score(got, truth)
                log(f"run {r + 1}: {name} at {rate} pps: {wall:.1f} s, open recall {s['open_recall']:.4f}, "
                    f"all recall {s['all_recall']:.4f}, precision {s['precision']:.4f}")
                rows.append([r + 1, name, rate, f"{wall:.2f}", s["results"],
                             f"{s['open_recall']:.6f}", f"{s['all_recall']:.6f}",
                             f"{s['precision']:.6f}"])
                time.sleep(1)
    finally:
        run([UDPLAB, LAB, "down"])
        lab("down")
        run(["rm", "-rf", work])
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "udp.csv"), "w") as f:
        f.write("run,tool,rate,wall_s,results,open_recall,all_recall,precision\n")
        for row in rows:
            f.write(",".join(map(str, row)) + "\n")
    write_section(rows, a, len(truth), block, ports)


def write_section(rows, a, n_truth, block, ports):
    def med(name, rate, col, fmt):
        v = [float(r[col]) for r in rows if r[1] == name and r[2] == rate]
        return (f"**{fmt(statistics.median(v))}** ({fmt(min(v))} – {fmt(max(v))})"
                if v else "-")

    pct = lambda x: f"{x * 100:.2f}%"
    names = []
    for r in rows:
        if r[1] not in names:
            names.append(r[1])
    lines = [
        "## UDP (-M udp beside zmap -M udp and masscan -pU)",
        "",
        f"The lab of tests/lab/udp_lab.sh: {block} x {len(ports.split(','))} ports ({ports}), "
        f"real servers from Debian packages on 10 of them (dnsmasq, chrony, snmpd, memcached, "
        f"coturn, tftpd-hpa, rpcbind, kamailio, coap-server, inetd echo), the kernel's ICMP "
        f"port unreachable elsewhere, nftables drops and host unreachables; {n_truth} answered "
        f"targets in the ground truth. Every tool at each rate, cooldown {a.cooldown} s, "
        f"{a.runs} interleaved runs; median (min – max). zmap scans one port per run (time: "
        f"the sum) with our payload bytes per port; masscan uses its own payloads and reports "
        f"open UDP ports only, so its all-recall counts open lines alone.",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, ppscan "
        f"`{run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD']).stdout.strip()}`, "
        f"zmap {run(['zmap', '--version']).stdout.strip().split()[-1]}, masscan 1.3.2; the "
        f"machine is shared (2 cores).",
        "",
        "| tool | rate | time | open recall (servers) | all recall (open + closed + filtered) "
        "| precision |",
        "|---|---|---|---|---|---|",
    ]
    for rate in map(int, a.rates.split()):
        for n in names:
            lines.append(f"| {n} | {rate} pps | {med(n, rate, 3, lambda x: f'{x:.1f} s')} | "
                         f"{med(n, rate, 5, pct)} | {med(n, rate, 6, pct)} | "
                         f"{med(n, rate, 7, pct)} |")
    lines += ["", "Exact command (as root, under the lab lock):", "",
              f"    bench/udp_bench.py --build BUILD --runs {a.runs} --rates '{a.rates}'", ""]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read()
    sec = "\n".join(lines)
    m = re.search(r"^## UDP \(.*?(?=^## |\Z)", text, re.S | re.M)
    text = text[:m.start()] + sec + "\n" + text[m.end():] if m else text.rstrip("\n") + "\n\n" + sec
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
