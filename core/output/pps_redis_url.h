/*
 * pps_redis_url.h - the --redis URL: parsed and checked at option time (no hiredis needed),
 * so a bad URL is bad input (exit 2) even in a build without Redis support.
 *
 *   redis://[[user]:password@]host[:port][/db]     TCP, port 6379 and db 0 by default
 *   unix://[[user]:password@]/path/to/redis.sock[?db=N]
 *
 * The user and password may be percent-encoded (%40 for '@', %2F for '/'). A lone
 * "secret@" before the host is a password, as redis-cli -u reads it. IPv6 hosts go in
 * brackets: redis://[::1]:6379. Messages never show the password: pps_redis_url_mask()
 * replaces it with "***".
 */
#ifndef PPS_REDIS_URL_H
#define PPS_REDIS_URL_H

#include <stddef.h>
#include <stdint.h>

#define PPS_REDIS_DEFAULT_PORT 6379

struct pps_redis_url {
	int is_unix;	    /* 1: unix:// (path), 0: redis:// (host, port) */
	char host[256];	    /* name or address literal, brackets removed */
	uint16_t port_h;    /* 1..65535 */
	char path[108];	    /* socket path (sun_path holds 107 bytes and a NUL) */
	char user[128];	    /* ACL user, "" for the default user */
	char password[256]; /* "" when has_password is 0 */
	int has_password;
	uint32_t db; /* SELECT index, 0 by default */
};

/**
 * pps_redis_url_parse - parses @url into @u. Returns 0, or -EINVAL with a short reason in
 * @why (never containing the password), e.g. "port '0' is not 1-65535".
 */
int pps_redis_url_parse(const char *url, struct pps_redis_url *u, char *why, size_t whylen);

/** Longest key part (--redis-prefix, --scan-id) in characters. */
#define PPS_REDIS_KEY_PART_MAX 64

/**
 * pps_redis_key_part_check - the one rule for a part of a Redis key name that the scanner
 * and the identification stage must both accept (--redis-prefix, --scan-id): 1 to
 * PPS_REDIS_KEY_PART_MAX printable ASCII characters, no space (so a key never needs quoting
 * in redis-cli and a part cannot hide in the ':' separated name). Returns 0, or -EINVAL with
 * a reason in @why.
 */
int pps_redis_key_part_check(const char *s, char *why, size_t whylen);

/**
 * pps_redis_url_mask - copies @url into @buf (size @len, always NUL-terminated) with the
 * password (everything between the first ':' of the user part and the last '@' of the
 * authority) replaced by "***". Works on malformed URLs too, for error messages.
 */
void pps_redis_url_mask(const char *url, char *buf, size_t len);

#endif /* PPS_REDIS_URL_H */
