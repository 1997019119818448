/*
 * CSV sink: a header line with the field names, then one line per result (ZMap's csv
 * module). Text values holding a comma, a quote, CR or LF are quoted as RFC 4180 says.
 */
#include <errno.h>
#include <string.h>

#include "pps_output.h"

static int csv_open(struct pps_output *o)
{
	/* appending to a non-empty file (a resumed scan): the header is there already */
	if (o->owns_fp && fseek(o->fp, 0, SEEK_END) == 0 && ftell(o->fp) > 0)
		return 0;
	for (unsigned i = 0; i < o->sel.n; i++)
		fprintf(o->fp, "%s%s", i ? "," : "", o->sel.name[i]);
	return fputc('\n', o->fp) == EOF ? (errno ? -errno : -EIO) : 0;
}

/* RFC 4180: "text", an inner quote doubled. */
static void put_quoted(FILE *fp, const char *s, size_t len)
{
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', fp);
		fputc(s[i], fp);
	}
	fputc('"', fp);
}

static int csv_write(struct pps_output *o, const struct pps_result *r)
{
	char scratch[PPS_VALUE_SCRATCH], num[24];

	for (unsigned i = 0; i < o->sel.n; i++) {
		struct pps_value v;
		const char *t;
		size_t len;

		if (i)
			fputc(',', o->fp);
		pps_fields_get(&o->sel, i, r, &v, scratch);
		t = pps_value_text(&v, num, &len);
		if (v.kind == PPS_VAL_STR && len != strcspn(t, ",\"\r\n"))
			put_quoted(o->fp, t, len);
		else
			fwrite(t, 1, len, o->fp);
	}
	return fputc('\n', o->fp) == EOF ? (errno ? -errno : -EIO) : 0;
}

const struct pps_output_ops pps_output_csv = {
	.name = "csv",
	.open = csv_open,
	.write = csv_write,
	.close = NULL,
};
