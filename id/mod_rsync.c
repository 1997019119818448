/*
 * rsync daemon (rsync's doc "rsyncd protocol", csprotocol.txt): server-first. The daemon
 * greets with "@RSYNCD: <protocol>[.<sub>][ <checksum list>]\n" (rsync 3.2 added the list of
 * checksums it supports). The module claims the greeting, answers with its own greeting and
 * "#list", and records the module list the daemon sends ("name<TAB>comment" lines) up to
 * "@RSYNCD: EXIT". data/fingerprints/rsync.conf names the greeting.
 *
 * Example: Debian 12's rsync greets "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4".
 */
#include <stdio.h>
#include <string.h>

#include "id_b.h"
#include "id_module.h"
#include "id_util.h"

#define RSYNC_LIST_MAX 32

struct rsync_state {
	uint8_t listing; /* our greeting and "#list" are out */
};

static int rsync_list(struct id_conn *c, const uint8_t *d, size_t n)
{
	json_t *mods = json_array(), *o = id_obj(c);
	size_t pos = 0;
	int done = 0;

	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos), t;
		const uint8_t *s = d + pos, *tab;

		if (!l)
			break;
		t = id_text_len(s, l);
		pos += l;
		if (id_prefix(s, t, "@RSYNCD: EXIT", 0) == ID_MATCH) {
			done = 1;
			break;
		}
		if (id_prefix(s, t, "@", 0) == ID_MATCH || json_array_size(mods) >= RSYNC_LIST_MAX)
			continue; /* "@ERROR: ..." and other daemon lines */
		tab = memchr(s, '\t', t);
		while (tab && tab > s && tab[-1] == ' ')
			tab--;
		json_array_append_new(mods, id_json_text(s, tab ? (size_t)(tab - s) : t));
	}
	if (!done && !id_ended(c) && n < 8192) {
		json_decref(mods);
		return ID_MORE;
	}
	if (o)
		json_object_set_new(o, "modules", mods);
	else
		json_decref(mods);
	return ID_MATCH;
}

static int rsync_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct rsync_state *st = stp;
	char hello[32];
	size_t l, t;
	int r, proto = 0;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->listing)
		return rsync_list(c, d, n);
	r = id_prefix(d, n, "@RSYNCD: ", 0);
	if (r != ID_MATCH)
		return r == ID_MORE && !id_ended(c) ? ID_MORE : ID_NO;
	l = id_line_len(d, n);
	if (!l)
		return n < 256 && !id_ended(c) ? ID_MORE : ID_NO;
	t = id_text_len(d, l);
	if (!id_is_text(d, l) || t < 10 || d[9] < '1' || d[9] > '9')
		return ID_NO;
	for (size_t i = 9; i < t && d[i] >= '0' && d[i] <= '9' && proto < 1000; i++)
		proto = proto * 10 + (d[i] - '0');
	if (id_obj(c))
		json_object_set_new(id_obj(c), "greeting", id_json_text(d, t));
	id_fingerprint(c, d, t);
	id_consume(c, l);
	/* our greeting at the lower of the two protocol versions, then ask for the list */
	snprintf(hello, sizeof(hello), "@RSYNCD: %d.0\n#list\n", proto < 31 ? proto : 31);
	if (id_send_str(c, hello))
		return ID_MATCH;
	st->listing = 1;
	return ID_CLAIM;
}

static const uint16_t rsync_ports[] = { 873, 0 };

const struct id_module id_mod_rsync = {
	.name = "rsync",
	.summary = "rsync daemon (@RSYNCD greeting: protocol, checksums, module list)",
	.flags = ID_F_GREETING | ID_F_REACT,
	.weight = 100,
	.ports = rsync_ports,
	.state_size = sizeof(struct rsync_state),
	.on_readable = rsync_readable,
};
