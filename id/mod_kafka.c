/*
 * mod_kafka.c - Kafka: ApiVersions version 0 (Kafka protocol guide, "ApiVersions API (Key:
 * 18)", request and response header v0). Brokers since 0.10.0 answer it on a fresh
 * connection, before any SASL or ACL check; the list of API keys and version ranges is the
 * broker's own, so the module names the protocol from the list's shape, not a string.
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

/* size 16 | api_key 18 | api_version 0 | correlation_id | client_id "ppscan" (int16 length) */
const uint8_t id_kafka_request[20] = {
	0, 0, 0, 16, 0, 18, 0, 0, 0x70, 0x70, 0x73, 0x63, 0, 6, 'p', 'p', 's', 'c', 'a', 'n',
};

#define KAFKA_SIZE_MAX 65536u
#define KAFKA_KEY_MAX 1024

enum id_wire id_kafka_parse(const uint8_t *buf, size_t len, struct id_kafka_info *out)
{
	struct id_rd r = id_rd_init(buf, len);
	uint32_t size, i;

	memset(out, 0, sizeof(*out));
	out->produce_max = out->fetch_max = out->apiversions_max = -1;
	out->max_key = -1;
	if (len < 8) {
		/* size's high bytes are 0 for any real reply; the correlation id's prefix must echo */
		static const uint8_t want[4] = { 0x70, 0x70, 0x73, 0x63 };
		size_t k;

		for (k = 0; k < len && k < 2; k++)
			if (buf[k])
				return ID_WIRE_NO;
		for (k = 4; k < len; k++)
			if (buf[k] != want[k - 4])
				return ID_WIRE_NO;
		return ID_WIRE_MORE;
	}
	size = id_rd_be32(&r);
	if (id_rd_be32(&r) != ID_KAFKA_CORRELATION)
		return ID_WIRE_NO;
	if (size < 10 || size > KAFKA_SIZE_MAX)
		return ID_WIRE_BAD;
	if (len < 4 + (size_t)size)
		return ID_WIRE_MORE;
	r.left = size - 4; /* the response only; anything after it is not ours to read */
	out->error = (int16_t)id_rd_be16(&r);
	out->n_apis = id_rd_be32(&r);
	if (out->n_apis > (size - 10) / 6 || out->n_apis * 6 != size - 10)
		return ID_WIRE_BAD;
	for (i = 0; i < out->n_apis; i++) {
		int16_t key = (int16_t)id_rd_be16(&r), lo = (int16_t)id_rd_be16(&r),
			hi = (int16_t)id_rd_be16(&r);

		if (key < 0 || key >= KAFKA_KEY_MAX || lo < 0 || lo > hi)
			return ID_WIRE_BAD;
		if (key > out->max_key)
			out->max_key = key;
		if (key == 0)
			out->produce_max = hi;
		else if (key == 1)
			out->fetch_max = hi;
		else if (key == 18)
			out->apiversions_max = hi;
	}
	/* error 35 (UNSUPPORTED_VERSION) still lists ApiVersions itself; other errors are odd */
	if (out->error != 0 && out->error != 35)
		return ID_WIRE_BAD;
	return r.bad ? ID_WIRE_BAD : ID_WIRE_MATCH;
}

/* ---- the module ---- */

static int kafka_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_kafka_request, sizeof(id_kafka_request)) ? ID_NO : ID_MORE;
}

static int kafka_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_kafka_info k;
	int w = id_kafka_parse(d, n, &k);
	json_t *o;

	(void)st;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "error_code", json_integer(k.error));
	json_object_set_new(o, "api_keys", json_integer(k.n_apis));
	json_object_set_new(o, "max_api_key", json_integer(k.max_key));
	if (k.produce_max >= 0)
		json_object_set_new(o, "produce_max_version", json_integer(k.produce_max));
	if (k.fetch_max >= 0)
		json_object_set_new(o, "fetch_max_version", json_integer(k.fetch_max));
	if (k.apiversions_max >= 0)
		json_object_set_new(o, "api_versions_max_version", json_integer(k.apiversions_max));
	return ID_MATCH;
}

static const uint16_t kafka_ports[] = { 9092, 9093, 9094, 29092, 0 };

const struct id_module id_mod_kafka = {
	.name = "kafka",
	.summary = "Kafka (ApiVersions v0: the broker's API keys and version ranges)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 150,
	.ports = kafka_ports,
	.start = kafka_start,
	.on_readable = kafka_readable,
};
