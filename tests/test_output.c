/*
 * test_output.c - the csv and json sinks: header, field selection and order, value
 * formatting, closed results filtered unless asked for, JSON that parses back (jansson) to
 * the right values, and the timestamp format.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <unistd.h>

#include "output/pps_output.h"
#include "probe/pps_probe.h"
#include "unit_util.h"

#define ALL_FIELDS                                                                                 \
	"saddr,sport,daddr,dport,seqnum,acknum,window,ttl,ipid,classification,success,cooldown,"   \
	"timestamp_str,timestamp_ts,timestamp_us"

static char path[64];

static void setup(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/pps-test-output-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path); /* the sink creates it */
}

static void teardown(void)
{
	unlink(path);
}

TestSuite(output, .init = setup, .fini = teardown);

/* An open port on 198.18.0.5:80 answering 192.0.2.1:40000 at 2023-11-14T22:13:20.123456789Z */
static struct pps_result open_result(void)
{
	struct pps_result r = { 0 };

	r.saddr_h = 0xc6120005;
	r.daddr_h = 0xc0000201;
	r.sport_h = 80;
	r.dport_h = 40000;
	r.tcp.seq_h = 4294967295u;
	r.tcp.ack_h = 123456789;
	r.tcp.window_h = 65535;
	r.ttl = 57;
	r.ipid_h = 4660;
	r.classification = PPS_CLASS_SYNACK;
	r.cooldown = 1;
	r.ts_ns = 1700000000123456789ULL;
	return r;
}

static struct pps_result closed_result(void)
{
	struct pps_result r = open_result();

	r.saddr_h = 0xc6120006;
	r.sport_h = 443;
	r.tcp.seq_h = 0;
	r.tcp.window_h = 0;
	r.classification = PPS_CLASS_RST;
	r.cooldown = 0;
	r.ts_ns = 999;
	return r;
}

/* Runs a sink over @n results and returns the file's content (caller frees). */
static char *run(const char *format, const char *fields, int closed, const struct pps_result *r,
		 int n, unsigned long long *written)
{
	struct pps_output o;
	char why[128] = "", *text = NULL;
	size_t cap = 0;
	FILE *f;
	ssize_t got;

	cr_assert_eq(pps_output_open(&o, format, path, NULL, fields, closed, why, sizeof(why)), 0,
		     "%s", why);
	for (int i = 0; i < n; i++)
		cr_assert_eq(pps_output_write(&o, &r[i]), 0);
	cr_assert_eq(pps_output_flush(&o), 0);
	if (written)
		*written = o.written;
	cr_assert_eq(pps_output_close(&o), 0);
	cr_assert_null(o.fp);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	got = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (got < 0) {
		free(text);
		text = strdup("");
	}
	return text;
}

Test(output, csv_default_fields)
{
	struct pps_result r[2] = { open_result(), closed_result() };
	unsigned long long written;
	char *text = run("csv", "saddr,sport,classification", 0, r, 2, &written);

	cr_assert_str_eq(text, "saddr,sport,classification\n198.18.0.5,80,synack\n");
	cr_assert_eq(written, 1, "closed result skipped");
	free(text);
}

Test(output, csv_include_closed)
{
	struct pps_result r[2] = { open_result(), closed_result() };
	char *text = run("csv", "saddr,sport,classification", 1, r, 2, NULL);

	cr_assert_str_eq(text, "saddr,sport,classification\n198.18.0.5,80,synack\n"
			       "198.18.0.6,443,rst\n");
	free(text);
}

Test(output, csv_all_fields)
{
	struct pps_result r[2] = { open_result(), closed_result() };
	char *text = run("csv", ALL_FIELDS, 1, r, 2, NULL);

	cr_assert_str_eq(text, ALL_FIELDS
			 "\n"
			 "198.18.0.5,80,192.0.2.1,40000,4294967295,123456789,65535,57,4660,"
			 "synack,1,1,2023-11-14T22:13:20.123456Z,1700000000,123456\n"
			 "198.18.0.6,443,192.0.2.1,40000,0,123456789,0,57,4660,rst,0,0,"
			 "1970-01-01T00:00:00.000000Z,0,0\n");
	free(text);
}

Test(output, csv_field_order_follows_spec)
{
	struct pps_result r = open_result();
	char *text = run("csv", "sport,ttl,saddr", 0, &r, 1, NULL);

	cr_assert_str_eq(text, "sport,ttl,saddr\n80,57,198.18.0.5\n");
	free(text);
}

Test(output, json_lines_parse_back)
{
	struct pps_result r[3] = { open_result(), closed_result(), open_result() };
	char *text, *line, *save = NULL;
	int n = 0;

	r[2].saddr_h = 0xffffffff;
	r[2].sport_h = 65535;
	text = run("json", ALL_FIELDS, 1, r, 3, NULL);
	cr_assert_eq(strncmp(text, "{\"saddr\":", 9), 0, "no header, fields in order: %s", text);
	cr_assert_eq(ut_count_lines(text), 3);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		char ip[16];

		cr_assert_not_null(o, "line %d: %s: %s", n, err.text, line);
		cr_assert(json_is_object(o));
		cr_assert_eq(json_object_size(o), 15);
		pps_format_ipv4(r[n].saddr_h, ip);
		cr_assert_str_eq(json_string_value(json_object_get(o, "saddr")), ip);
		cr_assert_str_eq(json_string_value(json_object_get(o, "daddr")), "192.0.2.1");
		cr_assert_eq(json_integer_value(json_object_get(o, "sport")), r[n].sport_h);
		cr_assert_eq(json_integer_value(json_object_get(o, "dport")), 40000);
		cr_assert_eq(json_integer_value(json_object_get(o, "seqnum")), r[n].tcp.seq_h);
		cr_assert_eq(json_integer_value(json_object_get(o, "acknum")), 123456789);
		cr_assert_eq(json_integer_value(json_object_get(o, "window")), r[n].tcp.window_h);
		cr_assert_eq(json_integer_value(json_object_get(o, "ttl")), 57);
		cr_assert_eq(json_integer_value(json_object_get(o, "ipid")), 4660);
		cr_assert_str_eq(json_string_value(json_object_get(o, "classification")),
				 n == 1 ? "rst" : "synack");
		cr_assert(json_is_boolean(json_object_get(o, "success")));
		cr_assert_eq(json_is_true(json_object_get(o, "success")), n != 1);
		cr_assert(json_is_boolean(json_object_get(o, "cooldown")));
		cr_assert_eq(json_is_true(json_object_get(o, "cooldown")), n != 1);
		cr_assert_str_eq(json_string_value(json_object_get(o, "timestamp_str")),
				 n == 1 ? "1970-01-01T00:00:00.000000Z"
					: "2023-11-14T22:13:20.123456Z");
		cr_assert_eq(json_integer_value(json_object_get(o, "timestamp_ts")),
			     n == 1 ? 0 : 1700000000);
		cr_assert_eq(json_integer_value(json_object_get(o, "timestamp_us")),
			     n == 1 ? 0 : 123456);
		json_decref(o);
	}
	cr_assert_eq(n, 3);
	free(text);
}

Test(output, json_skips_closed_by_default)
{
	struct pps_result r[2] = { closed_result(), open_result() };
	char *text = run("json", "saddr,sport,classification", 0, r, 2, NULL);

	cr_assert_str_eq(text,
			 "{\"saddr\":\"198.18.0.5\",\"sport\":80,\"classification\":\"synack\"}\n");
	free(text);
}

Test(output, appends_to_existing_file)
{
	struct pps_result r = open_result();
	char *text;

	free(run("json", "sport", 0, &r, 1, NULL));
	text = run("json", "sport", 0, &r, 1, NULL);
	cr_assert_str_eq(text, "{\"sport\":80}\n{\"sport\":80}\n");
	free(text);
}

Test(output, stdout_sink)
{
	struct pps_output o;
	char why[128];

	cr_assert_eq(pps_output_open(&o, "json", "-", NULL, "saddr", 0, why, sizeof(why)), 0);
	cr_assert_eq(o.fp, stdout);
	cr_assert_eq(o.owns_fp, 0);
	cr_assert_eq(pps_output_close(&o), 0);
	cr_assert_eq(pps_output_open(&o, "json", NULL, NULL, "saddr", 0, why, sizeof(why)), 0);
	cr_assert_eq(o.fp, stdout);
	cr_assert_eq(pps_output_close(&o), 0);
	cr_assert_neq(fflush(stdout), EOF, "stdout still open");
	cr_assert_neq(fcntl(STDOUT_FILENO, F_GETFD), -1, "stdout still open");
}

Test(output, open_errors)
{
	struct pps_output o;
	char why[128];

	cr_assert_eq(pps_output_open(&o, "xml", path, NULL, "saddr", 0, why, sizeof(why)), -EINVAL);
	cr_assert_not_null(strstr(why, "'xml'"), "%s", why);
	cr_assert_eq(pps_output_open(&o, "csv", path, NULL, "saddr,bogus", 0, why, sizeof(why)),
		     -EINVAL);
	cr_assert_not_null(strstr(why, "'bogus'"), "%s", why);
	cr_assert_eq(pps_output_open(&o, "csv", "/nonexistent-dir/x.csv", NULL, "saddr", 0, why,
				     sizeof(why)),
		     -ENOENT);
	cr_assert_not_null(strstr(why, "/nonexistent-dir/x.csv"), "%s", why);
}

Test(output, check_fields)
{
	static const char *const bad[] = { "",	    "saddr,", ",saddr",	     "saddr,,sport",
					   "SADDR", "saddr ", "saddr,saddr", "timestamp" };
	struct pps_field_sel sel;
	char why[128];

	cr_assert_eq(pps_fields_select(NULL, "saddr", &sel, why, sizeof(why)), 0);
	cr_assert_eq(pps_fields_select(NULL, ALL_FIELDS, &sel, why, sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(pps_fields_select(NULL, bad[i], &sel, why, sizeof(why)), -EINVAL,
			     "'%s' accepted", bad[i]);
}

Test(output, field_names)
{
	static const char *const names[] = {
		"saddr",    "sport",	      "daddr",	       "dport",	       "seqnum",
		"acknum",   "window",	      "ttl",	       "ipid",	       "classification",
		"success",  "cooldown",	      "timestamp_str", "timestamp_ts", "timestamp_us",
		"status",   "timestamp_unix", "data",	       "data_text",    "data_len",
		"protocol", "product",	      "version",       "middlebox",
	};
	struct pps_result r = { 0 };
	struct pps_field_sel sel;
	char why[128];

	/* tcp_synscan's fields, in -f '*' order: ZMap's, the Redis stream's two, --banners' */
	cr_assert_eq(sizeof(names) / sizeof(names[0]), PPS_FIELDS_TCP_SYNSCAN_N);
	cr_assert_eq(pps_fields_select(NULL, "*", &sel, why, sizeof(why)), 0);
	cr_assert_eq(sel.n, PPS_FIELDS_TCP_SYNSCAN_N);
	for (unsigned f = 0; f < sel.n; f++)
		cr_assert_str_eq(sel.name[f], names[f]);
	r.classification = PPS_CLASS_SYNACK;
	cr_assert_str_eq(pps_result_class_name(&r), "synack");
	cr_assert_eq(pps_result_success(&r), 1);
	r.classification = PPS_CLASS_RST;
	cr_assert_str_eq(pps_result_class_name(&r), "rst");
	cr_assert_eq(pps_result_success(&r), 0);
	r.classification = 7;
	cr_assert_str_eq(pps_result_class_name(&r), "?");
	r.probe = PPS_PROBE_COUNT;
	cr_assert_str_eq(pps_result_class_name(&r), "?");
}

Test(output, timestamp_format)
{
	char buf[40];

	pps_output_format_timestamp(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
	pps_output_format_timestamp(1700000000123456789ULL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2023-11-14T22:13:20.123456Z");
	pps_output_format_timestamp(999, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z", "sub-microsecond truncated");
	pps_output_format_timestamp(1999, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.000001Z");
	pps_output_format_timestamp(951782400999999999ULL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2000-02-29T00:00:00.999999Z", "leap day");
	pps_output_format_timestamp(4102444799000001000ULL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2099-12-31T23:59:59.000001Z");
}
