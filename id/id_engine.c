/*
 * The identification engine (id_engine.h): one thread, one epoll set, up to cfg->concurrency
 * connections, the order of work of id_module.h per endpoint.
 *
 * An endpoint has at most one connection at a time: the first one waits for a greeting, and
 * if the server stays silent carries the first client-first handshake; every later handshake
 * opens a new connection (a server that rejected one request may not take another). The
 * order of the client-first modules is computed when the endpoint is admitted: modules whose
 * ports list the endpoint's port first, then by weight.
 *
 * TLS runs over two memory BIOs as in ppscan-tls (engine.c): we own the ciphertext, so the
 * first bytes of a server that does not speak TLS are seen (and offered to the modules) before
 * OpenSSL rejects them. Inside TLS, received plaintext goes to the same receive buffer the
 * modules see, and what they queue is written with SSL_write().
 *
 * Timeouts: each connection is on one of three FIFO lists with one limit each (connect,
 * greeting window, handshake), so expiry is O(1). Pacing and the per-address cap as in
 * engine.c. Memory per connection: the slot (struct id_conn, ~0.7 KiB), ID_RX_MAX + ID_TX_MAX
 * bytes of buffers reserved per slot (touched only as far as a server fills them), the
 * record's JSON, and an OpenSSL session while TLS is spoken.
 */
#include "id_engine.h"

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

#include "fingerprint.h"
#include "id_fingerprints.h"
#include "id_conn.h"
#include "id_module.h"
#include "output/pps_output.h"
#include "pps_clock.h"
#include "pps_hostcount.h"
#include "pps_ports.h"
#include "pps_targets.h"
#include "tls_record.h"

#define MAX_EVENTS 256
#define READ_BATCH 256
#define ORDER_MAX 64 /* client-first modules considered per endpoint */
#define N_VERSIONS 4 /* --versions: TLS 1.0, 1.1, 1.2, 1.3 */

static const int version_proto[N_VERSIONS] = { TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
					       TLS1_3_VERSION };
static const char *const version_name[N_VERSIONS] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };

static const char *const outcome_names[ID_O_COUNT] = {
	"match", "soft", "unknown", "no_service", "refused", "unreachable", "timeout", "error",
};

const char *id_outcome_name(int o)
{
	return o >= 0 && o < ID_O_COUNT ? outcome_names[o] : "?";
}

/* Connection phases (the engine's, not the module's id_phase). */
enum {
	C_FREE = 0,
	C_CONNECTING,
	C_GREETING,
	C_PROBE,
	C_TLS
};
enum {
	L_CONNECT = 0,
	L_GREETING,
	L_HANDSHAKE,
	N_LISTS
};
/* why a handshake ended, for its entry in "handshakes" */
enum {
	E_NONE = 0,
	E_CLOSED,
	E_RESET,
	E_TIMEOUT
};

struct endpoint {
	struct tls_target t;
	uint64_t t_admit;
	double connect_ms; /* of the first connection, -1 unknown */
	int outcome;
	int status;    /* ID_O_REFUSED ... for the first connection, ID_O_MATCH = it connected */
	int n_conns;   /* connections made */
	int n_hs;      /* client-first handshakes counted */
	int got_bytes; /* any byte from the server on any connection */
	int silent_greeting;
	uint8_t order[ORDER_MAX];
	int n_order, next_mod;
	json_t *handshakes;
	/* the result so far */
	char protocol[PROTO_MAX];
	char product[128], version[128];
	int confidence;		/* 0 none, 1 soft, 2 match */
	int tls_base;		/* protocol "tls" (match) until an inner protocol is named */
	int ver_next;		/* --versions: the next version probe (0-3) */
	int8_t ver[N_VERSIONS]; /* 1 accepted, 0 refused, -1 unknown */
	json_t *obj;		/* the winner's per-protocol object */
	char obj_name[PROTO_MAX];
	json_t *tls; /* the TLS object, when TLS was spoken */
	const char *tls_mode;
	unsigned char *first; /* cfg->banner_bytes: the first bytes the server sent (hex) */
	unsigned n_first;
	struct endpoint *next; /* ready queue, an address's wait list, or the free list */
	int done;
};

struct host {
	uint32_t ip_h;
	uint32_t active;
	struct endpoint *wait_head, *wait_tail;
	uint8_t used;
};

struct tlist {
	struct id_conn *head, *tail;
};

struct id_engine {
	const struct tls_config *cfg;
	SSL_CTX *ctx;
	SSL_CTX *ctx_ver[N_VERSIONS]; /* --versions: exactly one protocol version each */
	struct pps_fp_db *fp;
	int ep;
	int no_pwait2;

	const struct id_module *const *mods;
	size_t n_mods;
	int mod_tls, mod_http2; /* indices, -1 if absent */

	struct id_conn *conns;
	uint8_t *bufs;
	struct id_conn *free_conns;
	unsigned active;

	struct endpoint *eps, *free_eps;
	unsigned char *firsts;
	unsigned max_live, live;
	struct host *hosts;
	uint32_t host_mask;
	struct pps_hostcount seen; /* open ports per address in the input (middlebox marking) */
	unsigned probed_ports;

	struct endpoint *ready_head, *ready_tail;
	struct tlist lists[N_LISTS];
	uint64_t list_limit_ns[N_LISTS];
	uint64_t pace_next_ns, pace_interval_ns;

	struct tls_input *in;
	int in_fd, in_readable, in_eof;
	uint64_t in_next_poll_ns;
	char in_tag;

	tls_record_fn record;
	tls_flush_fn flush;
	void *ctx_cb;
	int cb_error;
	struct id_stats st;
	uint64_t t0;
	unsigned char iobuf[16384];
};

/* ---- address tables (linear probing; Knuth 6.4 algorithm R for deletion) ---- */


static struct host *host_get(struct id_engine *e, uint32_t ip, int create)
{
	uint32_t i = pps_ip_hash(ip) & e->host_mask;

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

static void host_del(struct id_engine *e, struct host *h)
{
	uint32_t i = (uint32_t)(h - e->hosts), j = i;

	e->hosts[i].used = 0;
	for (;;) {
		uint32_t k;

		j = (j + 1) & e->host_mask;
		if (!e->hosts[j].used)
			return;
		k = pps_ip_hash(e->hosts[j].ip_h) & e->host_mask;
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		e->hosts[i] = e->hosts[j];
		e->hosts[j].used = 0;
		i = j;
	}
}

/* ---- queues and timeout lists ---- */

static void ready_push(struct id_engine *e, struct endpoint *ep, int front)
{
	ep->next = NULL;
	if (!e->ready_head) {
		e->ready_head = e->ready_tail = ep;
	} else if (front) {
		ep->next = e->ready_head;
		e->ready_head = ep;
	} else {
		e->ready_tail->next = ep;
		e->ready_tail = ep;
	}
}

static void tlist_del(struct id_engine *e, struct id_conn *c)
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

static void tlist_set(struct id_engine *e, struct id_conn *c, int l, uint64_t now)
{
	struct tlist *t = &e->lists[l];

	tlist_del(e, c);
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

/* ---- the module API (id_module.h) ---- */

const char *id_alpn(const struct id_conn *c)
{
	static char buf[64];
	const unsigned char *p = NULL;
	unsigned len = 0;

	if (!c->ssl)
		return NULL;
	SSL_get0_alpn_selected(c->ssl, &p, &len);
	if (!p || !len || len >= sizeof(buf))
		return NULL;
	memcpy(buf, p, len);
	buf[len] = 0;
	return buf;
}

uint16_t id_port(const struct id_conn *c)
{
	return c->ep->t.port_h;
}

const char *id_ip(const struct id_conn *c)
{
	static char ip[16];

	pps_format_ipv4(c->ep->t.ip_h, ip);
	return ip;
}

const char *id_host_name(const struct id_conn *c)
{
	return c->e->cfg->sni ? c->e->cfg->sni : id_ip(c);
}

int id_fingerprint(struct id_conn *c, const uint8_t *b, size_t n)
{
	return c->mod ? id_fingerprint_as(c, c->mod->name, b, n) : 0;
}

int id_fingerprint_as(struct id_conn *c, const char *proto, const uint8_t *b, size_t n)
{
	struct pps_fp_match m;
	json_t *o;

	if (pps_fp_match(c->e->fp, proto, b, n, &m) != 1)
		return 0;
	if (m.product[0])
		snprintf(c->product, sizeof(c->product), "%s", m.product);
	if (m.version[0])
		snprintf(c->version, sizeof(c->version), "%s", m.version);
	c->fp_soft = m.soft;
	o = id_obj(c);
	for (unsigned i = 0; o && i < m.n_fields; i++)
		json_object_set_new(o, m.fields[i].name, json_string(m.fields[i].value));
	return 1;
}

/* ---- records ---- */

static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)((b - a + 500) / 1000) / 1e3 : 0.0;
}

static void hs_entry(struct id_conn *c, const char *name, const char *result, uint64_t now)
{
	json_t *h = json_object();

	if (!h)
		return;
	if (c->prober && c->mod && c->prober != c->mod) {
		/* another module recognised the reply to this handshake's request */
		json_object_set_new(h, "name", json_string(c->prober->name));
		json_object_set_new(h, "named_by", json_string(name));
	} else {
		json_object_set_new(h, "name", json_string(name));
	}
	json_object_set_new(h, "result", json_string(result));
	json_object_set_new(h, "tls", json_boolean(c->in_tls));
	json_object_set_new(h, "bytes", json_integer((json_int_t)c->rx_total));
	json_object_set_new(h, "ms", json_real(ms_between(c->t_hs ? c->t_hs : c->t_start, now)));
	json_array_append_new(c->ep->handshakes, h);
}

/* Moves the current module's findings to the endpoint as its result (@conf 1 soft, 2 match). */
static void take_result(struct id_conn *c, int conf)
{
	struct endpoint *ep = c->ep;

	if (conf <= ep->confidence) {
		json_decref(c->obj);
		c->obj = NULL;
		return;
	}
	ep->confidence = conf;
	snprintf(ep->protocol, sizeof(ep->protocol), "%s",
		 c->protocol[0] ? c->protocol : c->mod->name);
	snprintf(ep->obj_name, sizeof(ep->obj_name), "%s", c->mod->name);
	snprintf(ep->product, sizeof(ep->product), "%s", c->product);
	snprintf(ep->version, sizeof(ep->version), "%s", c->version);
	json_decref(ep->obj);
	ep->obj = c->obj;
	c->obj = NULL;
}

static void reset_findings(struct id_conn *c)
{
	json_decref(c->obj);
	c->obj = NULL;
	c->protocol[0] = c->product[0] = c->version[0] = 0;
	c->fp_soft = 0;
}

static json_t *build_record(struct id_engine *e, struct endpoint *ep)
{
	json_t *rec = json_object();
	char ip[16], hex[2 * TLS_BANNER_MAX + 1], ts[40];
	uint32_t seen = pps_hostcount_get(&e->seen, ep->t.ip_h);
	int middlebox;

	if (!rec)
		return NULL;
	pps_format_ipv4(ep->t.ip_h, ip);
	json_object_set_new(rec, "ip", json_string(ip));
	json_object_set_new(rec, "port", json_integer(ep->t.port_h));
	json_object_set_new(rec, "status",
			    json_string(ep->status == ID_O_MATCH ? "open"
								 : id_outcome_name(ep->status)));
	json_object_set_new(rec, "protocol", json_string(ep->protocol));
	json_object_set_new(rec, "product",
			    ep->product[0] ? json_string(ep->product) : json_null());
	json_object_set_new(rec, "version",
			    ep->version[0] ? json_string(ep->version) : json_null());
	json_object_set_new(rec, "confidence",
			    ep->confidence == 2	  ? json_string("match")
			    : ep->confidence == 1 ? json_string("soft")
						  : json_null());
	if (ep->tls && e->cfg->versions) {
		json_t *v = json_object();

		for (int i = 0; i < N_VERSIONS; i++)
			json_object_set_new(v, version_name[i],
					    ep->ver[i] < 0 ? json_null()
							   : json_boolean(ep->ver[i]));
		json_object_set_new(ep->tls, "versions", v);
	}
	if (ep->tls) {
		json_object_set_new(rec, "tls", ep->tls);
		json_object_set_new(rec, "tls_mode", json_string(ep->tls_mode));
		ep->tls = NULL;
	}
	if (ep->obj && ep->obj_name[0]) {
		json_object_set_new(rec, ep->obj_name, ep->obj);
		ep->obj = NULL;
	}
	json_object_set_new(rec, "handshakes", ep->handshakes);
	ep->handshakes = NULL;
	tls_hex(ep->first, ep->n_first, hex);
	json_object_set_new(rec, "first_bytes", ep->n_first ? json_string(hex) : json_null());
	if (ep->t.scan_class[0]) { /* what the scanner's --banners saw first */
		json_t *sc = json_object();

		json_object_set_new(sc, "classification", json_string(ep->t.scan_class));
		json_object_set_new(sc, "protocol", ep->t.scan_protocol[0]
							    ? json_string(ep->t.scan_protocol)
							    : json_null());
		json_object_set_new(rec, "scan", sc);
	}
	json_object_set_new(rec, "connect_ms",
			    ep->connect_ms >= 0 ? json_real(ep->connect_ms) : json_null());
	json_object_set_new(rec, "total_ms",
			    json_real(ms_between(ep->t_admit, pps_monotonic_ns())));
	middlebox = pps_middlebox(seen, e->probed_ports, e->cfg->middlebox_ports);
	json_object_set_new(rec, "middlebox", json_boolean(middlebox));
	if (middlebox)
		e->st.middlebox++;
	pps_output_format_timestamp(pps_realtime_ns(), ts, sizeof(ts));
	json_object_set_new(rec, "ts", json_string(ts));
	return rec;
}

static void emit(struct id_engine *e, struct endpoint *ep)
{
	json_t *rec;

	if (!ep->protocol[0]) {
		if (ep->status != ID_O_MATCH)
			ep->outcome = ep->status;
		else if (ep->got_bytes)
			ep->outcome = ID_O_UNKNOWN;
		else
			ep->outcome = ID_O_NO_SERVICE;
		snprintf(ep->protocol, sizeof(ep->protocol), "%s",
			 ep->outcome == ID_O_NO_SERVICE ? "no_service" : "unknown");
	} else {
		if (ep->tls_base && !ep->confidence)
			ep->confidence = 2;
		ep->outcome = ep->confidence == 2 ? ID_O_MATCH : ID_O_SOFT;
	}
	e->st.by_outcome[ep->outcome]++;
	rec = build_record(e, ep);
	if (!rec)
		e->cb_error = -ENOMEM;
	if (rec && !e->cb_error) {
		int rc = e->record(e->ctx_cb, &ep->t, rec);

		if (!rc && e->in->done)
			rc = e->in->done(e->in, &ep->t);
		if (rc)
			e->cb_error = rc;
	}
	e->st.endpoints++;
	json_decref(rec);
	json_decref(ep->handshakes);
	json_decref(ep->obj);
	json_decref(ep->tls);
	ep->handshakes = ep->obj = ep->tls = NULL;
	ep->next = e->free_eps;
	e->free_eps = ep;
	e->live--;
}

/* ---- connections ---- */

static void set_events(struct id_engine *e, struct id_conn *c, uint32_t ev)
{
	struct epoll_event ee = { .events = ev, .data.ptr = c };

	if (c->fd >= 0 && c->events != ev && epoll_ctl(e->ep, EPOLL_CTL_MOD, c->fd, &ee) == 0)
		c->events = ev;
}

/* Closes @c (abortive: no TIME_WAIT) and frees its slot; the endpoint goes on with @more. */
static void conn_close(struct id_engine *e, struct id_conn *c, int more)
{
	struct endpoint *ep = c->ep;
	struct host *h;

	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
		c->fd = -1;
	}
	reset_findings(c);
	tlist_del(e, c);
	c->state = C_FREE;
	c->ep = NULL;
	c->next_free = e->free_conns;
	e->free_conns = c;
	e->active--;
	h = host_get(e, ep->t.ip_h, 0);
	if (h) {
		h->active--;
		if (h->wait_head) {
			struct endpoint *w = h->wait_head;

			h->wait_head = w->next;
			if (!h->wait_head)
				h->wait_tail = NULL;
			ready_push(e, w, 1);
		} else if (!h->active) {
			host_del(e, h);
		}
	}
	if (more && !ep->done && ep->n_hs < (int)e->cfg->max_handshakes &&
	    ep->next_mod < ep->n_order)
		ready_push(e, ep, 1); /* the next handshake, ahead of new endpoints */
	else if (e->cfg->versions && ep->tls && ep->ver_next < N_VERSIONS &&
		 !strcmp(ep->tls_mode, "implicit"))
		ready_push(e, ep, 1); /* TLS was spoken: one handshake per protocol version */
	else
		emit(e, ep);
}

/* The endpoint is identified (or given up on): close without further handshakes. */
static void conn_done(struct id_engine *e, struct id_conn *c)
{
	c->ep->done = 1;
	conn_close(e, c, 0);
}

/* Sends queued module bytes (through TLS when it is established) and OpenSSL's output. */
static int flush_out(struct id_engine *e, struct id_conn *c)
{
	if (c->tx_n > c->tx_off && c->in_tls) {
		int w = SSL_write(c->ssl, c->tx + c->tx_off, (int)(c->tx_n - c->tx_off));

		if (w > 0)
			c->tx_off += (size_t)w;
	}
	for (;;) {
		const uint8_t *p;
		size_t n;
		char *bp = NULL;
		ssize_t s;

		if (c->ssl && BIO_ctrl_pending(c->wbio) > 0) {
			n = (size_t)BIO_get_mem_data(c->wbio, &bp);
			p = (const uint8_t *)bp;
		} else if (!c->ssl && c->tx_n > c->tx_off) {
			p = c->tx + c->tx_off;
			n = c->tx_n - c->tx_off;
		} else {
			break;
		}
		s = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (s > 0) {
			if (c->ssl)
				(void)BIO_read(c->wbio, e->iobuf,
					       (int)((size_t)s < sizeof(e->iobuf)
							     ? (size_t)s
							     : sizeof(e->iobuf)));
			else
				c->tx_off += (size_t)s;
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
	if (c->tx_off >= c->tx_n)
		c->tx_n = c->tx_off = 0;
	set_events(e, c, EPOLLIN);
	return 0;
}

static int is_claim(int v)
{
	return v == ID_MATCH || v == ID_SOFT || v == ID_CLAIM || v == ID_STARTTLS;
}

/* Calls @m's on_readable with its state @st in phase @phase. */
static int call_module(struct id_conn *c, const struct id_module *m, void *st, int phase)
{
	const struct id_module *saved = c->mod;
	size_t tx_n = c->tx_n;
	int v;

	c->mod = m;
	c->mphase = phase;
	v = m->on_readable(c, st, c->rx, c->rx_n);
	if (v < ID_NO || v > ID_STARTTLS)
		v = ID_NO; /* a module bug must not confuse the engine */
	if (!(v == ID_CLAIM ||
	      (v == ID_MORE && (phase == ID_PHASE_PROBE || phase == ID_PHASE_DIALOGUE))))
		c->tx_n = tx_n; /* bytes queued with a verdict that may not send */
	if (!is_claim(v) && phase != ID_PHASE_PROBE && phase != ID_PHASE_DIALOGUE)
		c->mod = saved;
	return v;
}

static void tls_begin(struct id_engine *e, struct id_conn *c, int starttls);

/*
 * Offers the buffer to every module with @flags but @skip, each with zeroed scratch state.
 * Returns the first claim's verdict (c->mod and c->st set), ID_MORE if some module may still
 * claim, ID_NO if none can.
 */
static int offer(struct id_engine *e, struct id_conn *c, unsigned flags, int phase,
		 const struct id_module *skip)
{
	int more = 0;

	for (size_t i = 0; i < e->n_mods; i++) {
		const struct id_module *m = e->mods[i];
		int v;

		if (m == skip || !(m->flags & flags) || ((m->flags & ID_F_TLS) && c->in_tls))
			continue;
		if (c->in_tls ? !(m->flags & ID_F_INNER) : !!(m->flags & ID_F_NO_OUTER))
			continue;
		memset(c->scratch, 0, m->state_size);
		reset_findings(c);
		v = call_module(c, m, c->scratch, phase);
		if (is_claim(v)) {
			c->mod = m;
			memcpy(c->st, c->scratch, m->state_size);
			return v;
		}
		reset_findings(c);
		if (v == ID_MORE)
			more = 1;
	}
	return more ? ID_MORE : ID_NO;
}

static void start_probe(struct id_engine *e, struct id_conn *c);

/*
 * A soft result another module's request brought (the module recognised a reply to someone
 * else's request, REACT): its own handshake is the one that can confirm it, so it goes next
 * instead of waiting behind modules of higher weight (memcached's "ERROR" to an HTTP request
 * on an unexpected port was never followed by memcached's own "version").
 */
static void promote(struct id_engine *e, struct endpoint *ep, const struct id_module *m)
{
	for (int i = ep->next_mod; i < ep->n_order; i++)
		if (e->mods[ep->order[i]] == m) {
			uint8_t t = ep->order[i];

			memmove(ep->order + ep->next_mod + 1, ep->order + ep->next_mod,
				(size_t)(i - ep->next_mod));
			ep->order[ep->next_mod] = t;
			return;
		}
}

/* Acts on a claim verdict @v of c->mod. */
static void apply(struct id_engine *e, struct id_conn *c, int v, uint64_t now)
{
	const char *name = c->mod->name;

	switch (v) {
	case ID_CLAIM:
		c->state = C_PROBE;
		c->mphase = ID_PHASE_DIALOGUE;
		c->probe_refused = 0;
		tlist_set(e, c, L_HANDSHAKE, now);
		if (c->ended) {
			v = ID_MATCH;
			break;
		}
		if (flush_out(e, c) < 0)
			c->eof = 1;
		return;
	case ID_STARTTLS:
		hs_entry(c, name, "starttls", now);
		c->rx_n = 0;
		tls_begin(e, c, 1);
		return;
	default: break;
	}
	if (c->mod->record)
		c->mod->record(c, c->st);
	if (c->fp_soft && v == ID_MATCH && !c->in_tls)
		v = ID_SOFT;
	hs_entry(c, name, v == ID_SOFT ? "soft" : "match", now);
	take_result(c, v == ID_SOFT ? 1 : 2);
	if (v == ID_MATCH || c->mphase == ID_PHASE_GREETING || c->in_tls) {
		conn_done(e, c);
	} else {
		if (c->prober && c->prober != c->mod)
			promote(e, c->ep, c->mod);
		conn_close(e, c, 1); /* a soft result: try the next handshakes for a match */
	}
}

/* The outcome of a handshake without a claim: records it, moves on. */
static void handshake_failed(struct id_engine *e, struct id_conn *c, uint64_t now)
{
	const char *why = c->rx_total		      ? "no"
			  : c->rx_errno == ECONNRESET ? "reset"
			  : c->eof		      ? "closed"
						      : "silent";
	const char *name = c->state == C_GREETING ? "greeting" : c->mod ? c->mod->name : "connect";

	if (c->state == C_GREETING && c->rx_total)
		why = "unknown";
	hs_entry(c, name, why, now);
	if (c->in_tls) {
		/* the inner protocol is not known: the endpoint is TLS */
		conn_done(e, c);
		return;
	}
	if (c->state == C_GREETING && c->rx_total) {
		conn_done(e, c); /* a greeting nobody knows: "unknown", with its first bytes */
		return;
	}
	conn_close(e, c, 1);
}

/* New bytes in c->rx (or the end of the connection): the modules judge. */
static void deliver(struct id_engine *e, struct id_conn *c)
{
	uint64_t now = pps_monotonic_ns();
	int v;

	if (c->state == C_GREETING) {
		if (!c->rx_n && !c->ended)
			return;
		v = c->rx_n ? offer(e, c, ID_F_GREETING, ID_PHASE_GREETING, NULL) : ID_NO;
		if (is_claim(v)) {
			apply(e, c, v, now);
			return;
		}
		if (v == ID_MORE && !c->ended)
			return;
		if (!c->rx_total && c->ended && !c->eof) {
			/* the window passed in silence: the first client-first handshake here */
			hs_entry(c, "greeting", "silent", now);
			c->ended = 0;
			if (!c->in_tls)
				c->ep->silent_greeting = 1;
			start_probe(e, c);
			return;
		}
		handshake_failed(e, c, now);
		return;
	}
	if (c->state != C_PROBE)
		return;
	if (!c->probe_refused) {
		v = call_module(c, c->mod, c->st,
				c->mphase == ID_PHASE_DIALOGUE ? ID_PHASE_DIALOGUE
							       : ID_PHASE_PROBE);
		if (is_claim(v)) {
			if (v == ID_CLAIM)
				c->mphase = ID_PHASE_DIALOGUE;
			apply(e, c, v, now);
			return;
		}
		if (c->mphase == ID_PHASE_DIALOGUE && (v == ID_NO || c->ended)) {
			/* the claim stands: the module said it is its protocol */
			apply(e, c, ID_MATCH, now);
			return;
		}
		if (v == ID_MORE && !c->ended) {
			if (flush_out(e, c) < 0)
				c->eof = 1;
			return;
		}
		c->probe_refused = 1;
		reset_findings(c);
	}
	if (c->rx_n) {
		const struct id_module *prober = c->mod;

		v = offer(e, c, ID_F_REACT | ID_F_GREETING, ID_PHASE_REACT, prober);
		if (is_claim(v)) {
			c->prober = prober;
			if (v == ID_CLAIM)
				c->mphase = ID_PHASE_DIALOGUE;
			apply(e, c, v, now);
			return;
		}
		c->mod = prober;
		if (v == ID_MORE && !c->ended)
			return;
	} else if (!c->ended) {
		return;
	}
	handshake_failed(e, c, now);
}

/* ---- TLS ---- */

static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long err = ERR_peek_last_error();
	const char *r = err ? ERR_reason_error_string(err) : NULL;

	snprintf(buf, len, "%s", r ? r : "handshake failed");
	return buf;
}

/* A --versions probe ended: accepted (1), refused (0) or not known (-1). */
static void version_done(struct id_engine *e, struct id_conn *c, int result)
{
	int v = c->ver_probe - 1;

	c->ep->ver[v] = (int8_t)(result == 1 ? SSL_version(c->ssl) == version_proto[v] : result);
	conn_close(e, c, 1);
}

static void tls_established(struct id_engine *e, struct id_conn *c, uint64_t now)
{
	struct endpoint *ep = c->ep;
	json_t *t;

	if (c->ver_probe) {
		version_done(e, c, 1);
		return;
	}
	t = json_object();

	e->st.tls_handshakes++;
	if (t) {
		json_object_set_new(t, "classification", json_string("tls"));
		json_object_set_new(t, "sni", e->cfg->sni ? json_string(e->cfg->sni) : json_null());
		json_object_set_new(t, "handshake_ms", json_real(ms_between(c->t_tls, now)));
		if (tls_record_session(t, c->ssl, c->verify_first, e->cfg->sni)) {
			json_decref(t);
			t = NULL;
		}
	}
	json_decref(ep->tls);
	ep->tls = t;
	ep->tls_mode = c->tls_starttls ? "starttls" : "implicit";
	c->in_tls = 1;
	if (c->tls_starttls) {
		/* the module that asked for TLS names the endpoint */
		if (c->mod->record)
			c->mod->record(c, c->st);
		take_result(c, 2);
		conn_done(e, c);
		return;
	}
	/* implicit TLS: the TLS module matched; now the protocol inside */
	hs_entry(c, "tls", "match", now);
	reset_findings(c);
	c->mod = e->mods[e->mod_tls];
	snprintf(c->protocol, sizeof(c->protocol), "tls");
	take_result(c, 2);
	ep->confidence = 0; /* any inner result replaces "tls" */
	ep->tls_base = 1;
	ep->obj_name[0] = 0;
	c->state = C_GREETING;
	c->ended = 0;
	c->rx_n = 0;
	c->rx_total = 0;
	c->t_hs = now;
	c->probe_refused = 0;
	tlist_set(e, c, L_GREETING, now);
	/* ALPN named the protocol inside: h2 (whose preface, a SETTINGS frame, comes unasked) or
	 * http/1.1 are client-first, there is no greeting to wait for */
	if (id_alpn(c) && (!strcmp(id_alpn(c), "h2") || !strcmp(id_alpn(c), "http/1.1")))
		start_probe(e, c);
}

/* The TLS handshake failed: an alert (TLS spoken) or plaintext (offered to the modules). */
static void tls_failed(struct id_engine *e, struct id_conn *c, const char *why, uint64_t now)
{
	struct endpoint *ep = c->ep;
	int plaintext = c->rx_total && !tls_looks_like_tls(c->rx, c->rx_n < 3 ? c->rx_n : 3);

	if (c->ver_probe) {
		/* an alert or a close: refused; a timeout or other bytes: not known */
		version_done(e, c, (c->rx_total && !plaintext) || c->eof ? 0 : -1);
		return;
	}
	if (c->tls_starttls) {
		json_t *t = json_object();

		json_object_set_new(t, "classification", json_string("tls_error"));
		json_object_set_new(t, "error", json_string(why));
		json_decref(ep->tls);
		ep->tls = t;
		ep->tls_mode = "starttls";
		if (c->mod->record)
			c->mod->record(c, c->st);
		take_result(c, 2);
		conn_done(e, c);
		return;
	}
	if (c->rx_total && !plaintext) {
		json_t *t = json_object();

		json_object_set_new(t, "classification", json_string("tls_error"));
		json_object_set_new(t, "error", json_string(why));
		json_decref(ep->tls);
		ep->tls = t;
		ep->tls_mode = "implicit";
		hs_entry(c, "tls", "match", now);
		reset_findings(c);
		snprintf(c->protocol, sizeof(c->protocol), "tls");
		take_result(c, 2);
		conn_done(e, c);
		return;
	}
	/* not TLS: what the server said instead goes to the modules (a reply to our hello) */
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->state = C_PROBE;
	c->mphase = ID_PHASE_PROBE;
	c->probe_refused = 1;
	deliver(e, c);
}

static void tls_step(struct id_engine *e, struct id_conn *c)
{
	uint64_t now = pps_monotonic_ns();
	char msg[160];
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (flush_out(e, c) < 0 && r != 1) {
		c->ended = 1;
		tls_failed(e, c,
			   c->rx_total ? "connection closed during the handshake"
				       : "connection closed by the server",
			   now);
		return;
	}
	if (r == 1) {
		tls_established(e, c, now);
		return;
	}
	err = SSL_get_error(c->ssl, r);
	if (err == SSL_ERROR_WANT_READ) {
		if (c->eof) {
			c->ended = 1;
			tls_failed(e, c,
				   c->rx_total ? "connection closed during the handshake"
					       : "connection closed by the server",
				   now);
		}
		return;
	}
	c->ended = 1;
	tls_failed(e, c, ssl_reason(msg, sizeof(msg)), now);
}

static void tls_begin(struct id_engine *e, struct id_conn *c, int starttls)
{
	uint64_t now = pps_monotonic_ns();
	char msg[160];

	c->state = C_TLS;
	c->tls_starttls = starttls;
	c->t_tls = now;
	c->verify_first = 0;
	c->tx_n = c->tx_off = 0;
	c->rx_n = 0;
	if (!starttls)
		c->rx_total = 0;
	tlist_set(e, c, L_HANDSHAKE, now);
	c->ssl = SSL_new(c->ver_probe ? e->ctx_ver[c->ver_probe - 1] : e->ctx);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		SSL_free(c->ssl);
		c->ssl = NULL;
		e->cb_error = -ENOMEM;
		conn_done(e, c);
		return;
	}
	BIO_set_mem_eof_return(c->rbio, -1);
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	tls_verify_attach(c->ssl, &c->verify_first);
	SSL_set_connect_state(c->ssl);
	if (e->cfg->sni && !SSL_set_tlsext_host_name(c->ssl, e->cfg->sni)) {
		c->ended = 1;
		tls_failed(e, c, ssl_reason(msg, sizeof(msg)), now);
		return;
	}
	tls_step(e, c);
}

/* ---- the order of work ---- */

/* Starts the next client-first handshake of the endpoint on @c (connected, silent so far). */
static void start_probe(struct id_engine *e, struct id_conn *c)
{
	struct endpoint *ep = c->ep;
	uint64_t now = pps_monotonic_ns();

	c->state = C_PROBE;
	c->probe_refused = 0;
	c->t_hs = now;
	c->rx_n = 0;
	reset_findings(c);
	tlist_set(e, c, L_HANDSHAKE, now);
	if (c->in_tls) {
		/* one handshake inside TLS: HTTP/2 if ALPN chose it, else the likeliest inner */
		const struct id_module *m = NULL;
		const char *alpn = id_alpn(c);

		if (alpn && !strcmp(alpn, "h2") && e->mod_http2 >= 0)
			m = e->mods[e->mod_http2];
		for (size_t i = 0; !(alpn && m) && i < e->n_mods; i++)
			if ((e->mods[i]->flags & (ID_F_PROBE | ID_F_INNER)) ==
				    (ID_F_PROBE | ID_F_INNER) &&
			    (!m || e->mods[i]->weight > m->weight))
				m = e->mods[i];
		if (!m) {
			conn_done(e, c);
			return;
		}
		c->mod = m;
		c->mphase = ID_PHASE_PROBE;
		memset(c->st, 0, m->state_size);
		if (m->start(c, c->st) != ID_MORE) {
			conn_done(e, c);
			return;
		}
		e->st.handshakes++;
		if (flush_out(e, c) < 0)
			c->eof = 1;
		return;
	}
	while (ep->next_mod < ep->n_order && ep->n_hs < (int)e->cfg->max_handshakes) {
		const struct id_module *m = e->mods[ep->order[ep->next_mod++]];

		c->mod = m;
		c->mphase = ID_PHASE_PROBE;
		memset(c->st, 0, m->state_size);
		if (m->flags & ID_F_TLS) {
			ep->n_hs++;
			e->st.handshakes++;
			tls_begin(e, c, 0);
			return;
		}
		if (m->start(c, c->st) != ID_MORE) {
			c->tx_n = 0;
			continue; /* this module cannot probe here: not counted */
		}
		ep->n_hs++;
		e->st.handshakes++;
		if (flush_out(e, c) < 0)
			c->eof = 1;
		return;
	}
	conn_done(e, c);
}

static int connect_outcome(int err)
{
	switch (err) {
	case ECONNREFUSED: return ID_O_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH: return ID_O_UNREACHABLE;
	case ETIMEDOUT: return ID_O_TIMEOUT;
	default: return ID_O_ERROR;
	}
}

/* The connection could not be made. */
static void connect_failed(struct id_engine *e, struct id_conn *c, int outcome)
{
	struct endpoint *ep = c->ep;

	if (ep->n_conns == 1) {
		ep->status = outcome;
		conn_done(e, c);
		return;
	}
	hs_entry(c, "connect",
		 outcome == ID_O_REFUSED   ? "refused"
		 : outcome == ID_O_TIMEOUT ? "timeout"
					   : "error",
		 pps_monotonic_ns());
	conn_done(e, c);
}

static void on_connected(struct id_engine *e, struct id_conn *c)
{
	struct endpoint *ep = c->ep;
	uint64_t now = pps_monotonic_ns();

	c->t_connected = now;
	c->t_hs = now;
	if (ep->n_conns == 1) {
		ep->connect_ms = ms_between(c->t_start, now);
		ep->status = ID_O_MATCH;
		c->state = C_GREETING;
		tlist_set(e, c, L_GREETING, now);
		set_events(e, c, EPOLLIN);
		if (!strcmp(ep->t.scan_class, "no_data")) {
			/* the scanner waited a cooldown after its ACK: no greeting comes */
			hs_entry(c, "greeting", "silent", now);
			ep->silent_greeting = 1;
			start_probe(e, c);
		}
		return;
	}
	set_events(e, c, EPOLLIN);
	if (ep->done || ep->n_hs >= (int)e->cfg->max_handshakes || ep->next_mod >= ep->n_order) {
		/* only --versions probes are left */
		c->ver_probe = 1 + ep->ver_next++;
		tls_begin(e, c, 0);
		return;
	}
	start_probe(e, c);
}

/* Decrypts what OpenSSL holds into the modules' buffer (beyond ID_RX_MAX: dropped, counted). */
static void tls_drain(struct id_engine *e, struct id_conn *c)
{
	{
		for (;;) {
			int r;

			if (c->rx_n >= ID_RX_MAX) {
				int d = SSL_read(c->ssl, e->iobuf, sizeof(e->iobuf));

				if (d > 0) {
					e->st.rx_dropped += (unsigned long long)d;
					continue;
				}
				break;
			}
			ERR_clear_error();
			r = SSL_read(c->ssl, c->rx + c->rx_n, (int)(ID_RX_MAX - c->rx_n));
			if (r > 0) {
				c->rx_n += (size_t)r;
				c->rx_total += (uint64_t)r;
				continue;
			}
			if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ)
				c->eof = 1; /* close_notify or a TLS error: the end */
			break;
		}
		flush_out(e, c); /* post-handshake messages (key updates) */
	}
}

/* Reads what the socket has into c->rx (through TLS when established). */
static void read_socket(struct id_engine *e, struct id_conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, e->iobuf, sizeof(e->iobuf), 0);

		if (n > 0) {
			struct endpoint *ep = c->ep;

			if (!c->ssl) {
				size_t room = ID_RX_MAX - c->rx_n, take = (size_t)n;

				if (ep->n_first < e->cfg->banner_bytes) {
					size_t f = e->cfg->banner_bytes - ep->n_first;

					f = f < take ? f : take;
					memcpy(ep->first + ep->n_first, e->iobuf, f);
					ep->n_first += (unsigned)f;
				}
				if (take > room) {
					e->st.rx_dropped += take - room;
					take = room;
				}
				memcpy(c->rx + c->rx_n, e->iobuf, take);
				c->rx_n += take;
			} else {
				if (!c->in_tls && ep->n_first < e->cfg->banner_bytes) {
					size_t f = e->cfg->banner_bytes - ep->n_first;

					f = f < (size_t)n ? f : (size_t)n;
					memcpy(ep->first + ep->n_first, e->iobuf, f);
					ep->n_first += (unsigned)f;
				}
				/* the first ciphertext bytes too, so plaintext replies can be judged */
				if (!c->in_tls && c->rx_n < ID_RX_MAX) {
					size_t take = ID_RX_MAX - c->rx_n;

					take = take < (size_t)n ? take : (size_t)n;
					memcpy(c->rx + c->rx_n, e->iobuf, take);
					c->rx_n += take;
				}
				BIO_write(c->rbio, e->iobuf, (int)n);
			}
			ep->got_bytes = 1;
			if (!c->ssl || !c->in_tls)
				c->rx_total += (uint64_t)n;
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
	if (c->ssl && c->in_tls)
		tls_drain(e, c);
	if (c->rx_n >= ID_RX_MAX && c->state != C_TLS)
		c->ended = 1; /* a full buffer: the modules' last look */
}

static void on_event(struct id_engine *e, struct id_conn *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		if (err)
			connect_failed(e, c, connect_outcome(err));
		else if (ev & EPOLLOUT)
			on_connected(e, c);
		return;
	}
	if (ev & EPOLLOUT) {
		if (flush_out(e, c) == 0 && c->tx_n == 0 && c->mod && c->mod->on_writable &&
		    c->state == C_PROBE) {
			int v;

			c->mphase = c->mphase == ID_PHASE_DIALOGUE ? ID_PHASE_DIALOGUE
								   : ID_PHASE_PROBE;
			v = c->mod->on_writable(c, c->st);
			if (is_claim(v)) {
				apply(e, c, v, pps_monotonic_ns());
				return;
			}
			flush_out(e, c);
		}
	}
	if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !c->eof)
		return;
	read_socket(e, c);
	if (c->state == C_TLS) {
		if (c->eof && !c->rx_total && !c->tls_starttls) {
			c->ended = 1;
			tls_failed(e, c, "connection closed by the server", pps_monotonic_ns());
			return;
		}
		tls_step(e, c);
		if (c->state != C_GREETING || !c->in_tls)
			return;
		tls_drain(e, c); /* application data that came with the handshake */
		if (c->rx_n >= ID_RX_MAX)
			c->ended = 1;
		if (!c->rx_n && !c->eof)
			return;
	}
	if (c->eof)
		c->ended = 1;
	deliver(e, c);
}

/* Opens a connection for the endpoint's next step. */
static void start_conn(struct id_engine *e, struct endpoint *ep, uint64_t now)
{
	struct id_conn *c = e->free_conns;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ee;
	int one = 1, rc;
	uint8_t *rx = c->rx, *tx = c->tx;

	e->free_conns = c->next_free;
	e->active++;
	e->st.connections++;
	memset(c, 0, offsetof(struct id_conn, st));
	c->obj = NULL;
	c->protocol[0] = c->product[0] = c->version[0] = 0;
	c->fp_soft = 0;
	c->ssl = NULL;
	c->in_tls = c->tls_starttls = 0;
	c->rx = rx;
	c->tx = tx;
	c->e = e;
	c->ep = ep;
	c->list = -1;
	c->t_start = now;
	c->state = C_CONNECTING;
	ep->n_conns++;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		connect_failed(e, c, ID_O_ERROR);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(ep->t.ip_h);
	sa.sin_port = htons(ep->t.port_h);
	rc = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno != EINPROGRESS) {
		connect_failed(e, c, connect_outcome(errno));
		return;
	}
	ee.events = EPOLLOUT;
	ee.data.ptr = c;
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, c->fd, &ee)) {
		connect_failed(e, c, ID_O_ERROR);
		return;
	}
	c->events = ee.events;
	tlist_set(e, c, L_CONNECT, now);
}

static void start_ready(struct id_engine *e, uint64_t now)
{
	while (e->ready_head && e->free_conns) {
		struct endpoint *ep;
		struct host *h;

		if (e->pace_interval_ns && now < e->pace_next_ns)
			return;
		ep = e->ready_head;
		e->ready_head = ep->next;
		if (!e->ready_head)
			e->ready_tail = NULL;
		h = host_get(e, ep->t.ip_h, 1);
		if (e->cfg->per_host && h->active >= e->cfg->per_host) {
			ep->next = NULL;
			if (h->wait_tail)
				h->wait_tail->next = ep;
			else
				h->wait_head = ep;
			h->wait_tail = ep;
			continue;
		}
		h->active++;
		if (e->pace_interval_ns) {
			if (e->pace_next_ns + 10000000ull < now)
				e->pace_next_ns = now - 10000000ull;
			e->pace_next_ns += e->pace_interval_ns;
		}
		start_conn(e, ep, now);
	}
}

static void expire(struct id_engine *e, uint64_t now)
{
	for (int l = 0; l < N_LISTS; l++) {
		while (e->lists[l].head && e->lists[l].head->deadline <= now) {
			struct id_conn *c = e->lists[l].head;

			tlist_del(e, c);
			if (l == L_CONNECT) {
				connect_failed(e, c, ID_O_TIMEOUT);
				continue;
			}
			c->ended = 1;
			if (c->state == C_TLS) {
				tls_failed(e, c, "no TLS handshake within the timeout", now);
				continue;
			}
			deliver(e, c);
			/* deliver() moved it on (a new list) or closed it */
		}
	}
}

/* The client-first order of @ep: port hints first, then weight (stable by registry order). */
static void plan(struct id_engine *e, struct endpoint *ep)
{
	int n = 0;

	for (int pass = 0; pass < 2; pass++) {
		int start = n;

		for (size_t i = 0; i < e->n_mods && n < ORDER_MAX; i++) {
			const struct id_module *m = e->mods[i];
			int hint = 0;

			if (!(m->flags & ID_F_PROBE) || (m->flags & ID_F_NO_OUTER))
				continue;
			for (const uint16_t *p = m->ports; p && *p; p++)
				if (*p == ep->t.port_h)
					hint = 1;
			if (hint != (pass == 0))
				continue;
			ep->order[n++] = (uint8_t)i;
		}
		/* insertion sort by descending weight within the pass */
		for (int a = start + 1; a < n; a++)
			for (int b = a; b > start && e->mods[ep->order[b]]->weight >
							     e->mods[ep->order[b - 1]]->weight;
			     b--) {
				uint8_t t = ep->order[b];

				ep->order[b] = ep->order[b - 1];
				ep->order[b - 1] = t;
			}
	}
	ep->n_order = n;
	/* the protocol the scanner's first payload already named goes first (--banners) */
	for (size_t i = 0; ep->t.scan_protocol[0] && i < e->n_mods; i++)
		if (!strcmp(e->mods[i]->name, ep->t.scan_protocol))
			promote(e, ep, e->mods[i]);
}

static int admit(struct id_engine *e, const struct tls_target *t)
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
	pps_hostcount_add(&e->seen, t->ip_h);
	ep = e->free_eps;
	e->free_eps = ep->next;
	e->live++;
	{
		unsigned char *first = ep->first;

		memset(ep, 0, sizeof(*ep));
		ep->first = first;
	}
	ep->t = *t;
	ep->t_admit = pps_monotonic_ns();
	ep->connect_ms = -1;
	ep->status = ID_O_ERROR;
	memset(ep->ver, -1, sizeof(ep->ver));
	ep->handshakes = json_array();
	if (!ep->handshakes)
		return -ENOMEM;
	plan(e, ep);
	ready_push(e, ep, 0);
	return 0;
}

static int feed(struct id_engine *e, uint64_t now, int stopping)
{
	struct tls_target batch[READ_BATCH];

	while (!e->in_eof && !stopping && e->live < e->max_live) {
		int room = (int)(e->max_live - e->live), n, block = 0;

		if (e->in_fd >= 0 && !e->in_readable)
			return 0;
		if (e->in_fd < 0 && now < e->in_next_poll_ns)
			return 0;
		if (e->in_fd < 0 && e->live == 0)
			block = 500;
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
				e->in_next_poll_ns = now + 20000000ull;
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

static void next_wait(struct id_engine *e, uint64_t now, int stopping, struct timespec *ts)
{
	uint64_t until = now + PPS_NS_PER_S;

	for (int l = 0; l < N_LISTS; l++)
		if (e->lists[l].head && e->lists[l].head->deadline < until)
			until = e->lists[l].head->deadline;
	if (e->ready_head && e->free_conns && e->pace_interval_ns && e->pace_next_ns < until)
		until = e->pace_next_ns;
	if (e->ready_head && e->free_conns && !e->pace_interval_ns)
		until = now;
	if (!e->in_eof && !stopping && e->live < e->max_live && e->in_fd < 0 &&
	    e->in_next_poll_ns < until)
		until = e->in_next_poll_ns;
	if (until <= now) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
	} else {
		ts->tv_sec = (time_t)((until - now) / PPS_NS_PER_S);
		ts->tv_nsec = (long)((until - now) % PPS_NS_PER_S);
	}
}

static void abandon_all(struct id_engine *e)
{
	for (unsigned i = 0; e->conns && i < e->cfg->concurrency; i++) {
		struct id_conn *c = &e->conns[i];

		if (c->state == C_FREE)
			continue;
		SSL_free(c->ssl);
		c->ssl = NULL;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		json_decref(c->obj);
		c->obj = NULL;
		c->state = C_FREE;
	}
	for (unsigned i = 0; e->eps && i < e->max_live; i++) {
		json_decref(e->eps[i].handshakes);
		json_decref(e->eps[i].obj);
		json_decref(e->eps[i].tls);
		e->eps[i].handshakes = e->eps[i].obj = e->eps[i].tls = NULL;
	}
}

static int wait_events(struct id_engine *e, struct epoll_event *evs, const struct timespec *ts)
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

int id_engine_run(struct id_engine *e, struct tls_input *in, tls_record_fn record,
		  tls_flush_fn flush, void *ctx, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[MAX_EVENTS];
	int rc = 0;

	e->in = in;
	e->record = record;
	e->flush = flush;
	e->ctx_cb = ctx;
	e->t0 = pps_monotonic_ns();
	e->in_fd = in->fd(in);
	if (e->in_fd >= 0) {
		struct epoll_event ee = { .events = EPOLLIN | EPOLLET, .data.ptr = &e->in_tag };

		if (epoll_ctl(e->ep, EPOLL_CTL_ADD, e->in_fd, &ee))
			e->in_fd = -1;
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
			e->cb_error = e->flush(e->ctx_cb);
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
			struct id_conn *c = evs[i].data.ptr;

			if (evs[i].data.ptr == &e->in_tag) {
				e->in_readable = 1;
				continue;
			}
			if (c->state != C_FREE)
				on_event(e, c, evs[i].events);
		}
	}
	e->st.elapsed_s = (double)(pps_monotonic_ns() - e->t0) / 1e9;
	return rc;
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

struct id_engine *id_engine_new(const struct tls_config *cfg, char *why, size_t whylen)
{
	struct id_engine *e = calloc(1, sizeof(*e));
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg->concurrency + 64;

	if (!e) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	e->cfg = cfg;
	e->ep = -1;
	e->mods = id_modules(&e->n_mods);
	e->mod_tls = e->mod_http2 = -1;
	for (size_t i = 0; i < e->n_mods; i++) {
		if (e->mods[i]->flags & ID_F_TLS)
			e->mod_tls = (int)i;
		if (!strcmp(e->mods[i]->name, "http2"))
			e->mod_http2 = (int)i;
		if (e->mods[i]->state_size > ID_STATE_MAX) {
			snprintf(why, whylen, "module %s: state_size %zu > %d", e->mods[i]->name,
				 e->mods[i]->state_size, ID_STATE_MAX);
			goto fail;
		}
	}
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
	e->fp = pps_fp_db_new();
	if (!e->fp) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < id_builtin_fingerprints_n; i++)
		if (pps_fp_db_load(e->fp, id_builtin_fingerprints[i].name,
				   id_builtin_fingerprints[i].text, id_builtin_fingerprints[i].len,
				   why, whylen))
			goto fail;
	if (cfg->fingerprints_dir && pps_fp_db_load_dir(e->fp, cfg->fingerprints_dir, why, whylen))
		goto fail;
	e->ctx = tls_client_ctx(cfg, 0, why, whylen);
	if (!e->ctx)
		goto fail;
	for (int v = 0; cfg->versions && v < N_VERSIONS; v++)
		if (!(e->ctx_ver[v] = tls_client_ctx(cfg, version_proto[v], why, whylen)))
			goto fail;
	e->conns = calloc(cfg->concurrency, sizeof(*e->conns));
	/* reserved, not touched: pages are used only as far as servers fill the buffers */
	e->bufs = malloc((size_t)cfg->concurrency * (ID_RX_MAX + ID_TX_MAX));
	e->max_live = cfg->concurrency * 2 + 64;
	e->eps = calloc(e->max_live, sizeof(*e->eps));
	e->firsts = malloc((size_t)e->max_live * cfg->banner_bytes);
	e->host_mask = pow2_at_least((uint64_t)e->max_live * 2) - 1;
	e->hosts = calloc((size_t)e->host_mask + 1, sizeof(*e->hosts));
	if (!e->conns || !e->bufs || !e->eps || !e->firsts || !e->hosts ||
	    pps_hostcount_init(&e->seen)) {
		snprintf(why, whylen, "out of memory for %u connections", cfg->concurrency);
		goto fail;
	}
	for (unsigned i = cfg->concurrency; i-- > 0;) {
		struct id_conn *c = &e->conns[i];

		c->fd = -1;
		c->list = -1;
		c->rx = e->bufs + (size_t)i * (ID_RX_MAX + ID_TX_MAX);
		c->tx = c->rx + ID_RX_MAX;
		c->next_free = e->free_conns;
		e->free_conns = c;
	}
	for (unsigned i = e->max_live; i-- > 0;) {
		e->eps[i].first = e->firsts + (size_t)i * cfg->banner_bytes;
		e->eps[i].next = e->free_eps;
		e->free_eps = &e->eps[i];
	}
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	if (e->ep < 0) {
		snprintf(why, whylen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	e->list_limit_ns[L_CONNECT] = (uint64_t)(cfg->connect_timeout_s * 1e9);
	e->list_limit_ns[L_GREETING] = (uint64_t)(cfg->greeting_wait_s * 1e9);
	e->list_limit_ns[L_HANDSHAKE] = (uint64_t)(cfg->timeout_s * 1e9);
	e->pace_interval_ns = cfg->rate > 0 ? (uint64_t)(1e9 / cfg->rate) : 0;
	return e;
fail:
	id_engine_free(e);
	return NULL;
}

void id_engine_set_probed_ports(struct id_engine *e, unsigned n)
{
	e->probed_ports = n;
}

void id_engine_stats(const struct id_engine *e, struct id_stats *out)
{
	*out = e->st;
}

void id_engine_free(struct id_engine *e)
{
	if (!e)
		return;
	abandon_all(e);
	if (e->ep >= 0)
		close(e->ep);
	SSL_CTX_free(e->ctx);
	for (int v = 0; v < N_VERSIONS; v++)
		SSL_CTX_free(e->ctx_ver[v]);
	pps_fp_db_free(e->fp);
	free(e->conns);
	free(e->bufs);
	free(e->eps);
	free(e->firsts);
	free(e->hosts);
	pps_hostcount_free(&e->seen);
	free(e);
}

int id_judge(const struct id_module *m, int phase, uint16_t port, struct pps_fp_db *fp,
	     const uint8_t *d, size_t n, int ended, json_t **obj, char *product, char *version)
{
	static struct tls_config cfg;
	struct id_engine *e = calloc(1, sizeof(*e));
	struct endpoint *ep = calloc(1, sizeof(*ep));
	struct id_conn *c = calloc(1, sizeof(*c));
	int v = -ENOMEM;

	if (obj)
		*obj = NULL;
	if (!e || !ep || !c)
		goto out;
	e->cfg = &cfg;
	e->fp = fp;
	ep->t.ip_h = 0xc6120001u; /* 198.18.0.1 */
	ep->t.port_h = port;
	c->e = e;
	c->ep = ep;
	c->fd = -1;
	c->mod = m;
	c->mphase = phase;
	c->ended = ended;
	c->rx = malloc(ID_RX_MAX + ID_TX_MAX);
	if (!c->rx)
		goto out;
	c->tx = c->rx + ID_RX_MAX;
	c->rx_n = n < ID_RX_MAX ? n : ID_RX_MAX;
	memcpy(c->rx, d, c->rx_n);
	v = m->on_readable(c, c->st, c->rx, c->rx_n);
	if (is_claim(v) && m->record)
		m->record(c, c->st);
	if (obj) {
		*obj = c->obj;
		c->obj = NULL;
	}
	if (product)
		snprintf(product, 128, "%s", c->product);
	if (version)
		snprintf(version, 128, "%s", c->version);
	json_decref(c->obj);
	free(c->rx);
out:
	free(c);
	free(ep);
	free(e);
	return v;
}
