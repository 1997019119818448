/*
 * ppscan-pcap's per-burst hooks (core/pps_io.h) on the kernel's stack. A sender's burst is one
 * system call: with PACKET_TX_RING (the default) core writes the probes in place into the
 * ring's free frames and one send() transmits them; with sendmmsg() it writes into batch
 * slots handed over with one call; pcap_inject() takes one call a probe. The receiver runs
 * pcap_dispatch() over the BPF-filtered capture ring, copies each response into a batch (the
 * ring frame goes back to the kernel when the callback returns) and hands the batch to
 * core; a burst's control frames leave with one sendmmsg() on the receiver's own socket.
 * The clock is CLOCK_MONOTONIC ns. No allocation, no log, no lock, no system call per probe.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "pps_clock.h"

#define MAX_SLEEP_NS 1000000ULL /* a sender waits at most 1 ms at a time */
#define STATS_NS 100000000ULL	/* pcap_stats() every 100 ms */

uint64_t pps_io_ticks(void)
{
	return pps_monotonic_ns();
}

uint64_t pps_io_hz(void)
{
	return PPS_NS_PER_S;
}

struct pps_io_txq *pps_io_txq(struct pps_app *a, unsigned k)
{
	return &a->io->tx[k];
}

/* Remembers a hard send error; a full queue (ENOBUFS, EAGAIN) or a signal is not one. */
static inline void note_error(struct pps_io_txq *t)
{
	if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
		t->last_errno = errno;
}

static inline struct tpacket2_hdr *ring_frame(const struct pps_io_txq *t, unsigned i)
{
	return (struct tpacket2_hdr *)(t->ring + (size_t)(i % IO_RING_FRAMES) * t->frame_size);
}

unsigned pps_io_tx_get(struct pps_io_txq *t, uint8_t **bufs, unsigned n)
{
	unsigned j;

	if (t->method != PPS_SEND_RING) {
		for (j = 0; j < n; j++)
			bufs[j] = t->slot[j];
		return t->n = n;
	}
	/* the free frames at the head, in place */
	for (j = 0; j < n; j++) {
		t->hdr[j] = ring_frame(t, t->head + j);
		if (__atomic_load_n(&t->hdr[j]->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break; /* the kernel still owns it */
		bufs[j] = (uint8_t *)t->hdr[j] + TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
	}
	return t->n = j;
}

unsigned pps_io_tx_put(struct pps_io_txq *t, const uint16_t *lens, unsigned n)
{
	unsigned j;
	int sent;

	switch (t->method) {
	case PPS_SEND_RING:
		for (j = 0; j < n; j++) {
			t->hdr[j]->tp_len = lens[j];
			__atomic_store_n(&t->hdr[j]->tp_status, TP_STATUS_SEND_REQUEST,
					 __ATOMIC_RELEASE);
		}
		t->head = (t->head + n) % IO_RING_FRAMES;
		/* frames left pending on an error go out with the next kick */
		if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, (struct sockaddr *)&t->dst,
			   sizeof(t->dst)) < 0)
			note_error(t);
		return n;
	case PPS_SEND_MMSG:
		for (j = 0; j < n; j++)
			t->iov[j].iov_len = lens[j];
		sent = sendmmsg(t->fd, t->msg, n, 0);
		if (sent < 0) {
			note_error(t);
			return 0;
		}
		return (unsigned)sent;
	case PPS_SEND_INJECT: /* one system call a probe: for comparison and odd platforms */
		for (j = 0; j < n; j++)
			if (pcap_inject(t->pcap, t->slot[j], lens[j]) < 0) {
				note_error(t); /* pcap_inject() leaves send()'s errno */
				break;
			}
		return j;
	}
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / PPS_NS_PER_S),
			       .tv_nsec = (long)(ns % PPS_NS_PER_S) };

	nanosleep(&ts, NULL);
}

void pps_io_tx_idle(struct pps_io_txq *t, uint64_t wait_ticks)
{
	if (wait_ticks) /* paced: sleep (not spin) until the burst is due, at most 1 ms */
		sleep_ns(wait_ticks < MAX_SLEEP_NS ? wait_ticks : MAX_SLEEP_NS);
	else if (t->last_errno)
		sleep_ns(MAX_SLEEP_NS); /* link down or gone: retry, do not spin */
	else
		sched_yield(); /* device queue or ring full: let it drain */
}

void pps_io_tx_flush(struct pps_io_txq *t)
{
	if (t->ring) /* frames left pending by a failed kick; blocking: waits until they are out */
		(void)!sendto(t->fd, NULL, 0, 0, (struct sockaddr *)&t->dst, sizeof(t->dst));
}

/* Judges the frames collected so far as one burst. */
static void rx_flush(struct pps_app *a)
{
	struct io_rx_batch *b = &a->io->rxb;

	if (!b->n)
		return;
	pps_rx_frames(a, b->frame, b->len, b->n, 0, b->ts_ns);
	b->n = 0;
}

/*
 * pcap_dispatch() callback. libpcap hands the ring frame back to the kernel when this returns,
 * so the frame is copied into the batch (responses are 60-90 bytes); a frame larger than a
 * batch slot is judged on its own, after the batch before it.
 */
static void rx_one(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct pps_app *a = (struct pps_app *)user;
	struct io_rx_batch *b = &a->io->rxb;
	/* PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds */
	uint64_t ts = (uint64_t)h->ts.tv_sec * PPS_NS_PER_S + (uint64_t)h->ts.tv_usec;

	if (h->caplen > IO_RX_SLOT) {
		uint32_t len = h->caplen;

		rx_flush(a);
		pps_rx_frames(a, &bytes, &len, 1, 0, ts);
		return;
	}
	memcpy(b->slot[b->n], bytes, h->caplen);
	b->len[b->n] = h->caplen;
	b->ts_ns = ts; /* a burst carries one receive time: its last frame's */
	if (++b->n == PPS_BURST)
		rx_flush(a);
}

void io_publish_drops(struct pps_io *io)
{
	struct pcap_stat st;

	if (pcap_stats(io->rx, &st) == 0)
		atomic_store_explicit(&io->nic_drops, (uint64_t)st.ps_drop + st.ps_ifdrop,
				      memory_order_relaxed);
}

unsigned pps_io_rx_poll(struct pps_app *a)
{
	struct pps_io *io = a->io;
	int n = pcap_dispatch(io->rx, PPS_BURST, rx_one, (u_char *)a);
	uint64_t now;

	rx_flush(a);
	now = pps_monotonic_ns();
	if (now - io->last_stats_ns >= STATS_NS) {
		io_publish_drops(io);
		io->last_stats_ns = now;
	}
	return n > 0 ? (unsigned)n : 0;
}

void pps_io_rx_idle(struct pps_app *a)
{
	struct pollfd pfd = { .fd = pcap_get_selectable_fd(a->io->rx), .events = POLLIN };

	poll(&pfd, 1, 10);
}

unsigned pps_io_ctrl_get(struct pps_app *a, uint8_t **bufs, unsigned n)
{
	struct pps_io_txq *t = &a->io->ctrl;

	if (t->fd < 0)
		return 0;
	for (unsigned j = 0; j < n; j++)
		bufs[j] = t->slot[j];
	return n;
}

/*
 * One sendmmsg() on the receive thread's own socket for all of a burst's control frames.
 * A RST also goes out when the SYN-ACK went to this host's own address: its TCP stack finds
 * no socket and sends one too, but only if it has a route back; a second RST is harmless.
 */
void pps_io_ctrl_put(struct pps_app *a, const uint16_t *lens, unsigned n, unsigned first_reply,
		     struct pps_counters *c)
{
	struct pps_io_txq *t = &a->io->ctrl;
	unsigned replies = n - first_reply, ok;
	int sent;

	for (unsigned j = 0; j < n; j++)
		t->iov[j].iov_len = lens[j];
	sent = sendmmsg(t->fd, t->msg, n, MSG_DONTWAIT);
	if (sent < 0)
		sent = 0;
	ok = (unsigned)sent > first_reply ? (unsigned)sent - first_reply : 0;
	pps_rx_count_replies(c, ok, replies - ok);
}

void pps_io_ctrl_flush(struct pps_app *a, struct pps_counters *c)
{
	(void)a; /* control frames left in pps_io_ctrl_put() */
	(void)c;
}
