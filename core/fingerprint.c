/*
 * fingerprint.c - the fingerprint database (fingerprint.h): a line parser for the format of
 * data/fingerprints/README.md and PCRE2 (8-bit, no UTF, JIT where available) for matching.
 * Entries of one protocol are kept in file order; pps_fp_match() walks them in that order.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "fingerprint.h"

#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TPL_MAX 160	   /* bytes of a template */
#define ENTRY_FIELDS_MAX 8 /* explicit "field" lines per entry */
#define MATCH_LIMIT 100000 /* PCRE2 match limit: bounds backtracking on hostile input */
#define DEPTH_LIMIT 10000

struct fp_entry {
	char protocol[PPS_FP_NAME_MAX];
	pcre2_code *re;
	char product[TPL_MAX], version[TPL_MAX];
	int has_product, has_version, soft;
	unsigned n_fields;
	char field_name[ENTRY_FIELDS_MAX][PPS_FP_NAME_MAX];
	char field_tpl[ENTRY_FIELDS_MAX][TPL_MAX];
	unsigned line;
	const char *file;
};

struct pps_fp_db {
	struct fp_entry *e;
	unsigned n, cap;
	char **files;
	unsigned n_files;
	pcre2_match_data *md;
	uint32_t md_pairs;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
};

struct pps_fp_db *pps_fp_db_new(void)
{
	struct pps_fp_db *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->mctx = pcre2_match_context_create(NULL);
	db->jit_stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!db->mctx || !db->jit_stack) {
		pps_fp_db_free(db);
		return NULL;
	}
	pcre2_set_match_limit(db->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(db->mctx, DEPTH_LIMIT);
	pcre2_jit_stack_assign(db->mctx, NULL, db->jit_stack);
	return db;
}

static void entry_free(struct fp_entry *e)
{
	pcre2_code_free(e->re);
	e->re = NULL;
}

void pps_fp_db_free(struct pps_fp_db *db)
{
	if (!db)
		return;
	for (unsigned i = 0; i < db->n; i++)
		entry_free(&db->e[i]);
	free(db->e);
	for (unsigned i = 0; i < db->n_files; i++)
		free(db->files[i]);
	free(db->files);
	pcre2_match_data_free(db->md);
	pcre2_match_context_free(db->mctx);
	pcre2_jit_stack_free(db->jit_stack);
	free(db);
}

static int name_ok(const char *s, size_t n)
{
	if (!n || n >= PPS_FP_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Every $name in @tpl must be a group of @re. Returns 0, or -1 with the reason in @why. */
static int tpl_check(const pcre2_code *re, const char *tpl, char *why, size_t whylen)
{
	for (const char *p = tpl; (p = strchr(p, '$'));) {
		char name[PPS_FP_NAME_MAX];
		size_t l = 0;
		int brace = p[1] == '{';
		const char *s = p + 1 + brace;

		if (p[1] == '$') {
			p += 2;
			continue;
		}
		while (((s[l] >= 'a' && s[l] <= 'z') || (s[l] >= 'A' && s[l] <= 'Z') ||
			(s[l] >= '0' && s[l] <= '9') || s[l] == '_') &&
		       l < sizeof(name) - 1) {
			name[l] = s[l];
			l++;
		}
		name[l] = 0;
		if (!l || (brace && s[l] != '}')) {
			snprintf(why, whylen, "bad group reference in template '%s'", tpl);
			return -1;
		}
		if (pcre2_substring_number_from_name(re, (PCRE2_SPTR)name) < 0) {
			snprintf(why, whylen,
				 "template '%s' names group '%s', which the regex lacks", tpl,
				 name);
			return -1;
		}
		p = s + l + brace;
	}
	return 0;
}

/* Parses "m<d>REGEX<d>FLAGS" at @s into e->re. */
static int compile_regex(struct fp_entry *e, char *s, char *why, size_t whylen)
{
	char delim, *end;
	uint32_t opts = 0;
	int err;
	PCRE2_SIZE off;

	if (s[0] != 'm' || !s[1] || (s[1] >= 'a' && s[1] <= 'z') || s[1] == ' ') {
		snprintf(why, whylen, "expected m|REGEX| after the protocol name");
		return -1;
	}
	delim = s[1];
	end = strrchr(s + 2, delim);
	if (!end) {
		snprintf(why, whylen, "regex not closed by '%c'", delim);
		return -1;
	}
	for (char *f = end + 1; *f && *f != '\n' && *f != '\r'; f++) {
		if (*f == 'i')
			opts |= PCRE2_CASELESS;
		else if (*f == 's')
			opts |= PCRE2_DOTALL;
		else if (*f == 'x')
			opts |= PCRE2_EXTENDED;
		else if (*f == ' ' || *f == '\t')
			continue;
		else {
			snprintf(why, whylen, "unknown regex flag '%c' (i, s, x)", *f);
			return -1;
		}
	}
	e->re = pcre2_compile((PCRE2_SPTR)(s + 2), (PCRE2_SIZE)(end - s - 2), opts, &err, &off,
			      NULL);
	if (!e->re) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(err, msg, sizeof(msg));
		snprintf(why, whylen, "regex does not compile at offset %zu: %s", (size_t)off,
			 (char *)msg);
		return -1;
	}
	/* JIT where the platform has it; an error here only means interpreted matching */
	(void)pcre2_jit_compile(e->re, PCRE2_JIT_COMPLETE);
	return 0;
}

static int copy_tpl(char *dst, const char *src, char *why, size_t whylen)
{
	size_t l = strlen(src);

	while (l && (src[l - 1] == ' ' || src[l - 1] == '\t' || src[l - 1] == '\r'))
		l--;
	if (l >= TPL_MAX) {
		snprintf(why, whylen, "template longer than %d bytes", TPL_MAX - 1);
		return -1;
	}
	/* values reach the record as JSON strings, cut at PPS_FP_VALUE_MAX - 1 bytes: ASCII only,
	 * so neither a byte of the file nor a cut can make one invalid UTF-8 */
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] > 0x7e) {
			snprintf(why, whylen, "template byte 0x%02x is not printable ASCII",
				 (unsigned char)src[i]);
			return -1;
		}
	memcpy(dst, src, l);
	dst[l] = 0;
	return 0;
}

/* One attribute line of the current entry @e. */
static int attribute(struct fp_entry *e, char *s, char *why, size_t whylen)
{
	char *arg = s + strcspn(s, " \t");
	size_t kl = (size_t)(arg - s);

	arg += strspn(arg, " \t");
	if (kl == 4 && !strncmp(s, "soft", 4)) {
		e->soft = 1;
		return 0;
	}
	if (kl == 7 && !strncmp(s, "product", 7)) {
		e->has_product = 1;
		return copy_tpl(e->product, arg, why, whylen) ||
		       tpl_check(e->re, e->product, why, whylen);
	}
	if (kl == 7 && !strncmp(s, "version", 7)) {
		e->has_version = 1;
		return copy_tpl(e->version, arg, why, whylen) ||
		       tpl_check(e->re, e->version, why, whylen);
	}
	if (kl == 5 && !strncmp(s, "field", 5)) {
		size_t nl = strcspn(arg, " \t");
		char *tpl = arg + nl + strspn(arg + nl, " \t");

		if (!name_ok(arg, nl)) {
			snprintf(why, whylen, "field name must be [a-z0-9_]{1,31}");
			return -1;
		}
		if (e->n_fields >= ENTRY_FIELDS_MAX) {
			snprintf(why, whylen, "more than %d field lines", ENTRY_FIELDS_MAX);
			return -1;
		}
		memcpy(e->field_name[e->n_fields], arg, nl);
		e->field_name[e->n_fields][nl] = 0;
		if (copy_tpl(e->field_tpl[e->n_fields], tpl, why, whylen) ||
		    tpl_check(e->re, e->field_tpl[e->n_fields], why, whylen))
			return -1;
		e->n_fields++;
		return 0;
	}
	snprintf(why, whylen, "unknown directive '%.*s' (match, product, version, field, soft)",
		 (int)(kl > 20 ? 20 : kl), s);
	return -1;
}

static int grow(struct pps_fp_db *db)
{
	struct fp_entry *ne;
	unsigned cap = db->cap ? db->cap * 2 : 64;

	if (db->n < db->cap)
		return 0;
	ne = realloc(db->e, (size_t)cap * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	db->e = ne;
	db->cap = cap;
	return 0;
}

int pps_fp_db_load(struct pps_fp_db *db, const char *name, const char *text, size_t len, char *why,
		   size_t whylen)
{
	unsigned first = db->n, lineno = 0, max_pairs = db->md_pairs;
	size_t pos = 0;
	char line[4096], reason[256];
	char **nf;
	struct fp_entry *cur = NULL;
	char *fname;

	fname = strdup(name);
	nf = realloc(db->files, (db->n_files + 1) * sizeof(*nf));
	if (!fname || !nf) {
		free(fname);
		if (nf)
			db->files = nf;
		snprintf(why, whylen, "%s: out of memory", name);
		return -ENOMEM;
	}
	db->files = nf;
	db->files[db->n_files++] = fname;
	while (pos < len) {
		size_t l = 0;
		char *s;

		while (pos + l < len && text[pos + l] != '\n')
			l++;
		lineno++;
		if (l >= sizeof(line)) {
			snprintf(reason, sizeof(reason), "line longer than %zu bytes",
				 sizeof(line) - 1);
			goto bad;
		}
		memcpy(line, text + pos, l);
		line[l] = 0;
		pos += l + 1;
		if (memchr(line, 0, l)) {
			snprintf(reason, sizeof(reason), "NUL byte in the line");
			goto bad;
		}
		s = line + strspn(line, " \t");
		if (!*s || *s == '#' || *s == '\r')
			continue;
		if (s == line && !strncmp(s, "match", 5) && (s[5] == ' ' || s[5] == '\t')) {
			char *p = s + 5 + strspn(s + 5, " \t");
			size_t pl = strcspn(p, " \t");
			uint32_t caps = 0;

			if (!name_ok(p, pl)) {
				snprintf(reason, sizeof(reason),
					 "protocol name must be [a-z0-9_]{1,31}: '%.*s'",
					 (int)(pl > 31 ? 31 : pl), p);
				goto bad;
			}
			if (grow(db)) {
				snprintf(reason, sizeof(reason), "out of memory");
				goto bad;
			}
			cur = &db->e[db->n];
			memset(cur, 0, sizeof(*cur));
			memcpy(cur->protocol, p, pl);
			cur->line = lineno;
			cur->file = fname;
			p += pl;
			p += strspn(p, " \t");
			if (compile_regex(cur, p, reason, sizeof(reason))) {
				entry_free(cur);
				goto bad;
			}
			db->n++;
			pcre2_pattern_info(cur->re, PCRE2_INFO_CAPTURECOUNT, &caps);
			if (caps + 1 > max_pairs)
				max_pairs = caps + 1;
			continue;
		}
		if (s == line) {
			snprintf(reason, sizeof(reason), "expected 'match PROTOCOL m|REGEX|'");
			goto bad;
		}
		if (!cur) {
			snprintf(reason, sizeof(reason), "attribute line before the first 'match'");
			goto bad;
		}
		if (attribute(cur, s, reason, sizeof(reason)))
			goto bad;
	}
	if (max_pairs > db->md_pairs) {
		pcre2_match_data *md = pcre2_match_data_create(max_pairs, NULL);

		if (!md) {
			snprintf(reason, sizeof(reason), "out of memory");
			goto bad;
		}
		pcre2_match_data_free(db->md);
		db->md = md;
		db->md_pairs = max_pairs;
	}
	return 0;
bad:
	snprintf(why, whylen, "%s:%u: %s", name, lineno, reason);
	while (db->n > first)
		entry_free(&db->e[--db->n]);
	return -EINVAL;
}

static int conf_name(const struct dirent *d)
{
	size_t l = strlen(d->d_name);

	return l > 5 && !strcmp(d->d_name + l - 5, ".conf") && d->d_name[0] != '.';
}

int pps_fp_db_load_dir(struct pps_fp_db *db, const char *dir, char *why, size_t whylen)
{
	struct dirent **names;
	int n = scandir(dir, &names, conf_name, alphasort), rc = 0;

	if (n < 0) {
		int err = errno;

		snprintf(why, whylen, "cannot read the fingerprint directory '%s': %s", dir,
			 strerror(err));
		return -err;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		FILE *f;
		char *buf = NULL;
		long sz;

		if (!rc) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			f = fopen(path, "rb");
			if (!f || fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 ||
			    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)sz + 1)) ||
			    fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
				rc = -(errno ? errno : EIO);
				snprintf(why, whylen, "cannot read '%s': %s", path, strerror(-rc));
			} else {
				rc = pps_fp_db_load(db, path, buf, (size_t)sz, why, whylen);
			}
			if (f)
				fclose(f);
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

unsigned pps_fp_db_count(const struct pps_fp_db *db, const char *protocol)
{
	unsigned n = 0;

	for (unsigned i = 0; i < db->n; i++)
		if (!protocol || !strcmp(db->e[i].protocol, protocol))
			n++;
	return n;
}

/* Copies @n subject bytes into @dst (@cap bytes), non-printable bytes as '?'. */
static void put_value(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	size_t i;

	if (n > cap - 1)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = 0;
}

/* The text of group @name in the current match ("" if it did not take part). */
static void group_text(const struct pps_fp_db *db, const struct fp_entry *e, const uint8_t *subj,
		       const char *name, size_t nl, char *out, size_t cap)
{
	char nm[PPS_FP_NAME_MAX];
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(db->md);
	int num;

	out[0] = 0;
	if (nl >= sizeof(nm))
		return;
	memcpy(nm, name, nl);
	nm[nl] = 0;
	num = pcre2_substring_number_from_name(e->re, (PCRE2_SPTR)nm);
	if (num < 0 || (uint32_t)num >= db->md_pairs || ov[2 * num] == PCRE2_UNSET)
		return;
	put_value(out, cap, subj + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
}

static void expand(const struct pps_fp_db *db, const struct fp_entry *e, const uint8_t *subj,
		   const char *tpl, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = tpl; *p && o + 1 < cap;) {
		if (p[0] == '$' && p[1] == '$') {
			out[o++] = '$';
			p += 2;
		} else if (p[0] == '$') {
			int brace = p[1] == '{';
			const char *s = p + 1 + brace;
			size_t l = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789_");
			char val[PPS_FP_VALUE_MAX];

			group_text(db, e, subj, s, l, val, sizeof(val));
			for (size_t i = 0; val[i] && o + 1 < cap; i++)
				out[o++] = val[i];
			p = s + l + (brace && s[l] == '}');
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = 0;
}

static void fill(const struct pps_fp_db *db, const struct fp_entry *e, const uint8_t *subj,
		 struct pps_fp_match *m)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(db->md);
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table;

	memset(m, 0, sizeof(*m));
	snprintf(m->protocol, sizeof(m->protocol), "%s", e->protocol);
	m->soft = e->soft;
	m->line = e->line;
	m->file = e->file;
	if (e->has_product)
		expand(db, e, subj, e->product, m->product, sizeof(m->product));
	if (e->has_version)
		expand(db, e, subj, e->version, m->version, sizeof(m->version));
	pcre2_pattern_info(e->re, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(e->re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(e->re, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t i = 0; i < count; i++) {
		const PCRE2_UCHAR *ent = table + (size_t)i * size;
		int num = ent[0] << 8 | ent[1];
		const char *nm = (const char *)ent + 2;
		size_t a, b;

		if ((uint32_t)num >= db->md_pairs || ov[2 * num] == PCRE2_UNSET)
			continue;
		a = ov[2 * num];
		b = ov[2 * num + 1];
		if (!strcmp(nm, "product")) {
			if (!e->has_product)
				put_value(m->product, sizeof(m->product), subj + a, b - a);
		} else if (!strcmp(nm, "version")) {
			if (!e->has_version)
				put_value(m->version, sizeof(m->version), subj + a, b - a);
		} else if (m->n_fields < PPS_FP_FIELDS_MAX && b > a) {
			snprintf(m->fields[m->n_fields].name, PPS_FP_NAME_MAX, "%s", nm);
			put_value(m->fields[m->n_fields].value, PPS_FP_VALUE_MAX, subj + a, b - a);
			m->n_fields++;
		}
	}
	for (unsigned i = 0; i < e->n_fields && m->n_fields < PPS_FP_FIELDS_MAX; i++) {
		snprintf(m->fields[m->n_fields].name, PPS_FP_NAME_MAX, "%s", e->field_name[i]);
		expand(db, e, subj, e->field_tpl[i], m->fields[m->n_fields].value,
		       PPS_FP_VALUE_MAX);
		m->n_fields++;
	}
}

int pps_fp_match(struct pps_fp_db *db, const char *protocol, const uint8_t *subject, size_t n,
		 struct pps_fp_match *m)
{
	int err = 0;
	static const uint8_t empty[1];

	if (!db->md)
		return 0;
	if (n > PPS_FP_SUBJECT_MAX)
		n = PPS_FP_SUBJECT_MAX;
	if (!subject)
		subject = empty;
	for (unsigned i = 0; i < db->n; i++) {
		struct fp_entry *e = &db->e[i];
		int rc;

		if (protocol && strcmp(e->protocol, protocol))
			continue;
		rc = pcre2_match(e->re, subject, n, 0, 0, db->md, db->mctx);
		if (rc >= 0) {
			fill(db, e, subject, m);
			return 1;
		}
		if (rc != PCRE2_ERROR_NOMATCH)
			err = rc == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EIO;
	}
	return err;
}
