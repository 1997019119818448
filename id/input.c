/*
 * File and stdin input: ppscan's CSV (header line first) or NDJSON, told apart by the first
 * character of the first line ('{' = NDJSON). Lines are split from a fixed buffer, so a pipe
 * can be read non-blocking while handshakes are in flight and a half line waits for its rest.
 */
#include "tls_input.h"

#include "tls_config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pps_targets.h"

#define LINE_MAX_BYTES 8192
#define MAX_WARNINGS 10

struct file_input {
	struct tls_input in;
	int fd;
	int pollable; /* pipe, socket or terminal: non-blocking, waited on with epoll */
	int eof;
	int discard;  /* dropping the rest of an over-long line */
	int fl_saved; /* file status flags to restore (stdin is shared with the parent) */
	const char *name;
	struct tls_line_state st;
	unsigned long lineno;
	size_t len; /* bytes in buf */
	char buf[LINE_MAX_BYTES * 2];
};

/* Splits a CSV line in place; returns the number of fields (at most @max). */
static int split_csv(char *line, char **f, int max)
{
	int n = 0;
	char *r = line, *w = line;

	for (;;) {
		if (n < max)
			f[n] = w;
		n++;
		if (*r == '"') { /* RFC 4180 quoting ("" is a quote), as ppscan's CSV writes it */
			for (r++; *r; r++) {
				if (*r == '"' && r[1] != '"')
					break;
				if (*r == '"')
					r++;
				*w++ = *r;
			}
			if (*r == '"')
				r++;
		}
		while (*r && *r != ',')
			*w++ = *r++;
		if (!*r) {
			*w = '\0';
			break;
		}
		*w++ = '\0';
		r++;
	}
	return n < max ? n : max;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int tls_scan_entry(const char *cls, const char *protocol, struct tls_target *t)
{
	static const char *const follow_up[] = { "data", "no_data", "fin", "rst_on_data" };

	t->scan_class[0] = t->scan_protocol[0] = '\0';
	if (!cls)
		return TLS_SCAN_USE;
	if (!strcmp(cls, "synack"))
		return protocol ? TLS_SCAN_AWAIT : TLS_SCAN_USE;
	if (!strcmp(cls, "open"))
		return TLS_SCAN_USE;
	for (size_t i = 0; i < sizeof(follow_up) / sizeof(follow_up[0]); i++)
		if (!strcmp(cls, follow_up[i])) {
			snprintf(t->scan_class, sizeof(t->scan_class), "%s", cls);
			if (protocol && !strcmp(cls, "data"))
				snprintf(t->scan_protocol, sizeof(t->scan_protocol), "%s", protocol);
			return TLS_SCAN_USE;
		}
	return TLS_SCAN_NOT_OPEN;
}

static int header(struct tls_line_state *st, char *line, char *why, size_t whylen)
{
	char *f[64];
	int n = split_csv(line, f, 64);

	st->col_ip = st->col_port = st->col_class = st->col_proto = -1;
	for (int i = 0; i < n; i++) {
		if (!strcmp(f[i], "saddr") || !strcmp(f[i], "ip"))
			st->col_ip = i;
		else if (!strcmp(f[i], "sport") || !strcmp(f[i], "port"))
			st->col_port = i;
		else if (!strcmp(f[i], "classification") ||
			 (!strcmp(f[i], "status") && st->col_class < 0))
			st->col_class = i;
		else if (!strcmp(f[i], "protocol"))
			st->col_proto = i;
	}
	st->n_cols = n;
	if (st->col_ip < 0 || st->col_port < 0) {
		snprintf(why, whylen,
			 "not a ppscan CSV header (needs saddr and sport columns) nor NDJSON");
		return -EINVAL;
	}
	st->format = 1;
	return 0;
}

static int parse_json(char *line, struct tls_target *t, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr), *ip, *port, *cls, *proto;
	int rc = 1;

	if (!o || !json_is_object(o)) {
		snprintf(why, whylen, "not a JSON object (%s)", o ? "not an object" : jerr.text);
		json_decref(o);
		return -EINVAL;
	}
	ip = json_object_get(o, "saddr");
	if (!ip)
		ip = json_object_get(o, "ip");
	port = json_object_get(o, "sport");
	if (!port)
		port = json_object_get(o, "port");
	cls = json_object_get(o, "classification");
	if (!cls)
		cls = json_object_get(o, "status");
	if (!json_is_string(ip) || pps_parse_ipv4(json_string_value(ip), &t->ip_h)) {
		snprintf(why, whylen, "no IPv4 address in saddr or ip");
		rc = -EINVAL;
	} else if (json_is_integer(port) && json_integer_value(port) >= 1 &&
		   json_integer_value(port) <= 65535) {
		t->port_h = (uint16_t)json_integer_value(port);
	} else if (!json_is_string(port) || parse_port(json_string_value(port), &t->port_h)) {
		snprintf(why, whylen, "no port 1-65535 in sport or port");
		rc = -EINVAL;
	}
	proto = json_object_get(o, "protocol");
	if (rc == 1 && cls && !json_is_string(cls))
		rc = TLS_SCAN_NOT_OPEN;
	else if (rc == 1)
		rc = tls_scan_entry(cls ? json_string_value(cls) : NULL,
				    json_is_string(proto) ? json_string_value(proto) : NULL, t);
	json_decref(o);
	return rc;
}

int tls_parse_line(struct tls_line_state *st, char *line, struct tls_target *t, char *why,
		   size_t whylen)
{
	char *f[64];
	int n;

	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0])
		return 0;
	t->id[0] = '\0';
	if (st->format == 0) {
		if (line[0] == '{') {
			st->format = 2;
		} else {
			int rc = header(st, line, why, whylen);
			return rc ? rc : 0;
		}
	}
	if (st->format == 2)
		return parse_json(line, t, why, whylen);
	n = split_csv(line, f, 64);
	if (n != st->n_cols) {
		snprintf(why, whylen, "%d fields, the header has %d", n, st->n_cols);
		return -EINVAL;
	}
	if (pps_parse_ipv4(f[st->col_ip], &t->ip_h)) {
		snprintf(why, whylen, "bad address '%.40s'", f[st->col_ip]);
		return -EINVAL;
	}
	if (parse_port(f[st->col_port], &t->port_h)) {
		snprintf(why, whylen, "bad port '%.20s'", f[st->col_port]);
		return -EINVAL;
	}
	return tls_scan_entry(st->col_class >= 0 ? f[st->col_class] : NULL,
			      st->col_proto >= 0 ? f[st->col_proto] : NULL, t);
}

static int file_fd(struct tls_input *in)
{
	struct file_input *fi = (struct file_input *)in;

	return fi->pollable && !fi->eof ? fi->fd : -1;
}

/* Handles one complete line; returns 1 if @t was filled, 0 if not, -EINVAL on a bad header. */
static int take_line(struct file_input *fi, char *line, struct tls_target *t)
{
	char why[160];
	int rc;

	fi->lineno++;
	rc = tls_parse_line(&fi->st, line, t, why, sizeof(why));
	if (rc == -EINVAL && fi->st.format == 0) {
		fprintf(stderr, "%s: %s:%lu: %s\n", tls_prog_name, fi->name, fi->lineno, why);
		return -EINVAL;
	}
	if (rc == -EINVAL) {
		if (fi->in.skipped++ < MAX_WARNINGS)
			fprintf(stderr, "%s: %s:%lu: %s; line skipped%s\n", tls_prog_name, fi->name,
				fi->lineno, why,
				fi->in.skipped == MAX_WARNINGS ? " (further bad lines not shown)"
							       : "");
		return 0;
	}
	if (rc == TLS_SCAN_NOT_OPEN) {
		fi->in.not_open++;
		return 0;
	}
	if (rc == TLS_SCAN_AWAIT) {
		fi->in.awaited++;
		return 0;
	}
	return rc == TLS_SCAN_USE;
}

static int file_read(struct tls_input *in, struct tls_target *out, int max, int block_ms)
{
	struct file_input *fi = (struct file_input *)in;
	int n = 0;

	(void)block_ms; /* pipes are waited on with epoll, regular files never wait */
	while (n < max) {
		char *nl = memchr(fi->buf, '\n', fi->len);

		if (nl || (fi->eof && fi->len)) {
			size_t used = nl ? (size_t)(nl - fi->buf) + 1 : fi->len;
			int rc;

			if (nl)
				*nl = '\0';
			else
				fi->buf[fi->len] = '\0'; /* last line without a newline */
			if (fi->discard) {		 /* the tail of an over-long line */
				fi->discard = 0;
				rc = 0;
			} else {
				rc = take_line(fi, fi->buf, &out[n]);
			}
			memmove(fi->buf, fi->buf + used, fi->len - used);
			fi->len -= used;
			if (rc < 0)
				return rc;
			n += rc;
			continue;
		}
		if (fi->eof)
			return n ? n : TLS_INPUT_EOF;
		if (fi->len >= LINE_MAX_BYTES) {
			/* an over-long line: dropped up to its newline */
			if (!fi->discard && fi->in.skipped++ < MAX_WARNINGS)
				fprintf(stderr, "%s: %s:%lu: line longer than %d bytes; skipped\n",
					tls_prog_name, fi->name, fi->lineno + 1, LINE_MAX_BYTES);
			if (!fi->discard)
				fi->lineno++;
			fi->discard = 1;
			fi->len = 0;
			continue;
		}
		ssize_t r = read(fi->fd, fi->buf + fi->len, sizeof(fi->buf) - 1 - fi->len);
		if (r > 0) {
			fi->len += (size_t)r;
		} else if (r == 0) {
			fi->eof = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return n;
		} else if (errno != EINTR) {
			int e = errno;
			fprintf(stderr, "%s: cannot read %s: %s\n", tls_prog_name, fi->name,
				strerror(e));
			return -e;
		}
	}
	return n;
}

static void file_close(struct tls_input *in)
{
	struct file_input *fi = (struct file_input *)in;

	if (fi->pollable)
		fcntl(fi->fd, F_SETFL, fi->fl_saved);
	if (fi->fd > 0)
		close(fi->fd);
	free(fi);
}

/* Pipes, sockets and terminals can be waited on; /dev/null and other devices cannot (EPERM). */
static int epollable(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), ok;

	if (ep < 0)
		return 0;
	ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	close(ep);
	return ok;
}

struct tls_input *tls_input_open_file(const char *path)
{
	struct file_input *fi = calloc(1, sizeof(*fi));
	struct stat sb;

	if (!fi)
		return NULL;
	if (!path || !strcmp(path, "-")) {
		fi->fd = 0;
		fi->name = "stdin";
	} else {
		fi->fd = open(path, O_RDONLY | O_CLOEXEC);
		fi->name = path;
	}
	if (fi->fd < 0 || fstat(fi->fd, &sb) || S_ISDIR(sb.st_mode)) {
		int e = fi->fd >= 0 && S_ISDIR(sb.st_mode) ? EISDIR : errno;
		if (fi->fd > 0)
			close(fi->fd);
		free(fi);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode) && epollable(fi->fd)) {
		fi->pollable = 1;
		fi->fl_saved = fcntl(fi->fd, F_GETFL);
		fcntl(fi->fd, F_SETFL, fi->fl_saved | O_NONBLOCK);
	}
	fi->in.fd = file_fd;
	fi->in.read = file_read;
	fi->in.done = NULL;
	fi->in.close = file_close;
	return &fi->in;
}
