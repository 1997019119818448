/*
 * out_redis.c - the Redis sink: results into a stream, progress into a hash, nothing lost
 * while Redis is away. Key schema in out_redis.h. The connection is pps_redis_conn.h's, the
 * wire format pps_redis_resp.h's, the journal out_redis_journal.c's; the entry's values come
 * from the field extractor (RS_STREAM_FIELDS in out_redis_sink.h).
 *
 * Writing. write() only copies the result into `pend`, a ring the output thread owns
 * (--redis-buffer results, rounded up to a power of two). poll(), every monitor round
 * (about 1 ms), sends a batch when RS_BATCH results wait or the oldest has waited
 * RS_FLUSH_S. A batch is one transaction, formatted straight into a fixed buffer as RESP
 * (pps_redis_resp.h) and handed to hiredis with one redisAppendFormattedCommand:
 *
 *   MULTI
 *   XADD P:S:results [MAXLEN ~ N] * ip .. port .. status .. ttl .. ts ..    (x n)
 *   SADD P:S:batches TOKEN:SEQ          the batch's marker (TOKEN: this run, SEQ: counter)
 *   HINCRBY P:S:meta results n
 *   EXEC
 *
 * Up to RS_INFLIGHT batches are pipelined on a non-blocking socket. Replies are parsed by
 * our own hiredis reader whose object functions return static markers instead of
 * allocating (only errors are copied, into a fixed buffer): nothing is allocated per
 * result, on either side. The output thread never waits for Redis except while
 * (re)connecting, which is bounded by RS_RECONNECT_TIMEOUT_S.
 *
 * Exactly once. EXEC applies a batch whole or not at all (also across a crash of an AOF
 * server: a truncated MULTI block is dropped when the AOF loads). When the connection is
 * lost, the batches without an EXEC reply are in doubt; after the reconnect
 * SISMEMBER P:S:batches TOKEN:SEQ tells which were applied: those are confirmed, the rest
 * sent again as new batches. With ppscan's RX dedup (each address and port reported once
 * per scan), every (address, port) is in the stream once, across outages and replays.
 * Measured on Redis 7.0 (2 cores): MULTI batches of XADD run at ~94% of bare pipelined
 * XADD; a Lua script checking a set of "ip:port" before each XADD at ~60%.
 *
 * Outage. A failed read or write, or an error reply, drops the connection; new results
 * fill the ring; when it is full they are appended to the journal as text lines
 * "ip,port,status,ttl,ts", and while the journal holds lines every new result goes there
 * too, so order is kept. Reconnects follow an exponential backoff (RS_BACKOFF_MIN_S
 * doubling to RS_BACKOFF_MAX_S, reset when a batch gets through). Once back, the ring drains
 * and the journal is read back into it, oldest first, and truncated when empty. At close,
 * whatever is unconfirmed (ring and unread journal) ends in the journal, whose name and
 * count are printed; an empty journal is removed. The next run of the same scan (the same
 * --scan-id, e.g. --resume) adopts a journal left behind and sends it first, skipping the
 * batches whose reply was lost but whose marker shows they arrived.
 *
 * A server that forgets. Confirmed is not kept: a server restarted without an AOF has lost
 * what it held. On every reconnect (and once more at close) check_loss() compares what
 * Redis holds (the meta hash's results counter and the stream's length, both moved by each
 * batch's transaction) with what this run saw confirmed; a shortfall is said in one line,
 * counted ("lost" in the meta hash, the final line, the close's error: exit 1). With
 * --redis-keep every confirmed batch is also written to JOURNAL.kept until the end, and
 * the batches whose marker is gone are put back into the journal and sent again.
 *
 *   pend:  tail ........ sent ........ head      (indices grow forever; slot = i & mask)
 *          |  in flight  |   waiting    |
 */
#include "out_redis.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fingerprint.h"
#include "../pps_clock.h"
#include "../pps_metadata.h"
#include "../probe/pps_first_payload.h"
#include "../probe/pps_probe.h"
#include "out_redis_sink.h"

/* ---- connection ---- */

/* Closes the connection. Batches without an EXEC reply become doubts for the reconnect. */
static void drop(struct redis_sink *rs)
{
	for (uint32_t i = 0; i < rs->fifo_n; i++) {
		const struct rs_cmd *c = &rs->fifo[(rs->fifo_head + i) % RS_FIFO];

		if (c->kind == RS_CMD_BATCH && rs->n_doubt < RS_INFLIGHT)
			rs->doubt[rs->n_doubt++] = (struct rs_doubt){ c->seq, c->n };
	}
	pps_redis_conn_close(&rs->k);
	if (rs->rd)
		redisReaderFree(rs->rd);
	rs->rd = NULL;
	rs->fifo_head = rs->fifo_n = rs->inflight = 0;
	rs->wpending = 0;
	rs->sent = rs->tail; /* unconfirmed results wait again */
}

void rs_own(struct redis_sink *rs, uint64_t pos)
{
	struct pps_result *r = &rs->pend[pos & rs->mask];
	unsigned char *slot;
	struct pps_fp_match *id;
	uint8_t *data;

	if (!rs->xarena || r->probe != PPS_PROBE_TCP_SYNSCAN || r->classification != PPS_CLASS_DATA)
		return;
	slot = rs->xarena + (pos & rs->mask) * rs->xslot;
	id = (struct pps_fp_match *)slot;
	data = slot + sizeof(*id);
	if (r->banner.id && r->banner.id != id) {
		*id = *r->banner.id;
		r->banner.id = id;
	}
	if (r->banner.data && r->banner.data != data) {
		if (r->banner.data_len_h > rs->cfg->banner_bytes)
			r->banner.data_len_h = (uint16_t)rs->cfg->banner_bytes;
		memcpy(data, r->banner.data, r->banner.data_len_h);
		r->banner.data = data;
	}
}

static void ring_move(struct redis_sink *rs, uint64_t to, uint64_t from)
{
	rs->pend[to & rs->mask] = rs->pend[from & rs->mask];
	rs_own(rs, to);
}

/*
 * Batch @seq (@n results of the ring from @first) is in Redis: what Redis should now hold
 * grows by it (the transaction added its entries, its marker and its count), and with
 * --redis-keep its lines go to the keep file. A keep file that cannot be written ends
 * keeping (said once): the scan goes on, with what was kept still covered.
 */
static void confirmed(struct redis_sink *rs, uint64_t seq, uint64_t first, uint32_t n)
{
	int rc;

	rs->expect_results += n;
	rs->expect_len += n;
	rs->expect_markers++;
	if (rs->kf && (rc = rs_keep_batch(rs, seq, first, n)) < 0) {
		fprintf(stderr, "%s: redis: cannot write the keep file '%s': %s: keeping stops\n",
			rs->cfg->prog, rs->keep_path, strerror(-rc));
		fclose(rs->kf);
		rs->kf = NULL;
	}
}

/*
 * After a reconnect: asks which doubtful batches were applied (their marker is in
 * P:S:batches), confirms those and keeps the others' results, in order, to send again.
 * Returns 0, or -errno (rs->k.err set) if Redis did not answer.
 */
static int resolve_doubts(struct redis_sink *rs, double deadline)
{
	uint64_t at = rs->tail, keep_to, applied = 0;
	int gone[RS_INFLIGHT] = { 0 };
	char marker[48];

	for (uint32_t i = 0; i < rs->n_doubt; i++) {
		const char *a[] = { "SISMEMBER", rs->k_batches, marker, NULL };
		redisReply *r;

		snprintf(marker, sizeof(marker), "%s:%" PRIu64, rs->token, rs->doubt[i].seq);
		r = pps_redis_callv(&rs->k, deadline - pps_monotonic_s(), a);
		if (!r)
			return -EIO;
		if (pps_redis_reply_error(&rs->k, r, "SISMEMBER: ")) {
			freeReplyObject(r);
			return -EPROTO;
		}
		gone[i] = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
		freeReplyObject(r);
	}
	/* the doubtful batches lie at [tail, ...) in order; compact the kept ones toward
	 * the newer end, so the applied ones fall off the tail */
	for (uint32_t i = 0; i < rs->n_doubt; i++) {
		if (gone[i])
			confirmed(rs, rs->doubt[i].seq, at, rs->doubt[i].n);
		at += rs->doubt[i].n;
	}
	keep_to = at;
	for (uint32_t i = rs->n_doubt; i-- > 0;) {
		at -= rs->doubt[i].n;
		if (gone[i]) {
			applied += rs->doubt[i].n;
			continue;
		}
		for (uint32_t k = rs->doubt[i].n; k-- > 0;)
			ring_move(rs, --keep_to, at + k);
	}
	rs->tail += applied;
	rs->sent = rs->tail;
	rs->delivered += applied;
	for (uint32_t i = 0; i < rs->n_doubt; i++)
		if (!gone[i])
			rs->resent += rs->doubt[i].n;
	rs->n_doubt = 0;
	return 0;
}

/*
 * One number Redis holds: an integer reply (XLEN, SCARD) or a decimal bulk string (HGET);
 * nil is 0 and sets *@nil. Returns 0, or -errno with rs->k.err set.
 */
static int call_u64(struct redis_sink *rs, double deadline, const char *const *args, uint64_t *out,
		    int *nil)
{
	redisReply *r = pps_redis_callv(&rs->k, deadline - pps_monotonic_s(), args);
	int rc = 0;

	if (!r)
		return -EIO;
	*out = 0;
	if (nil)
		*nil = r->type == REDIS_REPLY_NIL;
	if (pps_redis_reply_error(&rs->k, r, ""))
		rc = -EPROTO;
	else if (r->type == REDIS_REPLY_INTEGER)
		*out = r->integer > 0 ? (uint64_t)r->integer : 0;
	else if (r->type == REDIS_REPLY_STRING)
		*out = strtoull(r->str, NULL, 10);
	freeReplyObject(r);
	return rc;
}

/* What Redis holds of this scan: the meta hash's results counter (*@meta_gone: no hash),
 * the stream's length and the batch markers. Returns 0 or -errno (rs->k.err). */
static int holdings(struct redis_sink *rs, double deadline, uint64_t *results, uint64_t *len,
		    uint64_t *markers, int *meta_gone)
{
	const char *hget[] = { "HGET", rs->k_meta, "results", NULL };
	const char *id[] = { "HGET", rs->k_meta, "id", NULL };
	const char *xlen[] = { "XLEN", rs->k_results, NULL };
	const char *scard[] = { "SCARD", rs->k_batches, NULL };
	uint64_t ignored;
	int rc;

	if ((rc = call_u64(rs, deadline, hget, results, NULL)) < 0 ||
	    (rc = call_u64(rs, deadline, id, &ignored, meta_gone)) < 0 ||
	    (rc = call_u64(rs, deadline, xlen, len, NULL)) < 0 ||
	    (rc = call_u64(rs, deadline, scard, markers, NULL)) < 0)
		return rc;
	return 0;
}

static int meta_open(struct redis_sink *rs, const struct pps_config *cfg);

/*
 * On every reconnect: is what Redis confirmed still there? (At open: what it holds already.) A server restarted without
 * persistence (or from a snapshot older than the confirmations) has forgotten entries,
 * markers and counts alike; the deficit of the meta hash's results counter is the number
 * lost, bounded by the stream's (without --redis-maxlen, which trims it): a consumer's
 * XDEL shortens only the stream, a hand-deleted hash only the counter. With
 * --redis-keep, the kept batches whose marker is gone go back into the journal and out
 * again. Said in one line; the expectations start again from what Redis now holds, and a
 * meta hash that is gone is written again. Returns 0, or -errno (rs->k.err set).
 */
static int check_loss(struct redis_sink *rs, double deadline)
{
	uint64_t results, len, markers, lost = 0;
	long back = 0;
	int meta_gone, rc;

	if ((rc = holdings(rs, deadline, &results, &len, &markers, &meta_gone)) < 0)
		return rc;
	/* the counter says how many; the stream (when not trimmed) must agree, so that a
	 * consumer deleting what it has handled (XDEL), or a meta hash deleted by hand, is
	 * not taken for a server that forgot */
	/* --join: several workers write one stream and one counter, and the dedup script adds
	 * fewer entries than a batch holds, so no writer can expect a count: not checked */
	if (rs->expect_results > results && !rs->dedup)
		lost = rs->expect_results - results;
	if (!rs->cfg->redis_maxlen && lost)
		lost = rs->expect_len > len
			       ? (rs->expect_len - len < lost ? rs->expect_len - len : lost)
			       : 0;
	if (lost && rs->kf && (back = rs_keep_resend(rs, deadline)) < 0)
		return (int)back;
	if (lost) {
		rs->lost += lost;
		rs->recovered += (uint64_t)back;
		if (rs->kf)
			fprintf(stderr,
				"%s: redis: %s lost %" PRIu64
				" results it had confirmed (restarted without persistence, or from an older snapshot?): sending %ld again from %s\n",
				rs->cfg->prog, rs->k.shown, lost, back, rs->keep_path);
		else
			fprintf(stderr,
				"%s: redis: %s lost %" PRIu64
				" results it had confirmed (restarted without persistence, or from an older snapshot?): they are gone, the scan will exit 1 (--redis-keep keeps them to send again)\n",
				rs->cfg->prog, rs->k.shown, lost);
	}
	rs->expect_results = results;
	rs->expect_len = len;
	rs->expect_markers = markers;
	if (meta_gone && rs->opened)
		return meta_open(rs, rs->cfg);
	return 0;
}

/*
 * Connects (pps_redis_conn_connect(): AUTH, SELECT, PING) within @timeout_s, then settles the
 * batches left in doubt by a lost connection and makes the pipeline's reader. Returns 0 with
 * rs->k.c and rs->rd set, or -errno with the reason in rs->k.err.
 */
static int connect_redis(struct redis_sink *rs, double timeout_s)
{
	double deadline = pps_monotonic_s() + timeout_s;
	int rc = pps_redis_conn_connect(&rs->k, timeout_s);

	if (rc < 0)
		return rc;
	if (rs->n_doubt && (rc = resolve_doubts(rs, deadline)) < 0)
		goto fail;
	if (rs->opened && (rc = check_loss(rs, deadline)) < 0)
		goto fail;
	rs->rd = pps_resp_reader_new(&rs->rerr);
	if (!rs->rd) {
		snprintf(rs->k.err, sizeof(rs->k.err), "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	pps_redis_conn_close(&rs->k);
	return rc;
}

/* The connection failed during the scan: keep everything, schedule a reconnect. */
static void lost(struct redis_sink *rs, double now, const char *why)
{
	if (!why && rs->k.c && rs->k.c->err)
		why = rs->k.c->errstr;
	fprintf(stderr,
		"%s: redis: lost %s (%s): keeping results (%" PRIu64 " waiting), reconnecting\n",
		rs->cfg->prog, rs->k.shown, why ? why : "connection closed",
		(rs->head - rs->tail) + rs->j_lines);
	drop(rs);
	rs->outages++;
	rs->down_since_s = now;
	/* the backoff resets only when a batch gets through: a server that accepts
	 * connections but fails every write is retried at most every RS_BACKOFF_MAX_S */
	pps_redis_backoff_failed(&rs->bo, now);
}

static void try_reconnect(struct redis_sink *rs, double now)
{
	uint64_t doubts = 0, before = rs->delivered;

	for (uint32_t i = 0; i < rs->n_doubt; i++)
		doubts += rs->doubt[i].n;
	if (connect_redis(rs, RS_RECONNECT_TIMEOUT_S) < 0) {
		pps_redis_backoff_failed(&rs->bo, pps_monotonic_s());
		return;
	}
	fprintf(stderr,
		"%s: redis: reconnected to %s after %.1f s: %" PRIu64 " of %" PRIu64
		" unconfirmed results had arrived; sending %" PRIu64 " buffered and %" PRIu64
		" journaled results\n",
		rs->cfg->prog, rs->k.shown, now - rs->down_since_s, rs->delivered - before, doubts,
		rs->head - rs->tail, rs->j_lines);
}

/* ---- pipeline ---- */

/*
 * --join: several workers write one stream, and a shard taken over from a dead worker is
 * probed again from its checkpoint, so a batch adds an entry only for an (address, port)
 * not yet in the scan's set P:ID:seen (KEYS[1]); KEYS[2] the stream, KEYS[3] the scan's
 * meta hash (results += entries added); ARGV: fields per entry, MAXLEN (0: none), the key
 * field (0, or with --banners 6: classification joins the key), then the
 * entries' field/value pairs, ip and port first. Atomic like the MULTI it runs in.
 */
static const char DEDUP_LUA[] =
	"local nf=tonumber(ARGV[1]) local kf=tonumber(ARGV[3]) local added=0 "
	"for i=4,#ARGV,2*nf do "
	"local m=ARGV[i+1]..':'..ARGV[i+3] "
	"if kf>0 then m=m..':'..ARGV[i+2*kf-1] end "
	"if redis.call('SADD',KEYS[1],m)==1 then "
	"if ARGV[2]=='0' then redis.call('XADD',KEYS[2],'*',unpack(ARGV,i,i+2*nf-1)) "
	"else redis.call('XADD',KEYS[2],'MAXLEN','~',ARGV[2],'*',unpack(ARGV,i,i+2*nf-1)) end "
	"added=added+1 end end "
	"redis.call('HINCRBY',KEYS[3],'results',added) return added";

/* "EVAL DEDUP_LUA 3 seen results meta nf maxlen keyfield" for @n entries, in RESP (keyfield:
 * 0, or the 1-based field whose value joins "ip:port" in the seen set). */
static char *dedup_head(struct redis_sink *rs, char *p, uint32_t n)
{
	char num[24];

	*p++ = '*';
	p += pps_resp_u64(p, 9 + (uint64_t)n * 2 * rs->sel.n);
	p = PPS_RESP_LIT(p, "\r\n$4\r\nEVAL\r\n");
	p = pps_resp_bulk(p, DEDUP_LUA, sizeof(DEDUP_LUA) - 1);
	p = PPS_RESP_LIT(p, "$1\r\n3\r\n");
	p = pps_resp_bulk(p, rs->k_seen, strlen(rs->k_seen));
	p = pps_resp_bulk(p, rs->k_results, strlen(rs->k_results));
	p = pps_resp_bulk(p, rs->k_scan_meta, strlen(rs->k_scan_meta));
	p = pps_resp_bulk(p, num, pps_resp_u64(num, rs->sel.n));
	p = pps_resp_bulk(p, num, pps_resp_u64(num, rs->cfg->redis_maxlen));
	/* --banners: an endpoint's open and first-data results are two entries, each once */
	return pps_resp_bulk(p, num, pps_resp_u64(num, rs->xslot ? RS_BANNER_KEY_FIELD : 0));
}

/* Appends one transaction for the next @n waiting results. Returns 0 or -1 (no memory). */
static int send_batch(struct redis_sink *rs, uint32_t n)
{
	char *p = rs->bbuf, tmp[32], marker[48], scratch[PPS_VALUE_SCRATCH];
	uint64_t seq = rs->next_seq++;
	size_t ml;

	p = PPS_RESP_LIT(p, "*1\r\n$5\r\nMULTI\r\n");
	if (rs->dedup)
		p = dedup_head(rs, p, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct pps_result *r = &rs->pend[(rs->sent + i) & rs->mask];

		if (!rs->dedup) {
			memcpy(p, rs->xadd_head, rs->xadd_head_len);
			p += rs->xadd_head_len;
		}
		for (unsigned f = 0; f < rs->sel.n; f++) {
			struct pps_value v;
			size_t len;
			const char *t;

			pps_fields_get(&rs->sel, f, r, &v, scratch);
			t = pps_value_text(&v, tmp, &len);
			p = pps_resp_bulk(p, rs->sel.name[f], strlen(rs->sel.name[f]));
			p = pps_resp_bulk(p, t, len);
		}
	}
	ml = (size_t)snprintf(marker, sizeof(marker), "%s:%" PRIu64, rs->token, seq);
	p = PPS_RESP_LIT(p, "*3\r\n$4\r\nSADD\r\n");
	p = pps_resp_bulk(p, rs->k_batches, strlen(rs->k_batches));
	p = pps_resp_bulk(p, marker, ml);
	if (!rs->dedup) { /* the script counts what it added */
		p = PPS_RESP_LIT(p, "*4\r\n$7\r\nHINCRBY\r\n");
		p = pps_resp_bulk(p, rs->k_meta, strlen(rs->k_meta));
		p = PPS_RESP_LIT(p, "$7\r\nresults\r\n");
		p = pps_resp_bulk(p, tmp, pps_resp_u64(tmp, n));
	}
	p = PPS_RESP_LIT(p, "*1\r\n$4\r\nEXEC\r\n");
	if (redisAppendFormattedCommand(rs->k.c, rs->bbuf, (size_t)(p - rs->bbuf)) != REDIS_OK)
		return -1;
	/* replies: MULTI, each queued command, EXEC */
	rs->fifo[(rs->fifo_head + rs->fifo_n++) % RS_FIFO] =
		(struct rs_cmd){ RS_CMD_BATCH, n, rs->dedup ? 4 : n + 4, 0, seq };
	rs->sent += n;
	rs->inflight++;
	return 0;
}

/*
 * One reply (a marker object) for the oldest command. Returns 0, or -1 when the connection
 * should be dropped (reason in rs->k.err).
 */
static int on_reply(struct redis_sink *rs, void *obj)
{
	struct rs_cmd *cmd = &rs->fifo[rs->fifo_head];

	if (rs->rerr.n) { /* an error reply, or errors inside EXEC's array */
		cmd->bad = 1;
		snprintf(rs->k.err, sizeof(rs->k.err), "%s", rs->rerr.first);
		rs->rerr.n = 0;
	}
	if (--cmd->left)
		return 0;
	/* the command's last reply: EXEC for a batch */
	rs->fifo_head = (rs->fifo_head + 1) % RS_FIFO;
	rs->fifo_n--;
	if (cmd->kind != RS_CMD_BATCH)
		return cmd->bad ? -1 : 0;
	rs->inflight--;
	if (!pps_resp_is_array(obj)) {
		/* EXECABORT (an error while queueing: nothing applied) or nil; the batch goes
		 * back to waiting with the rest when the connection is dropped */
		if (!cmd->bad)
			snprintf(rs->k.err, sizeof(rs->k.err), "transaction not executed");
		/* back at the head: drop() makes it a doubt, found unapplied and kept */
		rs->fifo_head = (rs->fifo_head + RS_FIFO - 1) % RS_FIFO;
		rs->fifo_n++;
		rs->inflight++;
		return -1;
	}
	if (cmd->bad) {
		/* EXEC ran but a command in it failed (a key changed type under us): the
		 * marker is set, so the results cannot be resent as a doubt. Keep them in the
		 * journal instead and drop the connection; they go out again later. */
		for (uint32_t i = 0; i < cmd->n; i++)
			rs_journal_append(rs, &rs->pend[(rs->tail + i) & rs->mask]);
		rs->tail += cmd->n;
		return -1;
	}
	confirmed(rs, cmd->seq, rs->tail, cmd->n);
	rs->tail += cmd->n;
	rs->delivered += cmd->n;
	pps_redis_backoff_reset(&rs->bo);
	return 0;
}

/* Reads and handles every reply available. Returns 0, or -1 to drop the connection. */
static int read_replies(struct redis_sink *rs)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n = read(rs->k.c->fd, rs->netbuf, sizeof(rs->netbuf));
		void *obj;

		if (n == 0) {
			snprintf(rs->k.err, sizeof(rs->k.err), "server closed the connection");
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			snprintf(rs->k.err, sizeof(rs->k.err), "%s", strerror(errno));
			return -1;
		}
		if (redisReaderFeed(rs->rd, rs->netbuf, (size_t)n) != REDIS_OK)
			goto proto;
		for (;;) {
			if (redisReaderGetReply(rs->rd, &obj) != REDIS_OK)
				goto proto;
			if (!obj)
				break;
			if (!rs->fifo_n) {
				snprintf(rs->k.err, sizeof(rs->k.err), "a reply nobody asked for");
				return -1;
			}
			if (on_reply(rs, obj) < 0)
				return -1;
		}
		if ((size_t)n < sizeof(rs->netbuf))
			return 0;
	}
	return 0;
proto:
	snprintf(rs->k.err, sizeof(rs->k.err), "protocol error: %s", rs->rd->errstr);
	return -1;
}

/*
 * One round of non-blocking I/O: read replies, refill from the journal, append batches
 * (partial ones too when @force or after RS_FLUSH_S), write. Returns 0, or -errno for a
 * journal error; a connection error only schedules the reconnect.
 */
static int pump(struct redis_sink *rs, double now, int force)
{
	int rc = 0, done;

	if (!rs->k.c)
		return 0;
	if (rs->fifo_n && read_replies(rs) < 0) {
		lost(rs, now, rs->k.err);
		return 0;
	}
	if (rs->j_lines && rs_ring_free(rs))
		rc = rs_journal_refill(rs);
	while (rs->inflight < RS_INFLIGHT && rs->fifo_n < RS_FIFO) {
		uint64_t waiting = rs->head - rs->sent;

		if (!waiting) {
			rs->first_wait_s = 0;
			break;
		}
		if (waiting < RS_BATCH && !force) {
			if (!rs->first_wait_s)
				rs->first_wait_s = now;
			if (now - rs->first_wait_s < RS_FLUSH_S)
				break;
		}
		if (send_batch(rs, waiting < RS_BATCH ? (uint32_t)waiting : RS_BATCH) < 0) {
			lost(rs, now, "out of memory");
			return rc;
		}
		rs->first_wait_s = 0;
	}
	if (redisBufferWrite(rs->k.c, &done) != REDIS_OK) {
		lost(rs, now, NULL);
		return rc;
	}
	rs->wpending = !done;
	return rc;
}

/* ---- meta hash ---- */

/* Field/value pairs for HSET, formatted into @store. */
struct kv {
	const char *argv[80];
	size_t lens[80];
	int argc;
	char store[8192];
	size_t used;
};

static void kv_add(struct kv *k, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kv_add(struct kv *k, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (k->argc + 2 > 80 || k->used >= sizeof(k->store))
		return;
	va_start(ap, fmt);
	n = vsnprintf(k->store + k->used, sizeof(k->store) - k->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(k->store) - k->used)
		return;
	k->argv[k->argc] = field;
	k->lens[k->argc++] = strlen(field);
	k->argv[k->argc] = k->store + k->used;
	k->lens[k->argc++] = (size_t)n;
	k->used += (size_t)n + 1;
}

/* @field as ISO 8601 UTC and @field_ts as Unix seconds. */
static void kv_time(struct kv *k, const char *field, const char *field_ts, uint64_t ns)
{
	char iso[40];

	pps_output_format_timestamp(ns, iso, sizeof(iso));
	kv_add(k, field, "%s", iso);
	kv_add(k, field_ts, "%.6f", (double)ns / 1e9);
}

/* Counters of the last progress report. */
static void kv_counters(struct kv *k, struct redis_sink *rs)
{
	const struct pps_totals *t = &rs->totals;

	kv_add(k, "sent", "%" PRIu64, t->sent);
	kv_add(k, "recv", "%" PRIu64, t->recv);
	kv_add(k, "valid", "%" PRIu64, t->valid);
	kv_add(k, "open", "%" PRIu64, t->open);
	kv_add(k, "closed", "%" PRIu64, t->closed);
	kv_add(k, "dup", "%" PRIu64, t->dup);
	kv_add(k, "invalid", "%" PRIu64, t->invalid);
	kv_add(k, "malformed", "%" PRIu64, t->malformed);
	kv_add(k, "nic_drops", "%" PRIu64, t->nic_drops);
	kv_add(k, "ring_full", "%" PRIu64, t->ring_full);
	kv_add(k, "probes_total", "%" PRIu64, rs->prog.total_probes);
	kv_add(k, "found", "%" PRIu64, rs->prog.results);
	kv_add(k, "pending", "%" PRIu64, (rs->head - rs->tail) + rs->j_lines);
	kv_add(k, "elapsed_s", "%.3f", rs->prog.elapsed_s);
	kv_add(k, "outages", "%" PRIu64, rs->outages);
	kv_add(k, "lost", "%" PRIu64, rs->lost - rs->recovered);
	kv_add(k, "lost_resent", "%" PRIu64, rs->recovered);
}

static void kv_start(struct kv *k, struct redis_sink *rs, const char *cmd)
{
	k->argc = 0;
	k->used = 0;
	k->argv[k->argc] = cmd;
	k->lens[k->argc++] = strlen(cmd);
	k->argv[k->argc] = rs->k_meta;
	k->lens[k->argc++] = strlen(rs->k_meta);
}

/* The options as compact JSON (pps_options_json(): -C's keys, the password masked). */
static char *options_json(const struct pps_config *cfg)
{
	json_t *o = pps_options_json(cfg);
	char *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return out;
}

/* Appends a meta update (HSET) to the pipeline if connected and there is room. */
static void meta_update(struct redis_sink *rs)
{
	static struct kv k; /* output thread only */

	if (!rs->k.c || rs->fifo_n >= RS_FIFO)
		return;
	kv_start(&k, rs, "HSET");
	kv_add(&k, "state", "%s", pps_scan_state_name(PPS_SCAN_RUNNING));
	kv_time(&k, "updated", "updated_ts", pps_realtime_ns());
	kv_counters(&k, rs);
	if (redisAppendCommandArgv(rs->k.c, k.argc, k.argv, k.lens) == REDIS_OK)
		rs->fifo[(rs->fifo_head + rs->fifo_n++) % RS_FIFO] =
			(struct rs_cmd){ RS_CMD_META, 0, 1, 0, 0 };
}

/* Checks that @key is absent or of @type. Returns 0, or -EEXIST / -EIO (rs->k.err set). */
static int check_type(struct redis_sink *rs, const char *key, const char *type)
{
	const char *a[] = { "TYPE", key, NULL };
	redisReply *r = pps_redis_callv(&rs->k, RS_OPEN_TIMEOUT_S, a);
	int rc = 0;

	if (!r)
		return -EIO;
	if (r->type == REDIS_REPLY_ERROR) {
		pps_redis_reply_error(&rs->k, r, "TYPE: ");
		rc = -EPROTO;
	} else if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "none") &&
		   strcmp(r->str, type)) {
		snprintf(
			rs->k.err, sizeof(rs->k.err),
			"key '%s' holds a %s, not a %s: choose another --scan-id or --redis-prefix",
			key, r->str, type);
		rc = -EEXIST;
	}
	freeReplyObject(r);
	return rc;
}

/* Initial meta hash and the scan set, synchronously. Returns 0 or -errno (rs->k.err). */
static int meta_open(struct redis_sink *rs, const struct pps_config *cfg)
{
	static struct kv k;
	char host[256] = "";
	char *opts = options_json(cfg);
	redisReply *r;
	uint64_t now = pps_realtime_ns();
	int rc = 0;

	gethostname(host, sizeof(host) - 1);
	kv_start(&k, rs, "HSET");
	kv_add(&k, "id", "%s", cfg->scan_id);
	kv_add(&k, "state", "%s", pps_scan_state_name(PPS_SCAN_RUNNING));
	kv_add(&k, "stop_reason", "%s", "");
	kv_add(&k, "program", "%s", cfg->prog);
	kv_add(&k, "version", "%s", PPS_VERSION);
	kv_add(&k, "host", "%s", host);
	kv_add(&k, "pid", "%ld", (long)getpid());
	kv_add(&k, "stream", "%s", rs->k_results);
	kv_add(&k, "seed", "%" PRIu64, cfg->seed);
	kv_add(&k, "rate_pps", "%.3f", cfg->rate_pps);
	kv_add(&k, "addresses", "%" PRIu64, cfg->targets ? cfg->targets->n_addresses : 0);
	kv_add(&k, "ports", "%u", cfg->ports ? cfg->ports->n : 0);
	kv_add(&k, "shard", "%u", cfg->shard);
	kv_add(&k, "shards", "%u", cfg->shards);
	kv_add(&k, "output_closed", "%d", cfg->output_closed);
	kv_add(&k, "options", "%s", opts ? opts : "{}");
	kv_time(&k, "updated", "updated_ts", now);
	kv_add(&k, "end", "%s", "");
	kv_add(&k, "end_ts", "%s", "");
	free(opts);
	r = pps_redis_call(&rs->k, RS_OPEN_TIMEOUT_S, k.argc, k.argv, k.lens);
	if (!r)
		return -EIO;
	if (pps_redis_reply_error(&rs->k, r, "cannot write the meta hash: "))
		rc = -EPROTO;
	freeReplyObject(r);
	if (rc)
		return rc;
	/* the first run of a scan id sets its start; a resumed run keeps it */
	kv_start(&k, rs, "HSETNX");
	kv_time(&k, "start", "start_ts", now);
	for (int i = 2; i + 1 < k.argc; i += 2) {
		const char *a[5] = { "HSETNX", rs->k_meta, k.argv[i], k.argv[i + 1], NULL };

		r = pps_redis_callv(&rs->k, RS_OPEN_TIMEOUT_S, a);
		if (!r)
			return -EIO;
		freeReplyObject(r);
	}
	{
		const char *a[] = { "SADD", rs->k_scans, cfg->scan_id, NULL };

		r = pps_redis_callv(&rs->k, RS_OPEN_TIMEOUT_S, a);
		if (!r)
			return -EIO;
		if (pps_redis_reply_error(&rs->k, r, "cannot add the scan id: "))
			rc = -EPROTO;
		freeReplyObject(r);
	}
	return rc;
}

/* Final meta: state, end time, counters, what is left undelivered. Synchronous. */
static void meta_close(struct redis_sink *rs, enum pps_scan_state st, uint64_t undelivered)
{
	static struct kv k;
	redisReply *r;

	if (!rs->k.c || rs->fifo_n)
		return;
	kv_start(&k, rs, "HSET");
	kv_add(&k, "state", "%s", pps_scan_state_name(st));
	kv_add(&k, "stop_reason", "%s", rs->stop_reason);
	kv_time(&k, "end", "end_ts", pps_realtime_ns());
	kv_time(&k, "updated", "updated_ts", pps_realtime_ns());
	kv_counters(&k, rs);
	kv_add(&k, "undelivered", "%" PRIu64, undelivered);
	kv_add(&k, "journal", "%s", undelivered ? rs->journal : "");
	r = pps_redis_call(&rs->k, 1.0, k.argc, k.argv, k.lens);
	if (!r || pps_redis_reply_error(&rs->k, r, ""))
		fprintf(stderr, "%s: redis: cannot write the final state to %s: %s\n",
			rs->cfg->prog, rs->k.shown, rs->k.err);
	if (r)
		freeReplyObject(r);
}

/* ---- ops ---- */

static int rs_write(struct pps_output *o, const struct pps_result *r)
{
	struct redis_sink *rs = o->priv;

	if (!rs->j_lines && rs->head - rs->tail <= rs->mask) {
		rs->pend[rs->head & rs->mask] = *r;
		rs_own(rs, rs->head++);
		return 0;
	}
	return rs_journal_append(rs, r); /* Redis slow or away, and the ring is full */
}

static int rs_poll(struct pps_output *o, double now)
{
	struct redis_sink *rs = o->priv;
	int rc = rs_journal_flush(rs);

	if (!rs->k.c && now >= rs->bo.next_try_s)
		try_reconnect(rs, now);
	if (rs->k.c) {
		int rc2 = pump(rs, now, 0);
		if (!rc)
			rc = rc2;
	}
	return rc;
}

static void rs_progress(struct pps_output *o, const struct pps_progress *p)
{
	struct redis_sink *rs = o->priv;

	rs->totals = *p->totals;
	rs->prog = *p;
	rs->prog.totals = &rs->totals;
	if (p->stop_reason)
		snprintf(rs->stop_reason, sizeof(rs->stop_reason), "%s", p->stop_reason);
	if (p->state != PPS_SCAN_RUNNING) {
		rs->final_given = 1;
		return;
	}
	meta_update(rs);
}

static uint64_t undelivered(const struct redis_sink *rs)
{
	return (rs->head - rs->tail) + rs->j_lines;
}

static void rs_free(struct redis_sink *rs)
{
	rs->fifo_n = 0;
	drop(rs);
	if (rs->jfd >= 0)
		close(rs->jfd);
	if (rs->kf) { /* the scan has ended: confirmed results need not be kept */
		fclose(rs->kf);
		unlink(rs->keep_path);
	}
	free(rs->kept);
	free(rs->pend);
	free(rs->xarena);
	free(rs->xparse);
	free(rs->bbuf);
	free(rs);
}

/*
 * At close: delivers what waits, reconnecting if needed, until nothing is left or nothing
 * moved for RS_CLOSE_WAIT_S. Returns @rc, or the first journal error.
 */
static int deliver(struct redis_sink *rs, int rc)
{
	double t = pps_monotonic_s(), last_progress = t;
	uint64_t left = undelivered(rs);

	while (undelivered(rs) || rs->fifo_n) {
		if (!rs->k.c && t >= rs->bo.next_try_s)
			try_reconnect(rs, t);
		if (rs->k.c) {
			int jrc = pump(rs, t, 1);
			if (jrc < 0 && !rc)
				rc = jrc;
			if (rs->k.c && rs->fifo_n)
				pps_redis_wait_fd(rs->k.c->fd,
						  (short)(POLLIN | (rs->wpending ? POLLOUT : 0)),
						  t + 0.05);
		} else {
			double nap = rs->bo.next_try_s - t;
			usleep((useconds_t)((nap > 0.05 ? 0.05 : nap > 0 ? nap : 0) * 1e6));
		}
		t = pps_monotonic_s();
		if (undelivered(rs) < left) {
			left = undelivered(rs);
			last_progress = t;
		}
		if (t - last_progress > RS_CLOSE_WAIT_S)
			break;
	}
	return rc;
}

/*
 * At close, everything delivered: does Redis still hold it? A server that restarted after
 * the last confirmation is noticed here (the check fails on the dead connection, then runs
 * again on a new one). Returns 1 when lost results went back into the journal (deliver
 * again), else 0.
 */
static int verify_at_close(struct redis_sink *rs)
{
	uint64_t before = rs->recovered;

	if (undelivered(rs) || rs->fifo_n)
		return 0;
	if (rs->k.c && check_loss(rs, pps_monotonic_s() + 1.0) < 0) {
		lost(rs, pps_monotonic_s(), rs->k.err);
		if (connect_redis(rs, RS_OPEN_TIMEOUT_S) < 0)
			return 0;
	}
	return rs->recovered > before && undelivered(rs);
}

static int rs_close(struct pps_output *o)
{
	struct redis_sink *rs = o->priv;
	uint64_t left;
	enum pps_scan_state st = rs->final_given ? rs->prog.state : PPS_SCAN_INTERRUPTED;
	int rc = 0;

	if (!rs->final_given)
		snprintf(rs->stop_reason, sizeof(rs->stop_reason), "aborted");
	/* deliver what waits; then check once more that Redis still holds what it confirmed
	 * (with --redis-keep, what it lost goes out again) */
	for (int round = 0; round < 3; round++) {
		rc = deliver(rs, rc);
		if (!verify_at_close(rs))
			break;
	}
	left = undelivered(rs);
	meta_close(rs, st, left);
	if (left) {
		int jrc;

		drop(rs); /* batches still awaiting EXEC become doubts, marked in the journal */
		jrc = rs_journal_spill(rs);
		if (jrc < 0) {
			fprintf(stderr,
				"%s: redis: cannot write the journal '%s': %s: %" PRIu64
				" results lost\n",
				rs->cfg->prog, rs->journal, strerror(-jrc), left);
			rc = jrc;
		} else {
			fprintf(stderr,
				"%s: redis: %" PRIu64 " results not delivered to %s: kept in %s"
				" (ip,port,status,ttl,ts lines; the next run with --scan-id %s sends them)\n",
				rs->cfg->prog, rs->j_lines, rs->k.shown, rs->journal,
				rs->cfg->scan_id);
			if (!rc)
				rc = -ENOTCONN;
		}
	} else {
		if (unlink(rs->journal) < 0 && errno != ENOENT && !rc)
			rc = -errno;
		fprintf(stderr,
			"%s: redis: %" PRIu64 " results in %s (scan %s, %" PRIu64
			" outage(s), %" PRIu64 " results sent again)\n",
			rs->cfg->prog, rs->delivered - rs->lost, rs->k_results, rs->cfg->scan_id,
			rs->outages, rs->resent);
	}
	if (rs->lost > rs->recovered) {
		fprintf(stderr,
			"%s: redis: %" PRIu64
			" results were confirmed by %s and then lost by it: the stream lacks them (--redis-keep sends them again)\n",
			rs->cfg->prog, rs->lost - rs->recovered, rs->k.shown);
		if (!rc)
			rc = -EIO;
	}
	rs_free(rs);
	o->priv = NULL;
	return rc;
}

const struct pps_output_ops pps_output_redis = {
	.name = "redis",
	.open = NULL,
	.write = rs_write,
	.close = rs_close,
	.poll = rs_poll,
	.progress = rs_progress,
};

void pps_output_redis_stats(const struct pps_output *o, struct pps_redis_stats *st)
{
	const struct redis_sink *rs = o->priv;

	memset(st, 0, sizeof(*st));
	if (!rs)
		return;
	st->delivered = rs->delivered;
	st->resent = rs->resent;
	st->pending = undelivered(rs);
	st->journaled = rs->j_total;
	st->journal_lines = rs->j_lines;
	st->outages = rs->outages;
	st->lost = rs->lost - rs->recovered;
	st->lost_resent = rs->recovered;
	st->connected = rs->k.c != NULL;
}

/* CONFIG GET @name's value into @buf. Returns 0, or -1 (refused, renamed, a proxy). */
static int config_get(struct redis_sink *rs, const char *name, char *buf, size_t len)
{
	const char *a[] = { "CONFIG", "GET", name, NULL };
	redisReply *r = pps_redis_callv(&rs->k, RS_OPEN_TIMEOUT_S, a);
	int rc = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		snprintf(buf, len, "%s", r->element[1]->str);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/*
 * At start: would a restart of the server lose what it confirmed? Without an AOF, a restart
 * loses everything since the last snapshot (or everything, without snapshots). A server
 * that does not answer CONFIG (a managed one, a replica behind a proxy) gets no note.
 */
static void persistence_note(struct redis_sink *rs, FILE *err)
{
	char aof[16], save[128];
	const char *then = rs->kf ? "--redis-keep sends them again"
				  : "ppscan would say so and exit 1; --redis-keep sends them again";

	if (config_get(rs, "appendonly", aof, sizeof(aof)) < 0 || strcmp(aof, "no") ||
	    config_get(rs, "save", save, sizeof(save)) < 0)
		return;
	if (!save[0])
		fprintf(err,
			"%s: redis: note: %s persists nothing (appendonly no, save \"\"): if it restarts, the results it confirmed are gone (%s)\n",
			rs->cfg->prog, rs->k.shown, then);
	else
		fprintf(err,
			"%s: redis: note: %s persists only snapshots (appendonly no, save \"%s\"): if it restarts, the results confirmed since the last snapshot are gone (%s)\n",
			rs->cfg->prog, rs->k.shown, save, then);
}

static int key(char *buf, const char *prefix, const char *scan, const char *what)
{
	int n = scan ? snprintf(buf, RS_KEY_MAX, "%s:%s:%s", prefix, scan, what)
		     : snprintf(buf, RS_KEY_MAX, "%s:%s", prefix, what);
	return n > 0 && n < RS_KEY_MAX ? 0 : -ENAMETOOLONG;
}

/* The constant start of every XADD: "XADD key [MAXLEN ~ n] *" as RESP, for the entry's fields. */
static void xadd_head(struct redis_sink *rs, uint64_t maxlen)
{
	char *p = rs->xadd_head, num[24];

	*p++ = '*';
	p += pps_resp_u64(p, 3 + 2 * rs->sel.n + (maxlen ? 3 : 0));
	p = PPS_RESP_LIT(p, "\r\n$4\r\nXADD\r\n");
	p = pps_resp_bulk(p, rs->k_results, strlen(rs->k_results));
	if (maxlen) {
		p = PPS_RESP_LIT(p, "$6\r\nMAXLEN\r\n$1\r\n~\r\n");
		p = pps_resp_bulk(p, num, pps_resp_u64(num, maxlen));
	}
	p = PPS_RESP_LIT(p, "$1\r\n*\r\n");
	rs->xadd_head_len = (size_t)(p - rs->xadd_head);
}

int pps_output_redis_open(struct pps_output *o, const struct pps_config *cfg, FILE *err)
{
	struct redis_sink *rs;
	struct sigaction old;
	struct stat sb;
	uint64_t cap = 2, rnd = 0;
	int rc;

	memset(o, 0, sizeof(*o));
	rs = calloc(1, sizeof(*rs));
	if (!rs) {
		fprintf(err, "%s: out of memory for the Redis sink\n", cfg->prog);
		return -ENOMEM;
	}
	rs->cfg = cfg;
	rs->jfd = -1;
	/* parse the URL and resolve its host once: a reconnect must not wait for DNS */
	if ((rc = pps_redis_conn_init(&rs->k, cfg->redis_url)) < 0)
		goto fail;
	{ /* the stream entry: the common fields, then the probe module's own */
		char spec[512];

		const char *own = cfg->probe->stream_fields;

		if (cfg->banners && cfg->probe->id == PPS_PROBE_TCP_SYNSCAN)
			own = RS_BANNER_FIELDS;
		snprintf(spec, sizeof(spec), "%s%s%s", RS_STREAM_FIELDS, own ? "," : "",
			 own ? own : "");
		if (pps_fields_select(cfg->probe, spec, &rs->sel, rs->k.err, sizeof(rs->k.err))) {
			rc = -EINVAL;
			goto fail;
		}
	}
	/* bounds of one entry: a value is at most PPS_VALUE_SCRATCH bytes, a name 23 */
	rs->line_max = rs->sel.n * (PPS_VALUE_SCRATCH + 1) + 1;
	rs->bbuf_entry = RS_XADD_HEAD + rs->sel.n * (2 * 8 + 23 + PPS_VALUE_SCRATCH);
	rs->bbuf = malloc(RS_BATCH * rs->bbuf_entry + 1024);
	if (!rs->bbuf) {
		snprintf(rs->k.err, sizeof(rs->k.err), "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if (key(rs->k_results, cfg->redis_prefix, cfg->scan_id, "results") ||
	    key(rs->k_batches, cfg->redis_prefix, cfg->scan_id, "batches") ||
	    key(rs->k_meta, cfg->redis_prefix, cfg->scan_id, "meta") ||
	    key(rs->k_scans, cfg->redis_prefix, NULL, "scans")) {
		snprintf(rs->k.err, sizeof(rs->k.err), "key names too long");
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if (cfg->join) { /* a worker of a planned scan (pps_plan.h): its own hash, the scan's set */
		char what[RS_KEY_MAX];

		snprintf(what, sizeof(what), "worker:%s", cfg->worker ? cfg->worker : "");
		memcpy(rs->k_scan_meta, rs->k_meta, sizeof(rs->k_meta));
		rs->dedup = 1;
		if (key(rs->k_meta, cfg->redis_prefix, cfg->scan_id, what) ||
		    key(rs->k_seen, cfg->redis_prefix, cfg->scan_id, "seen")) {
			snprintf(rs->k.err, sizeof(rs->k.err), "key names too long");
			rc = -ENAMETOOLONG;
			goto fail;
		}
	}
	xadd_head(rs, cfg->redis_maxlen);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)getpid() << 32 ^ pps_realtime_ns();
	snprintf(rs->token, sizeof(rs->token), "%016" PRIx64, rnd);

	while (cap < cfg->redis_buffer)
		cap <<= 1;
	if (cfg->banners && cfg->probe->id == PPS_PROBE_TCP_SYNSCAN) {
		/* each slot holds its data result's bytes: a smaller ring, the journal beyond */
		if (cap > RS_BANNER_RING)
			cap = RS_BANNER_RING;
		rs->xslot = (sizeof(struct pps_fp_match) + cfg->banner_bytes + 7) & ~(size_t)7;
		rs->xarena = calloc(cap, rs->xslot);
		rs->xparse = calloc(1, sizeof(struct pps_fp_match) + PPS_FIRST_PAYLOAD_MAX);
	}
	rs->pend = calloc(cap, sizeof(*rs->pend));
	if (!rs->pend || (rs->xslot && (!rs->xarena || !rs->xparse))) {
		snprintf(rs->k.err, sizeof(rs->k.err),
			 "out of memory for %" PRIu64 " results (--redis-buffer)", cap);
		rc = -ENOMEM;
		goto fail;
	}
	rs->mask = cap - 1;

	/* hiredis writes with write(2): a dead server must not kill us with SIGPIPE */
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if ((rc = connect_redis(rs, RS_OPEN_TIMEOUT_S)) < 0)
		goto fail;
	if ((rc = check_type(rs, rs->k_results, "stream")) < 0 ||
	    (rc = check_type(rs, rs->k_batches, "set")) < 0 ||
	    (rc = check_type(rs, rs->k_meta, "hash")) < 0 ||
	    (rc = check_type(rs, rs->k_scans, "set")) < 0)
		goto fail;

	/* the journal is created now, so an unwritable path stops the scan before it starts */
	if (cfg->redis_journal && strlen(cfg->redis_journal) >= sizeof(rs->journal)) {
		fprintf(err,
			"%s: journal path too long (from --redis-journal): at most %zu bytes\n",
			cfg->prog, sizeof(rs->journal) - 1);
		rc = -ENAMETOOLONG;
		goto fail_printed;
	}
	if (cfg->redis_journal)
		snprintf(rs->journal, sizeof(rs->journal), "%s", cfg->redis_journal);
	else
		snprintf(rs->journal, sizeof(rs->journal), "ppscan-%s.journal", cfg->scan_id);
	rs->jfd = open(rs->journal, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (rs->jfd < 0 || fstat(rs->jfd, &sb) < 0) {
		rc = -errno;
		fprintf(err, "%s: cannot open journal '%s' (from --redis-journal): %s\n", cfg->prog,
			rs->journal, strerror(errno));
		goto fail_printed;
	}
	if (sb.st_size > 0) {
		uint64_t skipped = 0;
		long kept;

		close(rs->jfd);
		rs->jfd = -1;
		kept = rs_journal_adopt(rs, &skipped);
		if (kept < 0) {
			rc = (int)kept;
			fprintf(err, "%s: %s\n", cfg->prog, rs->k.err);
			goto fail_printed;
		}
		fprintf(err,
			"%s: redis: journal %s: %ld results of an earlier run of scan %s go out first (%" PRIu64
			" had arrived)\n",
			cfg->prog, rs->journal, kept, cfg->scan_id, skipped);
	}
	if ((rc = meta_open(rs, cfg)) < 0 ||
	    (rc = check_loss(rs, pps_monotonic_s() + RS_OPEN_TIMEOUT_S)) < 0) {
		unlink(rs->journal);
		goto fail;
	}
	if (cfg->redis_keep) {
		snprintf(rs->keep_path, sizeof(rs->keep_path), "%s.kept", rs->journal);
		if (!(rs->kf = fopen(rs->keep_path, "w+e"))) {
			rc = -errno;
			fprintf(err, "%s: cannot open '%s' (from --redis-keep): %s\n", cfg->prog,
				rs->keep_path, strerror(errno));
			unlink(rs->journal);
			goto fail_printed;
		}
	}
	persistence_note(rs, err);
	rs->opened = 1;
	pps_redis_backoff_init(&rs->bo, RS_BACKOFF_MIN_S, RS_BACKOFF_MAX_S);
	o->ops = &pps_output_redis;
	o->priv = rs;
	o->include_closed = cfg->output_closed;
	fprintf(err, "%s: redis: scan %s -> stream %s at %s\n", cfg->prog, cfg->scan_id,
		rs->k_results, rs->k.shown);
	return 0;
fail:
	fprintf(err, "%s: cannot use Redis at %s (from --redis): %s\n", cfg->prog, rs->k.shown,
		rs->k.err);
fail_printed:
	rs_free(rs);
	return rc;
}
