/*
 * mod_rmi.c - Java RMI: the JRMP transport header and its acknowledgement (Java RMI
 * specification, chapter 10 "RMI Wire Protocol", 10.2.1 "Format of an Output Stream" and
 * 10.2.2 "Format of an Input Stream": ProtocolAck 0x4E, then the endpoint the server saw the
 * client from, as DataOutput.writeUTF(host) and writeInt(port)).
 */
#include <stdio.h>
#include <string.h>

#include "id_module.h"
#include "id_rd.h"
#include "id_util.h"
#include "mod_wire.h"

const uint8_t id_rmi_request[7] = { 'J', 'R', 'M', 'I', 0x00, 0x02, 0x4B };

#define RMI_ACK 0x4E
#define RMI_NOT_SUPPORTED 0x4F
#define RMI_HOST_MAX 255 /* a host name or address literal */

enum id_wire id_rmi_parse(const uint8_t *buf, size_t len, struct id_rmi_info *out)
{
	struct id_rd r = id_rd_init(buf, len);
	uint16_t hlen;
	const uint8_t *h;

	memset(out, 0, sizeof(*out));
	if (!len)
		return ID_WIRE_MORE;
	if (buf[0] == RMI_NOT_SUPPORTED)
		return len == 1 ? ID_WIRE_MATCH : ID_WIRE_NO;
	if (buf[0] != RMI_ACK)
		return ID_WIRE_NO;
	if (len >= 2 && buf[1] != 0)
		return ID_WIRE_NO; /* hlen <= 255 */
	id_rd_skip(&r, 1);
	hlen = id_rd_be16(&r);
	if (r.bad)
		return ID_WIRE_MORE;
	if (hlen == 0 || hlen > RMI_HOST_MAX)
		return ID_WIRE_BAD;
	h = id_rd_bytes(&r, hlen);
	out->port = id_rd_be32(&r);
	if (r.bad)
		return ID_WIRE_MORE;
	if (r.left || out->port > 65535)
		return ID_WIRE_BAD;
	id_text_copy(out->host, sizeof(out->host), h, hlen);
	out->ack = true;
	return ID_WIRE_MATCH;
}

/* ---- the module ---- */

static int rmi_start(struct id_conn *c, void *st)
{
	(void)st;
	return id_send(c, id_rmi_request, sizeof(id_rmi_request)) ? ID_NO : ID_MORE;
}

static int rmi_readable(struct id_conn *c, void *st, const uint8_t *d, size_t n)
{
	struct id_rmi_info r;
	int w = id_rmi_parse(d, n, &r);
	json_t *o;

	(void)st;
	/* a lone 0x4F is weak evidence until the server closes after it */
	if (w == ID_WIRE_MATCH && !r.ack && !id_ended(c))
		return ID_MORE;
	if (w != ID_WIRE_MATCH || !(o = id_obj(c)))
		return id_wire_verdict(c, w);
	json_object_set_new(o, "protocol_ack", json_boolean(r.ack));
	if (r.ack) {
		json_object_set_new(o, "endpoint_host", json_string(r.host));
		json_object_set_new(o, "endpoint_port", json_integer(r.port));
	}
	return ID_MATCH;
}

static const uint16_t rmi_ports[] = { 1099, 1098, 0 };

const struct id_module id_mod_rmi = {
	.name = "rmi",
	.summary = "Java RMI (JRMP StreamProtocol header and ProtocolAck)",
	.flags = ID_F_PROBE | ID_F_INNER,
	.weight = 120,
	.ports = rmi_ports,
	.start = rmi_start,
	.on_readable = rmi_readable,
};
