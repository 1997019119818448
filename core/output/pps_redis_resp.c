/* RESP without allocation (pps_redis_resp.h). */
#include "pps_redis_resp.h"

#include <stdio.h>

size_t pps_resp_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

char *pps_resp_bulk(char *p, const char *s, size_t len)
{
	*p++ = '$';
	p += pps_resp_u64(p, len);
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, s, len);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The reader builds no objects: each reply is one of these markers. */
static char obj_status, obj_string, obj_int, obj_array, obj_nil, obj_error;

static void *obj_string_fn(const redisReadTask *t, char *s, size_t len)
{
	struct pps_resp_errors *e = t->privdata;

	if (t->type == REDIS_REPLY_ERROR) {
		if (!e->n++)
			snprintf(e->first, sizeof(e->first), "%.*s", (int)len, s);
		return &obj_error;
	}
	return t->type == REDIS_REPLY_STATUS ? &obj_status : &obj_string;
}

static void *obj_array_fn(const redisReadTask *t, int n)
{
	(void)t;
	(void)n;
	return &obj_array;
}

static void *obj_int_fn(const redisReadTask *t, long long v)
{
	(void)t;
	(void)v;
	return &obj_int;
}

static void *obj_nil_fn(const redisReadTask *t)
{
	(void)t;
	return &obj_nil;
}

static void obj_free_fn(void *o)
{
	(void)o;
}

static redisReplyObjectFunctions markers = {
	.createString = obj_string_fn,
	.createArray = obj_array_fn,
	.createInteger = obj_int_fn,
	.createNil = obj_nil_fn,
	.freeObject = obj_free_fn,
};

redisReader *pps_resp_reader_new(struct pps_resp_errors *e)
{
	redisReader *rd = redisReaderCreateWithFunctions(&markers);

	if (rd)
		rd->privdata = e; /* not redisReaderSetPrivdata(): it casts the pointer to int */
	return rd;
}

int pps_resp_is_array(const void *obj)
{
	return obj == &obj_array;
}
