/*
 * id_engine.h - ppscan-id's identification engine: one thread, one epoll set, up to
 * cfg->concurrency connections, each endpoint identified by the order of work of
 * id_module.h (greeting window, client-first handshakes by likelihood, TLS followed inward,
 * STARTTLS), one record per endpoint (schema/service-record.schema.json).
 */
#ifndef PPS_ID_ENGINE_H
#define PPS_ID_ENGINE_H

#include <jansson.h>
#include <signal.h>

#include "tls_config.h"
#include "tls_engine.h" /* tls_record_fn, tls_flush_fn */
#include "tls_input.h"

/** Outcomes of an endpoint (the summary's counters). */
enum id_outcome {
	ID_O_MATCH = 0,	 /* protocol named, confidence match */
	ID_O_SOFT,	 /* protocol named, confidence soft */
	ID_O_UNKNOWN,	 /* bytes received, no module recognised them */
	ID_O_NO_SERVICE, /* connection accepted, never a byte on any handshake */
	ID_O_REFUSED,	 /* the port is not open (RST to the SYN) */
	ID_O_UNREACHABLE,
	ID_O_TIMEOUT, /* no connection within --connect-timeout */
	ID_O_ERROR,   /* a local failure */
	ID_O_COUNT
};

/** id_outcome_name - "match", "soft", "unknown", "no_service", "refused", ... */
const char *id_outcome_name(int o);

struct id_stats {
	unsigned long long endpoints; /* records written */
	unsigned long long by_outcome[ID_O_COUNT];
	unsigned long long connections;	      /* connect() calls */
	unsigned long long handshakes;	      /* client-first handshakes tried */
	unsigned long long tls_handshakes;    /* completed TLS handshakes */
	unsigned long long filtered, blocked; /* input endpoints never connected */
	unsigned long long rx_dropped;	      /* bytes beyond ID_RX_MAX, not kept */
	unsigned long long middlebox;	      /* records marked as a likely middlebox */
	double elapsed_s;
};

struct id_engine;

/**
 * id_engine_new - loads the fingerprints (the built-in ones, then cfg->fingerprints_dir),
 * the TLS client context, the connection slots. @cfg is borrowed for the engine's life.
 * Returns NULL with a reason in @why (a bad fingerprint file: "FILE:LINE: reason").
 */
struct id_engine *id_engine_new(const struct tls_config *cfg, char *why, size_t whylen);

/**
 * id_engine_set_probed_ports - the number of ports the scan probed per address (from its
 * meta data), so that "most of the probed ports" can mark a middlebox; 0 = unknown.
 */
void id_engine_set_probed_ports(struct id_engine *e, unsigned n);

/**
 * id_engine_run - as tls_engine_run(): reads @in until its end, identifies every endpoint,
 * calls @record per endpoint (the record is freed after the call) and @flush per batch.
 * *@stop 1: read no more input, finish what is in flight; >= 2: abandon it. 0 or -errno.
 */
int id_engine_run(struct id_engine *e, struct tls_input *in, tls_record_fn record,
		  tls_flush_fn flush, void *ctx, volatile sig_atomic_t *stop);

/** id_engine_stats - totals so far. */
void id_engine_stats(const struct id_engine *e, struct id_stats *out);

struct id_module;
struct pps_fp_db;

/**
 * id_judge - module @m's on_readable() once, on @n bytes (at most ID_RX_MAX are used) as if
 * they had arrived in @phase (enum id_phase) on a connection to 198.18.0.1:@port, with
 * id_ended() = @ended, without a socket (what the module queues is discarded; id_in_tls() is
 * 0) and with the fingerprints of @fp (NULL: none). On a claim its record() runs too.
 * Returns the verdict (enum id_verdict) or -ENOMEM; *@obj (when @obj is not NULL) gets the
 * module's per-protocol object (a new reference, or NULL), @product and @version (128 bytes
 * each, when not NULL) what it set. For unit tests and fuzz targets of the module parsers.
 */
int id_judge(const struct id_module *m, int phase, uint16_t port, struct pps_fp_db *fp,
	     const uint8_t *d, size_t n, int ended, json_t **obj, char *product, char *version);

/** id_engine_free - closes everything; NULL is fine. */
void id_engine_free(struct id_engine *e);

#endif /* PPS_ID_ENGINE_H */
