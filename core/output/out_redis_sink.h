/*
 * output/out_redis_sink.h - the Redis sink's state, shared by its two files: out_redis.c (the
 * sink: buffering, batches, replies, the meta hash, open and close) and out_redis_journal.c
 * (where results wait on disk while Redis is away). Internal to ppscore_redis.
 */
#ifndef PPS_OUT_REDIS_SINK_H
#define PPS_OUT_REDIS_SINK_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "../pps_config.h"
#include "../pps_stats.h"
#include "pps_fields.h"
#include "pps_output.h"
#include "pps_redis_conn.h"
#include "pps_redis_resp.h"

#define RS_BATCH 512		   /* results a transaction */
#define RS_INFLIGHT 8		   /* transactions sent and not yet confirmed */
#define RS_FIFO 64		   /* commands awaiting a reply (batches and meta updates) */
#define RS_FLUSH_S 0.010	   /* a partial batch waits at most this long */
#define RS_BACKOFF_MIN_S 0.1	   /* first reconnect delay */
#define RS_BACKOFF_MAX_S 2.0	   /* reconnect delay cap */
#define RS_OPEN_TIMEOUT_S 2.0	   /* connect + handshake at start */
#define RS_RECONNECT_TIMEOUT_S 0.1 /* connect + handshake during the scan */
#define RS_CLOSE_WAIT_S 5.0	   /* at close: give up after this long without progress */
#define RS_JBUF (64 * 1024)	   /* journal buffers, bytes */
#define RS_BANNER_RING 8192	   /* --banners: ring slots at most (each holds its bytes) */
/* --banners: the stream entry's fields after the common ones (pps_fields.c) */
#define RS_BANNER_FIELDS "classification,protocol,product,version,data_len,data,middlebox"
#define RS_BANNER_KEY_FIELD 6 /* --join dedup: classification (1-based field) joins ip:port */
#define RS_KEY_MAX 160
#define RS_XADD_HEAD 256 /* "*13 XADD key [MAXLEN ~ n] *" in RESP */

/*
 * The stream entry's fields (ZMap's names under the stream's own: ip, port, status, ttl, ts),
 * read through the field extractor; the journal holds the same values, comma-separated.
 */
#define RS_STREAM_FIELDS "ip=saddr,port=sport,status,ttl,ts=timestamp_unix"

enum rs_kind {
	RS_CMD_BATCH = 1,
	RS_CMD_META = 2
};

/* A command (or transaction) awaiting replies, in send order. */
struct rs_cmd {
	uint32_t kind; /* enum rs_kind */
	uint32_t n;    /* results in the batch */
	uint32_t left; /* replies still to come: n + 4 for a batch, 1 for a meta update */
	uint32_t bad;  /* an error reply came for it */
	uint64_t seq;  /* batch marker TOKEN:SEQ */
};

/* A batch whose EXEC reply was lost with the connection. */
struct rs_doubt {
	uint64_t seq;
	uint32_t n;
};

/* A confirmed batch kept on disk (--redis-keep): its marker and where its lines start. */
struct rs_kept {
	uint64_t seq;
	uint64_t off; /* byte offset of its first line in the keep file */
	uint32_t n;   /* results; 0 once sent again */
};

struct redis_sink {
	const struct pps_config *cfg;
	struct pps_redis_conn k;     /* the connection; k.err: reason of the last failure */
	struct pps_redis_backoff bo; /* reconnect pacing */
	redisReader *rd; /* the pipeline's reader: static reply markers, no allocation */
	struct pps_resp_errors rerr; /* first error reply of the command being parsed */
	struct pps_field_sel sel;    /* the stream entry's fields (RS_STREAM_FIELDS) */
	size_t line_max;	     /* longest journal line (and RESP of one entry's values) */
	char k_results[RS_KEY_MAX], k_batches[RS_KEY_MAX], k_meta[RS_KEY_MAX], k_scans[RS_KEY_MAX];
	/* --join: batches go through DEDUP_LUA (each (address, port) once across workers);
	 * k_meta is then this worker's hash and k_scan_meta the scan's */
	int dedup;
	char k_seen[RS_KEY_MAX], k_scan_meta[RS_KEY_MAX];
	char token[24]; /* this run's batch marker prefix */
	uint64_t next_seq;

	struct pps_result *pend; /* ring of results not yet confirmed */
	uint64_t mask, head, sent, tail;
	/* --banners: slot i's own copy of its data result's fingerprint match and bytes
	 * (xslot bytes at xarena + i * xslot; rs_own()), and the journal parser's copy */
	unsigned char *xarena, *xparse;
	size_t xslot;
	double first_wait_s; /* when the oldest unsent result was first seen waiting, or 0 */

	struct rs_cmd fifo[RS_FIFO];
	uint32_t fifo_head, fifo_n; /* oldest command awaiting a reply, count */
	uint32_t inflight;	    /* batches among them */
	int wpending;		    /* output buffer not fully written */
	struct rs_doubt doubt[RS_INFLIGHT];
	uint32_t n_doubt;

	char xadd_head[RS_XADD_HEAD]; /* RESP up to the first field of an XADD */
	size_t xadd_head_len;
	char *bbuf; /* one batch in RESP (RS_BATCH entries of at most bbuf_entry) */
	size_t bbuf_entry;
	char netbuf[RS_JBUF]; /* replies as read */

	/* journal: [j_rd, j_wr) unread on disk, then jlen bytes in jbuf */
	char journal[1024];
	int jfd;
	uint64_t j_rd, j_wr, j_lines, j_total;
	size_t jlen;
	char jbuf[RS_JBUF];
	char rbuf[RS_JBUF];

	double down_since_s;
	uint64_t delivered, outages, resent;

	/* what Redis should hold of this run (checked on every reconnect): the meta hash's
	 * results counter, the stream's length (without --redis-maxlen), the batch markers */
	uint64_t expect_results, expect_len, expect_markers;
	uint64_t lost;	    /* results Redis confirmed and later no longer held */
	uint64_t recovered; /* of those, sent again from the keep file */
	int opened;	    /* the sink is open: a lost meta hash is written again */

	/* --redis-keep: confirmed batches as journal lines in JOURNAL.kept until the end */
	char keep_path[1040];
	FILE *kf;
	uint64_t k_off;
	struct rs_kept *kept;
	size_t n_kept, cap_kept;

	struct pps_totals totals; /* last progress */
	struct pps_progress prog;
	int final_given;
	char stop_reason[24];
};

/**
 * rs_own - makes the result in ring position @pos hold its --banners bytes and fingerprint
 * match in its own arena slot (a copy of what its pointers show; they are set to the copy).
 * Results without banner data, and sinks without --banners, are left as they are.
 */
void rs_own(struct redis_sink *rs, uint64_t pos);

/* ---- out_redis_journal.c ---- */

/** rs_ring_free - free slots of the pending ring. */
static inline uint64_t rs_ring_free(const struct redis_sink *rs)
{
	return rs->mask + 1 - (rs->head - rs->tail);
}

/** rs_line - the journal line of @r ("v1,v2,...\n": the stream fields) into @buf. */
size_t rs_line(const struct redis_sink *rs, char *buf, const struct pps_result *r);

/** rs_journal_flush - writes the buffered lines. 0 or -errno. */
int rs_journal_flush(struct redis_sink *rs);

/** rs_journal_append - one result to the journal (Redis slow or away). 0 or -errno. */
int rs_journal_append(struct redis_sink *rs, const struct pps_result *r);

/** rs_journal_refill - the oldest journal lines back into the ring while it has room. */
int rs_journal_refill(struct redis_sink *rs);

/** rs_journal_spill - at close: the journal becomes exactly the undelivered results. */
int rs_journal_spill(struct redis_sink *rs);

/**
 * rs_keep_batch - --redis-keep: appends the confirmed batch @seq, the @n results of the ring
 * from index @first, to the keep file. Returns 0 or -errno.
 */
int rs_keep_batch(struct redis_sink *rs, uint64_t seq, uint64_t first, uint32_t n);

/**
 * rs_keep_resend - after Redis lost confirmed results: asks which kept batches' markers are
 * gone (SMISMEMBER) and puts their results into the journal, to be sent again as new
 * batches. Returns the number of results put back, or -errno (rs->k.err set).
 */
long rs_keep_resend(struct redis_sink *rs, double deadline);

/**
 * rs_journal_adopt - a journal an earlier run of this scan left: its results go first,
 * except batches whose marker shows they arrived (counted in *@skipped). Returns the number
 * kept, or -errno with rs->k.err set.
 */
long rs_journal_adopt(struct redis_sink *rs, uint64_t *skipped);

#endif /* PPS_OUT_REDIS_SINK_H */
