/*
 * The probe module registry (ZMap's probe_modules.c: a static array, looked up by name once
 * at start) and what every module's results and filters share.
 */
#include "pps_probe.h"

#include <errno.h>
#include <string.h>

#include "../pps_config.h"
#include "probe_tcp_synscan.h"
#include "probe_udp.h"

/* Index = enum pps_probe_id = struct pps_result.probe. */
static const struct pps_probe_ops *const registry[PPS_PROBE_COUNT] = {
	[PPS_PROBE_TCP_SYNSCAN] = &pps_probe_tcp_synscan,
	[PPS_PROBE_UDP] = &pps_probe_udp,
};

int pps_probe_dryrun_cols(const struct pps_probe_ops *probe, const char *spec, uint8_t *cols,
			  unsigned max, char *why, size_t whylen)
{
	unsigned n = 0;

	if (!strcmp(spec, "*")) {
		for (unsigned i = 0; i < probe->n_dryrun_fields && n < max; i++)
			cols[n++] = (uint8_t)i;
		return (int)n;
	}
	for (const char *s = spec; *s;) {
		size_t len = strcspn(s, ",");
		unsigned i = 0;

		while (i < probe->n_dryrun_fields && (strlen(probe->dryrun_fields[i]) != len ||
						      strncmp(probe->dryrun_fields[i], s, len)))
			i++;
		if (i == probe->n_dryrun_fields || n == max || !len) {
			size_t k = (size_t)snprintf(why, whylen,
						    "'%.*s' is no column of a dry run of %s (",
						    (int)len, s, probe->name);

			for (unsigned j = 0; j < probe->n_dryrun_fields && k < whylen; j++)
				k += (size_t)snprintf(why + k, whylen - k, "%s%s", j ? "," : "",
						      probe->dryrun_fields[j]);
			if (k < whylen)
				snprintf(why + k, whylen - k, ")");
			return -EINVAL;
		}
		for (unsigned j = 0; j < n; j++)
			if (cols[j] == i) {
				snprintf(why, whylen, "'%s' given twice", probe->dryrun_fields[i]);
				return -EINVAL;
			}
		cols[n++] = (uint8_t)i;
		s += len;
		if (*s == ',')
			s++;
	}
	if (!n) {
		snprintf(why, whylen, "no column named");
		return -EINVAL;
	}
	return (int)n;
}

const struct pps_probe_ops *pps_probe_find(const char *name)
{
	for (unsigned k = 0; k < PPS_PROBE_COUNT; k++)
		if (!strcmp(registry[k]->name, name))
			return registry[k];
	return NULL;
}

const struct pps_probe_ops *pps_probe_default(void)
{
	return registry[PPS_PROBE_TCP_SYNSCAN];
}

const struct pps_probe_ops *pps_probe_by_id(unsigned id)
{
	return id < PPS_PROBE_COUNT ? registry[id] : NULL;
}

void pps_probe_list(FILE *out)
{
	for (unsigned k = 0; k < PPS_PROBE_COUNT; k++)
		fprintf(out, "%s%s\n    %s\n", registry[k]->name, k == 0 ? " (default)" : "",
			registry[k]->help);
}

const char *pps_result_class_name(const struct pps_result *r)
{
	const struct pps_probe_ops *p = pps_probe_by_id(r->probe);

	return p && r->classification < p->n_classes ? p->classes[r->classification].name : "?";
}

const char *pps_result_status(const struct pps_result *r)
{
	const struct pps_probe_ops *p = pps_probe_by_id(r->probe);

	if (p && r->classification < p->n_classes && p->classes[r->classification].status)
		return p->classes[r->classification].status;
	return pps_result_success(r) ? "open" : "closed";
}

int pps_result_success(const struct pps_result *r)
{
	const struct pps_probe_ops *p = pps_probe_by_id(r->probe);

	return p && r->classification < p->n_classes && p->classes[r->classification].success;
}

#define BPF_MAX_RANGES 16

/*
 * Appends " and (F == A or (F >= B and F <= C) ...)" for the source ranges to @buf, F being
 * the 32-bit field @field ("ip[16:4]": the IPv4 destination; "arp[24:4]": the ARP target
 * address). Appends nothing when there are more than BPF_MAX_RANGES ranges (validation
 * then does the address check alone). Returns the new length, or -ENOSPC.
 */
static int bpf_sources(char *buf, size_t len, size_t n, const char *field,
		       const struct pps_targets *src)
{
	if (src->n_ranges > BPF_MAX_RANGES)
		return (int)n;
	n += (size_t)snprintf(buf + n, len - n, " and (");
	for (size_t i = 0; i < src->n_ranges && n < len; i++) {
		const struct pps_range *r = &src->ranges[i];

		if (r->first_h == r->last_h)
			n += (size_t)snprintf(buf + n, len - n, "%s%s == 0x%08x", i ? " or " : "",
					      field, r->first_h);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s(%s >= 0x%08x and %s <= 0x%08x)",
					      i ? " or " : "", field, r->first_h, field, r->last_h);
	}
	if (n + 2 >= len)
		return -ENOSPC;
	n += (size_t)snprintf(buf + n, len - n, ")");
	return (int)n;
}

/* The filter for untagged frames (pps_probe_bpf()). Returns the length or -ENOSPC. */
static int bpf_untagged(const struct pps_config *cfg, int arp, char *buf, size_t len)
{
	const struct pps_probe_ops *p = cfg->probe ? cfg->probe : pps_probe_default();
	int n;

	if (len < 2)
		return -ENOSPC;
	buf[0] = '(';
	if ((n = p->bpf_filter(cfg, buf + 1, len - 1)) < 0)
		return n;
	if ((n = bpf_sources(buf, len, (size_t)n + 1, "ip[16:4]", cfg->sources)) < 0)
		return n;
	n += snprintf(buf + n, len - (size_t)n, ")");
	if (arp && (size_t)n < len) { /* ARP requests (op 1) whose target address is ours */
		n += snprintf(buf + n, len - (size_t)n, " or (arp and arp[6:2] == 1");
		if ((size_t)n >= len ||
		    (n = bpf_sources(buf, len, (size_t)n, "arp[24:4]", cfg->sources)) < 0)
			return -ENOSPC;
		n += snprintf(buf + n, len - (size_t)n, ")");
	}
	return (size_t)n < len ? n : -ENOSPC;
}

int pps_probe_bpf(const struct pps_config *cfg, int arp, int vlan, char *buf, size_t len)
{
	static char e[8192]; /* the set-up thread only */
	int n = bpf_untagged(cfg, arp, vlan ? e : buf, vlan ? sizeof(e) : len);

	if (n < 0 || !vlan)
		return n;
	n = snprintf(buf, len, "(%s) or (vlan and ((%s) or (vlan and (%s))))", e, e, e);
	return n >= 0 && (size_t)n < len ? n : -ENOSPC;
}
