/*
 * out_redis.c - the Redis sink: results into a stream, progress into a hash, nothing lost
 * while Redis is away. Key schema in out_redis.h.
 *
 * Writing. write() only copies the result into `pend`, a ring the output thread owns
 * (--redis-buffer results, rounded up to a power of two). poll(), every monitor round
 * (about 1 ms), sends a batch when RS_BATCH results wait or the oldest has waited
 * RS_FLUSH_S. A batch is one transaction, formatted straight into a fixed buffer as RESP
 * (length-prefixed, so binary-safe like redisAppendCommandArgv, which would allocate a
 * buffer per command) and handed to hiredis with one redisAppendFormattedCommand:
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
 *   pend:  tail ........ sent ........ head      (indices grow forever; slot = i & mask)
 *          |  in flight  |   waiting    |
 */
#include "out_redis.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../pps_monitor.h"
#include "../pps_targets.h"
#include "../probe/pps_probe.h"
#include "pps_redis_url.h"

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
#define RS_LINE_MAX 64		   /* longest journal line: 15+1+5+1+6+1+3+1+20+1+6+1 */
#define RS_KEY_MAX 160
#define RS_XADD_HEAD 256  /* "*13 XADD key [MAXLEN ~ n] *" in RESP */
#define RS_RESULT_MAX 160 /* RESP of one result's fields */
#define RS_BBUF (RS_BATCH * (RS_XADD_HEAD + RS_RESULT_MAX) + 1024)

enum rs_kind { RS_CMD_BATCH = 1, RS_CMD_META = 2 };

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

struct redis_sink {
	const struct pps_config *cfg;
	struct pps_redis_url url;
	char shown[512]; /* the URL with the password masked */
	char addr[64];	 /* redis://: the host's address, resolved once at open */
	redisContext *c; /* NULL while disconnected; its reader serves synchronous calls */
	redisReader *rd; /* the pipeline's reader: static reply markers, no allocation */
	char k_results[RS_KEY_MAX], k_batches[RS_KEY_MAX], k_meta[RS_KEY_MAX], k_scans[RS_KEY_MAX];
	char token[24]; /* this run's batch marker prefix */
	uint64_t next_seq;
	char err[1536]; /* reason of the last failure */
	char rerr[256]; /* first error reply of the command being parsed */
	int rerr_n;

	struct pps_result *pend; /* ring of results not yet confirmed */
	uint64_t mask, head, sent, tail;
	double first_wait_s; /* when the oldest unsent result was first seen waiting, or 0 */

	struct rs_cmd fifo[RS_FIFO];
	uint32_t fifo_head, fifo_n; /* oldest command awaiting a reply, count */
	uint32_t inflight;	    /* batches among them */
	int wpending;		    /* output buffer not fully written */
	struct rs_doubt doubt[RS_INFLIGHT];
	uint32_t n_doubt;

	char xadd_head[RS_XADD_HEAD]; /* RESP up to the first field of an XADD */
	size_t xadd_head_len;
	char bbuf[RS_BBUF];   /* one batch in RESP */
	char netbuf[RS_JBUF]; /* replies as read */

	/* journal: [j_rd, j_wr) unread on disk, then jlen bytes in jbuf */
	char journal[1024];
	int jfd;
	uint64_t j_rd, j_wr, j_lines, j_total;
	size_t jlen;
	char jbuf[RS_JBUF];
	char rbuf[RS_JBUF];

	double next_try_s, backoff_s, down_since_s;
	uint64_t delivered, outages, resent;

	struct pps_totals totals; /* last progress */
	struct pps_progress prog;
	int final_given;
	char stop_reason[24];
};

/* ---- formatting without printf (per result) ---- */

static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

static size_t fmt_ip(char *buf, uint32_t ip_h)
{
	size_t n = 0;

	for (int s = 24; s >= 0; s -= 8) {
		n += fmt_u64(buf + n, (ip_h >> s) & 0xff);
		if (s)
			buf[n++] = '.';
	}
	buf[n] = '\0';
	return n;
}

/* Unix seconds with microseconds: "1764428184.123456". */
static size_t fmt_ts(char *buf, uint64_t ts_ns)
{
	size_t n = fmt_u64(buf, ts_ns / 1000000000ULL);
	uint64_t us = (ts_ns % 1000000000ULL) / 1000ULL;

	buf[n++] = '.';
	for (int d = 5; d >= 0; d--) {
		buf[n + (size_t)d] = (char)('0' + us % 10);
		us /= 10;
	}
	n += 6;
	buf[n] = '\0';
	return n;
}

static const char *status_of(const struct pps_result *r, size_t *len)
{
	if (pps_result_success(r)) {
		*len = 4;
		return "open";
	}
	*len = 6;
	return "closed";
}

/* One journal line "ip,port,status,ttl,ts\n" into @buf (RS_LINE_MAX). Returns its length. */
static size_t fmt_line(char *buf, const struct pps_result *r)
{
	size_t n = fmt_ip(buf, r->saddr_h), sl;
	const char *st = status_of(r, &sl);

	buf[n++] = ',';
	n += fmt_u64(buf + n, r->sport_h);
	buf[n++] = ',';
	memcpy(buf + n, st, sl);
	n += sl;
	buf[n++] = ',';
	n += fmt_u64(buf + n, r->ttl);
	buf[n++] = ',';
	n += fmt_ts(buf + n, r->ts_ns);
	buf[n++] = '\n';
	return n;
}

/* Parses a journal line (without its newline) back into @r. Returns 0 or -1. */
static int parse_line(const char *s, size_t len, struct pps_result *r)
{
	char f[5][24];
	size_t k = 0, fl = 0;
	uint32_t ip;
	char *end;
	unsigned long port, ttl, sec, us = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ',') {
			if (k == 5)
				return -1;
			f[k++][fl] = '\0';
			fl = 0;
		} else if (k < 5 && fl + 1 < sizeof(f[0])) {
			f[k][fl++] = s[i];
		} else {
			return -1;
		}
	}
	if (k != 5 || pps_parse_ipv4(f[0], &ip))
		return -1;
	port = strtoul(f[1], &end, 10);
	if (*end || port == 0 || port > 65535)
		return -1;
	ttl = strtoul(f[3], &end, 10);
	if (*end || ttl > 255)
		return -1;
	sec = strtoul(f[4], &end, 10);
	if (*end == '.')
		us = strtoul(end + 1, &end, 10);
	if (*end || us > 999999)
		return -1;
	memset(r, 0, sizeof(*r));
	r->probe = PPS_PROBE_TCP_SYNSCAN;
	r->saddr_h = ip;
	r->sport_h = (uint16_t)port;
	r->ttl = (uint8_t)ttl;
	if (!strcmp(f[2], "open"))
		r->classification = PPS_CLASS_SYNACK;
	else if (!strcmp(f[2], "closed"))
		r->classification = PPS_CLASS_RST;
	else
		return -1;
	r->ts_ns = (uint64_t)sec * 1000000000ULL + (uint64_t)us * 1000ULL;
	return 0;
}

/* ---- journal ---- */

static int journal_flush(struct redis_sink *rs)
{
	size_t off = 0;

	while (off < rs->jlen) {
		ssize_t w =
			pwrite(rs->jfd, rs->jbuf + off, rs->jlen - off, (off_t)(rs->j_wr + off));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	rs->j_wr += rs->jlen;
	rs->jlen = 0;
	return 0;
}

static int journal_append(struct redis_sink *rs, const struct pps_result *r)
{
	if (rs->jlen + RS_LINE_MAX > sizeof(rs->jbuf)) {
		int rc = journal_flush(rs);
		if (rc < 0)
			return rc;
	}
	rs->jlen += fmt_line(rs->jbuf + rs->jlen, r);
	rs->j_lines++;
	rs->j_total++;
	return 0;
}

static uint64_t ring_free(const struct redis_sink *rs)
{
	return rs->mask + 1 - (rs->head - rs->tail);
}

/* Moves the oldest journal lines into the ring while it has room. Returns 0 or -errno. */
static int journal_refill(struct redis_sink *rs)
{
	int rc = journal_flush(rs);

	if (rc < 0)
		return rc;
	while (rs->j_lines && ring_free(rs)) {
		size_t want = sizeof(rs->rbuf), used = 0;
		ssize_t got;

		if (rs->j_wr - rs->j_rd < want)
			want = (size_t)(rs->j_wr - rs->j_rd);
		got = pread(rs->jfd, rs->rbuf, want, (off_t)rs->j_rd);
		if (got < 0)
			return errno == EINTR ? 0 : -errno;
		while (ring_free(rs)) {
			char *nl = memchr(rs->rbuf + used, '\n', (size_t)got - used);
			struct pps_result r;

			if (!nl)
				break;
			if (parse_line(rs->rbuf + used, (size_t)(nl - rs->rbuf) - used, &r) == 0)
				rs->pend[rs->head++ & rs->mask] = r;
			used = (size_t)(nl - rs->rbuf) + 1;
			rs->j_lines--;
		}
		if (!used) { /* a line longer than the buffer: not ours; drop the rest */
			rs->j_lines = 0;
			rs->j_rd = rs->j_wr;
			break;
		}
		rs->j_rd += used;
	}
	if (rs->j_rd == rs->j_wr) {
		rs->j_lines = 0;
		rs->j_rd = rs->j_wr = 0;
		if (ftruncate(rs->jfd, 0) < 0)
			return -errno;
	}
	return 0;
}

/*
 * At close: the journal becomes exactly the undelivered results, written to FILE.tmp and
 * renamed over FILE:
 *
 *   #ppscan-journal v1 stream=ppscan:s1:results
 *   #doubt 3f9a0c1e5d2b4a77:12 512      the next 512 lines went out in that batch, whose
 *   198.18.8.17,22,open,64,1795966789.589774     reply was lost: Redis may hold them
 *   ...                                 then the rest of the ring, then the unread journal
 *
 * A later run of the same scan adopts the file (journal_adopt()). Returns 0 or -errno.
 */
static int journal_spill(struct redis_sink *rs)
{
	char tmp[sizeof(rs->journal) + 8], line[RS_LINE_MAX];
	uint64_t at = rs->tail, lines = 0;
	FILE *f;
	int rc = journal_flush(rs);

	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", rs->journal);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "#ppscan-journal v1 stream=%s\n", rs->k_results);
	for (uint32_t i = 0; i < rs->n_doubt; i++) {
		fprintf(f, "#doubt %s:%" PRIu64 " %u\n", rs->token, rs->doubt[i].seq,
			rs->doubt[i].n);
		for (uint32_t k = 0; k < rs->doubt[i].n && at < rs->head; k++, at++, lines++)
			fwrite(line, 1, fmt_line(line, &rs->pend[at & rs->mask]), f);
	}
	for (; at < rs->head; at++, lines++)
		fwrite(line, 1, fmt_line(line, &rs->pend[at & rs->mask]), f);
	for (uint64_t off = rs->j_rd; off < rs->j_wr;) {
		size_t want = sizeof(rs->rbuf);
		ssize_t got;

		if (rs->j_wr - off < want)
			want = (size_t)(rs->j_wr - off);
		got = pread(rs->jfd, rs->rbuf, want, (off_t)off);
		if (got <= 0) {
			rc = got < 0 ? -errno : -EIO;
			break;
		}
		fwrite(rs->rbuf, 1, (size_t)got, f);
		off += (uint64_t)got;
	}
	if (fflush(f) || fsync(fileno(f)))
		rc = rc ? rc : -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, rs->journal) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	rs->j_lines += lines;
	rs->tail = rs->sent = rs->head;
	rs->n_doubt = 0;
	return 0;
}

/* ---- replies without allocation ---- */

/* The pipeline's reader builds no objects: each reply is one of these markers. */
static char obj_status, obj_string, obj_int, obj_array, obj_nil, obj_error;

static void *obj_string_fn(const redisReadTask *t, char *s, size_t len)
{
	struct redis_sink *rs = t->privdata;

	if (t->type == REDIS_REPLY_ERROR) {
		if (!rs->rerr_n++)
			snprintf(rs->rerr, sizeof(rs->rerr), "%.*s", (int)len, s);
		return &obj_error;
	}
	return t->type == REDIS_REPLY_STATUS ? &obj_status : &obj_string;
}

static void *obj_array_fn(const redisReadTask *t, int n)
{
	(void)t;
	(void)n;
	return &obj_array;
}

static void *obj_int_fn(const redisReadTask *t, long long v)
{
	(void)t;
	(void)v;
	return &obj_int;
}

static void *obj_nil_fn(const redisReadTask *t)
{
	(void)t;
	return &obj_nil;
}

static void obj_free_fn(void *o)
{
	(void)o;
}

static redisReplyObjectFunctions rs_objs = {
	.createString = obj_string_fn,
	.createArray = obj_array_fn,
	.createInteger = obj_int_fn,
	.createNil = obj_nil_fn,
	.freeObject = obj_free_fn,
};

/* ---- connection ---- */

/* Waits for @events on @fd until @deadline_s (monotonic). Returns > 0 ready, 0 timeout. */
static int wait_fd(int fd, short events, double deadline_s)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = deadline_s - pps_monotonic_s();
		int ms = left > 0 ? (int)(left * 1000) + 1 : 0, rc;

		rc = poll(&p, 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc;
	}
}

/* Closes the connection. Batches without an EXEC reply become doubts for the reconnect. */
static void drop(struct redis_sink *rs)
{
	for (uint32_t i = 0; i < rs->fifo_n; i++) {
		const struct rs_cmd *c = &rs->fifo[(rs->fifo_head + i) % RS_FIFO];

		if (c->kind == RS_CMD_BATCH && rs->n_doubt < RS_INFLIGHT)
			rs->doubt[rs->n_doubt++] = (struct rs_doubt){ c->seq, c->n };
	}
	if (rs->c)
		redisFree(rs->c);
	if (rs->rd)
		redisReaderFree(rs->rd);
	rs->c = NULL;
	rs->rd = NULL;
	rs->fifo_head = rs->fifo_n = rs->inflight = 0;
	rs->wpending = 0;
	rs->sent = rs->tail; /* unconfirmed results wait again */
}

/* A command on the non-blocking context, waiting for its reply (handshake, close only). */
static redisReply *call(struct redis_sink *rs, double timeout_s, int argc, const char **argv,
			const size_t *lens)
{
	double deadline = pps_monotonic_s() + timeout_s;
	void *reply = NULL;
	int done = 0;

	if (redisAppendCommandArgv(rs->c, argc, argv, lens) != REDIS_OK)
		goto io;
	while (!done) {
		if (redisBufferWrite(rs->c, &done) != REDIS_OK)
			goto io;
		if (!done && wait_fd(rs->c->fd, POLLOUT, deadline) <= 0)
			goto timeout;
	}
	for (;;) {
		if (redisGetReplyFromReader(rs->c, &reply) != REDIS_OK)
			goto io;
		if (reply)
			return reply;
		if (wait_fd(rs->c->fd, POLLIN, deadline) <= 0)
			goto timeout;
		if (redisBufferRead(rs->c) != REDIS_OK)
			goto io;
	}
io:
	snprintf(rs->err, sizeof(rs->err), "%s", rs->c->errstr[0] ? rs->c->errstr : "I/O error");
	return NULL;
timeout:
	snprintf(rs->err, sizeof(rs->err), "no reply within %.0f ms", timeout_s * 1000);
	return NULL;
}

/* call() with NUL-terminated arguments, a NULL-terminated list. */
static redisReply *callv(struct redis_sink *rs, double timeout_s, const char *const *args)
{
	const char *argv[24];
	size_t lens[24];
	int n = 0;

	while (args[n] && n < 24) {
		argv[n] = args[n];
		lens[n] = strlen(args[n]);
		n++;
	}
	return call(rs, timeout_s, n, argv, lens);
}

/* Reply @r is an error: copies it into rs->err with @what in front. Returns 1 if so. */
static int is_error(struct redis_sink *rs, redisReply *r, const char *what)
{
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	snprintf(rs->err, sizeof(rs->err), "%s%s", what, r->str);
	return 1;
}

static void ring_move(struct redis_sink *rs, uint64_t to, uint64_t from)
{
	rs->pend[to & rs->mask] = rs->pend[from & rs->mask];
}

/*
 * After a reconnect: asks which doubtful batches were applied (their marker is in
 * P:S:batches), confirms those and keeps the others' results, in order, to send again.
 * Returns 0, or -errno (rs->err set) if Redis did not answer.
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
		r = callv(rs, deadline - pps_monotonic_s(), a);
		if (!r)
			return -EIO;
		if (is_error(rs, r, "SISMEMBER: ")) {
			freeReplyObject(r);
			return -EPROTO;
		}
		gone[i] = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
		freeReplyObject(r);
	}
	/* the doubtful batches lie at [tail, ...) in order; compact the kept ones toward
	 * the newer end, so the applied ones fall off the tail */
	for (uint32_t i = 0; i < rs->n_doubt; i++)
		at += rs->doubt[i].n;
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
 * Connects, authenticates, selects the database and pings within @timeout_s, then settles
 * the batches left in doubt by a lost connection. Returns 0 with rs->c and rs->rd set, or
 * -errno with the reason in rs->err.
 */
static int connect_redis(struct redis_sink *rs, double timeout_s)
{
	const struct pps_redis_url *u = &rs->url;
	double deadline = pps_monotonic_s() + timeout_s;
	redisReply *r;
	char db[16];
	int rc = 0;

	rs->c = u->is_unix ? redisConnectUnixNonBlock(u->path)
			   : redisConnectNonBlock(rs->addr, u->port_h);
	if (!rs->c) {
		snprintf(rs->err, sizeof(rs->err), "out of memory");
		return -ENOMEM;
	}
	if (rs->c->err) {
		snprintf(rs->err, sizeof(rs->err), "cannot connect: %s", rs->c->errstr);
		rc = -ECONNREFUSED;
		goto fail;
	}
	if (!u->is_unix) { /* TCP connects in the background: wait, then ask how it went */
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (wait_fd(rs->c->fd, POLLOUT, deadline) <= 0) {
			snprintf(rs->err, sizeof(rs->err),
				 "cannot connect: no answer within %.0f ms", timeout_s * 1000);
			rc = -ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(rs->c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			snprintf(rs->err, sizeof(rs->err), "cannot connect: %s",
				 strerror(soerr ? soerr : errno));
			rc = -ECONNREFUSED;
			goto fail;
		}
	}
	if (u->has_password) {
		const char *a3[] = { "AUTH", u->user, u->password, NULL };
		const char *a2[] = { "AUTH", u->password, NULL };

		r = callv(rs, deadline - pps_monotonic_s(), u->user[0] ? a3 : a2);
		if (!r)
			goto fail_io;
		if (is_error(rs, r, "authentication failed: "))
			rc = -EACCES;
		freeReplyObject(r);
		if (rc)
			goto fail;
	}
	if (u->db) {
		const char *a[] = { "SELECT", db, NULL };

		snprintf(db, sizeof(db), "%u", u->db);
		r = callv(rs, deadline - pps_monotonic_s(), a);
		if (!r)
			goto fail_io;
		if (is_error(rs, r, "cannot select the database: "))
			rc = -EINVAL;
		freeReplyObject(r);
		if (rc)
			goto fail;
	}
	{
		const char *a[] = { "PING", NULL };

		r = callv(rs, deadline - pps_monotonic_s(), a);
		if (!r)
			goto fail_io;
		if (r->type == REDIS_REPLY_ERROR) { /* NOAUTH, or LOADING after a restart */
			rc = !strncmp(r->str, "NOAUTH", 6) ? -EACCES : -EAGAIN;
			is_error(rs, r, rc == -EACCES ? "the server wants a password: " : "PING: ");
		}
		freeReplyObject(r);
		if (rc)
			goto fail;
	}
	if (rs->n_doubt && (rc = resolve_doubts(rs, deadline)) < 0)
		goto fail;
	rs->rd = redisReaderCreateWithFunctions(&rs_objs);
	if (!rs->rd) {
		snprintf(rs->err, sizeof(rs->err), "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	redisReaderSetPrivdata(rs->rd, rs);
	return 0;
fail_io:
	rc = -EIO;
fail:
	redisFree(rs->c);
	rs->c = NULL;
	return rc;
}

/* The connection failed during the scan: keep everything, schedule a reconnect. */
static void lost(struct redis_sink *rs, double now, const char *why)
{
	if (!why && rs->c && rs->c->err)
		why = rs->c->errstr;
	fprintf(stderr,
		"%s: redis: lost %s (%s): keeping results (%" PRIu64 " waiting), reconnecting\n",
		rs->cfg->prog, rs->shown, why ? why : "connection closed",
		(rs->head - rs->tail) + rs->j_lines);
	drop(rs);
	rs->outages++;
	rs->down_since_s = now;
	/* the backoff resets only when a batch gets through: a server that accepts
	 * connections but fails every write is retried at most every RS_BACKOFF_MAX_S */
	rs->next_try_s = now + rs->backoff_s;
	rs->backoff_s = rs->backoff_s * 2 > RS_BACKOFF_MAX_S ? RS_BACKOFF_MAX_S : rs->backoff_s * 2;
}

static void try_reconnect(struct redis_sink *rs, double now)
{
	uint64_t doubts = 0, before = rs->delivered;

	for (uint32_t i = 0; i < rs->n_doubt; i++)
		doubts += rs->doubt[i].n;
	if (connect_redis(rs, RS_RECONNECT_TIMEOUT_S) < 0) {
		rs->next_try_s = pps_monotonic_s() + rs->backoff_s;
		rs->backoff_s =
			rs->backoff_s * 2 > RS_BACKOFF_MAX_S ? RS_BACKOFF_MAX_S : rs->backoff_s * 2;
		return;
	}
	fprintf(stderr,
		"%s: redis: reconnected to %s after %.1f s: %" PRIu64 " of %" PRIu64
		" unconfirmed results had arrived; sending %" PRIu64 " buffered and %" PRIu64
		" journaled results\n",
		rs->cfg->prog, rs->shown, now - rs->down_since_s, rs->delivered - before, doubts,
		rs->head - rs->tail, rs->j_lines);
}

/* ---- pipeline ---- */

static char *put_bulk(char *p, const char *s, size_t len)
{
	*p++ = '$';
	p += fmt_u64(p, len);
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, s, len);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* @lit must be a string literal (sizeof is its length + 1) */
#define PUT_LIT(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* Appends one transaction for the next @n waiting results. Returns 0 or -1 (no memory). */
static int send_batch(struct redis_sink *rs, uint32_t n)
{
	char *p = rs->bbuf, tmp[32], marker[48];
	uint64_t seq = rs->next_seq++;
	size_t ml;

	p = PUT_LIT(p, "*1\r\n$5\r\nMULTI\r\n");
	for (uint32_t i = 0; i < n; i++) {
		const struct pps_result *r = &rs->pend[(rs->sent + i) & rs->mask];
		size_t sl;
		const char *st = status_of(r, &sl);

		memcpy(p, rs->xadd_head, rs->xadd_head_len);
		p += rs->xadd_head_len;
		p = PUT_LIT(p, "$2\r\nip\r\n");
		p = put_bulk(p, tmp, fmt_ip(tmp, r->saddr_h));
		p = PUT_LIT(p, "$4\r\nport\r\n");
		p = put_bulk(p, tmp, fmt_u64(tmp, r->sport_h));
		p = PUT_LIT(p, "$6\r\nstatus\r\n");
		p = put_bulk(p, st, sl);
		p = PUT_LIT(p, "$3\r\nttl\r\n");
		p = put_bulk(p, tmp, fmt_u64(tmp, r->ttl));
		p = PUT_LIT(p, "$2\r\nts\r\n");
		p = put_bulk(p, tmp, fmt_ts(tmp, r->ts_ns));
	}
	ml = (size_t)snprintf(marker, sizeof(marker), "%s:%" PRIu64, rs->token, seq);
	p = PUT_LIT(p, "*3\r\n$4\r\nSADD\r\n");
	p = put_bulk(p, rs->k_batches, strlen(rs->k_batches));
	p = put_bulk(p, marker, ml);
	p = PUT_LIT(p, "*4\r\n$7\r\nHINCRBY\r\n");
	p = put_bulk(p, rs->k_meta, strlen(rs->k_meta));
	p = PUT_LIT(p, "$7\r\nresults\r\n");
	p = put_bulk(p, tmp, fmt_u64(tmp, n));
	p = PUT_LIT(p, "*1\r\n$4\r\nEXEC\r\n");
	if (redisAppendFormattedCommand(rs->c, rs->bbuf, (size_t)(p - rs->bbuf)) != REDIS_OK)
		return -1;
	rs->fifo[(rs->fifo_head + rs->fifo_n++) % RS_FIFO] =
		(struct rs_cmd){ RS_CMD_BATCH, n, n + 4, 0, seq };
	rs->sent += n;
	rs->inflight++;
	return 0;
}

/*
 * One reply (a marker object) for the oldest command. Returns 0, or -1 when the connection
 * should be dropped (reason in rs->err).
 */
static int on_reply(struct redis_sink *rs, void *obj)
{
	struct rs_cmd *cmd = &rs->fifo[rs->fifo_head];

	if (rs->rerr_n) { /* an error reply, or errors inside EXEC's array */
		cmd->bad = 1;
		snprintf(rs->err, sizeof(rs->err), "%s", rs->rerr);
		rs->rerr_n = 0;
	}
	if (--cmd->left)
		return 0;
	/* the command's last reply: EXEC for a batch */
	rs->fifo_head = (rs->fifo_head + 1) % RS_FIFO;
	rs->fifo_n--;
	if (cmd->kind != RS_CMD_BATCH)
		return cmd->bad ? -1 : 0;
	rs->inflight--;
	if (obj != &obj_array) {
		/* EXECABORT (an error while queueing: nothing applied) or nil; the batch goes
		 * back to waiting with the rest when the connection is dropped */
		if (!cmd->bad)
			snprintf(rs->err, sizeof(rs->err), "transaction not executed");
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
			journal_append(rs, &rs->pend[(rs->tail + i) & rs->mask]);
		rs->tail += cmd->n;
		return -1;
	}
	rs->tail += cmd->n;
	rs->delivered += cmd->n;
	rs->backoff_s = RS_BACKOFF_MIN_S;
	return 0;
}

/* Reads and handles every reply available. Returns 0, or -1 to drop the connection. */
static int read_replies(struct redis_sink *rs)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n = read(rs->c->fd, rs->netbuf, sizeof(rs->netbuf));
		void *obj;

		if (n == 0) {
			snprintf(rs->err, sizeof(rs->err), "server closed the connection");
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			snprintf(rs->err, sizeof(rs->err), "%s", strerror(errno));
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
				snprintf(rs->err, sizeof(rs->err), "a reply nobody asked for");
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
	snprintf(rs->err, sizeof(rs->err), "protocol error: %s", rs->rd->errstr);
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

	if (!rs->c)
		return 0;
	if (rs->fifo_n && read_replies(rs) < 0) {
		lost(rs, now, rs->err);
		return 0;
	}
	if (rs->j_lines && ring_free(rs))
		rc = journal_refill(rs);
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
	if (redisBufferWrite(rs->c, &done) != REDIS_OK) {
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

/* The options as a JSON object of the config dump (-C format), the password masked. */
static char *options_json(const struct pps_config *cfg)
{
	char *buf = NULL, *line, *save = NULL, *out;
	size_t len = 0;
	json_t *o = json_object();
	FILE *mf = open_memstream(&buf, &len);

	if (!o || !mf) {
		if (mf)
			fclose(mf);
		json_decref(o);
		return NULL;
	}
	pps_config_dump(cfg, mf);
	fclose(mf);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " = "), shown[512];

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		if (!strcmp(line, "redis")) {
			pps_redis_url_mask(eq + 3, shown, sizeof(shown));
			json_object_set_new(o, line, json_string(shown));
		} else {
			json_object_set_new(o, line, json_string(eq + 3));
		}
	}
	free(buf);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

/* Appends a meta update (HSET) to the pipeline if connected and there is room. */
static void meta_update(struct redis_sink *rs)
{
	static struct kv k; /* output thread only */

	if (!rs->c || rs->fifo_n >= RS_FIFO)
		return;
	kv_start(&k, rs, "HSET");
	kv_add(&k, "state", "%s", pps_scan_state_name(PPS_SCAN_RUNNING));
	kv_time(&k, "updated", "updated_ts", pps_realtime_ns());
	kv_counters(&k, rs);
	if (redisAppendCommandArgv(rs->c, k.argc, k.argv, k.lens) == REDIS_OK)
		rs->fifo[(rs->fifo_head + rs->fifo_n++) % RS_FIFO] =
			(struct rs_cmd){ RS_CMD_META, 0, 1, 0, 0 };
}

/* Checks that @key is absent or of @type. Returns 0, or -EEXIST / -EIO (rs->err set). */
static int check_type(struct redis_sink *rs, const char *key, const char *type)
{
	const char *a[] = { "TYPE", key, NULL };
	redisReply *r = callv(rs, RS_OPEN_TIMEOUT_S, a);
	int rc = 0;

	if (!r)
		return -EIO;
	if (r->type == REDIS_REPLY_ERROR) {
		is_error(rs, r, "TYPE: ");
		rc = -EPROTO;
	} else if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "none") &&
		   strcmp(r->str, type)) {
		snprintf(
			rs->err, sizeof(rs->err),
			"key '%s' holds a %s, not a %s: choose another --scan-id or --redis-prefix",
			key, r->str, type);
		rc = -EEXIST;
	}
	freeReplyObject(r);
	return rc;
}

/* Initial meta hash and the scan set, synchronously. Returns 0 or -errno (rs->err). */
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
	r = call(rs, RS_OPEN_TIMEOUT_S, k.argc, k.argv, k.lens);
	if (!r)
		return -EIO;
	if (is_error(rs, r, "cannot write the meta hash: "))
		rc = -EPROTO;
	freeReplyObject(r);
	if (rc)
		return rc;
	/* the first run of a scan id sets its start; a resumed run keeps it */
	kv_start(&k, rs, "HSETNX");
	kv_time(&k, "start", "start_ts", now);
	for (int i = 2; i + 1 < k.argc; i += 2) {
		const char *a[5] = { "HSETNX", rs->k_meta, k.argv[i], k.argv[i + 1], NULL };

		r = callv(rs, RS_OPEN_TIMEOUT_S, a);
		if (!r)
			return -EIO;
		freeReplyObject(r);
	}
	{
		const char *a[] = { "SADD", rs->k_scans, cfg->scan_id, NULL };

		r = callv(rs, RS_OPEN_TIMEOUT_S, a);
		if (!r)
			return -EIO;
		if (is_error(rs, r, "cannot add the scan id: "))
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

	if (!rs->c || rs->fifo_n)
		return;
	kv_start(&k, rs, "HSET");
	kv_add(&k, "state", "%s", pps_scan_state_name(st));
	kv_add(&k, "stop_reason", "%s", rs->stop_reason);
	kv_time(&k, "end", "end_ts", pps_realtime_ns());
	kv_time(&k, "updated", "updated_ts", pps_realtime_ns());
	kv_counters(&k, rs);
	kv_add(&k, "undelivered", "%" PRIu64, undelivered);
	kv_add(&k, "journal", "%s", undelivered ? rs->journal : "");
	r = call(rs, 1.0, k.argc, k.argv, k.lens);
	if (!r || is_error(rs, r, ""))
		fprintf(stderr, "%s: redis: cannot write the final state to %s: %s\n",
			rs->cfg->prog, rs->shown, rs->err);
	if (r)
		freeReplyObject(r);
}

/*
 * A journal that is not empty at start was left by an earlier run of this scan (its header
 * names this stream; anything else is refused). Its results go out first: they are kept in
 * a rewritten journal, except "#doubt" batches whose marker is in P:S:batches (they had
 * arrived after all). Returns the number kept, or -errno with rs->err set.
 */
static long journal_adopt(struct redis_sink *rs, uint64_t *skipped)
{
	char tmp[sizeof(rs->journal) + 8], line[512], want[RS_KEY_MAX + 40];
	FILE *in, *out = NULL;
	long kept = 0, ln = 1;
	uint32_t skip = 0;
	struct stat sb;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", rs->journal);
	snprintf(want, sizeof(want), "#ppscan-journal v1 stream=%s\n", rs->k_results);
	in = fopen(rs->journal, "r");
	if (!in) {
		snprintf(rs->err, sizeof(rs->err), "cannot read journal '%s': %s", rs->journal,
			 strerror(errno));
		return -errno;
	}
	if (!fgets(line, sizeof(line), in) || strcmp(line, want)) {
		snprintf(
			rs->err, sizeof(rs->err),
			"journal '%s' (from --redis-journal) holds results that are not from stream %s: load or remove it first",
			rs->journal, rs->k_results);
		fclose(in);
		return -EEXIST;
	}
	out = fopen(tmp, "w");
	if (!out) {
		rc = -errno;
		snprintf(rs->err, sizeof(rs->err), "cannot write '%s': %s", tmp, strerror(errno));
		goto done;
	}
	while (fgets(line, sizeof(line), in)) {
		struct pps_result res;
		char marker[64];
		unsigned n;

		ln++;
		if (line[0] == '#') {
			if (sscanf(line, "#doubt %63s %u", marker, &n) == 2) {
				const char *a[] = { "SISMEMBER", rs->k_batches, marker, NULL };
				redisReply *r = callv(rs, RS_OPEN_TIMEOUT_S, a);

				if (!r) {
					rc = -EIO;
					goto done;
				}
				if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
					skip = n;
					*skipped += n;
				}
				freeReplyObject(r);
			}
			continue;
		}
		if (skip) {
			skip--;
			continue;
		}
		if (parse_line(line, strcspn(line, "\n"), &res)) {
			snprintf(rs->err, sizeof(rs->err),
				 "journal '%s' line %ld: expected ip,port,status,ttl,ts",
				 rs->journal, ln);
			rc = -EINVAL;
			goto done;
		}
		fwrite(line, 1, fmt_line(line, &res), out);
		kept++;
	}
	if (fflush(out) || fsync(fileno(out)) || fclose(out)) {
		out = NULL;
		rc = -errno;
		snprintf(rs->err, sizeof(rs->err), "cannot write '%s': %s", tmp, strerror(errno));
		goto done;
	}
	out = NULL;
	if (rename(tmp, rs->journal) < 0 || (rs->jfd = open(rs->journal, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(rs->jfd, &sb) < 0) {
		rc = -errno;
		snprintf(rs->err, sizeof(rs->err), "cannot reopen journal '%s': %s", rs->journal,
			 strerror(errno));
		goto done;
	}
	rs->j_wr = (uint64_t)sb.st_size;
	rs->j_lines = (uint64_t)kept;
done:
	fclose(in);
	if (out)
		fclose(out);
	if (rc)
		unlink(tmp);
	return rc ? rc : kept;
}

/* ---- ops ---- */

static int rs_write(struct pps_output *o, const struct pps_result *r)
{
	struct redis_sink *rs = o->priv;

	if (!rs->j_lines && rs->head - rs->tail <= rs->mask) {
		rs->pend[rs->head++ & rs->mask] = *r;
		return 0;
	}
	return journal_append(rs, r); /* Redis slow or away, and the ring is full */
}

static int rs_poll(struct pps_output *o, double now)
{
	struct redis_sink *rs = o->priv;
	int rc = journal_flush(rs);

	if (!rs->c && now >= rs->next_try_s)
		try_reconnect(rs, now);
	if (rs->c) {
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
	free(rs->pend);
	free(rs);
}

static int rs_close(struct pps_output *o)
{
	struct redis_sink *rs = o->priv;
	double t = pps_monotonic_s(), last_progress = t;
	uint64_t left = undelivered(rs);
	enum pps_scan_state st = rs->final_given ? rs->prog.state : PPS_SCAN_INTERRUPTED;
	int rc = 0;

	if (!rs->final_given)
		snprintf(rs->stop_reason, sizeof(rs->stop_reason), "aborted");
	/* deliver what waits, reconnecting if needed, until done or no progress for a while */
	while (undelivered(rs) || rs->fifo_n) {
		if (!rs->c && t >= rs->next_try_s)
			try_reconnect(rs, t);
		if (rs->c) {
			int jrc = pump(rs, t, 1);
			if (jrc < 0 && !rc)
				rc = jrc;
			if (rs->c && rs->fifo_n)
				wait_fd(rs->c->fd, (short)(POLLIN | (rs->wpending ? POLLOUT : 0)),
					t + 0.05);
		} else {
			double nap = rs->next_try_s - t;
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
	left = undelivered(rs);
	meta_close(rs, st, left);
	if (left) {
		int jrc;

		drop(rs); /* batches still awaiting EXEC become doubts, marked in the journal */
		jrc = journal_spill(rs);
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
				rs->cfg->prog, rs->j_lines, rs->shown, rs->journal,
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
			rs->cfg->prog, rs->delivered, rs->k_results, rs->cfg->scan_id, rs->outages,
			rs->resent);
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
	st->connected = rs->c != NULL;
}

static int key(char *buf, const char *prefix, const char *scan, const char *what)
{
	int n = scan ? snprintf(buf, RS_KEY_MAX, "%s:%s:%s", prefix, scan, what)
		     : snprintf(buf, RS_KEY_MAX, "%s:%s", prefix, what);
	return n > 0 && n < RS_KEY_MAX ? 0 : -ENAMETOOLONG;
}

/* The host of a redis:// URL as a numeric address into rs->addr. Returns 0 or -errno. */
static int resolve(struct redis_sink *rs)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo(rs->url.host, NULL, &hints, &res);

	if (rc) {
		snprintf(rs->err, sizeof(rs->err), "cannot resolve '%s': %s", rs->url.host,
			 gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, rs->addr, sizeof(rs->addr), NULL, 0,
			 NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc) {
		snprintf(rs->err, sizeof(rs->err), "cannot resolve '%s': %s", rs->url.host,
			 gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	return 0;
}

/* The constant start of every XADD: "XADD key [MAXLEN ~ n] *" as RESP. */
static void xadd_head(struct redis_sink *rs, uint64_t maxlen)
{
	char *p = rs->xadd_head, num[24];

	if (maxlen)
		p = PUT_LIT(p, "*16\r\n$4\r\nXADD\r\n");
	else
		p = PUT_LIT(p, "*13\r\n$4\r\nXADD\r\n");
	p = put_bulk(p, rs->k_results, strlen(rs->k_results));
	if (maxlen) {
		p = PUT_LIT(p, "$6\r\nMAXLEN\r\n$1\r\n~\r\n");
		p = put_bulk(p, num, fmt_u64(num, maxlen));
	}
	p = PUT_LIT(p, "$1\r\n*\r\n");
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
	pps_redis_url_mask(cfg->redis_url, rs->shown, sizeof(rs->shown));
	if (pps_redis_url_parse(cfg->redis_url, &rs->url, rs->err, sizeof(rs->err))) {
		rc = -EINVAL;
		goto fail;
	}
	if (key(rs->k_results, cfg->redis_prefix, cfg->scan_id, "results") ||
	    key(rs->k_batches, cfg->redis_prefix, cfg->scan_id, "batches") ||
	    key(rs->k_meta, cfg->redis_prefix, cfg->scan_id, "meta") ||
	    key(rs->k_scans, cfg->redis_prefix, NULL, "scans")) {
		snprintf(rs->err, sizeof(rs->err), "key names too long");
		rc = -ENAMETOOLONG;
		goto fail;
	}
	xadd_head(rs, cfg->redis_maxlen);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)getpid() << 32 ^ pps_realtime_ns();
	snprintf(rs->token, sizeof(rs->token), "%016" PRIx64, rnd);

	while (cap < cfg->redis_buffer)
		cap <<= 1;
	rs->pend = calloc(cap, sizeof(*rs->pend));
	if (!rs->pend) {
		snprintf(rs->err, sizeof(rs->err),
			 "out of memory for %" PRIu64 " results (--redis-buffer)", cap);
		rc = -ENOMEM;
		goto fail;
	}
	rs->mask = cap - 1;

	/* hiredis writes with write(2): a dead server must not kill us with SIGPIPE */
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	/* resolve once: a reconnect must not wait for DNS on the output thread */
	if (!rs->url.is_unix && (rc = resolve(rs)) < 0)
		goto fail;
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
		kept = journal_adopt(rs, &skipped);
		if (kept < 0) {
			rc = (int)kept;
			fprintf(err, "%s: %s\n", cfg->prog, rs->err);
			goto fail_printed;
		}
		fprintf(err,
			"%s: redis: journal %s: %ld results of an earlier run of scan %s go out first (%" PRIu64
			" had arrived)\n",
			cfg->prog, rs->journal, kept, cfg->scan_id, skipped);
	}
	if ((rc = meta_open(rs, cfg)) < 0) {
		unlink(rs->journal);
		goto fail;
	}
	rs->backoff_s = RS_BACKOFF_MIN_S;
	o->ops = &pps_output_redis;
	o->priv = rs;
	o->include_closed = cfg->output_closed;
	fprintf(err, "%s: redis: scan %s -> stream %s at %s\n", cfg->prog, cfg->scan_id,
		rs->k_results, rs->shown);
	return 0;
fail:
	fprintf(err, "%s: cannot use Redis at %s (from --redis): %s\n", cfg->prog, rs->shown,
		rs->err);
fail_printed:
	rs_free(rs);
	return rc;
}
