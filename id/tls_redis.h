/*
 * tls_redis.h - ppscan-tls and Redis (hiredis, synchronous, one connection):
 *   - follows a scan's results stream {prefix}:{scan}:results (XADD fields ip, port, status,
 *     ttl, ts; written by ppscan --redis) with a consumer group: XGROUP CREATE ... 0 MKSTREAM,
 *     first this consumer's own pending entries (XREADGROUP ... 0, left by a previous run that
 *     stopped before XACK), then new ones (>). An entry is acknowledged (XACK) after its
 *     record is written, so a restarted consumer resumes where it left off (at least once).
 *     Following ends when the meta hash {prefix}:{scan}:meta has state done or interrupted
 *     and the stream is drained, or after --follow-timeout seconds without a new entry;
 *   - writes each record to the stream {prefix}:{scan}:tls (fields ip, port, json), or for
 *     ppscan-id {prefix}:{scan}:services (fields ip, port, protocol, json).
 * Writes are pipelined and their replies read by tls_redis_flush(). URLs as ppscan takes them
 * (core/output/pps_redis_url.h).
 */
#ifndef PPS_TLS_REDIS_H
#define PPS_TLS_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "tls_input.h"

struct tls_redis;

/**
 * tls_redis_open - connects (5 s timeout), AUTH and SELECT as @url says, and derives the
 * keys from @prefix and @scan; records go to the stream {prefix}:{scan}:{out} ("tls" for
 * ppscan-tls, "services" for ppscan-id). Returns NULL with a reason in @why (never the password;
 * nothing is left open).
 */
struct tls_redis *tls_redis_open(const char *url, const char *prefix, const char *scan,
				 const char *out, char *why, size_t whylen);

/**
 * tls_redis_input - the results stream as an input, in consumer group @group as @consumer
 * (the group is created if missing). Only status "open" entries are returned; the others are
 * acknowledged at once. @follow_timeout_s: 0 = follow until the scan is done. The input
 * borrows @r (close the input before @r). Returns NULL with a reason in @why.
 */
struct tls_input *tls_redis_input(struct tls_redis *r, const char *group, const char *consumer,
				  double follow_timeout_s, char *why, size_t whylen);

/**
 * tls_redis_put - queues XADD {prefix}:{scan}:{out} * ip IP port PORT [protocol @protocol]
 * json @json (@protocol NULL: no such field). 0 or -errno.
 */
int tls_redis_put(struct tls_redis *r, uint32_t ip_h, uint16_t port_h, const char *protocol,
		  const char *json);

/** tls_redis_probed_ports - the meta hash's "ports" (ports probed per address), 0 if unknown. */
unsigned tls_redis_probed_ports(struct tls_redis *r);

/** tls_redis_flush - reads the replies of queued commands; 0, or -EIO after one error line. */
int tls_redis_flush(struct tls_redis *r);

/** tls_redis_close - flushes and disconnects; NULL is fine. */
void tls_redis_close(struct tls_redis *r);

#endif /* PPS_TLS_REDIS_H */
