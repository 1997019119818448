/*
 * pps_plan.h - one scan across many machines, coordinated through Redis's own primitives
 * (streams, consumer groups, XAUTOCLAIM, hashes), no scheduler of ours. Library ppscore_redis.
 *
 * Keys, P = --redis-prefix, ID = --scan-id:
 *   P:ID:plan     hash: config (the scan's options as -C text: targets, ports, blocklist,
 *                 seed, probes, rate per shard...), shards, lease_ms, addresses, ports,
 *                 targets_hash (FNV-1a 64 of the target ranges and ports), created
 *   P:ID:shards   stream, one entry per shard ("shard" N), consumer group ppscan-workers:
 *                 a worker claims a shard with XREADGROUP, keeps the claim alive with
 *                 XCLAIM ... JUSTID once a second (which resets the entry's idle time), and
 *                 XACKs it when the shard's cooldown is over; a shard idle longer than the
 *                 lease (its worker died) is taken by another with XAUTOCLAIM
 *   P:ID:ckpt     hash: shard -> checkpoint, the index below which every probe of the shard
 *                 was sent (the lowest next index of the shard's senders, one interval old)
 *   P:ID:meta     hash: state planned|running|done (done once every shard is acknowledged),
 *                 shards, shards_done, shards_running, shards_pending, results, and per
 *                 worker W: W:sent, W:rate_pps, W:shard, W:updated_ts
 *   P:ID:workers  set of worker names; P:ID:worker:W: that worker's results-sink hash
 *   P:ID:seen     set of "ip:port" already in the results stream (every worker's batches
 *                 go through a script that adds an entry only when its member is new), so
 *                 the overlap after a takeover adds nothing twice; deleted when done
 * A shard's index set is pps_shard.h's: j = s (mod N), whatever each worker's -T.
 */
#ifndef PPS_PLAN_H
#define PPS_PLAN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "output/pps_redis_conn.h"
#include "pps_config.h"
#include "pps_stats.h"

#define PPS_PLAN_GROUP "ppscan-workers"
#define PPS_PLAN_KEY_MAX 200

/**
 * pps_plan_write - --plan: writes @cfg's plan for cfg->shards shards into Redis under
 * cfg->scan_id (the plan hash, the shard stream and its group, the meta hash in state
 * planned, the scan id in P:scans) and prints one line on @err. A scan id that already has
 * keys is refused. Returns the exit code: 0, 2 (bad input: the id exists, Redis refuses or
 * is unreachable at start, one line naming it), 1 (failed on the way).
 */
int pps_plan_write(const struct pps_config *cfg, FILE *err);

/**
 * pps_plan_fetch - --join, before the options are parsed: finds --redis, --redis-prefix
 * and --scan-id in @argv (@argc of them) and reads that scan's plan. Returns 0 with the
 * plan's options (-C text, malloc()ed, the caller's to free) in *@text, or the exit code
 * after one line on @err naming the option (2: no such plan, bad URL, unreachable Redis).
 * *@text is NULL (and 0 is returned) when @argv has no --join.
 */
int pps_plan_fetch(const char *prog, int argc, char **argv, char **text, FILE *err);

/**
 * pps_plan_status - --status: prints the scan's state from the meta hash on @out (shards
 * done, running, pending; results; each worker's sent and rate). With cfg->follow, prints
 * a ZMap-shaped line a second until the state is done (or @stop is set). Exit code.
 */
int pps_plan_status(const struct pps_config *cfg, volatile sig_atomic_t *stop, FILE *out,
		    FILE *err);

/** A worker's side of the coordination (one per process, the main thread only). */
struct pps_join {
	const struct pps_config *cfg;
	struct pps_redis_conn k;
	char k_plan[PPS_PLAN_KEY_MAX], k_shards[PPS_PLAN_KEY_MAX], k_ckpt[PPS_PLAN_KEY_MAX],
		k_meta[PPS_PLAN_KEY_MAX], k_workers[PPS_PLAN_KEY_MAX], k_seen[PPS_PLAN_KEY_MAX];
	char worker[96];
	uint32_t shards;
	uint64_t lease_ms;
	char entry[64]; /* the claimed shard's stream entry id, "" when none */
	uint32_t shard;
	uint64_t last_ckpt;
	uint64_t commands; /* Redis commands this worker sent for coordination */
	uint64_t claims, takeovers;
};

/**
 * pps_join_open - connects for @cfg's scan (--join), checks that the plan's target space
 * is the one @cfg parsed from it (a -b/-w/-I file that differs on this machine is refused),
 * registers the worker (cfg->worker, default HOST-PID). Exit code (2: one line on @err).
 */
int pps_join_open(struct pps_join *j, const struct pps_config *cfg, FILE *err);

/**
 * pps_join_claim - the next shard: one whose worker went silent for the lease
 * (XAUTOCLAIM), else a new one (XREADGROUP), else, while other workers still hold shards,
 * waits (a second at a time) in case one of them dies. Returns 1 with *@shard and
 * *@checkpoint (0 for a fresh shard) set, 0 when every shard is acknowledged (or @stop
 * was set), -1 when Redis stayed away for the lease (one line on @err).
 */
int pps_join_claim(struct pps_join *j, volatile sig_atomic_t *stop, uint32_t *shard,
		   uint64_t *checkpoint, FILE *err);

/**
 * pps_join_beat - once a second while the shard runs: the checkpoint @checkpoint (every
 * index below it sent), the claim kept alive (XCLAIM JUSTID while we still own it), this
 * worker's @sent probes in all and @rate_pps in the meta hash. Never waits longer than
 * 0.2 s (Redis away: the beat is skipped; the claim may then expire, which only costs
 * probes sent twice).
 */
void pps_join_beat(struct pps_join *j, uint64_t checkpoint, uint64_t sent, double rate_pps);

/**
 * pps_join_ack - the shard's cooldown is over and its results are in Redis: XACK; the
 * first worker to acknowledge it counts it done, and the last shard sets the state done.
 * Returns 0 or -1 (Redis away for the lease: the shard will be taken over).
 */
int pps_join_ack(struct pps_join *j, FILE *err);

/** pps_join_release - interrupted: the last checkpoint @checkpoint stays for a taker. */
void pps_join_release(struct pps_join *j, uint64_t checkpoint);

/** pps_join_close - closes the connection. */
void pps_join_close(struct pps_join *j);

/**
 * pps_plan_targets_hash - FNV-1a 64 over the target ranges and ports of @cfg: what a plan
 * and a worker must agree on.
 */
uint64_t pps_plan_targets_hash(const struct pps_config *cfg);

#endif /* PPS_PLAN_H */
