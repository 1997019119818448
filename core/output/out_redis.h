/*
 * out_redis.h - the Redis sink (out_redis.c and out_redis_journal.c, library ppscore_redis,
 * built when meson finds hiredis: -Dredis=auto|enabled, which then defines PPS_HAVE_HIREDIS
 * for everything that uses core). The base core links no hiredis: without PPS_HAVE_HIREDIS,
 * pps_outputs.c says "built without Redis support" instead of calling the sink.
 *
 * Keys, with P = --redis-prefix (default "ppscan") and S = the scan id (--scan-id):
 *   P:S:results  stream; one entry per (address, port) and scan, fields
 *                ip ("198.18.0.7"), port ("443"), status ("open"|"closed"), ttl ("64"),
 *                ts (receive time, Unix seconds with microseconds: "1764428184.123456")
 *   P:S:batches  set of batch markers TOKEN:SEQ, one per transaction applied: after a
 *                reconnect it tells which batches arrived, so none is added twice
 *   P:S:meta     hash: state (running|done|interrupted), start/end/updated times, options,
 *                counters (sent, open, closed, ...), results (entries in the stream), ...
 *   P:scans      set of scan ids
 */
#ifndef PPS_OUT_REDIS_H
#define PPS_OUT_REDIS_H

#include <stdint.h>
#include <stdio.h>

#include "../pps_config.h"
#include "pps_output.h"

/**
 * pps_output_redis_open - opens the Redis sink for @cfg (--redis, --redis-prefix, --scan-id,
 * --redis-maxlen, --redis-journal, --redis-buffer) into @o: connects (2 s timeout), AUTH,
 * SELECT, PING, checks that the scan's keys are free or of the right type, creates the
 * journal file, writes the meta hash (state running) and adds the
 * scan id to P:scans. Prints the scan id and stream key on @err. Ignores SIGPIPE (hiredis
 * writes with write(2)) unless the program set its own handler.
 * On error prints one line on @err naming the URL (password shown as ***) and the reason,
 * and returns -errno (ECONNREFUSED unreachable, EACCES password, EINVAL db, EEXIST key type
 * or journal); nothing is left open. The sink runs on the output thread only.
 */
int pps_output_redis_open(struct pps_output *o, const struct pps_config *cfg, FILE *err);

/** Delivery counters of an open Redis sink (tests, benchmark). */
struct pps_redis_stats {
	uint64_t delivered;	/* results confirmed in the stream (each once) */
	uint64_t resent;	/* results sent again after a reconnect (their batch was lost) */
	uint64_t pending;	/* results not yet confirmed: in memory plus in the journal */
	uint64_t journaled;	/* results written to the journal so far (cumulative) */
	uint64_t journal_lines; /* results in the journal now */
	uint64_t outages;	/* connections lost */
	uint64_t lost;		/* confirmed, then no longer held by Redis, not sent again */
	uint64_t lost_resent;	/* confirmed, lost by Redis, sent again (--redis-keep) */
	int connected;
};

/** pps_output_redis_stats - fills @st from the Redis sink @o. */
void pps_output_redis_stats(const struct pps_output *o, struct pps_redis_stats *st);

extern const struct pps_output_ops pps_output_redis;

#endif /* PPS_OUT_REDIS_H */
