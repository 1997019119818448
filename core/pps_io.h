/*
 * pps_io.h - the device side of a scan: what each backend implements, once, resolved at link
 * time (ZMap's send-internal.h: one send_init/send_packet per platform, chosen by the build).
 * dpdk_app/io.c implements it on a DPDK port, fallback/io.c on AF_PACKET sockets and
 * libpcap. Everything else (the program outline, the TX loop and its pacing, the RX step,
 * ARP, control frames, counters) is core/pps_app.c, pps_tx.c and pps_rx.c; nothing there
 * asks which backend runs.
 *
 * Units: "ticks" are the backend's clock (DPDK: the TSC; pcap: CLOCK_MONOTONIC ns),
 * pps_io_hz() of them a second. Buffers handed out are at least pps_scan_frame_max() bytes
 * and stay the backend's: core writes frames into them and hands them back.
 * Errors: setup hooks print one line naming the device and return an exit code (0 to go on,
 * 2 bad input, 1 anything else); per-burst functions return counts and never print.
 */
#ifndef PPS_IO_H
#define PPS_IO_H

#include <stddef.h>
#include <stdint.h>

struct pps_app;
struct pps_counters;
struct pps_io_txq; /* one transmit queue: a DPDK TX queue, an AF_PACKET socket */

/* ---- program outline (pps_app_main(), in this order) ---- */

/** The scan options within @argv (DPDK: after "--", argv[0] kept); the rest is the io's. */
void pps_io_args(struct pps_app *a, int argc, char **argv, int *app_argc, char ***app_argv);

/** Checks that need no output yet (an interface name, CAP_NET_RAW). Exit code. */
int pps_io_prepare(struct pps_app *a);

/**
 * Brings the device up and states its facts in @a: src_mac, with_ethernet, answer_arp,
 * and gw_resolve + gw_ip_h + gw_origin when the next hop's MAC must be asked with ARP (or
 * gw_mac when the device knows it). Exit code.
 */
int pps_io_open(struct pps_app *a);

/** Opens the queues and sockets, once the scan is set up (pps_run_init()). Exit code. */
int pps_io_start(struct pps_app *a);

/**
 * The banner's words for the device ("port 0", "interface eth1") and its threads, and a
 * note for a second line ("" for none).
 */
void pps_io_describe(struct pps_app *a, char *dev, size_t dev_len, char *threads,
		     size_t threads_len, char *note, size_t note_len);

/** Starts the workers (pps_worker() with their roles). Exit code (nothing runs on error). */
int pps_io_launch(struct pps_app *a);

/** Waits for every worker to return (after pps_run_stop_rx()). Exit code (send errors). */
int pps_io_join(struct pps_app *a);

/** Releases the device (also after a failed pps_io_open()). */
void pps_io_close(struct pps_app *a);

/** Frames the device dropped for lack of room (NIC imissed + rx_nombuf, pcap ps_drop). */
uint64_t pps_io_drops(struct pps_app *a);

/* ---- clock ---- */

/** The backend's clock, in ticks. */
uint64_t pps_io_ticks(void);

/** Ticks per second. */
uint64_t pps_io_hz(void);

/* ---- TX (each sender, its own queue) ---- */

/** The transmit queue of sender @k. */
struct pps_io_txq *pps_io_txq(struct pps_app *a, unsigned k);

/**
 * Up to @n (<= PPS_BURST) free frame buffers of @q into @bufs: all of them, or fewer when
 * the device has no more room now. Returns how many.
 */
unsigned pps_io_tx_get(struct pps_io_txq *q, uint8_t **bufs, unsigned n);

/**
 * Hands the @n buffers of the last pps_io_tx_get() (frames of @lens bytes) to the device.
 * Returns how many it took; the others are released (core retries their probes).
 */
unsigned pps_io_tx_put(struct pps_io_txq *q, const uint16_t *lens, unsigned n);

/** Nothing went out: wait a little (@wait_ticks until the pacer's next burst is due). */
void pps_io_tx_idle(struct pps_io_txq *q, uint64_t wait_ticks);

/** The sender is done: push out whatever the queue still holds. */
void pps_io_tx_flush(struct pps_io_txq *q);

/* ---- RX (the receive loop) ---- */

/**
 * Receives what has arrived (one burst from each RX queue) and hands each burst to
 * pps_rx_frames() (pps_app.h). Returns the frames received.
 */
unsigned pps_io_rx_poll(struct pps_app *a);

/** Nothing arrived: wait a little (DPDK: a pause; pcap: poll() up to 10 ms). */
void pps_io_rx_idle(struct pps_app *a);

/* ---- control frames (from the receive loop: ARP replies, the probe module's replies) ---- */

/** @n (<= PPS_BURST) buffers for control frames into @bufs: all @n, or 0 (none free). */
unsigned pps_io_ctrl_get(struct pps_app *a, uint8_t **bufs, unsigned n);

/**
 * Sends (or queues for the sender that owns the device queue) the @n frames of the last
 * pps_io_ctrl_get(), @lens bytes each; frames from @first_reply on are the probe module's
 * replies, counted in @c (pps_rx_count_replies()) when they leave or are lost.
 */
void pps_io_ctrl_put(struct pps_app *a, const uint16_t *lens, unsigned n, unsigned first_reply,
		     struct pps_counters *c);

/** DPDK: TX queue 0's loop sends the queued control frames (counted in @c). pcap: nothing. */
void pps_io_ctrl_flush(struct pps_app *a, struct pps_counters *c);

/* ---- start-up exchange (gateway ARP, before the workers start) ---- */

/** Sends one frame now. Returns 0 or -errno. */
int pps_io_xmit(struct pps_app *a, const uint8_t *frame, uint16_t len);

/**
 * Copies the next received frame into @buf (@cap bytes), waiting at most @wait_ms for one.
 * Returns its length, or 0 when none came.
 */
size_t pps_io_recv(struct pps_app *a, uint8_t *buf, size_t cap, int wait_ms);

#endif /* PPS_IO_H */
