/*
 * output/pps_fields.h - the one field extractor every sink uses: a field is a name, a help
 * line and a function that reads its value out of a struct pps_result; the CSV, JSON and
 * Redis sinks only format values (a number, a string, an address, a flag). Each probe module
 * lists the fields its results have (ZMap's output fields: saddr, sport, ..., seqnum for
 * tcp_synscan), so -f '*' prints every field of the kind and -f names only those.
 * A new field is one entry in pps_fields.c; a new sink reads struct pps_value.
 */
#ifndef PPS_FIELDS_H
#define PPS_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../pps_result.h"

struct pps_probe_ops;

#define PPS_MAX_FIELDS 24 /* fields a sink writes at most */
#define PPS_VALUE_SCRATCH                                                                          \
	6144 /* bytes a field may format its value into (--banners data_text:
				 1460 bytes at most, 4 characters each, and a NUL) */

/** How a sink writes a value. */
enum pps_value_kind {
	PPS_VAL_UINT = 0, /* u: a decimal number */
	PPS_VAL_BOOL,	  /* u: 0 or 1 (CSV 0/1, JSON false/true) */
	PPS_VAL_IPV4,	  /* u: an address, host order (a.b.c.d everywhere) */
	PPS_VAL_STR,	  /* s, len: text (CSV quotes it when it holds , " CR or LF) */
};

struct pps_value {
	enum pps_value_kind kind;
	uint64_t u;
	const char *s; /* static, or the scratch buffer handed to get() */
	size_t len;
};

/** One output field. */
struct pps_field {
	const char *name; /* as -f names it */
	const char *help; /* --list-output-fields */
	/* the value of this field in @r; may format into @scratch (PPS_VALUE_SCRATCH bytes) */
	void (*get)(const struct pps_result *r, struct pps_value *v, char *scratch);
	/* optional inverse for the Redis journal: parses @text (NUL-terminated) into @r;
	 * returns 0 or -1 */
	int (*set)(struct pps_result *r, const char *text);
};

/** A sink's fields, resolved once at open: field k is f[k], written under name[k]. */
struct pps_field_sel {
	const struct pps_field *f[PPS_MAX_FIELDS];
	const char *name[PPS_MAX_FIELDS]; /* f[k]->name, or alias[k] */
	char alias[PPS_MAX_FIELDS][24];
	unsigned n;
};

/** Every field of tcp_synscan (the common ones included), in -f '*' order. */
#define PPS_FIELDS_TCP_SYNSCAN_N 24
extern const struct pps_field *const pps_fields_tcp_synscan[PPS_FIELDS_TCP_SYNSCAN_N];

/** Every field of udp (the common ones included), in -f '*' order. */
#define PPS_FIELDS_UDP_N 20
extern const struct pps_field *const pps_fields_udp[PPS_FIELDS_UDP_N];

/**
 * pps_fields_select - resolves @spec, a comma-separated list of field names of module @probe
 * (NULL: tcp_synscan), or "*" for all of them, into @sel. An entry "alias=field" writes
 * field under the name alias (the Redis stream's ip=saddr). Returns 0, or -EINVAL with a
 * reason naming the unknown or repeated field in @why.
 */
int pps_fields_select(const struct pps_probe_ops *probe, const char *spec,
		      struct pps_field_sel *sel, char *why, size_t whylen);

/** pps_fields_get - the value of field @k of @sel for @r (@scratch: PPS_VALUE_SCRATCH bytes). */
static inline void pps_fields_get(const struct pps_field_sel *sel, unsigned k,
				  const struct pps_result *r, struct pps_value *v, char *scratch)
{
	sel->f[k]->get(r, v, scratch);
}

/**
 * pps_value_text - @v as text (numbers in decimal, addresses dotted, flags 0/1) into @buf
 * (at least 24 bytes for non-strings); returns a pointer to the text (@buf or v->s) and its
 * length in *@len.
 */
const char *pps_value_text(const struct pps_value *v, char *buf, size_t *len);

/** pps_fields_list - --list-output-fields: the fields of @probe with their help, on @out. */
void pps_fields_list(const struct pps_probe_ops *probe, FILE *out);

#endif /* PPS_FIELDS_H */
