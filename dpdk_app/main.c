/*
 * ppscan - the stateless scanner on a DPDK port.
 *
 *   ppscan [EAL options] -- [scan options] TARGET...
 *
 * Everything but the device is core/ (pps_app_main(): options, sinks, scan, monitor); this
 * directory is the port's side of core/pps_io.h: port.c sets up the EAL, the port and the
 * lcores, io.c moves bursts of mbufs.
 */
#include "pps_app.h"

int main(int argc, char **argv)
{
	return pps_app_main(PPS_BACKEND_DPDK, argc, argv);
}
