#!/usr/bin/python3
"""Hostile TCP servers for the ppscan-id suites: each one misbehaves in one documented way.

Started by tests/id/hostile_lab.sh inside the lab's target namespace (never on the host),
one asyncio process serving every spec given on the command line:

    hostile_servers.py [--pidfile F] [--log F] MODE@ADDR:PORT ...

ADDR may be 0.0.0.0: with the lab's AnyIP route (`ip route add local 198.18.0.0/20 dev lo`)
one listener then answers on every lab address (the bench and the memory measurement use
that for thousands of endpoints). Modes (what a server does with each connection it accepts):

  flood        writes 10 MiB (10,485,760 bytes) of printable lines as fast as the peer reads,
               then closes: an endless banner, bounded only by the client
  flood_http   answers the first request with an HTTP/1.1 200 status line and headers,
               then a 10 MiB body without Content-Length: a real protocol whose reply
               never ends
  trickle      "SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n" one byte a second (a 32 s greeting)
  noise        64 KiB of binary noise (a fixed seed, so every run sends the same bytes),
               then silence; the connection stays open
  badutf8_ssh  an SSH identification line whose software field is invalid UTF-8
               (lone continuation bytes, an overlong form, a surrogate, 0xff), then silence
  badutf8_http an HTTP/1.1 reply to the first request, invalid UTF-8 in Server and <title>
  nonewline    "220 mail.lab.test ESMTP" and then nothing: a greeting that never ends
  nonewline_long  "SSH-2.0-" followed by 1 MiB of letters and never a newline
  rst          accepts and closes at once with SO_LINGER 0: the kernel sends a RST
  halfclose    accepts and shuts down its sending side at once (FIN, no data) but keeps
               reading until the peer goes away
  halfclose_banner  "SSH-2.0-OpenSSH_9.2\\r\\n" then FIN on the sending side, keeps reading
  silent       accepts and never writes nor closes (a pseudo-service: nmap's tcpwrapped)

Every server reads and discards what the client sends (so no client blocks on a full
window) and counts connections and bytes; SIGTERM or SIGINT stops it. The pid file is
written once every listener is bound, so its existence is the readiness signal.
"""

import argparse
import asyncio
import os
import random
import signal
import socket
import struct
import sys

FLOOD_BYTES = 10 * 1024 * 1024
NOISE_BYTES = 64 * 1024
LONG_BYTES = 1024 * 1024
CHUNK = 64 * 1024

# Invalid UTF-8 on purpose: 0x80 and 0xbf are continuation bytes without a lead byte,
# c0 af is an overlong '/', ed a0 80 is a UTF-16 surrogate (U+D800), ff never occurs in UTF-8.
BAD_UTF8 = b"\x80Open\xbfSSH_\xc0\xaf9.2\xed\xa0\x80p1\xff"

STATS = {}


def line_pattern():
    """One 64-byte printable line (62 letters and digits, CR LF), repeated by the floods."""
    alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return alnum[:62] + b"\r\n"


async def drain_input(reader, got_data):
    """Reads and drops whatever the client sends until it closes; sets @got_data on the
    first bytes. Returns the byte count."""
    n = 0
    try:
        while True:
            b = await reader.read(CHUNK)
            if not b:
                return n
            n += len(b)
            got_data.set()
    except (ConnectionError, OSError):
        return n


async def write_all(writer, data):
    writer.write(data)
    await writer.drain()


async def send_stream(writer, total, block):
    """Writes @total bytes made of @block repeated, CHUNK at a time, waiting for the peer."""
    reps = max(1, CHUNK // len(block))
    chunk = block * reps
    sent = 0
    while sent < total:
        n = min(len(chunk), total - sent)
        await write_all(writer, chunk[:n])
        sent += n
    return sent


async def m_flood(writer, got_data):
    return await send_stream(writer, FLOOD_BYTES, line_pattern())


async def m_flood_http(writer, got_data):
    await got_data.wait()  # HTTP is client-first: answer the first request
    head = (b"HTTP/1.1 200 OK\r\nServer: floodd/1.0\r\nContent-Type: text/html\r\n"
            b"Connection: close\r\n\r\n<html><head><title>flood</title></head><body>\r\n")
    await write_all(writer, head)
    return len(head) + await send_stream(writer, FLOOD_BYTES, line_pattern())


async def m_trickle(writer, got_data):
    sent = 0
    for b in b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n":
        await write_all(writer, bytes([b]))
        sent += 1
        await asyncio.sleep(1.0)
    await asyncio.sleep(60)
    return sent


async def m_noise(writer, got_data):
    data = random.Random(12).randbytes(NOISE_BYTES)
    await write_all(writer, data)
    await asyncio.sleep(60)
    return len(data)


async def m_badutf8_ssh(writer, got_data):
    data = b"SSH-2.0-" + BAD_UTF8 + b" \xe2\x82\r\n"
    await write_all(writer, data)
    await asyncio.sleep(60)
    return len(data)


async def m_badutf8_http(writer, got_data):
    await got_data.wait()  # HTTP is client-first: answer the first request
    body = b"<html><head><title>t\xff\xfe" + BAD_UTF8 + b"</title></head></html>\n"
    data = (b"HTTP/1.1 200 OK\r\nServer: bad" + BAD_UTF8 + b"/1.0\r\n"
            b"Content-Type: text/html\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\nConnection: close\r\n\r\n" + body)
    await write_all(writer, data)
    return len(data)


async def m_nonewline(writer, got_data):
    data = b"220 mail.lab.test ESMTP"
    await write_all(writer, data)
    await asyncio.sleep(60)
    return len(data)


async def m_nonewline_long(writer, got_data):
    await write_all(writer, b"SSH-2.0-")
    return 8 + await send_stream(writer, LONG_BYTES, b"abcdefghijklmnopqrstuvwxyz")


async def m_rst(writer, got_data):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return 0


async def m_halfclose(writer, got_data):
    writer.write_eof()
    return 0


async def m_halfclose_banner(writer, got_data):
    data = b"SSH-2.0-OpenSSH_9.2\r\n"
    await write_all(writer, data)
    writer.write_eof()
    return len(data)


async def m_silent(writer, got_data):
    return 0


HOLD = ("silent", "halfclose", "halfclose_banner")  # hold the connection after their part
MODES = {name[2:]: fn for name, fn in globals().items() if name.startswith("m_")}


def handler(mode):
    fn = MODES[mode]

    async def handle(reader, writer):
        st = STATS[mode]
        st[0] += 1
        got_data = asyncio.Event()
        sink = asyncio.ensure_future(drain_input(reader, got_data))
        task = asyncio.ensure_future(fn(writer, got_data))
        try:
            # until the server's part is done or the client leaves, whichever is first
            await asyncio.wait({sink, task}, return_when=asyncio.FIRST_COMPLETED)
            if task.done() and mode in HOLD:
                await sink  # hold the connection until the client leaves
        finally:
            for t in (sink, task):
                t.cancel()
            if task.done() and not task.cancelled() and task.exception() is None:
                st[1] += task.result()
            if mode != "rst":
                writer.transport.abort()

    return handle


def parse_spec(spec):
    try:
        mode, where = spec.split("@", 1)
        addr, port = where.rsplit(":", 1)
        port = int(port)
        socket.inet_aton(addr)
    except ValueError:
        raise SystemExit(f"hostile_servers: invalid spec '{spec}': want MODE@ADDR:PORT")
    if mode not in MODES:
        raise SystemExit(f"hostile_servers: unknown mode '{mode}' in '{spec}' "
                         f"(modes: {', '.join(sorted(MODES))})")
    if not 0 < port < 65536:
        raise SystemExit(f"hostile_servers: invalid port {port} in '{spec}'")
    return mode, addr, port


async def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pidfile")
    ap.add_argument("--backlog", type=int, default=65535)
    ap.add_argument("specs", nargs="+", metavar="MODE@ADDR:PORT")
    args = ap.parse_args(argv)
    specs = [parse_spec(s) for s in args.specs]

    servers = []
    for mode, addr, port in specs:
        STATS.setdefault(mode, [0, 0])
        servers.append(await asyncio.start_server(handler(mode), addr, port,
                                                  backlog=args.backlog, reuse_address=True,
                                                  limit=CHUNK))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)
    print(f"hostile_servers: {len(servers)} listeners: "
          + " ".join(f"{m}@{a}:{p}" for m, a, p in specs), flush=True)
    await stop.wait()
    for s in servers:
        s.close()
    for mode, (conns, sent) in sorted(STATS.items()):
        print(f"hostile_servers: {mode}: {conns} connections, {sent} bytes sent", flush=True)


if __name__ == "__main__":
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(sys.argv[1:]))
