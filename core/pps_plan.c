/*
 * One scan across machines (pps_plan.h): the plan, the workers' claims, checkpoints and
 * acknowledgements, the status. Every call goes through pps_redis_conn.h with a deadline;
 * the coordination costs a handful of commands a second per worker, beside the results'
 * batches (bench/join.sh measures it).
 */
#include "pps_plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pps_clock.h"
#include "pps_config_opts.h"

#define PLAN_TIMEOUT_S 2.0 /* a command at start or at the end */
#define BEAT_TIMEOUT_S 0.2 /* a command while a shard runs */

static int keyf(char *buf, const char *prefix, const char *id, const char *what)
{
	int n = snprintf(buf, PPS_PLAN_KEY_MAX, "%s:%s:%s", prefix, id, what);

	return n > 0 && n < PPS_PLAN_KEY_MAX ? 0 : -ENAMETOOLONG;
}

uint64_t pps_plan_targets_hash(const struct pps_config *cfg)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 (Fowler, Noll, Vo) */
	const unsigned char *p;

#define FNV(ptr, len)                                                                              \
	for (p = (const unsigned char *)(ptr); p < (const unsigned char *)(ptr) + (len); p++)      \
	h = (h ^ *p) * 0x100000001b3ull
	for (size_t i = 0; cfg->targets && i < cfg->targets->n_ranges; i++) {
		uint32_t r[2] = { cfg->targets->ranges[i].first_h, cfg->targets->ranges[i].last_h };
		FNV(r, sizeof(r));
	}
	if (cfg->ports)
		FNV(cfg->ports->list, cfg->ports->n * sizeof(uint16_t));
	FNV(&cfg->max_targets, sizeof(cfg->max_targets));
	FNV(&cfg->probes, sizeof(cfg->probes));
#undef FNV
	return h;
}

/* Connects for @cfg at start: errors are bad input (exit 2), one line naming --redis. */
static int start_conn(struct pps_redis_conn *k, const char *prog, const char *url, FILE *err)
{
	if (pps_redis_conn_init(k, url) < 0 || pps_redis_conn_connect(k, PLAN_TIMEOUT_S) < 0) {
		fprintf(err, "%s: cannot use Redis at %s (from --redis): %s\n", prog,
			k->shown[0] ? k->shown : "?", k->err);
		pps_redis_conn_close(k);
		return 2;
	}
	return 0;
}

/* One command; NULL (and the connection closed, reason in k->err) on failure or an error reply. */
static redisReply *call(struct pps_redis_conn *k, double timeout_s, const char *const *args)
{
	redisReply *r;

	if (!k->c)
		return NULL;
	r = pps_redis_callv(k, timeout_s, args);
	if (!r) {
		pps_redis_conn_close(k);
		return NULL;
	}
	if (pps_redis_reply_error(k, r, "")) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* call() whose reply is only checked. 0 or -1. */
static int call0(struct pps_redis_conn *k, double timeout_s, const char *const *args)
{
	redisReply *r = call(k, timeout_s, args);

	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

static long long reply_ll(const redisReply *r)
{
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return -1;
}

/* The plan's options: the dump of @cfg without what is each machine's own. malloc()ed. */
static char *plan_text(const struct pps_config *cfg)
{
	char *dump = NULL, *out, *line, *save = NULL;
	size_t len = 0, used = 0;
	FILE *f = open_memstream(&dump, &len);

	if (!f)
		return NULL;
	pps_config_dump(cfg, f);
	fclose(f);
	out = malloc(len + 1);
	if (!out) {
		free(dump);
		return NULL;
	}
	for (line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t kl = strcspn(line, " =");
		int keep = (kl == 4 && !strncmp(line, "seed", 4)) ||
			   (kl == 7 && !strncmp(line, "targets", 7));

		for (size_t i = 0; !keep && line[0] != '#' && i < pps_n_opts; i++)
			keep = strlen(pps_opts[i].lo.name) == kl &&
			       !strncmp(pps_opts[i].lo.name, line, kl) &&
			       (pps_opts[i].backends & cfg->backend) &&
			       pps_opt_plan_owned(&pps_opts[i]);
		if (keep)
			used += (size_t)sprintf(out + used, "%s\n", line);
	}
	out[used] = '\0';
	free(dump);
	return out;
}

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pps_plan_write(const struct pps_config *cfg, FILE *err)
{
	struct pps_redis_conn k = { 0 };
	char k_plan[PPS_PLAN_KEY_MAX], k_shards[PPS_PLAN_KEY_MAX], k_meta[PPS_PLAN_KEY_MAX],
		k_res[PPS_PLAN_KEY_MAX], k_scans[PPS_PLAN_KEY_MAX];
	char n_sh[16], lease[24], addrs[24], ports[16], hash[24], now[32], total[24], num[16],
		now_ts[24], rate[32];
	uint64_t probes = (cfg->max_targets ? cfg->max_targets : cfg->target_space) * cfg->probes;
	char *text = NULL;
	int rc;

	if (keyf(k_plan, cfg->redis_prefix, cfg->scan_id, "plan") ||
	    keyf(k_shards, cfg->redis_prefix, cfg->scan_id, "shards") ||
	    keyf(k_meta, cfg->redis_prefix, cfg->scan_id, "meta") ||
	    keyf(k_res, cfg->redis_prefix, cfg->scan_id, "results")) {
		fprintf(err, "%s: --redis-prefix and --scan-id make too long a key\n", cfg->prog);
		return 2;
	}
	snprintf(k_scans, sizeof(k_scans), "%s:scans", cfg->redis_prefix);
	if ((rc = start_conn(&k, cfg->prog, cfg->redis_url, err)))
		return rc;
	{
		const char *a[] = { "EXISTS", k_plan, k_meta, k_res, k_shards, NULL };
		redisReply *r = call(&k, PLAN_TIMEOUT_S, a);
		long long n = reply_ll(r);

		if (r)
			freeReplyObject(r);
		if (n != 0) {
			fprintf(err,
				n > 0 ? "%s: scan id '%s' (from --scan-id) exists in Redis at %s: a plan is for a new scan, choose another --scan-id\n"
				      : "%s: cannot plan scan '%s' at %s: %s\n",
				cfg->prog, cfg->scan_id, k.shown, k.err);
			pps_redis_conn_close(&k);
			return 2;
		}
	}
	text = plan_text(cfg);
	if (!text) {
		fprintf(err, "%s: out of memory\n", cfg->prog);
		pps_redis_conn_close(&k);
		return 1;
	}
	snprintf(n_sh, sizeof(n_sh), "%u", cfg->shards);
	snprintf(lease, sizeof(lease), "%.0f", cfg->lease_s * 1000);
	snprintf(addrs, sizeof(addrs), "%" PRIu64, cfg->targets->n_addresses);
	snprintf(ports, sizeof(ports), "%u", cfg->ports->n);
	snprintf(hash, sizeof(hash), "%016" PRIx64, pps_plan_targets_hash(cfg));
	snprintf(total, sizeof(total), "%" PRIu64, probes);
	snprintf(now_ts, sizeof(now_ts), "%.6f", (double)pps_realtime_ns() / 1e9);
	snprintf(rate, sizeof(rate), "%.3f", cfg->rate_pps);
	iso_now(now, sizeof(now));
	{
		/* HSETNX first: of two planners of one id, one wins */
		const char *a[] = { "HSETNX", k_plan, "config", text, NULL };
		redisReply *r = call(&k, PLAN_TIMEOUT_S, a);
		long long won = reply_ll(r);

		if (r)
			freeReplyObject(r);
		if (won != 1) {
			fprintf(err,
				won == 0
					? "%s: scan id '%s' (from --scan-id) exists in Redis at %s: a plan is for a new scan, choose another --scan-id\n"
					: "%s: cannot plan scan '%s' at %s: %s\n",
				cfg->prog, cfg->scan_id, k.shown, k.err);
			goto fail2;
		}
	}
	{
		const char *a[] = { "HSET",
				    k_plan,
				    "shards",
				    n_sh,
				    "lease_ms",
				    lease,
				    "addresses",
				    addrs,
				    "ports",
				    ports,
				    "targets_hash",
				    hash,
				    "probes_total",
				    total,
				    "rate_pps",
				    rate,
				    "created",
				    now,
				    NULL };
		const char *g[] = { "XGROUP", "CREATE",	  k_shards, PPS_PLAN_GROUP,
				    "0",      "MKSTREAM", NULL };

		if (call0(&k, PLAN_TIMEOUT_S, a) || call0(&k, PLAN_TIMEOUT_S, g))
			goto fail;
	}
	for (uint32_t s = 0; s < cfg->shards; s++) {
		const char *a[] = { "XADD", k_shards, "*", "shard", num, NULL };

		snprintf(num, sizeof(num), "%u", s);
		if (call0(&k, PLAN_TIMEOUT_S, a))
			goto fail;
	}
	{
		const char *a[] = { "HSET",
				    k_meta,
				    "id",
				    cfg->scan_id,
				    "state",
				    "planned",
				    "stream",
				    k_res,
				    "shards",
				    n_sh,
				    "shards_done",
				    "0",
				    "shards_running",
				    "0",
				    "shards_pending",
				    n_sh,
				    "results",
				    "0",
				    "probes_total",
				    total,
				    "planned",
				    now,
				    "planned_ts",
				    now_ts,
				    NULL };
		const char *s[] = { "SADD", k_scans, cfg->scan_id, NULL };

		if (call0(&k, PLAN_TIMEOUT_S, a) || call0(&k, PLAN_TIMEOUT_S, s))
			goto fail;
	}
	fprintf(err,
		"%s: plan: scan %s, %u shards, %" PRIu64
		" probes, %g pps a shard, lease %.0f s, in %s; workers: --redis URL --scan-id %s --join\n",
		cfg->prog, cfg->scan_id, cfg->shards, probes, cfg->rate_pps, cfg->lease_s, k_plan,
		cfg->scan_id);
	free(text);
	pps_redis_conn_close(&k);
	return 0;
fail:
	fprintf(err, "%s: cannot write the plan of scan %s to %s: %s\n", cfg->prog, cfg->scan_id,
		k.shown, k.err);
fail2:
	free(text);
	pps_redis_conn_close(&k);
	return 1;
}

/* The value of --NAME in @argv ("--NAME V" or "--NAME=V"), or NULL; 1 in *@flag if present. */
static const char *argv_value(int argc, char **argv, const char *name, int *flag)
{
	size_t l = strlen(name);
	const char *v = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--", 2) || strncmp(a + 2, name, l))
			continue;
		if (a[2 + l] == '\0') {
			if (flag)
				*flag = 1;
			else if (i + 1 < argc)
				v = argv[i + 1];
		} else if (a[2 + l] == '=' && !flag) {
			v = a + 3 + l;
		}
	}
	return v;
}

int pps_plan_fetch(const char *prog, int argc, char **argv, char **text, FILE *err)
{
	int join = 0, other = 0, rc;
	const char *url, *id, *prefix;
	char k_plan[PPS_PLAN_KEY_MAX];
	struct pps_redis_conn k = { 0 };
	redisReply *r;

	*text = NULL;
	argv_value(argc, argv, "join", &join);
	argv_value(argc, argv, "plan", &other);
	argv_value(argc, argv, "status", &other);
	url = argv_value(argc, argv, "redis", NULL);
	id = argv_value(argc, argv, "scan-id", NULL);
	prefix = argv_value(argc, argv, "redis-prefix", NULL);
	if (!join || other || !url || !id)
		return 0; /* the option parser says what is missing */
	if (keyf(k_plan, prefix ? prefix : "ppscan", id, "plan") || pps_redis_conn_init(&k, url))
		return 0; /* and what is wrong with them */
	if ((rc = start_conn(&k, prog, url, err)))
		return rc;
	{
		const char *a[] = { "HGET", k_plan, "config", NULL };

		r = call(&k, PLAN_TIMEOUT_S, a);
	}
	if (!r || r->type != REDIS_REPLY_STRING) {
		if (r)
			fprintf(err,
				"%s: scan '%s' (from --scan-id) has no plan in Redis at %s (%s): write one with --plan first\n",
				prog, id, k.shown, k_plan);
		else
			fprintf(err, "%s: cannot read the plan %s at %s: %s\n", prog, k_plan,
				k.shown, k.err);
		if (r)
			freeReplyObject(r);
		pps_redis_conn_close(&k);
		return 2;
	}
	*text = strdup(r->str);
	freeReplyObject(r);
	pps_redis_conn_close(&k);
	if (!*text) {
		fprintf(err, "%s: out of memory\n", prog);
		return 1;
	}
	return 0;
}

/* ---- workers ---- */

/* A command while working: reconnects once if the connection is gone. */
static redisReply *jcall(struct pps_join *j, double timeout_s, const char *const *args)
{
	if (!j->k.c && pps_redis_conn_connect(&j->k, timeout_s) < 0)
		return NULL;
	j->commands++;
	return call(&j->k, timeout_s, args);
}

static int jcall0(struct pps_join *j, double timeout_s, const char *const *args)
{
	if (!j->k.c && pps_redis_conn_connect(&j->k, timeout_s) < 0)
		return -1;
	j->commands++;
	return call0(&j->k, timeout_s, args);
}

int pps_join_open(struct pps_join *j, const struct pps_config *cfg, FILE *err)
{
	const char *p = cfg->redis_prefix, *id = cfg->scan_id;
	char host[64] = "", hash[24];
	redisReply *r;
	int rc;

	memset(j, 0, sizeof(*j));
	j->cfg = cfg;
	if (keyf(j->k_plan, p, id, "plan") || keyf(j->k_shards, p, id, "shards") ||
	    keyf(j->k_ckpt, p, id, "ckpt") || keyf(j->k_meta, p, id, "meta") ||
	    keyf(j->k_workers, p, id, "workers") || keyf(j->k_seen, p, id, "seen")) {
		fprintf(err, "%s: --redis-prefix and --scan-id make too long a key\n", cfg->prog);
		return 2;
	}
	if (cfg->worker) {
		snprintf(j->worker, sizeof(j->worker), "%s", cfg->worker);
	} else {
		gethostname(host, sizeof(host) - 1);
		snprintf(j->worker, sizeof(j->worker), "%s-%ld", host[0] ? host : "worker",
			 (long)getpid());
	}
	if ((rc = start_conn(&j->k, cfg->prog, cfg->redis_url, err)))
		return rc;
	{
		const char *a[] = { "HMGET", j->k_plan, "shards", "lease_ms", "targets_hash", NULL };

		r = jcall(j, PLAN_TIMEOUT_S, a);
	}
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_STRING) {
		fprintf(err, "%s: the plan %s at %s is incomplete%s%s\n", cfg->prog, j->k_plan,
			j->k.shown, r ? "" : ": ", r ? "" : j->k.err);
		goto fail;
	}
	j->shards = (uint32_t)strtoul(r->element[0]->str, NULL, 10);
	j->lease_ms = r->element[1]->type == REDIS_REPLY_STRING
			      ? strtoull(r->element[1]->str, NULL, 10)
			      : 30000;
	snprintf(hash, sizeof(hash), "%016" PRIx64, pps_plan_targets_hash(cfg));
	if (strcmp(hash, r->element[2]->str) || j->shards != cfg->shards) {
		fprintf(err,
			"%s: the plan's targets read differently on this machine (%" PRIu64
			" addresses x %u ports here): the -w/-I/-b files the plan names must be the same on every worker\n",
			cfg->prog, cfg->targets->n_addresses, cfg->ports->n);
		freeReplyObject(r);
		goto fail;
	}
	freeReplyObject(r);
	{
		const char *a[] = { "SADD", j->k_workers, j->worker, NULL };
		char now[32], ts[24];
		const char *b[] = { "HSETNX", j->k_meta, "start", now, NULL };
		const char *c[] = { "HSETNX", j->k_meta, "start_ts", ts, NULL };

		iso_now(now, sizeof(now));
		snprintf(ts, sizeof(ts), "%.6f", (double)pps_realtime_ns() / 1e9);
		if (jcall0(j, PLAN_TIMEOUT_S, a) || jcall0(j, PLAN_TIMEOUT_S, b) ||
		    jcall0(j, PLAN_TIMEOUT_S, c)) {
			fprintf(err, "%s: cannot register worker %s at %s: %s\n", cfg->prog,
				j->worker, j->k.shown, j->k.err);
			goto fail;
		}
	}
	fprintf(err, "%s: join: worker %s on scan %s (%u shards, lease %.1f s)\n", cfg->prog,
		j->worker, id, j->shards, (double)j->lease_ms / 1000);
	return 0;
fail:
	pps_redis_conn_close(&j->k);
	return 2;
}

/* The entry [id, [field, value...]] of a stream reply: the shard it names. 1, or 0 if not one. */
static int take_entry(struct pps_join *j, const redisReply *e)
{
	const redisReply *f;

	if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	f = e->element[1];
	if (f->type != REDIS_REPLY_ARRAY || f->elements < 2 ||
	    f->element[1]->type != REDIS_REPLY_STRING)
		return 0;
	snprintf(j->entry, sizeof(j->entry), "%s", e->element[0]->str);
	j->shard = (uint32_t)strtoul(f->element[1]->str, NULL, 10);
	return 1;
}

/* The claimed shard's checkpoint (0: none). */
static uint64_t read_ckpt(struct pps_join *j)
{
	char num[16];
	const char *a[] = { "HGET", j->k_ckpt, num, NULL };
	redisReply *r;
	uint64_t v = 0;

	snprintf(num, sizeof(num), "%u", j->shard);
	r = jcall(j, PLAN_TIMEOUT_S, a);
	if (r && r->type == REDIS_REPLY_STRING)
		v = strtoull(r->str, NULL, 10);
	if (r)
		freeReplyObject(r);
	return v;
}

int pps_join_claim(struct pps_join *j, volatile sig_atomic_t *stop, uint32_t *shard,
		   uint64_t *checkpoint, FILE *err)
{
	char lease[24];
	double away_since = 0;

	snprintf(lease, sizeof(lease), "%" PRIu64, j->lease_ms);
	j->entry[0] = '\0';
	while (!(stop && *stop)) {
		const char *ac[] = { "XAUTOCLAIM", j->k_shards, PPS_PLAN_GROUP,
				     j->worker,	   lease,	"0-0",
				     "COUNT",	   "1",		NULL };
		const char *rd[] = { "XREADGROUP", "GROUP",   PPS_PLAN_GROUP, j->worker, "COUNT",
				     "1",	   "STREAMS", j->k_shards,    ">",	 NULL };
		const char *pe[] = { "XPENDING", j->k_shards, PPS_PLAN_GROUP, NULL };
		redisReply *r = jcall(j, PLAN_TIMEOUT_S, ac);
		long long pending;

		if (!r)
			goto away;
		away_since = 0;
		/* [next-id, [entries], [deleted ids]] */
		if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
		    r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements &&
		    take_entry(j, r->element[1]->element[0])) {
			freeReplyObject(r);
			j->takeovers++;
			goto claimed;
		}
		freeReplyObject(r);
		r = jcall(j, PLAN_TIMEOUT_S, rd);
		if (!r)
			goto away;
		/* [[key, [entries]]] or nil */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
		    r->element[0]->element[1]->type == REDIS_REPLY_ARRAY &&
		    r->element[0]->element[1]->elements &&
		    take_entry(j, r->element[0]->element[1]->element[0])) {
			freeReplyObject(r);
			goto claimed;
		}
		freeReplyObject(r);
		r = jcall(j, PLAN_TIMEOUT_S, pe);
		if (!r)
			goto away;
		pending = r->type == REDIS_REPLY_ARRAY && r->elements ? reply_ll(r->element[0])
								      : -1;
		freeReplyObject(r);
		if (pending == 0)
			return 0; /* every shard delivered and acknowledged */
		/* others hold the rest: wait, in case one of them goes silent */
		for (int i = 0; i < 10 && !(stop && *stop); i++)
			usleep(100000);
		continue;
away:
		if (!away_since)
			away_since = pps_monotonic_s();
		else if (pps_monotonic_s() - away_since > (double)j->lease_ms / 1000) {
			fprintf(err, "%s: join: Redis at %s away for the lease (%.0f s): %s\n",
				j->cfg->prog, j->k.shown, (double)j->lease_ms / 1000, j->k.err);
			return -1;
		}
		usleep(200000);
	}
	return 0;
claimed:
	j->claims++;
	*shard = j->shard;
	*checkpoint = j->last_ckpt = read_ckpt(j);
	return 1;
}

/* 1 while the claimed entry is still ours (XPENDING of that one id). */
static int still_ours(struct pps_join *j)
{
	const char *a[] = { "XPENDING", j->k_shards, PPS_PLAN_GROUP, j->entry, j->entry, "1", NULL };
	redisReply *r = jcall(j, BEAT_TIMEOUT_S, a);
	int ours = 0;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 2 &&
	    r->element[0]->element[1]->type == REDIS_REPLY_STRING)
		ours = !strcmp(r->element[0]->element[1]->str, j->worker);
	if (r)
		freeReplyObject(r);
	return ours;
}

/* Checkpoint of the claimed shard. */
static int write_ckpt(struct pps_join *j, uint64_t checkpoint, double timeout_s)
{
	char num[16], val[24];
	const char *a[] = { "HSET", j->k_ckpt, num, val, NULL };

	snprintf(num, sizeof(num), "%u", j->shard);
	snprintf(val, sizeof(val), "%" PRIu64, checkpoint);
	return jcall0(j, timeout_s, a);
}

void pps_join_beat(struct pps_join *j, uint64_t checkpoint, uint64_t sent, double rate_pps)
{
	char f_sent[128], f_rate[128], f_shard[128], f_upd[128], v_sent[24], v_rate[32],
		v_shard[16], v_upd[24], v_run[24], v_pend[24];
	const char *claim[] = { "XCLAIM", j->k_shards, PPS_PLAN_GROUP, j->worker,
				"0",	  j->entry,    "JUSTID",       NULL };
	const char *pe[] = { "XPENDING", j->k_shards, PPS_PLAN_GROUP, NULL };
	const char *done[] = { "HINCRBY", j->k_meta, "shards_done", "0", NULL };
	long long running = -1, n_done = -1;
	redisReply *r;

	if (!j->k.c && pps_redis_conn_connect(&j->k, BEAT_TIMEOUT_S) < 0)
		return;
	/* a failed command closes the connection: the rest of the beat is skipped, so a Redis
	 * that went away costs the monitor one timeout a second, not six */
	if (j->entry[0] && still_ours(j)) {
		jcall0(j, BEAT_TIMEOUT_S, claim);
		if (checkpoint > j->last_ckpt && write_ckpt(j, checkpoint, BEAT_TIMEOUT_S) == 0)
			j->last_ckpt = checkpoint;
	}
	if (!j->k.c)
		return;
	if ((r = jcall(j, BEAT_TIMEOUT_S, pe))) {
		running = r->type == REDIS_REPLY_ARRAY && r->elements ? reply_ll(r->element[0])
								      : -1;
		freeReplyObject(r);
	}
	if (j->k.c && (r = jcall(j, BEAT_TIMEOUT_S, done))) {
		n_done = reply_ll(r);
		freeReplyObject(r);
	}
	snprintf(f_sent, sizeof(f_sent), "%s:sent", j->worker);
	snprintf(f_rate, sizeof(f_rate), "%s:rate_pps", j->worker);
	snprintf(f_shard, sizeof(f_shard), "%s:shard", j->worker);
	snprintf(f_upd, sizeof(f_upd), "%s:updated_ts", j->worker);
	snprintf(v_sent, sizeof(v_sent), "%" PRIu64, sent);
	snprintf(v_rate, sizeof(v_rate), "%.1f", rate_pps);
	if (j->entry[0])
		snprintf(v_shard, sizeof(v_shard), "%u", j->shard);
	else
		snprintf(v_shard, sizeof(v_shard), "-");
	snprintf(v_upd, sizeof(v_upd), "%.3f", (double)pps_realtime_ns() / 1e9);
	snprintf(v_run, sizeof(v_run), "%lld", running < 0 ? 0 : running);
	snprintf(v_pend, sizeof(v_pend), "%lld",
		 running < 0 || n_done < 0 ? 0 : (long long)j->shards - n_done - running);
	{
		const char *a[] = { "HSET",  j->k_meta, f_sent,		  v_sent, f_rate,
				    v_rate,  f_shard,	v_shard,	  f_upd,  v_upd,
				    "state", "running", "shards_running", v_run,  "shards_pending",
				    v_pend,  NULL };

		if (running < 0 || n_done < 0 || n_done >= (long long)j->shards)
			a[10] = NULL; /* the counts are unknown, or the scan is done: leave them */
		jcall0(j, BEAT_TIMEOUT_S, a);
	}
}

int pps_join_ack(struct pps_join *j, FILE *err)
{
	double t0 = pps_monotonic_s();
	char num[16];

	snprintf(num, sizeof(num), "%u", j->shard);
	for (;;) {
		const char *ack[] = { "XACK", j->k_shards, PPS_PLAN_GROUP, j->entry, NULL };
		const char *inc[] = { "HINCRBY", j->k_meta, "shards_done", "1", NULL };
		const char *del[] = { "HDEL", j->k_ckpt, num, NULL };
		redisReply *r = jcall(j, PLAN_TIMEOUT_S, ack);
		long long acked, n_done;

		if (!r)
			goto retry;
		acked = reply_ll(r);
		freeReplyObject(r);
		if (acked != 1)
			break; /* another worker took it over and acknowledged it first */
		jcall0(j, PLAN_TIMEOUT_S, del);
		r = jcall(j, PLAN_TIMEOUT_S, inc);
		n_done = reply_ll(r);
		if (r)
			freeReplyObject(r);
		if (n_done >= (long long)j->shards) {
			char now[32], ts[24];
			const char *a[] = { "HSET",
					    j->k_meta,
					    "state",
					    "done",
					    "end",
					    now,
					    "end_ts",
					    ts,
					    "shards_running",
					    "0",
					    "shards_pending",
					    "0",
					    NULL };
			const char *d[] = { "DEL", j->k_seen, NULL };

			iso_now(now, sizeof(now));
			snprintf(ts, sizeof(ts), "%.6f", (double)pps_realtime_ns() / 1e9);
			jcall0(j, PLAN_TIMEOUT_S, a);
			jcall0(j, PLAN_TIMEOUT_S, d);
			fprintf(err, "%s: join: scan %s done: all %u shards acknowledged\n",
				j->cfg->prog, j->cfg->scan_id, j->shards);
		}
		break;
retry:
		if (pps_monotonic_s() - t0 > (double)j->lease_ms / 1000) {
			fprintf(err,
				"%s: join: cannot acknowledge shard %u at %s: %s (another worker will take it over)\n",
				j->cfg->prog, j->shard, j->k.shown, j->k.err);
			j->entry[0] = '\0';
			return -1;
		}
		usleep(200000);
	}
	j->entry[0] = '\0';
	return 0;
}

void pps_join_release(struct pps_join *j, uint64_t checkpoint)
{
	if (j->entry[0] && still_ours(j) && checkpoint > j->last_ckpt)
		write_ckpt(j, checkpoint, PLAN_TIMEOUT_S);
	j->entry[0] = '\0';
}

void pps_join_close(struct pps_join *j)
{
	pps_redis_conn_close(&j->k);
}

/* ---- status ---- */

/* HGETALL into parallel arrays (pointers into @r). Returns the number of pairs. */
static size_t pairs(const redisReply *r, const char **f, const char **v, size_t max)
{
	size_t n = 0;

	if (!r || r->type != REDIS_REPLY_ARRAY)
		return 0;
	for (size_t i = 0; i + 1 < r->elements && n < max; i += 2) {
		f[n] = r->element[i]->str;
		v[n++] = r->element[i + 1]->str;
	}
	return n;
}

static const char *get(const char **f, const char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (f[i] && !strcmp(f[i], name))
			return v[i] ? v[i] : "";
	return NULL;
}

int pps_plan_status(const struct pps_config *cfg, volatile sig_atomic_t *stop, FILE *out, FILE *err)
{
	struct pps_redis_conn k = { 0 };
	char k_meta[PPS_PLAN_KEY_MAX];
	struct pps_totals prev = { 0 };
	double prev_t = 0;
	int rc, first = 1;

	if (keyf(k_meta, cfg->redis_prefix, cfg->scan_id, "meta")) {
		fprintf(err, "%s: --redis-prefix and --scan-id make too long a key\n", cfg->prog);
		return 2;
	}
	if ((rc = start_conn(&k, cfg->prog, cfg->redis_url, err)))
		return rc;
	for (;;) {
		static const char *f[4096], *v[4096];
		const char *a[] = { "HGETALL", k_meta, NULL };
		redisReply *r = call(&k, PLAN_TIMEOUT_S, a);
		size_t n = pairs(r, f, v, 4096);
		const char *state = get(f, v, n, "state");
		struct pps_totals t = { 0 };
		double rate = 0, now = (double)pps_realtime_ns() / 1e9;
		unsigned workers = 0;

		if (!r || !state) {
			if (r)
				fprintf(err, "%s: no scan '%s' (from --scan-id) in Redis at %s\n",
					cfg->prog, cfg->scan_id, k.shown);
			else
				fprintf(err, "%s: cannot read %s at %s: %s\n", cfg->prog, k_meta,
					k.shown, k.err);
			if (r)
				freeReplyObject(r);
			pps_redis_conn_close(&k);
			return r ? 2 : 1;
		}
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(f[i]);

			if (l > 5 && !strcmp(f[i] + l - 5, ":sent"))
				t.sent += strtoull(v[i], NULL, 10), workers++;
			if (l > 9 && !strcmp(f[i] + l - 9, ":rate_pps"))
				rate += strtod(v[i], NULL);
		}
		if (!workers && get(f, v, n, "sent")) /* a single scanner's meta hash */
			t.sent = strtoull(get(f, v, n, "sent"), NULL, 10);
		t.open = t.recv =
			strtoull(get(f, v, n, "results") ? get(f, v, n, "results") : "0", NULL, 10);
		if (!cfg->follow || first) {
			const char *sh = get(f, v, n, "shards");

			fprintf(out, "scan %s: %s", cfg->scan_id, state);
			if (sh)
				fprintf(out, "; shards %s: %s done, %s running, %s pending", sh,
					get(f, v, n, "shards_done") ?: "0",
					get(f, v, n, "shards_running") ?: "0",
					get(f, v, n, "shards_pending") ?: "0");
			fprintf(out, "; sent %" PRIu64 ", %.0f pps; results %" PRIu64 "\n", t.sent,
				rate, t.recv);
			for (size_t i = 0; i < n; i++) {
				size_t l = strlen(f[i]);
				char w[256], key[300];

				if (l <= 5 || strcmp(f[i] + l - 5, ":sent") || l - 5 >= sizeof(w))
					continue;
				memcpy(w, f[i], l - 5);
				w[l - 5] = '\0';
				snprintf(key, sizeof(key), "%s:rate_pps", w);
				{
					const char *rt = get(f, v, n, key), *s2, *u;

					snprintf(key, sizeof(key), "%s:shard", w);
					s2 = get(f, v, n, key);
					snprintf(key, sizeof(key), "%s:updated_ts", w);
					u = get(f, v, n, key);
					fprintf(out,
						"  worker %s: sent %s, %s pps, shard %s, updated %.0f s ago\n",
						w, v[i], rt ? rt : "0", s2 ? s2 : "-",
						u ? now - strtod(u, NULL) : 0);
				}
			}
			fflush(out);
			first = 0;
		} else {
			const char *st = get(f, v, n, "start_ts") ?: get(f, v, n, "planned_ts");
			const char *tot = get(f, v, n, "probes_total");
			struct pps_status_ctx ctx = {
				.elapsed_s = st ? now - strtod(st, NULL) : 0,
				.dt_s = prev_t ? now - prev_t : 1,
				.total_probes = tot ? strtoull(tot, NULL, 10) : 0,
				.sending_done = !strcmp(state, "done"),
			};
			char line[512];

			fprintf(out, "%s\n",
				pps_status_format(line, sizeof(line), &t, &prev, &ctx));
			fflush(out);
		}
		freeReplyObject(r);
		if (!cfg->follow || !strcmp(state, "done") || (stop && *stop))
			break;
		prev = t;
		prev_t = now;
		for (int i = 0; i < 10 && !(stop && *stop); i++)
			usleep(100000);
	}
	pps_redis_conn_close(&k);
	return 0;
}
