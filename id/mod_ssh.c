/*
 * mod_ssh.c - SSH (RFC 4253). Server-first: the server sends its identification string
 * "SSH-protoversion-softwareversion[ SP comments] CR LF" (4.2; lines before it that do not
 * start with "SSH-" are allowed, at most 255 bytes for the string itself). Having it, the
 * module claims the connection, sends its own identification string, and reads the server's
 * first binary packet (6: uint32 packet_length, byte padding_length, payload), which is its
 * SSH_MSG_KEXINIT (7.1: byte 20, 16-byte cookie, ten name-lists, boolean, uint32 0): the
 * record lists its key-exchange, host-key, cipher, MAC and compression algorithms.
 *
 * Record: "ssh": {banner, protocol_version, software, comments, kex_algorithms,
 * host_key_algorithms, encryption_algorithms, mac_algorithms, compression_algorithms};
 * product/version from data/fingerprints/ssh.conf.
 */
#include <string.h>

#include "id_module.h"
#include "id_util.h"

#define SSH_PRELUDE_MAX 1024 /* bytes of other lines accepted before the identification string */
#define SSH_IDENT_MAX 255    /* RFC 4253 4.2, CR LF included */
#define SSH_MSG_KEXINIT 20
#define SSH_PACKET_MAX 35000 /* RFC 4253 6.1: what an implementation must accept */

struct ssh_state {
	uint8_t sent_ident; /* our identification string is queued: waiting for KEXINIT */
};

/*
 * Finds the identification string in @d: ID_MATCH with its offset and length (CR LF
 * excluded), ID_MORE if it may still come, ID_NO if @d cannot be an SSH greeting.
 */
static int find_ident(const uint8_t *d, size_t n, size_t *off, size_t *len)
{
	size_t pos = 0;

	while (pos < n) {
		size_t l = id_line_len(d + pos, n - pos);
		int p = id_prefix(d + pos, n - pos, "SSH-", 0);

		if (p == ID_MORE)
			return ID_MORE;
		if (p == ID_MATCH) {
			if (!l)
				return n - pos <= SSH_IDENT_MAX ? ID_MORE : ID_NO;
			if (l > SSH_IDENT_MAX)
				return ID_NO;
			*off = pos;
			*len = id_text_len(d + pos, l);
			return ID_MATCH;
		}
		/* a line before the identification string: text, within the prelude bound */
		if (!id_is_text(d + pos, l ? l : n - pos))
			return ID_NO;
		if (!l)
			return n <= SSH_PRELUDE_MAX ? ID_MORE : ID_NO;
		pos += l;
		if (pos > SSH_PRELUDE_MAX)
			return ID_NO;
	}
	return ID_MORE;
}

/*
 * Splits "SSH-protoversion-softwareversion[ comments]" (@s, @n bytes, "SSH-" checked) into
 * the record. Returns 0 if the shape holds, -1 if not (then it is no SSH).
 */
static int parse_ident(struct id_conn *c, const uint8_t *s, size_t n)
{
	const uint8_t *pv = s + 4, *end = s + n, *dash, *sp;
	json_t *o;

	dash = memchr(pv, '-', (size_t)(end - pv));
	if (!dash || dash == pv || dash + 1 >= end)
		return -1;
	for (const uint8_t *p = pv; p < dash; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -1;
	sp = memchr(dash + 1, ' ', (size_t)(end - dash - 1));
	o = id_obj(c);
	if (!o)
		return 0;
	json_object_set_new(o, "banner", id_json_text(s, n));
	json_object_set_new(o, "protocol_version", id_json_text(pv, (size_t)(dash - pv)));
	json_object_set_new(o, "software",
			    id_json_text(dash + 1, (size_t)((sp ? sp : end) - dash - 1)));
	if (sp && sp + 1 < end)
		json_object_set_new(o, "comments", id_json_text(sp + 1, (size_t)(end - sp - 1)));
	return 0;
}

/* Reads one name-list (RFC 4251 5) at *@p into @o[@key]. Returns 0, or -1 past @end. */
static int name_list(json_t *o, const char *key, const uint8_t **p, const uint8_t *end)
{
	uint32_t len;

	if (end - *p < 4)
		return -1;
	len = id_be32(*p);
	*p += 4;
	if (len > (uint32_t)(end - *p))
		return -1;
	json_object_set_new(o, key, id_json_list(*p, len, ','));
	*p += len;
	return 0;
}

/*
 * The server's first binary packet. ID_MORE until it is complete (or the buffer is full);
 * then ID_MATCH whatever it held (the identification string already proved SSH).
 */
static int read_kexinit(struct id_conn *c, const uint8_t *d, size_t n)
{
	static const char *const lists[] = {
		"kex_algorithms",	  "host_key_algorithms",
		"encryption_algorithms",  "encryption_algorithms_s2c",
		"mac_algorithms",	  "mac_algorithms_s2c",
		"compression_algorithms", "compression_algorithms_s2c",
	};
	uint32_t plen;
	const uint8_t *p, *end;
	json_t *o = id_obj(c);

	if (n < 6)
		return id_ended(c) ? ID_MATCH : ID_MORE;
	plen = id_be32(d);
	if (plen < 2 || plen > SSH_PACKET_MAX)
		return ID_MATCH; /* not a packet we can read (SSH-1, garbage): the greeting stands */
	if (n < (size_t)plen + 4 && n < ID_RX_MAX && !id_ended(c))
		return ID_MORE;
	if (d[5] != SSH_MSG_KEXINIT || !o)
		return ID_MATCH;
	end = d + (n < (size_t)plen + 4 ? n : (size_t)plen + 4);
	p = d + 6 + 16; /* payload: message byte, cookie */
	if (p > end)
		return ID_MATCH;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (name_list(o, lists[i], &p, end))
			break;
		/* the s2c lists are recorded only where they differ from c2s */
		if (i % 2 == 1 && i >= 3 &&
		    json_equal(json_object_get(o, lists[i]), json_object_get(o, lists[i - 1])))
			json_object_del(o, lists[i]);
	}
	return ID_MATCH;
}

static int ssh_readable(struct id_conn *c, void *stp, const uint8_t *d, size_t n)
{
	struct ssh_state *st = stp;
	size_t off = 0, len = 0;
	int r;

	if (id_phase(c) == ID_PHASE_DIALOGUE && st->sent_ident)
		return read_kexinit(c, d, n);
	/* greetings only: a reply to another module's request starts at its first byte */
	if (id_phase(c) != ID_PHASE_GREETING) {
		r = id_prefix(d, n, "SSH-", 0);
		if (r != ID_MATCH)
			return r;
	}
	r = find_ident(d, n, &off, &len);
	if (r != ID_MATCH)
		return r == ID_MORE && id_ended(c) ? ID_NO : r;
	if (parse_ident(c, d + off, len))
		return ID_NO;
	id_fingerprint(c, d + off, len);
	id_consume(c, off + id_line_len(d + off, n - off));
	/* SSH 1.x servers ("SSH-1.5-") speak no binary packets we would read: done */
	if (len >= 8 && !memcmp(d + off, "SSH-1.5-", 8))
		return ID_MATCH;
	if (id_send_str(c, "SSH-2.0-ppscan_id\r\n"))
		return ID_MATCH;
	st->sent_ident = 1;
	return ID_CLAIM;
}

static const uint16_t ssh_ports[] = { 22, 2222, 22222, 830, 0 };

const struct id_module id_mod_ssh = {
	.name = "ssh",
	.summary = "SSH (RFC 4253: identification string and KEXINIT algorithms)",
	.flags = ID_F_GREETING | ID_F_REACT,
	.weight = 300,
	.ports = ssh_ports,
	.state_size = sizeof(struct ssh_state),
	.on_readable = ssh_readable,
};
