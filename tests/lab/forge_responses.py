#!/usr/bin/python3
"""forge_responses.py - forged answers to a scan, sent from the lab's target namespace.

Reads the probes of a scan from its --dryrun CSV (daddr,dport,sport,seqnum), picks probes to
addresses of --filtered (a block whose real answers the lab drops, so any report about them
can only come from a forged packet) and sends, with scapy at layer 3 to --src (the scanner):

  synack-bad-ack    SYN-ACK from the probed address and port, ack = seq + 2
  synack-unprobed   SYN-ACK from an address outside the scan, ack = seq + 1 of a probe
  synack-bad-port   SYN-ACK from a probed address but a port that was not probed
  synack-bad-sport  SYN-ACK to a source port of the range the probe did not use, ack = seq + 1
  rst-bad-ack       RST from the probed address and port, ack = seq + 7
  control           one genuine-looking SYN-ACK (ack = seq + 1): must be reported

With --data (a scan with --banners), data segments instead, about probes to port 22 (whose
server speaks first: ppscan's first payload there is empty, so a genuine segment acks
cookie + 1):

  data-bad-ack      ACK+PSH with 20 bytes from the probed address and port, ack = seq + 2
  data-unprobed     the same from an address outside the scan, ack = seq + 1
  data-bad-port     the same from a port that was not probed
  data-bad-sport    the same to a source port the probe did not use
  data-bad-csum     ack = seq + 1 but a wrong TCP checksum
  rst-bad-ack       a RST in place of the data, ack = seq + 7
  control           one genuine-looking data segment (ack = seq + 1): must be recorded

--count of each invalid kind. Prints "invalid N" and "control IP,PORT" on stdout.
Deterministic: the probes are taken in the dryrun file's order. Lab namespaces only.
"""
import argparse
import ipaddress
import sys

from scapy.all import IP, TCP, conf, send  # noqa: E402

conf.verb = 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dryrun", required=True)
    ap.add_argument("--src", required=True, help="the scanner's source address")
    ap.add_argument("--filtered", default="198.18.1.0/24")
    ap.add_argument("--unprobed", default="198.18.9.9", help="an address the scan skips")
    ap.add_argument("--unprobed-port", type=int, default=23)
    ap.add_argument("--sport-range", default="32768-61000")
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--data", action="store_true", help="forge data segments (--banners)")
    args = ap.parse_args()

    net = ipaddress.ip_network(args.filtered)
    lo, hi = (int(x) for x in args.sport_range.split("-"))
    probes = []
    with open(args.dryrun) as f:
        next(f)
        for line in f:
            daddr, dport, sport, seq = line.strip().split(",")
            if ipaddress.ip_address(daddr) in net and (not args.data or dport == "22"):
                probes.append((daddr, int(dport), int(sport), int(seq)))
    need = (6 if args.data else 5) * args.count + 1
    if len(probes) < need:
        print(f"forge: only {len(probes)} probes to {net}, need {need}", file=sys.stderr)
        return 1

    def synack(saddr, sport, dport, ack):
        return IP(src=saddr, dst=args.src) / TCP(sport=sport, dport=dport, flags="SA",
                                                 seq=4242, ack=ack & 0xFFFFFFFF)

    def data(saddr, sport, dport, ack, chksum=None):
        t = TCP(sport=sport, dport=dport, flags="PA", seq=4243, ack=ack & 0xFFFFFFFF)
        if chksum is not None:
            t.chksum = chksum
        return IP(src=saddr, dst=args.src) / t / b"SSH-2.0-Forged_1.0\r\n"

    pkts = []
    it = iter(probes)
    if args.data:
        for _ in range(args.count):
            d, dp, sp, seq = next(it)
            pkts.append(data(d, dp, sp, seq + 2))
            d, dp, sp, seq = next(it)
            pkts.append(data(args.unprobed, dp, sp, seq + 1))
            d, dp, sp, seq = next(it)
            pkts.append(data(d, args.unprobed_port, sp, seq + 1))
            d, dp, sp, seq = next(it)
            pkts.append(data(d, dp, sp + 1 if sp < hi else sp - 1, seq + 1))
            d, dp, sp, seq = next(it)
            good = IP(bytes(data(d, dp, sp, seq + 1)))
            pkts.append(data(d, dp, sp, seq + 1, chksum=good[TCP].chksum ^ 0x5a5a))
            d, dp, sp, seq = next(it)
            pkts.append(IP(src=d, dst=args.src) / TCP(sport=dp, dport=sp, flags="RA", seq=0,
                                                      ack=(seq + 7) & 0xFFFFFFFF))
        d, dp, sp, seq = next(it)
        send(pkts + [data(d, dp, sp, seq + 1)], inter=0.01)
        print(f"invalid {len(pkts)}")
        print(f"control {d},{dp}")
        return 0
    for _ in range(args.count):
        d, dp, sp, seq = next(it)
        pkts.append(synack(d, dp, sp, seq + 2))
        d, dp, sp, seq = next(it)
        pkts.append(synack(args.unprobed, dp, sp, seq + 1))
        d, dp, sp, seq = next(it)
        pkts.append(synack(d, args.unprobed_port, sp, seq + 1))
        d, dp, sp, seq = next(it)
        other = sp + 1 if sp < hi else sp - 1
        assert lo <= other <= hi
        pkts.append(synack(d, dp, other, seq + 1))
        d, dp, sp, seq = next(it)
        pkts.append(IP(src=d, dst=args.src) / TCP(sport=dp, dport=sp, flags="RA", seq=0,
                                                  ack=(seq + 7) & 0xFFFFFFFF))
    d, dp, sp, seq = next(it)
    control = synack(d, dp, sp, seq + 1)
    send(pkts + [control], inter=0.01)
    print(f"invalid {len(pkts)}")
    print(f"control {d},{dp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
