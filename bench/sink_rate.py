#!/usr/bin/env python3
"""sink_rate.py - the rate at which frames arrive at one interface, measured from its kernel
counters: the same yardstick for every scanner (ppscan on af_packet/af_xdp, ppscan-pcap, zmap,
masscan), whatever each reports about itself.

    ip netns exec NS python3 bench/sink_rate.py IFACE PROGRESS_FILE

Polls /sys/class/net/IFACE/statistics/{rx_packets,rx_dropped} every 2 ms (run it inside the
namespace that owns IFACE), writes the frames counted since start to PROGRESS_FILE every
50 ms (for the caller to see when a run is complete), and on SIGTERM prints one JSON line:
frames, and the rate = frames / (time of the first sample with the final count - time of the
last sample before the first increase). The window is exact to the polling period (2 ms).
"""
import json
import os
import signal
import sys
import time

POLL_S = 0.002
PROGRESS_S = 0.05


def main():
    iface, progress = sys.argv[1], sys.argv[2]
    paths = [f"/sys/class/net/{iface}/statistics/{k}" for k in ("rx_packets", "rx_dropped")]
    fds = [os.open(p, os.O_RDONLY) for p in paths]

    def count():
        return sum(int(os.pread(fd, 32, 0)) for fd in fds)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    base = last = count()
    t_prev = time.monotonic()  # last sample still at the base count
    t_first = t_last = None
    next_progress = 0.0
    while not stop:
        now = time.monotonic()
        c = count()
        if c != last:
            if t_first is None:
                t_first = t_prev
            t_last = now
            last = c
        elif t_first is None:
            t_prev = now
        if now >= next_progress:
            tmp = progress + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"{last - base}\n")
            os.replace(tmp, progress)
            next_progress = now + PROGRESS_S
        time.sleep(POLL_S)
    frames = last - base
    span = (t_last - t_first) if t_first is not None else 0.0
    print(json.dumps({"frames": frames, "seconds": span,
                      "pps": frames / span if span > 0 else 0.0}), flush=True)


if __name__ == "__main__":
    main()
