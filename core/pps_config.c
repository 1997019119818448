/*
 * Option table and validation. Names follow ZMap where ZMap has the option (-p, -r, -B, -S,
 * -s, -G, -w, -b, -I, -n, -t, -N, -P, -c, -o, -O, -f, -u, -m, -M, -e/--seed,
 * --shards/--shard, --dryrun, --probe-ttl, --probe-args), so users' muscle memory works.
 *
 * One table (pps_opts[]): each option's getopt entry, help line and handler. getopt_long()
 * walks the arguments; the handler of each option checks its value and stores it (a generic
 * handler for numbers, file names and flags, one of its own where the option needs it).
 * What depends on several options (targets minus the blocklist, the rate from -B, the
 * probe module's fields and arguments, shards and seeds) is checked once after the loop.
 * Config files (-C) and resume files (--resume) expand into arguments before the command
 * line (pps_config_file.c).
 */
#include "pps_config.h"
#include "pps_hostcount.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "output/pps_fields.h"
#include "output/pps_output.h"
#include "output/pps_redis_url.h"
#include "pps_arp.h"
#include "pps_cidrfile.h"
#include "pps_config_opts.h"
#include "pps_data.h"
#include "pps_metrics.h"
#include "pps_dedup.h"
#include "pps_optdoc.h"
#include "probe/pps_probe.h"

/* The parser's state: what handlers store besides the config, and the error message. */
struct pps_parse {
	struct pps_config *cfg;
	const char *label;	/* the current option as "-r/--rate" or "--shard" */
	const char *ports_spec; /* -p, parsed once the table is done */
	double max_targets_pct; /* -n P% */
	int fields_at;		/* argument index of -f (for the error's origin) */
	int list;		/* --list-probe-modules 1, --list-output-fields 2 */
	char msg[512];		/* one error line, without the program name */
};

static int pps_parse_bad(struct pps_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Composes the error line; returns -1 for the handler to return. */
static int pps_parse_bad(struct pps_parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -1;
}

#define FIELD(p, o, type) ((type *)((char *)(p)->cfg + (o)->off))

/* Strict number parsers: the whole string must be consumed. */
int pps_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int pps_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	/* plain decimal only: no sign, no hex (strtod would take "0x10"), no inf/nan */
	if (!s || !*s || strspn(s, "0123456789.eE-") != strlen(s) || *s == '-' || *s == 'e' ||
	    *s == 'E')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- generic handlers (the field and bounds come from the table entry) ---- */

/* An unsigned number within [min, max] into a uint8_t or uint32_t field (o->size). */
static int set_uint(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	uint64_t u;

	if (pps_parse_u64(v, o->max, &u) || u < o->min)
		return pps_parse_bad(p, "invalid %s '%s' (from %s): expected %u-%u", o->what, v,
				     p->label, o->min, o->max);
	if (o->size == 1)
		*FIELD(p, o, uint8_t) = (uint8_t)u;
	else
		*FIELD(p, o, uint32_t) = (uint32_t)u;
	return 0;
}

/* A string kept as given (a path checked when it is opened, a module's arguments). */
/* A file name with a newline would break the line formats that record it (--dump-config,
 * resume files, -m): refused, the newline shown as \n. Returns 0 or -1 (message set). */
static int check_path(struct pps_parse *p, const char *v)
{
	char shown[200];
	size_t n = 0;

	if (!strchr(v, '\n') && !strchr(v, '\r'))
		return 0;
	for (const char *c = v; *c && n + 3 < sizeof(shown); c++) {
		if (*c == '\n' || *c == '\r') {
			shown[n++] = '\\';
			shown[n++] = *c == '\n' ? 'n' : 'r';
		} else {
			shown[n++] = *c;
		}
	}
	shown[n] = '\0';
	return pps_parse_bad(
		p, "invalid file name '%s' (from %s): a newline in a file name is not supported",
		shown, p->label);
}

static int set_str(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	if (o->arg && !strcmp(o->arg, "FILE") && check_path(p, v))
		return -1;
	*FIELD(p, o, const char *) = v;
	return 0;
}

/* A file the scan writes: not empty. */
static int set_file(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	if (!*v)
		return pps_parse_bad(p, "empty file name (from %s)", p->label);
	if (check_path(p, v))
		return -1;
	*FIELD(p, o, const char *) = v;
	return 0;
}

static int set_flag(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)v;
	*FIELD(p, o, int) = 1;
	return 0;
}

/* Handled before the table (-C, --resume): nothing to store. */
static int set_none(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)p;
	(void)o;
	(void)v;
	return 0;
}

/* The words of the options with a fixed set of values (index = the enum's value). */
static const char *const tcpopt_names[] = { [PPS_TCPOPT_SMALLEST] = "smallest",
					    [PPS_TCPOPT_WINDOWS] = "windows",
					    [PPS_TCPOPT_LINUX] = "linux",
					    [PPS_TCPOPT_BSD] = "bsd",
					    NULL };
static const char *const format_names[] = { [PPS_OUT_CSV] = "csv", [PPS_OUT_JSON] = "json", NULL };
static const char *const send_method_names[] = {
	[PPS_SEND_RING] = "ring", [PPS_SEND_MMSG] = "mmsg", [PPS_SEND_INJECT] = "inject", NULL
};

/* One of the table's words (o->values[k] stores k into an int field). */
static int set_choice(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	char expected[128] = "";
	int k;

	for (k = 0; o->values[k]; k++)
		if (!strcmp(v, o->values[k])) {
			*FIELD(p, o, int) = k;
			return 0;
		}
	for (int i = 0; i < k; i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
			 i == 0	      ? ""
			 : i == k - 1 ? " or "
				      : ", ",
			 o->values[i]);
	return pps_parse_bad(p, "invalid %s '%s' (from %s): expected %s", o->what, v, p->label,
			     expected);
}

/* ---- handlers of their own ---- */

static int set_ports(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	p->ports_spec = v;
	return 0;
}

static int set_top_ports(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	uint64_t u;

	(void)o;
	if (pps_parse_u64(v, pps_top_ports_n, &u) || u < 1)
		return pps_parse_bad(p, "invalid port count '%s' (from %s): expected 1-%u", v,
				     p->label, pps_top_ports_n);
	p->cfg->top_ports = (unsigned)u;
	return 0;
}

/* A decimal number (fractions allowed) within [dmin, dmax] into a double field. */
static int set_double(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	if (pps_parse_double(v, o->dmin, o->dmax, FIELD(p, o, double)))
		return pps_parse_bad(p, "invalid %s '%s' (from %s): expected %s", o->what, v,
				     p->label, o->expect);
	return 0;
}

/* "10M", "1.5G", "500k", "100000": bits per second. */
static int set_bandwidth(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	char buf[32];
	size_t n = strlen(v);
	double mul = 1, bps;

	(void)o;
	if (n == 0 || n >= sizeof(buf))
		goto bad;
	memcpy(buf, v, n + 1);
	switch (buf[n - 1]) {
	case 'k':
	case 'K': mul = 1e3; break;
	case 'm':
	case 'M': mul = 1e6; break;
	case 'g':
	case 'G': mul = 1e9; break;
	default: break;
	}
	if (mul != 1)
		buf[n - 1] = '\0';
	if (pps_parse_double(buf, 1e-9, 1e13, &bps))
		goto bad;
	p->cfg->bandwidth_bps = bps * mul;
	return 0;
bad:
	return pps_parse_bad(
		p,
		"invalid bandwidth '%s' (from %s): expected bits per second with an optional K, M or G suffix",
		v, p->label);
}

/* --dedup-memory: bytes with an optional binary K, M, G or T suffix ("512M", "1G"). */
static int set_dedup_memory(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	static const char suffixes[] = "KMGT";
	char buf[32];
	size_t n = strlen(v);
	const char *sfx;
	uint64_t u, shift = 0;

	(void)o;
	if (n == 0 || n >= sizeof(buf))
		goto bad;
	memcpy(buf, v, n + 1);
	if ((buf[n - 1] & ~0x20) && (sfx = strchr(suffixes, buf[n - 1] & ~0x20))) {
		shift = 10 * (uint64_t)(sfx - suffixes + 1);
		buf[n - 1] = '\0';
	}
	if (pps_parse_u64(buf, (1ULL << 40) >> shift, &u) || (u << shift) < PPS_DEDUP_MEMORY_MIN)
		goto bad;
	p->cfg->dedup_memory = u << shift;
	return 0;
bad:
	return pps_parse_bad(
		p,
		"invalid dedup memory '%s' (from %s): expected bytes with an optional K, M, G or T suffix, 64K to 1T",
		v, p->label);
}

/* -n N (targets of the space) or P% of it. */
static int set_max_targets(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	struct pps_config *cfg = p->cfg;
	size_t l = strlen(v);

	(void)o;
	if (l > 1 && v[l - 1] == '%') {
		char num[32];

		if (l >= sizeof(num))
			return pps_parse_bad(p, "invalid target count '%s' (from %s)", v, p->label);
		memcpy(num, v, l - 1);
		num[l - 1] = '\0';
		if (pps_parse_double(num, 1e-12, 100, &p->max_targets_pct))
			return pps_parse_bad(
				p,
				"invalid target count '%s' (from %s): expected N or a percentage above 0 and up to 100%%",
				v, p->label);
		cfg->max_targets = 0;
		return 0;
	}
	if (pps_parse_u64(v, UINT64_MAX, &cfg->max_targets) || cfg->max_targets == 0)
		return pps_parse_bad(
			p, "invalid target count '%s' (from %s): expected N >= 1 or a percentage",
			v, p->label);
	p->max_targets_pct = 0;
	return 0;
}

/* An unsigned 64-bit count: N >= 1 (-N), or any (--redis-maxlen, 0 = keep all). */
static int set_u64(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	uint64_t *f = FIELD(p, o, uint64_t);

	if (pps_parse_u64(v, UINT64_MAX, f) || *f < o->min)
		return pps_parse_bad(p, "invalid %s '%s' (from %s): expected %s", o->what, v,
				     p->label, o->min ? "N >= 1" : "N (0 = keep all)");
	return 0;
}

static int set_seed(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	if (pps_parse_u64(v, UINT64_MAX, &p->cfg->seed))
		return pps_parse_bad(
			p, "invalid seed '%s' (from %s): expected an unsigned 64-bit integer", v,
			p->label);
	p->cfg->seed_given = 1;
	return 0;
}

/* -S: "a.b.c.d", "a,b,c", "a.b.c.d-e.f.g.h", "a.b.c.d/len", or a mix separated by commas. */
static int parse_sources(const char *s, struct pps_targets *t)
{
	char buf[1024];
	char *save = NULL, *tok;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		struct pps_range r;

		if (dash) {
			*dash = '\0';
			if (pps_parse_ipv4(tok, &r.first_h) ||
			    pps_parse_ipv4(dash + 1, &r.last_h) || r.last_h < r.first_h)
				return -EINVAL;
		} else if (pps_parse_cidr(tok, &r)) {
			return -EINVAL;
		}
		if (pps_targets_add(t, r.first_h, r.last_h))
			return -ENOMEM;
	}
	if (s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
		return -EINVAL;
	return pps_targets_finalize(t);
}

static int set_sources(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	struct pps_config *cfg = p->cfg;

	(void)o;
	pps_targets_free(cfg->sources);
	cfg->sources = pps_targets_new();
	if (!cfg->sources)
		return pps_parse_bad(p, "out of memory");
	if (parse_sources(v, cfg->sources))
		return pps_parse_bad(
			p,
			"invalid source address '%s' (from %s): expected a.b.c.d, a list, a range a.b.c.d-e.f.g.h or a CIDR block",
			v, p->label);
	cfg->src_ip_h = cfg->sources->ranges[0].first_h;
	cfg->have_src_ip = 1;
	return 0;
}

static int set_sport_range(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	char buf[32];
	char *dash;
	uint64_t a, b;

	(void)o;
	if (strlen(v) >= sizeof(buf))
		goto bad;
	strcpy(buf, v);
	dash = strchr(buf, '-');
	if (dash) {
		*dash = '\0';
		if (pps_parse_u64(buf, 65535, &a) || pps_parse_u64(dash + 1, 65535, &b))
			goto bad;
	} else {
		if (pps_parse_u64(buf, 65535, &a))
			goto bad;
		b = a;
	}
	if (a < 1 || b < a)
		goto bad;
	p->cfg->sport_first_h = (uint16_t)a;
	p->cfg->sport_last_h = (uint16_t)b;
	return 0;
bad:
	return pps_parse_bad(
		p, "invalid source port range '%s' (from %s): expected FIRST-LAST within 1-65535",
		v, p->label);
}

/* A MAC into the table's field; the int after it (have_gw_mac, have_src_mac) is set. */
static int set_mac(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *mac = FIELD(p, o, uint8_t);
	uint32_t ip;

	if (pps_parse_mac(v, mac)) {
		if (o->lo.val == 'G' && !pps_parse_ipv4(v, &ip))
			return pps_parse_bad(
				p,
				"invalid MAC address '%s' (from %s): that is an IPv4 address; give the next hop's address as --gateway-ip %s",
				v, p->label, v);
		return pps_parse_bad(
			p, "invalid MAC address '%s' (from %s): expected aa:bb:cc:dd:ee:ff", v,
			p->label);
	}
	if (!memcmp(mac, bcast, 6) || !memcmp(mac, zero, 6) || (mac[0] & 1))
		return pps_parse_bad(
			p, "invalid MAC address '%s' (from %s): %s, not the address of one station",
			v, p->label,
			!memcmp(mac, bcast, 6)	? "broadcast"
			: !memcmp(mac, zero, 6) ? "all zero"
						: "multicast (the first byte is odd)");
	if (o->lo.val == 'G')
		p->cfg->have_gw_mac = 1;
	else
		p->cfg->have_src_mac = 1;
	return 0;
}

static int set_gateway_ip(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	if (pps_parse_ipv4(v, &p->cfg->gw_ip_h))
		return pps_parse_bad(p, "invalid address '%s' (from %s): expected a.b.c.d", v,
				     p->label);
	p->cfg->have_gw_ip = 1;
	return 0;
}

static int set_iface(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	if (!*v)
		return pps_parse_bad(p, "empty interface name (from %s)", p->label);
	p->cfg->iface = v;
	return 0;
}

static int set_pcap_buffer(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	uint64_t u;

	(void)o;
	if (pps_parse_u64(v, 1u << 30, &u) || u < (1u << 16))
		return pps_parse_bad(
			p,
			"invalid buffer size '%s' (from %s): expected bytes, 65536 to 1073741824",
			v, p->label);
	p->cfg->pcap_buffer = (uint32_t)u;
	return 0;
}

static int set_output_fields(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	if (strlen(v) >= sizeof(p->cfg->output_fields))
		return pps_parse_bad(p, "invalid output fields '%s' (from %s): too long", v,
				     p->label);
	/* the names are checked once the probe module is known (-M may come later) */
	snprintf(p->cfg->output_fields, sizeof(p->cfg->output_fields), "%s", v);
	p->fields_at = optind - 1;
	return 0;
}

static int set_probe_module(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	if (!(p->cfg->probe = pps_probe_find(v)))
		return pps_parse_bad(
			p, "invalid probe module '%s' (from %s): --list-probe-modules lists them",
			v, p->label);
	return 0;
}

static int set_list(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)v;
	p->list = o->lo.val == OPT_LIST_PROBE_MODULES ? 1 : 2;
	return 0;
}

static int set_redis(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	struct pps_redis_url ru;
	char why[256];

	(void)o;
	if (pps_redis_url_parse(v, &ru, why, sizeof(why))) {
		char shown[512];

		pps_redis_url_mask(v, shown, sizeof(shown));
		return pps_parse_bad(p, "invalid Redis URL '%.160s' (from %s): %.200s", shown,
				     p->label, why);
	}
	p->cfg->redis_url = v;
	return 0;
}

static int set_redis_prefix(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	char why[128];

	(void)o;
	if (pps_redis_key_part_check(v, why, sizeof(why)))
		return pps_parse_bad(p, "invalid Redis key prefix '%s' (from %s): %s", v, p->label,
				     why);
	p->cfg->redis_prefix = v;
	return 0;
}

/* A Redis key part that is also a file name part (the journal ppscan-ID.journal). */
static int set_scan_id(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	static const char safe[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
	char why[128];

	(void)o;
	if (pps_redis_key_part_check(v, why, sizeof(why)) || strspn(v, safe) != strlen(v))
		return pps_parse_bad(
			p, "invalid scan id '%s' (from %s): expected 1-%d of A-Z a-z 0-9 . _ -", v,
			p->label, PPS_REDIS_KEY_PART_MAX);
	snprintf(p->cfg->scan_id, sizeof(p->cfg->scan_id), "%s", v);
	p->cfg->scan_id_given = 1;
	return 0;
}

static int set_redis_buffer(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	uint64_t u;

	(void)o;
	if (pps_parse_u64(v, 1u << 26, &u) || u < 1)
		return pps_parse_bad(
			p, "invalid buffer size '%s' (from %s): expected 1 to 67108864 results", v,
			p->label);
	p->cfg->redis_buffer = (uint32_t)u;
	return 0;
}

/* resume-next = N,N,...: where each sender stopped (a resume file's own key). */
static int set_resume_next(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	struct pps_config *cfg = p->cfg;
	const char *s = v;
	char *end;

	(void)o;
	cfg->n_resume_next = 0;
	while (*s) {
		if (cfg->n_resume_next == PPS_MAX_SENDERS || !isdigit((unsigned char)*s))
			return pps_parse_bad(p, "invalid resume state '%s' (from resume-next)", v);
		errno = 0;
		cfg->resume_next[cfg->n_resume_next++] = strtoull(s, &end, 10);
		if (errno || (*end && *end != ','))
			return pps_parse_bad(p, "invalid resume state '%s' (from resume-next)", v);
		s = *end ? end + 1 : end;
	}
	return 0;
}

static int set_help(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	(void)v;
	pps_config_usage(p->cfg->backend, p->cfg->prog, stdout);
	return PPS_PARSE_EXIT;
}

static int set_list_options(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	(void)v;
	if (pps_config_list_options(p->cfg->backend, stdout) < 0)
		return pps_parse_bad(p, "cannot write the option list: %s", strerror(EIO));
	return PPS_PARSE_EXIT;
}

/* --metrics ADDR:PORT: an IPv4 address and a port, nothing implied (it binds only there). */
static int set_metrics(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	struct sockaddr_in sa;
	char why[128];

	(void)o;
	if (pps_metrics_parse_addr(v, &sa, why, sizeof(why)))
		return pps_parse_bad(p, "invalid metrics address '%s' (from %s): %s", v, p->label,
				     why);
	p->cfg->metrics_addr = v;
	return 0;
}

/* --worker NAME: a consumer name, a Redis key part. */
static int set_worker(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	char why[128];

	(void)o;
	if (pps_redis_key_part_check(v, why, sizeof(why)))
		return pps_parse_bad(p, "invalid worker name '%s' (from %s): %s", v, p->label, why);
	p->cfg->worker = v;
	return 0;
}

static int set_version(struct pps_parse *p, const struct pps_opt *o, const char *v)
{
	(void)o;
	(void)v;
	printf("%s %s\n", p->cfg->prog, PPS_VERSION);
	return PPS_PARSE_EXIT;
}

#define BOTH (PPS_BACKEND_DPDK | PPS_BACKEND_PCAP)
#define REQ required_argument
#define NO no_argument
#define OFF(field) offsetof(struct pps_config, field)
/* an option: long name, arg, value, backends, ARG, help, handler, then the handler's data */
#define OPT(name, has, val, be, arg, help, set, ...)                                               \
	{                                                                                          \
		{ name, has, NULL, val }, be, arg, help, set, __VA_ARGS__                          \
	}
#define UINT(field, min, max, what)                                                                \
	OFF(field), min, max, what, 1, sizeof(((struct pps_config *)0)->field)
#define DOUBLE(field, lo, hi, what, expect) OFF(field), 0, 0, what, 1, 0, lo, hi, expect
#define CHOICE(field, what, names) OFF(field), 0, 0, what, 1, .values = names
#define FILEKEY 0, 0, 0, NULL, 1
#define NOFILE 0, 0, 0, NULL, 0

const struct pps_opt pps_opts[] = {
	OPT("target-ports", REQ, 'p', BOTH, "PORTS",
	    "ports to probe: list and ranges, e.g. 22,80,8000-8100", set_ports, FILEKEY),
	OPT("top-ports", REQ, OPT_TOP_PORTS, BOTH, "N",
	    "the N most often open TCP ports (1-1000; default 1000 when no -p is given)",
	    set_top_ports, FILEKEY),
	OPT("allowlist-file", REQ, 'w', BOTH, "FILE",
	    "scan the addresses and CIDR blocks in FILE (one a line, # comments)", set_str,
	    OFF(allowlist_file), 0, 0, NULL, 1),
	OPT("blocklist-file", REQ, 'b', BOTH, "FILE",
	    "never probe these (default: the IANA special-purpose ranges)", set_str,
	    OFF(blocklist_file), 0, 0, NULL, 1),
	OPT("list-of-ips-file", REQ, 'I', BOTH, "FILE",
	    "scan the single addresses in FILE (millions of lines are fine)", set_str,
	    OFF(list_of_ips_file), 0, 0, NULL, 1),
	OPT("rate", REQ, 'r', BOTH, "PPS",
	    "send rate in probes per second, fractions allowed (default 10000; 0 = no limit)",
	    set_double, DOUBLE(rate_pps, 0, 1e10, "rate", "probes per second, 0 to 1e10")),
	OPT("bandwidth", REQ, 'B', BOTH, "BPS",
	    "send rate in bits per second, K/M/G suffixes (instead of -r)", set_bandwidth, FILEKEY),
	OPT("max-targets", REQ, 'n', BOTH, "N|P%",
	    "probe only N targets (address x port), or P percent of the target space",
	    set_max_targets, FILEKEY),
	OPT("max-runtime", REQ, 't', BOTH, "SECS",
	    "stop sending after SECS seconds (then cool down and save a resume file)", set_double,
	    DOUBLE(max_runtime_s, 1e-3, 1e9, "runtime", "seconds above 0")),
	OPT("max-results", REQ, 'N', BOTH, "N", "stop after N results", set_u64, OFF(max_results),
	    1, 0, "result count", 1),
	OPT("dedup-memory", REQ, OPT_DEDUP_MEMORY, BOTH, "BYTES",
	    "memory for reporting each target once: exact up to 8 targets a byte, a window beyond (default 1G)",
	    set_dedup_memory, FILEKEY),
	OPT("probes", REQ, 'P', BOTH, "N", "probes per target, spread over N passes (default 1)",
	    set_uint, UINT(probes, 1, 1000, "probe count")),
	OPT("source-ip", REQ, 'S', BOTH, "IPS",
	    "source address(es): a.b.c.d, a list, a range a.b.c.d-e.f.g.h or a CIDR block",
	    set_sources, FILEKEY),
	OPT("source-port", REQ, 's', BOTH, "FIRST-LAST", "source port range (default 32768-61000)",
	    set_sport_range, FILEKEY),
	OPT("gateway-mac", REQ, 'G', BOTH, "MAC", "next hop's MAC address (skips ARP)", set_mac,
	    OFF(gw_mac), 0, 0, NULL, 1),
	OPT("gateway-ip", REQ, OPT_GATEWAY_IP, BOTH, "IP", "next hop's address, resolved with ARP",
	    set_gateway_ip, FILEKEY),
	OPT("source-mac", REQ, OPT_SOURCE_MAC, BOTH, "MAC", "source MAC (default: the port's own)",
	    set_mac, OFF(src_mac), 0, 0, NULL, 1),
	OPT("interface", REQ, 'i', PPS_BACKEND_PCAP, "IFACE", "network interface to scan from",
	    set_iface, FILEKEY),
	OPT("pcap-buffer", REQ, OPT_PCAP_BUFFER, PPS_BACKEND_PCAP, "BYTES",
	    "kernel receive buffer for responses (default 64 MiB; 64 KiB to 1 GiB)",
	    set_pcap_buffer, FILEKEY),
	OPT("send-method", REQ, OPT_SEND_METHOD, PPS_BACKEND_PCAP, "METHOD",
	    "ring (PACKET_TX_RING, default), mmsg (sendmmsg) or inject (pcap_inject)", set_choice,
	    CHOICE(send_method, "send method", send_method_names)),
	OPT("probe-module", REQ, 'M', BOTH, "NAME",
	    "what to send: tcp_synscan (default) or udp (--list-probe-modules lists them)",
	    set_probe_module, FILEKEY),
	OPT("probe-args", REQ, OPT_PROBE_ARGS, BOTH, "ARGS",
	    "settings of the probe module (see --list-probe-modules)", set_str, OFF(probe_args), 0,
	    0, NULL, 1),
	OPT("list-probe-modules", NO, OPT_LIST_PROBE_MODULES, BOTH, NULL,
	    "list the probe modules and exit", set_list, NOFILE),
	OPT("list-output-fields", NO, OPT_LIST_OUTPUT_FIELDS, BOTH, NULL,
	    "list the output fields of the probe module (-M) and exit", set_list, NOFILE),
	OPT("probe-ttl", REQ, OPT_PROBE_TTL, BOTH, "TTL", "IP TTL of probes, 1-255 (default 64)",
	    set_uint, UINT(ttl, 1, 255, "TTL")),
	OPT("tcp-options", REQ, OPT_TCP_OPTIONS, BOTH, "PRESET",
	    "SYN options: smallest|windows|linux|bsd (default windows)", set_choice,
	    CHOICE(tcpopt, "TCP option preset", tcpopt_names)),
	OPT("seed", REQ, 'e', BOTH, "N",
	    "64-bit seed for the probe order and SYN cookies (default: random, reported)", set_seed,
	    FILEKEY),
	OPT("shards", REQ, OPT_SHARDS, BOTH, "N", "split the scan into N shards (needs --seed)",
	    set_uint, UINT(shards, 1, 65535, "shard count")),
	OPT("shard", REQ, OPT_SHARD, BOTH, "I", "which shard this run sends, 0-based", set_uint,
	    UINT(shard, 0, 65534, "shard")),
	OPT("sender-threads", REQ, 'T', BOTH, "N",
	    "TX threads or lcores, each with its own queue and slice (default 1)", set_uint,
	    UINT(sender_threads, 1, PPS_MAX_SENDERS, "sender thread count")),
	OPT("cooldown", REQ, 'c', BOTH, "SECS",
	    "seconds to wait for responses after the last probe (default 8)", set_double,
	    DOUBLE(cooldown_s, 0, 86400, "cooldown", "seconds, 0 to 86400")),
	OPT("cooldown-time", REQ, 'c', BOTH, NULL, NULL, set_double, /* ZMap's name */
	    DOUBLE(cooldown_s, 0, 86400, "cooldown", "seconds, 0 to 86400")),
	OPT("output-file", REQ, 'o', BOTH, "FILE",
	    "write results to FILE (default: stdout; appends)", set_file, OFF(output_file), 0, 0,
	    NULL, 1),
	OPT("output-module", REQ, 'O', BOTH, "FORMAT", "csv or json (one JSON object a line)",
	    set_choice, CHOICE(output_format, "output format", format_names)),
	OPT("output-fields", REQ, 'f', BOTH, "FIELDS",
	    "comma-separated fields (default saddr,sport,classification; '*': all of them)",
	    set_output_fields, FILEKEY),
	OPT("output-closed", NO, OPT_OUTPUT_CLOSED, BOTH, NULL,
	    "also report closed ports (RST responses)", set_flag, OFF(output_closed), 0, 0, NULL,
	    1),
	OPT("no-rst", NO, OPT_NO_RST, BOTH, NULL,
	    "do not answer SYN-ACKs with a RST (default: close each half-open connection)",
	    set_flag, OFF(no_rst), 0, 0, NULL, 1),
	OPT("banners", NO, OPT_BANNERS, BOTH, NULL,
	    "answer each SYN-ACK with the port's first payload (data/first-payloads.conf) and "
	    "record the first bytes the service sends (tcp_synscan)",
	    set_flag, OFF(banners), 0, 0, NULL, 1),
	OPT("banner-bytes", REQ, OPT_BANNER_BYTES, BOTH, "N",
	    "bytes of the first data segment --banners keeps (default 512, at most 1460)", set_uint,
	    UINT(banner_bytes, 1, 1460, "--banner-bytes")),
	OPT("middlebox-ports", REQ, OPT_MIDDLEBOX_PORTS, BOTH, "N",
	    "an address open on at least N ports and more than half of those probed is marked a "
	    "likely middlebox (field middlebox; default 16)",
	    set_uint, UINT(middlebox_ports, 2, 65535, "--middlebox-ports")),
	OPT("sni", REQ, OPT_SNI, BOTH, "NAME", "server_name of the TLS ClientHello --banners sends",
	    set_str, OFF(sni), 0, 0, NULL, 1),
	OPT("drop-kernel-rst", NO, OPT_DROP_KERNEL_RST, BOTH, NULL,
	    "ppscan-pcap: an nftables rule drops the host's RSTs from the scan's source ports "
	    "while it runs (--banners from the host's own address needs it)",
	    set_flag, OFF(drop_kernel_rst), 0, 0, NULL, 1),
	OPT("status-updates-file", REQ, 'u', BOTH, "FILE",
	    "write progress as CSV, one line a second", set_file, OFF(status_updates_file), 0, 0,
	    NULL, 1),
	OPT("status-json", REQ, OPT_STATUS_JSON, BOTH, "FILE",
	    "write progress as one JSON object a line, a line a second", set_file,
	    OFF(status_json_file), 0, 0, NULL, 1),
	OPT("metadata-file", REQ, 'm', BOTH, "FILE",
	    "write a JSON summary (options, seed, counters, times) at the end", set_file,
	    OFF(metadata_file), 0, 0, NULL, 1),
	OPT("redis", REQ, OPT_REDIS, BOTH, "URL",
	    "also stream results to Redis: redis://[[user]:password@]host[:port][/db] or unix:///path",
	    set_redis, FILEKEY),
	OPT("redis-prefix", REQ, OPT_REDIS_PREFIX, BOTH, "P",
	    "Redis key prefix (default ppscan): keys P:SCAN:results, P:SCAN:meta, P:scans",
	    set_redis_prefix, FILEKEY),
	OPT("scan-id", REQ, OPT_SCAN_ID, BOTH, "ID",
	    "this scan's id in Redis keys (default: UTC time and random, printed at start)",
	    set_scan_id, FILEKEY),
	OPT("redis-maxlen", REQ, OPT_REDIS_MAXLEN, BOTH, "N",
	    "trim the results stream to about N entries (XADD MAXLEN ~ N; default: keep all)",
	    set_u64, OFF(redis_maxlen), 0, 0, "stream length", 1),
	OPT("redis-journal", REQ, OPT_REDIS_JOURNAL, BOTH, "FILE",
	    "where results wait while Redis is away (default ./ppscan-SCAN.journal)", set_file,
	    OFF(redis_journal), 0, 0, NULL, 1),
	OPT("redis-buffer", REQ, OPT_REDIS_BUFFER, BOTH, "N",
	    "results held in memory while Redis is away, before the journal (default 262144)",
	    set_redis_buffer, FILEKEY),
	OPT("plan", NO, OPT_PLAN, BOTH, NULL,
	    "write this scan's plan (with --shards N) into Redis under --scan-id, and exit",
	    set_flag, OFF(plan), 0, 0, NULL, 0),
	OPT("join", NO, OPT_JOIN, BOTH, NULL,
	    "work on the planned scan --scan-id: claim its shards one at a time until none is left",
	    set_flag, OFF(join), 0, 0, NULL, 0),
	OPT("status", NO, OPT_STATUS, BOTH, NULL,
	    "print the progress of scan --scan-id from Redis, and exit", set_flag, OFF(status), 0,
	    0, NULL, 0),
	OPT("follow", NO, OPT_FOLLOW, BOTH, NULL,
	    "with --status: a status line a second until the scan is done", set_flag, OFF(follow),
	    0, 0, NULL, 0),
	OPT("lease", REQ, OPT_LEASE, BOTH, "SECS",
	    "with --plan: a worker silent this long loses its shard to another (default 30)",
	    set_double, DOUBLE(lease_s, 2, 86400, "lease", "2-86400 seconds")),
	OPT("worker", REQ, OPT_WORKER, BOTH, "NAME",
	    "with --join: this worker's name in Redis (default HOST-PID)", set_worker, NOFILE),
	OPT("metrics", REQ, OPT_METRICS, BOTH, "ADDR:PORT",
	    "serve Prometheus metrics over HTTP at ADDR:PORT/metrics (binds only there)",
	    set_metrics, FILEKEY),
	OPT("redis-keep", NO, OPT_REDIS_KEEP, BOTH, NULL,
	    "keep confirmed results in FILE.kept (beside the journal) until the scan ends, and send again what a restarted Redis lost",
	    set_flag, OFF(redis_keep), 0, 0, NULL, 1),
	OPT("quiet", NO, 'q', BOTH, NULL, "no status line", set_flag, OFF(quiet), 0, 0, NULL, 1),
	OPT("dryrun", NO, OPT_DRYRUN, BOTH, NULL,
	    "print each probe instead of sending it (no device, no root)", set_flag, OFF(dryrun), 0,
	    0, NULL, 1),
	OPT("config", REQ, 'C', BOTH, "FILE",
	    "read options from FILE (key = value, keys are the long option names)", set_none,
	    NOFILE),
	OPT("no-config", NO, OPT_NO_CONFIG, BOTH, NULL,
	    "do not read the default config file (" PPS_DEFAULT_CONFIG ")", set_none, NOFILE),
	OPT("dump-config", NO, OPT_DUMP_CONFIG, BOTH, NULL,
	    "print the effective configuration as a file -C reads, and exit", set_flag,
	    OFF(dump_config), 0, 0, NULL, 0),
	OPT("resume", REQ, OPT_RESUME, BOTH, "FILE",
	    "continue an interrupted scan from its resume file (no other argument needed)",
	    set_none, NOFILE),
	OPT("resume-file", REQ, OPT_RESUME_FILE, BOTH, "FILE",
	    "where an interrupted scan saves its state (default paused.conf)", set_file,
	    OFF(resume_file), 0, 0, NULL, 1),
	OPT("resume-next", REQ, OPT_RESUME_NEXT, BOTH, NULL, NULL, set_resume_next, FILEKEY),
	OPT("resume-complete", REQ, OPT_RESUME_COMPLETE, BOTH, NULL, NULL, set_str,
	    OFF(resume_complete), 0, 0, NULL, 1),
	OPT("eal", REQ, OPT_EAL, PPS_BACKEND_DPDK, NULL, NULL, set_str, OFF(eal_args), 0, 0, NULL,
	    1),
	OPT("help", NO, 'h', BOTH, NULL, "this help", set_help, NOFILE),
	OPT("version", NO, 'V', BOTH, NULL, "print the version", set_version, NOFILE),
	OPT("list-options", NO, OPT_LIST_OPTIONS, BOTH, NULL,
	    "print every option as JSON (what the man page and completion are made from) and exit",
	    set_list_options, NOFILE),
};

const size_t pps_n_opts = sizeof(pps_opts) / sizeof(pps_opts[0]);
_Static_assert(sizeof(pps_opts) / sizeof(pps_opts[0]) <= PPS_MAX_OPTS, "raise PPS_MAX_OPTS");

int pps_opt_plan_owned(const struct pps_opt *o)
{
	/* this machine's own: device, addresses, threads, outputs, the Redis connection */
	/* clang-format off */
	static const int local[] = {
		'S', 's', 'G', OPT_GATEWAY_IP, OPT_SOURCE_MAC, 'T', 'i', OPT_PCAP_BUFFER,
		OPT_SEND_METHOD, 'q', 'o', 'O', 'f', 'u', OPT_STATUS_JSON, 'm', OPT_REDIS,
		OPT_REDIS_PREFIX, OPT_SCAN_ID, OPT_REDIS_MAXLEN, OPT_REDIS_JOURNAL, OPT_REDIS_BUFFER,
		OPT_RESUME_FILE, OPT_EAL, OPT_METRICS, OPT_WORKER, OPT_NO_RST, OPT_LEASE,
	};
	/* clang-format on */

	if (!o->file_key)
		return 0;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (o->lo.val == local[i])
			return 0;
	return 1;
}

const struct pps_opt *pps_opt_find(int val)
{
	for (size_t i = 0; i < pps_n_opts; i++)
		if (pps_opts[i].lo.val == val)
			return &pps_opts[i];
	return NULL;
}

/* The program around the table, per backend (--help, --list-options, the man page). */
static void prog_doc(enum pps_backend backend, struct pps_optdoc_prog *pg)
{
	memset(pg, 0, sizeof(*pg));
	pg->version = PPS_VERSION;
	pg->description = "TARGET: an IPv4 address or CIDR block (a.b.c.d/len).\n"
			  "Options also come from -C FILE, or without it from the default config\n"
			  "file " PPS_DEFAULT_CONFIG
			  " ($PPSCAN_CONFIG names another one, --no-config\n"
			  "skips it); the command line wins.";
	if (backend == PPS_BACKEND_DPDK) {
		pg->prog = "ppscan";
		pg->summary = "stateless TCP SYN port scanner on a DPDK port";
		pg->usage[0] = "[EAL options] -- [options] TARGET...";
	} else {
		pg->prog = "ppscan-pcap";
		pg->summary = "stateless TCP SYN port scanner on the kernel's network stack";
		pg->usage[0] = "-i IFACE [options] TARGET...";
	}
	pg->usage[1] = "--resume FILE";
}

/* The documented options of @backend in table order, into @o (PPS_MAX_OPTS); the count. */
static size_t opt_docs(enum pps_backend backend, struct pps_optdoc *o)
{
	static const char *probe_names[PPS_PROBE_COUNT + 1];
	size_t n = 0;

	for (unsigned k = 0; k < PPS_PROBE_COUNT; k++)
		probe_names[k] = pps_probe_by_id(k)->name;
	for (size_t i = 0; i < pps_n_opts; i++) {
		const struct pps_opt *d = &pps_opts[i];

		if (!(d->backends & backend) || !d->help)
			continue;
		o[n++] =
			(struct pps_optdoc){ .name = d->lo.name,
					     .letter = d->lo.val < 256 ? d->lo.val : 0,
					     .arg = d->arg,
					     .help = d->help,
					     .values = d->lo.val == 'M' ? probe_names : d->values };
	}
	return n;
}

void pps_config_usage(enum pps_backend backend, const char *prog, FILE *out)
{
	struct pps_optdoc o[PPS_MAX_OPTS];
	struct pps_optdoc_prog pg;
	size_t n = opt_docs(backend, o);

	prog_doc(backend, &pg);
	pg.prog = prog;
	pps_optdoc_usage(out, &pg, o, n);
}

int pps_config_list_options(enum pps_backend backend, FILE *out)
{
	struct pps_optdoc o[PPS_MAX_OPTS];
	struct pps_optdoc_prog pg;
	size_t n = opt_docs(backend, o);

	prog_doc(backend, &pg);
	return pps_optdoc_json(out, &pg, o, n);
}

void pps_config_sources_text(const struct pps_config *cfg, char *buf, size_t len)
{
	const struct pps_targets *t = cfg->sources;
	size_t n = 0;
	char a[16], b[16];

	if (!t || t->n_addresses <= 1) {
		pps_format_ipv4(cfg->src_ip_h, a);
		snprintf(buf, len, "%s", a);
		return;
	}
	for (size_t i = 0; i < t->n_ranges && n + 40 < len; i++) {
		pps_format_ipv4(t->ranges[i].first_h, a);
		pps_format_ipv4(t->ranges[i].last_h, b);
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s", i ? "," : "", a,
				      t->ranges[i].first_h == t->ranges[i].last_h ? "" : "-",
				      t->ranges[i].first_h == t->ranges[i].last_h ? "" : b);
		if (i + 1 < t->n_ranges && n + 40 >= len)
			n += (size_t)snprintf(buf + n, len - n, ",...");
	}
	snprintf(buf + n, len - n, " (%" PRIu64 " addresses)", t->n_addresses);
}

void pps_config_free(struct pps_config *cfg)
{
	pps_targets_free(cfg->targets);
	cfg->targets = NULL;
	pps_targets_free(cfg->sources);
	cfg->sources = NULL;
	free(cfg->ports);
	cfg->ports = NULL;
	free(cfg->target_args);
	cfg->target_args = NULL;
	if (cfg->file_argv)
		for (int i = 0; cfg->file_argv[i]; i++)
			free(cfg->file_argv[i]);
	free(cfg->file_argv);
	cfg->file_argv = NULL;
	if (cfg->origin)
		for (int i = 0; cfg->origin[i] != (char *)-1; i++)
			free(cfg->origin[i]);
	free(cfg->origin);
	cfg->origin = NULL;
}

static void defaults(struct pps_config *cfg, enum pps_backend backend)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = backend;
	cfg->prog = backend == PPS_BACKEND_DPDK ? "ppscan" : "ppscan-pcap";
	cfg->probe = pps_probe_default();
	cfg->rate_pps = 10000;
	cfg->sport_first_h = 32768;
	cfg->sport_last_h = 61000;
	cfg->ttl = 64;
	cfg->tcpopt = PPS_TCPOPT_WINDOWS;
	cfg->cooldown_s = 8;
	cfg->output_format = PPS_OUT_CSV;
	snprintf(cfg->output_fields, sizeof(cfg->output_fields), "saddr,sport,classification");
	cfg->rx_ring = 1u << 16;
	cfg->banner_bytes = 512;
	cfg->middlebox_ports = PPS_MIDDLEBOX_PORTS;
	cfg->pcap_buffer = 64u << 20;
	cfg->send_method = PPS_SEND_RING;
	cfg->probes = 1;
	cfg->shards = 1;
	cfg->sender_threads = 1;
	cfg->resume_file = "paused.conf";
	cfg->redis_prefix = "ppscan";
	cfg->redis_buffer = 1u << 18;
	cfg->dedup_memory = PPS_DEDUP_MEMORY_DEFAULT;
	cfg->lease_s = 30;
}

/* --plan, --join, --status: one at a time, each with a Redis scan to name. 0 or -1. */
static int check_modes(struct pps_parse *p)
{
	struct pps_config *cfg = p->cfg;
	const char *mode = cfg->plan	 ? "--plan"
			   : cfg->join	 ? "--join"
			   : cfg->status ? "--status"
					 : NULL;
	static const int once[] = { 't', 'N', OPT_RESUME, OPT_DRYRUN };

	if (cfg->plan + cfg->join + cfg->status > 1)
		return pps_parse_bad(p, "give one of --plan, --join and --status");
	if (cfg->follow && !cfg->status)
		return pps_parse_bad(p, "--follow goes with --status");
	if (cfg->given[pps_opt_find(OPT_LEASE) - pps_opts] && !cfg->plan)
		return pps_parse_bad(p, "--lease is part of the plan: give it with --plan");
	if (cfg->worker && !cfg->join)
		return pps_parse_bad(p, "--worker names a worker: give it with --join");
	if (!mode)
		return 0;
	if (!cfg->redis_url || !cfg->scan_id_given)
		return pps_parse_bad(p, "%s needs --redis URL and --scan-id ID (the scan in Redis)",
				     mode);
	for (size_t i = 0; !cfg->status && i < sizeof(once) / sizeof(once[0]); i++) {
		const struct pps_opt *o = pps_opt_find(once[i]);

		if (cfg->given[o - pps_opts])
			return pps_parse_bad(
				p, "--%s with %s: a planned scan runs every shard to its end",
				o->lo.name, mode);
	}
	return 0;
}

/*
 * Long options are written in full: getopt_long() would take any unique prefix (--no for
 * --no-rst, --ra for --rate), so a typo could run a different scan. Also named here: a value
 * given to an option that takes none, and an ambiguous prefix. Returns 0 or -1 (p->msg).
 */
static int check_long_names(struct pps_parse *p, int argc, char **argv, const char *shortopts,
			    const struct option *longopts, size_t nl)
{
	for (int i = 1, skip = 0; i < argc; i++) {
		const char *a = argv[i], *name;
		size_t len;
		const struct option *exact = NULL;
		char list[512] = "";
		int n_prefix = 0;

		if (skip) { /* the value of the option before */
			skip = 0;
			continue;
		}
		if (!strcmp(a, "--"))
			break;
		if (a[0] == '-' && a[1] && a[1] != '-') { /* a cluster of short options */
			for (const char *q = a + 1; *q; q++) {
				const char *o = strchr(shortopts + 1, *q);

				if (o && o[1] == ':') {
					skip = !q[1]; /* its value is the next argument */
					break;
				}
			}
			continue;
		}
		if (strncmp(a, "--", 2) || !a[2])
			continue;
		name = a + 2; /* only now: a shorter argument has no a[2] to point at */
		len = strcspn(name, "=");
		for (size_t k = 0; k < nl; k++) {
			if (strlen(longopts[k].name) == len &&
			    !strncmp(longopts[k].name, name, len))
				exact = &longopts[k];
			else if (!strncmp(longopts[k].name, name, len) && n_prefix++ < 6)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s--%s",
					 n_prefix > 1 ? ", " : "", longopts[k].name);
		}
		if (exact) {
			if (name[len] == '=' && exact->has_arg == no_argument)
				return pps_parse_bad(p, "option '--%s' takes no value (got '%s')",
						     exact->name, a);
			skip = exact->has_arg == required_argument && name[len] != '=';
			continue;
		}
		if (n_prefix == 1)
			return pps_parse_bad(
				p, "unknown option '%s': long options are written in full (%s?)", a,
				list);
		if (n_prefix > 1)
			return pps_parse_bad(p, "ambiguous option '%s': %s%s", a, list,
					     n_prefix > 6 ? ", ..." : "");
	}
	return 0;
}

/*
 * --join: the plan's options come first (origin "plan:LINE"); an option that defines the scan
 * given again by the worker must say what the plan says. Returns 0 or -1 (p->msg).
 */
static int check_plan(struct pps_parse *p, const struct pps_opt *o, const char *v, char **argv)
{
	struct pps_config *cfg = p->cfg;
	const char *org = cfg->origin ? cfg->origin[optind - 1] : NULL;
	size_t i = (size_t)(o - pps_opts);

	(void)argv;
	if (org && org != (char *)-1 && !strncmp(org, PPS_PLAN_ORIGIN ":", 5)) {
		cfg->plan_given[i] = v;
		return 0;
	}
	if (!pps_opt_plan_owned(o) || (cfg->plan_given[i] && !strcmp(cfg->plan_given[i], v)))
		return 0;
	if (cfg->plan_given[i])
		return pps_parse_bad(
			p,
			"%s '%s' contradicts the plan, which says '%s': a worker scans what the plan says",
			p->label, v, cfg->plan_given[i]);
	return pps_parse_bad(
		p,
		"%s '%s' contradicts the plan, which does not set it: a worker scans what the plan says",
		p->label, v);
}

/* The option loop: getopt_long() over @argv, each option through its handler. */
static int run_options(struct pps_parse *p, int argc, char **argv)
{
	struct pps_config *cfg = p->cfg;
	struct option longopts[PPS_MAX_OPTS + 1];
	char shortopts[2 * PPS_MAX_OPTS + 2] = { 0 }; /* kept terminated: strchr() scans it */
	char label[64];
	size_t ns = 0, nl = 0;
	int c, rc;

	shortopts[ns++] = ':';
	for (size_t i = 0; i < pps_n_opts; i++) {
		if (!(pps_opts[i].backends & cfg->backend))
			continue;
		longopts[nl++] = pps_opts[i].lo;
		if (pps_opts[i].lo.val < 256 && !strchr(shortopts, pps_opts[i].lo.val)) {
			shortopts[ns++] = (char)pps_opts[i].lo.val;
			if (pps_opts[i].lo.has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[nl], 0, sizeof(longopts[nl]));
	if (check_long_names(p, argc, argv, shortopts, longopts, nl) < 0)
		return -1;

	opterr = 0;
	optind = 0; /* full reinitialisation (GNU), so tests may parse repeatedly */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct pps_opt *o = pps_opt_find(c);

		if (c == ':')
			return pps_parse_bad(p, "option '%s' needs a value", argv[optind - 1]);
		if (!o) {
			if (optopt && optopt < 256)
				return pps_parse_bad(p, "unknown option '-%c' (see --help)",
						     optopt);
			return pps_parse_bad(p, "unknown option '%s' (see --help%s)",
					     argv[optind - 1],
					     cfg->backend == PPS_BACKEND_DPDK
						     ? "; EAL options go before '--'"
						     : "");
		}
		cfg->given[o - pps_opts] = optarg ? optarg : "true";
		if (c < 256)
			snprintf(label, sizeof(label), "-%c/--%s", c, o->lo.name);
		else
			snprintf(label, sizeof(label), "--%s", o->lo.name);
		p->label = label;
		if (cfg->plan_text && check_plan(p, o, optarg ? optarg : "true", argv) < 0)
			return -1;
		if ((rc = o->set(p, o, optarg ? optarg : "true")) != 0)
			return rc;
	}
	return 0;
}

/* -p, or the top ports (--top-ports N, also the default N = all 1000 when no -p is given). */
static int finish_ports(struct pps_parse *p)
{
	struct pps_config *cfg = p->cfg;
	char why[256];

	cfg->ports = malloc(sizeof(*cfg->ports));
	if (!cfg->ports)
		return pps_parse_bad(p, "out of memory");
	if (p->ports_spec) {
		if (pps_ports_parse(cfg->ports, p->ports_spec, why, sizeof(why)))
			return pps_parse_bad(p, "invalid ports '%s' (from -p/--target-ports): %s",
					     p->ports_spec, why);
	} else {
		memset(cfg->ports->index, 0xff, sizeof(cfg->ports->index));
		cfg->ports->n = 0;
	}
	if (cfg->top_ports || !p->ports_spec) {
		unsigned n = cfg->top_ports ? cfg->top_ports : pps_top_ports_n;

		for (unsigned i = 0; i < n; i++)
			cfg->ports->index[pps_top_ports[i]] = 0;
		cfg->ports->n = 0;
		for (uint32_t v = 1; v <= 65535; v++)
			if (cfg->ports->index[v] != PPS_PORT_NONE) {
				cfg->ports->index[v] = (uint16_t)cfg->ports->n;
				cfg->ports->list[cfg->ports->n++] = (uint16_t)v;
			}
	}
	return 0;
}

/* Targets: positional arguments (from @first on), the allowlist and the list of addresses,
 * minus the blocklist, which wins over every way of naming a target. */
static int finish_targets(struct pps_parse *p, int argc, char **argv, int first)
{
	struct pps_config *cfg = p->cfg;
	struct pps_targets *bl;
	uint64_t before;
	char why[256];
	int rc;

	cfg->targets = pps_targets_new();
	cfg->target_args = calloc((size_t)(argc - first) + 1, sizeof(char *));
	if (!cfg->targets || !cfg->target_args)
		return pps_parse_bad(p, "out of memory");
	for (int i = first; i < argc; i++) {
		struct pps_range r;

		if (cfg->join && !cfg->origin[i])
			return pps_parse_bad(
				p,
				"target '%s' (argument %d) contradicts the plan: a worker scans the plan's targets",
				argv[i], i);
		if (pps_parse_cidr(argv[i], &r)) {
			if (cfg->origin[i])
				return pps_parse_bad(
					p,
					"invalid target '%s' (from %s): expected a.b.c.d or a.b.c.d/0-32",
					argv[i], cfg->origin[i]);
			return pps_parse_bad(
				p,
				"invalid target '%s' (argument %d): expected a.b.c.d or a.b.c.d/0-32",
				argv[i], i);
		}
		if (pps_targets_add(cfg->targets, r.first_h, r.last_h))
			return pps_parse_bad(p, "out of memory");
		cfg->target_args[cfg->n_target_args++] = argv[i];
	}
	if (cfg->allowlist_file &&
	    pps_cidr_load_file(cfg->targets, cfg->allowlist_file, 0, why, sizeof(why)))
		return pps_parse_bad(p, "%s (from -w/--allowlist-file)", why);
	if (cfg->list_of_ips_file &&
	    pps_cidr_load_file(cfg->targets, cfg->list_of_ips_file, 1, why, sizeof(why)))
		return pps_parse_bad(p, "%s (from -I/--list-of-ips-file)", why);
	if (cfg->targets->n_ranges == 0 && (cfg->allowlist_file || cfg->list_of_ips_file))
		return pps_parse_bad(
			p, "no targets: '%s' (from %s) holds no address%s",
			cfg->allowlist_file ? cfg->allowlist_file : cfg->list_of_ips_file,
			cfg->allowlist_file ? "-w/--allowlist-file" : "-I/--list-of-ips-file",
			cfg->allowlist_file ? " or CIDR block" : "");
	if (cfg->targets->n_ranges == 0)
		return pps_parse_bad(
			p,
			"no targets given: expected one or more a.b.c.d or a.b.c.d/len, -w FILE or -I FILE");
	if (pps_targets_finalize(cfg->targets))
		return pps_parse_bad(p, "out of memory");
	bl = pps_targets_new();
	before = cfg->targets->n_addresses;
	if (!bl)
		return pps_parse_bad(p, "out of memory");
	snprintf(why, sizeof(why), "out of memory");
	if (cfg->blocklist_file)
		rc = pps_cidr_load_file(bl, cfg->blocklist_file, 0, why, sizeof(why));
	else
		rc = pps_cidr_parse_buf(bl, pps_default_blocklist, strlen(pps_default_blocklist),
					"default blocklist", 0, why, sizeof(why));
	if (!rc)
		rc = pps_targets_finalize(bl);
	if (!rc)
		rc = pps_targets_subtract(cfg->targets, bl);
	pps_targets_free(bl);
	if (rc)
		return pps_parse_bad(p, "%s (from -b/--blocklist-file)", why);
	cfg->blocked = before - cfg->targets->n_addresses;
	if (cfg->targets->n_addresses == 0)
		return pps_parse_bad(
			p,
			"the blocklist (%s) leaves no target: all %" PRIu64
			" addresses are blocked; pass your own -b/--blocklist-file if you mean to scan them",
			cfg->blocklist_file ? cfg->blocklist_file
					    : "the default IANA special-purpose list",
			before);
	cfg->target_space = cfg->targets->n_addresses * cfg->ports->n;
	if (p->max_targets_pct > 0) {
		cfg->max_targets =
			(uint64_t)ceill((long double)cfg->target_space * p->max_targets_pct / 100);
		if (cfg->max_targets == 0)
			cfg->max_targets = 1;
	}
	if (cfg->max_targets > cfg->target_space)
		cfg->max_targets = 0; /* no cap needed */
	return 0;
}

/* What needs several options: rate, sources, the device's needs, shards, seed, scan id. */
static int finish_scan(struct pps_parse *p)
{
	struct pps_config *cfg = p->cfg;
	const int sends = !cfg->dryrun && !cfg->dump_config && !cfg->plan;

	if (cfg->bandwidth_bps > 0) {
		if (cfg->given[pps_opt_find('r') - pps_opts])
			return pps_parse_bad(p, "give -r/--rate or -B/--bandwidth, not both");
		cfg->rate_pps = cfg->bandwidth_bps / (8.0 * pps_config_probe_frame_bytes(cfg));
	}
	if (!cfg->sources && !(cfg->sources = pps_targets_new()))
		return pps_parse_bad(p, "out of memory");
	if (sends && !cfg->have_src_ip && cfg->backend == PPS_BACKEND_DPDK)
		return pps_parse_bad(
			p,
			"no source address: the DPDK port has no kernel address, give -S/--source-ip");
	if (cfg->have_gw_mac && cfg->have_gw_ip)
		return pps_parse_bad(
			p,
			"give -G/--gateway-mac or --gateway-ip, not both (-G skips the ARP for --gateway-ip)");
	if (sends && cfg->backend == PPS_BACKEND_DPDK && !cfg->have_gw_mac && !cfg->have_gw_ip)
		return pps_parse_bad(p, "no next hop: give -G/--gateway-mac or --gateway-ip");
	if (sends && cfg->backend == PPS_BACKEND_PCAP && !cfg->iface)
		return pps_parse_bad(p, "no interface: give -i/--interface");
	/* --dryrun without -S: probes from 0.0.0.0 (ppscan-pcap fills the source in later) */
	if (!cfg->have_src_ip &&
	    (pps_targets_add(cfg->sources, 0, 0) || pps_targets_finalize(cfg->sources)))
		return pps_parse_bad(p, "out of memory");
	if (cfg->plan && cfg->given[pps_opt_find(OPT_SHARD) - pps_opts])
		return pps_parse_bad(p, "--shard with --plan: the plan has every shard, "
					"workers (--join) claim them one at a time");
	if (cfg->shard >= cfg->shards)
		return pps_parse_bad(
			p, "invalid shard '%u' (from --shard): must be below --shards %u (0-based)",
			cfg->shard, cfg->shards);
	if (cfg->shards > 1 && !cfg->seed_given)
		return pps_parse_bad(
			p,
			"--shards %u without --seed: the shards' orders would not fit together; give every shard the same --seed",
			cfg->shards);
	if (cfg->resuming && cfg->resume_complete)
		return pps_parse_bad(
			p,
			"resume file '%s' is of a scan that was resumed and completed (%s): nothing is left to send; remove the file to scan again",
			cfg->resume_path, cfg->resume_complete);
	if (cfg->resuming && !cfg->seed_given)
		return pps_parse_bad(p, "resume file '%s' has no seed", cfg->resume_path);
	if (cfg->n_resume_next && cfg->n_resume_next != cfg->sender_threads)
		return pps_parse_bad(
			p, "resume state has %u sender positions but --sender-threads is %u",
			cfg->n_resume_next, cfg->sender_threads);
	if (cfg->resuming && !cfg->n_resume_next)
		return pps_parse_bad(p, "resume file '%s' has no resume-next line",
				     cfg->resume_path);
	if (cfg->join && !cfg->plan_given[pps_opt_find('e') - pps_opts])
		return pps_parse_bad(p, "the plan of scan %s has no seed", cfg->scan_id);
	if (!cfg->seed_given && getrandom(&cfg->seed, sizeof(cfg->seed), 0) != sizeof(cfg->seed))
		return pps_parse_bad(p, "cannot draw a random seed: %s", strerror(errno));
	if (!cfg->scan_id_given) {
		/* UTC start time, sortable, plus 24 random bits: 20261129T151204Z-3f9a1c */
		time_t now = time(NULL);
		struct tm tm;
		uint32_t rnd = 0;
		char ts[20];

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return pps_parse_bad(p, "cannot draw a random scan id: %s",
					     strerror(errno));
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(cfg->scan_id, sizeof(cfg->scan_id), "%s-%06x", ts, rnd & 0xffffffu);
	}
	return 0;
}

int pps_config_parse(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
		     FILE *err)
{
	return pps_config_parse_plan(cfg, backend, argc, argv, NULL, err);
}

int pps_config_parse_plan(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
			  const char *plan_text, FILE *err)
{
	struct pps_parse p = { .cfg = cfg, .fields_at = -1 };
	struct pps_field_sel sel;
	char why[256];
	int n, rc;

	defaults(cfg, backend);
	cfg->plan_text = plan_text;
	if (pps_config_expand(cfg, argc, argv, &n, err) < 0) {
		pps_config_free(cfg);
		return PPS_PARSE_ERROR;
	}
	argv = cfg->file_argv;
	if ((rc = run_options(&p, n, argv)) != 0 || (rc = check_modes(&p)) != 0)
		goto done;
	if (cfg->status) /* reads Redis only: no target, device or output */
		goto done;
	if (cfg->join && !plan_text) {
		rc = pps_parse_bad(&p, "--join: the plan was not read");
		goto done;
	}
	if (p.list) {
		if (p.list == 1)
			pps_probe_list(stdout);
		else
			pps_fields_list(cfg->probe, stdout);
		rc = PPS_PARSE_EXIT;
		goto done;
	}
	if (cfg->dryrun && p.fields_at >= 0) { /* -f names the columns of the probe list */
		int n = pps_probe_dryrun_cols(cfg->probe, cfg->output_fields, cfg->dryrun_cols,
					      sizeof(cfg->dryrun_cols), why, sizeof(why));

		if (n < 0) {
			optind = p.fields_at + 1;
			rc = pps_parse_bad(
				&p,
				"invalid output fields '%s' for --dryrun (from -f/--output-fields): %.200s",
				cfg->output_fields, why);
			goto done;
		}
		cfg->n_dryrun_cols = (unsigned)n;
	} else if (pps_fields_select(cfg->probe, cfg->output_fields, &sel, why, sizeof(why))) {
		optind = p.fields_at + 1; /* names the file and line of a -f from a file */
		rc = pps_parse_bad(&p,
				   "invalid output fields '%s' (from -f/--output-fields): %.200s",
				   cfg->output_fields, why);
		goto done;
	}
	if (cfg->banners && cfg->probe->id != PPS_PROBE_TCP_SYNSCAN) {
		rc = pps_parse_bad(&p,
				   "invalid --banners with -M %s: first payloads ride on TCP "
				   "handshakes (-M tcp_synscan)",
				   cfg->probe->name);
		goto done;
	}
	if (cfg->sni && (!*cfg->sni || strlen(cfg->sni) > 253 ||
			 strspn(cfg->sni, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-") != strlen(cfg->sni))) {
		rc = pps_parse_bad(&p,
				   "invalid server name '%.100s' (from --sni): expected a DNS "
				   "name (letters, digits, '.', '-'; at most 253)",
				   cfg->sni);
		goto done;
	}
	if (cfg->banners && cfg->no_rst) {
		rc = pps_parse_bad(&p, "invalid --no-rst with --banners: --banners closes every "
				       "connection it opens with a RST");
		goto done;
	}
	if (cfg->probe->check_args(cfg, why, sizeof(why))) {
		rc = pps_parse_bad(&p,
				   "invalid probe arguments '%.100s' (from --probe-args): %.200s",
				   cfg->probe_args, why);
		goto done;
	}
	if ((rc = finish_ports(&p)) || (rc = finish_targets(&p, n, argv, optind)) ||
	    (rc = finish_scan(&p)))
		goto done;
	if (cfg->dump_config) {
		pps_config_dump(cfg, stdout);
		rc = PPS_PARSE_EXIT;
	}
done:
	if (rc == 0)
		return PPS_PARSE_OK;
	if (rc < 0) {
		/* one line, whatever the bad value holds */
		for (char *q = p.msg; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
		/* name the file and line when the offending option came from a config file */
		if (optind > 0 && optind - 1 < n && cfg->origin && cfg->origin[optind - 1] &&
		    cfg->origin[optind - 1] != (char *)-1 &&
		    !strstr(p.msg, cfg->origin[optind - 1]))
			fprintf(err, "%s: %s (in %s)\n", cfg->prog, p.msg, cfg->origin[optind - 1]);
		else
			fprintf(err, "%s: %s\n", cfg->prog, p.msg);
	}
	pps_config_free(cfg);
	return rc < 0 ? PPS_PARSE_ERROR : PPS_PARSE_EXIT;
}

unsigned pps_config_probe_frame_bytes(const struct pps_config *cfg)
{
	unsigned frame = (cfg->probe ? cfg->probe : pps_probe_default())->frame_bytes(cfg);

	if (frame < 60)
		frame = 60;
	return frame + 24;
}
