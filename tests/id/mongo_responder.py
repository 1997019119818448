#!/usr/bin/env python3
"""mongo_responder.py - a MongoDB wire-protocol responder for the ppscan-id lab.

Debian 12 packages no MongoDB server, so the lab answers with this responder, written from
the MongoDB Wire Protocol specification (MsgHeader; OP_QUERY 2004 answered by OP_REPLY 1;
OP_MSG 2013 answered by OP_MSG) and the documented replies of the "hello"/"isMaster" and
"buildInfo" commands of MongoDB 7.0, encoded with python3-bson (Debian's pymongo BSON
library). It shares no code with ppscan-id's MongoDB module.

Usage: mongo_responder.py ADDRESS PORT [PORT...]   (serves until killed)
"""
import datetime
import socketserver
import struct
import sys
import threading

import bson

VERSION = "7.0.14"
_conn_ids = iter(range(1, 1 << 31))


def hello_doc(conn_id):
    return {
        "ismaster": True,
        "topologyVersion": {"processId": bson.ObjectId(b"ppscanlab-01"), "counter": 0},
        "maxBsonObjectSize": 16 * 1024 * 1024,
        "maxMessageSizeBytes": 48000000,
        "maxWriteBatchSize": 100000,
        "localTime": datetime.datetime.now(datetime.timezone.utc),
        "logicalSessionTimeoutMinutes": 30,
        "connectionId": conn_id,
        "minWireVersion": 0,
        "maxWireVersion": 21,
        "readOnly": False,
        "ok": 1.0,
    }


def build_info_doc():
    major, minor, patch = (int(x) for x in VERSION.split("."))
    return {
        "version": VERSION,
        "modules": [],
        "allocator": "tcmalloc",
        "javascriptEngine": "mozjs",
        "sysInfo": "deprecated",
        "versionArray": [major, minor, patch, 0],
        "bits": 64,
        "debug": False,
        "maxBsonObjectSize": 16 * 1024 * 1024,
        "storageEngines": ["devnull", "inMemory", "wiredTiger"],
        "ok": 1.0,
    }


def answer(cmd, conn_id):
    name = next(iter(cmd), "")
    low = name.lower()
    if low in ("ismaster", "hello"):
        return hello_doc(conn_id)
    if low == "buildinfo":
        return build_info_doc()
    if low == "ping":
        return {"ok": 1.0}
    return {"ok": 0.0, "errmsg": f"no such command: '{name}'", "code": 59,
            "codeName": "CommandNotFound"}


class Handler(socketserver.BaseRequestHandler):
    def read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def handle(self):
        conn_id = next(_conn_ids)
        self.request.settimeout(30)
        while True:
            head = self.read(16)
            if head is None:
                return
            length, req_id, _to, op = struct.unpack("<iiii", head)
            if length < 16 or length > 48000000:
                return
            body = self.read(length - 16)
            if body is None:
                return
            if op == 2004:  # OP_QUERY: flags, cstring collection, skip, return, query
                end = body.index(b"\0", 4)
                query = bson.decode(body[end + 9:])
                doc = bson.encode(answer(query, conn_id))
                reply = struct.pack("<iqii", 0, 0, 0, 1) + doc
                opcode = 1
            elif op == 2013:  # OP_MSG: flagBits, kind-0 section with the command
                if body[4] != 0:
                    return
                size = struct.unpack("<i", body[5:9])[0]
                cmd = bson.decode(body[5:5 + size])
                reply = struct.pack("<I", 0) + b"\0" + bson.encode(answer(cmd, conn_id))
                opcode = 2013
            else:
                return  # unknown opcode: a real server closes the connection
            self.request.sendall(struct.pack("<iiii", 16 + len(reply), req_id + 1000000,
                                             req_id, opcode) + reply)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    addr, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    servers = [Server((addr, p), Handler) for p in ports]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
