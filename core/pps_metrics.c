/*
 * The /metrics endpoint (pps_metrics.h): Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). One thread polls the
 * listening socket (200 ms, so a stop is seen quickly), accepts, reads the request line
 * within 2 s and answers from the last published snapshot.
 */
#include "pps_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pps_clock.h"

#define PM_REQ_MAX 2048
#define PM_REQ_TIMEOUT_S 2.0

struct pps_metrics {
	const struct pps_metric *defs;
	unsigned n;
	int fd;
	unsigned port_h;
	pthread_t thread;
	_Atomic int stop;
	pthread_mutex_t lock;
	double *values; /* the snapshot, under lock */
	char *body;	/* the response body, built by the server thread */
	size_t body_cap;
};

int pps_metrics_parse_addr(const char *s, struct sockaddr_in *sa, char *why, size_t why_len)
{
	const char *colon = strrchr(s, ':');
	char host[32];
	char *end;
	unsigned long port;

	memset(sa, 0, sizeof(*sa));
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host)) {
		snprintf(why, why_len, "expected ADDRESS:PORT, e.g. 127.0.0.1:9100");
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		snprintf(why, why_len, "'%s' is not an IPv4 address", host);
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535) {
		snprintf(why, why_len, "port '%s' is not 1-65535", colon + 1);
		return -1;
	}
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* Appends printf output to the body, growing it. */
static void body_add(struct pps_metrics *m, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void body_add(struct pps_metrics *m, size_t *len, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		int n;

		va_start(ap, fmt);
		n = vsnprintf(m->body + *len, m->body_cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (*len + (size_t)n < m->body_cap) {
			*len += (size_t)n;
			return;
		}
		{
			size_t cap = (m->body_cap + (size_t)n) * 2;
			char *b = realloc(m->body, cap);

			if (!b)
				return;
			m->body = b;
			m->body_cap = cap;
		}
	}
}

/* The exposition of the current snapshot. Returns its length. */
static size_t render(struct pps_metrics *m)
{
	size_t len = 0;

	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->n; i++) {
		const struct pps_metric *d = &m->defs[i];

		if (!i || strcmp(d->name, m->defs[i - 1].name))
			body_add(m, &len, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name,
				 d->type == PPS_METRIC_COUNTER ? "counter" : "gauge");
		if (d->labels)
			body_add(m, &len, "%s{%s} %.17g\n", d->name, d->labels, m->values[i]);
		else
			body_add(m, &len, "%s %.17g\n", d->name, m->values[i]);
	}
	pthread_mutex_unlock(&m->lock);
	return len;
}

static void write_all(int fd, const char *p, size_t n, double deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return;
		{
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			double left = deadline - pps_monotonic_s();

			if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
				return;
		}
	}
}

/* One connection: read the request head (bounded in size and time), answer, close. */
static void serve(struct pps_metrics *m, int fd)
{
	char req[PM_REQ_MAX + 1], head[256];
	size_t got = 0;
	double deadline = pps_monotonic_s() + PM_REQ_TIMEOUT_S;
	int hl;

	while (got < PM_REQ_MAX && !memmem(req, got, "\r\n\r\n", 4) &&
	       !memmem(req, got, "\n\n", 2)) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		double left = deadline - pps_monotonic_s();
		ssize_t r;

		if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			return;
		r = recv(fd, req + got, PM_REQ_MAX - got, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return;
		if (r > 0)
			got += (size_t)r;
	}
	req[got] = '\0';
	if (!strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET /metrics?", 13) ||
	    !strncmp(req, "GET / ", 6)) {
		size_t len = render(m);

		hl = snprintf(head, sizeof(head),
			      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
			      "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			      len);
		write_all(fd, head, (size_t)hl, deadline);
		write_all(fd, m->body, len, deadline);
		return;
	}
	{
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
					 "Content-Length: 23\r\nConnection: close\r\n\r\n"
					 "only /metrics is here\r\n";

		write_all(fd, nf, sizeof(nf) - 1, deadline);
	}
}

static void *server_main(void *arg)
{
	struct pps_metrics *m = arg;

	while (!atomic_load(&m->stop)) {
		struct pollfd pf = { .fd = m->fd, .events = POLLIN };
		int c;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			continue;
		serve(m, c);
		close(c);
	}
	return NULL;
}

struct pps_metrics *pps_metrics_start(const char *addr, const struct pps_metric *defs, unsigned n,
				      char *why, size_t why_len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct pps_metrics *m;
	int one = 1, rc;

	if (pps_metrics_parse_addr(addr, &sa, why, why_len) < 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->values = calloc(n ? n : 1, sizeof(double))) ||
	    !(m->body = malloc(m->body_cap = 8192))) {
		snprintf(why, why_len, "out of memory");
		goto fail;
	}
	m->defs = defs;
	m->n = n;
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(m->fd, 16) ||
	    getsockname(m->fd, (struct sockaddr *)&sa, &sl)) {
		snprintf(why, why_len, "cannot listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	m->port_h = ntohs(sa.sin_port);
	pthread_mutex_init(&m->lock, NULL);
	if ((rc = pthread_create(&m->thread, NULL, server_main, m)) != 0) {
		snprintf(why, why_len, "cannot start the metrics thread: %s", strerror(rc));
		pthread_mutex_destroy(&m->lock);
		goto fail;
	}
	return m;
fail:
	if (m) {
		if (m->fd > 0)
			close(m->fd);
		free(m->values);
		free(m->body);
		free(m);
	}
	return NULL;
}

void pps_metrics_publish(struct pps_metrics *m, const double *values)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(m->values, values, m->n * sizeof(double));
	pthread_mutex_unlock(&m->lock);
}

unsigned pps_metrics_port(const struct pps_metrics *m)
{
	return m ? m->port_h : 0;
}

void pps_metrics_stop(struct pps_metrics *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, 1);
	pthread_join(m->thread, NULL);
	close(m->fd);
	pthread_mutex_destroy(&m->lock);
	free(m->values);
	free(m->body);
	free(m);
}
