/*
 * Redis for ppscan-tls (hiredis, synchronous). Key schema of issue 4, shared with ppscan:
 *   {prefix}:{scan}:results  stream, XADD fields ip, port, status (open|closed), ttl, ts
 *   {prefix}:{scan}:meta     hash, field state (running|done|interrupted)
 *   {prefix}:{scan}:tls      stream written here, fields ip, port, json
 * Reading: XREADGROUP with a consumer group. A restarted consumer first re-reads its own
 * pending entries (id "0", then after the last one seen) and then new ones (">"); entries are
 * XACKed only after their record is written, so nothing is lost (at least once).
 * End of a followed scan: state was done or interrupted *before* a read that came back empty.
 * ppscan sets the state after its last XADD, so an empty read after that means drained.
 */
#include "tls_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/pps_redis_url.h"
#include "tls_config.h"
#include "pps_targets.h"

#define KEY_MAX 320

struct tls_redis {
	redisContext *c;
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

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_timeout(redisContext *c, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	redisSetTimeout(c, tv);
}

struct tls_redis *tls_redis_open(const char *url, const char *prefix, const char *scan,
				 const char *out, char *why, size_t whylen)
{
	struct pps_redis_url u;
	struct timeval tv = { .tv_sec = 5 };
	struct tls_redis *r;
	redisReply *rep;

	if (pps_redis_url_parse(url, &u, why, whylen))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(r->results_key, KEY_MAX, "%s:%s:results", prefix, scan);
	snprintf(r->meta_key, KEY_MAX, "%s:%s:meta", prefix, scan);
	snprintf(r->tls_key, KEY_MAX, "%s:%s:%s", prefix, scan, out);
	r->c = u.is_unix ? redisConnectUnixWithTimeout(u.path, tv)
			 : redisConnectWithTimeout(u.host, u.port_h, tv);
	if (!r->c || r->c->err) {
		snprintf(why, whylen, "cannot connect: %s", r->c ? r->c->errstr : "out of memory");
		goto fail;
	}
	set_timeout(r->c, 10000);
	if (u.has_password) {
		rep = u.user[0] ? redisCommand(r->c, "AUTH %s %s", u.user, u.password)
				: redisCommand(r->c, "AUTH %s", u.password);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			snprintf(why, whylen, "AUTH failed: %s", rep ? rep->str : r->c->errstr);
			freeReplyObject(rep);
			goto fail;
		}
		freeReplyObject(rep);
	}
	rep = redisCommand(r->c, "SELECT %u", u.db);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "SELECT %u failed: %s", u.db, rep ? rep->str : r->c->errstr);
		freeReplyObject(rep);
		goto fail;
	}
	freeReplyObject(rep);
	return r;
fail:
	if (r->c)
		redisFree(r->c);
	free(r);
	return NULL;
}

int tls_redis_flush(struct tls_redis *r)
{
	int rc = 0;

	while (r->queued) {
		redisReply *rep = NULL;

		r->queued--;
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
			fprintf(stderr, "%s: Redis: %s\n", tls_prog_name, r->c->errstr);
			return -EIO;
		}
		if (rep->type == REDIS_REPLY_ERROR && rc == 0) {
			fprintf(stderr, "%s: Redis: %s\n", tls_prog_name, rep->str);
			rc = -EIO;
		}
		freeReplyObject(rep);
	}
	return rc;
}

int tls_redis_put(struct tls_redis *r, uint32_t ip_h, uint16_t port_h, const char *protocol,
		  const char *json)
{
	char ip[16], port[8];
	int rc;

	pps_format_ipv4(ip_h, ip);
	snprintf(port, sizeof(port), "%u", port_h);
	if (protocol)
		rc = redisAppendCommand(r->c, "XADD %s * ip %s port %s protocol %s json %s",
					r->tls_key, ip, port, protocol, json);
	else
		rc = redisAppendCommand(r->c, "XADD %s * ip %s port %s json %s", r->tls_key, ip,
					port, json);
	if (rc != REDIS_OK)
		return -ENOMEM;
	r->queued++;
	return 0;
}

static int ack(struct redis_input *ri, const char *id)
{
	if (redisAppendCommand(ri->r->c, "XACK %s %s %s", ri->r->results_key, ri->group, id) !=
	    REDIS_OK)
		return -ENOMEM;
	ri->r->queued++;
	return 0;
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
		const char *id, *ip, *port, *status;
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
		if (status && strcmp(status, "open")) {
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

	if ((rc = tls_redis_flush(r)))
		return rc;
	if (max > 1000)
		max = 1000;
	if (ri->history) {
		rep = redisCommand(r->c, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s %s", ri->group,
				   ri->consumer, max, r->results_key, ri->last_id);
		if (!rep || rep->type == REDIS_REPLY_ERROR)
			goto fail;
		n = take_entries(ri, rep, out, max, &n_entries);
		freeReplyObject(rep);
		if (n_entries == 0)
			ri->history = 0; /* this consumer's backlog is done: new entries from now */
		else
			ri->last_entry_at = mono_s();
		if (n || n_entries)
			return n;
	}
	/* state first, then the read: "done" seen before an empty read means drained */
	if (redisAppendCommand(r->c, "HGET %s state", r->meta_key) != REDIS_OK)
		return -ENOMEM;
	if (block_ms > 0) {
		set_timeout(r->c, block_ms + 10000);
		rc = redisAppendCommand(r->c,
					"XREADGROUP GROUP %s %s COUNT %d BLOCK %d STREAMS %s >",
					ri->group, ri->consumer, max, block_ms, r->results_key);
	} else {
		rc = redisAppendCommand(r->c, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s >",
					ri->group, ri->consumer, max, r->results_key);
	}
	if (rc != REDIS_OK)
		return -ENOMEM;
	if (redisGetReply(r->c, (void **)&state) != REDIS_OK ||
	    redisGetReply(r->c, (void **)&rep) != REDIS_OK)
		goto fail;
	if (block_ms > 0)
		set_timeout(r->c, 10000);
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
		ri->last_entry_at = mono_s();
		return n;
	}
	if (done_before)
		return TLS_INPUT_EOF;
	if (ri->follow_timeout_s > 0 && mono_s() - ri->last_entry_at >= ri->follow_timeout_s) {
		fprintf(stderr, "%s: no new entry in %s for %g s (--follow-timeout); stopping\n",
			tls_prog_name, r->results_key, ri->follow_timeout_s);
		return TLS_INPUT_EOF;
	}
	return 0;
fail:
	fprintf(stderr, "%s: Redis: reading %s: %s\n", tls_prog_name, r->results_key,
		rep && rep->type == REDIS_REPLY_ERROR	    ? rep->str
		: state && state->type == REDIS_REPLY_ERROR ? state->str
							    : r->c->errstr);
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

	/* from id 0: entries written before this group existed are identified too */
	rep = redisCommand(r->c, "XGROUP CREATE %s %s 0 MKSTREAM", r->results_key, group);
	if (!rep || (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9))) {
		snprintf(why, whylen, "XGROUP CREATE %s %s: %s", r->results_key, group,
			 rep ? rep->str : r->c->errstr);
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
	ri->last_entry_at = mono_s();
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
	redisFree(r->c);
	free(r);
}

unsigned tls_redis_probed_ports(struct tls_redis *r)
{
	redisReply *rep = redisCommand(r->c, "HGET %s ports", r->meta_key);
	unsigned n = 0;

	if (rep && rep->type == REDIS_REPLY_STRING)
		n = (unsigned)strtoul(rep->str, NULL, 10);
	freeReplyObject(rep);
	return n;
}
