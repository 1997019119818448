/*
 * Option documentation: one writer of --help and one of the --list-options JSON for every
 * binary's option table (pps_optdoc.h).
 */
#include "pps_optdoc.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

void pps_optdoc_usage(FILE *out, const struct pps_optdoc_prog *pg, const struct pps_optdoc *o,
		      size_t n)
{
	fprintf(out, "%s - %s\n", pg->prog, pg->summary);
	for (int i = 0; i < 3 && pg->usage[i]; i++)
		fprintf(out, "%s %s %s\n", i ? "      " : "usage:", pg->prog, pg->usage[i]);
	fprintf(out, "%s\n\noptions:\n", pg->description);
	for (size_t i = 0; i < n; i++) {
		char left[64];

		if (o[i].letter)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o[i].letter, o[i].name,
				 o[i].arg ? " " : "", o[i].arg ? o[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o[i].name, o[i].arg ? " " : "",
				 o[i].arg ? o[i].arg : "");
		fprintf(out, "  %-32s %s\n", left, o[i].help);
	}
}

int pps_optdoc_json(FILE *out, const struct pps_optdoc_prog *pg, const struct pps_optdoc *o,
		    size_t n)
{
	json_t *root = json_object(), *usage = json_array(), *opts = json_array();
	int rc = -ENOMEM;

	if (!root || !usage || !opts)
		goto out;
	for (int i = 0; i < 3 && pg->usage[i]; i++)
		json_array_append_new(usage, json_string(pg->usage[i]));
	for (size_t i = 0; i < n; i++) {
		char letter[2] = { (char)o[i].letter, 0 };
		json_t *values = o[i].values ? json_array() : json_null();
		json_t *e = json_pack("{s:s, s:o, s:o, s:s, s:o}", "long", o[i].name, "short",
				      o[i].letter ? json_string(letter) : json_null(), "arg",
				      o[i].arg ? json_string(o[i].arg) : json_null(), "help",
				      o[i].help, "values", values);

		if (!e)
			goto out;
		for (const char *const *v = o[i].values; v && *v; v++)
			json_array_append_new(values, json_string(*v));
		json_array_append_new(opts, e);
	}
	json_object_set_new(root, "prog", json_string(pg->prog));
	json_object_set_new(root, "version", json_string(pg->version));
	json_object_set_new(root, "summary", json_string(pg->summary));
	json_object_set(root, "usage", usage);
	json_object_set_new(root, "description", json_string(pg->description));
	json_object_set(root, "options", opts);
	rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER) || fputc('\n', out) == EOF
		     ? -EIO
		     : 0;
out:
	json_decref(usage);
	json_decref(opts);
	json_decref(root);
	return rc;
}
