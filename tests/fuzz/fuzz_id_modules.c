/*
 * fuzz_id_modules.c - libFuzzer target for every protocol module of ppscan-id (id/mod_*.c,
 * all of id_registry.c's list): each input is what a hostile server sends, cut into the
 * segments the fuzzer chose, and goes through one module the way id_module.h says the engine
 * drives it: a greeting, a reply to the module's own request, a reply to another module's
 * request, in the clear or inside TLS, then the end of the connection.
 *
 * The module host here is the contract of id_module.h and nothing more: the engine's own
 * struct id_conn (id_conn.h) and accessors (id_conn.c), a receive buffer of
 * at most ID_RX_MAX bytes (what arrives beyond is dropped, as the engine does), id_consume,
 * a send queue of ID_TX_MAX bytes, the state zeroed as the contract says (before start(),
 * and before every GREETING and REACT call), and the real fingerprint database
 * (data/fingerprints, core/fingerprint.c). Every call gets an exact-size heap copy of the
 * buffer and the state is a heap block of exactly state_size bytes, so AddressSanitizer
 * catches any read past @n or write past the state. Checked after every call: the verdict is
 * an enum id_verdict; after record(): the per-protocol object and the record's product,
 * version and protocol serialise as JSON (valid UTF-8, no control bytes in product and
 * version, a lowercase protocol name), which is what ppscan-id writes for every endpoint.
 *
 * Input: byte 0 picks the module (index mod count; 0xff: every module in turn, which the
 * seeds use so that one seed serves modules added later), byte 1 the drive:
 *   bits 0-1  0 greeting, 1 reply to the module's request (start() first), 2 reply to
 *             another module's request (REACT), 3 greeting then, on ID_NO, start() and a
 *             reply on a second connection (the engine's silent-server path)
 *   bit 2     inside TLS (id_in_tls() 1); bit 3: ALPN "h2" selected
 * then segments: a length byte L (0 = the whole rest) and L bytes, delivered one at a time.
 *
 * Built with fuzz_regress.c instead of libFuzzer's main, it replays tests/fuzz/corpus_id/ and
 * tests/fuzz/regress_id/ as a unit test.
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "fuzz_check.h"
#include "id_conn.h"
#include "id_module.h"

#ifndef PPS_FP_DIR
#error "PPS_FP_DIR (the data/fingerprints directory) must be defined by the build"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the fuzzer's stand-ins for what the engine takes from the endpoint and the TLS session */
static const char *fz_alpn;

static struct pps_fp_db *fp_db;

/* ---- the module API of id_module.h, as the contract states it ---- */

const char *id_alpn(const struct id_conn *c)
{
	return c->in_tls ? fz_alpn : NULL;
}

uint16_t id_port(const struct id_conn *c)
{
	(void)c;
	return 9999;
}

const char *id_ip(const struct id_conn *c)
{
	(void)c;
	return "198.18.0.1";
}

const char *id_host_name(const struct id_conn *c)
{
	return id_ip(c);
}

int id_fingerprint(struct id_conn *c, const uint8_t *b, size_t n)
{
	return id_fingerprint_as(c, c->mod->name, b, n);
}

int id_fingerprint_as(struct id_conn *c, const char *proto, const uint8_t *b, size_t n)
{
	struct pps_fp_match m;

	if (pps_fp_match(fp_db, proto, b, n, &m) != 1)
		return 0;
	id_set_product(c, m.product[0] ? m.product : NULL, m.version[0] ? m.version : NULL);
	for (unsigned i = 0; i < m.n_fields && id_obj(c); i++)
		json_object_set_new(c->obj, m.fields[i].name, json_string(m.fields[i].value));
	return 1;
}

/* ---- the drive ---- */

static const struct id_module *const *mods;
static size_t n_mods;

static void init_once(void)
{
	char why[512];

	if (mods)
		return;
	fp_db = pps_fp_db_new();
	CHECK(fp_db != NULL);
	CHECK(pps_fp_db_load_dir(fp_db, PPS_FP_DIR, why, sizeof(why)) == 0);
	mods = id_modules(&n_mods);
	CHECK(n_mods > 0);
	/* what the registry promises about every module */
	for (size_t i = 0; i < n_mods; i++) {
		const struct id_module *m = mods[i];
		size_t p = 0;

		CHECK(m->name && fuzz_name_ok(m->name, 0) && strlen(m->name) < PPS_FP_NAME_MAX);
		CHECK(m->summary && m->on_readable);
		CHECK(m->state_size <= ID_STATE_MAX);
		CHECK(!(m->flags & ID_F_PROBE) || (m->flags & ID_F_TLS) || m->start);
		CHECK(m->weight >= 1 && m->weight <= 1000);
		while (m->ports && m->ports[p])
			CHECK(++p < 1024);
		CHECK(id_module_find(m->name) == m);
	}
}

struct drive {
	const uint8_t *in, *end; /* segments still to deliver */
};

/* The next segment, appended to the receive buffer (dropped beyond ID_RX_MAX). 0 at the end. */
static int next_segment(struct id_conn *c, struct drive *d)
{
	size_t l;

	if (d->in >= d->end)
		return 0;
	l = *d->in++;
	if (!l || l > (size_t)(d->end - d->in))
		l = (size_t)(d->end - d->in);
	if (l > ID_RX_MAX - c->rx_n)
		memcpy(c->rx + c->rx_n, d->in, ID_RX_MAX - c->rx_n), c->rx_n = ID_RX_MAX;
	else
		memcpy(c->rx + c->rx_n, d->in, l), c->rx_n += l;
	d->in += l;
	return 1;
}

/* One on_readable() call on an exact-size copy of the buffer. */
static int readable(struct id_conn *c, void *st)
{
	uint8_t *copy = malloc(c->rx_n ? c->rx_n : 1);
	int v;

	CHECK(copy != NULL);
	memcpy(copy, c->rx, c->rx_n);
	if (c->mphase == ID_PHASE_GREETING || c->mphase == ID_PHASE_REACT)
		memset(st, 0, c->mod->state_size);
	v = c->mod->on_readable(c, st, copy, c->rx_n);
	free(copy);
	CHECK(v >= ID_NO && v <= ID_STARTTLS);
	return v;
}

static void record(struct id_conn *c, void *st)
{
	char *s;

	if (c->mod->record)
		c->mod->record(c, st);
	CHECK(fuzz_text_ok(c->product) && fuzz_text_ok(c->version));
	CHECK(!c->protocol[0] || fuzz_name_ok(c->protocol, 0));
	if (c->obj) {
		s = json_dumps(c->obj, JSON_COMPACT);
		CHECK(s != NULL);
		free(s);
	}
}

/* After a verdict that may have queued bytes: "sends" them, then on_writable(). */
static int sent(struct id_conn *c, void *st, int v)
{
	if (v != ID_CLAIM &&
	    !(v == ID_MORE && (c->mphase == ID_PHASE_PROBE || c->mphase == ID_PHASE_DIALOGUE))) {
		c->tx_n = 0; /* discarded, as the contract says */
		return v;
	}
	if (!c->tx_n)
		return v;
	c->tx_n = 0;
	if (c->mod->on_writable) {
		int w = c->mod->on_writable(c, st);

		CHECK(w >= ID_NO && w <= ID_STARTTLS);
		if (w != ID_MORE)
			return w;
	}
	return v;
}

/*
 * One connection's dialogue in @phase. Returns the final verdict: ID_NO (no record),
 * anything else has ended with record().
 */
static int converse(struct id_conn *c, void *st, int phase, struct drive *d)
{
	int v = ID_MORE, claimed = 0;

	c->mphase = phase;
	c->ended = 0;
	c->rx_n = 0;
	c->tx_n = 0;
	if (phase == ID_PHASE_PROBE) {
		memset(st, 0, c->mod->state_size);
		v = c->mod->start(c, st);
		CHECK(v == ID_MORE || v == ID_NO);
		if (v == ID_NO)
			return ID_NO;
		CHECK(c->tx_n <= ID_TX_MAX);
		v = sent(c, st, v);
	}
	for (;;) {
		if (v == ID_CLAIM) {
			claimed = 1;
			c->mphase = ID_PHASE_DIALOGUE;
		} else if (v == ID_STARTTLS) {
			/* the engine runs the TLS handshake here; the module then records */
			c->in_tls = 1;
			c->rx_n = 0;
			record(c, st);
			return v;
		} else if (v == ID_MATCH || v == ID_SOFT) {
			record(c, st);
			return v;
		} else if (v == ID_NO) {
			return ID_NO;
		}
		if (!next_segment(c, d))
			break;
		v = sent(c, st, readable(c, st));
	}
	/* the end: FIN, RST or the time is up; one more call with id_ended() true */
	c->ended = 1;
	v = readable(c, st);
	if (v == ID_MATCH || v == ID_SOFT || v == ID_STARTTLS || v == ID_CLAIM || claimed) {
		record(c, st);
		return v == ID_NO || v == ID_MORE ? ID_CLAIM : v;
	}
	return ID_NO;
}

static void one_module(const struct id_module *m, const uint8_t *data, size_t size)
{
	struct id_conn *c;
	struct drive d;
	void *st;
	int mode, v;

	mode = data[1] & 3;
	c = calloc(1, sizeof(*c));
	st = malloc(m->state_size ? m->state_size : 1);
	CHECK(c && st);
	c->rx = malloc(ID_RX_MAX); /* the engine's buffer sizes, exact, for AddressSanitizer */
	c->tx = malloc(ID_TX_MAX);
	CHECK(c->rx && c->tx);
	c->mod = m;
	c->in_tls = !!(data[1] & 4);
	fz_alpn = data[1] & 8 ? "h2" : NULL;
	if (c->in_tls && !(m->flags & (ID_F_INNER | ID_F_NO_OUTER)))
		c->in_tls = 0; /* the engine tries only inner modules inside TLS */
	if (!c->in_tls && (m->flags & ID_F_NO_OUTER))
		c->in_tls = 1;
	d.in = data + 2;
	d.end = data + size;

	switch (mode) {
	case 0:
	case 3:
		if (!(m->flags & ID_F_GREETING))
			break;
		v = converse(c, st, ID_PHASE_GREETING, &d);
		if (mode == 3 && v == ID_NO && m->start) {
			json_decref(c->obj);
			c->obj = NULL;
			converse(c, st, ID_PHASE_PROBE, &d);
		}
		break;
	case 1:
		if (m->start) /* the TLS module's request is the engine's ClientHello */
			converse(c, st, ID_PHASE_PROBE, &d);
		break;
	case 2:
		if (m->flags & (ID_F_REACT | ID_F_GREETING))
			converse(c, st, ID_PHASE_REACT, &d);
		break;
	}
	json_decref(c->obj);
	free(c->rx);
	free(c->tx);
	free(st);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	init_once();
	if (data[0] == 0xff)
		for (size_t i = 0; i < n_mods; i++)
			one_module(mods[i], data, size);
	else
		one_module(mods[data[0] % n_mods], data, size);
	return 0;
}
