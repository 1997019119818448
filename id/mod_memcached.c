/*
 * memcached (the text protocol, memcached's doc/protocol.txt): client-first. The module sends
 * "version\r\n"; memcached answers "VERSION 1.6.18\r\n" (named by
 * data/fingerprints/memcached.conf). Reacts to other modules' requests: memcached answers
 * each line it does not know with "ERROR\r\n" (weak evidence: soft), and a malformed one
 * with "CLIENT_ERROR ...".
 */
#include <string.h>

#include "id_b.h"
#include "id_module.h"
#include "id_util.h"

static int memcached_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	size_t l = id_line_len(d, n), t;
	int r;

	(void)st;
	if (id_phase(c) == ID_PHASE_PROBE) {
		r = id_prefix(d, n, "VERSION ", 0);
		if (r != ID_MATCH)
			return r == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
		if (!l)
			return n < 256 && !id_ended(c) ? ID_MORE : ID_NO;
		t = id_text_len(d, l);
		if (!id_is_text(d, l) || t <= 8)
			return ID_NO;
		if (id_obj(c))
			json_object_set_new(id_obj(c), "version_line", id_json_text(d, t));
		id_set_product(c, "memcached", NULL);
		id_fingerprint(c, d, l);
		return ID_MATCH;
	}
	/* REACT: "ERROR\r\n" once per line of the other request, nothing else */
	if (n < 7)
		return id_prefix(d, n, "ERROR\r\n", 0) == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
	for (size_t o = 0; o < n; o += 7)
		if (id_prefix(d + o, n - o, "ERROR\r\n", 0) != ID_MATCH)
			return id_prefix(d + o, n - o, "ERROR\r\n", 0) == ID_MORE && o ? ID_SOFT
										       : ID_NO;
	if (id_obj(c))
		json_object_set_new(id_obj(c), "reply", json_string("ERROR"));
	return ID_SOFT;
}

static int memcached_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send_str(c, "version\r\n") ? ID_NO : ID_MORE;
}

static const uint16_t memcached_ports[] = { 11211, 0 };

const struct id_module id_mod_memcached = {
	.name = "memcached",
	.summary = "memcached (text protocol: version)",
	.flags = ID_F_PROBE | ID_F_REACT,
	.weight = 115,
	.ports = memcached_ports,
	.start = memcached_start,
	.on_readable = memcached_readable,
};
