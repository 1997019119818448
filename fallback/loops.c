/*
 * The sender and receive loops of ppscan-pcap. A sender fills up to APP_BURST probes straight
 * into kernel-visible buffers (TX-ring frames, or sendmmsg slots) with pps_scan_fill_burst() and
 * hands the whole burst over with one system call; pacing is pps_pacer on CLOCK_MONOTONIC ns,
 * sleeping (not spinning) until a burst is due when the rate is low. The receiver runs
 * pcap_dispatch() over the BPF-filtered ring, copies each response into a batch and judges
 * the batch with pps_scan_rx_burst(), as ppscan does with an RX burst. No allocation, no logging,
 * no lock, and no system call per probe in either loop.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include "app.h"
#include "pps_arp.h"
#include "pps_pacer.h"

#define NS_PER_S     1000000000ULL
#define SPIN_NS	     20000ULL	  /* below this, spin instead of sleeping */
#define MAX_SLEEP_NS 1000000ULL	  /* wait at most 1 ms for a full burst */
#define STATS_NS     100000000ULL /* pcap_stats() every 100 ms */

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Remembers a hard send error; a full queue (ENOBUFS, EAGAIN) or a signal is not one. */
static inline void note_error(struct app_tx *t)
{
	if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
		t->last_errno = errno;
}

static inline struct tpacket2_hdr *ring_frame(const struct app_tx *t, unsigned i)
{
	return (struct tpacket2_hdr *)(t->ring + (size_t)(i % APP_RING_FRAMES) * APP_RING_FRAME);
}

/* TX ring: fill the free frames at the head in place, then one send() for all of them. */
static unsigned burst_ring(struct app_tx *t, const struct pps_scan *s, const struct pps_slice *sl,
			   unsigned k)
{
	uint8_t *data[APP_BURST];
	struct tpacket2_hdr *h[APP_BURST];
	uint16_t len[APP_BURST];
	unsigned j;

	for (j = 0; j < k; j++) {
		h[j] = ring_frame(t, t->head + j);
		if (__atomic_load_n(&h[j]->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break; /* the kernel still owns it */
		data[j] = (uint8_t *)h[j] + TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
	}
	if (!j)
		return 0;
	pps_scan_fill_burst(s, sl->next, sl->stride, j, data, len);
	for (unsigned q = 0; q < j; q++) {
		h[q]->tp_len = len[q];
		__atomic_store_n(&h[q]->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	}
	t->head = (t->head + j) % APP_RING_FRAMES;
	/* Frames left pending on an error go out with the next kick. */
	if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, (struct sockaddr *)&t->dst, sizeof(t->dst)) < 0)
		note_error(t);
	return j;
}

/* sendmmsg(): fill the batch slots, one call for the burst; returns frames the kernel took. */
static unsigned burst_mmsg(struct app_tx *t, const struct pps_scan *s, const struct pps_slice *sl,
			   unsigned k)
{
	uint16_t len[APP_BURST];
	int n;

	pps_scan_fill_burst(s, sl->next, sl->stride, k, t->slotp, len);
	for (unsigned j = 0; j < k; j++)
		t->iov[j].iov_len = len[j];
	n = sendmmsg(t->fd, t->msg, k, 0);
	if (n < 0) {
		note_error(t);
		return 0;
	}
	return (unsigned)n;
}

/* pcap_inject(): one system call per probe; only for comparison and odd platforms. */
static unsigned burst_inject(struct app_tx *t, const struct pps_scan *s, const struct pps_slice *sl,
			     unsigned k)
{
	uint16_t len[APP_BURST];
	unsigned j;

	pps_scan_fill_burst(s, sl->next, sl->stride, k, t->slotp, len);
	for (j = 0; j < k; j++)
		if (pcap_inject(t->pcap, t->slot[j], len[j]) < 0) {
			note_error(t); /* pcap_inject() leaves send()'s errno */
			break;
		}
	return j;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_S),
			       .tv_nsec = (long)(ns % NS_PER_S) };

	nanosleep(&ts, NULL);
}

void *app_tx_loop(void *arg)
{
	struct app_tx *t = arg;
	struct app *a = t->a;
	struct pps_counters *c = &a->run.tx_c[t->index];
	unsigned (*burst)(struct app_tx *, const struct pps_scan *, const struct pps_slice *,
			  unsigned);
	struct pps_pacer pacer;
	struct pps_slice sl;

	burst = a->cfg.send_method == PPS_SEND_RING   ? burst_ring
		: a->cfg.send_method == PPS_SEND_MMSG ? burst_mmsg
						      : burst_inject;
	prctl(PR_SET_TIMERSLACK, 1000UL); /* 1 us: sleeps end close to the burst's deadline */
	pps_scan_slice(&a->scan, t->index, &sl); /* checked by main before the start */
	pps_pacer_init(&pacer, NS_PER_S, a->cfg.rate_pps / a->n_tx, APP_BURST, mono_ns());

	while (sl.next < sl.end && !pps_run_stopping(&a->run)) {
		uint64_t left = pps_slice_remaining(&sl);
		unsigned want = left < APP_BURST ? (unsigned)left : APP_BURST;
		uint64_t now = mono_ns(), wait = pps_pacer_due_in(&pacer, now, want);
		unsigned k, sent;

		if (wait > SPIN_NS) {
			sleep_ns(wait < MAX_SLEEP_NS ? wait : MAX_SLEEP_NS);
			now = mono_ns();
		}
		k = pps_pacer_take(&pacer, now, want);
		if (!k)
			continue;
		sent = burst(t, &a->scan, &sl, k);
		if (sent < k) {
			pps_pacer_return(&pacer, k - sent);
			pps_counter_add(&c->tx_full, k - sent);
			if (!sent && t->last_errno)
				sleep_ns(MAX_SLEEP_NS); /* link down or gone: retry, do not spin */
			else if (!sent)
				sched_yield(); /* device queue or ring full: let it drain */
		}
		sl.next += sent * sl.stride;
		pps_counter_add(&c->sent, sent);
	}
	if (t->ring) /* frames left pending by a failed kick; blocking: waits until they are out */
		(void)!sendto(t->fd, NULL, 0, 0, (struct sockaddr *)&t->dst, sizeof(t->dst));
	pps_run_sender_done(&a->run, t->index, sl.next);
	return NULL;
}

/* Answers an ARP request for one of our source addresses (the kernel does not own them). */
static void answer_arp(struct app *a, const struct pps_arp_pkt *arp)
{
	uint8_t buf[PPS_ARP_FRAME_LEN];

	if (arp->op_h != 1 ||
	    (arp->tpa_h != a->cfg.src_ip_h && pps_targets_index_of(a->cfg.sources, arp->tpa_h) < 0))
		return;
	pps_arp_build(buf, 2, a->src_mac, arp->tpa_h, arp->sha, arp->spa_h);
	(void)!pcap_inject(a->rx, buf, sizeof(buf));
}

/*
 * Closes the half-open connection of each genuine SYN-ACK among @pkt[0..n) (n <= APP_BURST)
 * with a RST (pps_scan_fill_rst), all of them with one sendmmsg() on the receive thread's own
 * socket. Also when the SYN-ACK went to this host's own address: its TCP stack finds no
 * socket and sends a RST too, but only if it has a route back to the target; a second RST
 * is harmless (the connection is gone).
 */
_Static_assert(APP_RX_BATCH <= APP_BURST, "a judged burst's RSTs fit one sendmmsg()");

static void answer_synacks(struct app *a, const struct pps_rx_burst *b)
{
	struct pps_counters *c = &a->run.rx_c;
	struct app_tx *t = &a->rst;
	uint16_t len[APP_BURST];
	unsigned k;
	int sent;

	if (!b->reply)
		return;
	k = pps_scan_fill_replies(&a->scan, b, t->slotp, len);
	for (unsigned j = 0; j < k; j++)
		t->iov[j].iov_len = len[j];
	sent = sendmmsg(t->fd, t->msg, k, MSG_DONTWAIT);
	if (sent < 0)
		sent = 0;
	pps_counter_add(&c->rst, (unsigned)sent);
	if ((unsigned)sent < k)
		pps_counter_add(&c->rst_lost, k - (unsigned)sent);
}

/* Judges the frames collected so far as one burst (pps_scan_rx_burst), answers ARP and SYN-ACKs. */
static void rx_flush(struct app *a)
{
	struct app_rx_batch *rb = &a->rxb;
	struct pps_pkt pkt[APP_RX_BATCH];
	struct pps_rx_burst b = { .n = rb->n, .frames = rb->frame, .lens = rb->len,
				  .with_ethernet = a->with_ethernet, .now_ns = rb->ts_ns,
				  .cooldown = pps_run_done(&a->run), .c = &a->run.rx_c,
				  .ring = a->run.results, .pkt = pkt };

	if (!rb->n)
		return;
	pps_scan_classify(&a->scan, &b);
	for (uint64_t arp = b.arp; arp && a->answer_arp; arp &= arp - 1)
		answer_arp(a, &pkt[__builtin_ctzll(arp)].arp);
	answer_synacks(a, &b);
	rb->n = 0;
}

/*
 * pcap_dispatch() callback. libpcap hands the ring frame back to the kernel when this returns,
 * so the frame is copied into the batch (responses are 60-90 bytes); a frame larger than a
 * batch slot is judged on its own, after the batch before it.
 */
static void rx_one(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct app *a = (struct app *)user;
	struct app_rx_batch *b = &a->rxb;
	/* PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds */
	uint64_t ts = (uint64_t)h->ts.tv_sec * NS_PER_S + (uint64_t)h->ts.tv_usec;
	if (h->caplen > APP_RX_SLOT) {
		struct pps_pkt pkt;
		uint32_t len = h->caplen;
		const uint8_t *f = bytes;
		struct pps_rx_burst one = { .n = 1, .frames = &f, .lens = &len,
					    .with_ethernet = a->with_ethernet, .now_ns = ts,
					    .cooldown = pps_run_done(&a->run), .c = &a->run.rx_c,
					    .ring = a->run.results, .pkt = &pkt };

		rx_flush(a);
		pps_scan_classify(&a->scan, &one);
		if (one.arp && a->answer_arp)
			answer_arp(a, &pkt.arp);
		answer_synacks(a, &one);
		return;
	}
	memcpy(b->slot[b->n], bytes, h->caplen);
	b->len[b->n] = h->caplen;
	b->ts_ns = ts; /* a burst carries one receive time: its last frame's */
	if (++b->n == APP_RX_BATCH)
		rx_flush(a);
}

/* Publishes the kernel's drop counts (pcap_stats() on this thread only: it is not reentrant). */
static void publish_drops(struct app *a)
{
	struct pcap_stat st;

	if (pcap_stats(a->rx, &st) == 0)
		atomic_store_explicit(&a->nic_drops, (uint64_t)st.ps_drop + st.ps_ifdrop,
				      memory_order_relaxed);
}

void *app_rx_loop(void *arg)
{
	struct app *a = arg;
	struct pollfd pfd = { .fd = pcap_get_selectable_fd(a->rx), .events = POLLIN };
	uint64_t last_stats = mono_ns();

	for (unsigned k = 0; k < APP_RX_BATCH; k++)
		a->rxb.frame[k] = a->rxb.slot[k];
	while (!pps_run_rx_stopping(&a->run)) {
		int n = pcap_dispatch(a->rx, APP_RX_BATCH, rx_one, (u_char *)a);
		uint64_t now;

		rx_flush(a);
		if (n <= 0)
			poll(&pfd, 1, 10);
		now = mono_ns();
		if (now - last_stats >= STATS_NS) {
			publish_drops(a);
			last_stats = now;
		}
	}
	while (pcap_dispatch(a->rx, APP_RX_BATCH, rx_one, (u_char *)a) > 0)
		rx_flush(a);
	rx_flush(a);
	publish_drops(a);
	return NULL;
}
