/*
 * XMPP client-to-server streams (RFC 6120): client-first. The module opens a stream (4.7:
 * <stream:stream to=HOST version='1.0' xmlns='jabber:client'
 * xmlns:stream='http://etherx.jabber.org/streams'>); the server answers with its own stream
 * header (from, id, version) and <stream:features> (4.3.2): <starttls
 * xmlns='urn:ietf:params:xml:ns:xmpp-tls'> (5.4.1, with <required/> when it insists),
 * <mechanisms> (SASL, 6.4.1), or a <stream:error> (4.9, e.g. host-unknown). When STARTTLS is
 * offered the module asks for it (<starttls/>) and on <proceed/> hands the connection to
 * the engine's TLS (5.4.2.3). data/fingerprints/xmpp.conf names servers that advertise
 * themselves (XEP-0115 caps "node" in the features).
 *
 * Reacts to other modules' requests: servers answer a non-XML request with a stream header
 * and <stream:error><not-well-formed/>.
 */
#include <stdio.h>
#include <string.h>

#include "id_b.h"
#include "id_module.h"
#include "id_util.h"

#define XMPP_WAIT_MAX 8192
#define XMPP_NS_STREAMS "http://etherx.jabber.org/streams"

struct xmpp_state {
	uint8_t asked_tls; /* <starttls/> is out: waiting for <proceed/> or <failure/> */
};

/* The value of attribute @name (' or " quoted) in the tag starting at @tag; 0 if none. */
static size_t xml_attr(const uint8_t *tag, size_t n, const char *name, const uint8_t **v)
{
	const uint8_t *end = memchr(tag, '>', n);
	size_t nl = strlen(name), lim = end ? (size_t)(end - tag) : n;

	for (size_t i = 1; i + nl + 2 < lim; i++) {
		const uint8_t *q;

		if ((tag[i - 1] != ' ' && tag[i - 1] != '\t' && tag[i - 1] != '\n') ||
		    memcmp(tag + i, name, nl) || tag[i + nl] != '=' ||
		    (tag[i + nl + 1] != '\'' && tag[i + nl + 1] != '"'))
			continue;
		q = memchr(tag + i + nl + 2, tag[i + nl + 1], lim - i - nl - 2);
		if (!q)
			return 0;
		*v = tag + i + nl + 2;
		return (size_t)(q - *v);
	}
	return 0;
}

static int xmpp_proceed(const uint8_t *d, size_t n, struct id_conn *c)
{
	if (memmem(d, n, "<proceed", 8))
		return ID_STARTTLS;
	if (memmem(d, n, "<failure", 8)) {
		if (id_obj(c))
			json_object_set_new(id_obj(c), "starttls_failure", json_true());
		return ID_MATCH;
	}
	return n < XMPP_WAIT_MAX && !id_ended(c) ? ID_MORE : ID_MATCH;
}

static int xmpp_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct xmpp_state *st = stp;
	const uint8_t *ss, *v, *feat, *err;
	size_t vl, lim = n < XMPP_WAIT_MAX ? n : XMPP_WAIT_MAX;
	json_t *o;
	int done;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->asked_tls)
		return xmpp_proceed(d, n, c);
	if (n && d[0] != '<' && d[0] != ' ' && d[0] != '\n' && d[0] != '\r' && d[0] != 0xef)
		return ID_NO;
	ss = memmem(d, lim, "<stream:stream", 14);
	if (!ss)
		ss = memmem(d, lim, "<stream ", 8);
	if (!ss || !memmem(d, lim, XMPP_NS_STREAMS, sizeof(XMPP_NS_STREAMS) - 1)) {
		if (!id_is_text(d, lim) && !memchr(d, 0xef, 1))
			return ID_NO;
		return n < XMPP_WAIT_MAX && !id_ended(c) ? ID_MORE : ID_NO;
	}
	feat = memmem(d, lim, "</stream:features>", 18);
	err = memmem(d, lim, "<stream:error", 13);
	done = feat || err || id_ended(c) || n >= XMPP_WAIT_MAX;
	if (!done)
		return ID_MORE;
	o = id_obj(c);
	if (o) {
		if ((vl = xml_attr(ss, lim - (size_t)(ss - d), "from", &v)))
			json_object_set_new(o, "from", id_json_text(v, vl));
		if ((vl = xml_attr(ss, lim - (size_t)(ss - d), "version", &v)))
			json_object_set_new(o, "stream_version", id_json_text(v, vl));
		if (err) {
			const uint8_t *cond = memchr(err + 13, '<', lim - (size_t)(err + 13 - d));
			size_t cl = 0;

			while (cond && cond + 1 + cl < d + lim && cond[1 + cl] != ' ' &&
			       cond[1 + cl] != '/' && cond[1 + cl] != '>')
				cl++;
			if (cond && cl)
				json_object_set_new(o, "stream_error", id_json_text(cond + 1, cl));
		}
	}
	id_fingerprint(c, d, lim);
	if (feat) {
		const uint8_t *tls = memmem(d, lim, "urn:ietf:params:xml:ns:xmpp-tls", 31);
		int required = tls && memmem(tls, lim - (size_t)(tls - d), "<required", 9) &&
			       memmem(tls, lim - (size_t)(tls - d), "<required", 9) <
				       (const void *)memmem(tls, lim - (size_t)(tls - d),
							    "</starttls>", 11);

		if (o) {
			json_object_set_new(o, "starttls", json_boolean(tls != NULL));
			if (tls)
				json_object_set_new(o, "starttls_required", json_boolean(required));
			json_object_set_new(o, "sasl",
					    json_boolean(memmem(d, lim,
								"urn:ietf:params:xml:ns:xmpp-sasl",
								32) != NULL));
		}
		if (tls && !id_in_tls(c) && id_phase(c) != ID_PHASE_REACT) {
			id_consume(c, n);
			if (!id_send_str(c,
					 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")) {
				st->asked_tls = 1;
				return ID_CLAIM;
			}
		}
	}
	return ID_MATCH;
}

static int xmpp_start(struct id_conn *c, void *st)
{
	char req[512];
	int len;

	(void)st;
	len = snprintf(req, sizeof(req),
		       "<?xml version='1.0'?><stream:stream to='%s' version='1.0' "
		       "xmlns='jabber:client' xmlns:stream='" XMPP_NS_STREAMS "'>",
		       id_host_name(c));
	if (len < 0 || (size_t)len >= sizeof(req))
		return ID_NO;
	return id_send(c, req, (size_t)len) ? ID_NO : ID_MORE;
}

static const uint16_t xmpp_ports[] = { 5222, 5223, 5269, 0 };

const struct id_module id_mod_xmpp = {
	.name = "xmpp",
	.summary = "XMPP (RFC 6120 stream features: STARTTLS, SASL; followed into TLS)",
	.flags = ID_F_PROBE | ID_F_REACT | ID_F_INNER,
	.weight = 100,
	.ports = xmpp_ports,
	.state_size = sizeof(struct xmpp_state),
	.start = xmpp_start,
	.on_readable = xmpp_readable,
};
