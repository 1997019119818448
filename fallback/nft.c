/*
 * --drop-kernel-rst (ppscan-pcap): when the scan's source address is the host's own, the
 * host's TCP stack finds no socket for each SYN-ACK and resets the connection (RFC 9293
 * 3.10.7.1) before the target's data comes. A table of our own in nftables drops those
 * RSTs while the scan runs: table inet ppscan_rst_PID, one rule in an output chain, RSTs
 * from the source address and port range of this scan only (our own frames leave through
 * AF_PACKET, which no netfilter hook sees). It is added before the first probe and deleted
 * at exit (also after Ctrl-C, which ends the scan in order); after a crash the next
 * ppscan-pcap with --drop-kernel-rst deletes every ppscan_rst_PID table whose process is
 * gone, and `nft delete table inet ppscan_rst_PID` does it by hand. nft(8) runs the rules.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "pps_targets.h"

static char table_name[48]; /* the table this process added, "" when none */

/* Runs `nft -f -` with @script on its standard input. 0 on success. */
static int nft_run(const char *script, int quiet)
{
	char cmd[64];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nft -f - %s", quiet ? ">/dev/null 2>&1" : "");
	p = popen(cmd, "w");
	if (!p)
		return -errno;
	fputs(script, p);
	return pclose(p) == 0 ? 0 : -EIO;
}

/* Deletes the ppscan_rst_PID tables of processes that no longer run (a crashed scan's). */
static void nft_reap_stale(void)
{
	FILE *p = popen("nft list tables inet 2>/dev/null", "r");
	char line[256], script[128];

	if (!p)
		return;
	while (fgets(line, sizeof(line), p)) {
		long pid;

		if (sscanf(line, "table inet ppscan_rst_%ld", &pid) != 1 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(script, sizeof(script), "delete table inet ppscan_rst_%ld\n", pid);
		nft_run(script, 1);
	}
	pclose(p);
}

static void nft_atexit(void)
{
	io_nft_remove();
}

int io_nft_add(uint32_t src_ip_h, uint16_t sport_first_h, uint16_t sport_last_h, char *why,
	       size_t whylen)
{
	char script[512], ip[16];

	nft_reap_stale();
	pps_format_ipv4(src_ip_h, ip);
	snprintf(table_name, sizeof(table_name), "ppscan_rst_%ld", (long)getpid());
	snprintf(script, sizeof(script),
		 "table inet %s {\n"
		 "  chain out {\n"
		 "    type filter hook output priority filter; policy accept;\n"
		 "    ip saddr %s tcp sport %u-%u tcp flags & rst == rst drop\n"
		 "  }\n"
		 "}\n",
		 table_name, ip, sport_first_h, sport_last_h);
	if (nft_run(script, 0) < 0) {
		snprintf(
			why, whylen,
			"cannot add the nftables table %s (--drop-kernel-rst): nft failed (root and "
			"the nftables package needed)",
			table_name);
		table_name[0] = '\0';
		return -EIO;
	}
	atexit(nft_atexit);
	return 0;
}

void io_nft_remove(void)
{
	char script[96];

	if (!table_name[0])
		return;
	snprintf(script, sizeof(script), "delete table inet %s\n", table_name);
	nft_run(script, 1);
	table_name[0] = '\0';
}
