#!/usr/bin/python3
"""forge_udp.py - forged answers to a UDP scan (-M udp), sent from the lab's target namespace.

Reads the probes from the scan's --dryrun CSV (daddr,dport,sport,ipid,payload,bytes), takes
probes to --silent (a block whose real answers the lab drops, so any report about it can only
come from a forged packet) and sends with scapy, at layer 3, to --src (the scanner):

  dns-bad-id        DNS reply from the probed address, port 53, to the probe's source port,
                    with an ID that is not the probe's (0x0000; the probe's is cookie bits)
  stun-bad-txid     STUN Binding success from port 3478 with a zero transaction ID
  udp-bad-sport     reply from a probed address and port 9999 to another source port
  udp-unprobed      reply from an address the scan skips, to a probe's source port
  icmp-bad-ipid     ICMP port unreachable quoting the probe with its IP ID changed
  icmp-bad-sport    ... with its source port changed
  icmp-bad-len      ... with its UDP length changed
  icmp-bad-dst      ... quoting a probe to an address the scan skips
  control-closed    ICMP port unreachable quoting the probe exactly: must be reported closed
  control-open      a reply from port 9999 (empty payload: no echoed field) to the probe's
                    source port: must be reported open

--count of each invalid kind. Prints "invalid N", then "control IP,PORT" twice (closed,
open) on stdout. Deterministic: probes taken in the dry run's order. Lab namespaces only.
"""
import argparse
import ipaddress
import sys

from scapy.all import ICMP, IP, UDP, Raw, conf, send  # noqa: E402

conf.verb = 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dryrun", required=True)
    ap.add_argument("--src", required=True, help="the scanner's source address")
    ap.add_argument("--silent", default="198.18.6.0/25")
    ap.add_argument("--unprobed", default="198.18.9.9")
    ap.add_argument("--sport-range", default="32768-61000")
    ap.add_argument("--count", type=int, default=3)
    args = ap.parse_args()

    net = ipaddress.ip_network(args.silent)
    lo, hi = (int(x) for x in args.sport_range.split("-"))
    by_port = {}
    with open(args.dryrun) as f:
        next(f)
        for line in f:
            daddr, dport, sport, ipid, _name, nbytes = line.strip().split(",")
            if ipaddress.ip_address(daddr) in net:
                by_port.setdefault(int(dport), []).append(
                    (daddr, int(dport), int(sport), int(ipid), int(nbytes)))
    for port in (53, 3478, 9999):
        if len(by_port.get(port, [])) < 8 * args.count:
            print(f"forge: too few probes to {net} port {port}", file=sys.stderr)
            return 1
    it = {p: iter(v) for p, v in by_port.items()}

    def quote(d, dp, sp, ipid, nbytes, **chg):
        """The probe as the target received it: IPv4 header + the UDP header."""
        q = IP(src=args.src, dst=chg.get("dst", d), id=chg.get("id", ipid), flags="DF",
               ttl=64, proto=17) / UDP(sport=chg.get("sport", sp), dport=dp,
                                       len=chg.get("len", 8 + nbytes), chksum=0x1234)
        return bytes(q)[:28]

    def unreach(d, q):
        return IP(src=d, dst=args.src) / ICMP(type=3, code=3) / Raw(q)

    def other(sp):
        return sp + 1 if sp < hi else sp - 1

    pkts = []
    for _ in range(args.count):
        d, dp, sp, ipid, n = next(it[53])
        dns = bytes.fromhex("0000818000010000000000000776657273696f6e0462696e6400" "00100003")
        pkts.append(IP(src=d, dst=args.src) / UDP(sport=dp, dport=sp) / Raw(dns))
        d, dp, sp, ipid, n = next(it[3478])
        stun = bytes.fromhex("010100002112a442") + bytes(12)
        pkts.append(IP(src=d, dst=args.src) / UDP(sport=dp, dport=sp) / Raw(stun))
        d, dp, sp, ipid, n = next(it[9999])
        pkts.append(IP(src=d, dst=args.src) / UDP(sport=dp, dport=other(sp)) / Raw(b"x"))
        d, dp, sp, ipid, n = next(it[9999])
        pkts.append(IP(src=args.unprobed, dst=args.src) / UDP(sport=dp, dport=sp) / Raw(b"x"))
        d, dp, sp, ipid, n = next(it[9999])
        pkts.append(unreach(d, quote(d, dp, sp, ipid ^ 1, n)))
        d, dp, sp, ipid, n = next(it[9999])
        pkts.append(unreach(d, quote(d, dp, sp, ipid, n, sport=other(sp))))
        d, dp, sp, ipid, n = next(it[53])
        pkts.append(unreach(d, quote(d, dp, sp, ipid, n, len=8 + n + 1)))
        d, dp, sp, ipid, n = next(it[9999])
        pkts.append(unreach(d, quote(d, dp, sp, ipid, n, dst=args.unprobed)))
    d, dp, sp, ipid, n = next(it[53])
    ctl_closed = unreach(d, quote(d, dp, sp, ipid, n))
    closed = f"{d},{dp}"
    d, dp, sp, ipid, n = next(it[9999])
    ctl_open = IP(src=d, dst=args.src) / UDP(sport=dp, dport=sp) / Raw(b"pong")
    opened = f"{d},{dp}"
    send(pkts + [ctl_closed, ctl_open], inter=0.01)
    print(f"invalid {len(pkts)}")
    print(f"control {closed}")
    print(f"control {opened}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
