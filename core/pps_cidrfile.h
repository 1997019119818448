/*
 * pps_cidrfile.h - address list files: -w/--allowlist-file, -b/--blocklist-file and
 * -I/--list-of-ips-file. One address or CIDR block a line; '#' starts a comment (whole line
 * or trailing); blank lines, CRLF line ends, a last line without a newline and a leading
 * UTF-8 BOM are accepted; anything else is an error naming the file and line.
 */
#ifndef PPS_CIDRFILE_H
#define PPS_CIDRFILE_H

#include <stddef.h>

#include "pps_targets.h"

/**
 * pps_cidr_parse_buf - adds every entry of @len bytes at @buf to @t (not finalized).
 * @name is used in messages ("FILE:LINE: ..."). @single_only: accept only plain addresses
 * (-I lists). Returns 0, or -EINVAL / -ENOMEM with one message in @err.
 */
int pps_cidr_parse_buf(struct pps_targets *t, const char *buf, size_t len, const char *name,
		       int single_only, char *err, size_t errlen);

/**
 * pps_cidr_load_file - reads @path and adds its entries to @t as pps_cidr_parse_buf().
 * Returns 0, or -errno with a message naming the file in @err.
 */
int pps_cidr_load_file(struct pps_targets *t, const char *path, int single_only, char *err,
		       size_t errlen);

#endif /* PPS_CIDRFILE_H */
