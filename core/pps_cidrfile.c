#include "pps_cidrfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

int pps_cidr_parse_buf(struct pps_targets *t, const char *buf, size_t len, const char *name,
		       int single_only, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned long line = 0;

	if (len >= 3 && (unsigned char)buf[0] == 0xef && (unsigned char)buf[1] == 0xbb &&
	    (unsigned char)buf[2] == 0xbf)
		pos = 3;
	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;
		char item[64];
		struct pps_range r;
		size_t a = 0, b;

		line++;
		pos += l + (nl ? 1 : 0);
		if (memchr(s, '\0', l)) {
			snprintf(err, errlen, "%s:%lu: NUL byte in the file (not a text list?)",
				 name, line);
			return -EINVAL;
		}
		/* cut the comment, then trim blanks and a CR */
		const char *hash = memchr(s, '#', l);
		if (hash)
			l = (size_t)(hash - s);
		while (a < l && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
			a++;
		b = l;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
			b--;
		if (a == b)
			continue;
		if (b - a >= sizeof(item) ||
		    (memcpy(item, s + a, b - a), item[b - a] = '\0', pps_parse_cidr(item, &r)) ||
		    (single_only && strchr(item, '/'))) {
			snprintf(err, errlen, "%s:%lu: '%.*s' is not %s", name, line,
				 (int)(b - a > 40 ? 40 : b - a), s + a,
				 single_only ? "an IPv4 address" : "an IPv4 address or CIDR block");
			return -EINVAL;
		}
		if (pps_targets_add(t, r.first_h, r.last_h)) {
			snprintf(err, errlen, "%s:%lu: out of memory", name, line);
			return -ENOMEM;
		}
	}
	return 0;
}

int pps_cidr_load_file(struct pps_targets *t, const char *path, int single_only, char *err,
		       size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map;
	int rc;

	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		/* pipes, /dev/null and empty files: read them the slow way */
		size_t cap = 0, n = 0;
		char *buf = NULL;
		ssize_t k;

		do {
			if (n == cap) {
				char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
				if (!nb) {
					free(buf);
					close(fd);
					snprintf(err, errlen, "'%s': out of memory", path);
					return -ENOMEM;
				}
				buf = nb;
			}
			k = read(fd, buf + n, cap - n);
			if (k > 0)
				n += (size_t)k;
		} while (k > 0);
		rc = k < 0 ? -errno : 0;
		if (rc)
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-rc));
		else
			rc = pps_cidr_parse_buf(t, buf ? buf : "", n, path, single_only, err,
						errlen);
		free(buf);
		close(fd);
		return rc;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return rc;
	}
	rc = pps_cidr_parse_buf(t, map, (size_t)st.st_size, path, single_only, err, errlen);
	munmap(map, (size_t)st.st_size);
	return rc;
}
