#!/usr/bin/python3
"""hostile_test.py - ppscan-id against hostile servers (suite `lab`, root; its own lab).

    hostile_test.py PPSCAN_ID [SOURCE_ROOT]

Builds a lab of its own (scripts/netlab.sh, PPS_LAB=ppsidh; tests/tls/tls_lab.sh client-up),
starts tests/id/hostile_lab.sh's servers (a 10 MiB flood, a 10 MiB HTTP body, a one-byte-a-
second greeting, binary noise, invalid UTF-8 in SSH and HTTP, greetings that never end with
a newline, an immediate RST, half-closes, silence, a 50-certificate TLS chain, a host that
answers on every port, a real memcached on an unexpected port) and runs ppscan-id on them once. Then, for every endpoint:

  - exactly one record, the output valid UTF-8 and valid JSON line by line, each record
    valid against schema/service-record.schema.json (when the schema is in the tree);
  - the classification the case calls for (the protocol, or no_service), product and
    version where the server states them, the TLS chain's 50 certificates;
  - within the timeouts: total_ms <= connect + greeting window + max-handshakes x
    (connect + handshake) + 1 s, from the options of the run;
  - first_bytes at most 64 bytes; the address answering on every port marked `middlebox`
    in each of its records and no other address marked;
  - ppscan-id exits 0, and its peak RSS stays below 64 MiB while 20 MiB of floods arrive.

Then memory per connection in flight, measured (tests/id/id_measure.py): c silent endpoints
at concurrency c = 100, 1000, 10000 (thousands of lab addresses x 4 ports, one silent
listener per port), each run holding all c connections at once, on ports where a plaintext
handshake goes first and on ports where TLS does. Asserted bounds: every endpoint recorded
as no_service, all c in flight together, and per extra connection at most 28 KiB in the
greeting window (the slot, its endpoint and its ID_RX_MAX + ID_TX_MAX buffers even if all
were touched, as they are under meson's MALLOC_PERTURB_, which the measurement leaves out),
32 KiB in a plaintext handshake and 96 KiB with an OpenSSL handshake in flight. The numbers
are printed.

Exit 0 when every check passed, 1 otherwise, 77 (skip) without root.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import id_measure  # noqa: E402

LAB = os.environ.get("PPS_HOSTILE_LAB", "ppsidh")
CLI = LAB + "-cli"
OPTS = {"connect": 2, "timeout": 2, "greeting": 1, "handshakes": 5}
MBOX_IP, MBOX_PORTS = "198.18.0.77", list(range(1, 21))
SILENT_PORTS = [7001, 7002, 7003, 7004]  # a plaintext handshake goes first there
TLS_PORTS = [4443, 8443, 9443, 10443]  # ports the TLS module lists: TLS goes first
LEVELS = [100, 1000, 10000]

failures = []
passes = 0


def check(cond, what):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def expectations(mods):
    """case -> (allowed protocols, extra check or None). Cases whose protocol has a module in
    this build must be named by it; without the module they are unknown (never no_service:
    the server did send)."""
    def by(mod, other="unknown"):
        return {mod} if mod in mods else {other}

    def ssh_product(r):
        return r.get("product") == "OpenSSH" and (r.get("version") or "").startswith("9.2")

    def http_server(want):
        # the Server header and the title are read (and invalid UTF-8 in them escaped)
        def f(r):
            h = r.get("http") or {}
            return (h.get("server") or "").startswith(want) and (
                want != "bad" or h.get("title", "").startswith("t"))
        return f

    def memcached_version(r):
        return r.get("confidence") == "match" and (r.get("version") or "").startswith("1.")

    def chain50(r):
        t = r.get("tls") or {}
        return t.get("chain_length") == 50 and t.get("verify_ok") is True

    return {
        "flood": ({"unknown"}, None),
        "flood_http": (by("http"), http_server("floodd/1.0") if "http" in mods else None),
        # 1 byte a second: the greeting window closes on "S": unknown, or ssh if it waits
        "trickle": ({"unknown", "ssh"}, None),
        "noise": ({"unknown"}, None),
        "badutf8_ssh": ({"ssh"}, None),
        "badutf8_http": (by("http"), http_server("bad") if "http" in mods else None),
        "nonewline": ({"smtp", "unknown"} if "smtp" in mods else {"unknown"}, None),
        "nonewline_long": ({"unknown"}, None),
        "rst": ({"no_service"}, None),
        "halfclose": ({"no_service"}, None),
        "halfclose_banner": ({"ssh"}, ssh_product),
        "silent": ({"no_service"}, None),
        "tlschain50": (by("http", "tls"), chain50),
        "memcached_offport": (by("memcached"),
                              memcached_version if "memcached" in mods else None),
    }


def main(argv):
    if os.geteuid() != 0:
        print("hostile_test: needs root (network namespaces); skipped")
        return 77
    binary = os.path.abspath(argv[1])
    root = os.path.abspath(argv[2]) if len(argv) > 2 else os.path.dirname(os.path.dirname(HERE))
    blocklist = os.path.join(root, "scripts", "lab-blocklist.conf")
    schema_path = os.path.join(root, "schema", "service-record.schema.json")
    work = tempfile.mkdtemp(prefix="ppscan-hostile.")
    env = dict(os.environ, PPS_LAB=LAB)
    netlab = os.path.join(root, "scripts", "netlab.sh")
    tls_lab = os.path.join(root, "tests", "tls", "tls_lab.sh")
    hostile = os.path.join(HERE, "hostile_lab.sh")
    try:
        sh(netlab, "up", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sh(tls_lab, "client-up", LAB)
        sh(hostile, "start", LAB, work)
        sh(hostile, "silent", LAB, work, *map(str, SILENT_PORTS + TLS_PORTS))
        return run_checks(binary, blocklist, schema_path, work)
    finally:
        subprocess.run([hostile, "stop", work])
        subprocess.run([tls_lab, "client-down", LAB])
        subprocess.run([netlab, "down"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", work])


def run_checks(binary, blocklist, schema_path, work):
    mods = set()
    out = subprocess.run([binary, "--list-modules"], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if line.split():
            mods.add(line.split()[0])
    print(f"hostile_test: modules: {' '.join(sorted(mods))}")
    validator = None
    if os.path.exists(schema_path):
        import jsonschema
        schema = json.load(open(schema_path))
        validator = jsonschema.Draft202012Validator(schema) if "2020-12" in schema.get(
            "$schema", "") else jsonschema.Draft7Validator(schema)

    cases = {}
    for line in open(os.path.join(work, "endpoints.csv")).read().split()[1:]:
        case, ip, port = line.split(",")
        cases[(ip, int(port))] = case
    inp = os.path.join(work, "hostile.csv")
    with open(inp, "w") as f:
        f.write("saddr,sport,classification\n")
        for ip, port in cases:
            f.write(f"{ip},{port},synack\n")
        for port in MBOX_PORTS:
            f.write(f"{MBOX_IP},{port},synack\n")
    o = OPTS
    r = id_measure.run(CLI, [
        binary, "-b", blocklist, "-c", "200", "-r", "0", "--per-host", "0",
        "--connect-timeout", str(o["connect"]), "-t", str(o["timeout"]),
        "--greeting-wait", str(o["greeting"]), "--max-handshakes", str(o["handshakes"]),
        "--ca-file", os.path.join(work, "chain50-root.crt"), inp],
        os.path.join(work, "hostile.json"), os.path.join(work, "hostile.err"))
    print(f"hostile_test: {r['summary']}")
    print(f"hostile_test: {r['wall_s']:.1f} s, {r['cpu_s']:.2f} CPU s, "
          f"peak RSS {r['maxrss_kib'] / 1024:.1f} MiB")
    check(r["rc"] == 0, f"ppscan-id exit code {r['rc']} (want 0)")
    try:
        r["raw"].decode("utf-8", "strict")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    check(utf8, "the output is valid UTF-8")
    check(r["maxrss_kib"] < 64 * 1024,
          f"peak RSS {r['maxrss_kib']} KiB < 64 MiB while 20 MiB of floods arrive")

    bound_ms = 1000 * (o["connect"] + o["greeting"]
                       + o["handshakes"] * (o["connect"] + o["timeout"]) + 1)
    exp = expectations(mods)
    seen = {}
    for rec in r["records"]:
        key = (rec.get("ip"), rec.get("port"))
        seen[key] = seen.get(key, 0) + 1
        if validator:
            errs = sorted(validator.iter_errors(rec), key=lambda e: list(e.path))
            check(not errs, f"{key}: schema: {errs[0].message if errs else ''}")
        check(rec.get("total_ms", 1e9) <= bound_ms,
              f"{key}: total_ms {rec.get('total_ms')} <= {bound_ms} (the timeouts' bound)")
        fb = rec.get("first_bytes")
        check(fb is None or len(fb) <= 128, f"{key}: first_bytes at most 64 bytes")
        if key[0] == MBOX_IP:
            check(rec.get("middlebox") is True, f"{key}: middlebox marked")
            check(rec.get("protocol") == "no_service",
                  f"{key}: middlebox port is no_service (got {rec.get('protocol')})")
            continue
        check(rec.get("middlebox") is False, f"{key}: not a middlebox")
        case = cases.get(key)
        if case is None:
            check(False, f"{key}: a record for an endpoint that was not in the input")
            continue
        allowed, extra = exp[case]
        ok = rec.get("protocol") in allowed
        check(ok, f"{case} {key}: protocol {rec.get('protocol')} in {sorted(allowed)}")
        if extra:
            check(extra(rec), f"{case} {key}: product/version/TLS facts: "
                  f"{rec.get('product')} {rec.get('version')} "
                  f"{(rec.get('tls') or {}).get('chain_length')} {json.dumps(rec.get(rec.get('protocol') or ''))[:200]}")
        print(f"  {case:17} {key[0]}:{key[1]:<5} {rec.get('protocol'):10} "
              f"{rec.get('product')!s:12} {rec.get('version')!s:8} "
              f"{rec.get('confidence')!s:6} {rec.get('total_ms'):8.1f} ms  "
              f"{[h.get('name') + ':' + h.get('result') for h in rec.get('handshakes', [])]}")
    want = set(cases) | {(MBOX_IP, p) for p in MBOX_PORTS}
    check(set(seen) == want, f"one record per endpoint: missing {sorted(want - set(seen))}, "
          f"extra {sorted(set(seen) - want)}")
    check(all(v == 1 for v in seen.values()),
          f"no endpoint twice: {[k for k, v in seen.items() if v > 1]}")

    plain = id_measure.memory_per_connection(CLI, binary, blocklist, work, LEVELS,
                                             SILENT_PORTS, tag="plain")
    tls = id_measure.memory_per_connection(CLI, binary, blocklist, work, LEVELS, TLS_PORTS,
                                           tag="tls")
    print("hostile_test: memory per connection in flight (c silent endpoints at -c c):")
    print(f"  {'c':>6} {'in flight':>9} {'RSS greeting':>13} {'RSS plaintext':>14} "
          f"{'RSS TLS':>9} {'B/conn greeting':>16} {'plaintext hs':>13} {'TLS hs':>8}")
    for p, t in zip(plain, tls):
        g, h, k = (p["bytes_per_conn_greeting"], p["bytes_per_conn_handshake"],
                   t["bytes_per_conn_handshake"])
        print(f"  {p['concurrency']:>6} {p['peak_conns']:>9} "
              f"{p['rss_greeting_kib'] / 1024:>9.1f} MiB {p['maxrss_kib'] / 1024:>10.1f} MiB "
              f"{t['maxrss_kib'] / 1024:>5.1f} MiB "
              + " ".join(f"{'-' if v is None else f'{v:.0f}':>{w}}"
                         for v, w in ((g, 16), (h, 13), (k, 8))))
        print(f"         first handshakes: plaintext {p['handshakes']}, TLS {t['handshakes']}")
        for row, what in ((p, "plaintext"), (t, "TLS")):
            c = row["concurrency"]
            check(row["rc"] == 0 and row["records"] == c and row["no_service"] == c,
                  f"{what} c={c}: {row['records']} records, {row['no_service']} no_service "
                  f"(want {c})")
            check(row["peak_conns"] >= c * 0.98,
                  f"{what} c={c}: {row['peak_conns']} in flight at once")
        check(t["handshakes"].get("tls", 0) == t["concurrency"],
              f"c={t['concurrency']}: TLS first on the TLS ports: {t['handshakes']}")
        if g is not None:
            check(g <= 28 * 1024, f"c={p['concurrency']}: {g:.0f} B per connection in the "
                  "greeting window <= 28 KiB")
            check(h <= 32 * 1024, f"c={p['concurrency']}: {h:.0f} B per connection in a "
                  "plaintext handshake <= 32 KiB")
            check(k <= 96 * 1024, f"c={t['concurrency']}: {k:.0f} B per connection in a TLS "
                  "handshake <= 96 KiB")
    print(f"hostile_test: {passes} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
