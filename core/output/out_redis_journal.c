/*
 * The Redis sink's journal (out_redis.c explains when results go there): text lines of the
 * stream entry's values, "198.18.0.7,443,open,64,1764428184.123456" for tcp_synscan
 * (ip,port,status,ttl,ts), appended while Redis is away and the ring is full, read back
 * oldest first when it returns. Lines are written and parsed through the field extractor
 * (each stream field's get() and set()), so a probe kind's own stream fields journal too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fingerprint.h"
#include "../pps_clock.h"
#include "../probe/pps_probe.h"
#include "out_redis_sink.h"

size_t rs_line(const struct redis_sink *rs, char *buf, const struct pps_result *r)
{
	char scratch[PPS_VALUE_SCRATCH], num[24];
	size_t n = 0;

	for (unsigned i = 0; i < rs->sel.n; i++) {
		struct pps_value v;
		const char *t;
		size_t len;

		pps_fields_get(&rs->sel, i, r, &v, scratch);
		t = pps_value_text(&v, num, &len);
		if (i)
			buf[n++] = ',';
		memcpy(buf + n, t, len);
		n += len;
	}
	buf[n++] = '\n';
	return n;
}

/* Parses a journal line (without its newline) back into @r. Returns 0 or -1. */
static int parse_line(const struct redis_sink *rs, const char *s, size_t len, struct pps_result *r)
{
	char f[PPS_VALUE_SCRATCH];
	unsigned k = 0;
	size_t fl = 0;

	memset(r, 0, sizeof(*r));
	r->probe = (uint8_t)rs->cfg->probe->id;
	if (rs->xparse) { /* --banners: the banner fields' set() write into the parser's copy */
		memset(rs->xparse, 0, sizeof(struct pps_fp_match));
		r->banner.id = (const struct pps_fp_match *)rs->xparse;
		r->banner.data = rs->xparse + sizeof(struct pps_fp_match);
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',') {
			if (fl + 1 >= sizeof(f))
				return -1;
			f[fl++] = s[i];
			continue;
		}
		f[fl] = '\0';
		fl = 0;
		if (k == rs->sel.n || !rs->sel.f[k]->set || rs->sel.f[k]->set(r, f))
			return -1;
		k++;
	}
	return k == rs->sel.n ? 0 : -1;
}

int rs_journal_flush(struct redis_sink *rs)
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

int rs_journal_append(struct redis_sink *rs, const struct pps_result *r)
{
	if (rs->jlen + rs->line_max > sizeof(rs->jbuf)) {
		int rc = rs_journal_flush(rs);
		if (rc < 0)
			return rc;
	}
	rs->jlen += rs_line(rs, rs->jbuf + rs->jlen, r);
	rs->j_lines++;
	rs->j_total++;
	return 0;
}

/* Moves the oldest journal lines into the ring while it has room. Returns 0 or -errno. */
int rs_journal_refill(struct redis_sink *rs)
{
	int rc = rs_journal_flush(rs);

	if (rc < 0)
		return rc;
	while (rs->j_lines && rs_ring_free(rs)) {
		size_t want = sizeof(rs->rbuf), used = 0;
		ssize_t got;

		if (rs->j_wr - rs->j_rd < want)
			want = (size_t)(rs->j_wr - rs->j_rd);
		got = pread(rs->jfd, rs->rbuf, want, (off_t)rs->j_rd);
		if (got < 0)
			return errno == EINTR ? 0 : -errno;
		while (rs_ring_free(rs)) {
			char *nl = memchr(rs->rbuf + used, '\n', (size_t)got - used);
			struct pps_result r;

			if (!nl)
				break;
			if (parse_line(rs, rs->rbuf + used, (size_t)(nl - rs->rbuf) - used, &r) ==
			    0) {
				rs->pend[rs->head & rs->mask] = r;
				rs_own(rs, rs->head++);
			}
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
int rs_journal_spill(struct redis_sink *rs)
{
	char tmp[sizeof(rs->journal) + 8], line[PPS_MAX_FIELDS * PPS_VALUE_SCRATCH];
	uint64_t at = rs->tail, lines = 0;
	FILE *f;
	int rc = rs_journal_flush(rs);

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
			fwrite(line, 1, rs_line(rs, line, &rs->pend[at & rs->mask]), f);
	}
	for (; at < rs->head; at++, lines++)
		fwrite(line, 1, rs_line(rs, line, &rs->pend[at & rs->mask]), f);
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

/*
 * A journal that is not empty at start was left by an earlier run of this scan (its header
 * names this stream; anything else is refused). Its results go out first: they are kept in
 * a rewritten journal, except "#doubt" batches whose marker is in P:S:batches (they had
 * arrived after all). Returns the number kept, or -errno with rs->k.err set.
 */
long rs_journal_adopt(struct redis_sink *rs, uint64_t *skipped)
{
	char tmp[sizeof(rs->journal) + 8], line[PPS_MAX_FIELDS * PPS_VALUE_SCRATCH];
	char want[RS_KEY_MAX + 40];
	FILE *in, *out = NULL;
	long kept = 0, ln = 1;
	uint32_t skip = 0;
	struct stat sb;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", rs->journal);
	snprintf(want, sizeof(want), "#ppscan-journal v1 stream=%s\n", rs->k_results);
	in = fopen(rs->journal, "r");
	if (!in) {
		snprintf(rs->k.err, sizeof(rs->k.err), "cannot read journal '%s': %s", rs->journal,
			 strerror(errno));
		return -errno;
	}
	if (!fgets(line, sizeof(line), in) || strcmp(line, want)) {
		snprintf(
			rs->k.err, sizeof(rs->k.err),
			"journal '%s' (from --redis-journal) holds results that are not from stream %s: load or remove it first",
			rs->journal, rs->k_results);
		fclose(in);
		return -EEXIST;
	}
	out = fopen(tmp, "w");
	if (!out) {
		rc = -errno;
		snprintf(rs->k.err, sizeof(rs->k.err), "cannot write '%s': %s", tmp,
			 strerror(errno));
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
				redisReply *r = pps_redis_callv(&rs->k, RS_OPEN_TIMEOUT_S, a);

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
		if (parse_line(rs, line, strcspn(line, "\n"), &res)) {
			snprintf(rs->k.err, sizeof(rs->k.err),
				 "journal '%s' line %ld: expected ip,port,status,ttl,ts",
				 rs->journal, ln);
			rc = -EINVAL;
			goto done;
		}
		fwrite(line, 1, rs_line(rs, line, &res), out);
		kept++;
	}
	if (fflush(out) || fsync(fileno(out)) || fclose(out)) {
		out = NULL;
		rc = -errno;
		snprintf(rs->k.err, sizeof(rs->k.err), "cannot write '%s': %s", tmp,
			 strerror(errno));
		goto done;
	}
	out = NULL;
	if (rename(tmp, rs->journal) < 0 || (rs->jfd = open(rs->journal, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(rs->jfd, &sb) < 0) {
		rc = -errno;
		snprintf(rs->k.err, sizeof(rs->k.err), "cannot reopen journal '%s': %s",
			 rs->journal, strerror(errno));
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

/* ---- the keep file (--redis-keep) ---- */

/*
 * JOURNAL.kept holds every batch Redis confirmed, as "#batch TOKEN:SEQ N" and its N lines,
 * until the scan ends: if the server later forgets them (a restart without persistence, a
 * snapshot older than the confirmation), the batches whose marker is gone are read back and
 * sent again. An index in memory (one entry a batch: 24 bytes per 512 results) says where.
 */
int rs_keep_batch(struct redis_sink *rs, uint64_t seq, uint64_t first, uint32_t n)
{
	char line[PPS_MAX_FIELDS * PPS_VALUE_SCRATCH];
	int hl;

	if (!rs->kf)
		return 0;
	if (rs->n_kept == rs->cap_kept) {
		size_t cap = rs->cap_kept ? 2 * rs->cap_kept : 1024;
		struct rs_kept *k = realloc(rs->kept, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		rs->kept = k;
		rs->cap_kept = cap;
	}
	hl = fprintf(rs->kf, "#batch %s:%" PRIu64 " %u\n", rs->token, seq, n);
	if (hl < 0)
		return -EIO;
	rs->k_off += (uint64_t)hl;
	rs->kept[rs->n_kept++] = (struct rs_kept){ seq, rs->k_off, n };
	for (uint32_t i = 0; i < n; i++) {
		size_t len = rs_line(rs, line, &rs->pend[(first + i) & rs->mask]);

		if (fwrite(line, 1, len, rs->kf) != len)
			return -EIO;
		rs->k_off += len;
	}
	return 0;
}

/* Puts the @n kept lines at @off back into the journal. Returns 0 or -errno. */
static int keep_requeue(struct redis_sink *rs, uint64_t off, uint32_t n)
{
	char line[PPS_MAX_FIELDS * PPS_VALUE_SCRATCH];
	int fd = fileno(rs->kf);

	for (uint32_t i = 0; i < n; i++) {
		struct pps_result r;
		ssize_t got = pread(fd, line, sizeof(line) - 1, (off_t)off);
		char *nl;

		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		line[got] = '\0';
		if (!(nl = strchr(line, '\n')) || parse_line(rs, line, (size_t)(nl - line), &r))
			return -EINVAL;
		off += (uint64_t)(nl - line) + 1;
		if (rs_journal_append(rs, &r) < 0)
			return -EIO;
	}
	return 0;
}

long rs_keep_resend(struct redis_sink *rs, double deadline)
{
	enum {
		CHUNK = 256
	};
	static char markers[CHUNK][48];
	const char *argv[CHUNK + 2];
	size_t lens[CHUNK + 2];
	long back = 0;

	if (!rs->kf)
		return 0;
	if (fflush(rs->kf))
		return -errno;
	for (size_t at = 0; at < rs->n_kept; at += CHUNK) {
		size_t m = rs->n_kept - at < CHUNK ? rs->n_kept - at : CHUNK;
		redisReply *r;
		int rc = 0;

		argv[0] = "SMISMEMBER";
		argv[1] = rs->k_batches;
		for (size_t i = 0; i < m; i++) {
			snprintf(markers[i], sizeof(markers[i]), "%s:%" PRIu64, rs->token,
				 rs->kept[at + i].seq);
			argv[2 + i] = markers[i];
		}
		for (size_t i = 0; i < m + 2; i++)
			lens[i] = strlen(argv[i]);
		r = pps_redis_call(&rs->k, deadline - pps_monotonic_s(), (int)m + 2, argv, lens);
		if (!r)
			return -EIO;
		if (pps_redis_reply_error(&rs->k, r, "SMISMEMBER: ") ||
		    r->type != REDIS_REPLY_ARRAY || r->elements != m) {
			freeReplyObject(r);
			return -EPROTO;
		}
		for (size_t i = 0; i < m && !rc; i++) {
			struct rs_kept *k = &rs->kept[at + i];

			if (!k->n || r->element[i]->integer == 1)
				continue;
			if ((rc = keep_requeue(rs, k->off, k->n)) == 0) {
				back += k->n;
				k->n = 0;
			}
		}
		freeReplyObject(r);
		if (rc < 0) {
			snprintf(rs->k.err, sizeof(rs->k.err), "cannot read the keep file '%s': %s",
				 rs->keep_path, strerror(-rc));
			return rc;
		}
	}
	return back;
}
