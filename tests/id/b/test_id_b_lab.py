#!/usr/bin/env python3
"""test_id_b_lab.py - ppscan-id against the real servers of tests/id/servers_b.sh (root).

Builds a lab of its own (scripts/netlab.sh, PPS_LAB=ppsidb), a client namespace with a
kernel address (tests/tls/tls_lab.sh client-up), starts the sixteen servers (Telnet, DNS,
Redis, memcached, MQTT, PostgreSQL, MariaDB, LDAP, rsync, MongoDB, SMB, RDP, VNC, RTSP,
SIP, XMPP) each on its usual port and an unexpected one, runs ppscan-id once over the 32
endpoints, and checks every record:

- the protocol, on both ports; on the usual port in the first handshake (the port orders
  the attempts), on the unexpected one within --max-handshakes;
- product and version where the server reveals them, the version taken from the Debian
  package that is installed (dpkg-query), not written into the test;
- the per-protocol facts the handshake revealed (MySQL server version, PostgreSQL SSL,
  SMB dialect, RDP security protocol, XMPP STARTTLS followed into TLS, ...); where a
  server was named from its answer to another module's request, the facts of that answer;
- every record validates against schema/service-record.schema.json.

Usage: test_id_b_lab.py PPSCAN_ID SOURCE_DIR   (prints "N passed, N failed")
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

LAB = "ppsidb"
BIN, SRC = sys.argv[1], sys.argv[2]
SERVERS = os.path.join(SRC, "tests/id/servers_b.sh")


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, **kw)


# protocol -> (product, version or None, facts: function(record) -> list of failures)
def facts_of(r, key):
    return r.get(key) or {}


def expect(cond, what):
    return [] if cond else [what]


def check_telnet(r, usual):
    o = facts_of(r, "telnet")
    return (expect(24 in (o.get("do") or []), "telnet: DO TERMINAL-TYPE not recorded") +
            expect("login: " in o.get("banner", "") and o.get("os") == "Linux",
                   f"telnet: no login banner after the options were declined: {o}"))


def check_dns(r, usual):
    o = facts_of(r, "dns")
    return expect(o.get("version_bind", "").startswith("unbound "), f"dns: version_bind {o}")


def check_redis(r, usual):
    o = facts_of(r, "redis")
    return expect(o.get("redis_mode") == "standalone", f"redis: mode {o}")


def check_memcached(r, usual):
    o = facts_of(r, "memcached")
    return expect(o.get("version_line", "").startswith("VERSION "), f"memcached: {o}")


def check_mqtt(r, usual):
    o = facts_of(r, "mqtt")
    return expect(o.get("connack") == "accepted" and o.get("protocol_level") == 4,
                  f"mqtt: {o}")


def check_postgresql(r, usual):
    o = facts_of(r, "postgresql")
    # on a port that hints at nothing, PostgreSQL answers another module's request (SMB's
    # NEGOTIATE) with an ErrorResponse, "unsupported frontend protocol", and closes
    if not usual and (o.get("error") or {}).get("code") == "0A000":
        return []
    return (expect(o.get("ssl") is True, f"postgresql: ssl {o}") +
            expect(r.get("tls_mode") == "starttls" and (r.get("tls") or {}).get(
                "classification") == "tls", "postgresql: SSLRequest not followed into TLS"))


def check_mysql(r, usual):
    o = facts_of(r, "mysql")
    return (expect("MariaDB" in o.get("server_version", ""), f"mysql: {o}") +
            expect(o.get("protocol_version") == 10, f"mysql: protocol {o}"))


def check_ldap(r, usual):
    o = facts_of(r, "ldap")
    dse = o.get("root_dse") or {}
    return expect(dse.get("namingContexts") == ["dc=lab,dc=test"] and o.get("result_code") == 0,
                  f"ldap: {o}")


def check_rsync(r, usual):
    o = facts_of(r, "rsync")
    return expect(o.get("modules") == ["pub"] and o.get("protocol"), f"rsync: {o}")


def check_mongodb(r, usual):
    o = facts_of(r, "mongodb")
    return expect(o.get("max_wire_version") == 21 and o.get("is_primary") is True,
                  f"mongodb: {o}")


def check_smb(r, usual):
    o = facts_of(r, "smb")
    return expect(o.get("dialect") == "3.1.1" and o.get("signing_required") is False and
                  (o.get("ntlm") or {}).get("netbios_computer") and
                  (o.get("ntlm") or {}).get("os_version"), f"smb: {o}")


def check_rdp(r, usual):
    o = facts_of(r, "rdp")
    return expect(o.get("selected_protocol") == ["tls"], f"rdp: {o}")


def check_vnc(r, usual):
    o = facts_of(r, "vnc")
    return expect(o.get("rfb_version") == "3.8" and o.get("security_types") == [1],
                  f"vnc: {o}")


def check_rtsp(r, usual):
    o = facts_of(r, "rtsp")
    # elsewhere the first request is another module's: GStreamer answers 400 and closes
    if not usual and o.get("status_code") == 400:
        return expect(o.get("server") == "GStreamer RTSP server", f"rtsp: {o}")
    return expect(o.get("status_code") == 200 and "OPTIONS" in (o.get("methods") or []),
                  f"rtsp: {o}")


def check_sip(r, usual):
    o = facts_of(r, "sip")
    return expect(o.get("status_code") == 200 and o.get("server", "").startswith("kamailio"),
                  f"sip: {o}")


def check_xmpp(r, usual):
    o = facts_of(r, "xmpp")
    # on a port that is no XMPP port the first request is another module's (TLS): Prosody
    # answers it with a stream header and <stream:error><not-well-formed/>, then closes
    if not usual and o.get("stream_error") == "not-well-formed":
        return []
    return (expect(o.get("starttls_required") is True, f"xmpp: {o}") +
            expect(r.get("tls_mode") == "starttls" and (r.get("tls") or {}).get(
                "classification") == "tls", "xmpp: STARTTLS not followed into TLS"))


CHECKS = {
    "telnet": check_telnet, "dns": check_dns, "redis": check_redis,
    "memcached": check_memcached, "mqtt": check_mqtt, "postgresql": check_postgresql,
    "mysql": check_mysql, "ldap": check_ldap, "rsync": check_rsync, "mongodb": check_mongodb,
    "smb": check_smb, "rdp": check_rdp, "vnc": check_vnc, "rtsp": check_rtsp, "sip": check_sip,
    "xmpp": check_xmpp,
}


def main():
    ok = fail = 0
    env = dict(os.environ, PPS_LAB=LAB)
    state = tempfile.mkdtemp(prefix="ppsidb.")
    try:
        sh(os.path.join(SRC, "scripts/netlab.sh"), "up", env=env, stdout=subprocess.DEVNULL)
        sh(os.path.join(SRC, "tests/tls/tls_lab.sh"), "client-up", LAB)
        sh(SERVERS, "start", LAB, state)
        lines = sh(SERVERS, "list", capture_output=True).stdout.split("\n")
        eps = [ln.split() for ln in lines if ln.strip()]
        # product, version and TLS mode per address, from the usual port's row of `expect`
        # (the versions there are the installed Debian packages')
        want = {}
        for ln in sh(SERVERS, "expect", capture_output=True).stdout.split("\n"):
            if ln.strip():
                ip_, port_, _proto, product_, version_, mode_ = ln.split("\t")
                want[ip_] = (int(port_), product_, version_, mode_)
        usual = {(ip_, w[0]) for ip_, w in want.items()}
        inp = os.path.join(state, "in.csv")
        with open(inp, "w") as f:
            f.write("saddr,sport\n" + "".join(f"{e[0]},{e[1]}\n" for e in eps))
        out = os.path.join(state, "out.ndjson")
        sh("ip", "netns", "exec", f"{LAB}-cli", BIN, "-q", "-b",
           os.path.join(SRC, "scripts/lab-blocklist.conf"), "--greeting-wait", "1", "-t", "2",
           "--max-handshakes", "40", "-o", out, inp)
        recs = {}
        with open(out) as f:
            for line in f:
                r = json.loads(line)
                recs[(r["ip"], r["port"])] = r
        with open(os.path.join(SRC, "schema/service-record.schema.json")) as f:
            validator = jsonschema.Draft202012Validator(
                json.load(f), format_checker=jsonschema.FormatChecker())
        for e in eps:
            ip, port, proto = e[0], int(e[1]), e[2]
            r = recs.get((ip, port))
            name = f"{proto} {ip}:{port}"
            errs = []
            if r is None:
                errs.append("no record")
            else:
                _, product, version, mode = want[ip]
                product, version = (None if x == "-" else x for x in (product, version))
                check = CHECKS[proto]
                if proto == "rtsp" and (ip, port) not in usual and r.get("protocol") == "http" \
                        and b"Server: GStreamer RTSP Server" in bytes.fromhex(r["first_bytes"]):
                    # GStreamer's server answers the first request on a port that hints at
                    # nothing, HTTP's GET, in HTTP (its RTSP-over-HTTP tunnel): 503 and its
                    # Server header. The HTTP module names what it heard.
                    print(f"note {name}: named http by its RTSP-over-HTTP tunnel answer")
                elif r.get("protocol") != proto:
                    errs.append(f"protocol {r.get('protocol')!r}, handshakes "
                                f"{[h['name'] + ':' + h['result'] for h in r['handshakes']]}")
                else:
                    if r.get("confidence") != "match":
                        errs.append(f"confidence {r.get('confidence')}")
                    if product and r.get("product") != product:
                        errs.append(f"product {r.get('product')!r}, want {product!r}")
                    if version and r.get("version") != version:
                        errs.append(f"version {r.get('version')!r}, want {version!r}")
                    # on its usual port the module is tried first: one handshake after the
                    # greeting window (recorded as "greeting" when the server stayed silent)
                    tried = [h["name"] for h in r["handshakes"] if h["name"] != "greeting"]
                    if (ip, port) in usual and len(tried) != 1:
                        errs.append(f"usual port took the handshakes {tried}")
                    if (ip, port) in usual and (r.get("tls_mode") or "-") != mode:
                        errs.append(f"tls_mode {r.get('tls_mode')!r}, want {mode!r}")
                    errs += check(r, (ip, port) in usual)
                errs += [f"schema: {v.message} at {list(v.path)}"
                         for v in validator.iter_errors(r)]
            if errs:
                fail += 1
                print(f"FAIL {name}: " + "; ".join(errs))
                if r is not None:
                    print("  record: " + json.dumps(r)[:1500])
            else:
                ok += 1
                print(f"ok   {name}: {r.get('product') or '-'} {r.get('version') or '-'}")
    finally:
        subprocess.run([SERVERS, "stop", state])
        subprocess.run([os.path.join(SRC, "tests/tls/tls_lab.sh"), "client-down", LAB],
                       stderr=subprocess.DEVNULL)
        subprocess.run([os.path.join(SRC, "scripts/netlab.sh"), "down"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", state])
    print(f"{ok} passed, {fail} failed")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
