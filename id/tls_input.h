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
	/* from a scan with --banners (tls_scan_entry()): its classification of the endpoint
	 * ("data", "no_data", "fin", "rst_on_data"; "" otherwise) and the protocol its first
	 * bytes named ("" if none), which the identification starts from */
	char scan_class[12];
	char scan_protocol[32];
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
	unsigned long long awaited;  /* --banners SYN-ACKs: their endpoint's follow-up is used */
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
	int col_ip, col_port, col_class, col_proto, n_cols;
};

/** What tls_scan_entry() makes of a scanner's record. */
enum tls_scan_verdict {
	TLS_SCAN_USE = 1,      /* an open endpoint: identify it (scan_class/scan_protocol set) */
	TLS_SCAN_NOT_OPEN = 2, /* closed (rst, status closed): skip */
	TLS_SCAN_AWAIT = 3,    /* a --banners SYN-ACK: the endpoint's follow-up record comes */
};

/**
 * tls_scan_entry - judges a ppscan record by its classification (or status) @cls (NULL if the
 * input has none) and, from a --banners scan, its protocol field @protocol (NULL when the
 * input has no such field: not a --banners scan). With --banners every open endpoint gets
 * two records, its SYN-ACK and then what the service did (data, no_data, fin, rst_on_data;
 * ppscan's README, "First bytes with the scan"): the second is used, carrying into @t what
 * the scanner learnt. Returns an enum tls_scan_verdict.
 */
int tls_scan_entry(const char *cls, const char *protocol, struct tls_target *t);
int tls_parse_line(struct tls_line_state *st, char *line, struct tls_target *t, char *why,
		   size_t whylen);

#endif /* PPS_TLS_INPUT_H */
