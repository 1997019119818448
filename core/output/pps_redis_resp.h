/*
 * output/pps_redis_resp.h - Redis's wire protocol (RESP 2, redis.io/docs/reference/protocol-spec)
 * written and read without allocating: commands formatted straight into a caller's buffer
 * (length-prefixed bulk strings, so binary-safe like redisAppendCommandArgv(), which would
 * allocate a buffer per command), and a hiredis reader whose object functions return static
 * markers instead of building reply objects (only the first error text is kept). For a
 * pipeline of many commands a second; the handshake uses pps_redis_call() instead.
 */
#ifndef PPS_REDIS_RESP_H
#define PPS_REDIS_RESP_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** pps_resp_u64 - @v in decimal into @buf (at least 21 bytes, NUL-terminated); its length. */
size_t pps_resp_u64(char *buf, uint64_t v);

/** pps_resp_bulk - appends "$LEN\r\nDATA\r\n" at @p; returns the end. */
char *pps_resp_bulk(char *p, const char *s, size_t len);

/** PPS_RESP_LIT - appends string literal @lit at @p (its length known at compile time). */
#define PPS_RESP_LIT(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/** The first error reply seen by a marker reader, since the last reset (n = 0). */
struct pps_resp_errors {
	char first[256];
	int n;
};

/**
 * pps_resp_reader_new - a hiredis reader that allocates nothing per reply: each reply is a
 * static marker (pps_resp_is_array() tells EXEC's array from the rest), an error reply's
 * text goes to @e. Returns NULL without memory; free with redisReaderFree().
 */
redisReader *pps_resp_reader_new(struct pps_resp_errors *e);

/** pps_resp_is_array - 1 if marker @obj stands for an array reply (EXEC executed). */
int pps_resp_is_array(const void *obj);

#endif /* PPS_REDIS_RESP_H */
