/*
 * ppscan-pcap - the stateless scanner of ppscan on the kernel's network stack.
 *
 *   ppscan-pcap -i IFACE [scan options] TARGET...
 *
 * Same options, probes, outputs, status line and summary as ppscan: everything but the
 * device is core/ (pps_app_main()). This directory is the interface's side of
 * core/pps_io.h: port.c (interface facts, sockets, threads), io.c (bursts through AF_PACKET
 * and libpcap), netlink.c (the kernel's routing and neighbour tables).
 */
#include "pps_app.h"

int main(int argc, char **argv)
{
	return pps_app_main(PPS_BACKEND_PCAP, argc, argv);
}
