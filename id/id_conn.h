/*
 * id_conn.h - the engine's connection (struct id_conn, opaque to the protocol modules of
 * id_module.h) and its definition shared by the engine (id_engine.c), the accessors that need
 * nothing but its fields (id_conn.c) and the fuzz harness (tests/fuzz/fuzz_id_modules.c),
 * which drives modules through the same accessors the engine gives them.
 *
 * rx and tx point to buffers of ID_RX_MAX and ID_TX_MAX bytes owned by whoever made the
 * connection; obj is a jansson object owned by the connection (NULL until id_obj()).
 */
#ifndef PPS_ID_CONN_H
#define PPS_ID_CONN_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "id_module.h"

#define PROTO_MAX 32 /* protocol names, NUL included */

struct id_engine;
struct endpoint;

struct id_conn {
	struct id_engine *e;
	struct endpoint *ep;
	int fd;
	int state;
	int list; /* timeout list, -1 if none */
	struct id_conn *tprev, *tnext;
	uint64_t t_start, t_connected, t_hs, deadline;
	uint32_t events;
	int eof, rx_errno, ended;
	uint8_t *rx; /* ID_RX_MAX */
	size_t rx_n;
	uint64_t rx_total;
	uint8_t *tx; /* ID_TX_MAX */
	size_t tx_n, tx_off;

	const struct id_module *mod;	/* the module in charge */
	int mphase;			/* enum id_phase of the current call */
	int probe_refused;		/* the probing module said no: reacts only */
	const struct id_module *prober; /* whose request another module's claim answers */
	unsigned char st[ID_STATE_MAX];
	unsigned char scratch[ID_STATE_MAX];
	/* what the current module found (moved to the endpoint on its verdict) */
	json_t *obj;
	char protocol[PROTO_MAX];
	char product[128], version[128];
	int fp_soft;

	/* TLS */
	SSL *ssl;
	BIO *rbio, *wbio;
	int in_tls;	  /* established: module bytes travel inside */
	int tls_starttls; /* this TLS handshake follows a module's STARTTLS */
	int ver_probe;	  /* 1 + the version index of a --versions probe, 0 = identification */
	int verify_first;
	uint64_t t_tls;
	struct id_conn *next_free;
};

#endif
