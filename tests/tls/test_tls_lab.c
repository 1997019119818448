/*
 * ppscan-tls end to end in the lab (root). Each test brings up its own lab (PPS_LAB=ppst7t),
 * a client namespace with a kernel address (tls_lab.sh client-up: ppscan-tls uses the
 * kernel's TCP stack, the scanner namespace has none), a test CA with server certificates
 * of fixed names, dates and serials, and seven servers in the target namespace
 * (tls_lab.sh servers: TLS 1.3 only/RSA, TLS 1.2 only/ECDSA, expired, ALPN h2, all versions,
 * an SSH greeting, a port that accepts and stalls). Assertions are on exact values.
 * Every connection stays in 198.18.0.0/15; the lab blocklist (scripts/lab-blocklist.conf)
 * is passed so the default blocklist does not drop the lab itself.
 * The pipeline tests run the real scanner (ppscan, DPDK af_packet) in the scanner namespace:
 * its results go through a file, stdin, and a Redis stream that ppscan-tls follows while the
 * scan runs. Redis is a private redis-server on a unix socket in the test's directory.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lab/lab_util.h"

#define LAB "ppst7t"
#define NS_CLI LAB "-cli"
#define NS_SCAN LAB "-scan"
#define TLS_LAB PPS_SOURCE_DIR "/tests/tls/tls_lab.sh"
#define BLOCK "-b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf"
#define TLS PPSCAN_TLS_BIN " " BLOCK
#define EAL "--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1"

static char dir[] = "/tmp/ppscan-tls-lab-XXXXXX";
static int redis_up;

static void setup(void)
{
	cr_assert(geteuid() == 0, "the lab suite needs root");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lab_up(LAB), 0, "netlab.sh up failed");
	cr_assert_eq(lab_sh(TLS_LAB " certs %s", dir), 0, "certificates");
	cr_assert_eq(lab_sh(TLS_LAB " client-up " LAB), 0, "client namespace");
	cr_assert_eq(lab_sh(TLS_LAB " servers " LAB " %s", dir), 0, "servers");
}

static void teardown(void)
{
	lab_sh(TLS_LAB " stop %s", dir);
	if (redis_up)
		lab_sh("redis-cli -s %s/redis.sock shutdown nosave >/dev/null 2>&1", dir);
	lab_sh(TLS_LAB " client-down " LAB);
	lab_down(LAB);
	lab_sh("rm -rf %s", dir);
}

/* ---- helpers ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The standard output of a shell command, trailing newline removed (caller frees). */
static char *cap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cap(const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t len = 0;
	va_list ap;
	FILE *p, *m;
	int c;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	m = open_memstream(&out, &len);
	while ((c = fgetc(p)) != EOF)
		fputc(c, m);
	pclose(p);
	fclose(m);
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return out;
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Records of an NDJSON file as an object "ip:port" -> record; each endpoint at most once. */
static json_t *load(const char *name)
{
	char path[256], line[16384];
	json_t *all = json_object();
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "no output %s", path);
	while (fgets(line, sizeof(line), f)) {
		json_error_t e;
		json_t *r = json_loads(line, 0, &e);
		char key[32];

		cr_assert_not_null(r, "%s: not JSON (%s): %s", name, e.text, line);
		snprintf(key, sizeof(key), "%s:%lld",
			 json_string_value(json_object_get(r, "ip")),
			 (long long)json_integer_value(json_object_get(r, "port")));
		cr_assert_null(json_object_get(all, key), "%s recorded twice", key);
		json_object_set_new(all, key, r);
	}
	fclose(f);
	return all;
}

static json_t *rec(json_t *all, const char *key)
{
	json_t *r = json_object_get(all, key);

	cr_assert_not_null(r, "no record for %s", key);
	return r;
}

/* The value at a path ("cert/subject"; keys may hold dots), NULL if absent. */
static json_t *at(json_t *r, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, "/", &save); k && r; k = strtok_r(NULL, "/", &save))
		r = json_object_get(r, k);
	return r;
}

static const char *who(json_t *r)
{
	static char buf[40];

	snprintf(buf, sizeof(buf), "%s:%lld", json_string_value(json_object_get(r, "ip")),
		 (long long)json_integer_value(json_object_get(r, "port")));
	return buf;
}

static void expect_str(json_t *r, const char *path, const char *want)
{
	json_t *v = at(r, path);
	char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : strdup("(absent)");

	cr_expect(json_is_string(v) && !strcmp(json_string_value(v), want), "%s: %s is %s, expected \"%s\"",
		  who(r), path, got, want);
	free(got);
}

static void expect_int(json_t *r, const char *path, long long want)
{
	json_t *v = at(r, path);

	cr_expect(json_is_integer(v) && json_integer_value(v) == want, "%s: %s is not %lld",
		  who(r), path, want);
}

static void expect_null(json_t *r, const char *path)
{
	json_t *v = at(r, path);

	cr_expect(v && json_is_null(v), "%s: %s is not null", who(r), path);
}

static void expect_bool(json_t *r, const char *path, int want)
{
	json_t *v = at(r, path);

	cr_expect(json_is_boolean(v) && json_is_true(v) == !!want, "%s: %s is not %s", who(r), path,
		  want ? "true" : "false");
}

static void expect_absent(json_t *r, const char *path)
{
	cr_expect_null(at(r, path), "%s: %s present", who(r), path);
}

static void expect_san(json_t *r, const char *a, const char *b)
{
	json_t *san = at(r, "cert/san");

	cr_expect_eq(json_array_size(san), b ? 2u : 1u, "%s: SAN count", who(r));
	cr_expect_str_eq(json_string_value(json_array_get(san, 0)), a, "%s: SAN 0", who(r));
	if (b)
		cr_expect_str_eq(json_string_value(json_array_get(san, 1)), b, "%s: SAN 1", who(r));
}

static void expect_versions(json_t *r, int v10, int v11, int v12, int v13)
{
	expect_bool(r, "versions/TLSv1", v10);
	expect_bool(r, "versions/TLSv1.1", v11);
	expect_bool(r, "versions/TLSv1.2", v12);
	expect_bool(r, "versions/TLSv1.3", v13);
}

/* The SHA-256 fingerprint of DIR/name.crt as openssl prints it, lowercase, no colons. */
static char *fingerprint(const char *name)
{
	char *fp = cap("openssl x509 -in %s/%s.crt -noout -fingerprint -sha256 | cut -d= -f2 | "
		       "tr -d : | tr A-F a-f",
		       dir, name);

	cr_assert_eq(strlen(fp), 64, "fingerprint of %s: '%s'", name, fp);
	return fp;
}

/* A handshake that completed, with the common facts asserted. */
static void expect_handshake(json_t *r, const char *version, const char *cipher,
			     const char *cipher_openssl)
{
	json_t *hs = at(r, "handshake_ms");

	expect_str(r, "classification", "tls");
	expect_str(r, "tls_version", version);
	expect_str(r, "cipher", cipher);
	expect_str(r, "cipher_openssl", cipher_openssl);
	cr_expect(json_is_real(hs) && json_real_value(hs) > 0 && json_real_value(hs) < 3000,
		  "%s: handshake_ms", who(r));
	cr_expect(json_is_real(at(r, "connect_ms")), "%s: connect_ms", who(r));
	expect_absent(r, "error");
	expect_absent(r, "banner");
}

static void expect_tls13_cert(json_t *r, const char *fp)
{
	expect_str(r, "cert/subject", "CN=tls13.lab.test,O=ppscan lab,C=XX");
	expect_str(r, "cert/issuer", "CN=tls13.lab.test,O=ppscan lab,C=XX");
	expect_san(r, "DNS:tls13.lab.test", "IP:198.18.0.10");
	expect_str(r, "cert/not_before", "2025-01-01T00:00:00Z");
	expect_str(r, "cert/not_after", "2035-01-01T00:00:00Z");
	expect_str(r, "cert/serial", "1001");
	expect_str(r, "cert/key_type", "RSA");
	expect_int(r, "cert/key_bits", 2048);
	expect_null(r, "cert/curve");
	expect_str(r, "cert/signature_algorithm", "sha256WithRSAEncryption");
	expect_str(r, "cert/sha256", fp);
	expect_int(r, "chain_length", 1);
}

static void expect_tls12_cert(json_t *r, const char *fp)
{
	expect_str(r, "cert/subject", "CN=tls12.lab.test,O=ppscan lab");
	expect_str(r, "cert/issuer", "CN=ppscan lab CA,O=ppscan lab");
	expect_san(r, "DNS:tls12.lab.test", "DNS:www.tls12.lab.test");
	expect_str(r, "cert/not_before", "2025-02-01T00:00:00Z");
	expect_str(r, "cert/not_after", "2035-02-01T00:00:00Z");
	expect_str(r, "cert/serial", "2002");
	expect_str(r, "cert/key_type", "EC");
	expect_int(r, "cert/key_bits", 256);
	expect_str(r, "cert/curve", "prime256v1");
	expect_str(r, "cert/signature_algorithm", "sha256WithRSAEncryption");
	expect_str(r, "cert/sha256", fp);
	expect_int(r, "chain_length", 2);
}

static void expect_expired_cert(json_t *r, const char *fp)
{
	expect_str(r, "cert/subject", "CN=expired.lab.test");
	expect_str(r, "cert/issuer", "CN=ppscan lab CA,O=ppscan lab");
	expect_san(r, "DNS:expired.lab.test", NULL);
	expect_str(r, "cert/not_before", "2020-01-01T00:00:00Z");
	expect_str(r, "cert/not_after", "2021-01-01T00:00:00Z");
	expect_str(r, "cert/serial", "3003");
	expect_str(r, "cert/key_type", "RSA");
	expect_int(r, "cert/key_bits", 2048);
	expect_null(r, "cert/curve");
	expect_str(r, "cert/signature_algorithm", "sha256WithRSAEncryption");
	expect_str(r, "cert/sha256", fp);
	expect_int(r, "chain_length", 1);
}

static void expect_verify(json_t *r, int code, const char *error)
{
	expect_bool(r, "verify_ok", code == 0);
	expect_int(r, "verify_code", code);
	if (error)
		expect_str(r, "verify_error", error);
	else
		expect_null(r, "verify_error");
}

/* Runs ppscan-tls in the client namespace with @opts; returns its exit status. */
static int run_tls(const char *opts, const char *out, const char *in)
{
	return lab_sh("ip netns exec " NS_CLI " " TLS " %s -o %s/%s %s 2>>%s/tls.err", opts, dir,
		      out, in, dir);
}

#define CSV_TLS_SERVERS                   \
	"saddr,sport,classification\n"    \
	"198.18.0.10,8443,synack\n"       \
	"198.18.0.11,8443,synack\n"       \
	"198.18.0.12,8443,synack\n"       \
	"198.18.0.13,8443,synack\n"       \
	"198.18.0.16,8443,synack\n"

/* ---- identification ---- */

Test(lab, identifies_each_tls_server_against_the_system_store, .init = setup, .fini = teardown,
     .timeout = 180)
{
	char in[256];
	char *fp13 = NULL, *fp12 = NULL, *fpx = NULL;
	json_t *all, *r;
	int rc;

	write_file("servers.csv", CSV_TLS_SERVERS);
	snprintf(in, sizeof(in), "%s/servers.csv", dir);
	rc = run_tls("--versions -t 5", "out.json", in);
	cr_assert_eq(rc, 0, "ppscan-tls exited %d (stderr in %s/tls.err)", rc, dir);
	all = load("out.json");
	cr_assert_eq(json_object_size(all), 5, "%zu records, expected 5", json_object_size(all));
	fp13 = fingerprint("tls13");
	fp12 = fingerprint("tls12");
	fpx = fingerprint("expired");

	/* TLS 1.3 only, RSA-2048, self-signed: not in the system store */
	r = rec(all, "198.18.0.10:8443");
	expect_handshake(r, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384");
	expect_tls13_cert(r, fp13);
	expect_null(r, "alpn");
	expect_null(r, "sni");
	expect_null(r, "name_match");
	expect_verify(r, 18, "self-signed certificate");
	expect_versions(r, 0, 0, 0, 1);

	/* TLS 1.2 only, ECDSA P-256 under the test CA, which it sends along (chain of 2) */
	r = rec(all, "198.18.0.11:8443");
	expect_handshake(r, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
			 "ECDHE-ECDSA-AES256-GCM-SHA384");
	expect_tls12_cert(r, fp12);
	expect_null(r, "alpn");
	expect_verify(r, 19, "self-signed certificate in certificate chain");
	expect_versions(r, 0, 0, 1, 0);

	/* expired, under the test CA, which it does not send */
	r = rec(all, "198.18.0.12:8443");
	expect_handshake(r, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384");
	expect_expired_cert(r, fpx);
	expect_verify(r, 20, "unable to get local issuer certificate");
	expect_versions(r, 0, 0, 1, 1);

	/* ALPN: we offer h2,http/1.1 by default, the server picks h2 */
	r = rec(all, "198.18.0.13:8443");
	expect_handshake(r, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384");
	expect_str(r, "alpn", "h2");
	expect_tls13_cert(r, fp13);
	expect_versions(r, 0, 0, 1, 1);

	/* security level 0: the version probes find TLS 1.0 and 1.1 too */
	r = rec(all, "198.18.0.16:8443");
	expect_handshake(r, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384");
	expect_versions(r, 1, 1, 1, 1);

	cr_expect_eq(lab_sh("grep -q '5 endpoints' %s/tls.err", dir), 0, "summary");
	free(fp13);
	free(fp12);
	free(fpx);
	json_decref(all);
}

Test(lab, verifies_against_a_ca_file_checks_the_name_and_reports_alpn_refusal, .init = setup,
     .fini = teardown, .timeout = 180)
{
	char in[256], opts[512];
	json_t *all, *r;
	int rc;

	write_file("servers.csv", CSV_TLS_SERVERS);
	snprintf(in, sizeof(in), "%s/servers.csv", dir);
	snprintf(opts, sizeof(opts), "--ca-file %s/ca.crt --sni tls12.lab.test", dir);
	rc = run_tls(opts, "ca.json", in);
	cr_assert_eq(rc, 0, "ppscan-tls exited %d (stderr in %s/tls.err)", rc, dir);
	all = load("ca.json");
	cr_assert_eq(json_object_size(all), 5);

	r = rec(all, "198.18.0.11:8443");
	expect_handshake(r, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
			 "ECDHE-ECDSA-AES256-GCM-SHA384");
	expect_verify(r, 0, NULL);
	expect_str(r, "sni", "tls12.lab.test");
	expect_bool(r, "name_match", 1);
	expect_absent(r, "versions");

	r = rec(all, "198.18.0.12:8443");
	expect_verify(r, 10, "certificate has expired");
	expect_bool(r, "name_match", 0);
	expect_str(r, "sni", "tls12.lab.test");

	r = rec(all, "198.18.0.10:8443");
	expect_verify(r, 18, "self-signed certificate");
	expect_bool(r, "name_match", 0);
	json_decref(all);

	/* offering only http/1.1 to the h2 server: TLS 1.3 says no_application_protocol */
	rc = run_tls("--alpn http/1.1", "alpn.json", in);
	cr_assert_eq(rc, 0);
	all = load("alpn.json");
	r = rec(all, "198.18.0.13:8443");
	expect_str(r, "classification", "tls_error");
	expect_str(r, "stage", "handshake");
	expect_str(r, "error", "tlsv1 alert no application protocol");
	expect_absent(r, "tls_version");
	expect_absent(r, "cert");
	r = rec(all, "198.18.0.10:8443");
	expect_str(r, "classification", "tls");
	expect_null(r, "alpn");
	json_decref(all);
}

/* ---- ports that do not speak TLS ---- */

Test(lab, classifies_plaintext_stalls_and_refusals_and_never_calls_them_tls, .init = setup,
     .fini = teardown, .timeout = 180)
{
	char in[256];
	const char *keys[] = { "198.18.0.14:8022", "198.18.0.15:8444", "198.18.0.10:8081",
			       "198.18.0.20:80", "198.18.1.5:8443" };
	json_t *all, *r;
	double t0, took;
	int rc;

	/* ppscan's NDJSON; a closed port and a blocklisted address are never contacted */
	write_file("other.json",
		   "{\"saddr\":\"198.18.0.14\",\"sport\":8022,\"classification\":\"synack\"}\n"
		   "{\"saddr\":\"198.18.0.15\",\"sport\":8444,\"classification\":\"synack\"}\n"
		   "{\"saddr\":\"198.18.0.10\",\"sport\":8081,\"classification\":\"synack\"}\n"
		   "{\"saddr\":\"198.18.0.20\",\"sport\":80,\"classification\":\"synack\"}\n"
		   "{\"saddr\":\"198.18.1.5\",\"sport\":8443,\"classification\":\"synack\"}\n"
		   "{\"saddr\":\"198.18.0.10\",\"sport\":8443,\"classification\":\"rst\"}\n"
		   "{\"saddr\":\"10.1.2.3\",\"sport\":443,\"classification\":\"synack\"}\n");
	snprintf(in, sizeof(in), "%s/other.json", dir);
	t0 = now_s();
	rc = run_tls("-t 2 --connect-timeout 1 --versions", "other.out", in);
	took = now_s() - t0;
	cr_assert_eq(rc, 0, "ppscan-tls exited %d (stderr in %s/tls.err)", rc, dir);
	cr_expect(took >= 2.0 && took < 4.0, "run took %.2f s; the stall must end at --timeout 2",
		  took);
	all = load("other.out");
	cr_assert_eq(json_object_size(all), 5, "%zu records, expected 5", json_object_size(all));
	cr_expect_null(json_object_get(all, "10.1.2.3:443"), "a blocklisted address was contacted");
	cr_expect_null(json_object_get(all, "198.18.0.10:8443"), "a closed port was contacted");
	cr_expect_eq(lab_sh("grep -q '1 not open, 0 malformed, 0 outside -p, 1 blocklisted' %s/tls.err",
			    dir),
		     0, "summary counts");

	r = rec(all, "198.18.0.14:8022");
	expect_str(r, "classification", "plaintext");
	expect_str(r, "stage", "handshake");
	expect_str(r, "banner", "SSH-2.0-OpenSSH_9.2\r\n");
	expect_str(r, "banner_hex", "5353482d322e302d4f70656e5353485f392e320d0a");

	r = rec(all, "198.18.0.15:8444");
	expect_str(r, "classification", "timeout");
	expect_str(r, "stage", "handshake");
	expect_str(r, "error", "no handshake within 2 s (0 bytes received)");

	r = rec(all, "198.18.0.10:8081");
	expect_str(r, "classification", "refused");
	expect_str(r, "stage", "connect");
	expect_null(r, "connect_ms");

	/* the lab's own listener accepts and closes at once */
	r = rec(all, "198.18.0.20:80");
	expect_str(r, "classification", "closed");
	expect_str(r, "stage", "handshake");

	/* 198.18.1.0/24 drops everything: no connection */
	r = rec(all, "198.18.1.5:8443");
	expect_str(r, "classification", "timeout");
	expect_str(r, "stage", "connect");
	expect_str(r, "error", "no connection within 1 s");

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		r = rec(all, keys[i]);
		expect_absent(r, "tls_version");
		expect_absent(r, "cert");
		expect_absent(r, "handshake_ms");
		/* not TLS, so no version probe was made */
		expect_null(r, "versions/TLSv1.3");
	}
	json_decref(all);
}

/* ---- caps and pacing ---- */

/* Wall time of a ppscan-tls run with @opts over @lines (CSV body lines); asserts exit 0. */
static double timed_run(const char *opts, const char *lines)
{
	char text[2048], in[256];
	double t0;
	int rc;

	snprintf(text, sizeof(text), "saddr,sport\n%s", lines);
	write_file("caps.csv", text);
	snprintf(in, sizeof(in), "%s/caps.csv", dir);
	lab_sh("rm -f %s/caps.out", dir); /* -o appends */
	t0 = now_s();
	rc = run_tls(opts, "caps.out", in);
	cr_assert_eq(rc, 0, "ppscan-tls %s exited %d", opts, rc);
	return now_s() - t0;
}

Test(lab, caps_connections_per_address_and_in_total_and_paces_new_ones, .init = setup,
     .fini = teardown, .timeout = 180)
{
	const char *stall4 = "198.18.0.15,8444\n198.18.0.15,8444\n198.18.0.15,8444\n"
			     "198.18.0.15,8444\n";
	double t;

	/* four handshakes that each stall for --timeout 1: in parallel they take 1 s ... */
	t = timed_run("-t 1 --per-host 4", stall4);
	cr_expect(t >= 1.0 && t < 1.9, "--per-host 4: %.2f s, expected one wave of 1 s", t);
	/* ... two at a time 2 s, one at a time 4 s */
	t = timed_run("-t 1 --per-host 2", stall4);
	cr_expect(t >= 2.0 && t < 2.9, "--per-host 2: %.2f s, expected two waves of 1 s", t);
	t = timed_run("-t 1 --per-host 0 -c 1", stall4);
	cr_expect(t >= 4.0 && t < 4.9, "-c 1: %.2f s, expected four waves of 1 s", t);
	/* 11 refused connections at 10 a second: the last starts 1 s after the first */
	t = timed_run("-r 10",
		      "198.18.0.10,9001\n198.18.0.10,9002\n198.18.0.10,9003\n198.18.0.10,9004\n"
		      "198.18.0.10,9005\n198.18.0.10,9006\n198.18.0.10,9007\n198.18.0.10,9008\n"
		      "198.18.0.10,9009\n198.18.0.10,9010\n198.18.0.10,9011\n");
	cr_expect(t >= 0.95 && t < 1.6, "-r 10: 11 connections in %.2f s, expected 1 s", t);
	cr_expect_eq(lab_sh("test $(grep -c '\"refused\"' %s/caps.out) -eq 11", dir), 0);
}

/* ---- pipelines with the scanner ---- */

#define SCAN_ARGS                                                                           \
	BLOCK " -S 198.19.0.2 --gateway-ip 198.19.0.1 -p 8022,8443,8444 -q --seed 7"

/* What the scan of 198.18.0.0/N x {8022,8443,8444} finds, and how ppscan-tls classifies it. */
static const struct {
	const char *key, *cls;
} expected[] = {
	{ "198.18.0.10:8443", "tls" },	    { "198.18.0.11:8443", "tls" },
	{ "198.18.0.12:8443", "tls" },	    { "198.18.0.13:8443", "tls" },
	{ "198.18.0.16:8443", "tls" },	    { "198.18.0.14:8022", "plaintext" },
	{ "198.18.0.15:8444", "timeout" },
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static void expect_pipeline(json_t *all, const char *what)
{
	cr_expect_eq(json_object_size(all), N_EXPECTED, "%s: %zu records, expected %zu", what,
		     json_object_size(all), N_EXPECTED);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		json_t *r = json_object_get(all, expected[i].key);

		cr_expect_not_null(r, "%s: no record for %s", what, expected[i].key);
		if (r)
			expect_str(r, "classification", expected[i].cls);
	}
}

#ifdef PPSCAN_BIN
#define PPSCAN_BIN_OR_SKIP PPSCAN_BIN
#define NEED_PPSCAN() ((void)0)
#else
#define PPSCAN_BIN_OR_SKIP "false"
#define NEED_PPSCAN() cr_skip_test("ppscan (DPDK) is not built")
#endif

static int run_scan(const char *extra, const char *target)
{
	return lab_sh("cd %s && ip netns exec " NS_SCAN " " PPSCAN_BIN_OR_SKIP " " EAL
		      " --vdev net_af_packet0,iface=" LAB "s -- " SCAN_ARGS " %s %s 2>>%s/scan.err",
		      dir, extra, target, dir);
}

Test(lab, identifies_what_ppscan_found_from_its_json_and_csv, .init = setup, .fini = teardown,
     .timeout = 240)
{
	char in[256];
	json_t *all;
	int rc;

	NEED_PPSCAN();
	rc = run_scan("-r 20000 -c 2 -O json -o scan.json", "198.18.0.0/24");
	cr_assert_eq(rc, 0, "ppscan exited %d (stderr in %s/scan.err)", rc, dir);
	snprintf(in, sizeof(in), "%s/scan.json", dir);
	rc = run_tls("-t 2", "from_json.out", in);
	cr_assert_eq(rc, 0);
	all = load("from_json.out");
	expect_pipeline(all, "NDJSON file");
	json_decref(all);

	/* `ppscan ... | ppscan-tls`: CSV through a pipe, identified while the scan runs */
	rc = lab_sh("cd %s && ip netns exec " NS_SCAN " " PPSCAN_BIN_OR_SKIP " " EAL
		    " --vdev net_af_packet0,iface=" LAB "s -- " SCAN_ARGS " -r 2000 -c 2 198.18.0.0/24"
		    " 2>>%s/scan.err | ip netns exec " NS_CLI " " TLS " -t 2 -o %s/from_pipe.out - "
		    "2>>%s/tls.err",
		    dir, dir, dir, dir);
	cr_assert_eq(rc, 0, "pipeline exited %d (stderr in %s/scan.err, %s/tls.err)", rc, dir, dir);
	all = load("from_pipe.out");
	expect_pipeline(all, "CSV through a pipe");
	json_decref(all);
}

static void redis_start(void)
{
	int rc = lab_sh("redis-server --port 0 --unixsocket %s/redis.sock --unixsocketperm 700 "
			"--dir %s --save '' --appendonly no --daemonize yes --logfile %s/redis.log "
			"--pidfile %s/redis.pid",
			dir, dir, dir, dir);

	cr_assert_eq(rc, 0, "redis-server did not start");
	redis_up = 1;
	for (int i = 0; i < 50; i++) {
		if (lab_sh("redis-cli -s %s/redis.sock ping >/dev/null 2>&1", dir) == 0)
			return;
		usleep(100000);
	}
	cr_assert_fail("redis-server does not answer");
}

static long long redis_int(const char *fmt, const char *arg)
{
	char cmd[512];
	char *out;
	long long v;

	snprintf(cmd, sizeof(cmd), fmt, arg);
	out = cap("redis-cli -s %s/redis.sock %s", dir, cmd);
	v = atoll(out);
	free(out);
	return v;
}

/* The tls stream of @scan as records keyed "ip:port"; asserts fields ip, port, json agree. */
static json_t *load_stream(const char *scan, char *first_id, size_t idlen)
{
	json_t *all = json_object();
	char path[256], line[16384];
	FILE *f;

	/* redis-cli --raw prints one value a line: id, "ip", IP, "port", PORT, "json", JSON */
	snprintf(path, sizeof(path), "%s/stream.txt", dir);
	cr_assert_eq(lab_sh("redis-cli -s %s/redis.sock --raw XRANGE ppscan:%s:tls - + > %s", dir,
			    scan, path),
		     0);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	first_id[0] = '\0';
	for (;;) {
		char id[64], k1[16], ip[32], k2[16], port[16], k3[16];
		json_t *r;
		char key[48];

		if (!fgets(id, sizeof(id), f))
			break;
		cr_assert(fgets(k1, sizeof(k1), f) && fgets(ip, sizeof(ip), f) &&
				  fgets(k2, sizeof(k2), f) && fgets(port, sizeof(port), f) &&
				  fgets(k3, sizeof(k3), f) && fgets(line, sizeof(line), f),
			  "short stream entry");
		id[strcspn(id, "\n")] = ip[strcspn(ip, "\n")] = port[strcspn(port, "\n")] = '\0';
		cr_assert_str_eq(k1, "ip\n");
		cr_assert_str_eq(k2, "port\n");
		cr_assert_str_eq(k3, "json\n");
		if (!first_id[0])
			snprintf(first_id, idlen, "%s", id);
		r = json_loads(line, 0, NULL);
		cr_assert_not_null(r, "stream entry %s: json is not JSON", id);
		snprintf(key, sizeof(key), "%s:%s", ip, port);
		cr_assert_str_eq(json_string_value(json_object_get(r, "ip")), ip);
		cr_assert_eq(json_integer_value(json_object_get(r, "port")), atoll(port));
		cr_assert_null(json_object_get(all, key), "%s twice in the tls stream", key);
		json_object_set_new(all, key, r);
	}
	fclose(f);
	return all;
}

/* fork + exec of a shell command; the pid to wait for. */
static pid_t spawn(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	return pid;
}

/* Exit status of @pid, or -1 if it did not end within @secs (then it is killed). */
static int wait_exit(pid_t pid, double secs)
{
	double end = now_s() + secs;
	int st;

	while (now_s() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

Test(lab, follows_the_redis_stream_while_ppscan_scans, .init = setup, .fini = teardown,
     .timeout = 300)
{
	char cmd[1024], first[64];
	char *help;
	json_t *all;
	pid_t follower;
	double scan_end_ms;
	struct timespec rt;
	int rc;

	NEED_PPSCAN();
	help = cap(PPSCAN_BIN_OR_SKIP " -- --help 2>&1");
	if (!strstr(help, "--redis")) {
		free(help);
		cr_skip_test("this ppscan has no --redis");
	}
	free(help);
	redis_start();

	/* the follower starts first and waits for the scan's entries */
	snprintf(cmd, sizeof(cmd),
		 "exec ip netns exec " NS_CLI " " TLS " --redis unix://%s/redis.sock --scan-id t7pipe "
		 "--consumer c1 -t 3 --follow-timeout 120 -o %s/follow.out 2>%s/follow.err",
		 dir, dir, dir);
	follower = spawn(cmd);
	usleep(300000);

	/* 198.18.0.0/20 x 3 ports = 12,288 probes at 3,000/s: the sweep takes about 4 s */
	snprintf(cmd, sizeof(cmd), "-r 3000 -c 2 --redis unix://%s/redis.sock --scan-id t7pipe -o /dev/null",
		 dir);
	rc = run_scan(cmd, "198.18.0.0/20");
	clock_gettime(CLOCK_REALTIME, &rt);
	scan_end_ms = rt.tv_sec * 1e3 + rt.tv_nsec / 1e6;
	cr_assert_eq(rc, 0, "ppscan exited %d (stderr in %s/scan.err)", rc, dir);

	rc = wait_exit(follower, 60);
	cr_assert_eq(rc, 0, "ppscan-tls (following) exited %d (stderr in %s/follow.err)", rc, dir);

	all = load_stream("t7pipe", first, sizeof(first));
	expect_pipeline(all, "tls stream");
	json_decref(all);
	all = load("follow.out");
	expect_pipeline(all, "NDJSON of the follower");
	json_decref(all);
	cr_expect_eq(redis_int("XPENDING ppscan:%s:results ppscan-tls", "t7pipe"), 0,
		     "entries left unacknowledged");
	/* identification ran during the sweep: the first record is older than the cooldown */
	cr_expect(atof(first) < scan_end_ms - 1000,
		  "first tls entry %s is not before the scan's end (%.0f ms) - 1 s", first,
		  scan_end_ms);
}

Test(lab, a_restarted_consumer_resumes_where_it_left_off, .init = setup, .fini = teardown,
     .timeout = 180)
{
	static const char *const entries[][3] = {
		{ "198.18.0.10", "8443", "open" },   { "198.18.0.11", "8443", "open" },
		{ "198.18.0.10", "8080", "closed" }, { "198.18.0.14", "8022", "open" },
		{ "198.18.0.12", "8443", "open" },   { "198.18.0.13", "8443", "open" },
	};
	char first[64], opts[512];
	json_t *all;
	double t0;
	int rc;

	redis_start();
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(lab_sh("redis-cli -s %s/redis.sock XADD ppscan:t7r:results '*' ip %s port %s status %s ttl 64 ts 1 >/dev/null",
				    dir, entries[i][0], entries[i][1], entries[i][2]),
			     0);
	/* a consumer that read two entries and died before acknowledging them */
	cr_assert_eq(lab_sh("redis-cli -s %s/redis.sock XGROUP CREATE ppscan:t7r:results ppscan-tls 0 >/dev/null",
			    dir),
		     0);
	cr_assert_eq(lab_sh("redis-cli -s %s/redis.sock XREADGROUP GROUP ppscan-tls c1 COUNT 2 STREAMS ppscan:t7r:results '>' >/dev/null",
			    dir),
		     0);
	cr_assert_eq(redis_int("XPENDING ppscan:%s:results ppscan-tls", "t7r"), 2);
	cr_assert_eq(lab_sh("redis-cli -s %s/redis.sock HSET ppscan:t7r:meta state done >/dev/null", dir),
		     0);

	snprintf(opts, sizeof(opts), "--redis unix://%s/redis.sock --scan-id t7r --consumer c1 -t 3",
		 dir);
	rc = run_tls(opts, "resume1.out", "");
	cr_assert_eq(rc, 0, "ppscan-tls exited %d (stderr in %s/tls.err)", rc, dir);
	all = load_stream("t7r", first, sizeof(first));
	cr_expect_eq(json_object_size(all), 5, "%zu records in the tls stream, expected 5 (each open port once)",
		     json_object_size(all));
	expect_str(rec(all, "198.18.0.10:8443"), "classification", "tls");
	expect_str(rec(all, "198.18.0.11:8443"), "classification", "tls");
	expect_str(rec(all, "198.18.0.14:8022"), "classification", "plaintext");
	json_decref(all);
	cr_expect_eq(redis_int("XPENDING ppscan:%s:results ppscan-tls", "t7r"), 0);

	/* again: nothing is pending or new, and the scan is done: it ends at once */
	t0 = now_s();
	rc = run_tls(opts, "resume2.out", "");
	cr_assert_eq(rc, 0);
	cr_expect_lt(now_s() - t0, 3.0);
	cr_expect_eq(redis_int("XLEN ppscan:%s:tls", "t7r"), 5, "a second run added records");
	cr_expect_eq(lab_sh("test ! -s %s/resume2.out", dir), 0, "a second run wrote records");

	/* a scan that never says done: --follow-timeout ends the wait */
	snprintf(opts, sizeof(opts), "--redis unix://%s/redis.sock --scan-id t7none --follow-timeout 1",
		 dir);
	t0 = now_s();
	rc = run_tls(opts, "none.out", "");
	cr_assert_eq(rc, 0);
	cr_expect(now_s() - t0 >= 1.0 && now_s() - t0 < 4.0, "--follow-timeout 1 took %.2f s",
		  now_s() - t0);
}
