/*
 * id_conn.c - the accessors of id_module.h that need nothing but struct id_conn's fields
 * (id_conn.h): the send queue, the receive buffer, the phase and what a module found. Linked
 * by the engine (id_engine.c) and by the fuzz harness (tests/fuzz/fuzz_id_modules.c), so both
 * drive the modules through the same code. The ones that need the endpoint, the TLS session or
 * the fingerprint database stay in id_engine.c.
 */
#include "id_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int id_send(struct id_conn *c, const void *buf, size_t n)
{
	if (c->tx_n + n > ID_TX_MAX)
		return -ENOBUFS;
	memcpy(c->tx + c->tx_n, buf, n);
	c->tx_n += n;
	return 0;
}

int id_send_str(struct id_conn *c, const char *s)
{
	return id_send(c, s, strlen(s));
}

void id_consume(struct id_conn *c, size_t n)
{
	if (n >= c->rx_n) {
		c->rx_n = 0;
		return;
	}
	memmove(c->rx, c->rx + n, c->rx_n - n);
	c->rx_n -= n;
}

int id_phase(const struct id_conn *c)
{
	return c->mphase;
}

int id_ended(const struct id_conn *c)
{
	return c->ended;
}

int id_in_tls(const struct id_conn *c)
{
	return c->in_tls;
}

json_t *id_obj(struct id_conn *c)
{
	if (!c->obj)
		c->obj = json_object();
	return c->obj;
}

void id_set_product(struct id_conn *c, const char *product, const char *version)
{
	if (product)
		snprintf(c->product, sizeof(c->product), "%s", product);
	if (version)
		snprintf(c->version, sizeof(c->version), "%s", version);
}

void id_set_protocol(struct id_conn *c, const char *name)
{
	snprintf(c->protocol, sizeof(c->protocol), "%s", name);
}
