/*
 * id_util.h - byte helpers two or more protocol modules share (bounded reads of what a server
 * sent; never trusting a length). i12 owns the file; other module authors add functions at
 * the end, each block marked with its branch name.
 */
#ifndef PPS_ID_UTIL_H
#define PPS_ID_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/**
 * id_prefix - compares the first bytes of @d (@n bytes) with the string @lit: ID_MATCH if @d
 * starts with all of @lit, ID_MORE if @d is a proper prefix of it (more bytes may complete
 * it), ID_NO otherwise. @nocase: ASCII letters compare caselessly.
 */
int id_prefix(const uint8_t *d, size_t n, const char *lit, int nocase);

/** id_line_len - length of the first line of @d including its LF, 0 if no LF within @n. */
size_t id_line_len(const uint8_t *d, size_t n);

/** id_text_len - @n without the trailing CR and LF bytes. */
size_t id_text_len(const uint8_t *d, size_t n);

/** id_be16 / id_be32 - big-endian (network order) integers at @p (2 or 4 readable bytes). */
static inline uint16_t id_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t id_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/** id_le16 / id_le32 - little-endian integers at @p. */
static inline uint16_t id_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}
static inline uint32_t id_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/** id_is_text - 1 if the @n bytes are printable ASCII, TAB, CR or LF only. */
int id_is_text(const uint8_t *d, size_t n);

/**
 * id_json_list - splits @n bytes at @sep into a JSON array of strings (each through
 * id_json_text, empty items skipped, at most 64 items). New reference.
 */
json_t *id_json_list(const uint8_t *d, size_t n, char sep);

/**
 * id_text_reply - one reply of the RFC 959 / RFC 5321 shape: lines "DDD-text" continued until
 * a line "DDD text" (or "DDD" alone) with the same three digits. Returns ID_MATCH with *@code
 * (100..599) and *@len (bytes of the whole reply, CRLF included) when a complete reply starts
 * @d, ID_MORE while it may still complete (no more than 8 KiB are waited for), ID_NO if @d is
 * not such a reply.
 */
int id_text_reply(const uint8_t *d, size_t n, int *code, size_t *len);

/**
 * id_reply_lines - the text of the lines of a reply from id_text_reply() as a JSON array,
 * without the "DDD-" prefixes (at most 64 lines). New reference.
 */
json_t *id_reply_lines(const uint8_t *d, size_t len);

/* ---- i12d: the binary modules' verdicts (mod_wire.h) ---- */

struct id_conn;

/**
 * id_wire_verdict - the engine's verdict (enum id_verdict) for a mod_wire.h parser's result
 * @wire: ID_WIRE_MATCH -> ID_MATCH; ID_WIRE_MORE -> ID_MORE, or ID_NO once the connection
 * has ended (id_ended); ID_WIRE_NO and ID_WIRE_BAD (a malformed reply) -> ID_NO.
 */
int id_wire_verdict(const struct id_conn *c, int wire);

/** id_json_csv - a NUL-terminated comma-separated list as a JSON array (id_json_list). */
json_t *id_json_csv(const char *list);

/** id_json_set_text - sets @o[@key] to the string @v unless @v is empty (nothing to say). */
void id_json_set_text(json_t *o, const char *key, const char *v);
/* ---- end i12d ---- */

#endif /* PPS_ID_UTIL_H */
