#!/usr/bin/env python3
"""bench.py - ppscan beside ZMap, masscan and DPDK's own ceiling, in one run.

Run it through bench/run.sh (installs the anchors, builds a release build, reserves
hugepages). Sections, each writing bench/results/SECTION.csv; BENCHMARKS.md and
bench/results/chart.png are then written from whatever CSVs exist:

  ceiling   ppscan, one TX lcore on DPDK's net_null vdev (no frame leaves the process),
            beside dpdk-testpmd --forward-mode=txonly on the same vdev, alternating run by run
  scaling   1 and 2 TX lcores (more where the machine has the cores) on net_null
  kernel    ppscan (net_af_packet, net_af_xdp), ppscan-pcap, zmap and masscan, each sending
            the same 2,097,152 probes into one veth whose peer namespace drops everything;
            the rate is read from the peer's counters (bench/sink_rate.py), the same for all
  accuracy  the lab answering for 198.18.0.0/16 (netlab.sh, PPS_LAB_TARGETS): every tool
            scans it x 4 ports at several rates; recall and precision against netlab.sh truth
  cost      instructions per probe and per response (callgrind on bench_core) and ns of CPU
            time per probe and per response (bench_core natively)
  memory    peak RSS of a /16 and a /8 target space (dry run, and net_null without hugepages)

Only namespaces named ppsb6* are created, and all are removed at the end. Packets stay in
them; every address used is in 198.18.0.0/15, except the net_null and dry-run target space
(10.0.0.0/8), which never leaves the process.
"""
import argparse
import csv
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RES = os.path.join(ROOT, "bench", "results")
PY = "/usr/bin/python3"

SRC_IP = "198.19.0.2"
NULL_EAL = ["--in-memory", "--no-pci", "--no-telemetry", "--vdev", "net_null0,no-rx=1"]
NULL_PORTS = "22,80,443,8080"
NULL_TARGETS = "10.0.0.0/8"  # 67,108,864 targets; net_null sends nothing anywhere
DUMMY_MAC = "02:00:00:00:00:01"

K_SCAN_NS, K_SINK_NS, K_IF, K_PEER = "ppsb6-ks", "ppsb6-kd", "ppsb6s", "ppsb6d"
K_TARGETS, K_PORTS, K_PORT_COUNT = "198.18.0.0/15", "1-16", 16
K_PROBES = 131072 * K_PORT_COUNT  # 2,097,152
K_ZMAP_ADDR = "198.19.0.254/32"  # zmap 2.1 needs an IPv4 address on its interface

# net_af_packet's ring: 4096 frames of 2 KiB instead of the PMD's 512 (at 100 kpps in the lab
# the default ring overflows in bursts of SYN-ACKs: recall 99.7-99.9% instead of 100%)
AFP_RING = "framecnt=4096"

LAB = "ppsb6a"
LAB_TARGETS = "198.18.0.0/16"
LAB_PORTS = [22, 80, 443, 8080]

EMPTY_BLOCKLIST = os.path.join(tempfile.gettempdir(), "ppsb6-empty-blocklist.conf")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, timeout=120, check=False, **kw):
    """Runs @cmd (a list); returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-500:]}")
    return p


def sh(cmd, check=True):
    return run(["bash", "-c", cmd], check=check)


def replace_section(begin, end, lines):
    """Writes @lines (a list of Markdown lines, @begin and @end included) into BENCHMARKS.md
    in place of the text between those markers, or at its end; the rest is left as it is."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = "\n".join(lines)
    if begin in text and end in text:
        i, j = text.index(begin), text.index(end) + len(end)
        text = text[:i] + block + text[j:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    open(path, "w").write(text)


def write_csv(name, header, rows):
    os.makedirs(RES, exist_ok=True)
    with open(os.path.join(RES, name), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_csv(name):
    path = os.path.join(RES, name)
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def mmm(xs):
    xs = [float(x) for x in xs]
    return statistics.median(xs), min(xs), max(xs)


def mac_of(ns, ifname):
    out = run(["ip", "-n", ns, "-br", "link", "show", ifname], check=True).stdout.split()
    return out[2]


# --------------------------------------------------------------------------------------
# ppscan on net_null, testpmd txonly
# --------------------------------------------------------------------------------------
def ppscan_null(a, tx, lcores, probes, extra_eal=None, extra_opts=None):
    """One ppscan run on net_null (scan options @extra_opts added, e.g. --banners); returns
    the send rate in probes/s (its TSC-timed line)."""
    cmd = [a.ppscan] + (extra_eal or NULL_EAL) + lcores + [
        "--", "-G", DUMMY_MAC, "-S", SRC_IP, "-b", "/dev/null", "-p", NULL_PORTS, "-r", "0",
        "-c", "0", "-q", "--seed", "1", "-n", str(probes), "-T", str(tx), "-o", "/dev/null"
    ] + (extra_opts or []) + [NULL_TARGETS]
    p = run(cmd, timeout=300)
    m = re.search(r"send phase ([0-9.]+) s, (\d+) probes, ([0-9.]+) probes/s", p.stderr)
    if p.returncode != 0 or not m or int(m.group(2)) != probes:
        raise RuntimeError(f"ppscan net_null failed ({p.returncode}): {p.stderr[-800:]}")
    return float(m.group(3))


def testpmd_txonly(a, seconds):
    """dpdk-testpmd txonly on net_null with one forwarding core; median Tx-pps of the
    once-a-second samples (the first and the last, partial, are dropped)."""
    cmd = ["timeout", "-s", "INT", str(seconds + 1), a.testpmd, "--in-memory", "--no-pci",
           "--no-telemetry", "-l", "0-1", "--vdev", "net_null0,no-rx=1", "--",
           "--forward-mode=txonly", "--nb-cores=1", "--stats-period", "1", "--auto-start"]
    p = run(cmd, timeout=seconds + 60)
    rates = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", p.stdout)]
    rates = [r for r in rates[1:-1] if r > 0] or [r for r in rates if r > 0]
    if not rates:
        raise RuntimeError(f"testpmd gave no rate: {p.stdout[-800:]} {p.stderr[-400:]}")
    return statistics.median(rates)


def lcores_for(tx, ncpu):
    """EAL lcore options for @tx TX lcores plus one RX lcore (+ the main lcore), and whether
    that oversubscribes the machine's cores."""
    if tx == 1:
        return ["-l", "0-1"], False  # one worker: TX and RX polled in one loop
    if tx + 2 <= ncpu:
        return ["-l", f"0-{tx + 1}"], False
    # main 0@cpu0, TX lcores spread over the cpus, the RX lcore on cpu 0 with main
    spec = ["0@0"] + [f"{k + 1}@{k % ncpu}" for k in range(tx)] + [f"{tx + 1}@0"]
    return ["--lcores=" + ",".join(spec)], True


def section_ceiling(a):
    rows = []
    for r in range(a.runs):
        pp = ppscan_null(a, 1, ["-l", "0-1"], a.null_probes)
        tp = testpmd_txonly(a, a.testpmd_seconds)
        log(f"ceiling run {r + 1}: ppscan {pp / 1e6:.2f} Mpps, testpmd {tp / 1e6:.2f} Mpps")
        rows.append([r + 1, "ppscan", f"{pp:.0f}"])
        rows.append([r + 1, "testpmd-txonly", f"{tp:.0f}"])
    write_csv("ceiling.csv", ["run", "tool", "pps"], rows)


def section_scaling(a):
    ncpu = os.cpu_count() or 1
    configs = [(1, "1 TX lcore, RX polled in the same loop", ["-l", "0-1"], False)]
    tx = 1
    while True:
        lc, over = lcores_for(tx, ncpu) if tx > 1 else (
            (["-l", "0-2"], False) if ncpu >= 3 else (["--lcores=0@0,1@1,2@0"], True))
        configs.append((tx, f"{tx} TX lcore{'s' if tx > 1 else ''} + 1 RX lcore", lc, over))
        tx = 2 if tx == 1 else tx * 2
        if tx > max(2, ncpu - 2):
            break
    rows = []
    for r in range(a.runs):
        for tx, name, lc, over in configs:
            pps = ppscan_null(a, tx, lc, a.null_probes)
            log(f"scaling run {r + 1}: {name}: {pps / 1e6:.2f} Mpps")
            rows.append([r + 1, name, tx, int(over), " ".join(lc), f"{pps:.0f}"])
    write_csv("scaling.csv", ["run", "config", "tx_lcores", "oversubscribed", "eal", "pps"], rows)


# --------------------------------------------------------------------------------------
# The kernel path: one veth, the peer drops everything
# --------------------------------------------------------------------------------------
def ns_del(*names):
    for ns in names:
        run(["ip", "netns", "del", ns])


def kernel_up():
    ns_del(K_SCAN_NS, K_SINK_NS)
    for ns in (K_SCAN_NS, K_SINK_NS):
        run(["ip", "netns", "add", ns], check=True)
        for k in ("all", "default"):
            run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1"])
    run(["ip", "link", "add", K_IF, "netns", K_SCAN_NS, "type", "veth", "peer", "name", K_PEER,
         "netns", K_SINK_NS], check=True)
    run(["ip", "-n", K_SCAN_NS, "link", "set", K_IF, "arp", "off", "multicast", "off", "up"],
        check=True)
    run(["ip", "-n", K_SINK_NS, "link", "set", K_PEER, "arp", "off", "multicast", "off", "up"],
        check=True)
    # The peer drops everything: with bench/xdp_drop.c (XDP_DROP before any skb is built, so
    # the sink costs the sending CPU least), else in its IP layer (it has no address).
    obj = os.path.join(tempfile.gettempdir(), "ppsb6-xdp_drop.o")
    arch = run(["gcc", "-dumpmachine"]).stdout.strip()
    cc = run(["clang", "-O2", "-target", "bpf", f"-I/usr/include/{arch}", "-c",
              os.path.join(ROOT, "bench", "xdp_drop.c"), "-o", obj])
    if cc.returncode == 0 and run(["ip", "-n", K_SINK_NS, "link", "set", "dev", K_PEER, "xdp",
                                   "obj", obj, "sec", "xdp"]).returncode == 0:
        return "XDP_DROP on the peer veth (bench/xdp_drop.c)"
    log("kernel: no XDP drop program (clang -target bpf or ip ... xdp failed): IP-layer drop")
    return "the peer's IP layer (no address)"


class Sink:
    """bench/sink_rate.py in the sink namespace, for one run."""

    def __init__(self, ns, ifname):
        self.progress = tempfile.mktemp(prefix="ppsb6-sink-")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, PY, os.path.join(ROOT, "bench", "sink_rate.py"), ifname,
             self.progress], stdout=subprocess.PIPE, text=True)
        while not os.path.exists(self.progress):
            time.sleep(0.01)

    def count(self):
        try:
            with open(self.progress) as f:
                return int(f.read() or 0)
        except (OSError, ValueError):
            return 0

    def stop(self):
        time.sleep(0.1)
        self.p.send_signal(signal.SIGTERM)
        out, _ = self.p.communicate(timeout=10)
        for path in (self.progress, self.progress + ".tmp"):
            if os.path.exists(path):
                os.unlink(path)
        return json.loads(out.strip().splitlines()[-1])


def run_until(cmd, sink, expect, timeout, stderr_path=None, stop_after=None):
    """Starts @cmd; returns when it exits, or (for a scanner that does not exit by itself)
    when @sink has counted @expect frames and nothing more came for 0.5 s."""
    err = open(stderr_path, "w") if stderr_path else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    t0 = time.monotonic()
    last, since = -1, time.monotonic()
    try:
        while p.poll() is None and time.monotonic() - t0 < timeout:
            c = sink.count()
            if c != last:
                last, since = c, time.monotonic()
            elif stop_after and c >= expect and time.monotonic() - since > stop_after:
                break
            time.sleep(0.05)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        if stderr_path:
            err.close()
    return p.returncode


def kernel_tools(a, gw, smac):
    common = ["-G", gw, "-S", SRC_IP, "-b", "/dev/null", "-p", K_PORTS, "-r", "0", "-c", "0",
              "-q", "--seed", "1", "-o", "/dev/null", K_TARGETS]
    eal = ["--in-memory", "--no-pci", "--no-telemetry", "-l", "0-1"]
    tools = [
        ("ppscan af_packet", [a.ppscan] + eal + ["--vdev", f"net_af_packet0,iface={K_IF},{AFP_RING}",
                                                 "--"] + common, None),
        ("ppscan af_xdp", [a.ppscan] + eal + ["--vdev", f"net_af_xdp0,iface={K_IF}", "--"]
         + common, None),
    ]
    if a.pcap:
        tools.append(("ppscan-pcap", [a.pcap, "-i", K_IF] + common, None))
    tools.append(("zmap", ["zmap", "-i", K_IF, "--gateway-mac", gw, "-S", SRC_IP, "-p", "80",
                           "-P", str(K_PORT_COUNT), "-r", "0", "-c", "0", "-T", "1", "-b",
                           EMPTY_BLOCKLIST, "--max-sendto-failures", "1000000", "-o",
                           "/dev/null", "-q", K_TARGETS], "zmap"))
    tools.append(("masscan", ["stdbuf", "-oL", "masscan", K_TARGETS, f"-p{K_PORTS}", "--rate",
                              "100000000", "--adapter", K_IF, "--adapter-ip", SRC_IP,
                              "--adapter-mac", smac, "--router-mac", gw, "--wait", "0",
                              "--seed", "1", "-oL", "/dev/null"], "masscan"))
    return tools


def section_kernel(a):
    sink_kind = kernel_up()
    with open(os.path.join(RES, "kernel_sink.txt"), "w") as f:
        f.write(sink_kind + "\n")
    rows = []
    try:
        gw, smac = mac_of(K_SINK_NS, K_PEER), mac_of(K_SCAN_NS, K_IF)
        tools = kernel_tools(a, gw, smac)
        for r in range(a.runs):
            for name, cmd, kind in tools:
                if kind == "zmap":
                    run(["ip", "-n", K_SCAN_NS, "addr", "add", K_ZMAP_ADDR, "dev", K_IF])
                sink = Sink(K_SINK_NS, K_PEER)
                errp = tempfile.mktemp(prefix="ppsb6-err-")
                # masscan 1.3.2 does not exit after its wait on this setup (masscan issue
                # #144): it is stopped once every probe has arrived and 0.5 s passed quietly
                rc = run_until(["ip", "netns", "exec", K_SCAN_NS] + cmd, sink, K_PROBES, 120,
                               errp, stop_after=0.5 if kind == "masscan" else None)
                res = sink.stop()
                if kind == "zmap":
                    run(["ip", "-n", K_SCAN_NS, "addr", "del", K_ZMAP_ADDR, "dev", K_IF])
                note = "" if rc == 0 or kind == "masscan" else f"exit {rc}"
                if res["frames"] != K_PROBES:
                    note = (note + f" {res['frames']} of {K_PROBES} probes arrived").strip()
                if rc != 0 and kind != "masscan":
                    with open(errp) as f:
                        log(f"{name} exited {rc}: {f.read()[-400:]}")
                os.unlink(errp)
                log(f"kernel run {r + 1}: {name}: {res['pps'] / 1e6:.3f} Mpps {note}")
                rows.append([r + 1, name, res["frames"], f"{res['seconds']:.4f}",
                             f"{res['pps']:.0f}", note])
                time.sleep(0.5)
    finally:
        ns_del(K_SCAN_NS, K_SINK_NS)
    write_csv("kernel.csv", ["run", "tool", "frames", "seconds", "pps", "note"], rows)


# --------------------------------------------------------------------------------------
# Accuracy in the lab
# --------------------------------------------------------------------------------------
def netlab(cmd):
    env = dict(os.environ, PPS_LAB=LAB, PPS_LAB_TARGETS=LAB_TARGETS)
    return run(["bash", os.path.join(ROOT, "scripts", "netlab.sh"), cmd], timeout=120, env=env)


def read_results(path, fmt):
    """(ip, port, status) triples of a result file: ppscan/zmap CSV or masscan -oL."""
    out = set()
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            parts = line.split()
            if fmt == "masscan":
                if len(parts) >= 4 and parts[0] in ("open", "closed"):
                    out.add((parts[3], parts[2], parts[0]))
                continue
            parts = line.strip().split(",")
            if len(parts) >= 3 and parts[0] != "saddr":
                out.add((parts[0], parts[1], "open" if parts[2] == "synack" else "closed"))
    return out


def score(got, truth):
    res = {}
    for kind, keep in (("open", lambda t: t[2] == "open"), ("all", lambda t: True)):
        g = {t for t in got if keep(t)}
        tr = {t for t in truth if keep(t)}
        tp = len(g & tr)
        res[kind] = (len(g), tp, tp / len(tr) if tr else 0.0, tp / len(g) if g else 1.0)
    return res


def acc_tools(a, tgt_mac, scan_mac):
    eal = ["--in-memory", "--no-pci", "--no-telemetry", "-l", "0-1"]
    lab_if = f"{LAB}s"
    ports = ",".join(map(str, LAB_PORTS))
    blk = os.path.join(ROOT, "scripts", "lab-blocklist.conf")

    def ppscan_opts(rate, out):
        return ["-b", blk, "-S", SRC_IP, "-G", tgt_mac, "-p", ports, "-r", str(rate), "-c",
                str(a.cooldown), "-q", "--output-closed", "--seed", "7", "-o", out,
                LAB_TARGETS]

    tools = [
        ("ppscan af_packet", lambda rate, out: [[a.ppscan] + eal + [
            "--vdev", f"net_af_packet0,iface={lab_if},{AFP_RING}", "--"] + ppscan_opts(rate, out)],
         "csv"),
        ("ppscan af_xdp", lambda rate, out: [[a.ppscan] + eal + [
            "--vdev", f"net_af_xdp0,iface={lab_if}", "--"] + ppscan_opts(rate, out)], "csv"),
    ]
    if a.pcap:
        tools.append(("ppscan-pcap", lambda rate, out: [[a.pcap, "-i", lab_if]
                                                         + ppscan_opts(rate, out)], "csv"))
    tools.append(("zmap", lambda rate, out: [[
        "zmap", "-i", lab_if, "--gateway-mac", tgt_mac, "-S", SRC_IP, "-p", str(port), "-r",
        str(rate), "-c", str(a.cooldown), "-T", "1", "-b", EMPTY_BLOCKLIST,
        "--max-sendto-failures", "1000000", "-O", "csv", "-f",
        "saddr,sport,classification", "--output-filter=repeat = 0", "-o", f"{out}.{port}",
        "-q", LAB_TARGETS] for port in LAB_PORTS], "zmap"))
    tools.append(("masscan", lambda rate, out: [[
        "stdbuf", "-oL", "masscan", LAB_TARGETS, "-p" + ports, "--rate",
        str(rate if rate else 100000000), "--adapter", lab_if, "--adapter-ip", SRC_IP,
        "--adapter-mac", scan_mac, "--router-mac", tgt_mac, "--wait", str(a.cooldown),
        "--seed", "7", "-oL", "-"]], "masscan"))
    return tools


def run_masscan(cmd, out, cooldown, timeout):
    """masscan 1.3.2 does not exit after --wait here (masscan issue #144): its list output
    goes line-buffered to @out, and it is stopped @cooldown s after it reports the sending
    done ("waiting" on stderr). Returns the wall time as if it had exited then."""
    t0 = time.monotonic()
    with open(out, "w") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, start_new_session=True)
        done_at = None
        while p.poll() is None and time.monotonic() - t0 < timeout:
            if done_at is None:
                fe.seek(0)
                if "waiting" in fe.read():
                    done_at = time.monotonic()
            elif time.monotonic() - done_at >= cooldown:
                break
            time.sleep(0.05)
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    return time.monotonic() - t0


def section_accuracy(a):
    scan_ns = f"{LAB}-scan"
    p = netlab("up")
    if p.returncode != 0:
        raise RuntimeError(f"netlab.sh up failed: {p.stderr[-600:]}")
    rows = []
    work = tempfile.mkdtemp(prefix="ppsb6-acc-")
    try:
        truth = set()
        for line in netlab("truth").stdout.splitlines():
            ip, port, status = line.split(",")
            truth.add((ip, port, status))
        tgt_mac, scan_mac = mac_of(f"{LAB}-tgt", f"{LAB}t"), mac_of(scan_ns, f"{LAB}s")
        # zmap and masscan do not answer ARP for their source address: a static entry
        run(["ip", "-n", f"{LAB}-tgt", "neigh", "replace", SRC_IP, "lladdr", scan_mac, "dev",
             f"{LAB}t", "nud", "permanent"], check=True)
        tools = acc_tools(a, tgt_mac, scan_mac)
        probes = 65536 * len(LAB_PORTS)
        for r in range(a.acc_runs):
            for rate in a.rates:
                for name, build, fmt in tools:
                    out = os.path.join(work, f"{name.replace(' ', '_')}-{rate}-{r}")
                    cmds = build(rate, out)
                    limit = (probes / rate if rate else 10) * 3 + a.cooldown + 60
                    sent_pps = ""
                    if fmt == "zmap":
                        run(["ip", "-n", scan_ns, "addr", "add", K_ZMAP_ADDR, "dev", f"{LAB}s"])
                    t0 = time.monotonic()
                    if fmt == "masscan":
                        wall = run_masscan(["ip", "netns", "exec", scan_ns] + cmds[0], out,
                                           a.cooldown, limit)
                    else:
                        for c in cmds:
                            pr = run(["ip", "netns", "exec", scan_ns] + c, timeout=limit)
                            if pr.returncode != 0:
                                log(f"{name} at {rate}: exit {pr.returncode}: {pr.stderr[-300:]}")
                            m = re.search(r"send phase [0-9.]+ s, \d+ probes, ([0-9.]+) probes/s",
                                          pr.stderr)
                            if m:
                                sent_pps = f"{float(m.group(1)):.0f}"
                        wall = time.monotonic() - t0
                    if fmt == "zmap":
                        run(["ip", "-n", scan_ns, "addr", "del", K_ZMAP_ADDR, "dev", f"{LAB}s"])
                        got = set()
                        for port in LAB_PORTS:
                            got |= read_results(f"{out}.{port}", "csv")
                    else:
                        got = read_results(out, fmt)
                    s = score(got, truth)
                    log(f"accuracy run {r + 1}: {name} at {rate or 'max'} pps: {wall:.1f} s, "
                        f"recall {s['open'][2] * 100:.2f}% precision {s['open'][3] * 100:.2f}% "
                        f"(open ports)")
                    rows.append([r + 1, name, rate, f"{wall:.2f}", sent_pps]
                                + [s["open"][0], s["open"][1], f"{s['open'][2]:.6f}",
                                   f"{s['open'][3]:.6f}"]
                                + ([s["all"][0], s["all"][1], f"{s['all'][2]:.6f}",
                                    f"{s['all'][3]:.6f}"] if fmt != "masscan" else
                                   ["", "", "", ""]))
                    time.sleep(1)  # the lab's SYN-ACK retransmissions die down
    finally:
        netlab("down")
        sh(f"rm -rf {work}", check=False)
    write_csv("accuracy.csv", ["run", "tool", "rate", "wall_s", "send_pps",
                               "open_results", "open_tp", "open_recall", "open_precision",
                               "all_results", "all_tp", "all_recall", "all_precision"], rows)


# --------------------------------------------------------------------------------------
# Cost per probe and per response; memory
# --------------------------------------------------------------------------------------
def section_cost(a):
    rows = []
    with tempfile.TemporaryDirectory(prefix="ppsb6-cg-") as d:
        out = os.path.join(d, "cg.out")
        n = 200000
        run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", a.bench_core,
             str(n), str(n)], timeout=600, check=True)
        ann = run(["callgrind_annotate", "--inclusive=yes", out], check=True).stdout
        for fn, metric in (("bench_generate", "instr_per_probe"),
                           ("bench_validate", "instr_per_response")):
            m = re.search(r"^\s*([\d,]+) .*\b" + fn + r"\b", ann, re.M)
            if not m:
                raise RuntimeError(f"callgrind: no {fn} in the annotation")
            rows.append([0, metric, f"{int(m.group(1).replace(',', '')) / n:.1f}"])
    for r in range(a.runs):
        p = run([a.bench_core, "10000000", "4000000"], timeout=300, check=True)
        m = re.search(r"gen_ns=([0-9.]+) val_ns=([0-9.]+)", p.stdout)
        rows.append([r + 1, "ns_per_probe", m.group(1)])
        rows.append([r + 1, "ns_per_response", m.group(2)])
        log(f"cost run {r + 1}: {m.group(1)} ns/probe, {m.group(2)} ns/response")
    write_csv("cost.csv", ["run", "metric", "value"], rows)


def max_rss_kib(cmd):
    p = run(["/usr/bin/time", "-f", "maxrss %M"] + cmd, timeout=300)
    m = re.findall(r"maxrss (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"{cmd[0]} failed: {p.stderr[-500:]}")
    return int(m[-1])


def section_memory(a):
    rows = []
    n = "262144"  # the /16's whole space; the /8's first 262,144 of 67,108,864
    # the /0 on two ports: 2^33 targets, all of IPv4 on two ports, exact dedup in the
    # default --dedup-memory (a 1 GiB bitmap, mapped and untouched)
    for space, ports in (("10.0.0.0/16", NULL_PORTS), ("10.0.0.0/8", NULL_PORTS),
                         ("0.0.0.0/0", "80,443")):
        common = ["-S", SRC_IP, "-b", "/dev/null", "-p", ports, "--seed", "1", "-n", n]
        dry = max_rss_kib([a.ppscan, "--dryrun"] + common + ["-o", "/dev/null", space])
        null = max_rss_kib([a.ppscan, "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                            "--no-telemetry", "-l", "0-1", "--vdev", "net_null0,no-rx=1", "--",
                            "-G", DUMMY_MAC, "-r", "0", "-c", "0", "-q", "-o", "/dev/null"]
                           + common + [space])
        log(f"memory {space}: dry run {dry} KiB, net_null {null} KiB")
        rows.append([space, "dryrun", dry])
        rows.append([space, "net_null --no-huge", null])
    write_csv("memory.csv", ["targets", "mode", "max_rss_kib"], rows)


# --------------------------------------------------------------------------------------
# BENCHMARKS.md and the chart
# --------------------------------------------------------------------------------------
def machine(a):
    lscpu = run(["lscpu"]).stdout
    model = re.search(r"Model name:\s+(.*)", lscpu)
    info = {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cpus": os.cpu_count(),
        "hypervisor": (re.search(r"Hypervisor vendor:\s+(.*)", lscpu) or [None, "none"])[1],
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "kernel": platform.release(),
        "os": run(["bash", "-c", ". /etc/os-release; echo $PRETTY_NAME"]).stdout.strip(),
        "dpdk": run(["pkg-config", "--modversion", "libdpdk"]).stdout.strip(),
        "gcc": run(["gcc", "-dumpfullversion"]).stdout.strip(),
        "zmap": run(["zmap", "--version"]).stdout.strip(),
        "masscan": (re.search(r"version (\S+)", run(["masscan", "--version"]).stdout + "")
                    or [None, "?"])[1],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_start": a.load_start,
        "load_end": open("/proc/loadavg").read().split()[:3],
        "git": a.git,
        "command": a.command,
    }
    with open(os.path.join(RES, "machine.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info


def fmt_pps(x):
    x = float(x)
    return f"{x / 1e6:.2f} Mpps" if x >= 1e6 else f"{x / 1e3:.0f} kpps"


def mmm_str(xs, f=fmt_pps):
    md, lo, hi = mmm(xs)
    return f"**{f(md)}** ({f(lo)} – {f(hi)})"


def group(rows, key, val):
    out = {}
    for r in rows:
        out.setdefault(r[key], []).append(float(r[val]))
    return out


def report(a):
    info = machine(a) if a.sections else json.load(open(os.path.join(RES, "machine.json")))
    L = ["# Benchmarks", "",
         "Written by `bench/run.sh`; every number below comes from the CSV files in "
         "`bench/results/`, measured in one run on one machine. Bold: the median of the runs; "
         "in parentheses: min – max. Ratios are taken run by run (each pair measured back to "
         "back) and then the median.", "",
         "## Machine", "",
         f"- CPU: {info['cpu']}, {info['cpus']} cores (hypervisor: {info['hypervisor']}), "
         f"{info['memory_gib']} GiB",
         f"- {info['os']}, Linux {info['kernel']}, DPDK {info['dpdk']}, gcc {info['gcc']}, "
         f"{info['zmap']}, masscan {info['masscan']}",
         f"- {info['date']}, ppscan `{info['git']}`; load average {' '.join(info['load_start'])}"
         f" at the start, {' '.join(info['load_end'])} at the end (the machine is shared: other "
         "builds and tests were running, so absolute rates are noisy; ratios measured back to "
         "back and instruction counts are not)", "",
         "Exact command (as root, from the top of the tree):", "",
         f"    {info['command']}", ""]
    chart_tools, chart_pps = [], []

    ceil = read_csv("ceiling.csv")
    if ceil:
        g = group(ceil, "tool", "pps")
        by_run = {}
        for r in ceil:
            by_run.setdefault(r["run"], {})[r["tool"]] = float(r["pps"])
        ratios = [v["ppscan"] / v["testpmd-txonly"] for v in by_run.values() if len(v) == 2]
        md, lo, hi = mmm(ratios)
        pp = statistics.median(g["ppscan"])
        L += ["## 1. Generation ceiling (kernel bypass, `net_null`)", "",
              f"One TX lcore, {a.null_probes:,} probes of the /8-sized space {NULL_TARGETS} × "
              f"{{{NULL_PORTS}}} (67,108,864 targets, `-n` caps the count), `-r 0`; rate from "
              "ppscan's TSC-timed send phase. DPDK's own ceiling: `dpdk-testpmd "
              "--forward-mode=txonly` on the same vdev, one forwarding core, median of its "
              "once-a-second Tx-pps.", "",
              "| sender | probes/s |", "|---|---|",
              f"| ppscan, 1 TX lcore | {mmm_str(g['ppscan'])} |",
              f"| dpdk-testpmd txonly, 1 core | {mmm_str(g['testpmd-txonly'])} |",
              f"| ratio ppscan / testpmd | **{md:.2f}** ({lo:.2f} – {hi:.2f}) |", "",
              f"Goals: ≥ 14.88 Mpps per TX core — **{'met' if pp >= 14.88e6 else 'not met'}**; "
              f"≥ 0.5 × testpmd — **{'met' if md >= 0.5 else 'not met'}**.", ""]
        chart_tools += ["ppscan net_null (1 TX)", "testpmd txonly (1 core)"]
        chart_pps += [pp, statistics.median(g["testpmd-txonly"])]

    sc = read_csv("scaling.csv")
    if sc:
        L += ["## 2. Scaling (net_null)", "", "| lcores | EAL | probes/s |", "|---|---|---|"]
        g = group(sc, "config", "pps")
        seen = []
        for r in sc:
            if r["config"] in seen:
                continue
            seen.append(r["config"])
            over = " (oversubscribed)" if r["oversubscribed"] == "1" else ""
            L.append(f"| {r['config']}{over} | `{r['eal']}` | {mmm_str(g[r['config']])} |")
        L += ["", f"This machine has {info['cpus']} cores: a run with more lcores than cores "
              "(marked oversubscribed) time-shares them — the RX lcore and the main lcore sit on "
              "core 0 with a TX lcore, and a DPDK lcore busy-polls, so that TX lcore gets about "
              "half a core. Read those rows as a lower bound, not as the scaling of a machine "
              "with a core per lcore.", ""]

    ke = read_csv("kernel.csv")
    if ke:
        g = group(ke, "tool", "pps")
        by_run = {}
        for r in ke:
            by_run.setdefault(r["run"], {})[r["tool"]] = float(r["pps"])
        try:
            sink_kind = open(os.path.join(RES, "kernel_sink.txt")).read().strip()
        except OSError:
            sink_kind = "the peer's IP layer (no address)"
        L += ["## 3. The kernel path (veth, the peer drops everything)", "",
              f"Each sender puts {K_PROBES:,} probes ({K_TARGETS} × 16 ports; zmap: × 1 port "
              f"× `-P 16`) into one veth in a namespace of its own; the peer drops them with "
              f"{sink_kind}. The kernel's per-frame work (an skb, the veth hop) runs on the "
              "sending CPU and dominates every sender here; ppscan on `net_af_packet` runs "
              f"with `{AFP_RING}` as in section 4. Rate = frames counted on the peer / time "
              "from the first to the last "
              "(bench/sink_rate.py, 2 ms polling): one yardstick for every tool. One sender "
              "thread each, no rate limit (`-r 0`; masscan `--rate 100000000`).", "",
              "| sender | probes/s | × zmap (same run) |", "|---|---|---|"]
        for tool in g:
            ratios = [v[tool] / v["zmap"] for v in by_run.values() if v.get("zmap")]
            rs = mmm(ratios) if ratios else (0, 0, 0)
            L.append(f"| {tool} | {mmm_str(g[tool])} | {rs[0]:.2f} ({rs[1]:.2f} – {rs[2]:.2f}) |")
            chart_tools.append(f"{tool} (veth)")
            chart_pps.append(statistics.median(g[tool]))
        notes = sorted({f"{r['tool']}: {r['note']}" for r in ke if r["note"]})
        if notes:
            L += ["", "Notes: " + "; ".join(notes) + "."]
        anchors = [statistics.median(g[t]) for t in ("zmap", "masscan") if t in g]
        ours = {t: statistics.median(v) for t, v in g.items() if t.startswith("ppscan")}
        behind = [t for t, v in ours.items() if anchors and v <= max(anchors)]
        L += ["", "Goal: every ppscan path ahead of zmap and masscan — **" +
              ("met" if anchors and not behind else "not met: " + ", ".join(behind)) + "**.", ""]
        if "ppscan-pcap" not in g:
            L += ["ppscan-pcap: pending (not built when this ran).", ""]

    ac = read_csv("accuracy.csv")
    if ac:
        rates = []
        for r in ac:
            if int(r["rate"]) not in rates:
                rates.append(int(r["rate"]))
        tools = []
        for r in ac:
            if r["tool"] not in tools:
                tools.append(r["tool"])
        n_runs = len({r["run"] for r in ac})
        L += ["## 4. Accuracy at speed in the lab", "",
              f"The lab (`scripts/netlab.sh`, `PPS_LAB_TARGETS={LAB_TARGETS}`) answers for "
              f"{LAB_TARGETS} with Linux's TCP stack: 65,536 addresses × ports "
              f"{','.join(map(str, LAB_PORTS))} = 262,144 probes; the truth has "
              "195,200 open and 65,664 closed. Every tool scans the same targets at the same "
              f"rate (zmap 2.1 takes one port: four runs, each at that rate), cooldown "
              f"{a.cooldown} s, {n_runs} run(s) per cell (median). Recall and precision on "
              "**open ports** (SYN-ACKs: what all four report; masscan lists no closed ports); "
              "the `all` columns add closed ports (RSTs) for the tools that report them. "
              f"ppscan af_packet runs with `--vdev net_af_packet0,iface=...,{AFP_RING}` (the "
              "PMD's default ring of 512 frames overflows in bursts of responses: 99.7-99.9% "
              "recall at 100 kpps). "
              "ppscan and masscan answer every SYN-ACK with a RST, so the target does not "
              "retransmit it; without the RST (`--no-rst`) the target re-sends its SYN-ACKs "
              "about 1 s later in bursts of thousands, which overflow the scanner veth's "
              "256-slot XDP ring and cost net_af_xdp first answers (1-15 of 195,200 missed at "
              "100-200 kpps). "
              "`max` = no rate limit (masscan: `--rate 100000000`). Wall time includes start-up "
              "and cooldown (zmap: its four runs added up; masscan: until "
              f"{a.cooldown} s after it reports the sending done, since it does not exit by "
              "itself, masscan issue #144).", "",
              "| tool | rate | wall s | send rate | recall (open) | missed (open) | "
              "precision (open) | recall (all) | precision (all) |",
              "|---|---|---|---|---|---|---|---|---|"]
        n_open = 195200  # the truth's open ports (netlab.sh truth for the /16)
        cell = {}
        for r in ac:
            cell.setdefault((r["tool"], int(r["rate"])), []).append(r)
        goal_recall, goal_prec, short = True, True, []
        for rate in rates:
            best_anchor = max([statistics.median(float(x["open_recall"]) for x in cell[(t, rate)])
                               for t in ("zmap", "masscan") if (t, rate) in cell] or [0])
            for t in tools:
                rs = cell.get((t, rate))
                if not rs:
                    continue
                med = lambda k: statistics.median(float(x[k]) for x in rs if x[k] != "")
                rec, prec = med("open_recall"), med("open_precision")
                if t.startswith("ppscan"):
                    goal_recall &= rec >= best_anchor
                    if rec < best_anchor:
                        short.append(f"{t} at {rate or 'max'}")
                    goal_prec &= prec >= 1.0 and (rs[0]["all_precision"] == "" or
                                                  med("all_precision") >= 1.0)
                sp = [float(x["send_pps"]) for x in rs if x["send_pps"]]
                allc = (f"{med('all_recall') * 100:.2f}% | {med('all_precision') * 100:.2f}%"
                        if rs[0]["all_recall"] else "– | –")
                missed = statistics.median(n_open - int(x["open_tp"]) for x in rs)
                L.append(f"| {t} | {rate or 'max'} | {med('wall_s'):.1f} | "
                         f"{fmt_pps(statistics.median(sp)) if sp else '–'} | "
                         f"{'100%' if rec >= 1 else f'{rec * 100:.3f}%'} | {missed:g} | "
                         f"{prec * 100:.2f}% | {allc} |")
        L += ["", f"Goals: recall at least the best anchor's at every rate — **"
              f"{'met' if goal_recall else 'not met: ' + ', '.join(short)}**; precision 100% — "
              f"**{'met' if goal_prec else 'not met'}**. `missed`: open ports of the truth not "
              "reported (median over the runs).", ""]

    co = read_csv("cost.csv")
    if co:
        g = group(co, "metric", "value")
        ns_r = statistics.median(g["ns_per_response"])
        L += ["## 5. Cost per probe and per response", "",
              "`bench/bench_core`: the TX loop's work without a device (bursts of 32 probes "
              "into 32 buffers, `pps_scan_fill_burst`) and the RX loop's (bursts of 32 "
              "genuine SYN-ACKs through `pps_scan_rx_burst`: parse, validate, dedup, results "
              "ring) on the same /8 × 4 ports space. Instructions from callgrind (repeatable; "
              "valgrind has no AVX-512, so it counts the AVX2 cookies and the scalar "
              "four-lane permutation — on this CPU the AVX-512 kernels run, with far fewer "
              "instructions); ns are this thread's CPU time, the AVX-512 path.", "",
              "| metric | value |", "|---|---|",
              f"| instructions per probe (generation) | **{g['instr_per_probe'][0]:.0f}** |",
              f"| instructions per response (validation) | **{g['instr_per_response'][0]:.0f}** |",
              f"| ns per probe | {mmm_str(g['ns_per_probe'], lambda x: f'{x:.1f}')} |",
              f"| ns per response | {mmm_str(g['ns_per_response'], lambda x: f'{x:.1f}')} |",
              f"| responses validated per second, one core | **{1e3 / ns_r:.1f} M** |", "",
              f"Goal: ≥ 10 M responses/s per core — **{'met' if ns_r <= 100 else 'not met'}**.",
              ""]
    opt = read_csv("optimisations.csv")
    if opt:
        L += ["### Optimisations (before → after)", "",
              "Measured while they were made (callgrind instruction counts are exact; ns and "
              "Mpps are medians on the shared machine).", "",
              "| change | metric | before | after |", "|---|---|---|---|"]
        for r in opt:
            L.append(f"| {r['change']} | {r['metric']} | {r['before']} | {r['after']} |")
        L.append("")

    me = read_csv("memory.csv")
    if me:
        L += ["## 6. Memory", "", "Peak RSS (`/usr/bin/time -f %M`), 262,144 probes each "
              "(the whole /16, the first 262,144 of the /8), ports " + NULL_PORTS + "; and "
              "the first 262,144 of all of IPv4 on ports 80,443 (2^33 targets: exact dedup "
              "in the default `--dedup-memory`, a 1 GiB bitmap).", "",
              "| mode | /16 | /8 | /8 ÷ /16 | /0 × 2 ports (1 GiB dedup mapped) |",
              "|---|---|---|---|---|"]
        modes = []
        for r in me:
            if r["mode"] not in modes:
                modes.append(r["mode"])
        ok = True
        for mode in modes:
            v = {r["targets"]: int(r["max_rss_kib"]) for r in me if r["mode"] == mode}
            s16, s8, s0 = v.get("10.0.0.0/16"), v.get("10.0.0.0/8"), v.get("0.0.0.0/0")
            ratio = s8 / s16
            ok &= abs(ratio - 1) <= 0.10 and s0 is not None and s0 / s16 <= 1.10
            all4 = f"{s0 / 1024:.1f} MiB" if s0 else "-"
            L.append(f"| {mode} | {s16 / 1024:.1f} MiB | {s8 / 1024:.1f} MiB | {ratio:.3f} "
                     f"| {all4} |")
        L += ["", f"Goal: within 10% — **{'met' if ok else 'not met'}**. Nothing is stored per "
              "target; the dedup bitmap (one bit per target, up to `--dedup-memory`, default "
              "1 GiB) is mapped and untouched, so only the pages responses touch become "
              "resident.", ""]

    L += ["## Chart", "", "![probes per second and recall against rate](bench/results/chart.png)",
          ""]
    # sections other benchmarks write (bench/id_bench.sh: between "<!-- NAME: begin -->" and
    # "<!-- NAME: end -->") are kept as they are
    path = os.path.join(ROOT, "BENCHMARKS.md")
    old = open(path).read() if os.path.exists(path) else ""
    blocks = [m.group(0) for m in re.finditer(r"<!-- (\w+): begin -->.*?<!-- \1: end -->",
                                                old, flags=re.S)]
    with open(path, "w") as f:
        f.write("\n".join(L + [b + "\n" for b in blocks]))
    chart(chart_tools, chart_pps, ac)


def chart(tools, pps, ac):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=80)
    if tools:
        y = range(len(tools))
        colors = ["#1f77b4" if t.startswith("ppscan") else "#999999" for t in tools]
        ax1.barh(list(y), [p / 1e6 for p in pps], color=colors)
        ax1.set_yticks(list(y))
        ax1.set_yticklabels(tools, fontsize=8)
        ax1.invert_yaxis()
        ax1.set_xscale("log")
        ax1.set_xlabel("million probes per second (median, log scale)")
        ax1.set_title("Send rate, one sender core")
        for i, p in enumerate(pps):
            ax1.text(p / 1e6, i, f" {p / 1e6:.2f}", va="center", fontsize=7)
    if ac:
        rates = []
        for r in ac:
            if int(r["rate"]) not in rates:
                rates.append(int(r["rate"]))
        names = []
        for r in ac:
            if r["tool"] not in names:
                names.append(r["tool"])
        for t in names:
            ys = []
            for rate in rates:
                v = [float(r["open_recall"]) for r in ac if r["tool"] == t and int(r["rate"]) == rate]
                ys.append(statistics.median(v) * 100 if v else float("nan"))
            ax2.plot(range(len(rates)), ys, marker="o", label=t,
                     linestyle="-" if t.startswith("ppscan") else "--")
        ax2.set_xticks(range(len(rates)))
        ax2.set_xticklabels([f"{r // 1000}k" if r else "max" for r in rates])
        ax2.set_xlabel("rate (probes per second)")
        ax2.set_ylabel("recall, open ports (%)")
        ax2.ticklabel_format(axis="y", useOffset=False)
        ax2.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.3f"))
        ax2.set_title("Accuracy in the lab (198.18.0.0/16 × 4 ports)")
        ax2.legend(fontsize=7)
        ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(RES, "chart.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="release build directory")
    ap.add_argument("--sections", default=os.environ.get(
        "PPS_BENCH_SECTIONS", "ceiling scaling kernel accuracy cost memory"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("PPS_BENCH_RUNS", 5)))
    ap.add_argument("--acc-runs", type=int, default=int(os.environ.get("PPS_BENCH_ACC_RUNS", 3)))
    ap.add_argument("--rates", default=os.environ.get("PPS_BENCH_RATES",
                                                      "25000 50000 100000 200000 0"))
    ap.add_argument("--null-probes", type=int,
                    default=int(os.environ.get("PPS_BENCH_NULL_PROBES", 40000000)))
    ap.add_argument("--testpmd-seconds", type=int, default=5)
    ap.add_argument("--cooldown", type=int, default=2)
    ap.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    a.sections = [] if a.report_only else a.sections.split()
    a.rates = [int(x) for x in a.rates.split()]
    a.ppscan = os.path.join(a.build, "dpdk_app", "ppscan")
    a.pcap = os.path.join(a.build, "fallback", "ppscan-pcap")
    a.pcap = a.pcap if os.access(a.pcap, os.X_OK) else None
    a.bench_core = os.path.join(a.build, "bench", "bench_core")
    a.testpmd = "dpdk-testpmd"
    a.load_start = open("/proc/loadavg").read().split()[:3]
    # the tree as it was when the run began (the run itself then rewrites bench/results/)
    a.git = run(["git", "-C", ROOT, "describe", "--always", "--dirty"]).stdout.strip()
    a.command = os.environ.get("PPS_BENCH_COMMAND", "bench/run.sh")
    if os.geteuid() != 0 and a.sections:
        sys.exit("bench: must run as root (DPDK, namespaces)")
    open(EMPTY_BLOCKLIST, "w").close()
    os.makedirs(RES, exist_ok=True)
    t0 = time.monotonic()
    for s in a.sections:
        log(f"== {s}")
        globals()[f"section_{s}"](a)
    report(a)
    log(f"done in {time.monotonic() - t0:.0f} s: BENCHMARKS.md, bench/results/")


if __name__ == "__main__":
    main()
