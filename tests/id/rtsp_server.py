#!/usr/bin/env python3
"""rtsp_server.py - GStreamer's RTSP server (gst-rtsp-server, Debian
gir1.2-gst-rtsp-server-1.0) for the ppscan-id lab: one server per port, each with a test
stream at /test. The protocol handling (OPTIONS, DESCRIBE, ...) is the library's own.

Usage: rtsp_server.py ADDRESS PORT [PORT...]   (serves until killed)
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    Gst.init(None)
    addr, ports = sys.argv[1], sys.argv[2:]
    servers = []
    for port in ports:
        server = GstRtspServer.RTSPServer()
        server.set_address(addr)
        server.set_service(port)
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch("( videotestsrc is-live=true ! rtpvrawpay name=pay0 pt=96 )")
        factory.set_shared(True)
        server.get_mount_points().add_factory("/test", factory)
        if server.attach(None) == 0:
            sys.exit(f"rtsp_server: cannot listen on {addr}:{port}")
        servers.append(server)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
