/*
 * The handshake engine: one thread, one epoll set, up to cfg->concurrency connections.
 *
 * Per connection (a slot of a fixed array):
 *   CONNECTING  non-blocking connect(); EPOLLOUT, then SO_ERROR says how it went
 *   HANDSHAKE   OpenSSL drives the handshake over two memory BIOs: what it writes to wbio we
 *               send(), what recv() returns we BIO_write() into rbio, then SSL_do_handshake()
 *               again (the "BIO pair" pattern of OpenSSL's SSL_set_bio(3) and s_client's
 *               nbio mode). Owning the bytes lets us look at the server's first bytes before
 *               OpenSSL does: if they cannot start a TLS record (RFC 8446 5.1), the port is
 *               classified plaintext and the bytes kept as its banner.
 * A connection ends with SSL_shutdown() (close_notify) and an abortive close (SO_LINGER 0),
 * so thousands of handshakes a second leave no TIME_WAIT sockets behind.
 *
 * Timeouts: every connection in one phase has the same limit, so deadlines are ordered by
 * insertion and two FIFO lists (connect, handshake) replace a heap: expiry is O(1) per item.
 * Pacing (--rate): a deadline advanced by 1/rate per new connection, with at most 10 ms of
 * catch-up, so a stall does not turn into a burst.
 * Per-address cap (--per-host): an open-addressing table address -> {active, waiting jobs};
 * a job whose address is at its cap waits there and is moved to the ready queue when one of
 * that address's connections ends (no head-of-line blocking of other addresses).
 * Memory is bounded: at most 2 x concurrency + 64 endpoints are read ahead of the handshakes.
 */
#include "tls_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "output/pps_output.h"
#include "pps_clock.h"
#include "pps_ports.h"
#include "pps_targets.h"
#include "tls_record.h"

#define N_VERSIONS 4
#define JOB_MAIN 0 /* job kinds 1..4: TLS 1.0, 1.1, 1.2, 1.3 */
#define NS PPS_NS_PER_S
#define MAX_EVENTS 256
#define READ_BATCH 256

static const int version_proto[N_VERSIONS] = { TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
					       TLS1_3_VERSION };
static const char *const version_name[N_VERSIONS] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };

static const char *const class_names[TLS_C_COUNT] = {
	"tls", "tls_error", "plaintext", "closed", "timeout", "refused", "unreachable", "error",
};

const char *tls_class_name(int c)
{
	return c >= 0 && c < TLS_C_COUNT ? class_names[c] : "?";
}

struct endpoint;

struct job {
	struct endpoint *ep;
	int kind;
	struct job *next; /* ready queue or an address's wait list */
};

struct endpoint {
	struct tls_target t;
	int pending;		/* jobs queued or connected */
	json_t *rec;		/* the main handshake's record, once it ended */
	int8_t ver[N_VERSIONS]; /* --versions: 1 accepted, 0 refused, -1 unknown */
	struct job jobs[1 + N_VERSIONS];
	struct endpoint *next_free;
};

enum {
	C_FREE = 0,
	C_CONNECTING,
	C_HANDSHAKE
};
enum {
	L_CONNECT = 0,
	L_HANDSHAKE,
	N_LISTS
};

struct conn {
	int fd;
	int state;
	struct job *job;
	SSL *ssl;
	BIO *rbio, *wbio;			 /* owned by ssl */
	uint64_t t_start, t_connected, deadline; /* ns, CLOCK_MONOTONIC */
	int list;				 /* timeout list, -1 if none */
	struct conn *tprev, *tnext;
	uint32_t events; /* registered epoll events */
	uint64_t n_rx;	 /* bytes received */
	unsigned char hdr[3];
	unsigned n_first;     /* bytes in first */
	unsigned char *first; /* cfg->banner_bytes, the server's first bytes */
	int verify_first;     /* first certificate verification error (callback) */
	int eof;	      /* FIN or error seen on receive */
	int rx_errno;	      /* errno of a failed recv/send, 0 if none */
	struct conn *next_free;
};

struct host {
	uint32_t ip_h;
	uint32_t active; /* connections in flight */
	struct job *wait_head, *wait_tail;
	uint8_t used;
};

struct tlist {
	struct conn *head, *tail;
};

struct tls_engine {
	const struct tls_config *cfg;
	SSL_CTX *ctx_main;
	SSL_CTX *ctx_ver[N_VERSIONS];
	int ep;	       /* epoll fd */
	int no_pwait2; /* epoll_pwait2 is not available: epoll_wait */

	struct conn *conns;
	unsigned char *banners;
	struct conn *free_conns;
	unsigned active;

	struct endpoint *eps;
	struct endpoint *free_eps;
	unsigned max_live, live;

	struct host *hosts;
	uint32_t host_mask;

	struct job *ready_head, *ready_tail;
	struct tlist lists[N_LISTS];
	uint64_t list_limit_ns[N_LISTS];

	uint64_t pace_next_ns, pace_interval_ns;

	struct tls_input *in;
	int in_fd, in_readable, in_eof;
	uint64_t in_next_poll_ns;
	char in_tag; /* its address marks the input fd in epoll events */

	tls_record_fn record;
	tls_flush_fn flush;
	void *ctx;
	int cb_error;

	struct tls_stats st;
	uint64_t t0;
	unsigned char rxbuf[16384];
};

/* ---- per-address table (linear probing, backward-shift deletion: Knuth 6.4 algorithm R) -- */

static uint32_t host_hash(uint32_t ip)
{
	ip ^= ip >> 16;
	ip *= 0x7feb352du;
	ip ^= ip >> 15;
	ip *= 0x846ca68bu;
	return ip ^ (ip >> 16);
}

static struct host *host_get(struct tls_engine *e, uint32_t ip, int create)
{
	uint32_t i = host_hash(ip) & e->host_mask;

	while (e->hosts[i].used) {
		if (e->hosts[i].ip_h == ip)
			return &e->hosts[i];
		i = (i + 1) & e->host_mask;
	}
	if (!create)
		return NULL;
	memset(&e->hosts[i], 0, sizeof(e->hosts[i]));
	e->hosts[i].used = 1;
	e->hosts[i].ip_h = ip;
	return &e->hosts[i];
}

static void host_del(struct tls_engine *e, struct host *h)
{
	uint32_t i = (uint32_t)(h - e->hosts), j = i;

	e->hosts[i].used = 0;
	for (;;) {
		uint32_t k;

		j = (j + 1) & e->host_mask;
		if (!e->hosts[j].used)
			return;
		k = host_hash(e->hosts[j].ip_h) & e->host_mask;
		/* move j back to i unless its home k lies cyclically in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		e->hosts[i] = e->hosts[j];
		e->hosts[j].used = 0;
		i = j;
	}
}

/* ---- queues ---- */

static void ready_push(struct tls_engine *e, struct job *j, int front)
{
	j->next = NULL;
	if (!e->ready_head) {
		e->ready_head = e->ready_tail = j;
	} else if (front) {
		j->next = e->ready_head;
		e->ready_head = j;
	} else {
		e->ready_tail->next = j;
		e->ready_tail = j;
	}
}

static struct job *ready_pop(struct tls_engine *e)
{
	struct job *j = e->ready_head;

	if (j) {
		e->ready_head = j->next;
		if (!e->ready_head)
			e->ready_tail = NULL;
	}
	return j;
}

static void tlist_add(struct tls_engine *e, struct conn *c, int l, uint64_t now)
{
	struct tlist *t = &e->lists[l];

	c->list = l;
	c->deadline = now + e->list_limit_ns[l];
	c->tnext = NULL;
	c->tprev = t->tail;
	if (t->tail)
		t->tail->tnext = c;
	else
		t->head = c;
	t->tail = c;
}

static void tlist_del(struct tls_engine *e, struct conn *c)
{
	struct tlist *t;

	if (c->list < 0)
		return;
	t = &e->lists[c->list];
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		t->head = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	else
		t->tail = c->tprev;
	c->list = -1;
	c->tprev = c->tnext = NULL;
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

struct tls_engine *tls_engine_new(const struct tls_config *cfg, char *why, size_t whylen)
{
	struct tls_engine *e = calloc(1, sizeof(*e));
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg->concurrency + 64;

	if (!e) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	e->cfg = cfg;
	e->ep = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			snprintf(
				why, whylen,
				"concurrency %u needs %llu file descriptors, the hard limit is %llu (ulimit -Hn)",
				cfg->concurrency, (unsigned long long)need,
				(unsigned long long)rl.rlim_max);
			goto fail;
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			snprintf(why, whylen, "cannot raise the file descriptor limit to %llu: %s",
				 (unsigned long long)need, strerror(errno));
			goto fail;
		}
	}
	e->ctx_main = tls_client_ctx(cfg, 0, why, whylen);
	if (!e->ctx_main)
		goto fail;
	for (int v = 0; cfg->versions && v < N_VERSIONS; v++)
		if (!(e->ctx_ver[v] = tls_client_ctx(cfg, version_proto[v], why, whylen)))
			goto fail;

	e->conns = calloc(cfg->concurrency, sizeof(*e->conns));
	e->banners = malloc((size_t)cfg->concurrency * cfg->banner_bytes);
	e->max_live = cfg->concurrency * 2 + 64;
	e->eps = calloc(e->max_live, sizeof(*e->eps));
	e->host_mask = pow2_at_least((uint64_t)e->max_live * 2) - 1;
	e->hosts = calloc((size_t)e->host_mask + 1, sizeof(*e->hosts));
	if (!e->conns || !e->banners || !e->eps || !e->hosts) {
		snprintf(why, whylen, "out of memory for %u connections", cfg->concurrency);
		goto fail;
	}
	for (unsigned i = cfg->concurrency; i-- > 0;) {
		e->conns[i].fd = -1;
		e->conns[i].list = -1;
		e->conns[i].first = e->banners + (size_t)i * cfg->banner_bytes;
		e->conns[i].next_free = e->free_conns;
		e->free_conns = &e->conns[i];
	}
	for (unsigned i = e->max_live; i-- > 0;) {
		e->eps[i].next_free = e->free_eps;
		e->free_eps = &e->eps[i];
	}
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	if (e->ep < 0) {
		snprintf(why, whylen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	e->list_limit_ns[L_CONNECT] = (uint64_t)(cfg->connect_timeout_s * 1e9);
	e->list_limit_ns[L_HANDSHAKE] = (uint64_t)(cfg->timeout_s * 1e9);
	e->pace_interval_ns = cfg->rate > 0 ? (uint64_t)(1e9 / cfg->rate) : 0;
	return e;
fail:
	tls_engine_free(e);
	return NULL;
}

/* ---- records ---- */

/* Milliseconds from @a to @b (ns), rounded to the microsecond. */
static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)((b - a + 500) / 1000) / 1e3 : 0.0;
}

static void emit(struct tls_engine *e, struct endpoint *ep)
{
	json_t *rec = ep->rec;
	char ts[40];
	struct timespec now;

	if (rec && e->cfg->versions) {
		json_t *v = json_object();

		for (int i = 0; i < N_VERSIONS; i++)
			json_object_set_new(v, version_name[i],
					    ep->ver[i] < 0 ? json_null()
							   : json_boolean(ep->ver[i]));
		json_object_set_new(rec, "versions", v);
	}
	if (rec) {
		clock_gettime(CLOCK_REALTIME, &now);
		pps_output_format_timestamp((unsigned long long)now.tv_sec * NS +
						    (unsigned long long)now.tv_nsec,
					    ts, sizeof(ts));
		json_object_set_new(rec, "ts", json_string(ts));
		if (!e->cb_error) {
			int rc = e->record(e->ctx, &ep->t, rec);

			if (!rc && e->in->done)
				rc = e->in->done(e->in, &ep->t);
			if (rc)
				e->cb_error = rc;
		}
		e->st.endpoints++;
	}
	json_decref(rec);
	ep->rec = NULL;
	ep->next_free = e->free_eps;
	e->free_eps = ep;
	e->live--;
}

/* The main handshake's record: common fields, then what the outcome adds. */
static json_t *main_record(struct tls_engine *e, struct conn *c, int cls, const char *stage,
			   const char *error, uint64_t now)
{
	json_t *rec = json_object();
	char ip[16], hex[2 * TLS_BANNER_MAX + 1];

	if (!rec)
		return NULL;
	pps_format_ipv4(c->job->ep->t.ip_h, ip);
	json_object_set_new(rec, "ip", json_string(ip));
	json_object_set_new(rec, "port", json_integer(c->job->ep->t.port_h));
	json_object_set_new(rec, "classification", json_string(tls_class_name(cls)));
	if (cls != TLS_C_TLS) {
		json_object_set_new(rec, "stage", json_string(stage));
		json_object_set_new(rec, "error", error ? json_string(error) : json_null());
	}
	json_object_set_new(rec, "sni", e->cfg->sni ? json_string(e->cfg->sni) : json_null());
	json_object_set_new(rec, "connect_ms",
			    c->t_connected ? json_real(ms_between(c->t_start, c->t_connected))
					   : json_null());
	if (cls == TLS_C_TLS) {
		json_object_set_new(rec, "handshake_ms",
				    json_real(ms_between(c->t_connected, now)));
		if (tls_record_session(rec, c->ssl, c->verify_first, e->cfg->sni)) {
			json_decref(rec);
			return NULL;
		}
	}
	if (cls == TLS_C_PLAINTEXT) {
		json_object_set_new(rec, "banner", tls_json_banner(c->first, c->n_first));
		tls_hex(c->first, c->n_first, hex);
		json_object_set_new(rec, "banner_hex", json_string(hex));
	}
	if (cls != TLS_C_TLS && cls != TLS_C_PLAINTEXT && c->n_rx)
		json_object_set_new(rec, "bytes_received", json_integer((json_int_t)c->n_rx));
	return rec;
}

/* Ends connection @c with outcome @cls; records it, releases the slot and the address. */
static void finish(struct tls_engine *e, struct conn *c, int cls, const char *stage,
		   const char *error)
{
	struct job *j = c->job;
	struct endpoint *ep = j->ep;
	uint64_t now = pps_monotonic_ns();
	struct host *h;

	if (cls == TLS_C_TLS)
		e->st.handshakes++;
	if (j->kind == JOB_MAIN) {
		ep->rec = main_record(e, c, cls, stage, error, now);
		if (!ep->rec)
			e->cb_error = -ENOMEM;
		e->st.by_class[cls]++;
	} else {
		int v = j->kind - 1;

		if (cls == TLS_C_TLS)
			ep->ver[v] = SSL_version(c->ssl) == version_proto[v];
		else if (cls == TLS_C_TLS_ERROR || cls == TLS_C_CLOSED)
			ep->ver[v] = 0;
		else
			ep->ver[v] = -1;
	}

	/* close: close_notify if the handshake completed, then RST (no TIME_WAIT) */
	if (c->ssl) {
		if (cls == TLS_C_TLS) {
			char *p;
			long n;

			ERR_clear_error();
			SSL_shutdown(c->ssl);
			n = BIO_get_mem_data(c->wbio, &p);
			if (n > 0 && send(c->fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* best effort */
			}
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd); /* also leaves the epoll set */
		c->fd = -1;
	}
	tlist_del(e, c);
	c->state = C_FREE;
	c->job = NULL;
	c->next_free = e->free_conns;
	e->free_conns = c;
	e->active--;

	h = host_get(e, ep->t.ip_h, 0);
	if (h) {
		h->active--;
		if (h->wait_head) {
			struct job *w = h->wait_head;

			h->wait_head = w->next;
			if (!h->wait_head)
				h->wait_tail = NULL;
			ready_push(e, w, 1);
		} else if (!h->active) {
			host_del(e, h);
		}
	}

	ep->pending--;
	if (j->kind == JOB_MAIN && e->cfg->versions &&
	    (cls == TLS_C_TLS || cls == TLS_C_TLS_ERROR)) {
		/* the port speaks TLS: one handshake per version, ahead of new endpoints */
		for (int v = N_VERSIONS; v >= 1; v--) {
			ep->jobs[v].ep = ep;
			ep->jobs[v].kind = v;
			ready_push(e, &ep->jobs[v], 1);
			ep->pending++;
		}
	}
	if (ep->pending == 0)
		emit(e, ep);
}

static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long err = ERR_peek_last_error();
	const char *r = err ? ERR_reason_error_string(err) : NULL;

	snprintf(buf, len, "%s", r ? r : "handshake failed");
	return buf;
}

/* ---- the state machine ---- */

static void set_events(struct tls_engine *e, struct conn *c, uint32_t ev)
{
	struct epoll_event ee = { .events = ev, .data.ptr = c };

	if (c->events != ev && epoll_ctl(e->ep, EPOLL_CTL_MOD, c->fd, &ee) == 0)
		c->events = ev;
}

/* The peer is gone (FIN, RST or a failed send) while the handshake wanted more. */
static void finish_eof(struct tls_engine *e, struct conn *c)
{
	char msg[160];

	if (c->n_rx == 0) {
		snprintf(msg, sizeof(msg), "%s",
			 c->rx_errno ? strerror(c->rx_errno)
				     : "connection closed by the server before it sent anything");
		finish(e, c, TLS_C_CLOSED, "handshake", msg);
	} else {
		snprintf(msg, sizeof(msg), "connection %s by the server during the handshake",
			 c->rx_errno == ECONNRESET ? "reset" : "closed");
		finish(e, c, TLS_C_TLS_ERROR, "handshake", msg);
	}
}

/* Sends what OpenSSL has written. Returns 0, or -1 if the send failed (c->eof set). */
static int flush_out(struct tls_engine *e, struct conn *c)
{
	char *p;
	long n;

	while ((n = BIO_get_mem_data(c->wbio, &p)) > 0) {
		ssize_t s = send(c->fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s > 0) {
			(void)BIO_read(c->wbio, e->rxbuf,
				       (int)((size_t)s < sizeof(e->rxbuf) ? (size_t)s
									  : sizeof(e->rxbuf)));
			continue;
		}
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_events(e, c, EPOLLIN | EPOLLOUT);
			return 0;
		}
		c->rx_errno = errno;
		c->eof = 1;
		return -1;
	}
	return 0;
}

static void step(struct tls_engine *e, struct conn *c)
{
	char msg[160];
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (flush_out(e, c) < 0 && r != 1) {
		finish_eof(e, c);
		return;
	}
	if (r == 1) {
		finish(e, c, TLS_C_TLS, NULL, NULL);
		return;
	}
	err = SSL_get_error(c->ssl, r);
	if (err == SSL_ERROR_WANT_READ) {
		if (c->eof)
			finish_eof(e, c);
		else if (BIO_ctrl_pending(c->wbio) == 0)
			set_events(e, c, EPOLLIN);
		return;
	}
	/* nothing received yet: OpenSSL failed on our side (e.g. no usable cipher suite) */
	finish(e, c, c->n_rx ? TLS_C_TLS_ERROR : TLS_C_ERROR, "handshake",
	       ssl_reason(msg, sizeof(msg)));
}

static void on_readable(struct tls_engine *e, struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, e->rxbuf, sizeof(e->rxbuf), 0);

		if (n > 0) {
			size_t take = (size_t)n;

			for (size_t i = 0; c->n_rx + i < 3 && i < take; i++)
				c->hdr[c->n_rx + i] = e->rxbuf[i];
			if (take > e->cfg->banner_bytes - c->n_first)
				take = e->cfg->banner_bytes - c->n_first;
			memcpy(c->first + c->n_first, e->rxbuf, take);
			c->n_first += (unsigned)take;
			c->n_rx += (uint64_t)n;
			if (!tls_looks_like_tls(c->hdr, c->n_rx < 3 ? (size_t)c->n_rx : 3)) {
				finish(e, c, TLS_C_PLAINTEXT, "handshake",
				       "the server's first bytes are not a TLS record");
				return;
			}
			BIO_write(c->rbio, e->rxbuf, (int)n);
			continue;
		}
		if (n == 0) {
			c->eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		c->rx_errno = errno;
		c->eof = 1;
		break;
	}
	step(e, c);
}

static int connect_class(int err)
{
	switch (err) {
	case ECONNREFUSED: return TLS_C_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH: return TLS_C_UNREACHABLE;
	case ETIMEDOUT: return TLS_C_TIMEOUT;
	default: return TLS_C_ERROR;
	}
}

static void on_connected(struct tls_engine *e, struct conn *c)
{
	struct job *j = c->job;
	SSL_CTX *ctx = j->kind == JOB_MAIN ? e->ctx_main : e->ctx_ver[j->kind - 1];
	uint64_t now = pps_monotonic_ns();
	char msg[160];

	c->t_connected = now;
	tlist_del(e, c);
	tlist_add(e, c, L_HANDSHAKE, now);
	c->state = C_HANDSHAKE;
	c->ssl = SSL_new(ctx);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		finish(e, c, TLS_C_ERROR, "handshake", "out of memory for a TLS session");
		return;
	}
	BIO_set_mem_eof_return(c->rbio, -1); /* empty = "retry", not EOF */
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	tls_verify_attach(c->ssl, &c->verify_first);
	SSL_set_connect_state(c->ssl);
	if (e->cfg->sni && !SSL_set_tlsext_host_name(c->ssl, e->cfg->sni)) {
		finish(e, c, TLS_C_ERROR, "handshake", ssl_reason(msg, sizeof(msg)));
		return;
	}
	step(e, c);
}

static void on_event(struct tls_engine *e, struct conn *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		if (err)
			finish(e, c, connect_class(err), "connect", strerror(err));
		else if (ev & EPOLLOUT)
			on_connected(e, c);
		return;
	}
	if (c->state != C_HANDSHAKE)
		return;
	if (ev & EPOLLOUT) {
		if (flush_out(e, c) < 0) {
			on_readable(e, c); /* collect what the server said before it went away */
			return;
		}
		if (BIO_ctrl_pending(c->wbio) == 0)
			set_events(e, c, EPOLLIN);
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(e, c);
}

/* Starts job @j on a free slot. */
static void start(struct tls_engine *e, struct job *j, uint64_t now)
{
	struct conn *c = e->free_conns;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ee;
	int one = 1, rc;

	e->free_conns = c->next_free;
	e->active++;
	e->st.connections++;
	{
		unsigned char *first = c->first;

		memset(c, 0, sizeof(*c));
		c->first = first;
	}
	c->list = -1;
	c->job = j;
	c->t_start = now;
	c->state = C_CONNECTING;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		finish(e, c, TLS_C_ERROR, "connect", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(j->ep->t.ip_h);
	sa.sin_port = htons(j->ep->t.port_h);
	rc = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno != EINPROGRESS) {
		int err = errno;

		finish(e, c, connect_class(err), "connect", strerror(err));
		return;
	}
	ee.events = rc == 0 ? EPOLLIN : EPOLLOUT;
	ee.data.ptr = c;
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, c->fd, &ee)) {
		finish(e, c, TLS_C_ERROR, "connect", strerror(errno));
		return;
	}
	c->events = ee.events;
	if (rc == 0) {
		on_connected(e, c);
	} else {
		tlist_add(e, c, L_CONNECT, now);
	}
}

/* Starts ready jobs while slots, the pacer and the per-address cap allow. */
static void start_ready(struct tls_engine *e, uint64_t now)
{
	while (e->ready_head && e->free_conns) {
		struct job *j;
		struct host *h;

		if (e->pace_interval_ns && now < e->pace_next_ns)
			return;
		j = ready_pop(e);
		h = host_get(e, j->ep->t.ip_h, 1);
		if (e->cfg->per_host && h->active >= e->cfg->per_host) {
			j->next = NULL;
			if (h->wait_tail)
				h->wait_tail->next = j;
			else
				h->wait_head = j;
			h->wait_tail = j;
			continue;
		}
		h->active++;
		if (e->pace_interval_ns) {
			if (e->pace_next_ns + 10000000ull < now)
				e->pace_next_ns = now - 10000000ull; /* at most 10 ms of catch-up */
			e->pace_next_ns += e->pace_interval_ns;
		}
		start(e, j, now);
	}
}

static void expire(struct tls_engine *e, uint64_t now)
{
	char msg[160];

	for (int l = 0; l < N_LISTS; l++) {
		while (e->lists[l].head && e->lists[l].head->deadline <= now) {
			struct conn *c = e->lists[l].head;

			if (l == L_CONNECT)
				snprintf(msg, sizeof(msg), "no connection within %g s",
					 e->cfg->connect_timeout_s);
			else
				snprintf(msg, sizeof(msg),
					 "no handshake within %g s (%llu bytes received)",
					 e->cfg->timeout_s, (unsigned long long)c->n_rx);
			finish(e, c, TLS_C_TIMEOUT, l == L_CONNECT ? "connect" : "handshake", msg);
		}
	}
}

/*
 * Takes @t as a new endpoint, or drops it if it is outside -p or on the blocklist (then it is
 * acknowledged at once, so a followed stream does not offer it again). Returns 0 or -errno.
 */
static int admit(struct tls_engine *e, const struct tls_target *t)
{
	struct endpoint *ep;

	if (e->cfg->ports && !pps_ports_contains(e->cfg->ports, t->port_h)) {
		e->st.filtered++;
		return e->in->done ? e->in->done(e->in, t) : 0;
	}
	if (e->cfg->blocklist && pps_targets_index_of(e->cfg->blocklist, t->ip_h) >= 0) {
		e->st.blocked++;
		return e->in->done ? e->in->done(e->in, t) : 0;
	}
	ep = e->free_eps;
	e->free_eps = ep->next_free;
	e->live++;
	memset(ep, 0, sizeof(*ep));
	ep->t = *t;
	memset(ep->ver, -1, sizeof(ep->ver));
	ep->jobs[0].ep = ep;
	ep->jobs[0].kind = JOB_MAIN;
	ep->pending = 1;
	ready_push(e, &ep->jobs[0], 0);
	return 0;
}

/* Reads targets while there is room for them. Returns 0 or -errno. */
static int feed(struct tls_engine *e, uint64_t now, int stopping)
{
	struct tls_target batch[READ_BATCH];

	while (!e->in_eof && !stopping && e->live < e->max_live) {
		int room = (int)(e->max_live - e->live), n, block = 0;

		if (e->in_fd >= 0 && !e->in_readable)
			return 0;
		if (e->in_fd < 0 && now < e->in_next_poll_ns)
			return 0;
		if (e->in_fd < 0 && e->live == 0)
			block = 500; /* idle: let a followed stream wait for entries */
		n = e->in->read(e->in, batch, room < READ_BATCH ? room : READ_BATCH, block);
		if (n == TLS_INPUT_EOF) {
			e->in_eof = 1;
			return 0;
		}
		if (n < 0)
			return n;
		if (n == 0) {
			if (e->in_fd >= 0)
				e->in_readable = 0;
			else if (!block)
				e->in_next_poll_ns = now + 20000000ull; /* poll again in 20 ms */
			return 0;
		}
		for (int i = 0; i < n; i++) {
			int rc = admit(e, &batch[i]);

			if (rc)
				return rc;
		}
		start_ready(e, now);
	}
	return 0;
}

/* Milliseconds-and-nanoseconds until the next thing to do (timeout, pacer, input poll). */
static void next_wait(struct tls_engine *e, uint64_t now, int stopping, struct timespec *ts)
{
	uint64_t until = now + NS; /* at most 1 s */

	for (int l = 0; l < N_LISTS; l++)
		if (e->lists[l].head && e->lists[l].head->deadline < until)
			until = e->lists[l].head->deadline;
	if (e->ready_head && e->free_conns && e->pace_interval_ns && e->pace_next_ns < until)
		until = e->pace_next_ns;
	if (!e->in_eof && !stopping && e->live < e->max_live && e->in_fd < 0 &&
	    e->in_next_poll_ns < until)
		until = e->in_next_poll_ns;
	if (until <= now) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
	} else {
		ts->tv_sec = (time_t)((until - now) / NS);
		ts->tv_nsec = (long)((until - now) % NS);
	}
}

static void abandon_all(struct tls_engine *e)
{
	for (unsigned i = 0; i < e->cfg->concurrency; i++) {
		struct conn *c = &e->conns[i];

		if (c->state == C_FREE)
			continue;
		SSL_free(c->ssl);
		c->ssl = NULL;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		c->state = C_FREE;
	}
	for (unsigned i = 0; e->eps && i < e->max_live; i++) {
		json_decref(e->eps[i].rec);
		e->eps[i].rec = NULL;
	}
}

/*
 * epoll_pwait2 (Linux 5.11) waits with nanosecond resolution, which --rate above 1000/s needs;
 * where it is missing (older kernels, valgrind) epoll_wait with the wait rounded up to 1 ms.
 */
static int wait_events(struct tls_engine *e, struct epoll_event *evs, const struct timespec *ts)
{
	if (!e->no_pwait2) {
		int n = epoll_pwait2(e->ep, evs, MAX_EVENTS, ts, NULL);

		if (n >= 0 || errno != ENOSYS)
			return n;
		e->no_pwait2 = 1;
	}
	return epoll_wait(e->ep, evs, MAX_EVENTS,
			  (int)(ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000));
}

int tls_engine_run(struct tls_engine *e, struct tls_input *in, tls_record_fn record,
		   tls_flush_fn flush, void *ctx, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[MAX_EVENTS];
	int rc = 0;

	e->in = in;
	e->record = record;
	e->flush = flush;
	e->ctx = ctx;
	e->t0 = pps_monotonic_ns();
	e->in_fd = in->fd(in);
	if (e->in_fd >= 0) {
		struct epoll_event ee = { .events = EPOLLIN | EPOLLET, .data.ptr = &e->in_tag };

		if (epoll_ctl(e->ep, EPOLL_CTL_ADD, e->in_fd, &ee))
			e->in_fd = -1; /* not pollable after all: read it when there is room */
		else
			e->in_readable = 1;
	}

	for (;;) {
		uint64_t now = pps_monotonic_ns();
		struct timespec ts;
		int n;

		if (*stop >= 2) {
			abandon_all(e);
			break;
		}
		expire(e, now);
		rc = feed(e, now, *stop);
		if (rc)
			break;
		now = pps_monotonic_ns();
		start_ready(e, now);
		if (e->flush && !e->cb_error)
			e->cb_error = e->flush(e->ctx);
		if (e->cb_error) {
			rc = e->cb_error;
			abandon_all(e);
			break;
		}
		if ((e->in_eof || *stop) && e->live == 0)
			break;
		next_wait(e, now, *stop, &ts);
		n = wait_events(e, evs, &ts);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			abandon_all(e);
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &e->in_tag) {
				e->in_readable = 1;
				continue;
			}
			on_event(e, evs[i].data.ptr, evs[i].events);
		}
	}
	e->st.elapsed_s = (double)(pps_monotonic_ns() - e->t0) / 1e9;
	return rc;
}

void tls_engine_stats(const struct tls_engine *e, struct tls_stats *out)
{
	*out = e->st;
}

void tls_engine_free(struct tls_engine *e)
{
	if (!e)
		return;
	if (e->conns)
		abandon_all(e);
	if (e->ep >= 0)
		close(e->ep);
	SSL_CTX_free(e->ctx_main);
	for (int v = 0; v < N_VERSIONS; v++)
		SSL_CTX_free(e->ctx_ver[v]);
	free(e->conns);
	free(e->banners);
	free(e->eps);
	free(e->hosts);
	free(e);
}
