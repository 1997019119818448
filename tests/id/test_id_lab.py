#!/usr/bin/env python3
"""test_id_lab.py - ppscan-id against real servers (root; suite `lab`).

Brings up tests/id/id_lab.sh (netlab namespaces, a client namespace, nginx, OpenSSH, vsftpd,
Postfix, Dovecot, openssl s_server and the servers of tests/id/servers_*.sh, each on its usual
port and an unexpected one), runs ppscan-id from the client namespace through the kernel's TCP
stack, and checks every record: valid against schema/service-record.schema.json, and the
protocol, product, version and TLS mode that `id_lab.sh expect` lists. Then the inputs (CSV
file, NDJSON through a pipe, a Redis results stream in a consumer group), the Redis services
stream, --max-handshakes, middlebox marking, and the whole pipeline: ppscan (DPDK af_packet)
scans the lab into Redis while ppscan-id follows the stream.

Usage: test_id_lab.py PPSCAN_ID [PPSCAN]   (PPS_REDIS_SOCKET: a running Redis, else one is started)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.environ.get("PPS_ID_LAB", "ppsid")
CLI = f"{LAB}-cli"
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "service-record.schema.json")))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
BLOCK = ["-b", os.path.join(ROOT, "scripts", "lab-blocklist.conf")]
EAL = "--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1".split()

failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def ppscan_id(binary, args, stdin=None, timeout=240):
    """Runs ppscan-id in the client namespace; returns (rc, records, stderr)."""
    p = subprocess.run(["ip", "netns", "exec", CLI, binary] + BLOCK + args, input=stdin,
                       capture_output=True, timeout=timeout)
    recs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return p.returncode, recs, p.stderr.decode()


def validate(recs, what):
    for r in recs:
        errs = sorted(VALIDATOR.iter_errors(r), key=lambda e: e.path)
        check(not errs, f"{what}: record {r.get('ip')}:{r.get('port')} against the schema: "
                        f"{errs[0].message if errs else ''}")


def expectations():
    out = subprocess.run([os.path.join(ROOT, "tests/id/id_lab.sh"), "expect"], check=True,
                         capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ip, port, proto, product, version, mode = line.split("\t")[:6]
        rows.append((ip, int(port), proto, None if product == "-" else product,
                     None if version == "-" else version, None if mode == "-" else mode))
    return rows


def check_expected(recs, rows, what):
    by = {(r["ip"], r["port"]): r for r in recs}
    for ip, port, proto, product, version, mode in rows:
        r = by.get((ip, port))
        check(r is not None, f"{what}: no record for {ip}:{port}")
        if r is None:
            continue
        got = (r["protocol"], r["product"], r["version"], r.get("tls_mode"))
        check(r["protocol"] == proto, f"{what}: {ip}:{port} protocol {got[0]!r}, expected {proto!r}")
        if product:
            check(r["product"] == product,
                  f"{what}: {ip}:{port} product {got[1]!r}, expected {product!r}")
        if version:
            check(r["version"] == version,
                  f"{what}: {ip}:{port} version {got[2]!r}, expected {version!r}")
        check(r.get("tls_mode") == mode,
              f"{what}: {ip}:{port} tls_mode {got[3]!r}, expected {mode!r}")
        if mode:
            check(r.get("tls", {}).get("classification") == "tls",
                  f"{what}: {ip}:{port} no completed TLS handshake in the record")
        if proto == "no_service":
            check(r["first_bytes"] is None, f"{what}: {ip}:{port} no_service with bytes")


def csv_of(rows):
    return "saddr,sport,classification\n" + "".join(f"{r[0]},{r[1]},synack\n" for r in rows)


def redis_cli(sock, *args):
    return subprocess.run(["redis-cli", "-s", sock] + list(args), check=True,
                          capture_output=True, text=True).stdout


def stream_records(sock, key):
    out = subprocess.run(["redis-cli", "-s", sock, "--json", "XRANGE", key, "-", "+"],
                         capture_output=True, text=True)
    if out.returncode == 0 and out.stdout.strip().startswith("["):
        entries = json.loads(out.stdout)
        res = []
        for _, fields in entries:
            d = dict(zip(fields[::2], fields[1::2]))
            res.append(d)
        return res
    # redis-cli without --json (Redis < 7): raw lines, field/value pairs after each id
    raw = subprocess.run(["redis-cli", "-s", sock, "XRANGE", key, "-", "+"], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    res, cur, i = [], None, 0
    while i < len(raw):
        line = raw[i]
        if "-" in line and line.replace("-", "").isdigit():
            cur = {}
            res.append(cur)
            i += 1
            continue
        if cur is not None and i + 1 < len(raw):
            cur[line] = raw[i + 1]
            i += 2
            continue
        i += 1
    return res


def main():
    binary = os.path.abspath(sys.argv[1])
    ppscan = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    d = tempfile.mkdtemp(prefix="ppsid-lab.")
    own_redis = None
    sock = os.environ.get("PPS_REDIS_SOCKET")
    lab = os.path.join(ROOT, "tests/id/id_lab.sh")
    ok = False
    try:
        sh(lab, "up", LAB, d)
        if not sock or not os.path.exists(sock):
            sock = os.path.join(d, "redis.sock")
            sh("redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
               "--dir", d, "--save", "", "--appendonly", "no", "--daemonize", "yes",
               "--pidfile", os.path.join(d, "redis.pid"))
            own_redis = sock
            for _ in range(50):
                if subprocess.run(["redis-cli", "-s", sock, "ping"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
        rows = expectations()

        # 1. a CSV file: every endpoint named as expected, every record valid
        path = os.path.join(d, "in.csv")
        open(path, "w").write(csv_of(rows))
        t0 = time.monotonic()
        rc, recs, err = ppscan_id(binary, ["-t", "3", "--greeting-wait", "1", "-q", path])
        print(f"csv: {len(recs)} records in {time.monotonic() - t0:.1f} s", flush=True)
        check(rc == 0, f"csv: exit {rc}: {err.strip()}")
        check(len(recs) == len(rows), f"csv: {len(recs)} records for {len(rows)} endpoints")
        validate(recs, "csv")
        check_expected(recs, rows, "csv")
        json.dump(recs, open(os.path.join(d, "csv.json"), "w"), indent=1)
        ssh = [r for r in recs if r["port"] == 22]
        if ssh:
            check("curve25519-sha256" in ssh[0].get("ssh", {}).get("kex_algorithms", []),
                  "ssh: KEXINIT algorithms not recorded")
        smtp = [r for r in recs if r["port"] == 25]
        if smtp:
            check("STARTTLS" in smtp[0].get("smtp", {}).get("extensions", []),
                  "smtp: EHLO extensions without STARTTLS")
        web = [r for r in recs if r["ip"] == "198.18.0.21" and r["port"] == 80]
        if web:
            check(web[0].get("http", {}).get("title") == "ppscan lab nginx", "http: no title")
            check(web[0].get("http", {}).get("status") == 200, "http: no status 200")
        h2 = [r for r in recs if r["ip"] == "198.18.0.21" and r["port"] == 443]
        if h2:
            check(h2[0].get("tls", {}).get("alpn") == "h2", "https 443: ALPN h2 not recorded")
            check(h2[0].get("http2", {}).get("status") == 200, "http2: no :status 200")
        silent = [r for r in recs if r["port"] == 9002]
        mods = subprocess.run([binary, "--list-modules"], capture_output=True, text=True).stdout
        n_probe = sum(1 for line in mods.splitlines() if line.split()[1] in ("client", "tls", "both"))
        if silent:
            names = [h["name"] for h in silent[0]["handshakes"]]
            want = 1 + min(5, n_probe)
            check(names[0] == "greeting" and len(names) == want,
                  f"no_service 9002: handshakes {names}, expected the greeting and {want - 1}")

        # 2. NDJSON through a pipe, --max-handshakes 2
        nd = "".join(json.dumps({"saddr": r[0], "sport": r[1], "classification": "synack"}) + "\n"
                     for r in rows if r[2] == "no_service" or r[1] in (22, 80))
        rc, recs2, err = ppscan_id(binary, ["-t", "2", "--greeting-wait", "0.5", "-q",
                                            "--max-handshakes", "2", "-"], stdin=nd.encode())
        check(rc == 0, f"ndjson pipe: exit {rc}: {err.strip()}")
        validate(recs2, "ndjson pipe")
        for r in recs2:
            if r["protocol"] == "no_service":
                n = len([h for h in r["handshakes"] if h["name"] != "greeting"])
                check(n <= 2, f"--max-handshakes 2: {n} client-first handshakes at {r['port']}")

        # 2b. the TLS options of ppscan-tls: --versions, --banner-bytes
        rc, recs5, err = ppscan_id(binary, ["-t", "3", "--greeting-wait", "0.5", "-q", "--versions",
                                            "--banner-bytes", "8", "-"],
                                   stdin=b"saddr,sport\n198.18.0.25,443\n198.18.0.20,22\n")
        check(rc == 0, f"--versions: exit {rc}: {err.strip()}")
        validate(recs5, "--versions")
        for r in recs5:
            if r["port"] == 443:
                v = r.get("tls", {}).get("versions", {})
                check(v.get("TLSv1.3") is True and v.get("TLSv1.2") is True,
                      f"--versions: {v}")
            else:
                check(r["first_bytes"] == b"SSH-2.0-".hex(), f"--banner-bytes 8: {r['first_bytes']}")

        # 3. middlebox: one address with 20 ports in the input is marked, the others are not
        mb = "saddr,sport\n" + "".join(f"198.18.0.26,{p}\n" for p in [9001, 9002] +
                                       list(range(9100, 9118))) + "198.18.0.20,22\n"
        rc, recs3, err = ppscan_id(binary, ["-t", "1", "--greeting-wait", "0.3", "-q",
                                            "--max-handshakes", "1", "-"], stdin=mb.encode())
        check(rc == 0, f"middlebox: exit {rc}: {err.strip()}")
        validate(recs3, "middlebox")
        for r in recs3:
            check(r["middlebox"] == (r["ip"] == "198.18.0.26"),
                  f"middlebox: {r['ip']}:{r['port']} marked {r['middlebox']}")
        refused = [r for r in recs3 if r["port"] == 9100]
        check(bool(refused) and refused[0]["status"] == "refused",
              "a closed port is not recorded as refused")

        # 4. a Redis results stream in a consumer group -> the services stream
        scan = f"idlab{os.getpid()}"
        for ip, port, *_ in rows:
            redis_cli(sock, "XADD", f"ppscan:{scan}:results", "*", "ip", ip, "port", str(port),
                      "status", "open", "ttl", "64", "ts", "1")
        redis_cli(sock, "XADD", f"ppscan:{scan}:results", "*", "ip", "198.18.0.20", "port",
                  "23", "status", "closed", "ttl", "64", "ts", "1")
        redis_cli(sock, "HSET", f"ppscan:{scan}:meta", "state", "done", "ports", "3")
        rc, recs4, err = ppscan_id(binary, ["-t", "3", "--greeting-wait", "1", "-q", "--redis",
                                            f"unix://{sock}", "--scan-id", scan,
                                            "--follow-timeout", "30"])
        check(rc == 0, f"redis: exit {rc}: {err.strip()}")
        check_expected(recs4, rows, "redis input")
        entries = stream_records(sock, f"ppscan:{scan}:services")
        check(len(entries) == len(rows), f"redis: {len(entries)} services entries for {len(rows)}")
        srecs = []
        for ent in entries:
            rec = json.loads(ent["json"])
            srecs.append(rec)
            check(ent.get("protocol") == rec["protocol"] and ent.get("ip") == rec["ip"],
                  "redis: stream fields ip/protocol disagree with the record")
        validate(srecs, "services stream")
        pend = redis_cli(sock, "XPENDING", f"ppscan:{scan}:results", "ppscan-id").split()
        check(pend and pend[0] == "0", f"redis: entries left unacknowledged: {pend[:1]}")

        # 5. bad input: one line, exit 2
        p = subprocess.run([binary, "--max-handshakes", "0", path], capture_output=True, text=True)
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and "'0'" in p.stderr,
              f"bad --max-handshakes: rc {p.returncode}, {p.stderr!r}")

        # 6. the whole pipeline: ppscan (DPDK) scans the lab into Redis, ppscan-id follows
        if ppscan and os.path.exists(ppscan):
            scan = f"idpipe{os.getpid()}"
            ports = sorted({r[1] for r in rows if r[0] in ("198.18.0.20", "198.18.0.21",
                                                             "198.18.0.24")})
            follower = subprocess.Popen(
                ["ip", "netns", "exec", CLI, binary] + BLOCK +
                ["-t", "3", "--greeting-wait", "1", "-q", "--redis", f"unix://{sock}",
                 "--scan-id", scan, "--follow-timeout", "120", "-o", os.path.join(d, "pipe.out")],
                stderr=open(os.path.join(d, "pipe.err"), "w"))
            time.sleep(0.3)
            scan_rc = subprocess.run(
                ["ip", "netns", "exec", f"{LAB}-scan", ppscan] + EAL +
                ["--vdev", f"net_af_packet0,iface={LAB}s", "--", "-S", "198.19.0.2",
                 "--gateway-ip", "198.19.0.1", "-q", "-p", ",".join(map(str, ports)), "-r", "5000", "-c", "2", "--redis",
                 f"unix://{sock}", "--scan-id", scan, "-o", "/dev/null"] + BLOCK +
                ["198.18.0.16/28"],
                capture_output=True, text=True, timeout=300)
            check(scan_rc.returncode == 0, f"pipeline: ppscan exited {scan_rc.returncode}: "
                                           f"{scan_rc.stderr.strip()[-300:]}")
            try:
                frc = follower.wait(timeout=120)
            except subprocess.TimeoutExpired:
                follower.kill()
                frc = -1
            check(frc == 0, f"pipeline: ppscan-id exited {frc} (see {d}/pipe.err)")
            prec = [json.loads(x) for x in open(os.path.join(d, "pipe.out")) if x.strip()]
            validate(prec, "pipeline")
            want = [r for r in rows if r[0] in ("198.18.0.20", "198.18.0.21", "198.18.0.24")]
            check_expected(prec, want, "pipeline")
            ents = stream_records(sock, f"ppscan:{scan}:services")
            check(len(ents) == len(prec), f"pipeline: {len(ents)} stream entries, {len(prec)} records")
        ok = True
    finally:
        subprocess.run([lab, "down", LAB, d], capture_output=True)
        if own_redis:
            subprocess.run(["redis-cli", "-s", own_redis, "shutdown", "nosave"], capture_output=True)
        if ok and not failures and not os.environ.get("PPS_KEEP"):
            shutil.rmtree(d, ignore_errors=True)
        else:
            print(f"files kept in {d}")
    print(f"id_lab: {passed} checks passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
