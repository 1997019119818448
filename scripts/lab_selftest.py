#!/usr/bin/python3
"""Reference SYN scan of the ppscan lab with a plain AF_PACKET socket.

Independent of DPDK and of ppscan itself: it checks that the lab built by
scripts/netlab.sh behaves exactly as `netlab.sh truth` says.  Run it inside
the scan namespace, where it plays the scanner's role on the scan-side veth:

    eval "$(scripts/netlab.sh env)"
    scripts/netlab.sh truth > /tmp/truth.csv
    ip netns exec "$PPS_SCAN_NS" /usr/bin/python3 scripts/lab_selftest.py \\
        --iface "$PPS_SCAN_IF" --truth /tmp/truth.csv

Like the real scanner it owns the source IP only in user space: it answers ARP
requests for --src-ip itself and resolves the gateway MAC with its own ARP
request.  Results are printed as sorted CSV lines ip,port,status (open /
closed), statistics go to stderr.  With --truth the exit status is 0 only if
the result matches the file exactly.
"""

import argparse
import ipaddress
import os
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
SO_RCVBUFFORCE = 33
SPORT = 47000


def csum(data):
    """RFC 1071 internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_csum_ok(src, dst, seg):
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    return csum(pseudo + seg) == 0


def build_syn(smac, dmac, sip, dip, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", SPORT, dport, seq, 0, 5 << 4, 0x02,
                      65535, 0, 0)
    pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                     6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + struct.pack("!H", ETH_P_IP) + ip + tcp


def build_arp(smac, dmac, op, sip, tmac, tip):
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, smac, sip,
                      tmac, tip)
    return dmac + smac + struct.pack("!H", ETH_P_ARP) + arp


class Receiver(threading.Thread):
    def __init__(self, sock, mac, src_ip, gw_ip, targets):
        super().__init__(daemon=True)
        self.sock, self.mac = sock, mac
        self.src_ip, self.gw_ip, self.targets = src_ip, gw_ip, targets
        self.gw_mac = None
        self.gw_event = threading.Event()
        self.stop = False
        self.results = {}        # (ip, port) -> status
        self.stats = dict(frames=0, synack=0, rst=0, dup=0, badsum=0,
                          arp_answered=0, other=0, outgoing=0)

    def run(self):
        while not self.stop:
            try:
                frame, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING:
                self.stats["outgoing"] += 1
                continue
            self.stats["frames"] += 1
            self.handle(frame)

    def handle(self, f):
        st = self.stats
        etype = struct.unpack("!H", f[12:14])[0]
        if etype == ETH_P_ARP:
            _, _, _, _, op, sha, spa, _, tpa = struct.unpack(
                "!HHBBH6s4s6s4s", f[14:42])
            if op == 1 and tpa == self.src_ip:
                self.sock.send(build_arp(self.mac, sha, 2, self.src_ip, sha, spa))
                st["arp_answered"] += 1
            elif op == 2 and spa == self.gw_ip:
                self.gw_mac = sha
                self.gw_event.set()
            return
        if etype != ETH_P_IP or f[23] != 6:
            st["other"] += 1
            return
        ihl = (f[14] & 0x0F) * 4
        sip, dip = f[26:30], f[30:34]
        total = struct.unpack("!H", f[16:18])[0]
        seg = f[14 + ihl:14 + total]
        if dip != self.src_ip or len(seg) < 20:
            st["other"] += 1
            return
        if not tcp_csum_ok(sip, dip, seg):
            st["badsum"] += 1
            return
        sport, dport = struct.unpack("!HH", seg[:4])
        flags = seg[13]
        if dport != SPORT:
            st["other"] += 1
            return
        key = (ipaddress.IPv4Address(sip), sport)
        if flags & 0x12 == 0x12:
            status = "open"
            st["synack"] += 1
        elif flags & 0x04:
            status = "closed"
            st["rst"] += 1
        else:
            st["other"] += 1
            return
        if key in self.results:
            st["dup"] += 1
        self.results[key] = status


def main(argv):
    env = os.environ
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iface", default=env.get("PPS_SCAN_IF", "ppslabs"))
    ap.add_argument("--src-ip", default=env.get("PPS_SRC_IP", "198.19.0.2"))
    ap.add_argument("--gw-ip", default=env.get("PPS_GW_IP", "198.19.0.1"))
    ap.add_argument("--targets", default=env.get("PPS_TARGETS", "198.18.0.0/20"))
    ap.add_argument("--ports", default=env.get("PPS_PORTS", "22,80,443,8080"))
    ap.add_argument("--rate", type=float, default=5000, help="SYNs per second")
    ap.add_argument("--wait", type=float, default=3.5,
                    help="seconds to wait for answers after the last SYN")
    ap.add_argument("--truth", help="CSV from `netlab.sh truth` to compare with")
    args = ap.parse_args(argv)

    with open(f"/sys/class/net/{args.iface}/address", encoding="ascii") as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    src_ip = socket.inet_aton(args.src_ip)
    gw_ip = socket.inet_aton(args.gw_ip)
    targets = ipaddress.ip_network(args.targets)
    ports = sorted({int(p) for p in args.ports.split(",")})

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    sock.bind((args.iface, ETH_P_ALL))
    sock.settimeout(0.2)

    rx = Receiver(sock, mac, src_ip, gw_ip, targets)
    rx.start()

    # Resolve the gateway MAC ourselves (nothing in the kernel knows src_ip).
    for _ in range(5):
        sock.send(build_arp(mac, b"\xff" * 6, 1, src_ip, b"\0" * 6, gw_ip))
        if rx.gw_event.wait(0.5):
            break
    else:
        print("lab_selftest: no ARP reply from gateway", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    n = 0
    for ip in targets:
        dip = ip.packed
        for port in ports:
            # paced send: never more than args.rate SYNs/s on average
            ahead = n / args.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
            sock.send(build_syn(mac, rx.gw_mac, src_ip, dip, port,
                                (int(ip) * 65536 + port) & 0xFFFFFFFF))
            n += 1
    t_send = time.monotonic() - t0
    time.sleep(args.wait)
    rx.stop = True
    rx.join()

    lines = [f"{ip},{port},{st}" for (ip, port), st in sorted(rx.results.items())]
    print("\n".join(lines))
    counts = {s: sum(1 for v in rx.results.values() if v == s) for s in ("open", "closed")}
    print(f"lab_selftest: sent {n} SYNs in {t_send:.1f}s, gw mac "
          f"{rx.gw_mac.hex(':')}, results open={counts['open']} "
          f"closed={counts['closed']} no-answer={n - len(rx.results)}, "
          f"stats {rx.stats}", file=sys.stderr)

    if args.truth:
        with open(args.truth, encoding="ascii") as f:
            want = {l.strip() for l in f if l.strip()}
        got = set(lines)
        missing, extra = sorted(want - got), sorted(got - want)
        for l in missing[:10]:
            print(f"lab_selftest: MISSING {l}", file=sys.stderr)
        for l in extra[:10]:
            print(f"lab_selftest: UNEXPECTED {l}", file=sys.stderr)
        ok = not missing and not extra
        print(f"lab_selftest: truth comparison "
              f"{'OK' if ok else 'FAILED'} ({len(missing)} missing, "
              f"{len(extra)} unexpected)", file=sys.stderr)
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
