/*
 * fuzz_fingerprint.c - libFuzzer target for core/fingerprint (clang: -fsanitize=fuzzer,
 * address,undefined; scripts/fuzz.sh). Two things a hostile input can reach:
 *
 *   - the matcher, with what a server sent: input byte 0 < 0x80. The rest is the subject,
 *     matched against the shipped database (every data/fingerprints/NAME.conf, loaded once)
 *     for all protocols (NULL) and for the protocol byte 0 selects (the NAME of the files, in
 *     name order). A match must be sane: NUL-terminated strings within their arrays, product,
 *     version and field values valid UTF-8 without control bytes (the record writes them as
 *     JSON strings; what a server sent arrives there with non-ASCII bytes replaced),
 *     field names [A-Za-z0-9_], at most PPS_FP_FIELDS_MAX fields, a protocol that was asked for,
 *     and the same answer when asked twice (the match data is reused between calls).
 *   - the file parser, with a fingerprint file: byte 0 >= 0x80. The rest is loaded as text
 *     into a fresh database; a refused file must say why (-EINVAL and "NAME:LINE: reason")
 *     and add nothing; an accepted one is then matched against its own text.
 *
 * Built with fuzz_regress.c instead of libFuzzer's main, it replays tests/fuzz/corpus_fp and
 * every input that once crashed (tests/fuzz/regress_fp/) as a unit test.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fingerprint.h"
#include "fuzz_check.h"

#ifndef PPS_FP_DIR
#error "PPS_FP_DIR (the data/fingerprints directory) must be defined by the build"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PROTOS 128

static struct pps_fp_db *db;
static char protos[MAX_PROTOS][PPS_FP_NAME_MAX];
static unsigned n_protos;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The shipped database and the protocol names (the files' names without ".conf"). */
static void init_once(void)
{
	char why[512];
	DIR *d;
	struct dirent *e;

	if (db)
		return;
	db = pps_fp_db_new();
	CHECK(db != NULL);
	CHECK(pps_fp_db_load_dir(db, PPS_FP_DIR, why, sizeof(why)) == 0);
	CHECK(pps_fp_db_count(db, NULL) > 0);
	d = opendir(PPS_FP_DIR);
	CHECK(d != NULL);
	while ((e = readdir(d)) && n_protos < MAX_PROTOS) {
		size_t l = strlen(e->d_name);

		if (l <= 5 || l - 5 >= PPS_FP_NAME_MAX || strcmp(e->d_name + l - 5, ".conf"))
			continue;
		memcpy(protos[n_protos], e->d_name, l - 5);
		protos[n_protos][l - 5] = 0;
		n_protos++;
	}
	closedir(d);
	qsort(protos, n_protos, sizeof(protos[0]), cmp_name);
}

static int terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

/* The invariants of one match result (see the file comment). */
static void check_match(const struct pps_fp_match *m, const char *want_protocol)
{
	CHECK(terminated(m->protocol, sizeof(m->protocol)) && fuzz_name_ok(m->protocol, 0));
	if (want_protocol)
		CHECK(!strcmp(m->protocol, want_protocol));
	CHECK(terminated(m->product, sizeof(m->product)) && fuzz_text_ok(m->product));
	CHECK(terminated(m->version, sizeof(m->version)) && fuzz_text_ok(m->version));
	CHECK(m->n_fields <= PPS_FP_FIELDS_MAX);
	CHECK(m->line >= 1 && m->file != NULL);
	for (unsigned i = 0; i < m->n_fields; i++) {
		CHECK(terminated(m->fields[i].name, sizeof(m->fields[i].name)));
		CHECK(fuzz_name_ok(m->fields[i].name, 1));
		CHECK(terminated(m->fields[i].value, sizeof(m->fields[i].value)));
		CHECK(fuzz_text_ok(m->fields[i].value));
	}
}

/* Matches twice and compares: the answer depends on the subject only. */
static void match_checked(struct pps_fp_db *d, const char *protocol, const uint8_t *s, size_t n)
{
	struct pps_fp_match a, b;
	int ra, rb;

	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	ra = pps_fp_match(d, protocol, s, n, &a);
	CHECK(ra == 1 || ra == 0 || ra == -ENOMEM || ra == -EIO);
	if (ra == 1)
		check_match(&a, protocol);
	rb = pps_fp_match(d, protocol, s, n, &b);
	CHECK(ra == rb);
	if (ra == 1) {
		CHECK(!strcmp(a.protocol, b.protocol) && !strcmp(a.product, b.product));
		CHECK(!strcmp(a.version, b.version) && a.line == b.line && a.soft == b.soft);
		CHECK(a.n_fields == b.n_fields);
		for (unsigned i = 0; i < a.n_fields; i++)
			CHECK(!strcmp(a.fields[i].name, b.fields[i].name) &&
			      !strcmp(a.fields[i].value, b.fields[i].value));
	}
}

static void fuzz_load(const uint8_t *text, size_t n)
{
	struct pps_fp_db *d = pps_fp_db_new();
	char why[512];
	int r;

	CHECK(d != NULL);
	memset(why, 0, sizeof(why));
	r = pps_fp_db_load(d, "fuzz.conf", (const char *)text, n, why, sizeof(why));
	if (r == 0) {
		match_checked(d, NULL, text, n);
	} else {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(pps_fp_db_count(d, NULL) == 0); /* nothing of a refused text is added */
		CHECK(terminated(why, sizeof(why)));
		if (r == -EINVAL)
			CHECK(!strncmp(why, "fuzz.conf:", 10));
	}
	pps_fp_db_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	init_once();
	if (data[0] & 0x80) {
		fuzz_load(data + 1, size - 1);
		return 0;
	}
	match_checked(db, NULL, data + 1, size - 1);
	if (n_protos)
		match_checked(db, protos[data[0] % n_protos], data + 1, size - 1);
	return 0;
}
