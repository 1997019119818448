/* NDJSON sink: one JSON object a line, built and escaped by jansson (ZMap's json module). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "../pps_targets.h"
#include "pps_output.h"

static int json_write(struct pps_output *o, const struct pps_result *r)
{
	json_t *obj = json_object();
	char ip[16], ts[40];
	int rc = 0;

	if (!obj)
		return -ENOMEM;
	for (int i = 0; i < o->n_fields; i++) {
		const char *k = pps_field_name(o->fields[i]);
		json_t *v = NULL;

		switch (o->fields[i]) {
		case PPS_F_SADDR:
			pps_format_ipv4(r->saddr_h, ip);
			v = json_string(ip);
			break;
		case PPS_F_DADDR:
			pps_format_ipv4(r->daddr_h, ip);
			v = json_string(ip);
			break;
		case PPS_F_SPORT: v = json_integer(r->sport_h); break;
		case PPS_F_DPORT: v = json_integer(r->dport_h); break;
		case PPS_F_SEQNUM: v = json_integer(r->seq_h); break;
		case PPS_F_ACKNUM: v = json_integer(r->ack_h); break;
		case PPS_F_WINDOW: v = json_integer(r->window_h); break;
		case PPS_F_TTL: v = json_integer(r->ttl); break;
		case PPS_F_IPID: v = json_integer(r->ipid_h); break;
		case PPS_F_CLASSIFICATION: v = json_string(pps_class_name(r->classification)); break;
		case PPS_F_SUCCESS: v = json_boolean(r->classification == PPS_CLASS_SYNACK); break;
		case PPS_F_COOLDOWN: v = json_boolean(r->cooldown); break;
		case PPS_F_TIMESTAMP_STR:
			pps_output_format_timestamp(r->ts_ns, ts, sizeof(ts));
			v = json_string(ts);
			break;
		case PPS_F_TIMESTAMP_TS: v = json_integer((json_int_t)(r->ts_ns / 1000000000ULL)); break;
		case PPS_F_TIMESTAMP_US:
			v = json_integer((json_int_t)((r->ts_ns % 1000000000ULL) / 1000ULL));
			break;
		}
		if (!v || json_object_set_new(obj, k, v)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (json_dumpf(obj, o->fp, JSON_COMPACT | JSON_PRESERVE_ORDER) || fputc('\n', o->fp) == EOF)
		rc = -EIO;
out:
	json_decref(obj);
	return rc;
}

const struct pps_output_ops pps_output_json = {
	.name = "json",
	.open = NULL,
	.write = json_write,
	.close = NULL,
};
