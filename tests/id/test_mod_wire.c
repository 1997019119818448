/*
 * The AMQP, Kafka, ZooKeeper, CQL, IRC, NNTP, SOCKS, Modbus/TCP, IPP, Java RMI and X11
 * modules without the network (suite unit): each wire parser on a reply built here byte by
 * byte from its specification, on every prefix of it (ID_WIRE_MORE, never a match before the
 * end), and on replies that break the rules (ID_WIRE_BAD) or belong to another protocol
 * (ID_WIRE_NO); the fingerprints of the text subjects; and each module as the engine runs it
 * (id_judge), on what the lab's servers send.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "id_engine.h"
#include "id_fingerprints.h"
#include "id_module.h"
#include "mod_wire.h"

/* A reply under construction. */
struct msg {
	uint8_t b[4096];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	cr_assert_leq(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void u8(struct msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static void be16(struct msg *m, uint16_t v)
{
	u8(m, (uint8_t)(v >> 8));
	u8(m, (uint8_t)v);
}

static void be32(struct msg *m, uint32_t v)
{
	be16(m, (uint16_t)(v >> 16));
	be16(m, (uint16_t)v);
}

static void le16(struct msg *m, uint16_t v)
{
	u8(m, (uint8_t)v);
	u8(m, (uint8_t)(v >> 8));
}

static void le32(struct msg *m, uint32_t v)
{
	le16(m, (uint16_t)v);
	le16(m, (uint16_t)(v >> 16));
}

static void str16(struct msg *m, const char *s)
{
	be16(m, (uint16_t)strlen(s));
	put(m, s, strlen(s));
}

static void patch_be32(struct msg *m, size_t at, uint32_t v)
{
	m->b[at] = (uint8_t)(v >> 24);
	m->b[at + 1] = (uint8_t)(v >> 16);
	m->b[at + 2] = (uint8_t)(v >> 8);
	m->b[at + 3] = (uint8_t)v;
}

/* Every proper prefix of a complete reply must ask for more. */
#define ASSERT_PREFIXES_MORE(fn, m, info)                                                          \
	do {                                                                                       \
		for (size_t k_ = 0; k_ < (m)->n; k_++) {                                           \
			uint8_t *c_ = malloc(k_ ? k_ : 1);                                         \
			memcpy(c_, (m)->b, k_);                                                    \
			cr_assert_eq(fn(c_, k_, info), ID_WIRE_MORE, "prefix of %zu bytes", k_);   \
			free(c_);                                                                  \
		}                                                                                  \
	} while (0)

/* ---- AMQP ---- */

static void amqp_sfield(struct msg *m, const char *name, const char *v)
{
	u8(m, (uint8_t)strlen(name));
	put(m, name, strlen(name));
	u8(m, 'S');
	be32(m, (uint32_t)strlen(v));
	put(m, v, strlen(v));
}

/* Connection.Start as a 0-9-1 broker sends it, with a nested capabilities table. */
static void amqp_start(struct msg *m)
{
	size_t size_at, tab_at, cap_at, t0, c0;

	u8(m, 1);
	be16(m, 0);
	size_at = m->n;
	be32(m, 0);
	be16(m, 10);
	be16(m, 10);
	u8(m, 0);
	u8(m, 9);
	tab_at = m->n;
	be32(m, 0);
	t0 = m->n;
	u8(m, 12);
	put(m, "capabilities", 12);
	u8(m, 'F');
	cap_at = m->n;
	be32(m, 0);
	c0 = m->n;
	u8(m, 18);
	put(m, "publisher_confirms", 18);
	u8(m, 't');
	u8(m, 1);
	u8(m, 4);
	put(m, "prio", 4);
	u8(m, 'l');
	be32(m, 0);
	be32(m, 7);
	patch_be32(m, cap_at, (uint32_t)(m->n - c0));
	amqp_sfield(m, "cluster_name", "rabbit@lab");
	amqp_sfield(m, "platform", "Erlang/OTP 25.2.3");
	amqp_sfield(m, "product", "RabbitMQ");
	amqp_sfield(m, "version", "3.10.8");
	u8(m, 3);
	put(m, "arr", 3);
	u8(m, 'A');
	be32(m, 6);
	u8(m, 'I');
	be32(m, 5);
	u8(m, 'V');
	patch_be32(m, tab_at, (uint32_t)(m->n - t0));
	be32(m, 14);
	put(m, "AMQPLAIN PLAIN", 14);
	be32(m, 5);
	put(m, "en_US", 5);
	patch_be32(m, size_at, (uint32_t)(m->n - 7));
	u8(m, 0xCE);
}

Test(mod_wire, amqp_connection_start)
{
	struct msg m = { .n = 0 };
	struct id_amqp_info a;

	amqp_start(&m);
	cr_assert_eq(id_amqp_parse(m.b, m.n, &a), ID_WIRE_MATCH);
	cr_assert(a.start);
	cr_assert_eq(a.major, 0);
	cr_assert_eq(a.minor, 9);
	cr_assert_str_eq(a.product, "RabbitMQ");
	cr_assert_str_eq(a.version, "3.10.8");
	cr_assert_str_eq(a.platform, "Erlang/OTP 25.2.3");
	cr_assert_str_eq(a.cluster, "rabbit@lab");
	cr_assert_str_eq(a.mechanisms, "AMQPLAIN PLAIN");
	cr_assert_str_eq(a.locales, "en_US");
	ASSERT_PREFIXES_MORE(id_amqp_parse, &m, &a);

	m.b[m.n - 1] = 0x00; /* frame-end */
	cr_assert_eq(id_amqp_parse(m.b, m.n, &a), ID_WIRE_BAD);
	m.b[m.n - 1] = 0xCE;
	m.b[30] = 'Z'; /* the first field's type: unknown */
	cr_assert_eq(id_amqp_parse(m.b, m.n, &a), ID_WIRE_BAD);
}

/* Connection.Start as Debian 12's rabbitmq-server 3.10.8 sent it in the lab */
static const unsigned char rabbitmq_start[] = {
	0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0xf1, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x09, 0x00, 0x00,
	0x01, 0xcc, 0x0c, 0x63, 0x61, 0x70, 0x61, 0x62, 0x69, 0x6c, 0x69, 0x74, 0x69, 0x65, 0x73,
	0x46, 0x00, 0x00, 0x00, 0xc7, 0x12, 0x70, 0x75, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x65, 0x72,
	0x5f, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x72, 0x6d, 0x73, 0x74, 0x01, 0x1a, 0x65, 0x78, 0x63,
	0x68, 0x61, 0x6e, 0x67, 0x65, 0x5f, 0x65, 0x78, 0x63, 0x68, 0x61, 0x6e, 0x67, 0x65, 0x5f,
	0x62, 0x69, 0x6e, 0x64, 0x69, 0x6e, 0x67, 0x73, 0x74, 0x01, 0x0a, 0x62, 0x61, 0x73, 0x69,
	0x63, 0x2e, 0x6e, 0x61, 0x63, 0x6b, 0x74, 0x01, 0x16, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d,
	0x65, 0x72, 0x5f, 0x63, 0x61, 0x6e, 0x63, 0x65, 0x6c, 0x5f, 0x6e, 0x6f, 0x74, 0x69, 0x66,
	0x79, 0x74, 0x01, 0x12, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x2e,
	0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x65, 0x64, 0x74, 0x01, 0x13, 0x63, 0x6f, 0x6e, 0x73, 0x75,
	0x6d, 0x65, 0x72, 0x5f, 0x70, 0x72, 0x69, 0x6f, 0x72, 0x69, 0x74, 0x69, 0x65, 0x73, 0x74,
	0x01, 0x1c, 0x61, 0x75, 0x74, 0x68, 0x65, 0x6e, 0x74, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f,
	0x6e, 0x5f, 0x66, 0x61, 0x69, 0x6c, 0x75, 0x72, 0x65, 0x5f, 0x63, 0x6c, 0x6f, 0x73, 0x65,
	0x74, 0x01, 0x10, 0x70, 0x65, 0x72, 0x5f, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72,
	0x5f, 0x71, 0x6f, 0x73, 0x74, 0x01, 0x0f, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x5f, 0x72,
	0x65, 0x70, 0x6c, 0x79, 0x5f, 0x74, 0x6f, 0x74, 0x01, 0x0c, 0x63, 0x6c, 0x75, 0x73, 0x74,
	0x65, 0x72, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x53, 0x00, 0x00, 0x00, 0x0a, 0x72, 0x61, 0x62,
	0x62, 0x69, 0x74, 0x40, 0x6c, 0x61, 0x62, 0x09, 0x63, 0x6f, 0x70, 0x79, 0x72, 0x69, 0x67,
	0x68, 0x74, 0x53, 0x00, 0x00, 0x00, 0x37, 0x43, 0x6f, 0x70, 0x79, 0x72, 0x69, 0x67, 0x68,
	0x74, 0x20, 0x28, 0x63, 0x29, 0x20, 0x32, 0x30, 0x30, 0x37, 0x2d, 0x32, 0x30, 0x32, 0x32,
	0x20, 0x56, 0x4d, 0x77, 0x61, 0x72, 0x65, 0x2c, 0x20, 0x49, 0x6e, 0x63, 0x2e, 0x20, 0x6f,
	0x72, 0x20, 0x69, 0x74, 0x73, 0x20, 0x61, 0x66, 0x66, 0x69, 0x6c, 0x69, 0x61, 0x74, 0x65,
	0x73, 0x2e, 0x0b, 0x69, 0x6e, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x53,
	0x00, 0x00, 0x00, 0x39, 0x4c, 0x69, 0x63, 0x65, 0x6e, 0x73, 0x65, 0x64, 0x20, 0x75, 0x6e,
	0x64, 0x65, 0x72, 0x20, 0x74, 0x68, 0x65, 0x20, 0x4d, 0x50, 0x4c, 0x20, 0x32, 0x2e, 0x30,
	0x2e, 0x20, 0x57, 0x65, 0x62, 0x73, 0x69, 0x74, 0x65, 0x3a, 0x20, 0x68, 0x74, 0x74, 0x70,
	0x73, 0x3a, 0x2f, 0x2f, 0x72, 0x61, 0x62, 0x62, 0x69, 0x74, 0x6d, 0x71, 0x2e, 0x63, 0x6f,
	0x6d, 0x08, 0x70, 0x6c, 0x61, 0x74, 0x66, 0x6f, 0x72, 0x6d, 0x53, 0x00, 0x00, 0x00, 0x11,
	0x45, 0x72, 0x6c, 0x61, 0x6e, 0x67, 0x2f, 0x4f, 0x54, 0x50, 0x20, 0x32, 0x35, 0x2e, 0x32,
	0x2e, 0x33, 0x07, 0x70, 0x72, 0x6f, 0x64, 0x75, 0x63, 0x74, 0x53, 0x00, 0x00, 0x00, 0x08,
	0x52, 0x61, 0x62, 0x62, 0x69, 0x74, 0x4d, 0x51, 0x07, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f,
	0x6e, 0x53, 0x00, 0x00, 0x00, 0x06, 0x33, 0x2e, 0x31, 0x30, 0x2e, 0x38, 0x00, 0x00, 0x00,
	0x0e, 0x50, 0x4c, 0x41, 0x49, 0x4e, 0x20, 0x41, 0x4d, 0x51, 0x50, 0x4c, 0x41, 0x49, 0x4e,
	0x00, 0x00, 0x00, 0x05, 0x65, 0x6e, 0x5f, 0x55, 0x53, 0xce
};
static const unsigned int rabbitmq_start_len = 505;

Test(mod_wire, amqp_rabbitmq_capture)
{
	struct id_amqp_info a;

	cr_assert_eq(id_amqp_parse(rabbitmq_start, rabbitmq_start_len, &a), ID_WIRE_MATCH);
	cr_assert_str_eq(a.product, "RabbitMQ");
	cr_assert_str_eq(a.version, "3.10.8");
	cr_assert_str_eq(a.platform, "Erlang/OTP 25.2.3");
	cr_assert_str_eq(a.mechanisms, "PLAIN AMQPLAIN");
	for (unsigned k = 0; k < rabbitmq_start_len; k++)
		cr_assert_eq(id_amqp_parse(rabbitmq_start, k, &a), ID_WIRE_MORE, "prefix %u", k);
}

Test(mod_wire, amqp_header_back_and_strangers)
{
	static const uint8_t v10[8] = { 'A', 'M', 'Q', 'P', 3, 1, 0, 0 };
	static const uint8_t huge[8] = { 1, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0 };
	struct id_amqp_info a;

	cr_assert_eq(id_amqp_parse(v10, 8, &a), ID_WIRE_MATCH);
	cr_assert(!a.start);
	cr_assert_eq(a.proto_id, 3);
	cr_assert_eq(a.major, 1);
	cr_assert_eq(a.minor, 0);
	cr_assert_eq(id_amqp_parse(v10, 5, &a), ID_WIRE_MORE);
	cr_assert_eq(id_amqp_parse((const uint8_t *)"AMQX", 4, &a), ID_WIRE_NO);
	cr_assert_eq(id_amqp_parse((const uint8_t *)"HTTP/1.1 400", 12, &a), ID_WIRE_NO);
	cr_assert_eq(id_amqp_parse((const uint8_t *)"SSH-2.0-", 8, &a), ID_WIRE_NO);
	cr_assert_eq(id_amqp_parse(huge, 8, &a), ID_WIRE_BAD, "a 2 GiB frame");
}

/* ---- Kafka ---- */

static void kafka_reply(struct msg *m, int16_t err, int n)
{
	be32(m, 0);
	be32(m, ID_KAFKA_CORRELATION);
	be16(m, (uint16_t)err);
	be32(m, (uint32_t)n);
	for (int k = 0; k < n; k++) {
		be16(m, (uint16_t)k);
		be16(m, 0);
		be16(m, (uint16_t)(k == 0 ? 9 : k == 1 ? 13 : k == 18 ? 3 : 2));
	}
	patch_be32(m, 0, (uint32_t)(m->n - 4));
}

Test(mod_wire, kafka_api_versions)
{
	struct msg m = { .n = 0 };
	struct id_kafka_info k;

	cr_assert_eq(sizeof(id_kafka_request), 20);
	cr_assert_eq(id_kafka_request[3], 16, "size counts what follows it");
	kafka_reply(&m, 0, 60);
	cr_assert_eq(id_kafka_parse(m.b, m.n, &k), ID_WIRE_MATCH);
	cr_assert_eq(k.n_apis, 60);
	cr_assert_eq(k.max_key, 59);
	cr_assert_eq(k.produce_max, 9);
	cr_assert_eq(k.fetch_max, 13);
	cr_assert_eq(k.apiversions_max, 3);
	ASSERT_PREFIXES_MORE(id_kafka_parse, &m, &k);

	m.n = 0;
	kafka_reply(&m, 35, 3);
	cr_assert_eq(id_kafka_parse(m.b, m.n, &k), ID_WIRE_MATCH, "UNSUPPORTED_VERSION");
	cr_assert_eq(k.error, 35);
	m.b[22] = 0x7f; /* entry 1: min_version 0x7f00 > max_version 13 */
	cr_assert_eq(id_kafka_parse(m.b, m.n, &k), ID_WIRE_BAD);
	m.n = 0;
	kafka_reply(&m, 0, 3);
	patch_be32(&m, 10, 4); /* a count that does not fill the response */
	cr_assert_eq(id_kafka_parse(m.b, m.n, &k), ID_WIRE_BAD);
	patch_be32(&m, 4, 1); /* someone else's correlation id */
	cr_assert_eq(id_kafka_parse(m.b, m.n, &k), ID_WIRE_NO);
	cr_assert_eq(id_kafka_parse((const uint8_t *)"HTTP/1.0", 8, &k), ID_WIRE_NO);
}

/* ---- CQL ---- */

static void cql_supported(struct msg *m, bool scylla)
{
	size_t len_at;

	u8(m, 0x84);
	u8(m, 0);
	be16(m, 1);
	u8(m, 0x06);
	len_at = m->n;
	be32(m, 0);
	be16(m, scylla ? 4 : 3);
	str16(m, "PROTOCOL_VERSIONS");
	be16(m, 3);
	str16(m, "3/v3");
	str16(m, "4/v4");
	str16(m, "5/v5");
	str16(m, "COMPRESSION");
	be16(m, 2);
	str16(m, "snappy");
	str16(m, "lz4");
	str16(m, "CQL_VERSION");
	be16(m, 1);
	str16(m, "3.4.6");
	if (scylla) {
		str16(m, "SCYLLA_SHARD");
		be16(m, 1);
		str16(m, "0");
	}
	patch_be32(m, len_at, (uint32_t)(m->n - 9));
}

Test(mod_wire, cql_supported)
{
	struct msg m = { .n = 0 };
	struct id_cql_info c;

	cql_supported(&m, false);
	cr_assert_eq(id_cql_parse(m.b, m.n, &c), ID_WIRE_MATCH);
	cr_assert(c.supported);
	cr_assert_eq(c.version, 4);
	cr_assert_str_eq(c.cql_version, "3.4.6");
	cr_assert_str_eq(c.protocol_versions, "3/v3,4/v4,5/v5");
	cr_assert_str_eq(c.compression, "snappy,lz4");
	cr_assert(!c.scylla);
	ASSERT_PREFIXES_MORE(id_cql_parse, &m, &c);
	m.n = 0;
	cql_supported(&m, true);
	cr_assert_eq(id_cql_parse(m.b, m.n, &c), ID_WIRE_MATCH);
	cr_assert(c.scylla);
	m.b[m.n - 2] = 9; /* the last value's length runs past the body */
	cr_assert_eq(id_cql_parse(m.b, m.n, &c), ID_WIRE_BAD);
}

Test(mod_wire, cql_error_and_strangers)
{
	struct msg m = { .n = 0 };
	struct id_cql_info c;

	u8(&m, 0x83);
	u8(&m, 0);
	be16(&m, 0);
	u8(&m, 0x00);
	be32(&m, 4 + 2 + 30);
	be32(&m, 0x000A);
	str16(&m, "Invalid or unsupported version");
	cr_assert_eq(id_cql_parse(m.b, m.n, &c), ID_WIRE_MATCH);
	cr_assert(!c.supported);
	cr_assert_eq(c.version, 3);
	cr_assert_eq(c.error_code, 0x0A);
	cr_assert_str_eq(c.error_msg, "Invalid or unsupported version");
	cr_assert_eq(id_cql_parse((const uint8_t *)"\x04\0\0\x01\x05", 5, &c), ID_WIRE_NO,
		     "our own request echoed is not a response");
	cr_assert_eq(id_cql_parse((const uint8_t *)"\x84\0\0\x01\x06\x01\0\0\0", 9, &c),
		     ID_WIRE_BAD);
	cr_assert_eq(id_cql_parse((const uint8_t *)"HTTP", 4, &c), ID_WIRE_NO);
}

/* ---- SOCKS ---- */

Test(mod_wire, socks)
{
	struct id_socks_info s;

	cr_assert_eq(id_socks_parse((const uint8_t *)"\x05\x00", 2, &s), ID_WIRE_MATCH);
	cr_assert_eq(s.version, 5);
	cr_assert_eq(s.method, 0);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x05\x02", 2, &s), ID_WIRE_MATCH);
	cr_assert_eq(s.method, 2);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x05\xff", 2, &s), ID_WIRE_MATCH);
	cr_assert_eq(s.method, 0xff);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x05", 1, &s), ID_WIRE_MORE);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x05\x01", 2, &s), ID_WIRE_BAD,
		     "GSSAPI was not offered");
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x05\x00\x00", 3, &s), ID_WIRE_NO);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x00\x5b\0\0\0\0\0\0", 8, &s), ID_WIRE_MATCH);
	cr_assert_eq(s.version, 4);
	cr_assert_eq(s.method, 0x5b);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x00\x5b\0\0", 4, &s), ID_WIRE_MORE);
	cr_assert_eq(id_socks_parse((const uint8_t *)"\x00\x10\0\0\0\0\0\0", 8, &s), ID_WIRE_NO);
	cr_assert_eq(id_socks_parse((const uint8_t *)"SSH-", 4, &s), ID_WIRE_NO);
}

/* ---- Modbus ---- */

static void modbus_ident(struct msg *m)
{
	static const char *obj[] = { "Pymodbus", "PM", "3.0.0", "http://lab.test/", "Lab PLC" };

	be16(m, ID_MODBUS_TID);
	be16(m, 0);
	be16(m, 0);
	u8(m, 0xFF);
	u8(m, 0x2B);
	u8(m, 0x0E);
	u8(m, 0x01);
	u8(m, 0x81);
	u8(m, 0);
	u8(m, 0);
	u8(m, 5);
	for (int k = 0; k < 5; k++) {
		u8(m, (uint8_t)k);
		u8(m, (uint8_t)strlen(obj[k]));
		put(m, obj[k], strlen(obj[k]));
	}
	m->b[4] = (uint8_t)((m->n - 6) >> 8);
	m->b[5] = (uint8_t)(m->n - 6);
}

Test(mod_wire, modbus_device_identification)
{
	struct msg m = { .n = 0 };
	struct id_modbus_info d;

	cr_assert_eq(id_modbus_request[5], 5, "MBAP length: unit id + 4 bytes of PDU");
	modbus_ident(&m);
	cr_assert_eq(id_modbus_parse(m.b, m.n, &d), ID_WIRE_MATCH);
	cr_assert_eq(d.unit, 0xFF);
	cr_assert(!d.exception);
	cr_assert_eq(d.conformity, 0x81);
	cr_assert_eq(d.n_objects, 5);
	cr_assert_str_eq(d.vendor, "Pymodbus");
	cr_assert_str_eq(d.product_code, "PM");
	cr_assert_str_eq(d.revision, "3.0.0");
	cr_assert_str_eq(d.vendor_url, "http://lab.test/");
	cr_assert_str_eq(d.product_name, "Lab PLC");
	ASSERT_PREFIXES_MORE(id_modbus_parse, &m, &d);
	m.b[m.n - 8] = 40; /* object 4's length runs past the ADU */
	cr_assert_eq(id_modbus_parse(m.b, m.n, &d), ID_WIRE_BAD);
	m.b[5] = 0xff; /* MBAP length 255 */
	cr_assert_eq(id_modbus_parse(m.b, m.n, &d), ID_WIRE_BAD);
}

Test(mod_wire, modbus_exception_and_strangers)
{
	static const uint8_t exc[9] = { 0x70, 0x73, 0, 0, 0, 3, 0xFF, 0xAB, 0x01 };
	static const uint8_t other_tid[9] = { 0x12, 0x34, 0, 0, 0, 3, 0xFF, 0xAB, 0x01 };
	struct id_modbus_info d;

	cr_assert_eq(id_modbus_parse(exc, 9, &d), ID_WIRE_MATCH);
	cr_assert(d.exception);
	cr_assert_eq(d.exc_code, 1);
	cr_assert_eq(id_modbus_parse(other_tid, 9, &d), ID_WIRE_NO);
	cr_assert_eq(id_modbus_parse(id_modbus_request, 11, &d), ID_WIRE_BAD,
		     "an echo of the request: function 0x2B with a cut body");
}

/* ---- IPP ---- */

static void ipp_attr(struct msg *m, uint8_t tag, const char *name, const char *v)
{
	u8(m, tag);
	str16(m, name);
	str16(m, v);
}

static void ipp_body(struct msg *m)
{
	be16(m, 0x0200);
	be16(m, 0x0000);
	be32(m, 1);
	u8(m, 0x01);
	ipp_attr(m, 0x47, "attributes-charset", "utf-8");
	ipp_attr(m, 0x48, "attributes-natural-language", "en");
	u8(m, 0x04);
	ipp_attr(m, 0x44, "ipp-versions-supported", "1.1");
	ipp_attr(m, 0x44, "", "2.0");
	ipp_attr(m, 0x44, "", "2.1");
	ipp_attr(m, 0x41, "printer-info", "Lab printer");
	ipp_attr(m, 0x41, "printer-make-and-model", "Local Raw Printer");
	ipp_attr(m, 0x42, "printer-name", "lab");
	u8(m, 0x03);
}

Test(mod_wire, ipp_request_encoding)
{
	uint8_t b[600];
	size_t n = id_ipp_request(b, sizeof(b), "198.18.0.20", 8631);
	const uint8_t *body;

	cr_assert_gt(n, 0);
	cr_assert(!memcmp(b, "POST / HTTP/1.1\r\nHost: 198.18.0.20:8631\r\n", 41));
	body = memmem(b, n, "\r\n\r\n", 4) + 4;
	cr_assert(!memcmp(body, "\x02\x00\x00\x0b\x00\x00\x00\x01\x01\x47\x00\x12", 12));
	cr_assert(memmem(body, n - (size_t)(body - b), "ipp://198.18.0.20:8631/", 23));
	cr_assert_eq(b[n - 1], 0x03);
	cr_assert(strstr((char *)b, "Content-Length: "));
	cr_assert_eq(strtoul(strstr((char *)b, "Content-Length: ") + 16, NULL, 10),
		     n - (size_t)(body - b));
	cr_assert_eq(id_ipp_request(b, 100, "198.18.0.20", 8631), 0);
}

Test(mod_wire, ipp_response_by_length_and_chunked)
{
	struct msg body = { .n = 0 }, m = { .n = 0 };
	struct id_ipp_info p;
	char head[256];

	ipp_body(&body);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Language: en\r\nContent-Type: application/ipp\r\n"
		 "Server: CUPS/2.4 IPP/2.1\r\nContent-Length: %zu\r\n\r\n",
		 body.n);
	put(&m, head, strlen(head));
	put(&m, body.b, body.n);
	cr_assert_eq(id_ipp_parse(m.b, m.n, &p), ID_WIRE_MATCH);
	cr_assert_eq(p.http_status, 200);
	cr_assert_eq(p.major, 2);
	cr_assert_eq(p.status, 0);
	cr_assert_str_eq(p.server, "CUPS/2.4 IPP/2.1");
	cr_assert_str_eq(p.versions, "1.1,2.0,2.1");
	cr_assert_str_eq(p.info, "Lab printer");
	cr_assert_str_eq(p.make_model, "Local Raw Printer");
	cr_assert_str_eq(p.name, "lab");
	ASSERT_PREFIXES_MORE(id_ipp_parse, &m, &p);

	m.n = 0;
	snprintf(
		head, sizeof(head),
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/ipp\r\n\r\n"
		"%zx\r\n",
		(size_t)10);
	put(&m, head, strlen(head));
	put(&m, body.b, 10);
	snprintf(head, sizeof(head), "\r\n%zx;ext=1\r\n", body.n - 10);
	put(&m, head, strlen(head));
	put(&m, body.b + 10, body.n - 10);
	put(&m, "\r\n0\r\n\r\n", 7);
	cr_assert_eq(id_ipp_parse(m.b, m.n, &p), ID_WIRE_MATCH);
	cr_assert_str_eq(p.versions, "1.1,2.0,2.1");
	cr_assert_str_eq(p.server, "");
	ASSERT_PREFIXES_MORE(id_ipp_parse, &m, &p);
	m.b[strlen(
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/ipp\r\n\r\n")] =
		'g';
	cr_assert_eq(id_ipp_parse(m.b, m.n, &p), ID_WIRE_BAD, "a chunk size that is not hex");
}

Test(mod_wire, ipp_not_ipp)
{
	static const char html[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
				   "Content-Length: 5\r\n\r\nhello";
	static const char bad[] = "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n"
				  "Content-Length: 9\r\n\r\n\x02\x00\x00\x00\x00\x00\x00\x07\x03";
	struct id_ipp_info p;

	cr_assert_eq(id_ipp_parse((const uint8_t *)html, sizeof(html) - 1, &p), ID_WIRE_NO);
	cr_assert_eq(id_ipp_parse((const uint8_t *)bad, sizeof(bad) - 1, &p), ID_WIRE_BAD,
		     "request-id 7: not the answer to ours");
	cr_assert_eq(id_ipp_parse((const uint8_t *)"SSH-2.0-x\r\n", 11, &p), ID_WIRE_NO);
	cr_assert_eq(id_ipp_parse((const uint8_t *)"HTTP/1.1 200 OK\r\r\n\r\n", 20, &p),
		     ID_WIRE_NO);
}

/* ---- Java RMI ---- */

Test(mod_wire, rmi)
{
	struct msg m = { .n = 0 };
	struct id_rmi_info r;

	u8(&m, 0x4E);
	str16(&m, "198.19.1.2");
	be32(&m, 40522);
	cr_assert_eq(id_rmi_parse(m.b, m.n, &r), ID_WIRE_MATCH);
	cr_assert(r.ack);
	cr_assert_str_eq(r.host, "198.19.1.2");
	cr_assert_eq(r.port, 40522);
	ASSERT_PREFIXES_MORE(id_rmi_parse, &m, &r);
	u8(&m, 0);
	cr_assert_eq(id_rmi_parse(m.b, m.n, &r), ID_WIRE_BAD, "a byte after the endpoint");
	cr_assert_eq(id_rmi_parse((const uint8_t *)"\x4f", 1, &r), ID_WIRE_MATCH);
	cr_assert(!r.ack);
	cr_assert_eq(id_rmi_parse((const uint8_t *)"\x4e\x00\x00", 3, &r), ID_WIRE_BAD);
	cr_assert_eq(id_rmi_parse((const uint8_t *)"NO", 2, &r), ID_WIRE_NO);
}

/* ---- X11 ---- */

static void x11_success(struct msg *m)
{
	size_t len_at;

	u8(m, 1);
	u8(m, 0);
	le16(m, 11);
	le16(m, 0);
	len_at = m->n;
	le16(m, 0);
	le32(m, 12101007);
	le32(m, 0x00200000);
	le32(m, 0x001fffff);
	le32(m, 256);
	le16(m, 20);
	le16(m, 65535);
	u8(m, 1);
	u8(m, 2);
	for (int k = 0; k < 10; k++)
		u8(m, 0);
	put(m, "The X.Org Foundation", 20);
	for (int k = 0; k < 16; k++)
		u8(m, 1); /* two pixmap formats */
	for (int k = 0; k < 20; k++)
		u8(m, 0);
	le16(m, 1280);
	le16(m, 1024);
	for (int k = 0; k < 16; k++)
		u8(m, 0);
	m->b[len_at] = (uint8_t)((m->n - 8) / 4);
	m->b[len_at + 1] = (uint8_t)((m->n - 8) / 4 >> 8);
	cr_assert_eq((m->n - 8) % 4, 0);
}

Test(mod_wire, x11_success)
{
	struct msg m = { .n = 0 };
	struct id_x11_info x;
	char v[32];

	x11_success(&m);
	cr_assert_eq(id_x11_parse(m.b, m.n, &x), ID_WIRE_MATCH);
	cr_assert_eq(x.status, 1);
	cr_assert_eq(x.major, 11);
	cr_assert_eq(x.release, 12101007);
	cr_assert_str_eq(x.vendor, "The X.Org Foundation");
	cr_assert_eq(x.screens, 1);
	cr_assert_eq(x.width, 1280);
	cr_assert_eq(x.height, 1024);
	ASSERT_PREFIXES_MORE(id_x11_parse, &m, &x);
	id_x11_release_text(12101007, v, sizeof(v));
	cr_assert_str_eq(v, "21.1.7");
	id_x11_release_text(12014000, v, sizeof(v));
	cr_assert_str_eq(v, "1.20.14");
	id_x11_release_text(60700000, v, sizeof(v));
	cr_assert_str_eq(v, "6.7.0");
	m.b[24] = 0xff; /* vendor length 255: past the additional data */
	cr_assert_eq(id_x11_parse(m.b, m.n, &x), ID_WIRE_BAD);
}

Test(mod_wire, x11_failed_and_strangers)
{
	struct msg m = { .n = 0 };
	struct id_x11_info x;

	u8(&m, 0);
	u8(&m, 22);
	le16(&m, 11);
	le16(&m, 0);
	le16(&m, 6);
	put(&m, "No protocol specified\n", 22);
	u8(&m, 0);
	u8(&m, 0);
	cr_assert_eq(id_x11_parse(m.b, m.n, &x), ID_WIRE_MATCH);
	cr_assert_eq(x.status, 0);
	cr_assert_str_eq(x.reason, "No protocol specified");
	ASSERT_PREFIXES_MORE(id_x11_parse, &m, &x);
	m.b[1] = 30; /* the reason is longer than the additional data */
	cr_assert_eq(id_x11_parse(m.b, m.n, &x), ID_WIRE_BAD);
	cr_assert_eq(id_x11_parse((const uint8_t *)"\x01\x00\x0c\x00", 4, &x), ID_WIRE_NO, "X12");
	cr_assert_eq(id_x11_parse((const uint8_t *)"220 ", 4, &x), ID_WIRE_NO);
}

/* ---- fingerprints of the text subjects (data/fingerprints/{zookeeper,irc,nntp,ipp,x11}.conf) ---- */

static struct pps_fp_db *builtin_db(void)
{
	struct pps_fp_db *db = pps_fp_db_new();
	char why[256] = "";

	cr_assert_not_null(db);
	for (unsigned long i = 0; i < id_builtin_fingerprints_n; i++)
		cr_assert_eq(pps_fp_db_load(db, id_builtin_fingerprints[i].name,
					    id_builtin_fingerprints[i].text,
					    id_builtin_fingerprints[i].len, why, sizeof(why)),
			     0, "%s", why);
	return db;
}

static void fp(struct pps_fp_db *db, const char *proto, const char *subject, const char *product,
	       const char *version, int soft)
{
	struct pps_fp_match m;

	cr_assert_eq(pps_fp_match(db, proto, (const uint8_t *)subject, strlen(subject), &m), 1,
		     "%s: no match for \"%s\"", proto, subject);
	cr_assert_str_eq(m.product, product, "%s", subject);
	cr_assert_str_eq(m.version, version, "%s", subject);
	cr_assert_eq(m.soft, soft, "%s", subject);
}

Test(fingerprints, lab_servers_and_others)
{
	struct pps_fp_db *db = builtin_db();
	struct pps_fp_match m;

	/* the subjects as the lab's servers send them (Debian 12 packages) */
	fp(db, "zookeeper", "Zookeeper version: 3.8.0-debian--1, built on 2023-03-10 12:00 UTC\n",
	   "Apache ZooKeeper", "3.8.0", 0);
	fp(db, "irc", "ngircd-26.1", "ngIRCd", "26.1", 0);
	fp(db, "nntp", "IMPLEMENTATION INN 2.7.1", "INN", "2.7.1", 0);
	fp(db, "nntp", "200 vm InterNetNews NNRP server INN 2.7.1 ready (posting ok)", "INN",
	   "2.7.1", 0);
	fp(db, "ipp", "CUPS/2.4 IPP/2.1", "CUPS", "2.4", 0);
	fp(db, "x11", "The X.Org Foundation", "X.Org", "", 0);
	/* others, from the servers' own version strings */
	fp(db, "irc", "InspIRCd-3", "InspIRCd", "3", 0);
	fp(db, "irc", "UnrealIRCd-6.1.2.3", "UnrealIRCd", "6.1.2.3", 0);
	fp(db, "irc", "solanum-1.0(20211022)", "Solanum", "1.0(20211022)", 0);
	fp(db, "irc", "weirdircd-0.9", "weirdircd", "0.9", 0);
	fp(db, "x11", "Some Vendor", "Some Vendor", "", 0);
	/* not theirs */
	cr_assert_eq(pps_fp_match(db, "zookeeper", (const uint8_t *)"Zookeeper", 9, &m), 0);
	cr_assert_eq(pps_fp_match(db, "nntp", (const uint8_t *)"220 mail ESMTP", 14, &m), 0);
	pps_fp_db_free(db);
}

/* ---- the modules as the engine runs them (id_judge) ---- */

struct judged {
	int v;
	json_t *obj;
	char product[128], version[128];
};

static struct judged judge(const char *mod, int phase, const void *bytes, size_t n, int ended)
{
	static struct pps_fp_db *db;
	const struct id_module *m = id_module_find(mod);
	struct judged j;

	cr_assert_not_null(m, "module %s", mod);
	if (!db)
		db = builtin_db();
	j.v = id_judge(m, phase, 1, db, bytes, n, ended, &j.obj, j.product, j.version);
	return j;
}

#define JUDGE(mod, phase, lit, ended) judge(mod, phase, lit, sizeof(lit) - 1, ended)

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "(absent)";
}

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

Test(modules, amqp_start_soft_header_and_echo)
{
	struct judged j = judge("amqp", ID_PHASE_PROBE, rabbitmq_start, rabbitmq_start_len, 0);

	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "RabbitMQ");
	cr_assert_str_eq(j.version, "3.10.8");
	cr_assert_str_eq(str(j.obj, "protocol_version"), "0-9");
	cr_assert_str_eq(str(j.obj, "cluster_name"), "rabbit@lab");
	json_decref(j.obj);
	/* RabbitMQ's answer to bytes it cannot read, e.g. an HTTP request */
	j = JUDGE("amqp", ID_PHASE_REACT, "AMQP\x00\x00\x09\x01", 1);
	cr_assert_eq(j.v, ID_SOFT);
	json_decref(j.obj);
	j = JUDGE("amqp", ID_PHASE_PROBE, "AMQP\x00\x00\x09\x01", 1);
	cr_assert_eq(j.v, ID_NO, "our own header echoed");
	j = JUDGE("amqp", ID_PHASE_PROBE, "AMQP\x03\x01\x00\x00", 1);
	cr_assert_eq(j.v, ID_MATCH, "an AMQP 1.0 broker (SASL layer)");
	cr_assert_str_eq(str(j.obj, "protocol_version"), "1.0.0");
	json_decref(j.obj);
	j = JUDGE("amqp", ID_PHASE_PROBE, "\x01\x00\x00", 1);
	cr_assert_eq(j.v, ID_NO, "a prefix at the connection's end");
}

Test(modules, zookeeper_srvr)
{
	static const char srvr[] =
		"Zookeeper version: 3.8.0-debian--1, built on 2023-03-10 12:00 UTC\n"
		"Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\n"
		"Outstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n";
	struct judged j = JUDGE("zookeeper", ID_PHASE_PROBE, srvr, 1);

	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "Apache ZooKeeper");
	cr_assert_str_eq(j.version, "3.8.0");
	cr_assert_str_eq(str(j.obj, "mode"), "standalone");
	cr_assert_str_eq(str(j.obj, "node_count"), "5");
	cr_assert_str_eq(str(j.obj, "zxid"), "0x0");
	json_decref(j.obj);
	j = judge("zookeeper", ID_PHASE_PROBE, srvr, 40, 0);
	cr_assert_eq(j.v, ID_MORE, "the reply ends with Node count or the close");
	j = JUDGE("zookeeper", ID_PHASE_PROBE,
		  "srvr is not executed because it is not in the whitelist.", 1);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_eq(json_object_get(j.obj, "whitelisted"), json_false());
	json_decref(j.obj);
	j = JUDGE("zookeeper", ID_PHASE_PROBE, "HTTP/1.1 400 Bad Request\r\n\r\n", 1);
	cr_assert_eq(j.v, ID_NO);
}

Test(modules, irc_registration_greeting_and_reaction)
{
	static const char reg[] =
		":irc.lab.test 001 ppscanid :Welcome to the Internet Relay Network ppscanid\r\n"
		":irc.lab.test 002 ppscanid :Your host is irc.lab.test, running version ngircd-26.1\r\n"
		":irc.lab.test 003 ppscanid :This server has been started Wed Dec 02 2026\r\n"
		":irc.lab.test 004 ppscanid irc.lab.test ngircd-26.1 abBcCFiIoqrRswx abehiIklmMnoOPqQrRstvVz\r\n"
		":irc.lab.test 005 ppscanid NETWORK=LabNet CASEMAPPING=ascii :are supported on this server\r\n";
	struct judged j = JUDGE("irc", ID_PHASE_PROBE, reg, 0);

	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "ngIRCd");
	cr_assert_str_eq(j.version, "26.1");
	cr_assert_str_eq(str(j.obj, "server"), "irc.lab.test");
	cr_assert_str_eq(str(j.obj, "software"), "ngircd-26.1");
	cr_assert_str_eq(str(j.obj, "network"), "LabNet");
	cr_assert_str_eq(str(j.obj, "first_numeric"), "001");
	cr_assert_str_eq(str(j.obj, "channel_modes"), "abehiIklmMnoOPqQrRstvVz");
	json_decref(j.obj);
	j = judge("irc", ID_PHASE_PROBE, reg, 100, 0);
	cr_assert_eq(j.v, ID_MORE, "waits for 004");
	j = JUDGE("irc", ID_PHASE_GREETING,
		  ":irc.lab.test NOTICE * :*** Looking up your hostname...\r\n", 0);
	cr_assert_eq(j.v, ID_CLAIM, "a NOTICE greeting: register");
	json_decref(j.obj);
	j = JUDGE("irc", ID_PHASE_REACT, ":irc.lab.test 451 * :Connection not registered\r\n", 0);
	cr_assert_eq(j.v, ID_SOFT);
	json_decref(j.obj);
	j = JUDGE("irc", ID_PHASE_GREETING, "220 mail.lab.test ESMTP Postfix\r\n", 0);
	cr_assert_eq(j.v, ID_NO, "a bare numeric is not from an IRC server");
	j = JUDGE("irc", ID_PHASE_PROBE, "NICK ppscanid\r\nUSER ppscanid 0 * :ppscan-id\r\n", 1);
	cr_assert_eq(j.v, ID_NO, "our registration echoed");
	j = JUDGE("irc", ID_PHASE_GREETING, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", 0);
	cr_assert_eq(j.v, ID_NO);
}

Test(modules, nntp_greetings)
{
	struct judged j = JUDGE("nntp", ID_PHASE_GREETING,
				"200 vm InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n",
				0);

	cr_assert_eq(j.v, ID_CLAIM, "then CAPABILITIES");
	cr_assert_str_eq(j.product, "INN");
	cr_assert_str_eq(j.version, "2.7.1");
	cr_assert_eq(num(j.obj, "greeting_code"), 200);
	cr_assert_eq(json_object_get(j.obj, "posting"), json_true());
	json_decref(j.obj);
	j = JUDGE("nntp", ID_PHASE_GREETING, "502 You have no permission to talk.  Goodbye.\r\n",
		  1);
	cr_assert_eq(j.v, ID_NO, "a bare refusal does not say news");
	j = JUDGE("nntp", ID_PHASE_GREETING, "400 news.lab.test: NNTP service unavailable\r\n", 1);
	cr_assert_eq(j.v, ID_SOFT);
	json_decref(j.obj);
	j = JUDGE("nntp", ID_PHASE_GREETING, "220 ftp.lab.test FTP server ready\r\n", 0);
	cr_assert_eq(j.v, ID_NO);
}

Test(modules, binary_modules_name_their_servers)
{
	struct msg m = { .n = 0 };
	struct judged j;

	x11_success(&m);
	j = judge("x11", ID_PHASE_PROBE, m.b, m.n, 0);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "X.Org");
	cr_assert_str_eq(j.version, "21.1.7");
	cr_assert_str_eq(str(j.obj, "status"), "success");
	cr_assert_eq(num(j.obj, "width"), 1280);
	json_decref(j.obj);

	m.n = 0;
	modbus_ident(&m);
	j = judge("modbus", ID_PHASE_PROBE, m.b, m.n, 0);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "Pymodbus");
	cr_assert_str_eq(j.version, "3.0.0");
	json_decref(j.obj);

	j = JUDGE("socks", ID_PHASE_PROBE, "\x05\x00", 0);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(str(j.obj, "method"), "none");
	json_decref(j.obj);

	j = JUDGE("rmi", ID_PHASE_PROBE,
		  "\x4e\x00\x0a"
		  "198.19.1.2"
		  "\x00\x00\x9e\x4a",
		  0);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(str(j.obj, "endpoint_host"), "198.19.1.2");
	cr_assert_eq(num(j.obj, "endpoint_port"), 40522);
	json_decref(j.obj);
	j = JUDGE("rmi", ID_PHASE_PROBE, "\x4f", 0);
	cr_assert_eq(j.v, ID_MORE, "a lone ProtocolNotSupported waits for the close");

	m.n = 0;
	kafka_reply(&m, 0, 20);
	j = judge("kafka", ID_PHASE_PROBE, m.b, m.n, 0);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_eq(num(j.obj, "api_keys"), 20);
	cr_assert_eq(num(j.obj, "api_versions_max_version"), 3);
	json_decref(j.obj);

	m.n = 0;
	cql_supported(&m, true);
	j = judge("cql", ID_PHASE_PROBE, m.b, m.n, 0);
	cr_assert_eq(j.v, ID_MATCH);
	cr_assert_str_eq(j.product, "ScyllaDB");
	cr_assert_eq(num(j.obj, "protocol_version"), 4);
	json_decref(j.obj);
	/* Cassandra's answer to an HTTP request: an ERROR frame of its own version */
	m.n = 0;
	u8(&m, 0x84);
	u8(&m, 0);
	be16(&m, 0);
	u8(&m, 0);
	be32(&m, 4 + 2 + 20);
	be32(&m, 0x0A);
	str16(&m, "Invalid version (71)");
	j = judge("cql", ID_PHASE_REACT, m.b, m.n, 0);
	cr_assert_eq(j.v, ID_SOFT);
	json_decref(j.obj);
}
