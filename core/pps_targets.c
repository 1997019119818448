/*
 * Target set as sorted disjoint ranges. Worked example: adding 198.18.0.5/24 and
 * 198.18.1.0/24 yields one range 198.18.0.0-198.18.1.255 (adjacent ranges merge),
 * n_addresses = 512, at(256) = 198.18.1.0, index_of(198.18.1.0) = 256.
 */
#include "pps_targets.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int pps_parse_ipv4(const char *s, uint32_t *out_h)
{
	uint32_t ip = 0;

	if (!s)
		return -EINVAL;
	for (int octet = 0; octet < 4; octet++) {
		unsigned v = 0;
		int digits = 0;

		/* no leading zero: "01" would be octal to inet_aton() and decimal here */
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s - '0');
			s++;
			if (++digits > 3)
				return -EINVAL;
		}
		if (digits == 0 || v > 255)
			return -EINVAL;
		ip = ip << 8 | v;
		if (octet < 3) {
			if (*s != '.')
				return -EINVAL;
			s++;
		}
	}
	if (*s != '\0')
		return -EINVAL;
	*out_h = ip;
	return 0;
}

int pps_format_ipv4(uint32_t ip_h, char buf[16])
{
	return snprintf(buf, 16, "%u.%u.%u.%u", ip_h >> 24, (ip_h >> 16) & 0xff, (ip_h >> 8) & 0xff,
			ip_h & 0xff);
}

int pps_parse_cidr(const char *s, struct pps_range *out)
{
	char addr[16];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint32_t ip;
	unsigned len = 32;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (pps_parse_ipv4(addr, &ip) < 0)
		return -EINVAL;
	if (slash) {
		const char *p = slash + 1;
		int digits = 0;

		len = 0;
		if (p[0] == '0' && p[1] != '\0') /* "/08": no leading zero */
			return -EINVAL;
		while (*p >= '0' && *p <= '9' && digits < 3) {
			len = len * 10 + (unsigned)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || *p != '\0' || len > 32)
			return -EINVAL;
	}
	uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
	out->first_h = ip & mask;
	out->last_h = out->first_h | ~mask;
	return 0;
}

struct pps_targets *pps_targets_new(void)
{
	return calloc(1, sizeof(struct pps_targets));
}

void pps_targets_free(struct pps_targets *t)
{
	if (!t)
		return;
	free(t->ranges);
	free(t->before);
	free(t);
}

static int push_range(struct pps_targets *t, uint32_t first, uint32_t last)
{
	if (t->n_ranges == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pps_range *r = realloc(t->ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->ranges = r;
		t->cap = cap;
	}
	t->ranges[t->n_ranges].first_h = first;
	t->ranges[t->n_ranges].last_h = last;
	t->n_ranges++;
	return 0;
}

int pps_targets_add(struct pps_targets *t, uint32_t first_h, uint32_t last_h)
{
	if (t->finalized || first_h > last_h)
		return -EINVAL;
	return push_range(t, first_h, last_h);
}

static int cmp_range(const void *a, const void *b)
{
	const struct pps_range *x = a, *y = b;
	return x->first_h < y->first_h ? -1 : x->first_h > y->first_h;
}

int pps_targets_finalize(struct pps_targets *t)
{
	size_t out = 0;

	if (t->n_ranges > 1)
		qsort(t->ranges, t->n_ranges, sizeof(t->ranges[0]), cmp_range);
	for (size_t i = 0; i < t->n_ranges; i++) {
		struct pps_range r = t->ranges[i];
		if (out > 0 && (uint64_t)r.first_h <= (uint64_t)t->ranges[out - 1].last_h + 1) {
			if (r.last_h > t->ranges[out - 1].last_h)
				t->ranges[out - 1].last_h = r.last_h;
		} else {
			t->ranges[out++] = r;
		}
	}
	t->n_ranges = out;
	free(t->before);
	t->before = malloc((out ? out : 1) * sizeof(uint64_t));
	if (!t->before)
		return -ENOMEM;
	uint64_t total = 0;
	for (size_t i = 0; i < out; i++) {
		t->before[i] = total;
		total += (uint64_t)t->ranges[i].last_h - t->ranges[i].first_h + 1;
	}
	t->n_addresses = total;
	t->finalized = 1;
	return 0;
}

int pps_targets_subtract(struct pps_targets *t, const struct pps_targets *block)
{
	struct pps_targets *res;
	size_t j = 0;
	int rc;

	if (!t->finalized && (rc = pps_targets_finalize(t)) < 0)
		return rc;
	res = pps_targets_new();
	if (!res)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_ranges; i++) {
		uint64_t cur = t->ranges[i].first_h;
		uint64_t last = t->ranges[i].last_h;

		while (j < block->n_ranges && block->ranges[j].last_h < cur)
			j++;
		for (size_t k = j; k < block->n_ranges && block->ranges[k].first_h <= last; k++) {
			if (block->ranges[k].first_h > cur &&
			    (rc = push_range(res, (uint32_t)cur, block->ranges[k].first_h - 1)) < 0)
				goto fail;
			if ((uint64_t)block->ranges[k].last_h + 1 > cur)
				cur = (uint64_t)block->ranges[k].last_h + 1;
			if (cur > last)
				break;
		}
		if (cur <= last && (rc = push_range(res, (uint32_t)cur, (uint32_t)last)) < 0)
			goto fail;
	}
	free(t->ranges);
	t->ranges = res->ranges;
	t->n_ranges = res->n_ranges;
	t->cap = res->cap;
	res->ranges = NULL;
	pps_targets_free(res);
	t->finalized = 0;
	return pps_targets_finalize(t);
fail:
	pps_targets_free(res);
	return rc;
}

uint32_t pps_targets_at_search(const struct pps_targets *t, uint64_t index)
{
	size_t lo = 0, hi = t->n_ranges - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (t->before[mid] <= index)
			lo = mid;
		else
			hi = mid - 1;
	}
	return t->ranges[lo].first_h + (uint32_t)(index - t->before[lo]);
}

int64_t pps_targets_index_of_search(const struct pps_targets *t, uint32_t ip_h)
{
	size_t lo = 0, hi = t->n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ranges[mid].last_h < ip_h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->n_ranges || t->ranges[lo].first_h > ip_h)
		return -1;
	return (int64_t)(t->before[lo] + (ip_h - t->ranges[lo].first_h));
}
