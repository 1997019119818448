/*
 * id_util.c - byte helpers shared by the protocol modules (id_util.h).
 */
#include "id_util.h"

#include <string.h>

#include "id_module.h"
#include "mod_wire.h"

#define LIST_MAX 64
#define REPLY_WAIT_MAX 8192

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

int id_prefix(const uint8_t *d, size_t n, const char *lit, int nocase)
{
	size_t l = strlen(lit);

	for (size_t i = 0; i < l; i++) {
		if (i >= n)
			return ID_MORE;
		if (nocase ? lower(d[i]) != lower((unsigned char)lit[i])
			   : d[i] != (unsigned char)lit[i])
			return ID_NO;
	}
	return ID_MATCH;
}

size_t id_line_len(const uint8_t *d, size_t n)
{
	const uint8_t *lf = memchr(d, '\n', n);

	return lf ? (size_t)(lf - d) + 1 : 0;
}

size_t id_text_len(const uint8_t *d, size_t n)
{
	while (n && (d[n - 1] == '\n' || d[n - 1] == '\r'))
		n--;
	return n;
}

int id_is_text(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((d[i] < 0x20 || d[i] > 0x7e) && d[i] != '\t' && d[i] != '\r' && d[i] != '\n')
			return 0;
	return 1;
}

json_t *id_json_list(const uint8_t *d, size_t n, char sep)
{
	json_t *a = json_array();
	size_t start = 0, items = 0;

	if (!a)
		return NULL;
	for (size_t i = 0; i <= n && items < LIST_MAX; i++) {
		if (i < n && d[i] != (uint8_t)sep)
			continue;
		if (i > start) {
			json_array_append_new(a, id_json_text(d + start, i - start));
			items++;
		}
		start = i + 1;
	}
	return a;
}

static int digit3(const uint8_t *d)
{
	return d[0] >= '1' && d[0] <= '5' && d[1] >= '0' && d[1] <= '9' && d[2] >= '0' &&
	       d[2] <= '9';
}

int id_text_reply(const uint8_t *d, size_t n, int *code, size_t *len)
{
	size_t pos = 0;
	int first = -1;

	for (;;) {
		size_t l;
		int cd;

		if (n - pos < 3) {
			for (size_t i = pos; i < n; i++)
				if (d[i] < '0' || d[i] > '9')
					return pos ? ID_MORE : ID_NO;
			if (pos == 0 && n >= 1 && (d[0] < '1' || d[0] > '5'))
				return ID_NO;
			return ID_MORE;
		}
		if (!digit3(d + pos)) {
			/* RFC 959 4.2: continuation lines of a multi-line reply may be any text */
			if (pos == 0)
				return ID_NO;
			l = id_line_len(d + pos, n - pos);
			if (!l)
				return n > REPLY_WAIT_MAX ? ID_NO : ID_MORE;
			if (!id_is_text(d + pos, l))
				return ID_NO;
			pos += l;
			continue;
		}
		cd = (d[pos] - '0') * 100 + (d[pos + 1] - '0') * 10 + (d[pos + 2] - '0');
		if (first < 0)
			first = cd;
		if (n - pos == 3)
			return ID_MORE;
		if (d[pos + 3] != ' ' && d[pos + 3] != '-' && d[pos + 3] != '\r' &&
		    d[pos + 3] != '\n')
			return pos == 0 ? ID_NO : ID_MORE;
		l = id_line_len(d + pos, n - pos);
		if (!l)
			return n > REPLY_WAIT_MAX ? ID_NO : ID_MORE;
		if (!id_is_text(d + pos, l))
			return ID_NO;
		pos += l;
		if (cd == first && d[pos - l + 3] != '-') {
			*code = first;
			*len = pos;
			return ID_MATCH;
		}
		if (pos > REPLY_WAIT_MAX)
			return ID_NO;
	}
}

json_t *id_reply_lines(const uint8_t *d, size_t len)
{
	json_t *a = json_array();
	size_t pos = 0, items = 0;

	if (!a)
		return NULL;
	while (pos < len && items < LIST_MAX) {
		size_t l = id_line_len(d + pos, len - pos), t;
		const uint8_t *s = d + pos;

		if (!l)
			l = len - pos;
		t = id_text_len(s, l);
		if (t >= 4 && digit3(s) && (s[3] == '-' || s[3] == ' '))
			json_array_append_new(a, id_json_text(s + 4, t - 4));
		else if (t == 3 && digit3(s))
			json_array_append_new(a, json_string(""));
		else
			json_array_append_new(a, id_json_text(s, t));
		items++;
		pos += l;
	}
	return a;
}

/* Length of the valid UTF-8 sequence at @d (RFC 3629: no overlongs, surrogates, > U+10FFFF),
 * 0 if there is none. */
static size_t utf8_len(const uint8_t *d, size_t n)
{
	size_t l;
	uint32_t cp;

	if (d[0] >= 0xc2 && d[0] <= 0xdf)
		l = 2, cp = d[0] & 0x1f;
	else if (d[0] >= 0xe0 && d[0] <= 0xef)
		l = 3, cp = d[0] & 0x0f;
	else if (d[0] >= 0xf0 && d[0] <= 0xf4)
		l = 4, cp = d[0] & 0x07;
	else
		return 0;
	if (n < l)
		return 0;
	for (size_t i = 1; i < l; i++) {
		if ((d[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (d[i] & 0x3f);
	}
	if ((l == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (l == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return l;
}

json_t *id_json_text(const uint8_t *b, size_t n)
{
	char buf[4 * 512 + 1];
	size_t o = 0;

	n = id_text_len(b, n);
	if (n > 512)
		n = 512;
	for (size_t i = 0; i < n;) {
		size_t u;

		if ((b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			buf[o++] = (char)b[i++];
		} else if (b[i] >= 0x80 && (u = utf8_len(b + i, n - i))) {
			memcpy(buf + o, b + i, u);
			o += u;
			i += u;
		} else {
			static const char hex[] = "0123456789abcdef";

			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[b[i] >> 4];
			buf[o++] = hex[b[i] & 15];
			i++;
		}
	}
	return json_stringn(buf, o);
}

/* ---- i12d: the binary modules' verdicts (mod_wire.h) ---- */

int id_wire_verdict(const struct id_conn *c, int wire)
{
	switch (wire) {
	case ID_WIRE_MATCH: return ID_MATCH;
	case ID_WIRE_MORE: return id_ended(c) ? ID_NO : ID_MORE;
	default: return ID_NO;
	}
}

json_t *id_json_csv(const char *list)
{
	return id_json_list((const uint8_t *)list, strlen(list), ',');
}

void id_json_set_text(json_t *o, const char *key, const char *v)
{
	if (v[0])
		json_object_set_new(o, key, json_string(v));
}
/* ---- end i12d ---- */
