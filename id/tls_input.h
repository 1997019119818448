/*
 * tls_input.h - where ppscan-tls gets its endpoints: a ppscan result file or stdin (CSV with a
 * header line, or NDJSON; detected from the first character), or a scan's Redis results stream
 * read with a consumer group (tls_redis.h). One small ops struct so the engine does not care.
 */
#ifndef PPS_TLS_INPUT_H
#define PPS_TLS_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** One open port to identify. */
struct tls_target {
	uint32_t ip_h; /* IPv4 address, host order */
	uint16_t port_h;
	char id[40]; /* Redis stream entry id ("1700000000000-0"), "" for file input */
};

#define TLS_INPUT_EOF (-1000) /* read(): no more targets, ever */

/** An input behind a struct of callbacks (ZMap's module shape). */
struct tls_input {
	/** fd to wait on with EPOLLIN before read(), or -1: read() may be called at any time. */
	int (*fd)(struct tls_input *in);
	/**
	 * read - up to @max targets into @out. @block_ms: how long it may wait for new ones when
	 * none is ready (0 = not at all). Returns the count (0 = none yet), TLS_INPUT_EOF, or
	 * -errno after printing one line naming the problem.
	 */
	int (*read)(struct tls_input *in, struct tls_target *out, int max, int block_ms);
	/** done - the record of @t was written (Redis: XACK); may be NULL. Returns 0 or -errno. */
	int (*done)(struct tls_input *in, const struct tls_target *t);
	/** close - frees the input. */
	void (*close)(struct tls_input *in);
	unsigned long long skipped;  /* lines or entries not usable (malformed) */
	unsigned long long not_open; /* closed ports (rst, status closed) */
};

/**
 * tls_input_open_file - reads @path (NULL or "-" = stdin). Pipes and terminals are read
 * non-blocking (fd() returns them for epoll); regular files are read as needed. Only open
 * ports (classification synack or status open, when the input has that field) are returned.
 * Returns NULL with errno set if the file cannot be opened.
 */
struct tls_input *tls_input_open_file(const char *path);

/**
 * tls_parse_line - parses one line of input in the format the header established. Exposed
 * for tests. @st carries the format between calls; zero it before the first line.
 * Returns 1 (@t filled), 0 (header or blank line), 2 (a port that is not open: rst, closed),
 * or -EINVAL with a reason in @why. A CSV needs a header naming saddr (or ip) and sport (or
 * port); classification (synack) or status (open) are optional. NDJSON objects use the same
 * names.
 */
struct tls_line_state {
	int format; /* 0 unknown yet, 1 CSV, 2 NDJSON */
	int col_ip, col_port, col_class, n_cols;
};
int tls_parse_line(struct tls_line_state *st, char *line, struct tls_target *t, char *why,
		   size_t whylen);

#endif /* PPS_TLS_INPUT_H */
