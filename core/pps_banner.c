/*
 * The output side of --banners (pps_banner.h).
 */
#include "pps_banner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id_fingerprints.h"
#include "pps_result.h"
#include "pps_ring.h"
#include "probe/pps_probe.h"

struct pps_banner_out *pps_banner_new(size_t max, size_t extra_size, char *why, size_t whylen)
{
	struct pps_banner_out *b = calloc(1, sizeof(*b));

	if (!b || !(b->db = pps_fp_db_new()) ||
	    !(b->xbuf = calloc(max, extra_size ? extra_size : 1)) ||
	    !(b->ids = calloc(max, sizeof(*b->ids)))) {
		snprintf(why, whylen, "out of memory for --banners' output side");
		pps_banner_free(b);
		return NULL;
	}
	b->max = max;
	b->extra_size = extra_size;
	for (size_t i = 0; i < id_builtin_fingerprints_n; i++)
		if (pps_fp_db_load(b->db, id_builtin_fingerprints[i].name,
				   id_builtin_fingerprints[i].text, id_builtin_fingerprints[i].len,
				   why, whylen) < 0) {
			pps_banner_free(b);
			return NULL;
		}
	return b;
}

void pps_banner_free(struct pps_banner_out *b)
{
	if (!b)
		return;
	pps_fp_db_free(b->db);
	free(b->fifo);
	free(b->set);
	free(b->xbuf);
	free(b->ids);
	free(b);
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* A TLS record at @d: a ServerHello (version and suite) or an alert. 1 when it is TLS. */
static int tls_identify(const uint8_t *d, size_t n, struct pps_fp_match *m)
{
	size_t p, end, sid, ext_end;
	unsigned ver, suite;

	if (n < 5 || (d[0] != 0x16 && d[0] != 0x15) || d[1] != 3 || d[2] > 4)
		return 0;
	if (d[0] == 0x15) { /* alert (RFC 8446 6): level, description */
		if (be16(d + 3) != 2 || n < 7 || (d[5] != 1 && d[5] != 2))
			return 0;
		snprintf(m->protocol, sizeof(m->protocol), "tls");
		snprintf(m->version, sizeof(m->version), "alert %u", d[6]);
		return 1;
	}
	/* handshake: server_hello, its length, legacy_version, random, session id */
	if (n < 5 + 4 + 2 + 32 + 1 || d[5] != 2)
		return 0;
	end = 5 + (size_t)be16(d + 3);
	if (end > n)
		end = n; /* the first segment may hold only part of the record */
	ver = be16(d + 9);
	p = 5 + 4 + 2 + 32;
	sid = d[p];
	p += 1 + sid;
	if (p + 3 > end)
		return 0;
	suite = be16(d + p);
	p += 3; /* suite, compression */
	if (p + 2 <= end) {
		ext_end = p + 2 + be16(d + p);
		p += 2;
		if (ext_end > end)
			ext_end = end;
		while (p + 4 <= ext_end) {
			unsigned type = be16(d + p), len = be16(d + p + 2);

			if (type == 0x002b && len == 2 && p + 6 <= ext_end)
				ver = be16(d + p + 4); /* supported_versions: the chosen one */
			p += 4 + len;
		}
	}
	snprintf(m->protocol, sizeof(m->protocol), "tls");
	if (ver >= 0x0301 && ver <= 0x0304)
		snprintf(m->version, sizeof(m->version), "TLSv1.%u", ver - 0x0301);
	else
		snprintf(m->version, sizeof(m->version), "0x%04x", ver);
	snprintf(m->product, sizeof(m->product), "0x%04x", suite);
	return 1;
}

/*
 * An HTTP/2 server's connection preface (RFC 9113 3.4): a SETTINGS frame (type 0x4, flags 0,
 * stream 0, a length that is a multiple of 6, 6.5.1) is the first frame it sends, also when
 * our first payload was an HTTP/1.1 request (it then follows with a GOAWAY). 1 when it is one.
 */
static int http2_identify(const uint8_t *d, size_t n, struct pps_fp_match *m)
{
	size_t len;

	if (n < 9 || d[3] != 0x04 || d[4] != 0 || (d[5] | d[6] | d[7] | d[8]) != 0)
		return 0;
	len = (size_t)d[0] << 16 | (size_t)d[1] << 8 | d[2];
	if (len % 6 || len > 16384)
		return 0;
	snprintf(m->protocol, sizeof(m->protocol), "http2");
	return 1;
}

/*
 * The fingerprint files whose subject is a server's first bytes as they come (a greeting or
 * a reply line); the others (http, sip, rtsp, ipp: a header's value; x11: the vendor string;
 * xmpp: the stream features; irc: RPL_MYINFO's version) read a field a module cut out, so
 * running them on raw bytes would name noise.
 */
static const char *const raw_subject[] = { "ssh",  "ftp",   "smtp",  "pop3",	  "imap",
					   "nntp", "telnet", "rsync", "redis", "memcached",
					   "zookeeper" };

/*
 * The prefilter: the first bytes that each server-first or answered protocol starts with
 * (their specifications' greetings and replies), and the fingerprint files to try for them,
 * so most segments meet one file's expressions, not all of them.
 */
static const struct {
	const char *prefix;
	const char *protocols[2];
} prefilter[] = {
	{ "SSH-", { "ssh" } },	      /* RFC 4253 4.2 */
	{ "HTTP/", { "http" } },      /* RFC 9112 4 */
	{ "220", { "ftp", "smtp" } }, /* RFC 959 4.2, RFC 5321 4.2 */
	{ "120", { "ftp" } },	      { "421", { "ftp", "smtp" } },
	{ "554", { "smtp" } },	      { "+OK", { "pop3" } }, /* RFC 1939 4 */
	{ "* OK", { "imap" } },				     /* RFC 9051 7.1.1 */
	{ "* PREAUTH", { "imap" } },  { "* BYE", { "imap" } },
	{ "200 ", { "nntp" } },					/* RFC 3977 5.1 */
	{ "201 ", { "nntp" } },	      { "+PONG", { "redis" } }, /* RESP */
	{ "-ERR", { "redis" } },      { "-NOAUTH", { "redis" } },
	{ "-DENIED", { "redis" } },   { "VERSION ", { "memcached" } },
	{ "@RSYNCD:", { "rsync" } },  { "RTSP/", { "rtsp" } },
	{ "SIP/", { "sip" } },	      { "\xff", { "telnet" } }, /* RFC 854: IAC */
};

int pps_banner_identify(struct pps_fp_db *db, const uint8_t *data, size_t n, struct pps_fp_match *m)
{
	struct pps_fp_match soft;

	memset(m, 0, sizeof(*m));
	if (tls_identify(data, n, m) || http2_identify(data, n, m))
		return 1;
	for (size_t i = 0; i < sizeof(prefilter) / sizeof(prefilter[0]); i++) {
		const char *p = prefilter[i].prefix;
		size_t pl = strlen(p);

		int have_soft = 0;

		if (n < pl || memcmp(data, p, pl))
			continue;
		/* HTTP: the fingerprints read the Server header's value (RFC 9110 10.2.4) */
		if (!strcmp(prefilter[i].protocols[0], "http")) {
			const uint8_t *v = memmem(data, n, "\r\nServer:", 9), *e;

			memset(m, 0, sizeof(*m));
			if (v) {
				v += 9;
				while (v < data + n && (*v == ' ' || *v == '\t'))
					v++;
				e = memchr(v, '\r', (size_t)(data + n - v));
				if (pps_fp_match(db, "http", v, (size_t)((e ? e : data + n) - v),
						 m) != 1)
					memset(m, 0, sizeof(*m));
			}
			snprintf(m->protocol, sizeof(m->protocol), "http");
			return 1;
		}
		/* a firm match of any of its protocols first, then a soft one */
		for (int k = 0; k < 2 && prefilter[i].protocols[k]; k++) {
			if (pps_fp_match(db, prefilter[i].protocols[k], data, n, m) != 1)
				continue;
			if (!m->soft)
				return 1;
			if (!have_soft++)
				soft = *m;
		}
		if (have_soft) {
			*m = soft;
			return 1;
		}
		/* one protocol starts so: named even without a fingerprint; "220" (FTP or
		 * SMTP) is left unnamed rather than guessed */
		memset(m, 0, sizeof(*m));
		if (prefilter[i].protocols[1])
			return 0;
		snprintf(m->protocol, sizeof(m->protocol), "%s", prefilter[i].protocols[0]);
		return 1;
	}
	/* no known first bytes: the files that read raw first bytes, only firm matches */
	for (size_t i = 0; i < sizeof(raw_subject) / sizeof(raw_subject[0]); i++)
		if (pps_fp_match(db, raw_subject[i], data, n, m) == 1 && !m->soft)
			return 1;
	/* IRC servers greet with a NOTICE (RFC 2812 3.4.6), prefixed by their name or not */
	if (n > 8 && (!memcmp(data, "NOTICE ", 7) ||
		      (data[0] == ':' && memmem(data, n < 80 ? n : 80, " NOTICE ", 8)))) {
		memset(m, 0, sizeof(*m));
		snprintf(m->protocol, sizeof(m->protocol), "irc");
		return 1;
	}
	memset(m, 0, sizeof(*m));
	return 0;
}

void pps_banner_attach(struct pps_banner_out *b, struct pps_result *r, size_t n)
{
	for (size_t i = 0; i < n && i < b->max; i++) {
		if (r[i].probe != PPS_PROBE_TCP_SYNSCAN || r[i].classification != PPS_CLASS_DATA)
			continue;
		r[i].banner.data = r[i].extra ? b->xbuf + i * b->extra_size : NULL;
		r[i].banner.id = NULL;
		if (r[i].banner.data && pps_banner_identify(b->db, r[i].banner.data,
							    r[i].banner.data_len_h, &b->ids[i]))
			r[i].banner.id = &b->ids[i];
		if (r[i].banner.id)
			b->named++;
		else
			b->unnamed++;
	}
}

/* ---- the endpoints waiting for their first data ---- */

static uint64_t wait_key(uint32_t ip_h, uint16_t port_h)
{
	return ((uint64_t)ip_h << 16 | port_h) + 1; /* never 0: 0 marks an empty slot */
}

static size_t set_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

/* the slot holding @key, or the empty slot where it would go */
static size_t set_find(const struct pps_banner_out *b, uint64_t key)
{
	size_t i = set_slot(key, b->set_cap);

	while (b->set[i] && b->set[i] != key)
		i = (i + 1) & (b->set_cap - 1);
	return i;
}

static int set_has(const struct pps_banner_out *b, uint64_t key)
{
	return b->set_cap && b->set[set_find(b, key)] == key;
}

/* Removal with backward shift (Knuth, TAOCP vol. 3, 6.4 Algorithm R): no tombstones. */
static void set_del(struct pps_banner_out *b, uint64_t key)
{
	size_t i, j, k;

	if (!b->set_cap || b->set[i = set_find(b, key)] != key)
		return;
	b->set[i] = 0;
	b->set_n--;
	for (j = (i + 1) & (b->set_cap - 1); b->set[j]; j = (j + 1) & (b->set_cap - 1)) {
		k = set_slot(b->set[j], b->set_cap);
		/* move j's key into the hole unless its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		b->set[i] = b->set[j];
		b->set[j] = 0;
		i = j;
	}
}

/* room for one more wait: grow the FIFO and the set (load <= 1/2) up to the bound */
static int wait_room(struct pps_banner_out *b)
{
	size_t cap = b->fifo_cap ? b->fifo_cap * 2 : 4096;
	struct pps_banner_wait *f;
	uint64_t *set;

	if (b->fifo_n < b->fifo_cap)
		return 1;
	if (cap > PPS_BANNER_WAIT_MAX || !(f = malloc(cap * sizeof(*f))))
		return 0;
	if (!(set = calloc(cap * 2, sizeof(*set)))) {
		free(f);
		return 0;
	}
	for (size_t i = 0; i < b->fifo_n; i++)
		f[i] = b->fifo[(b->fifo_head + i) & (b->fifo_cap - 1)];
	for (size_t i = 0; i < b->set_cap; i++)
		if (b->set[i]) {
			size_t j = set_slot(b->set[i], cap * 2);

			while (set[j])
				j = (j + 1) & (cap * 2 - 1);
			set[j] = b->set[i];
		}
	free(b->fifo);
	free(b->set);
	b->fifo = f;
	b->fifo_cap = cap;
	b->fifo_head = 0;
	b->set = set;
	b->set_cap = cap * 2;
	return 1;
}

void pps_banner_track(struct pps_banner_out *b, const struct pps_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pps_result *x = &r[i];
		uint64_t key;
		size_t q;

		if (x->probe != PPS_PROBE_TCP_SYNSCAN || x->classification == PPS_CLASS_RST ||
		    x->classification == PPS_CLASS_NO_DATA)
			continue;
		key = wait_key(x->saddr_h, x->sport_h);
		if (x->classification != PPS_CLASS_SYNACK) { /* it answered */
			set_del(b, key);
			continue;
		}
		if (set_has(b, key))
			continue;
		if (!wait_room(b)) { /* at the bound or out of memory: not reset, counted */
			b->untracked++;
			continue;
		}
		q = (b->fifo_head + b->fifo_n++) & (b->fifo_cap - 1);
		b->fifo[q] = (struct pps_banner_wait){
			.deadline_ns = x->ts_ns + b->wait_ns,
			.saddr_h = x->saddr_h,
			.daddr_h = x->daddr_h,
			.sport_h = x->sport_h,
			.dport_h = x->dport_h,
			.ack_h = x->tcp.ack_h,
		};
		b->set[set_find(b, key)] = key;
		b->set_n++;
	}
}

size_t pps_banner_due(struct pps_banner_out *b, uint64_t now_ns, int all, struct pps_ring *resets,
		      uint32_t (*first_len)(const void *arg, uint16_t port_h), const void *arg,
		      struct pps_result *out, size_t max)
{
	size_t k = 0;

	while (b->fifo_n && k < max) {
		const struct pps_banner_wait *w = &b->fifo[b->fifo_head];
		uint64_t key = wait_key(w->saddr_h, w->sport_h);
		struct pps_result r;

		if (!all && w->deadline_ns > now_ns)
			break;
		if (set_has(b, key)) {
			memset(&r, 0, sizeof(r));
			r.saddr_h = w->saddr_h;
			r.daddr_h = w->daddr_h;
			r.sport_h = w->sport_h;
			r.dport_h = w->dport_h;
			r.probe = PPS_PROBE_TCP_SYNSCAN;
			r.classification = PPS_CLASS_NO_DATA;
			r.cooldown = 1;
			r.ts_ns = now_ns;
			r.tcp.ack_h = w->ack_h + first_len(arg, w->sport_h);
			r.tcp.flags = 0x04; /* what we send: RST */
			if (!pps_ring_push(resets, &r))
				break;
			set_del(b, key);
			out[k++] = r;
			b->no_data++;
		}
		b->fifo_head = (b->fifo_head + 1) & (b->fifo_cap - 1);
		b->fifo_n--;
	}
	return k;
}
