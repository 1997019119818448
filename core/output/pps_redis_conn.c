/*
 * A connection to Redis (pps_redis_conn.h): hiredis in non-blocking mode, so that every step
 * (connect, AUTH, SELECT, PING, a command) has a deadline of our own instead of hiredis's
 * blocking timeouts, and the owner's thread is never held longer than it asked for.
 */
#include "pps_redis_conn.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../pps_clock.h"

int pps_redis_wait_fd(int fd, short events, double deadline_s)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = deadline_s - pps_monotonic_s();
		int ms = left > 0 ? (int)(left * 1000) + 1 : 0, rc;

		rc = poll(&p, 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc;
	}
}

/* The host of a redis:// URL as a numeric address into k->addr. Returns 0 or -errno. */
static int resolve(struct pps_redis_conn *k)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo(k->url.host, NULL, &hints, &res);

	if (rc) {
		snprintf(k->err, sizeof(k->err), "cannot resolve '%s': %s", k->url.host,
			 gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, k->addr, sizeof(k->addr), NULL, 0,
			 NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc) {
		snprintf(k->err, sizeof(k->err), "cannot resolve '%s': %s", k->url.host,
			 gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	return 0;
}

int pps_redis_conn_init(struct pps_redis_conn *k, const char *url)
{
	memset(k, 0, sizeof(*k));
	pps_redis_url_mask(url, k->shown, sizeof(k->shown));
	if (pps_redis_url_parse(url, &k->url, k->err, sizeof(k->err)))
		return -EINVAL;
	return k->url.is_unix ? 0 : resolve(k);
}

redisReply *pps_redis_call(struct pps_redis_conn *k, double timeout_s, int argc, const char **argv,
			   const size_t *lens)
{
	double deadline = pps_monotonic_s() + timeout_s;
	void *reply = NULL;
	int done = 0;

	if (redisAppendCommandArgv(k->c, argc, argv, lens) != REDIS_OK)
		goto io;
	while (!done) {
		if (redisBufferWrite(k->c, &done) != REDIS_OK)
			goto io;
		if (!done && pps_redis_wait_fd(k->c->fd, POLLOUT, deadline) <= 0)
			goto timeout;
	}
	for (;;) {
		if (redisGetReplyFromReader(k->c, &reply) != REDIS_OK)
			goto io;
		if (reply)
			return reply;
		if (pps_redis_wait_fd(k->c->fd, POLLIN, deadline) <= 0)
			goto timeout;
		if (redisBufferRead(k->c) != REDIS_OK)
			goto io;
	}
io:
	snprintf(k->err, sizeof(k->err), "%s", k->c->errstr[0] ? k->c->errstr : "I/O error");
	return NULL;
timeout:
	snprintf(k->err, sizeof(k->err), "no reply within %.0f ms", timeout_s * 1000);
	return NULL;
}

redisReply *pps_redis_callv(struct pps_redis_conn *k, double timeout_s, const char *const *args)
{
	const char *argv[24];
	size_t lens[24];
	int n = 0;

	while (args[n] && n < 24) {
		argv[n] = args[n];
		lens[n] = strlen(args[n]);
		n++;
	}
	return pps_redis_call(k, timeout_s, n, argv, lens);
}

int pps_redis_reply_error(struct pps_redis_conn *k, const redisReply *r, const char *what)
{
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	snprintf(k->err, sizeof(k->err), "%s%s", what, r->str);
	return 1;
}

/* One handshake command; its error reply gives @rc with @what in front of the reason. */
static int handshake(struct pps_redis_conn *k, double deadline, const char *const *args, int rc,
		     const char *what)
{
	redisReply *r = pps_redis_callv(k, deadline - pps_monotonic_s(), args);

	if (!r)
		return -EIO;
	rc = pps_redis_reply_error(k, r, what) ? rc : 0;
	freeReplyObject(r);
	return rc;
}

int pps_redis_conn_connect(struct pps_redis_conn *k, double timeout_s)
{
	const struct pps_redis_url *u = &k->url;
	double deadline = pps_monotonic_s() + timeout_s;
	redisReply *r;
	char db[16];
	int rc = 0;

	k->c = u->is_unix ? redisConnectUnixNonBlock(u->path)
			  : redisConnectNonBlock(k->addr, u->port_h);
	if (!k->c) {
		snprintf(k->err, sizeof(k->err), "out of memory");
		return -ENOMEM;
	}
	if (k->c->err) {
		snprintf(k->err, sizeof(k->err), "cannot connect: %s", k->c->errstr);
		rc = -ECONNREFUSED;
		goto fail;
	}
	if (!u->is_unix) { /* TCP connects in the background: wait, then ask how it went */
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (pps_redis_wait_fd(k->c->fd, POLLOUT, deadline) <= 0) {
			snprintf(k->err, sizeof(k->err), "cannot connect: no answer within %.0f ms",
				 timeout_s * 1000);
			rc = -ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(k->c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			snprintf(k->err, sizeof(k->err), "cannot connect: %s",
				 strerror(soerr ? soerr : errno));
			rc = -ECONNREFUSED;
			goto fail;
		}
	}
	if (u->has_password) {
		const char *a3[] = { "AUTH", u->user, u->password, NULL };
		const char *a2[] = { "AUTH", u->password, NULL };

		if ((rc = handshake(k, deadline, u->user[0] ? a3 : a2, -EACCES,
				    "authentication failed: ")) < 0)
			goto fail;
	}
	if (u->db) {
		const char *a[] = { "SELECT", db, NULL };

		snprintf(db, sizeof(db), "%u", u->db);
		if ((rc = handshake(k, deadline, a, -EINVAL, "cannot select the database: ")) < 0)
			goto fail;
	}
	{
		const char *a[] = { "PING", NULL };

		r = pps_redis_callv(k, deadline - pps_monotonic_s(), a);
		if (!r) {
			rc = -EIO;
			goto fail;
		}
		if (r->type == REDIS_REPLY_ERROR) { /* NOAUTH, or LOADING after a restart */
			rc = !strncmp(r->str, "NOAUTH", 6) ? -EACCES : -EAGAIN;
			pps_redis_reply_error(
				k, r, rc == -EACCES ? "the server wants a password: " : "PING: ");
		}
		freeReplyObject(r);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	pps_redis_conn_close(k);
	return rc;
}

void pps_redis_conn_close(struct pps_redis_conn *k)
{
	if (k->c)
		redisFree(k->c);
	k->c = NULL;
}
