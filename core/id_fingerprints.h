/*
 * id_fingerprints.h - every .conf file of data/fingerprints, embedded at build time by
 * scripts/embed_fingerprints.py (so ppscan-id and ppscan --banners need no installed data files).
 */
#ifndef PPS_ID_FINGERPRINTS_H
#define PPS_ID_FINGERPRINTS_H

#include <stddef.h>

struct id_builtin_fp {
	const char *name; /* "data/fingerprints/ssh.conf", for messages */
	const char *text; /* the file's bytes */
	size_t len;
};

extern const struct id_builtin_fp id_builtin_fingerprints[];
extern const unsigned long id_builtin_fingerprints_n;

#endif /* PPS_ID_FINGERPRINTS_H */
