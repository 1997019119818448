#!/usr/bin/python3
"""Protocol responders written from the specifications, for the two protocols of ppscan-id's
lab that Debian 12 packages no server for. They are NOT the real products: each answers only
the requests a client sends first on a fresh connection, exactly as its specification says.

  kafka  Kafka protocol (kafka.apache.org/protocol, "ApiVersions API (Key: 18)"): answers
         ApiVersions v0-v2 with error 0 and the API keys and version ranges of a 3.x broker;
         a higher (flexible) version with UNSUPPORTED_VERSION (35) in a v0 body, as brokers
         do; other API keys close the connection (what a broker does before authentication).
  cql    CQL binary protocol v4 (native_protocol_v4.spec): OPTIONS -> SUPPORTED
         (CQL_VERSION, COMPRESSION, PROTOCOL_VERSIONS), STARTUP -> READY, any other opcode ->
         ERROR 0x000A; a frame of an unsupported version -> ERROR 0x000A in a v4 frame with
         "Invalid or unsupported protocol version", as Cassandra answers.

Usage: spec_responder.py kafka|cql ADDRESS PORT [PORT...]
"""
import socket
import struct
import sys
import threading

# ApiVersions ranges (api_key, min, max) of a Kafka 3.x broker's common APIs
KAFKA_APIS = [(0, 0, 9), (1, 0, 13), (2, 0, 7), (3, 0, 12), (8, 0, 8), (9, 0, 8), (10, 0, 4),
              (11, 0, 9), (12, 0, 4), (13, 0, 5), (14, 0, 5), (15, 0, 5), (16, 0, 4),
              (17, 0, 1), (18, 0, 3), (19, 0, 7), (20, 0, 6), (21, 0, 2), (22, 0, 4),
              (23, 0, 4), (24, 0, 3), (25, 0, 3), (26, 0, 3), (27, 0, 1), (28, 0, 3),
              (29, 0, 3), (30, 0, 3), (31, 0, 3), (32, 0, 4), (33, 0, 2), (34, 0, 2),
              (35, 0, 4), (36, 0, 2), (37, 0, 3), (38, 0, 3), (39, 0, 2), (40, 0, 2),
              (41, 0, 3), (42, 0, 2), (43, 0, 2), (44, 0, 1), (45, 0, 0), (46, 0, 0),
              (47, 0, 0), (48, 0, 1), (49, 0, 1), (50, 0, 0), (51, 0, 0), (56, 0, 2),
              (57, 0, 1), (60, 0, 0), (61, 0, 0), (65, 0, 0), (66, 0, 0), (67, 0, 0)]


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def kafka(s):
    while True:
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        if size < 8 or size > 1 << 20:
            return
        req = recv_exact(s, size)
        key, ver, corr = struct.unpack(">hhi", req[:8])
        if key != 18:
            return
        err = 0 if ver <= 2 else 35
        body = struct.pack(">hi", err, len(KAFKA_APIS))
        body += b"".join(struct.pack(">hhh", *a) for a in KAFKA_APIS)
        if 1 <= ver <= 2 and not err:
            body += struct.pack(">i", 0)  # throttle_time_ms
        resp = struct.pack(">i", corr) + body
        s.sendall(struct.pack(">i", len(resp)) + resp)


def cql_string(v):
    b = v.encode()
    return struct.pack(">H", len(b)) + b


def cql_frame(stream, op, body):
    return struct.pack(">BBhBi", 0x84, 0, stream, op, len(body)) + body


def cql(s):
    while True:
        head = recv_exact(s, 9)
        ver, _flags, stream, op, length = struct.unpack(">BBhBi", head)
        if length < 0 or length > 1 << 20:
            return
        recv_exact(s, length)
        if ver not in (3, 4, 5):
            msg = "Invalid or unsupported protocol version (%d); supported versions are " \
                  "(3/v3, 4/v4, 5/v5)" % ver
            s.sendall(cql_frame(0, 0x00, struct.pack(">i", 0x0A) + cql_string(msg)))
            return
        if op == 0x05:  # OPTIONS
            mm = {"CQL_VERSION": ["3.4.6"], "COMPRESSION": ["snappy", "lz4"],
                  "PROTOCOL_VERSIONS": ["3/v3", "4/v4", "5/v5"]}
            body = struct.pack(">H", len(mm))
            for k, vs in mm.items():
                body += cql_string(k) + struct.pack(">H", len(vs))
                body += b"".join(cql_string(v) for v in vs)
            s.sendall(cql_frame(stream, 0x06, body))
        elif op == 0x01:  # STARTUP
            s.sendall(cql_frame(stream, 0x02, b""))
        else:
            s.sendall(cql_frame(stream, 0x00, struct.pack(">i", 0x0A) +
                                cql_string("Unexpected message")))


def serve(handler, address, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((address, port))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=session, args=(handler, c), daemon=True).start()


def session(handler, c):
    c.settimeout(30)
    try:
        handler(c)
    except (EOFError, OSError, struct.error):
        pass
    finally:
        c.close()


def main():
    handler = {"kafka": kafka, "cql": cql}[sys.argv[1]]
    address = sys.argv[2]
    threads = [threading.Thread(target=serve, args=(handler, address, int(p)), daemon=True)
               for p in sys.argv[3:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
