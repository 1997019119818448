#!/usr/bin/python3
"""seeds_from_pcap.py - the fuzz target's seed corpus from a capture of real responses.

Usage: seeds_from_pcap.py CAPTURE.pcap DRYRUN.csv OUTDIR

CAPTURE is an Ethernet capture on the scanner's side of the lab during a scan (Linux SYN-ACKs
and RSTs, ARP, and an ICMP port unreachable); DRYRUN is the --dryrun output of the scan the
fuzz target sets up (fuzz_parse.c: -b /dev/null -S 198.19.0.2 -p 22,80,443,8080 --seed 1
198.18.0.0/20), used to re-address one real SYN-ACK and one real RST to that scan's cookies
so the fuzzer starts from responses that pass validation. Writes each frame as Ethernet
(.eth) and bare IPv4 (.raw), VLAN-tagged variants, and truncations at every header boundary.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
from lab_selftest import csum  # noqa: E402  (RFC 1071, shared with the lab self-test)


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def readdress(frame, probes):
    """@frame (a response from addr:port) re-addressed to the fuzz scan's probe of it."""
    ip = 14
    ihl = (frame[ip] & 0x0F) * 4
    tcp = ip + ihl
    saddr = ".".join(str(x) for x in frame[ip + 12:ip + 16])
    sport = struct.unpack("!H", frame[tcp:tcp + 2])[0]
    probe = probes.get((saddr, sport))
    if not probe:
        return None
    our_sport, seq = probe
    f = bytearray(frame)
    struct.pack_into("!H", f, tcp + 2, our_sport)
    struct.pack_into("!I", f, tcp + 8, (seq + 1) & 0xFFFFFFFF)
    tot = struct.unpack("!H", f[ip + 2:ip + 4])[0]
    struct.pack_into("!H", f, tcp + 16, 0)
    pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, tot - ihl)
    struct.pack_into("!H", f, tcp + 16, csum(pseudo + bytes(f[tcp:ip + tot])))
    return bytes(f)


def main():
    cap, dry, out = sys.argv[1:4]
    probes = {}
    with open(dry) as f:
        next(f)
        for line in f:
            d, dp, sp, seq = line.strip().split(",")
            probes[(d, int(dp))] = (int(sp), int(seq))
    kinds = {}
    for fr in frames(cap):
        etype = struct.unpack("!H", fr[12:14])[0]
        if etype == 0x0806:
            kinds.setdefault("arp-request" if fr[21] == 1 else "arp-reply", fr)
        elif etype == 0x0800 and fr[23] == 1:
            kinds.setdefault("icmp-port-unreachable", fr)
        elif etype == 0x0800 and fr[23] == 17:
            kinds.setdefault("udp", fr)
        elif etype == 0x0800 and fr[23] == 6:
            flags = fr[14 + (fr[14] & 0x0F) * 4 + 13]
            name = {0x12: "synack", 0x14: "rst-ack", 0x02: "syn"}.get(flags)
            if name:
                kinds.setdefault(name, fr)
    for name in ("synack", "rst-ack"):
        if name in kinds:
            valid = readdress(kinds[name], probes)
            if valid:
                kinds[name + "-valid"] = valid
    os.makedirs(out, exist_ok=True)

    def put(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    for name, fr in sorted(kinds.items()):
        put(name + ".eth", fr)
        if fr[12:14] == b"\x08\x00":
            put(name + ".raw", fr[14:])
    sa = kinds["synack-valid"]
    put("synack-valid-vlan.eth", sa[:12] + b"\x81\x00\x00\x05" + sa[12:])
    put("synack-valid-qinq.eth", sa[:12] + b"\x88\xa8\x00\x07\x81\x00\x00\x05" + sa[12:])
    ihl = (sa[14] & 0x0F) * 4
    cuts = {0, 1, 12, 13, 14, 15, 14 + 19, 14 + ihl, 14 + ihl + 1, 14 + ihl + 13,
            14 + ihl + 19, 14 + ihl + 20, len(sa) - 1}
    for n in sorted(c for c in cuts if c < len(sa)):
        put(f"synack-valid-trunc-{n}.eth", sa[:n])
    return 0


if __name__ == "__main__":
    sys.exit(main())
