/*
 * tls_engine.h - thousands of TLS handshakes in flight on one thread: non-blocking sockets
 * and OpenSSL over memory BIOs, driven by epoll. Each endpoint gets one handshake with the
 * library's defaults (TLS 1.2 and 1.3), and with --versions one more per protocol version.
 */
#ifndef PPS_TLS_ENGINE_H
#define PPS_TLS_ENGINE_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "tls_config.h"
#include "tls_input.h"

/** How an endpoint answered (the record's "classification"). */
enum tls_class {
	TLS_C_TLS = 0,	 /* handshake completed */
	TLS_C_TLS_ERROR, /* the server spoke TLS but the handshake failed (alert, no common suite) */
	TLS_C_PLAINTEXT,   /* the server's first bytes are not a TLS record: a greeting or reply */
	TLS_C_CLOSED,	   /* FIN or RST before the server sent anything */
	TLS_C_TIMEOUT,	   /* no connect or no handshake within the limit */
	TLS_C_REFUSED,	   /* connect answered with RST: the port is not open (any more) */
	TLS_C_UNREACHABLE, /* connect failed with host or network unreachable */
	TLS_C_ERROR,	   /* a local failure (socket, memory) */
	TLS_C_COUNT
};

/** tls_class_name - "tls", "tls_error", "plaintext", "closed", "timeout", ... */
const char *tls_class_name(int c);

/** Totals of one run. */
struct tls_stats {
	unsigned long long endpoints;		  /* records written */
	unsigned long long by_class[TLS_C_COUNT]; /* of the main handshake, per endpoint */
	unsigned long long connections;		  /* connect() calls, version probes included */
	unsigned long long handshakes; /* completed handshakes, version probes included */
	unsigned long long filtered;   /* input endpoints outside -p (never connected) */
	unsigned long long blocked;    /* input endpoints on the blocklist (never connected) */
	double elapsed_s;
};

/**
 * Called once per endpoint with its complete record (the engine keeps the reference and
 * frees it after the call). Return 0, or -errno to stop the run (the error is returned by
 * tls_engine_run()).
 */
typedef int (*tls_record_fn)(void *ctx, const struct tls_target *t, json_t *rec);
/** Called after each batch of events, to flush buffered output. 0 or -errno as above. */
typedef int (*tls_flush_fn)(void *ctx);

struct tls_engine;

/**
 * tls_engine_new - the OpenSSL contexts (trust store: --ca-file or the system's), the
 * connection slots (cfg->concurrency) and the endpoint pool. Raises RLIMIT_NOFILE as far as
 * needed. @cfg is borrowed for the engine's life. Returns NULL with a reason in @why.
 */
struct tls_engine *tls_engine_new(const struct tls_config *cfg, char *why, size_t whylen);

/**
 * tls_engine_run - reads targets from @in, drops those outside cfg->ports or on
 * cfg->blocklist (acknowledged, no record), handshakes, calls @record per endpoint and @flush
 * per batch, until the input ends and every endpoint is recorded. *@stop == 1: read no more
 * input, finish what is in flight; >= 2: abandon it (no records, nothing acknowledged).
 * Returns 0, or -errno from the input or a callback.
 */
int tls_engine_run(struct tls_engine *e, struct tls_input *in, tls_record_fn record,
		   tls_flush_fn flush, void *ctx, volatile sig_atomic_t *stop);

/** tls_engine_stats - totals so far. */
void tls_engine_stats(const struct tls_engine *e, struct tls_stats *out);

/** tls_engine_free - closes everything; NULL is fine. */
void tls_engine_free(struct tls_engine *e);

#endif /* PPS_TLS_ENGINE_H */
