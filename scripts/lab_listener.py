#!/usr/bin/python3
"""Accept-and-close TCP listener for the ppscan test lab.

Started by scripts/netlab.sh inside the target network namespace.  It binds
one listening socket per port on 0.0.0.0; together with the AnyIP local route
(`ip route add local 198.18.0.0/20 dev lo`) the kernel then completes the
handshake (SYN-ACK) for every lab address on those ports.

The listener itself only has to exist: a SYN scanner never sends the final
ACK, so accept() rarely returns anything.  Whatever does get accepted is
closed immediately.

The pid file is written only after every port is bound and listening, so its
existence is the readiness signal for netlab.sh.
"""

import argparse
import os
import selectors
import signal
import socket
import sys


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ports", default="22,80,443",
                    help="comma separated TCP ports (default: %(default)s)")
    ap.add_argument("--addr", default="0.0.0.0",
                    help="bind address (default: %(default)s)")
    ap.add_argument("--backlog", type=int, default=65535,
                    help="listen() backlog, capped by net.core.somaxconn")
    ap.add_argument("--pidfile", help="write own pid here once listening")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    # a daemon: no descriptor of the caller lives on here (a lab lock taken with
    # `flock /tmp/ppscan-lab.lock scripts/netlab.sh up` must end with that command)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    ports = [int(p) for p in args.ports.split(",") if p.strip()]

    sel = selectors.DefaultSelector()
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.addr, port))
        s.listen(args.backlog)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)

    stop = False

    def on_signal(_signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)

    print(f"lab_listener: pid {os.getpid()} listening on "
          f"{args.addr} ports {ports} backlog {args.backlog}", flush=True)

    while not stop:
        for key, _ in sel.select(timeout=1.0):
            # Drain everything that is ready, then close it right away.
            while True:
                try:
                    conn, _ = key.fileobj.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                conn.close()

    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
