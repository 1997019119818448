/*
 * Small helpers the parsers of id_b.h share: server text into JSON and into fixed buffers,
 * always as printable ASCII (a hostile server cannot make a record invalid UTF-8).
 */
#include "id_b.h"

#include "id_module.h"

#include <stdio.h>
#include <string.h>

json_t *idb_text(const void *s, size_t n)
{
	const uint8_t *b = s;
	char buf[4 * 512 + 1];
	size_t o = 0;

	if (n > 512)
		n = 512;
	for (size_t i = 0; i < n; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f) {
			buf[o++] = (char)b[i];
		} else {
			snprintf(buf + o, 5, "\\x%02x", b[i]);
			o += 4;
		}
	}
	return json_stringn(buf, o);
}

void idb_set_text(json_t *obj, const char *key, const void *s, size_t n)
{
	if (obj)
		json_object_set_new(obj, key, idb_text(s, n));
}

void idb_copy(char *dst, size_t cap, const void *s, size_t n)
{
	const uint8_t *b = s;
	size_t o = 0;

	if (!cap)
		return;
	for (size_t i = 0; i < n && o + 1 < cap; i++)
		dst[o++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
	dst[o] = '\0';
}

/* ---- glue between the pure parsers and the engine (id_module.h) -------------------- */

unsigned long long idb_malformed_count;

int idb_judge(struct id_conn *c, idb_parse_fn parse, const uint8_t *d, size_t n)
{
	struct idb_ident id = { .fields = json_object() };
	int r;

	if (!id.fields)
		return ID_NO;
	r = parse(d, n, &id);
	if (r == IDB_MATCH) {
		json_t *o = id_obj(c);

		if (o)
			json_object_update(o, id.fields);
		id_set_product(c, id.product[0] ? id.product : NULL,
			       id.version[0] ? id.version : NULL);
	}
	json_decref(id.fields);
	switch (r) {
	case IDB_MATCH: return ID_MATCH;
	case IDB_MORE: return id_ended(c) ? ID_NO : ID_MORE;
	case IDB_BAD: idb_malformed_count++; return ID_NO;
	default: return ID_NO;
	}
}

int idb_send_built(struct id_conn *c, size_t (*build)(uint8_t *, size_t))
{
	uint8_t buf[512];
	size_t len = build(buf, sizeof(buf));

	return len && id_send(c, buf, len) == 0 ? ID_MORE : ID_NO;
}
