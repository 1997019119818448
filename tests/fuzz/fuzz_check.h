/*
 * fuzz_check.h - what the ppscan-id fuzz targets (fuzz_fingerprint.c, fuzz_id_modules.c) check
 * with: CHECK() names a failed invariant on stderr, then traps (libFuzzer keeps the input;
 * the regression replay fails), and the shapes a record's strings must have.
 */
#ifndef PPS_FUZZ_CHECK_H
#define PPS_FUZZ_CHECK_H

#include <jansson.h>
#include <stdio.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			__builtin_trap();                                                          \
		}                                                                                  \
	} while (0)

/* A protocol or field name: [a-z0-9_]+, or with @upper also A-Z (a PCRE2 group's name). */
static inline int fuzz_name_ok(const char *s, int upper)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      (upper && *s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

/* Text a record can carry: valid UTF-8 (jansson takes it as a string), no control byte. */
static inline int fuzz_text_ok(const char *s)
{
	json_t *j;

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	j = json_string(s);
	json_decref(j);
	return j != NULL;
}

#endif /* PPS_FUZZ_CHECK_H */
