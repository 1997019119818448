/*
 * MQTT (OASIS MQTT Version 3.1.1, sections 2 and 3): client-first. The module sends a
 * CONNECT with protocol level 4, a clean session and no credentials; a broker answers
 * CONNACK: fixed header 0x20, remaining length 2, acknowledge flags (bit 0: session
 * present; the rest reserved, 0), return code (0 accepted, 1 unacceptable protocol level,
 * 2 identifier rejected, 3 server unavailable, 4 bad user name or password, 5 not
 * authorised). When accepted, the module asks for the broker's retained "$SYS/broker/version"
 * (SUBSCRIBE, 3.8), which Mosquitto publishes as "mosquitto version 2.0.11".
 *
 * CONNECT as sent (23 bytes): 10 15 | 00 04 'M' 'Q' 'T' 'T' | 04 | 02 | 00 3c | 00 09
 * "ppscan-id"  (type 1, remaining 21; name, level 4, flags clean-session, keep-alive 60 s,
 * client identifier).
 */
#include "id_b.h"
#include "id_module.h"

#include <stdio.h>
#include <string.h>

static const uint8_t mqtt_connect[] = { 0x10, 0x15, 0x00, 0x04, 'M',  'Q',  'T', 'T',
					0x04, 0x02, 0x00, 0x3c, 0x00, 0x09, 'p', 'p',
					's',  'c',  'a',  'n',	'-',  'i',  'd' };

/* SUBSCRIBE (type 8, flags 0b0010), packet id 1, topic "$SYS/broker/version", QoS 0. */
static const uint8_t mqtt_subscribe[] = { 0x82, 0x18, 0x00, 0x01, 0x00, 0x13, '$', 'S', 'Y',
					  'S',	'/',  'b',  'r',  'o',	'k',  'e', 'r', '/',
					  'v',	'e',  'r',  's',  'i',	'o',  'n', 0x00 };

size_t idb_mqtt_request(uint8_t *buf, size_t cap)
{
	if (cap < sizeof(mqtt_connect))
		return 0;
	memcpy(buf, mqtt_connect, sizeof(mqtt_connect));
	return sizeof(mqtt_connect);
}

size_t idb_mqtt_subscribe(uint8_t *buf, size_t cap)
{
	if (cap < sizeof(mqtt_subscribe))
		return 0;
	memcpy(buf, mqtt_subscribe, sizeof(mqtt_subscribe));
	return sizeof(mqtt_subscribe);
}

int idb_mqtt_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	static const char *const codes[] = {
		"accepted",	      "unacceptable_protocol_version", "identifier_rejected",
		"server_unavailable", "bad_username_or_password",      "not_authorized"
	};

	if (n >= 1 && p[0] != 0x20)
		return IDB_NO;
	if (n >= 2 && p[1] != 0x02)
		return IDB_NO;
	if (n >= 3 && (p[2] & 0xfe))
		return IDB_NO;
	if (n >= 4 && p[3] > 5)
		return IDB_NO;
	if (n < 4)
		return IDB_MORE;
	json_object_set_new(out->fields, "protocol_level", json_integer(4));
	json_object_set_new(out->fields, "connack_code", json_integer(p[3]));
	json_object_set_new(out->fields, "connack", json_string(codes[p[3]]));
	json_object_set_new(out->fields, "session_present", json_boolean(p[2] & 1));
	return IDB_MATCH;
}

/* MQTT variable byte integer (1.5.5 / 2.2.3): at most 4 bytes. -1 malformed, 0 need more. */
static int mqtt_varint(const uint8_t *p, size_t n, uint32_t *val, size_t *used)
{
	uint32_t v = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i >= n)
			return 0;
		v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*val = v;
			*used = i + 1;
			return 1;
		}
	}
	return -1;
}

int idb_mqtt_sys_parse(const uint8_t *p, size_t n, struct idb_ident *out)
{
	size_t o = 0;

	while (o < n) {
		uint32_t rl = 0;
		size_t used = 0;
		int r = mqtt_varint(p + o + 1, n - o - 1, &rl, &used);
		const uint8_t *b;

		if (r < 0 || rl > 4096)
			return IDB_BAD;
		if (r == 0 || n - o - 1 - used < rl)
			return IDB_MORE;
		b = p + o + 1 + used;
		if ((p[o] & 0xf0) == 0x30 && rl >= 2) { /* PUBLISH, QoS 0 (no packet id) */
			size_t tl = (size_t)b[0] << 8 | b[1];

			if (tl + 2 > rl)
				return IDB_BAD;
			if (tl == 19 && memcmp(b + 2, "$SYS/broker/version", 19) == 0) {
				const uint8_t *v = b + 2 + tl;
				size_t vl = rl - 2 - tl;

				idb_set_text(out->fields, "broker_version", v, vl);
				if (vl > 18 && memcmp(v, "mosquitto version ", 18) == 0) {
					snprintf(out->product, sizeof(out->product), "Mosquitto");
					idb_copy(out->version, sizeof(out->version), v + 18,
						 vl - 18);
				}
				return IDB_MATCH;
			}
		} else if ((p[o] & 0xf0) != 0x90) { /* anything but SUBACK or PUBLISH */
			return IDB_NO;
		}
		o += 1 + used + rl;
	}
	return IDB_MORE;
}

/* ---- module ---------------------------------------------------------------------- */

struct mqtt_state {
	uint8_t subscribed; /* CONNACK accepted: the SUBSCRIBE to the version topic is out */
};

static int mqtt_start(struct id_conn *c, void *st)
{
	(void)st;
	return idb_send_built(c, idb_mqtt_request);
}

static int mqtt_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct mqtt_state *st = stp;
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->subscribed) {
		r = idb_judge(c, idb_mqtt_sys_parse, d, n);
		return r == ID_MORE ? ID_MORE : ID_MATCH; /* the CONNACK already proved MQTT */
	}
	if (id_phase(c) != ID_PHASE_PROBE)
		return ID_NO;
	r = idb_judge(c, idb_mqtt_parse, d, n);
	if (r != ID_MATCH || d[3] != 0)
		return r;
	id_consume(c, 4);
	if (idb_send_built(c, idb_mqtt_subscribe) != ID_MORE)
		return ID_MATCH;
	st->subscribed = 1;
	return ID_CLAIM;
}

static const uint16_t mqtt_ports[] = { 1883, 8883, 0 };

const struct id_module id_mod_mqtt = {
	.name = "mqtt",
	.summary = "MQTT 3.1.1 (CONNECT/CONNACK return code, $SYS broker version)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 140,
	.ports = mqtt_ports,
	.state_size = sizeof(struct mqtt_state),
	.start = mqtt_start,
	.on_readable = mqtt_readable,
};
