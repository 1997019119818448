#!/usr/bin/python3
"""tun_responder.py - a fake target behind a tun device, for the ppscan-pcap lab suite.

Creates tun device NAME (IFF_TUN | IFF_NO_PI: the fd carries bare IP packets), brings it up,
and answers every TCP SYN it reads: a SYN-ACK (ack = seq + 1) for --open-port, a RST-ACK
(ack = seq + 1) for any other port, so the scanner's raw-IP receive path sees both kinds.
Every packet read must be IPv4 with no link header; the counts go to --out as the line
"syn N rst R badrst B ipv4 I ethernet M" (N: SYN probes; R: RSTs that close one of our
SYN-ACKs correctly, seq = the probe's seq + 1 = the SYN-ACK's ack, to the open port; B: other
RSTs; I: all IPv4 packets; M: packets that are not bare IPv4), rewritten whenever they change.
Exits after --seconds (default 60) or on SIGTERM. Only for network namespaces of the lab.
"""
import argparse
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
from lab_selftest import csum  # noqa: E402  (RFC 1071, shared with the lab self-test)

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def reply(pkt: bytes, open_port: int):
    """The answer to a SYN in @pkt (bare IPv4), or None."""
    ihl = (pkt[0] & 0x0F) * 4
    if pkt[9] != 6 or len(pkt) < ihl + 20:
        return None
    src, dst = pkt[12:16], pkt[16:20]
    sport, dport, seq = struct.unpack("!HHI", pkt[ihl:ihl + 8])
    if pkt[ihl + 13] & 0x12 != 0x02:  # SYN without ACK only
        return None
    flags = 0x12 if dport == open_port else 0x14
    tcp = struct.pack("!HHIIBBHHH", dport, sport, 1000 if flags == 0x12 else 0,
                      (seq + 1) & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = dst + src + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, dst, src)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True, help="file created once the device is up")
    ap.add_argument("--pidfile")
    ap.add_argument("--open-port", type=int, default=22)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()

    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", args.name.encode(), IFF_TUN | IFF_NO_PI))
    subprocess.run(["ip", "link", "set", args.name, "up"], check=True)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    open(args.ready, "w").close()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    ipv4 = other = syn = rst = badrst = 0
    probes = {}  # (dst, dport, sport) of each SYN -> its seq
    written = None
    deadline = time.monotonic() + args.seconds
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                pkt = os.read(fd, 65536)
                if len(pkt) >= 20 and pkt[0] >> 4 == 4:
                    ipv4 += 1
                    ihl = (pkt[0] & 0x0F) * 4
                    if pkt[9] == 6 and len(pkt) >= ihl + 20:
                        sport, dport, seq = struct.unpack("!HHI", pkt[ihl:ihl + 8])
                        flags, key = pkt[ihl + 13], (pkt[16:20], dport, sport)
                        if flags & 0x12 == 0x02:
                            syn += 1
                            probes[key] = seq
                        elif flags == 0x04 and dport == args.open_port and \
                                key in probes and seq == (probes[key] + 1) & 0xFFFFFFFF:
                            rst += 1
                        elif flags & 0x04:
                            badrst += 1
                    ans = reply(pkt, args.open_port)
                    if ans:
                        os.write(fd, ans)
                else:
                    other += 1
            now = (syn, rst, badrst, ipv4, other)
            if written != now:
                with open(args.out, "w") as f:
                    f.write(f"syn {syn} rst {rst} badrst {badrst} ipv4 {ipv4} ethernet {other}\n")
                written = now
    finally:
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
