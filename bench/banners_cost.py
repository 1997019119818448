#!/usr/bin/python3
"""banners_cost.py - what --banners costs, in one run (issue 13's cost benchmarks).

  1. the TX ceiling on DPDK's net_null with and without --banners, interleaved runs, beside
     dpdk-testpmd txonly in the same run (--banners must leave it unchanged);
  2. the receive path's cost per first data segment (bench_core: parse, validation against
     cookie + 1 + the first payload's length, the bytes into the results ring, the RST),
     in ns of CPU time (median of RUNS) and in instructions (callgrind, exact);
  3. the output side's naming of first segments (pps_banner_identify(): the prefilter on the
     first bytes, then the fingerprints' regular expressions) on the first segments the
     lab's real servers sent (bench/lab-first-segments.hex), segments per CPU second and
     instructions per segment; goal at least 1 M segments/s on one core.
Writes bench/results/banners_cost.csv and the "--banners cost" section of BENCHMARKS.md.

Usage (root): bench/banners_cost.py --build build [--runs 5] [--null-probes 20000000]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench  # noqa: E402

BEGIN, END = "<!-- banners_cost: begin -->", "<!-- banners_cost: end -->"
SEGMENTS = os.path.join(ROOT, "bench", "lab-first-segments.hex")


def core_run(core, n_seg, prefix=None):
    """One bench_core run of the --banners parts only; returns (banner_ns, classify_ns)."""
    p = bench.run((prefix or []) + [core, "0", "0", str(n_seg), SEGMENTS], timeout=900,
                  check=True)
    m = re.search(r"banner_ns=([0-9.]+) classify_ns=([0-9.]+)", p.stdout)
    if not m:
        raise RuntimeError(f"bench_core gave no result: {p.stdout[-400:]} {p.stderr[-400:]}")
    return float(m.group(1)), float(m.group(2))


def callgrind(core, n_seg, work):
    """Instructions per segment of bench_validate_banners and bench_classify."""
    out = os.path.join(work, "callgrind.banners")
    bench.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", core, "0", "0",
               str(n_seg), SEGMENTS], timeout=900, check=True)
    ann = bench.run(["callgrind_annotate", "--inclusive=yes", out], check=True).stdout
    ir = {}
    for fn in ("bench_validate_banners", "bench_classify"):
        m = re.search(r"^\s*([0-9,]+) \([^)]*\)\s+\S*:" + fn + r"\b", ann, re.M)
        if not m:
            raise RuntimeError(f"callgrind: no {fn} in the annotation")
        ir[fn] = int(m.group(1).replace(",", "")) / n_seg
    os.unlink(out)
    return ir


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--null-probes", type=int, default=20000000)
    ap.add_argument("--segments", type=int, default=2000000)
    ap.add_argument("--testpmd-seconds", type=int, default=5)
    a = ap.parse_args()
    a.ppscan = os.path.join(a.build, "dpdk_app", "ppscan")
    a.testpmd = "dpdk-testpmd"
    core = os.path.join(a.build, "bench", "bench_core")
    work = bench.tempfile.mkdtemp(prefix="ppsb6-bcost-")
    rows, plain, banners, testpmd, ban_ns, cls_ns = [], [], [], [], [], []
    for r in range(a.runs):  # interleaved: without, with, testpmd, then the CPU costs
        p0 = bench.ppscan_null(a, 1, ["-l", "0-1"], a.null_probes)
        p1 = bench.ppscan_null(a, 1, ["-l", "0-1"], a.null_probes, extra_opts=["--banners"])
        tp = bench.testpmd_txonly(a, a.testpmd_seconds)
        b, c = core_run(core, a.segments)
        plain.append(p0)
        banners.append(p1)
        testpmd.append(tp)
        ban_ns.append(b)
        cls_ns.append(c)
        bench.log(f"run {r + 1}: net_null {p0 / 1e6:.2f} Mpps, with --banners {p1 / 1e6:.2f} "
                  f"Mpps, testpmd {tp / 1e6:.2f} Mpps; {b:.1f} ns/segment RX, "
                  f"{c:.0f} ns/segment named")
        rows += [[r + 1, "ppscan net_null", f"{p0:.0f}"],
                 [r + 1, "ppscan net_null --banners", f"{p1:.0f}"],
                 [r + 1, "testpmd txonly", f"{tp:.0f}"],
                 [r + 1, "rx ns/segment", f"{b:.2f}"], [r + 1, "classify ns/segment", f"{c:.1f}"]]
    ir = callgrind(core, 200000, work)
    rows += [[0, "rx Ir/segment", f"{ir['bench_validate_banners']:.0f}"],
             [0, "classify Ir/segment", f"{ir['bench_classify']:.0f}"]]
    bench.write_csv("banners_cost.csv", ["run", "what", "value"], rows)
    med = statistics.median
    n_seg = sum(1 for line in open(SEGMENTS) if line[:1] not in ("#", "\n"))
    L = [BEGIN, "", "## --banners: cost", "",
         f"`bench/banners_cost.py --build {a.build} --runs {a.runs}` (root), "
         f"{a.runs} interleaved runs, medians; this machine: {os.cpu_count()} cores, shared and "
         "noisy (the ns figures move between runs, the instruction counts do not).", "",
         "| what | median | min | max |", "|---|---|---|---|",
         f"| ppscan, 1 TX lcore on net_null | {med(plain) / 1e6:.2f} Mpps | "
         f"{min(plain) / 1e6:.2f} | {max(plain) / 1e6:.2f} |",
         f"| the same with `--banners` | {med(banners) / 1e6:.2f} Mpps | "
         f"{min(banners) / 1e6:.2f} | {max(banners) / 1e6:.2f} |",
         f"| dpdk-testpmd txonly, same run | {med(testpmd) / 1e6:.2f} Mpps | "
         f"{min(testpmd) / 1e6:.2f} | {max(testpmd) / 1e6:.2f} |",
         f"| receive path per first data segment (RST included) | {med(ban_ns):.1f} ns | "
         f"{min(ban_ns):.1f} | {max(ban_ns):.1f} |",
         f"| naming a first segment (output side) | {med(cls_ns):.0f} ns = "
         f"{1e3 / med(cls_ns):.2f} M segments/s | {min(cls_ns):.0f} | {max(cls_ns):.0f} |",
         "", f"Instructions (callgrind, 200,000 segments): {ir['bench_validate_banners']:.0f} per "
         f"first data segment on the receive path, {ir['bench_classify']:.0f} per segment named.",
         "`--banners` over plain on net_null, run by run: "
         + ", ".join(f"{x / y:.2f}" for x, y in zip(banners, plain))
         + f" (median {med([x / y for x, y in zip(banners, plain)]):.2f}; the TX loop does the "
         "same work with --banners but polls the resets ring between bursts; the payloads go "
         "out from the receive path, and net_null answers nothing). The segments named are the "
         f"{n_seg} first segments the lab's real servers sent (bench/lab-first-segments.hex: "
         "OpenSSH, nginx, vsftpd, Postfix, Dovecot, TLS ServerHellos, ...), cycled.", "", END]
    bench.replace_section(BEGIN, END, L)
    bench.log("done: bench/results/banners_cost.csv, BENCHMARKS.md")


if __name__ == "__main__":
    main()
