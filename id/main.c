/*
 * ppscan-id (and ppscan-tls): the second stage. Takes the open ports of a ppscan result (file,
 * stdin, or the scan's Redis stream) and writes one NDJSON record per endpoint (and, with
 * --redis, to a stream of the scan). One source, two programs, told apart by argv[0]:
 *   ppscan-id   names protocol, product and version (id_engine.h), stream {prefix}:{scan}:services
 *   ppscan-tls  the TLS stage as it was (tls_engine.h), stream {prefix}:{scan}:tls
 * Exit codes: 0 done, 1 a runtime failure (Redis, output, memory), 2 bad input (options,
 * input format, unreachable Redis at start).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/pps_redis_url.h"
#include "id_engine.h"
#include "id_module.h"
#include "tls_config.h"
#include "tls_engine.h"
#include "tls_input.h"
#ifdef PPS_HAVE_HIREDIS
#include "tls_redis.h"
#endif

struct sink {
	int id; /* ppscan-id records (a protocol field in the stream) */
	FILE *fp;
	const char *path;
#ifdef PPS_HAVE_HIREDIS
	struct tls_redis *redis;
#endif
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	if (g_stop < 2)
		g_stop++;
}

static int write_record(void *ctx, const struct tls_target *t, json_t *rec)
{
	struct sink *s = ctx;
	char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	int rc = 0;

	(void)t;
	if (!line)
		return -ENOMEM;
	if (fputs(line, s->fp) == EOF || fputc('\n', s->fp) == EOF) {
		fprintf(stderr, "%s: cannot write %s: %s\n", tls_prog_name, s->path,
			strerror(errno));
		rc = -EIO;
	}
#ifdef PPS_HAVE_HIREDIS
	if (!rc && s->redis)
		rc = tls_redis_put(
			s->redis, t->ip_h, t->port_h,
			s->id ? json_string_value(json_object_get(rec, "protocol")) : NULL, line);
#endif
	free(line);
	return rc;
}

static int flush_sink(void *ctx)
{
	struct sink *s = ctx;

	if (fflush(s->fp)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", tls_prog_name, s->path,
			strerror(errno));
		return -EIO;
	}
#ifdef PPS_HAVE_HIREDIS
	if (s->redis)
		return tls_redis_flush(s->redis);
#endif
	return 0;
}

static void summary(const struct tls_engine *e, const struct tls_input *in)
{
	struct tls_stats st;

	tls_engine_stats(e, &st);
	fprintf(stderr, "%s: %llu endpoints in %.2f s: %llu handshakes (%.1f/s), %llu connections",
		tls_prog_name, st.endpoints, st.elapsed_s, st.handshakes,
		st.elapsed_s > 0 ? (double)st.handshakes / st.elapsed_s : 0.0, st.connections);
	for (int c = 0; c < TLS_C_COUNT; c++)
		fprintf(stderr, ", %s %llu", tls_class_name(c), st.by_class[c]);
	fprintf(stderr,
		"; input: %llu not open, %llu malformed, %llu outside -p, %llu blocklisted\n",
		in->not_open, in->skipped, st.filtered, st.blocked);
}

static void id_summary(const struct id_engine *e, const struct tls_input *in)
{
	struct id_stats st;

	id_engine_stats(e, &st);
	fprintf(stderr,
		"ppscan-id: %llu endpoints in %.2f s (%.1f/s): %llu connections, %llu client-first handshakes, %llu TLS",
		st.endpoints, st.elapsed_s,
		st.elapsed_s > 0 ? (double)st.endpoints / st.elapsed_s : 0.0, st.connections,
		st.handshakes, st.tls_handshakes);
	for (int o = 0; o < ID_O_COUNT; o++)
		fprintf(stderr, ", %s %llu", id_outcome_name(o), st.by_outcome[o]);
	fprintf(stderr,
		", middlebox %llu; input: %llu not open, %llu malformed, %llu outside -p, %llu blocklisted, %llu --banners SYN-ACKs left for their follow-up\n",
		st.middlebox, in->not_open, in->skipped, st.filtered, st.blocked, in->awaited);
}

static void list_modules(void)
{
	size_t n;
	const struct id_module *const *m = id_modules(&n);

	for (size_t i = 0; i < n; i++) {
		printf("%-14s %-6s %s\n", m[i]->name,
		       m[i]->flags & ID_F_TLS ? "tls"
		       : m[i]->flags & ID_F_PROBE
			       ? (m[i]->flags & ID_F_GREETING ? "both" : "client")
			       : "server",
		       m[i]->summary);
	}
}

int main(int argc, char **argv)
{
	struct tls_config cfg;
	struct sink sink = { 0 };
	struct tls_input *in = NULL;
	struct tls_engine *e = NULL;
	struct id_engine *ie = NULL;
	struct sigaction sa;
	char why[512], url[512] = "";
	int rc, exit_code = 0;

	rc = tls_config_parse(&cfg, argc, argv, stderr);
	if (rc == TLS_PARSE_EXIT)
		return 0;
	if (rc != TLS_PARSE_OK)
		return 2;
	if (cfg.list_modules) {
		list_modules();
		tls_config_free(&cfg);
		return 0;
	}
	sink.id = cfg.id_mode;
	if (cfg.redis_url)
		pps_redis_url_mask(cfg.redis_url, url,
				   sizeof(url)); /* messages never show a password */
#ifndef PPS_HAVE_HIREDIS
	if (cfg.redis_url) {
		fprintf(stderr,
			"%s: '--redis %s': built without Redis support (install libhiredis-dev and rebuild)\n",
			tls_prog_name, url);
		tls_config_free(&cfg);
		return 2;
	}
#endif

	if (!cfg.output || !strcmp(cfg.output, "-")) {
		sink.fp = stdout;
		sink.path = "stdout";
	} else {
		sink.fp = fopen(cfg.output, "a");
		sink.path = cfg.output;
		if (!sink.fp) {
			fprintf(stderr, "%s: cannot open output '%s' (from -o): %s\n",
				tls_prog_name, cfg.output, strerror(errno));
			exit_code = 2;
			goto out;
		}
	}

#ifdef PPS_HAVE_HIREDIS
	if (cfg.redis_url) {
		sink.redis = tls_redis_open(cfg.redis_url, cfg.redis_prefix, cfg.scan_id,
					    cfg.id_mode ? "services" : "tls", why, sizeof(why));
		if (!sink.redis) {
			fprintf(stderr, "%s: Redis '%s' (from --redis): %s\n", tls_prog_name, url,
				why);
			exit_code = 2;
			goto out;
		}
		if (!cfg.input) {
			in = tls_redis_input(sink.redis, cfg.group, cfg.consumer,
					     cfg.follow_timeout_s, why, sizeof(why));
			if (!in) {
				fprintf(stderr, "%s: Redis '%s' (from --redis): %s\n",
					tls_prog_name, url, why);
				exit_code = 2;
				goto out;
			}
		}
	}
#endif
	if (!in) {
		in = tls_input_open_file(cfg.input);
		if (!in) {
			fprintf(stderr, "%s: cannot read input '%s' (from FILE): %s\n",
				tls_prog_name, cfg.input ? cfg.input : "-", strerror(errno));
			exit_code = 2;
			goto out;
		}
	}

	if (cfg.id_mode) {
		ie = id_engine_new(&cfg, why, sizeof(why));
		if (!ie) {
			fprintf(stderr, "%s: %s\n", tls_prog_name, why);
			/* a bad --fingerprints file or --ca-file is bad input */
			exit_code = cfg.ca_file || cfg.fingerprints_dir ? 2 : 1;
			goto out;
		}
#ifdef PPS_HAVE_HIREDIS
		if (sink.redis)
			id_engine_set_probed_ports(ie, tls_redis_probed_ports(sink.redis));
#endif
	} else if (!(e = tls_engine_new(&cfg, why, sizeof(why)))) {
		fprintf(stderr, "%s: %s\n", tls_prog_name, why);
		exit_code = cfg.ca_file ? 2 : 1; /* a bad --ca-file is bad input */
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ie)
		rc = id_engine_run(ie, in, write_record, flush_sink, &sink, &g_stop);
	else
		rc = tls_engine_run(e, in, write_record, flush_sink, &sink, &g_stop);
	if (rc == -EINVAL)
		exit_code = 2; /* the input is not a ppscan result (message printed) */
	else if (rc)
		exit_code = 1;
	if (flush_sink(&sink) && !exit_code)
		exit_code = 1;
	if (!cfg.quiet && exit_code != 2) {
		if (ie)
			id_summary(ie, in);
		else
			summary(e, in);
	}
out:
	tls_engine_free(e);
	id_engine_free(ie);
	if (in)
		in->close(in);
#ifdef PPS_HAVE_HIREDIS
	tls_redis_close(sink.redis);
#endif
	if (sink.fp && sink.fp != stdout && fclose(sink.fp) && !exit_code) {
		fprintf(stderr, "%s: cannot write %s: %s\n", tls_prog_name, sink.path,
			strerror(errno));
		exit_code = 1;
	}
	tls_config_free(&cfg);
	return exit_code;
}
