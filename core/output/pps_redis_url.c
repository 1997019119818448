/*
 * --redis URL parsing. The shapes follow redis-cli -u and the IANA "redis" scheme
 * (https://www.iana.org/assignments/uri-schemes/prov/redis): user info before the last '@'
 * of the authority, the database as the path. unix:// carries the socket path as its path
 * and the database as ?db=N (as redis-py reads it).
 *
 *   redis://:s3cret@127.0.0.1:6380/2  ->  host 127.0.0.1, port 6380, password s3cret, db 2
 *   unix:///run/redis/redis.sock?db=1 ->  path /run/redis/redis.sock, db 1
 */
#include "pps_redis_url.h"

#include "../pps_arp.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pps_redis_url_mask(const char *url, char *buf, size_t len)
{
	const char *a = strstr(url, "://"), *at, *colon;

	if (!len)
		return;
	if (!a || !(at = strrchr(a + 3, '@'))) {
		snprintf(buf, len, "%s", url);
		return;
	}
	a += 3;
	colon = memchr(a, ':', (size_t)(at - a));
	/* keep the user name; a lone "secret@" is a password and goes entirely */
	snprintf(buf, len, "%.*s***%s", (int)((colon ? colon + 1 : a) - url), url, at);
}

/* Percent-decodes [s, s + n) into @out (size @cap). Returns 0, or -1 if bad or too long. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = pps_hexval(s[i + 1]);
			lo = pps_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Strict unsigned decimal of [s, s + n), at most @max. Returns 0 or -1. */
static int number(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

#define WHY(...)                                                                                   \
	do {                                                                                       \
		snprintf(why, whylen, __VA_ARGS__);                                                \
		return -EINVAL;                                                                    \
	} while (0)

#define SHAPES "expected redis://[:password@]host[:port][/db] or unix:///path/to/redis.sock[?db=N]"
#define DB_MAX 2147483647UL

/* User info [s, s + n): "user:password", ":password" or "password". */
static int userinfo(const char *s, size_t n, struct pps_redis_url *u, char *why, size_t whylen)
{
	const char *colon = memchr(s, ':', n), *e = s + n;

	if (colon) {
		if (decode(s, (size_t)(colon - s), u->user, sizeof(u->user)))
			WHY("bad user name: use %%XX escapes, at most %zu bytes",
			    sizeof(u->user) - 1);
		s = colon + 1;
	}
	if (decode(s, (size_t)(e - s), u->password, sizeof(u->password)))
		WHY("bad password: use %%XX escapes, at most %zu bytes", sizeof(u->password) - 1);
	u->has_password = 1;
	return 0;
}

int pps_redis_url_parse(const char *url, struct pps_redis_url *u, char *why, size_t whylen)
{
	const char *s, *end, *at, *slash;
	unsigned long v;

	memset(u, 0, sizeof(*u));
	u->port_h = PPS_REDIS_DEFAULT_PORT;
	if (!strncmp(url, "rediss://", 9))
		WHY("TLS (rediss://) is not supported: use redis:// or unix://");
	if (!strncmp(url, "unix://", 7)) {
		u->is_unix = 1;
		s = url + 7;
		slash = strchr(s, '/');
		if (!slash)
			WHY("no socket path: expected unix:///path/to/redis.sock");
		/* user info only before the path, so a path may contain '@' */
		at = memchr(s, '@', (size_t)(slash - s));
		if (at) {
			int rc = userinfo(s, (size_t)(at - s), u, why, whylen);
			if (rc)
				return rc;
		} else if (slash != s) {
			WHY("unexpected '%.*s' before the socket path: expected unix:///path",
			    (int)(slash - s), s);
		}
		end = strchr(slash, '?');
		if (!end)
			end = slash + strlen(slash);
		if ((size_t)(end - slash) >= sizeof(u->path))
			WHY("socket path too long: at most %zu bytes", sizeof(u->path) - 1);
		if (end - slash < 2)
			WHY("no socket path: expected unix:///path/to/redis.sock");
		memcpy(u->path, slash, (size_t)(end - slash));
		if (*end) {
			if (strncmp(end, "?db=", 4))
				WHY("unknown parameter '%s': only ?db=N", end);
			if (number(end + 4, strlen(end + 4), DB_MAX, &v))
				WHY("database '%s' is not a number 0-%lu", end + 4, DB_MAX);
			u->db = (uint32_t)v;
		}
		return 0;
	}
	if (strncmp(url, "redis://", 8))
		WHY(SHAPES);

	s = url + 8;
	end = s + strcspn(s, "/?#");
	if (*end == '?' || *end == '#')
		WHY("unexpected '%s': the database goes in the path, redis://host:port/db", end);
	/* authority [s, end): the user info ends at its last '@' */
	at = NULL;
	for (const char *p = s; p < end; p++)
		if (*p == '@')
			at = p;
	if (at) {
		int rc = userinfo(s, (size_t)(at - s), u, why, whylen);
		if (rc)
			return rc;
		s = at + 1;
	}
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));

		if (!rb || rb == s + 1)
			WHY("bad IPv6 host: expected redis://[addr]:port");
		if ((size_t)(rb - s - 1) >= sizeof(u->host))
			WHY("host name too long");
		memcpy(u->host, s + 1, (size_t)(rb - s - 1));
		s = rb + 1;
		if (s < end && *s != ':')
			WHY("unexpected '%.*s' after the IPv6 host", (int)(end - s), s);
	} else {
		const char *colon = memchr(s, ':', (size_t)(end - s));
		const char *hend = colon ? colon : end;

		if (hend == s)
			WHY("no host: " SHAPES);
		if ((size_t)(hend - s) >= sizeof(u->host))
			WHY("host name too long");
		for (const char *p = s; p < hend; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
				WHY("bad host '%.*s'", (int)(hend - s), s);
		memcpy(u->host, s, (size_t)(hend - s));
		s = hend;
	}
	if (s < end) { /* ":port" */
		if (number(s + 1, (size_t)(end - s - 1), 65535, &v) || v == 0)
			WHY("port '%.*s' is not 1-65535", (int)(end - s - 1), s + 1);
		u->port_h = (uint16_t)v;
	}
	if (*end == '/' && end[1]) {
		if (number(end + 1, strlen(end + 1), DB_MAX, &v))
			WHY("database '%s' is not a number 0-%lu", end + 1, DB_MAX);
		u->db = (uint32_t)v;
	}
	return 0;
}

int pps_redis_key_part_check(const char *s, char *why, size_t whylen)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			n = 0;
	if (n == 0 || n > PPS_REDIS_KEY_PART_MAX) {
		snprintf(why, whylen, "expected 1-%d printable characters without spaces",
			 PPS_REDIS_KEY_PART_MAX);
		return -EINVAL;
	}
	return 0;
}
