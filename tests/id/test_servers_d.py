#!/usr/bin/env python3
"""test_servers_d.py - ppscan-id's AMQP, Kafka, ZooKeeper, CQL, IRC, NNTP, SOCKS, Modbus/TCP,
IPP, Java RMI and X11 modules against their lab servers (root; suite `lab`).

Brings up a lab of its own (scripts/netlab.sh, a client namespace from tests/tls/tls_lab.sh)
with only the servers of tests/id/servers_d.sh (real servers from Debian packages; responders
written from the specification for Kafka and CQL, which Debian does not package), each on its
usual port and on an unexpected one, and runs ppscan-id from the client namespace:

  1. with the defaults (at most 5 client-first handshakes): every endpoint on its usual port
     is named with the protocol, product and version `servers_d.sh expect` lists, and every
     record is valid against schema/service-record.schema.json; each per-protocol object
     holds what the handshake revealed (RabbitMQ's platform, the X server's vendor and screen, Modbus's device
     identification, the SOCKS method, Kafka's API versions, CQL's versions, IRC's server,
     NNTP's implementation, RMI's view of the client's address, ZooKeeper's mode);
     the endpoints on unexpected ports are tried with the five most likely handshakes only
     (LZR's bound), so there they are only reported;
  2. with --max-handshakes 64: every endpoint, usual and unexpected port, named and described;
  3. with the port hint taken away (every endpoint behind a port none of these protocols
     claims) and --max-handshakes 64: the same names, from the bytes alone.

Usage: test_servers_d.py PPSCAN_ID
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_id_lab as lab  # noqa: E402  (check(), the schema validator, the blocklist)

LAB = os.environ.get("PPS_ID_D_LAB", "ppsd")
CLI = f"{LAB}-cli"
SERVERS = os.path.join(ROOT, "tests/id/servers_d.sh")
check = lab.check


def expectations():
    out = subprocess.run([SERVERS, "expect"], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        ip, port, proto, product, version, _mode, kind = line.split("\t")[:7]
        rows.append((ip, int(port), proto, None if product == "-" else product,
                     None if version == "-" else version, kind))
    return rows


def run_id(binary, rows, extra, what):
    csv = "saddr,sport,classification\n" + "".join(f"{r[0]},{r[1]},synack\n" for r in rows)
    t0 = time.monotonic()
    p = subprocess.run(["ip", "netns", "exec", CLI, binary] + lab.BLOCK +
                       ["--greeting-wait", "1", "-q"] + extra + ["-"],
                       input=csv.encode(), capture_output=True, timeout=600)
    print(f"{what}: {len(rows)} endpoints in {time.monotonic() - t0:.1f} s", flush=True)
    check(p.returncode == 0, f"{what}: exit {p.returncode}: {p.stderr.decode().strip()}")
    recs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    check(len(recs) == len(rows), f"{what}: {len(recs)} records for {len(rows)} endpoints")
    lab.validate(recs, what)
    return {(r["ip"], r["port"]): r for r in recs}


def check_names(by, rows, what, port_of=lambda ip, port: port):
    for ip, port, proto, product, version, _kind in rows:
        r = by.get((ip, port_of(ip, port)))
        if r is None:
            check(False, f"{what}: no record for {ip}:{port}")
            continue
        got = (r["protocol"], r["product"], r["version"])
        check(r["protocol"] == proto, f"{what}: {ip}:{port} is {got}, expected {proto}")
        if product:
            check(r["product"] == product, f"{what}: {ip}:{port} is {got}, expected {product}")
        if version:
            check(r["version"] == version, f"{what}: {ip}:{port} is {got}, expected {version}")
        check(r["confidence"] == "match", f"{what}: {ip}:{port} confidence {r['confidence']}")


def check_details(by):
    def obj(ip, port, name):
        return by.get((ip, port), {}).get(name) or {}

    for port in (5672, 8080):
        a = obj("198.18.13.10", port, "amqp")
        check(a.get("protocol_version") == "0-9", f"amqp {port}: {a}")
        check(a.get("platform", "").startswith("Erlang/OTP"), f"amqp {port}: platform {a}")
        check("PLAIN" in a.get("mechanisms", []), f"amqp {port}: mechanisms {a}")
        check(a.get("cluster_name") == "rabbit@lab", f"amqp {port}: cluster_name {a}")
    for port in (9092, 5432):
        k = obj("198.18.13.11", port, "kafka")
        check(k.get("error_code") == 0 and k.get("api_keys", 0) > 40, f"kafka {port}: {k}")
        check(k.get("api_versions_max_version") == 3, f"kafka {port}: {k}")
    for port in (2181, 1883):
        z = obj("198.18.13.12", port, "zookeeper")
        check(z.get("mode") == "standalone", f"zookeeper {port}: {z}")
    for port in (9042, 3306):
        q = obj("198.18.13.13", port, "cql")
        check(q.get("protocol_version") == 4 and "4/v4" in q.get("protocol_versions", []),
              f"cql {port}: {q}")
        check(q.get("cql_version") == ["3.4.6"], f"cql {port}: {q}")
    for port in (6667, 2525):
        i = obj("198.18.13.15", port, "irc")
        check(i.get("server") == "irc.lab.test" and i.get("first_numeric") == "001",
              f"irc {port}: {i}")
        check(i.get("software", "").startswith("ngircd-"), f"irc {port}: {i}")
    for port in (119, 4119):
        n = obj("198.18.13.16", port, "nntp")
        check(n.get("greeting_code") in (200, 201), f"nntp {port}: {n}")
        check(n.get("implementation", "").startswith("INN "), f"nntp {port}: {n}")
        check("VERSION 2" in n.get("capabilities", []), f"nntp {port}: {n}")
    for port in (1080, 8000):
        s = obj("198.18.13.17", port, "socks")
        check(s.get("version") == 5 and s.get("method") == "none", f"socks {port}: {s}")
    for port in (502, 4840):
        m = obj("198.18.13.18", port, "modbus")
        check(m.get("vendor_name") == "Pymodbus" and m.get("product_code") == "PM",
              f"modbus {port}: {m}")
    for port in (631,):
        p = obj("198.18.13.19", port, "ipp")
        check(p.get("http_status") == 200 and p.get("server", "").startswith("CUPS/"),
              f"ipp {port}: {p}")
        check(p.get("ipp_version") in ("1.1", "2.0", "2.1"), f"ipp {port}: {p}")
    for port in (1099, 7000):
        r = obj("198.18.13.20", port, "rmi")
        check(r.get("protocol_ack") is True and r.get("endpoint_host") == "198.19.1.2",
              f"rmi {port}: {r}")
    for port in (6000, 5000):
        x = obj("198.18.13.21", port, "x11")
        check(x.get("status") == "success" and x.get("vendor") == "The X.Org Foundation",
              f"x11 {port}: {x}")
        check((x.get("width"), x.get("height")) == (1280, 1024), f"x11 {port}: {x}")


def nft_hide_ports(rows):
    """Adds, in the target namespace, a port no protocol claims (40000 + i) for each endpoint,
    redirected to the real one: the module order then has no hint."""
    # servers_d.sh's own redirects (X11 5000, ZooKeeper 1883) are not applied twice: aim at
    # the listener itself
    real = {("198.18.13.21", 5000): 6000, ("198.18.13.12", 1883): 2181}
    rules = "".join(f"ip daddr {ip} tcp dport {40000 + i} redirect to :{real.get((ip, port), port)}\n"
                    for i, (ip, port, *_rest) in enumerate(rows))
    text = ("table ip ppsdhint\ndelete table ip ppsdhint\ntable ip ppsdhint {\n"
            " chain pre { type nat hook prerouting priority dstnat - 1; policy accept;\n"
            + rules + " }\n}\n")
    subprocess.run(["ip", "netns", "exec", f"{LAB}-tgt", "nft", "-f", "-"], input=text.encode(),
                   check=True)


def main():
    binary = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="ppsd-lab.")
    env = dict(os.environ, PPS_LAB=LAB)
    netlab = os.path.join(ROOT, "scripts/netlab.sh")
    tls_lab = os.path.join(ROOT, "tests/tls/tls_lab.sh")
    ok = False
    try:
        subprocess.run([netlab, "up"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([tls_lab, "client-up", LAB], check=True)
        t0 = time.monotonic()
        subprocess.run([SERVERS, "start", LAB, d], check=True)
        print(f"servers up in {time.monotonic() - t0:.1f} s", flush=True)
        rows = expectations()

        # the defaults: every endpoint on its usual port is named; on an unexpected port only
        # the five most likely handshakes are tried (LZR's bound), so those are checked below
        by = run_id(binary, rows, ["-t", "4"], "defaults")
        json.dump(list(by.values()), open(os.path.join(d, "defaults.json"), "w"), indent=1)
        check_names(by, [r for r in rows if r[5] == "usual"], "defaults")
        for r in rows:
            if r[5] == "unexpected" and (r[0], r[1]) in by:
                got = by[(r[0], r[1])]
                print(f"defaults, unexpected port: {r[0]}:{r[1]} ({r[2]}) named "
                      f"{got['protocol']} {got['confidence']} after "
                      f"{[h['name'] for h in got['handshakes']]}", flush=True)

        # a lab server answers in milliseconds; one that ignores a foreign request (pymodbus)
        # holds each wrong handshake for the whole timeout, hence 2 s here
        by = run_id(binary, rows, ["-t", "2", "--max-handshakes", "64"], "every handshake")
        json.dump(list(by.values()), open(os.path.join(d, "all.json"), "w"), indent=1)
        check_names(by, rows, "every handshake")
        check_details(by)

        nft_hide_ports(rows)
        # (IPP without its port is HTTP to the module tried first: see servers_d.sh)
        hidden = [(ip, 40000 + i, "http" if proto == "ipp" else proto, *rest)
                  for i, (ip, _port, proto, *rest) in enumerate(rows)]
        by = run_id(binary, hidden, ["-t", "2", "--max-handshakes", "64"], "no port hint")
        check_names(by, hidden, "no port hint")
        ok = not lab.failures
    finally:
        subprocess.run([SERVERS, "stop", d])
        subprocess.run([tls_lab, "client-down", LAB])
        subprocess.run([netlab, "down"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if ok:
            shutil.rmtree(d, ignore_errors=True)
    print(f"{lab.passed} checks passed, {len(lab.failures)} failed" +
          ("" if not lab.failures else f" (records and logs kept in {d})"))
    return 1 if lab.failures else 0


if __name__ == "__main__":
    sys.exit(main())
