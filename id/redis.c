/*
 * Redis for ppscan-tls and ppscan-id. The connection is core's (output/pps_redis_conn.h:
 * hiredis non-blocking, a deadline on every command); key schema of issue 4, shared with ppscan:
 *   {prefix}:{scan}:results  stream, XADD fields ip, port, status (open|closed), ttl, ts
 *   {prefix}:{scan}:meta     hash, field state (running|done|interrupted)
 *   {prefix}:{scan}:tls      stream written by ppscan-tls, fields ip, port, json
 *   {prefix}:{scan}:services stream written by ppscan-id, fields ip, port, protocol, json
 * Writes (XADD, XACK) are pipelined: appended, sent and their replies read by
 * tls_redis_flush(); every synchronous command flushes first, so replies never interleave.
 * Reading: XREADGROUP with a consumer group. A restarted consumer first re-reads its own
 * pending entries (id "0", then after the last one seen) and then new ones (">"); entries are
 * XACKed only after their record is written, so nothing is lost (at least once).
 * End of a followed scan: state was done or interrupted *before* a read that came back empty.
 * ppscan sets the state after its last XADD, so an empty read after that means drained.
 */
#include "tls_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/pps_redis_conn.h"
#include "output/pps_redis_url.h"
#include "pps_clock.h"
#include "tls_config.h"
#include "pps_targets.h"

#define KEY_MAX 320

#define CALL_TIMEOUT_S 10.0 /* a command's reply (an XREADGROUP BLOCK: its block time more) */

struct tls_redis {
	struct pps_redis_conn k;
	char results_key[KEY_MAX];
	char meta_key[KEY_MAX];
	char tls_key[KEY_MAX];
	unsigned queued; /* appended commands whose replies are not read yet */
};

struct redis_input {
	struct tls_input in;
	struct tls_redis *r;
	const char *group;
	const char *consumer;
	double follow_timeout_s;
	int history;	      /* still re-reading this consumer's pending entries */
	char last_id[40];     /* history position */
	double last_entry_at; /* monotonic seconds of the last entry read (or of the start) */
};

struct tls_redis *tls_redis_open(const char *url, const char *prefix, const char *scan,
				 const char *out, char *why, size_t whylen)
{
	struct tls_redis *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(r->results_key, KEY_MAX, "%s:%s:results", prefix, scan);
	snprintf(r->meta_key, KEY_MAX, "%s:%s:meta", prefix, scan);
	snprintf(r->tls_key, KEY_MAX, "%s:%s:%s", prefix, scan, out);
	if (pps_redis_conn_init(&r->k, url) || pps_redis_conn_connect(&r->k, 5.0)) {
		snprintf(why, whylen, "%s", r->k.err);
		pps_redis_conn_close(&r->k);
		free(r);
		return NULL;
	}
	return r;
}

/* Sends what is appended and reads the replies of every queued command (within 10 s). */
static int drain(struct tls_redis *r)
{
	double deadline = pps_monotonic_s() + CALL_TIMEOUT_S;
	redisContext *c = r->k.c;
	int done = 0, rc = 0;

	while (!done) {
		if (redisBufferWrite(c, &done) != REDIS_OK)
			goto io;
		if (!done && pps_redis_wait_fd(c->fd, POLLOUT, deadline) <= 0)
			goto timeout;
	}
	while (r->queued) {
		void *rep = NULL;

		if (redisGetReplyFromReader(c, &rep) != REDIS_OK)
			goto io;
		if (rep) {
			redisReply *x = rep;

			r->queued--;
			if (x->type == REDIS_REPLY_ERROR && rc == 0) {
				fprintf(stderr, "%s: Redis: %s\n", tls_prog_name, x->str);
				rc = -EIO;
			}
			freeReplyObject(x);
			continue;
		}
		if (pps_redis_wait_fd(c->fd, POLLIN, deadline) <= 0)
			goto timeout;
		if (redisBufferRead(c) != REDIS_OK)
			goto io;
	}
	return rc;
io:
	fprintf(stderr, "%s: Redis: %s\n", tls_prog_name, c->errstr[0] ? c->errstr : "I/O error");
	return -EIO;
timeout:
	fprintf(stderr, "%s: Redis: no reply within %.0f s\n", tls_prog_name, CALL_TIMEOUT_S);
	return -EIO;
}

/* One synchronous command (a NULL-terminated list), after the queued ones. NULL: r->k.err. */
static redisReply *call(struct tls_redis *r, double timeout_s, const char *const *args)
{
	if (r->queued && drain(r)) {
		snprintf(r->k.err, sizeof(r->k.err), "a queued command failed");
		return NULL;
	}
	return pps_redis_callv(&r->k, timeout_s, args);
}

static int append(struct tls_redis *r, const char *const *args)
{
	const char *argv[16];
	size_t lens[16];
	int n = 0;

	while (args[n] && n < 16) {
		argv[n] = args[n];
		lens[n] = strlen(args[n]);
		n++;
	}
	if (redisAppendCommandArgv(r->k.c, n, argv, lens) != REDIS_OK)
		return -ENOMEM;
	r->queued++;
	return 0;
}

int tls_redis_flush(struct tls_redis *r)
{
	return r->queued ? drain(r) : 0;
}

int tls_redis_put(struct tls_redis *r, uint32_t ip_h, uint16_t port_h, const char *protocol,
		  const char *json)
{
	char ip[16], port[8];
	const char *with[] = { "XADD", r->tls_key, "*",	     "ip",   ip,   "port",
			       port,   "protocol", protocol, "json", json, NULL };
	const char *without[] = { "XADD", r->tls_key, "*",    "ip", ip,
				  "port", port,	      "json", json, NULL };

	pps_format_ipv4(ip_h, ip);
	snprintf(port, sizeof(port), "%u", port_h);
	return append(r, protocol ? with : without);
}

static int ack(struct redis_input *ri, const char *id)
{
	const char *args[] = { "XACK", ri->r->results_key, ri->group, id, NULL };

	return append(ri->r, args);
}

static int redis_done(struct tls_input *in, const struct tls_target *t)
{
	return t->id[0] ? ack((struct redis_input *)in, t->id) : 0;
}

static int redis_fd(struct tls_input *in)
{
	(void)in;
	return -1;
}

static const char *field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; kv && kv->type == REDIS_REPLY_ARRAY && i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(kv->element[i]->str, name) &&
		    kv->element[i + 1]->type == REDIS_REPLY_STRING)
			return kv->element[i + 1]->str;
	return NULL;
}

/*
 * Turns one XREADGROUP reply ([[key, [[id, [f, v, ...]], ...]]] or nil) into targets.
 * Entries that are not open ports are acknowledged at once. Returns targets stored; *n_entries
 * gets the number of entries seen.
 */
static int take_entries(struct redis_input *ri, const redisReply *rep, struct tls_target *out,
			int max, int *n_entries)
{
	const redisReply *entries;
	int n = 0;

	*n_entries = 0;
	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1)
		return 0;
	if (rep->element[0]->type != REDIS_REPLY_ARRAY || rep->element[0]->elements < 2)
		return 0;
	entries = rep->element[0]->element[1];
	if (entries->type != REDIS_REPLY_ARRAY)
		return 0;
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		const char *id, *ip, *port, *status, *cls;
		struct tls_target *t = &out[n];
		char *end;
		long pv;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		id = e->element[0]->str;
		snprintf(ri->last_id, sizeof(ri->last_id), "%s", id);
		(*n_entries)++;
		ip = field(e->element[1], "ip");
		port = field(e->element[1], "port");
		status = field(e->element[1], "status");
		pv = port ? strtol(port, &end, 10) : 0;
		if (!ip || !port || *end || pv < 1 || pv > 65535 || pps_parse_ipv4(ip, &t->ip_h)) {
			if (ri->in.skipped++ < 10)
				fprintf(stderr,
					"%s: %s entry %s: no valid ip and port; acknowledged and skipped\n",
					tls_prog_name, ri->r->results_key, id);
			ack(ri, id);
			continue;
		}
		t->port_h = (uint16_t)pv;
		cls = field(e->element[1], "classification");
		switch (tls_scan_entry(cls ? cls : status, field(e->element[1], "protocol"), t)) {
		case TLS_SCAN_USE: break;
		case TLS_SCAN_AWAIT:
			ri->in.awaited++;
			ack(ri, id);
			continue;
		default:
			ri->in.not_open++;
			ack(ri, id);
			continue;
		}
		snprintf(t->id, sizeof(t->id), "%s", id);
		if (++n == max)
			break; /* COUNT was max, so this is the last one anyway */
	}
	return n;
}

static int redis_read(struct tls_input *in, struct tls_target *out, int max, int block_ms)
{
	struct redis_input *ri = (struct redis_input *)in;
	struct tls_redis *r = ri->r;
	redisReply *state = NULL, *rep = NULL;
	int n, n_entries, done_before = 0, rc;
	char count[16], block[16];

	if ((rc = tls_redis_flush(r)))
		return rc;
	if (max > 1000)
		max = 1000;
	snprintf(count, sizeof(count), "%d", max);
	snprintf(block, sizeof(block), "%d", block_ms);
	if (ri->history) {
		const char *args[] = { "XREADGROUP", "GROUP", ri->group, ri->consumer,
				       "COUNT",	     count,   "STREAMS", r->results_key,
				       ri->last_id,  NULL };

		rep = call(r, CALL_TIMEOUT_S, args);
		if (!rep || rep->type == REDIS_REPLY_ERROR)
			goto fail;
		n = take_entries(ri, rep, out, max, &n_entries);
		freeReplyObject(rep);
		rep = NULL;
		if (n_entries == 0)
			ri->history = 0; /* this consumer's backlog is done: new entries from now */
		else
			ri->last_entry_at = pps_monotonic_s();
		if (n || n_entries)
			return n;
	}
	/* state first, then the read: "done" seen before an empty read means drained */
	{
		const char *hget[] = { "HGET", r->meta_key, "state", NULL };
		const char *blk[] = { "XREADGROUP", "GROUP",	    ri->group, ri->consumer,
				      "COUNT",	    count,	    "BLOCK",   block,
				      "STREAMS",    r->results_key, ">",       NULL };
		const char *now[] = { "XREADGROUP", "GROUP", ri->group, ri->consumer,
				      "COUNT",	    count,   "STREAMS", r->results_key,
				      ">",	    NULL };

		state = call(r, CALL_TIMEOUT_S, hget);
		if (!state || state->type == REDIS_REPLY_ERROR)
			goto fail;
		rep = call(r, CALL_TIMEOUT_S + block_ms / 1000.0, block_ms > 0 ? blk : now);
		if (!rep)
			goto fail;
	}
	if (state->type == REDIS_REPLY_STRING &&
	    (!strcmp(state->str, "done") || !strcmp(state->str, "interrupted")))
		done_before = 1;
	freeReplyObject(state);
	state = NULL;
	if (rep->type == REDIS_REPLY_ERROR)
		goto fail;
	n = take_entries(ri, rep, out, max, &n_entries);
	freeReplyObject(rep);
	if (n_entries) {
		ri->last_entry_at = pps_monotonic_s();
		return n;
	}
	if (done_before)
		return TLS_INPUT_EOF;
	if (ri->follow_timeout_s > 0 &&
	    pps_monotonic_s() - ri->last_entry_at >= ri->follow_timeout_s) {
		fprintf(stderr, "%s: no new entry in %s for %g s (--follow-timeout); stopping\n",
			tls_prog_name, r->results_key, ri->follow_timeout_s);
		return TLS_INPUT_EOF;
	}
	return 0;
fail:
	fprintf(stderr, "%s: Redis: reading %s: %s\n", tls_prog_name, r->results_key,
		rep && rep->type == REDIS_REPLY_ERROR	    ? rep->str
		: state && state->type == REDIS_REPLY_ERROR ? state->str
							    : r->k.err);
	freeReplyObject(state);
	freeReplyObject(rep);
	return -EIO;
}

static void redis_input_close(struct tls_input *in)
{
	struct redis_input *ri = (struct redis_input *)in;

	tls_redis_flush(ri->r);
	free(ri);
}

struct tls_input *tls_redis_input(struct tls_redis *r, const char *group, const char *consumer,
				  double follow_timeout_s, char *why, size_t whylen)
{
	struct redis_input *ri;
	redisReply *rep;

	const char *args[] = { "XGROUP", "CREATE", r->results_key, group, "0", "MKSTREAM", NULL };

	/* from id 0: entries written before this group existed are identified too */
	rep = call(r, CALL_TIMEOUT_S, args);
	if (!rep || (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9))) {
		snprintf(why, whylen, "XGROUP CREATE %s %s: %s", r->results_key, group,
			 rep ? rep->str : r->k.err);
		freeReplyObject(rep);
		return NULL;
	}
	freeReplyObject(rep);
	ri = calloc(1, sizeof(*ri));
	if (!ri) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	ri->r = r;
	ri->group = group;
	ri->consumer = consumer;
	ri->follow_timeout_s = follow_timeout_s;
	ri->history = 1;
	strcpy(ri->last_id, "0");
	ri->last_entry_at = pps_monotonic_s();
	ri->in.fd = redis_fd;
	ri->in.read = redis_read;
	ri->in.done = redis_done;
	ri->in.close = redis_input_close;
	return &ri->in;
}

void tls_redis_close(struct tls_redis *r)
{
	if (!r)
		return;
	tls_redis_flush(r);
	pps_redis_conn_close(&r->k);
	free(r);
}

unsigned tls_redis_probed_ports(struct tls_redis *r)
{
	const char *args[] = { "HGET", r->meta_key, "ports", NULL };
	redisReply *rep = call(r, CALL_TIMEOUT_S, args);
	unsigned n = 0;

	if (rep && rep->type == REDIS_REPLY_STRING)
		n = (unsigned)strtoul(rep->str, NULL, 10);
	freeReplyObject(rep);
	return n;
}
