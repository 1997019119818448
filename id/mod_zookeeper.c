/*
 * mod_zookeeper.c - Apache ZooKeeper: the four-letter word "srvr" (ZooKeeper Administrator's
 * Guide, "ZooKeeper Commands: The Four Letter Words"; since 3.5.3 "srvr" is the one word a
 * default 4lw.commands.whitelist allows). The server answers with text lines ("Zookeeper
 * version: 3.8.0-..., built on ...", "Latency min/avg/max", ..., "Mode: standalone",
 * "Node count: N") and closes, or says "srvr is not executed because it is not in the
 * whitelist." when the words are turned off. Product and version: data/fingerprints/zookeeper.conf.
 *
 * Record: "zookeeper": {mode, zxid, node_count, connections, whitelisted (false when refused)}.
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define ZK_REPLY_MAX 4096 /* bytes of a srvr reply waited for (about 300 in practice) */

static const char zk_refused[] = "srvr is not executed because it is not in the whitelist.";

static int zk_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send_str(c, "srvr") ? ID_NO : ID_MORE;
}

/* The value of the line "key: value" in @d, as a JSON string; NULL when absent. */
static json_t *zk_value(const uint8_t *d, size_t n, const char *key)
{
	size_t k = strlen(key), pos = 0;

	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos);

		if (!l)
			l = n - pos;
		if (l > k + 2 && !memcmp(d + pos, key, k) && d[pos + k] == ':' &&
		    d[pos + k + 1] == ' ')
			return id_json_text(d + pos + k + 2,
					    id_text_len(d + pos + k + 2, l - k - 2));
		pos += l;
	}
	return NULL;
}

static int zk_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	static const char *const keys[][2] = {
		{ "Mode", "mode" },
		{ "Zxid", "zxid" },
		{ "Node count", "node_count" },
		{ "Connections", "connections" },
	};
	int r = id_prefix(d, n, "Zookeeper version: ", 0);
	json_t *o, *v;

	(void)st;
	if (r == ID_NO) {
		r = id_prefix(d, n, zk_refused, 0);
		if (r == ID_MATCH && (o = id_obj(c))) {
			json_object_set_new(o, "whitelisted", json_false());
			id_set_product(c, "Apache ZooKeeper", NULL);
		}
		return r == ID_MORE && id_ended(c) ? ID_NO : r;
	}
	if (r == ID_MORE)
		return id_ended(c) ? ID_NO : ID_MORE;
	if (!id_is_text(d, n))
		return ID_NO;
	/* the reply ends when the server closes (it does after every four-letter word) */
	if (!id_ended(c) && n < ZK_REPLY_MAX && !zk_value(d, n, "Node count"))
		return ID_MORE;
	o = id_obj(c);
	for (size_t i = 0; o && i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = zk_value(d, n, keys[i][0])))
			json_object_set_new(o, keys[i][1], v);
	id_fingerprint(c, d, id_line_len(d, n) ? id_line_len(d, n) : n);
	return ID_MATCH;
}

static const uint16_t zk_ports[] = { 2181, 2182, 0 };

const struct id_module id_mod_zookeeper = {
	.name = "zookeeper",
	.summary = "Apache ZooKeeper (four-letter word srvr: version, mode, node count)",
	.flags = ID_F_PROBE,
	.weight = 120,
	.ports = zk_ports,
	.start = zk_start,
	.on_readable = zk_readable,
};
