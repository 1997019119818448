/*
 * pps_app.h - one scanner process, the same in both backends: its options, scan, run state
 * and monitor, the facts its device gave (pps_io.h), and the control path written once:
 * the program outline (pps_app_main), the workers' loops (pps_worker: TX bursts paced by
 * the pacer, RX bursts judged by the probe module), ARP answering and gateway resolution for
 * every -S address, and the batching of control frames (RSTs) back to the device.
 *
 * Threads: the main thread runs pps_app_main() and, after pps_io_launch(), the monitor;
 * workers run pps_worker() with roles (a DPDK lcore may do all three; ppscan-pcap runs one
 * thread per sender and one receiver). The struct is written before the launch and read
 * afterwards, except the run's atomics and each loop's own counters (pps_run.h).
 */
#ifndef PPS_APP_H
#define PPS_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "pps_config.h"
#include "pps_io.h"
#include "pps_monitor.h"
#include "pps_run.h"
#include "pps_scan.h"

struct pps_io;	    /* the backend's device state (dpdk_app/io.h, fallback/io.h) */
struct pps_join;    /* a --join worker's coordination (pps_plan.h) */
struct pps_metrics; /* the --metrics endpoint (pps_metrics.h) */

/** What a worker does (bits; pps_worker()). */
enum pps_role {
	PPS_ROLE_TX = 1,   /* sends its slice of the index space on its TX queue */
	PPS_ROLE_RX = 2,   /* receives, judges, answers (the one receive loop) */
	PPS_ROLE_CTRL = 4, /* sends the queued control frames (DPDK: the lcore of TX queue 0) */
};

#define PPS_ARP_TIMEOUT_S 5.0 /* gateway resolution gives up after this long */

struct pps_app {
	struct pps_config cfg;
	struct pps_scan scan;
	struct pps_run run;	/* counters, resume positions, stop flags */
	struct pps_monitor mon; /* status line, sinks, summary */
	struct pps_io *io;	/* the backend's device state, set by pps_io_open() */
	enum pps_backend backend;

	/* device facts (pps_io_open()) */
	uint8_t src_mac[6];
	uint8_t gw_mac[6];	    /* the next hop's */
	int with_ethernet;	    /* frames carry an Ethernet header */
	int answer_arp;		    /* we answer ARP requests for our source addresses */
	int gw_resolve;		    /* ask gw_ip_h's MAC with ARP before the scan */
	uint32_t gw_ip_h;	    /* the next hop, when gw_resolve */
	const char *gw_origin;	    /* where gw_ip_h came from, for the error message */
	int gw_is_target;	    /* gw_ip_h is the one target itself (on-link, no gateway) */
	char link_name[64];	    /* the interface, for messages ("eth0", "port 0") */
	const char *eal_args;	    /* ppscan: the EAL arguments, kept in a resume file */
	uint64_t tx_coalesce_ticks; /* > 0: a sender waits for a whole burst to be due unless
				       it is due within this long (a system call a burst) */
	char src_note[32];	    /* after the source address in the banner (" (this host's)") */

	/* time (written before the launch) */
	uint64_t hz;			/* pps_io_hz() */
	uint64_t start_ticks;		/* when sending started */
	uint64_t start_ns;		/* the same instant, Unix epoch ns */
	_Atomic uint64_t tx_done_ticks; /* when the last sender stopped */

	/* several shards in one process (--join, pps_plan.h), metrics (--metrics) */
	struct pps_join *join;		      /* NULL unless --join */
	struct pps_metrics *metrics;	      /* NULL unless --metrics */
	char worker[96];		      /* the default worker name, HOST-PID */
	int shard_active;		      /* a shard is being sent (its number: cfg.shard) */
	uint64_t sent_base[PPS_MAX_SENDERS];  /* sender k's sent counter when the shard began */
	uint64_t start_next[PPS_MAX_SENDERS]; /* and its first index */
	uint64_t ckpt_prev;		      /* the checkpoint of one second ago */
	uint64_t prev_sent;		      /* probes sent at the last second */
	double rate_pps;		      /* over the last second */
	double send_s;			      /* sending phases of every shard, seconds */
	uint64_t shards_done;		      /* shards this process acknowledged */
};

/**
 * pps_app_main - the whole program for @backend: parse the options (bad input: one line,
 * exit 2, nothing sent), open the sinks and the device, resolve the gateway, set up the
 * scan, print the banner, launch the workers, run the monitor until the cooldown is over,
 * print the summary and the send phase. Returns the exit code (0, 1 runtime, 2 bad input).
 */
int pps_app_main(enum pps_backend backend, int argc, char **argv);

/**
 * pps_worker - a worker's whole life with roles @role (enum pps_role bits) and, for
 * PPS_ROLE_TX, sender number @k: sends its slice (answering and receiving in between when
 * it also has PPS_ROLE_RX), then receives and sends control frames until the cooldown is
 * over. Returns when pps_run_rx_stopping() (a pure sender: when it is done sending).
 */
void pps_worker(struct pps_app *a, int role, unsigned k);

/**
 * pps_rx_resets - --banners, on the receive loop between bursts: the RSTs for the endpoints
 * the monitor found silent for a cooldown (run.resets, pps_banner_due(); at most PPS_BURST
 * a call), built by pps_synscan_fill_reset() and sent as control frames, counted as replies
 * (rst, or rst_lost when no buffer). Nothing without --banners.
 */
void pps_rx_resets(struct pps_app *a);

/**
 * pps_rx_frames - the receive step for one burst of @n (<= PPS_BURST) frames, as the
 * backend's pps_io_rx_poll() received them: the probe module judges them
 * (pps_scan_classify(): counters, results), then ARP requests for our addresses are
 * answered and the module's replies built, all in one batch of control frames
 * (pps_io_ctrl_get/put). @csum_ok: bit k set where the device verified frame k's checksums.
 * @now_ns: the receive time, Unix ns. Frames are only read, during the call.
 */
void pps_rx_frames(struct pps_app *a, const uint8_t *const *frames, const uint32_t *lens,
		   unsigned n, uint64_t csum_ok, uint64_t now_ns);

/** pps_rx_count_replies - @sent replies left, @lost did not (no buffer or queue room). */
static inline void pps_rx_count_replies(struct pps_counters *c, unsigned sent, unsigned lost)
{
	if (sent)
		pps_counter_add(&c->rst, sent);
	if (lost)
		pps_counter_add(&c->rst_lost, lost);
}

/** pps_app_now_ns - Unix ns of the backend clock's @ticks (after the start was set). */
static inline uint64_t pps_app_now_ns(const struct pps_app *a, uint64_t ticks)
{
	return a->start_ns + (uint64_t)((double)(ticks - a->start_ticks) * 1e9 / (double)a->hz);
}

/**
 * pps_app_host_source_note - the banner's note when -S address @ip_h is one of this host's
 * own: its TCP stack sees the SYN-ACKs too and answers them with RSTs of its own (harmless;
 * a receive path that sees outgoing frames, ppscan's net_af_packet, counts those as not
 * ours). Writes it into @note (@len bytes).
 */
void pps_app_host_source_note(uint32_t ip_h, char *note, size_t len);

/**
 * pps_app_resolve_gateway - asks @a->gw_ip_h's MAC with ARP requests from our first source
 * address once a second (RFC 826), answering requests for any of our source addresses
 * meanwhile when @a->answer_arp, for at most @timeout_s seconds. Start-up only (before the
 * workers), through pps_io_xmit()/pps_io_recv(). Returns 0 with @a->gw_mac set, or
 * -ETIMEDOUT.
 */
int pps_app_resolve_gateway(struct pps_app *a, double timeout_s);

#endif /* PPS_APP_H */
