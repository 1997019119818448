/*
 * unit_util.h - helpers shared by the unit suites (header only): a seeded PRNG, an
 * independent RFC 1071 checksum, a builder for received frames (Ethernet, VLAN tags,
 * IPv4, TCP) and a wrapper around pps_config_parse() that captures the error stream.
 */
#ifndef PPS_UNIT_UTIL_H
#define PPS_UNIT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pps_config.h"

/* xorshift64* (Vigna): deterministic test data, independent of the code under test. */
struct ut_rng {
	uint64_t s;
};

static inline void ut_rng_seed(struct ut_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t ut_rand64(struct ut_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static inline uint32_t ut_rand32(struct ut_rng *r)
{
	return (uint32_t)(ut_rand64(r) >> 32);
}

/* uniform enough for tests: [0, n) */
static inline uint64_t ut_below(struct ut_rng *r, uint64_t n)
{
	return ut_rand64(r) % n;
}

/*
 * RFC 1071 from scratch: 16-bit big-endian words summed in 32 bits, odd byte padded
 * with zero, carries folded back. ut_sum16() returns the folded (not complemented) sum.
 */
static inline uint32_t ut_add16(const uint8_t *p, size_t len, uint32_t acc)
{
	while (len > 1) {
		acc += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static inline uint16_t ut_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* ut_csum - the Internet checksum of @len bytes at @p, starting from the sum @acc. */
static inline uint16_t ut_csum(const uint8_t *p, size_t len, uint32_t acc)
{
	uint16_t folded = ut_fold(ut_add16(p, len, acc));

	return (uint16_t)(0xffff - folded);
}

static inline uint32_t ut_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static inline void ut_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ut_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t ut_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ut_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A received frame to build. Zero-initialise, then set what matters. */
struct ut_frame {
	int raw;	       /* 1: no Ethernet header (with_ethernet = 0) */
	int n_vlan;	       /* 0..3 tags */
	uint16_t vlan_tpid[3]; /* 0x8100 or 0x88a8; 0 means 0x8100 */
	uint16_t ethertype;    /* 0 means 0x0800 */
	uint8_t version_ihl;   /* 0 means 0x45 (+ ip_optlen) */
	int ip_optlen;	       /* IPv4 option bytes (multiple of 4) */
	uint8_t proto;	       /* 0 means TCP */
	uint16_t frag;	       /* flags + fragment offset word; DF is 0x4000 */
	int tot_adjust;	       /* added to the correct IPv4 total length */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint8_t ttl;
	uint16_t ipid;
	int tcp_optlen; /* TCP option bytes (multiple of 4), filled with NOPs + MSS */
	int doff_set;	/* 1: use @doff as the data offset (words), else computed */
	int doff;
	int payload; /* payload bytes */
	int no_pad;  /* 1: do not pad to 60 bytes */
};

/* ut_build - writes the frame into @buf (>= 256 bytes) and returns its length. */
static inline size_t ut_build(uint8_t *buf, const struct ut_frame *f)
{
	size_t off = 0, ip_off, tcp_off, ihl, tcp_len, len;
	uint8_t *ip, *tcp;
	uint32_t acc;

	memset(buf, 0, 256);
	if (!f->raw) {
		static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
		static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

		memcpy(buf, dmac, 6);
		memcpy(buf + 6, smac, 6);
		off = 12;
		for (int i = 0; i < f->n_vlan; i++) {
			ut_put16(buf + off, f->vlan_tpid[i] ? f->vlan_tpid[i] : 0x8100);
			ut_put16(buf + off + 2, (uint16_t)(100 + i)); /* TCI: VLAN id */
			off += 4;
		}
		ut_put16(buf + off, f->ethertype ? f->ethertype : 0x0800);
		off += 2;
	}
	ip_off = off;
	ip = buf + ip_off;
	ihl = 20 + (size_t)f->ip_optlen;
	tcp_off = ip_off + ihl;
	tcp = buf + tcp_off;
	tcp_len = 20 + (size_t)f->tcp_optlen + (size_t)f->payload;

	ip[0] = f->version_ihl ? f->version_ihl : (uint8_t)(0x40 | (ihl / 4));
	ut_put16(ip + 2, (uint16_t)((int)(ihl + tcp_len) + f->tot_adjust));
	ut_put16(ip + 4, f->ipid);
	ut_put16(ip + 6, f->frag);
	ip[8] = f->ttl;
	ip[9] = f->proto ? f->proto : 6;
	ut_put32(ip + 12, f->saddr);
	ut_put32(ip + 16, f->daddr);
	for (int i = 0; i < f->ip_optlen; i++)
		ip[20 + i] = 1; /* NOP options */
	ut_put16(ip + 10, ut_csum(ip, ihl, 0));

	ut_put16(tcp, f->sport);
	ut_put16(tcp + 2, f->dport);
	ut_put32(tcp + 4, f->seq);
	ut_put32(tcp + 8, f->ack);
	tcp[12] = (uint8_t)((f->doff_set ? f->doff : (20 + f->tcp_optlen) / 4) << 4);
	tcp[13] = f->flags;
	ut_put16(tcp + 14, f->window);
	for (int i = 0; i < f->tcp_optlen; i++)
		tcp[20 + i] = 1;
	if (f->tcp_optlen >= 4) {
		static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
		memcpy(tcp + 20, mss, 4);
	}
	for (int i = 0; i < f->payload; i++)
		tcp[20 + f->tcp_optlen + i] = (uint8_t)('a' + i % 26);
	acc = ut_pseudo(f->saddr, f->daddr, 6, (uint16_t)tcp_len);
	ut_put16(tcp + 16, ut_csum(tcp, tcp_len, acc));

	len = tcp_off + tcp_len;
	if (!f->raw && !f->no_pad && len < 60)
		len = 60;
	return len;
}

/* A typical SYN-ACK from 198.18.0.10:80 to 192.0.2.1:40000. */
static inline struct ut_frame ut_synack(void)
{
	struct ut_frame f = { 0 };

	f.saddr = 0xc612000a;
	f.daddr = 0xc0000201;
	f.sport = 80;
	f.dport = 40000;
	f.seq = 0x11223344;
	f.ack = 0xaabbccdd;
	f.flags = 0x12;
	f.window = 29200;
	f.ttl = 57;
	f.ipid = 0x1234;
	f.frag = 0x4000;
	return f;
}

/*
 * ut_parse_args - pps_config_parse() over a NULL-terminated argv (argv[0] included), the
 * error stream captured in memory. *errtext (malloc'ed, caller frees) receives it.
 */
static inline int ut_parse_args(struct pps_config *cfg, enum pps_backend backend, char **argv,
				char **errtext)
{
	size_t errlen = 0;
	FILE *err;
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	*errtext = NULL;
	err = open_memstream(errtext, &errlen);
	if (!err)
		abort();
	rc = pps_config_parse(cfg, backend, argc, argv, err);
	fclose(err);
	return rc;
}

/* ARGV("-p", "80", "1.2.3.4") - a mutable argv array with "ppscan" first. */
#define ARGV(...) ((char *[]){ "ppscan", __VA_ARGS__, NULL })

/*
 * A dry run with an empty blocklist: the default blocklist removes the reserved ranges the
 * unit tests use (198.18.0.0/15, 10.0.0.0/8, ...), which stay documentation-only here.
 */
#define DRY_NOBL "--dryrun", "-b", "/dev/null"

/* ut_count_lines - number of '\n' in @s. */
static inline int ut_count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

#endif /* PPS_UNIT_UTIL_H */
