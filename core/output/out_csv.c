/* CSV sink: a header line with the field names, then one line per result (ZMap's csv module). */
#include <errno.h>
#include <inttypes.h>

#include "../pps_targets.h"
#include "pps_output.h"

static int csv_open(struct pps_output *o)
{
	/* appending to a non-empty file (a resumed scan): the header is there already */
	if (o->owns_fp && fseek(o->fp, 0, SEEK_END) == 0 && ftell(o->fp) > 0)
		return 0;
	for (int i = 0; i < o->n_fields; i++)
		fprintf(o->fp, "%s%s", i ? "," : "", pps_field_name(o->fields[i]));
	return fputc('\n', o->fp) == EOF ? (errno ? -errno : -EIO) : 0;
}

static int csv_write(struct pps_output *o, const struct pps_result *r)
{
	char ip[16], ts[40];

	for (int i = 0; i < o->n_fields; i++) {
		if (i)
			fputc(',', o->fp);
		switch (o->fields[i]) {
		case PPS_F_SADDR:
			pps_format_ipv4(r->saddr_h, ip);
			fputs(ip, o->fp);
			break;
		case PPS_F_DADDR:
			pps_format_ipv4(r->daddr_h, ip);
			fputs(ip, o->fp);
			break;
		case PPS_F_SPORT: fprintf(o->fp, "%u", r->sport_h); break;
		case PPS_F_DPORT: fprintf(o->fp, "%u", r->dport_h); break;
		case PPS_F_SEQNUM: fprintf(o->fp, "%" PRIu32, r->seq_h); break;
		case PPS_F_ACKNUM: fprintf(o->fp, "%" PRIu32, r->ack_h); break;
		case PPS_F_WINDOW: fprintf(o->fp, "%u", r->window_h); break;
		case PPS_F_TTL: fprintf(o->fp, "%u", r->ttl); break;
		case PPS_F_IPID: fprintf(o->fp, "%u", r->ipid_h); break;
		case PPS_F_CLASSIFICATION: fputs(pps_class_name(r->classification), o->fp); break;
		case PPS_F_SUCCESS: fputc(r->classification == PPS_CLASS_SYNACK ? '1' : '0', o->fp); break;
		case PPS_F_COOLDOWN: fputc(r->cooldown ? '1' : '0', o->fp); break;
		case PPS_F_TIMESTAMP_STR:
			pps_output_format_timestamp(r->ts_ns, ts, sizeof(ts));
			fputs(ts, o->fp);
			break;
		case PPS_F_TIMESTAMP_TS: fprintf(o->fp, "%" PRIu64, (uint64_t)(r->ts_ns / 1000000000ULL)); break;
		case PPS_F_TIMESTAMP_US:
			fprintf(o->fp, "%" PRIu64, (uint64_t)((r->ts_ns % 1000000000ULL) / 1000ULL));
			break;
		}
	}
	return fputc('\n', o->fp) == EOF ? (errno ? -errno : -EIO) : 0;
}

const struct pps_output_ops pps_output_csv = {
	.name = "csv",
	.open = csv_open,
	.write = csv_write,
	.close = NULL,
};
