/*
 * fingerprint.h - service fingerprints: regular expressions (PCRE2, JIT-compiled) over what a
 * server sent, each naming a protocol and giving product, version and extra fields through
 * named groups. The file format is documented in data/fingerprints/README.md; ppscan-id
 * loads every data/fingerprints/NAME.conf (embedded at build time) and any --fingerprints DIR.
 *
 * A database is built once (load), then only read: matching is safe from one thread at a
 * time per database (it owns one PCRE2 match-data block sized for its largest pattern).
 */
#ifndef PPS_FINGERPRINT_H
#define PPS_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define PPS_FP_NAME_MAX 32	/* protocol and field names, NUL included */
#define PPS_FP_VALUE_MAX 128	/* product, version and field values, NUL included */
#define PPS_FP_FIELDS_MAX 8	/* extra fields per match */
#define PPS_FP_SUBJECT_MAX 8192 /* bytes of a subject looked at; more are ignored */

struct pps_fp_db;

/** One match: what the first matching fingerprint extracted. Strings are NUL-terminated. */
struct pps_fp_match {
	char protocol[PPS_FP_NAME_MAX];
	char product[PPS_FP_VALUE_MAX]; /* "" = not known */
	char version[PPS_FP_VALUE_MAX]; /* "" = not known */
	int soft;			/* the entry says "soft": weak evidence */
	unsigned line;			/* where the entry starts in its file (1-based) */
	const char *file;		/* the file's name as loaded, owned by the database */
	unsigned n_fields;
	struct {
		char name[PPS_FP_NAME_MAX];
		char value[PPS_FP_VALUE_MAX];
	} fields[PPS_FP_FIELDS_MAX];
};

/** pps_fp_db_new - an empty database. NULL when out of memory. */
struct pps_fp_db *pps_fp_db_new(void);

/**
 * pps_fp_db_load - parses @len bytes of fingerprint text (README format) named @name (for
 * messages) and adds its entries, each regex compiled and JIT-compiled (the JIT is skipped
 * where the platform has none; matching is then interpreted, same results). On the first bad
 * line: "NAME:LINE: reason" in @why, -EINVAL, and nothing of this text is added.
 */
int pps_fp_db_load(struct pps_fp_db *db, const char *name, const char *text, size_t len, char *why,
		   size_t whylen);

/**
 * pps_fp_db_load_dir - pps_fp_db_load() of every regular file ending in ".conf" in @dir, in
 * name order. -errno (reason in @why) when the directory cannot be read or a file is bad.
 */
int pps_fp_db_load_dir(struct pps_fp_db *db, const char *dir, char *why, size_t whylen);

/** pps_fp_db_count - entries loaded; with @protocol non-NULL, only that protocol's. */
unsigned pps_fp_db_count(const struct pps_fp_db *db, const char *protocol);

/**
 * pps_fp_match - tries the entries of @protocol (NULL = every entry), in file and line order,
 * on the first min(@n, PPS_FP_SUBJECT_MAX) bytes of @subject (any bytes, NUL included; not
 * required to be UTF-8). The first that matches fills @m: product and version from the
 * entry's templates (or its groups named product / version), every other named group that
 * took part in the match as a field (values longer than PPS_FP_VALUE_MAX - 1 are cut; bytes
 * outside printable ASCII become '?'). Returns 1 on a match, 0 on none, -ENOMEM or -EIO (a
 * PCRE2 matching error such as its match limit: counted by the caller as no match).
 */
int pps_fp_match(struct pps_fp_db *db, const char *protocol, const uint8_t *subject, size_t n,
		 struct pps_fp_match *m);

/** pps_fp_db_free - frees the database and its compiled patterns; NULL is fine. */
void pps_fp_db_free(struct pps_fp_db *db);

#endif /* PPS_FINGERPRINT_H */
