/*
 * output/pps_redis_conn.h - one connection to Redis for any part of ppscan (the results
 * sink; the identification stage's reader and writer): the --redis URL parsed and its host
 * resolved once, a non-blocking hiredis context connected with a deadline, AUTH (with an
 * ACL user), SELECT and PING, commands with a deadline on that context, and the pacing of
 * reconnects (exponential backoff). Library ppscore_redis (hiredis).
 *
 * Errors: every function that can fail leaves a reason in k->err (the URL shown with its
 * password masked is in k->shown for messages) and returns -errno or NULL.
 */
#ifndef PPS_REDIS_CONN_H
#define PPS_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "pps_redis_url.h"

struct pps_redis_conn {
	struct pps_redis_url url;
	char shown[512]; /* the URL with the password masked, for messages */
	char addr[64];	 /* redis://: the host's address, resolved once */
	redisContext *c; /* NULL while disconnected; non-blocking */
	char err[1536];	 /* reason of the last failure */
};

/**
 * pps_redis_conn_init - parses @url into @k and resolves its host once (so a reconnect never
 * waits for DNS). Returns 0, -EINVAL (a bad URL) or -EHOSTUNREACH, with k->err set.
 */
int pps_redis_conn_init(struct pps_redis_conn *k, const char *url);

/**
 * pps_redis_conn_connect - connects within @timeout_s seconds, authenticates (AUTH [user]
 * password), selects the database and pings. Returns 0 with k->c set, or -errno:
 * -ECONNREFUSED (cannot connect), -ETIMEDOUT, -EACCES (password), -EINVAL (SELECT),
 * -EAGAIN (PING: loading), -EIO, -ENOMEM.
 */
int pps_redis_conn_connect(struct pps_redis_conn *k, double timeout_s);

/** pps_redis_conn_close - closes the connection (k->c NULL afterwards); idempotent. */
void pps_redis_conn_close(struct pps_redis_conn *k);

/**
 * pps_redis_call - one command (@argc arguments @argv of @lens bytes, binary-safe) on the
 * connection, waiting at most @timeout_s for its reply. For the handshake, checks and
 * closing, never per result. Returns the reply (freeReplyObject()) or NULL (k->err).
 */
redisReply *pps_redis_call(struct pps_redis_conn *k, double timeout_s, int argc, const char **argv,
			   const size_t *lens);

/** pps_redis_callv - pps_redis_call() of a NULL-terminated list of strings. */
redisReply *pps_redis_callv(struct pps_redis_conn *k, double timeout_s, const char *const *args);

/** pps_redis_reply_error - 1 if @r is an error reply, copied into k->err after @what. */
int pps_redis_reply_error(struct pps_redis_conn *k, const redisReply *r, const char *what);

/** pps_redis_wait_fd - poll()s @fd for @events until @deadline_s (monotonic); > 0 ready. */
int pps_redis_wait_fd(int fd, short events, double deadline_s);

/** Reconnect pacing: the delay doubles from min_s to max_s, and resets on success. */
struct pps_redis_backoff {
	double min_s, max_s, delay_s;
	double next_try_s; /* monotonic s of the next attempt */
};

/** pps_redis_backoff_init - the first delay @min_s, the cap @max_s. */
static inline void pps_redis_backoff_init(struct pps_redis_backoff *b, double min_s, double max_s)
{
	b->min_s = min_s;
	b->max_s = max_s;
	b->delay_s = min_s;
	b->next_try_s = 0;
}

/** pps_redis_backoff_failed - an attempt (or the connection) failed at @now_s. */
static inline void pps_redis_backoff_failed(struct pps_redis_backoff *b, double now_s)
{
	b->next_try_s = now_s + b->delay_s;
	b->delay_s = b->delay_s * 2 > b->max_s ? b->max_s : b->delay_s * 2;
}

/** pps_redis_backoff_reset - the connection works again (a command got through). */
static inline void pps_redis_backoff_reset(struct pps_redis_backoff *b)
{
	b->delay_s = b->min_s;
}

#endif /* PPS_REDIS_CONN_H */
