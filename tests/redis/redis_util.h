/*
 * redis_util.h - private redis-server instances for the Redis suites: each on a unix socket
 * in its own temp dir (no TCP port), optionally with an AOF that survives kill -9, so a
 * test can kill and restart "its" Redis without touching anyone else's.
 */
#ifndef PPS_REDIS_UTIL_H
#define PPS_REDIS_UTIL_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "lab_util.h"

struct rt_redis {
	char dir[64];	 /* temp dir: socket, AOF, log, pid file */
	char sock[128];	 /* socket path */
	char url[160];	 /* unix://SOCK (without password) */
	char extra[256]; /* extra redis-server arguments, kept for restarts */
};

/**
 * rt_redis_start - starts redis-server in a new temp dir with @extra arguments (e.g.
 * "--appendonly yes --appendfsync always" or "--requirepass s3cret") and waits until it
 * answers (5 s). Returns 0, or -1.
 */
int rt_redis_start(struct rt_redis *r, const char *extra);

/** rt_redis_restart - starts it again on the same socket and dir (AOF reloaded). */
int rt_redis_restart(struct rt_redis *r);

/** rt_redis_kill - kill -9, waits until the process is gone. */
void rt_redis_kill(struct rt_redis *r);

/** rt_redis_stop - shuts it down and removes its dir. */
void rt_redis_stop(struct rt_redis *r);

/** rt_connect - a blocking hiredis connection to @sock (AUTH @password if not NULL). */
redisContext *rt_connect(const char *sock, const char *password);

/**
 * rt_stream_set - reads every entry of stream @key into @s as sorted "ip,port,status"
 * lines, duplicates kept (compare with rt_distinct()). Returns the entry count, or -1.
 */
long rt_stream_set(redisContext *c, const char *key, struct lab_set *s);

/** rt_distinct - number of distinct lines in the sorted set @s. */
size_t rt_distinct(const struct lab_set *s);

/** rt_hget - HGET @key @field into @buf ("" if absent). Returns @buf. */
char *rt_hget(redisContext *c, const char *key, const char *field, char *buf, size_t len);

#endif
