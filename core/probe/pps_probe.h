/*
 * probe/pps_probe.h - probe modules: one kind of probe (a TCP SYN, a UDP datagram, later an
 * IPv6 SYN) behind one ops struct, as ZMap's probe modules are. The module is chosen once at
 * start (-M/--probe-module, default tcp_synscan) and called once per burst, never per
 * packet: it writes a burst of probes into device buffers, judges a burst of received frames,
 * builds the control frames it answers some of them with (the RST that closes a half-open
 * connection), and names the BPF filter, the output fields and the classifications of its
 * results. Everything around it (targets, permutation, shards, pacing, device I/O, ARP,
 * dedup, the results ring, sinks) is shared and knows no probe kind.
 *
 * Data flow of one burst (ARCHITECTURE.md has the whole picture):
 *
 *   TX  pps_scan_targets_burst()  j -> (dst ip, dst port, src ip, src port)  [core]
 *       ops->fill_burst()         -> frames in the device's buffers, a length each [module]
 *   RX  ops->classify_burst()     frames -> parse, validate, verdict; results pushed with
 *                                 pps_scan_rx_accept() (dedup, counters, ring)   [module]
 *       ops->fill_replies()       the frames it flagged in b->reply -> control frames [module]
 *
 * A new module: a file core/probe/probe_NAME.c defining a `const struct pps_probe_ops`, one
 * line in the registry (pps_probe.c) and in enum pps_probe_id, its result part in the union
 * of struct pps_result, its fields in core/output/pps_fields.c. No backend changes: see
 * ARCHITECTURE.md, "Add a probe module".
 */
#ifndef PPS_PROBE_H
#define PPS_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../pps_parse.h"
#include "../pps_result.h"

struct pps_config;
struct pps_counters;
struct pps_field;
struct pps_ring;
struct pps_scan;
struct pps_totals;

/** Probes (and received frames) a burst holds at most: TX, RX and control bursts alike. */
#define PPS_BURST 64

/**
 * Largest frame a module may write, probe or control frame, without FCS (an untagged
 * Ethernet frame at the usual 1500-byte MTU). Backends provide TX and control buffers at
 * least pps_scan_frame_max() bytes long; no module frame exceeds this bound.
 */
#define PPS_FRAME_MAX 1514

/** Registry index of each module: struct pps_result.probe. */
enum pps_probe_id {
	PPS_PROBE_TCP_SYNSCAN = 0,
	PPS_PROBE_UDP,
	PPS_PROBE_COUNT,
};

/** One classification a module reports (struct pps_result.classification indexes these). */
struct pps_probe_class {
	const char *name;   /* printed in the classification field (ZMap's strings) */
	uint8_t success;    /* 1: the port answered as open (counted open, written by default) */
	const char *status; /* the status field's word, NULL: "open" or "closed" by success */
};

/**
 * One TX burst's targets, lane k being the k-th probe of the burst (all host order): what the
 * index space gives every module. src_port_h is the rotating default, first + (i + r) mod
 * n_source_ports (pps_scan.h); a module that derives its source port from the cookie (UDP,
 * as ZMap does) ignores it.
 */
struct pps_target_burst {
	unsigned n;
	uint32_t dst_ip_h[PPS_BURST];
	uint32_t src_ip_h[PPS_BURST];
	uint16_t dst_port_h[PPS_BURST];
	uint16_t src_port_h[PPS_BURST];
};

/** One received burst, as classify_burst() and fill_replies() see it. */
struct pps_rx_burst {
	/* set by the caller (the receive step, core/pps_rx.c) */
	unsigned n;		      /* frames, at most PPS_BURST */
	const uint8_t *const *frames; /* frame k: lens[k] bytes, never written */
	const uint32_t *lens;
	int with_ethernet;	/* 1: Ethernet frames (VLAN tags allowed); 0: bare IPv4 */
	uint64_t csum_ok;	/* bit k: the device verified frame k's IPv4 and L4 checksums */
	uint64_t now_ns;	/* receive time, Unix epoch ns */
	int cooldown;		/* 1 once every probe has been sent */
	struct pps_counters *c; /* the receive loop's counters */
	struct pps_ring *ring;	/* where new results go */
	struct pps_pkt *pkt;	/* n entries of caller storage, filled by classify_burst() */
	/* set by classify_burst() */
	uint64_t arp;	/* bit k: frame k is ARP; its fields in pkt[k].arp for the control path */
	uint64_t reply; /* bit k: the module answers frame k (fill_replies()) */
};

/** A probe module. Every function is called from one thread at a time; see each line. */
struct pps_probe_ops {
	const char *name;     /* -M NAME, ZMap's module name */
	const char *help;     /* what it sends and how it classifies (--list-probe-modules) */
	enum pps_probe_id id; /* stamped into its results */
	const struct pps_probe_class *classes; /* by struct pps_result.classification */
	unsigned n_classes;
	const struct pps_field *const *fields; /* its output fields (output/pps_fields.c), the
						  common ones included, in -f '*' order */
	unsigned n_fields;
	const char *stream_fields; /* its fields in the Redis stream after ip, port, status, ttl,
				      ts ("name=field,..."), NULL for none; each needs a set() */

	/* Option time: checks cfg->probe_args (--probe-args). 0, or -EINVAL with a reason. */
	int (*check_args)(const struct pps_config *cfg, char *why, size_t whylen);
	/* Option time: the largest probe frame in bytes (Ethernet, no FCS, before padding to
	 * 60), for -B/--bandwidth and the backends' buffer sizes. */
	unsigned (*frame_bytes)(const struct pps_config *cfg);
	/* Start: builds templates and tables from s->cfg into s->probe_priv. 0 or -errno. */
	int (*init)(struct pps_scan *s);
	/* Frees what init() allocated (also after a failed init). */
	void (*fini)(struct pps_scan *s);

	/* TX, each sender: writes the tb->n probes of @tb into bufs[k] (each at least
	 * pps_scan_frame_max() bytes), their lengths into lens[k]. */
	void (*fill_burst)(const struct pps_scan *s, const struct pps_target_burst *tb,
			   uint8_t *const *bufs, uint16_t *lens);
	/* RX, the receive loop: parses and judges the b->n frames of @b, counts every frame
	 * in b->c, pushes new results to b->ring (pps_scan_rx_accept()), sets b->arp, b->reply
	 * and pkt[k].verdict (enum pps_verdict). */
	void (*classify_burst)(struct pps_scan *s, struct pps_rx_burst *b);
	/* RX, after classify_burst(): writes one control frame for each bit of b->reply, in
	 * bit order, into bufs[q] (at least pps_scan_frame_max() bytes), lengths into lens[q].
	 * Returns how many it wrote. NULL when the module never answers. */
	unsigned (*fill_replies)(const struct pps_scan *s, const struct pps_rx_burst *b,
				 uint8_t *const *bufs, uint16_t *lens);
	/* The pcap backend's filter for this module's responses (pcap-filter(7)), without the
	 * destination address and ARP terms pps_probe_bpf() adds. Returns the length or
	 * -ENOSPC. */
	int (*bpf_filter)(const struct pps_config *cfg, char *buf, size_t len);
	/* --dryrun: the columns it can print (dryrun_fields), the default ones (dryrun_header,
	 * comma-separated names of them), and one line for each probe of a burst as filled,
	 * columns @cols (indices into dryrun_fields) in order. */
	const char *const *dryrun_fields;
	unsigned n_dryrun_fields;
	const char *dryrun_header;
	int (*dryrun_burst)(const struct pps_scan *s, const struct pps_target_burst *tb,
			    uint8_t *const *frames, const uint16_t *lens, const uint8_t *cols,
			    unsigned n_cols, FILE *out);
	/* End of scan, after the common summary: the module's own lines (prefixed with
	 * @prog), @targets being the targets this run probed. NULL for none. */
	void (*summary)(FILE *out, const char *prog, const struct pps_totals *t, uint64_t targets);
};

/**
 * Verdicts of the modules' validation (struct pps_pkt.verdict). The accepted ones name
 * what the module found; the others say why a frame is not a result.
 */
enum pps_verdict {
	PPS_V_SYNACK = 0,   /* tcp_synscan: genuine SYN-ACK */
	PPS_V_RST,	    /* tcp_synscan: genuine RST */
	PPS_V_NOT_OURS,	    /* not addressed to our source address (e.g. our own probes) */
	PPS_V_BAD_DPORT,    /* to a port outside our source-port range */
	PPS_V_NOT_TARGET,   /* from an address or port we did not probe */
	PPS_V_BAD_COOKIE,   /* does not match the cookie */
	PPS_V_BAD_FLAGS,    /* tcp_synscan: neither SYN-ACK nor RST (a SYN-ACK with FIN or URG) */
	PPS_V_BAD_CHECKSUM, /* cookie right, but the IPv4 or L4 checksum is wrong */
	PPS_V_UDP,	    /* udp: a genuine reply */
	PPS_V_PORT_UNREACH, /* udp: ICMP port unreachable quoting our probe */
	PPS_V_UNREACH,	    /* udp: another ICMP destination unreachable quoting our probe */
	PPS_V_BAD_ECHO,	    /* udp: right ports, but the echoed client value is wrong */
	PPS_V_BAD_QUOTE,    /* udp: an ICMP error quoting something we did not send */
	PPS_V_DATA,	    /* tcp_synscan --banners: a data segment acking our first payload */
	PPS_V_FIN,	    /* ... a FIN without data acking it */
	PPS_V_RST_DATA,	    /* ... a RST acking it (ack = cookie + 1 + payload length) */
	PPS_V_ACK,	    /* ... a bare ACK of it: counted, not a result */
	PPS_V_NONE = 0xff,  /* a frame the module did not judge (not its protocol, ARP, ...) */
};

/**
 * pps_probe_dryrun_cols - the --dryrun columns named by @spec (comma-separated names of
 * @probe's dryrun_fields; "*" for all of them) into @cols (room for @max). Returns the
 * count, or -EINVAL with the first unknown name and the choices in @why.
 */
int pps_probe_dryrun_cols(const struct pps_probe_ops *probe, const char *spec, uint8_t *cols,
			  unsigned max, char *why, size_t whylen);

/** pps_probe_find - the module named @name, or NULL. */
const struct pps_probe_ops *pps_probe_find(const char *name);

/** pps_probe_default - tcp_synscan. */
const struct pps_probe_ops *pps_probe_default(void);

/** pps_probe_by_id - the module with id @id (a result's probe byte), or NULL. */
const struct pps_probe_ops *pps_probe_by_id(unsigned id);

/** pps_probe_list - --list-probe-modules: each module's name and help on @out. */
void pps_probe_list(FILE *out);

/** pps_result_class_name - the classification string of @r ("synack"), "?" if unknown. */
const char *pps_result_class_name(const struct pps_result *r);

/** pps_result_status - the status word of @r: its class's, or "open"/"closed". */
const char *pps_result_status(const struct pps_result *r);

/** pps_result_success - 1 if @r reports an open port (its class's success flag). */
int pps_result_success(const struct pps_result *r);

/**
 * pps_probe_bpf - the whole receive filter of the pcap backend for @cfg's module: the
 * module's terms, restricted to our source addresses (cfg->sources, ranges as BPF
 * comparisons, at most 16 ranges: beyond, validation checks the address alone), or, with
 * @arp, ARP requests (op 1) for one of them; with @vlan (an Ethernet link) the same also
 * under one or two VLAN tags (802.1Q, and QinQ: 802.1ad or 802.1Q outside), the frames
 * pps_parse_frame() takes (libpcap's "vlan" moves the offsets for the rest of the
 * expression, and on Linux reads the tag the kernel took out into the packet's metadata).
 * Writes a NUL-terminated string into @buf. Returns its length, or -ENOSPC.
 */
int pps_probe_bpf(const struct pps_config *cfg, int arp, int vlan, char *buf, size_t len);

#endif /* PPS_PROBE_H */
