/*
 * Small helpers the parsers of id_b.h share: server text into JSON and into fixed buffers,
 * always as printable ASCII (a hostile server cannot make a record invalid UTF-8).
 */
#include "id_b.h"

#include "id_module.h"
#include "id_util.h"

#include <stdio.h>
#include <string.h>

void idb_set_text(json_t *obj, const char *key, const void *s, size_t n)
{
	if (obj)
		json_object_set_new(obj, key, id_json_text(s, n));
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

/* ---- text headers ------------------------------------------------------------------ */

size_t idb_head_len(const uint8_t *d, size_t n)
{
	size_t lim = n < IDB_HEAD_MAX ? n : IDB_HEAD_MAX;

	for (size_t i = 0; i < lim; i++) {
		if (d[i] == '\n' && ((i >= 1 && d[i - 1] == '\n') ||
				     (i >= 2 && d[i - 1] == '\r' && d[i - 2] == '\n')))
			return i + 1;
		if ((d[i] < 0x20 && d[i] != '\r' && d[i] != '\n' && d[i] != '\t') || d[i] == 0x7f)
			return (size_t)-1;
	}
	return n >= IDB_HEAD_MAX ? (size_t)-1 : 0;
}

static int caseeq(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int x = a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

const uint8_t *idb_head_get(const uint8_t *d, size_t len, const char *name, char alt, size_t *vlen)
{
	size_t nl = strlen(name), o = 0;

	while (o < len) {
		const uint8_t *lf = memchr(d + o, '\n', len - o);
		size_t e = lf ? (size_t)(lf - d) : len, k;
		const uint8_t *l = d + o;
		size_t ll = e - o;

		if (ll && l[ll - 1] == '\r')
			ll--;
		k = 0;
		if (ll > nl && caseeq(l, name, nl))
			k = nl;
		else if (alt && ll > 1 && (l[0] | 0x20) == (alt | 0x20))
			k = 1;
		if (k) {
			while (k < ll && (l[k] == ' ' || l[k] == '\t'))
				k++;
			if (k < ll && l[k] == ':') {
				k++;
				while (k < ll && (l[k] == ' ' || l[k] == '\t'))
					k++;
				*vlen = ll - k;
				return l + k;
			}
		}
		o = e + 1;
	}
	return NULL;
}

json_t *idb_json_csv(const uint8_t *d, size_t n)
{
	json_t *a = json_array();
	size_t i = 0;

	while (a && i < n && json_array_size(a) < 64) {
		size_t s, e;

		while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == ','))
			i++;
		s = i;
		while (i < n && d[i] != ',')
			i++;
		e = i;
		while (e > s && (d[e - 1] == ' ' || d[e - 1] == '\t'))
			e--;
		if (e > s)
			json_array_append_new(a, id_json_text(d + s, e - s));
	}
	return a;
}

int idb_status_line(const uint8_t *d, size_t n, const char *proto, int *code)
{
	size_t pl = strlen(proto), i;

	for (i = 0; i < pl && i < n; i++)
		if (d[i] != (uint8_t)proto[i])
			return IDB_NO;
	if (n < pl + 6)
		return IDB_MORE;
	i = pl;
	if (d[i] < '0' || d[i] > '9' || d[i + 1] != ' ')
		return IDB_NO;
	for (int k = 2; k < 5; k++)
		if (d[i + k] < '0' || d[i + k] > '9')
			return IDB_NO;
	*code = (d[i + 2] - '0') * 100 + (d[i + 3] - '0') * 10 + (d[i + 4] - '0');
	return *code >= 100 && *code < 700 && (d[i + 5] == ' ' || d[i + 5] == '\r') ? IDB_MATCH
										    : IDB_NO;
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
	if (r == IDB_MATCH || r == IDB_SOFT) {
		json_t *o = id_obj(c);

		if (o)
			json_object_update(o, id.fields);
		id_set_product(c, id.product[0] ? id.product : NULL,
			       id.version[0] ? id.version : NULL);
	}
	json_decref(id.fields);
	if (r == IDB_MATCH)
		return ID_MATCH;
	if (r == IDB_SOFT)
		return ID_SOFT;
	if (r == IDB_MORE)
		return id_ended(c) ? ID_NO : ID_MORE;
	if (r == IDB_BAD) {
		/* the bytes claim this protocol but break its rules: weak evidence at most, and
		 * the record says so (the search for a better match goes on) */
		idb_malformed_count++;
		if (id_obj(c))
			json_object_set_new(id_obj(c), "malformed", json_true());
		return ID_SOFT;
	}
	return ID_NO;
}

int idb_head_reply(struct id_conn *c, const uint8_t *d, size_t n, const char *proto,
		   const char *proto2, size_t *hl)
{
	json_t *o;
	size_t ll;
	int code = 0, r = idb_status_line(d, n, proto, &code);

	if (r == IDB_NO && proto2)
		r = idb_status_line(d, n, proto2, &code);
	if (r == IDB_MORE)
		return id_ended(c) ? ID_NO : ID_MORE;
	if (r != IDB_MATCH)
		return ID_NO;
	*hl = idb_head_len(d, n);
	if (*hl == (size_t)-1)
		return ID_NO;
	if (*hl == 0) {
		if (!id_ended(c))
			return ID_MORE;
		*hl = n; /* the server closed after a partial head: judge what came */
	}
	ll = id_line_len(d, *hl);
	o = id_obj(c);
	if (o) {
		json_object_set_new(o, "status_code", json_integer(code));
		json_object_set_new(o, "status_line",
				    id_json_text(d, id_text_len(d, ll ? ll : *hl)));
	}
	return ID_MATCH;
}

int idb_send_built(struct id_conn *c, size_t (*build)(uint8_t *, size_t))
{
	uint8_t buf[512];
	size_t len = build(buf, sizeof(buf));

	return len && id_send(c, buf, len) == 0 ? ID_MORE : ID_NO;
}
