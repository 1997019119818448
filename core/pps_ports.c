#include "pps_ports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Parses a decimal number at *s (no sign); returns -1 if none or > 99999999. */
static long parse_num(const char **s)
{
	long v = 0;
	int digits = 0;

	while (**s >= '0' && **s <= '9') {
		if (++digits > 8)
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	return digits ? v : -1;
}

int pps_ports_parse(struct pps_ports *p, const char *spec, char *err, unsigned errlen)
{
	const char *s = spec;

	memset(p->index, 0xff, sizeof(p->index));
	p->n = 0;
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty port list");
		return -EINVAL;
	}
	while (1) {
		const char *item = s;
		long lo, hi;

		lo = parse_num(&s);
		hi = lo;
		if (lo >= 0 && *s == '-') {
			s++;
			hi = parse_num(&s);
		}
		if (lo < 0 || hi < 0 || (*s != ',' && *s != '\0')) {
			const char *end = strchr(item, ',');
			int len = end ? (int)(end - item) : (int)strlen(item);
			snprintf(err, errlen, "'%.*s' is not a port or range", len, item);
			goto fail;
		}
		if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
			snprintf(err, errlen, "port %ld out of range 1-65535",
				 (lo < 1 || lo > 65535) ? lo : hi);
			goto fail;
		}
		if (hi < lo) {
			snprintf(err, errlen, "reversed range %ld-%ld", lo, hi);
			goto fail;
		}
		for (long v = lo; v <= hi; v++)
			p->index[v] = 0; /* mark; positions assigned below */
		if (*s == '\0')
			break;
		s++;
		if (*s == '\0') {
			snprintf(err, errlen, "trailing comma");
			goto fail;
		}
	}
	for (uint32_t v = 1; v <= 65535; v++) {
		if (p->index[v] != PPS_PORT_NONE) {
			p->index[v] = (uint16_t)p->n;
			p->list[p->n++] = (uint16_t)v;
		}
	}
	return 0;
fail:
	memset(p->index, 0xff, sizeof(p->index));
	p->n = 0;
	return -EINVAL;
}
