/*
 * Redis (RESP, the Redis serialization protocol: "+" simple string, "-" error, ":" integer,
 * "$" bulk string with its length, "*" array; each header line ends with CR LF). Client-first:
 * the module sends INFO server as a RESP array; an open server answers a bulk string
 * ("$582\r\n# Server\r\nredis_version:7.0.15\r\n..."), which data/fingerprints/redis.conf
 * names (Redis, Valkey, KeyDB: version, mode, OS); a closed one answers an error: "-NOAUTH
 * Authentication required." (a password is set) or "-DENIED Redis is running in protected
 * mode ..." (no password, remote clients refused).
 *
 * Reacts to other modules' requests: Redis reads an HTTP request line as an inline command
 * and answers "-ERR unknown command 'GET', with args beginning with: ...".
 */
#include <stdio.h>
#include <string.h>

#include "id_b.h"
#include "id_module.h"
#include "id_util.h"

#define REDIS_BULK_MAX 12288 /* INFO server is ~600 bytes; more is not waited for */

static const char redis_info[] = "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n";

/* An error line: which kind (for the record) and how sure it makes us. */
static int redis_error(struct id_conn *c, const uint8_t *d, size_t l, int claim)
{
	static const struct {
		const char *prefix, *field;
		int verdict;
	} known[] = {
		{ "-DENIED Redis is running in protected mode", "protected_mode", ID_MATCH },
		{ "-NOAUTH ", "auth_required", ID_MATCH },
		{ "-ERR unknown command ", NULL, ID_MATCH },
		{ "-ERR wrong number of arguments", NULL, ID_SOFT },
		{ "-WRONGPASS ", "auth_required", ID_MATCH },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		json_t *o;
		int v = known[i].verdict;

		if (id_prefix(d, l, known[i].prefix, 0) != ID_MATCH)
			continue;
		/* "unknown command" in Redis's own words, or only a generic error */
		if (known[i].field == NULL && v == ID_MATCH &&
		    !memmem(d, l, "with args beginning with", 24))
			v = ID_SOFT;
		o = id_obj(c);
		if (o) {
			json_object_set_new(o, "error", id_json_text(d + 1, l - 1));
			if (known[i].field)
				json_object_set_new(o, known[i].field, json_true());
		}
		id_set_product(c, "Redis", NULL);
		return v;
	}
	if (!claim)
		return ID_NO;
	/* a RESP error answering our RESP request: still Redis-like, weakly */
	if (id_obj(c))
		json_object_set_new(id_obj(c), "error", id_json_text(d + 1, l - 1));
	return ID_SOFT;
}

static int redis_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	size_t l = id_line_len(d, n);
	int phase = id_phase(c);

	(void)st;
	if (n == 0)
		return ID_MORE;
	if (phase == ID_PHASE_REACT || phase == ID_PHASE_GREETING) {
		if (d[0] != '-')
			return ID_NO;
		if (!l)
			return n < 512 && !id_ended(c) ? ID_MORE : ID_NO;
		return redis_error(c, d, id_text_len(d, l), 0);
	}
	if (!strchr("+-:$*", d[0]))
		return ID_NO;
	if (!l)
		return n < 512 && !id_ended(c) ? ID_MORE : ID_NO;
	if (!id_is_text(d, l))
		return ID_NO;
	if (d[0] == '-')
		return redis_error(c, d, id_text_len(d, l), 1);
	if (d[0] == '$') {
		long len = 0;
		size_t i = 1;

		for (; i < l && d[i] >= '0' && d[i] <= '9' && len < 1000000; i++)
			len = len * 10 + (d[i] - '0');
		if (i == 1 || (d[i] != '\r' && d[i] != '\n'))
			return ID_NO;
		if (n < l + (size_t)len + 2 && l + (size_t)len + 2 <= REDIS_BULK_MAX &&
		    !id_ended(c))
			return ID_MORE;
		id_set_product(c, "Redis", NULL);
		id_fingerprint(c, d + l, n - l < (size_t)len ? n - l : (size_t)len);
		return ID_MATCH;
	}
	return ID_SOFT; /* +, : or * answering INFO: RESP, but not what Redis says */
}

static int redis_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, redis_info, sizeof(redis_info) - 1) ? ID_NO : ID_MORE;
}

static const uint16_t redis_ports[] = { 6379, 6380, 16379, 26379, 0 };

const struct id_module id_mod_redis = {
	.name = "redis",
	.summary = "Redis (RESP: INFO server, protected mode, authentication)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 125,
	.ports = redis_ports,
	.start = redis_start,
	.on_readable = redis_readable,
};
