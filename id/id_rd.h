/*
 * id_rd.h - a bounds-checked reader over a server's reply, for the binary protocol modules.
 *
 * Every read checks the bytes that remain first; a read past the end sets `bad` and returns
 * zero, so a parser reads a whole structure and then looks once at `r->bad` (short reply:
 * read more or reject) instead of checking each field. Multi-byte integers are big-endian
 * (network order) unless the name says `le`. Nothing is allocated; the reader only points
 * into the caller's buffer.
 */
#ifndef PPS_ID_RD_H
#define PPS_ID_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct id_rd {
	const uint8_t *p; /* next unread byte */
	size_t left;	  /* bytes after p */
	bool bad;	  /* a read went past the end */
};

static inline struct id_rd id_rd_init(const uint8_t *buf, size_t len)
{
	struct id_rd r = { buf, len, false };

	return r;
}

/* n bytes or NULL (and bad) when fewer remain; advances. */
static inline const uint8_t *id_rd_bytes(struct id_rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static inline uint8_t id_rd_u8(struct id_rd *r)
{
	const uint8_t *p = id_rd_bytes(r, 1);

	return p ? p[0] : 0;
}

static inline uint16_t id_rd_be16(struct id_rd *r)
{
	const uint8_t *p = id_rd_bytes(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t id_rd_be32(struct id_rd *r)
{
	const uint8_t *p = id_rd_bytes(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint64_t id_rd_be64(struct id_rd *r)
{
	uint64_t hi = id_rd_be32(r);

	return hi << 32 | id_rd_be32(r);
}

/* 16 and 32 bits in either byte order: `le` true for little-endian. */
static inline uint16_t id_rd_16(struct id_rd *r, bool le)
{
	const uint8_t *p = id_rd_bytes(r, 2);

	if (!p)
		return 0;
	return le ? (uint16_t)(p[1] << 8 | p[0]) : (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t id_rd_32(struct id_rd *r, bool le)
{
	const uint8_t *p = id_rd_bytes(r, 4);

	if (!p)
		return 0;
	return le ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]
		  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void id_rd_skip(struct id_rd *r, size_t n)
{
	(void)id_rd_bytes(r, n);
}

/*
 * Copies n bytes of server text into dst (cap bytes, cap >= 1) as printable ASCII: bytes
 * outside 0x20..0x7e become '?', a longer text is cut at cap - 1; always NUL-terminated, so
 * the result is valid UTF-8 and safe in JSON.
 */
static inline void id_text_copy(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t i, m = n < cap - 1 ? n : cap - 1;

	for (i = 0; i < m; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[m] = '\0';
}

/* Stores big-endian integers into a request under construction. */
static inline void id_wr_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void id_wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
