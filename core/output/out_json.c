/* NDJSON sink: one JSON object a line, built and escaped by jansson (ZMap's json module). */
#include <errno.h>
#include <jansson.h>

#include "../pps_targets.h"
#include "pps_output.h"

static json_t *json_value(const struct pps_value *v)
{
	char ip[16];

	switch (v->kind) {
	case PPS_VAL_UINT: return json_integer((json_int_t)v->u);
	case PPS_VAL_BOOL: return json_boolean(v->u);
	case PPS_VAL_IPV4: pps_format_ipv4((uint32_t)v->u, ip); return json_string(ip);
	case PPS_VAL_STR: return json_stringn(v->s, v->len);
	}
	return NULL;
}

static int json_write(struct pps_output *o, const struct pps_result *r)
{
	json_t *obj = json_object();
	char scratch[PPS_VALUE_SCRATCH];
	int rc = 0;

	if (!obj)
		return -ENOMEM;
	for (unsigned i = 0; i < o->sel.n; i++) {
		struct pps_value v;
		json_t *j;

		pps_fields_get(&o->sel, i, r, &v, scratch);
		j = json_value(&v);
		if (!j || json_object_set_new(obj, o->sel.name[i], j)) {
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
