#include "redis_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wait_ping(const char *sock, double seconds)
{
	for (int i = 0; i < (int)(seconds * 20); i++) {
		redisContext *c = redisConnectUnix(sock);
		if (c && !c->err) {
			redisReply *r = redisCommand(c, "PING");
			/* PONG, or NOAUTH from a server with a password: it is up either way */
			int up = r &&
				 (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR) &&
				 (!strcmp(r->str, "PONG") || !strncmp(r->str, "NOAUTH", 6));
			if (r)
				freeReplyObject(r);
			redisFree(c);
			if (up)
				return 0;
		} else if (c) {
			redisFree(c);
		}
		usleep(50000);
	}
	return -1;
}

int rt_redis_restart(struct rt_redis *r)
{
	if (lab_sh("redis-server --port 0 --unixsocket %s --unixsocketperm 700 --dir %s --save '' "
		   "--daemonize yes --logfile %s/redis.log --pidfile %s/redis.pid %s",
		   r->sock, r->dir, r->dir, r->dir, r->extra) != 0)
		return -1;
	return wait_ping(r->sock, 5);
}

int rt_redis_start(struct rt_redis *r, const char *extra)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/ppscan-rt-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
	snprintf(r->url, sizeof(r->url), "unix://%s", r->sock);
	snprintf(r->extra, sizeof(r->extra), "%s", extra ? extra : "");
	return rt_redis_restart(r);
}

void rt_redis_kill(struct rt_redis *r)
{
	lab_sh("p=$(cat %s/redis.pid 2>/dev/null) && [ -n \"$p\" ] && kill -9 $p; "
	       "for i in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.05; done; "
	       "rm -f %s/redis.pid",
	       r->dir, r->dir);
}

void rt_redis_stop(struct rt_redis *r)
{
	if (!r->dir[0])
		return;
	rt_redis_kill(r);
	lab_sh("rm -rf %s", r->dir);
	r->dir[0] = '\0';
}

redisContext *rt_connect(const char *sock, const char *password)
{
	redisContext *c = redisConnectUnix(sock);

	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	if (password)
		freeReplyObject(redisCommand(c, "AUTH %s", password));
	return c;
}

static const char *field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; i + 1 < kv->elements; i += 2)
		if (!strcmp(kv->element[i]->str, name))
			return kv->element[i + 1]->str;
	return "";
}

long rt_stream_set(redisContext *c, const char *key, struct lab_set *s)
{
	char start[64] = "-";
	size_t cap = 0;
	long count = 0;

	memset(s, 0, sizeof(*s));
	for (;;) {
		redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT 1000", key, start);

		if (!r || r->type != REDIS_REPLY_ARRAY) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		if (r->elements == 0) {
			freeReplyObject(r);
			break;
		}
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *e = r->element[i];
			char line[128];

			snprintf(line, sizeof(line), "%s,%s,%s", field(e->element[1], "ip"),
				 field(e->element[1], "port"), field(e->element[1], "status"));
			if (s->n == cap) {
				cap = cap ? cap * 2 : 1024;
				s->items = realloc(s->items, cap * sizeof(char *));
			}
			s->items[s->n++] = strdup(line);
			count++;
			/* next page: exclusive start after this id */
			snprintf(start, sizeof(start), "(%s", e->element[0]->str);
		}
		freeReplyObject(r);
	}
	qsort(s->items, s->n, sizeof(char *), cmp_str);
	return count;
}

size_t rt_distinct(const struct lab_set *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (i == 0 || strcmp(s->items[i], s->items[i - 1]))
			n++;
	return n;
}

char *rt_hget(redisContext *c, const char *key, const char *f, char *buf, size_t len)
{
	redisReply *r = redisCommand(c, "HGET %s %s", key, f);

	buf[0] = '\0';
	if (r && r->type == REDIS_REPLY_STRING)
		snprintf(buf, len, "%s", r->str);
	if (r)
		freeReplyObject(r);
	return buf;
}
