/*
 * Certificate and session facts as JSON. Everything is read through OpenSSL's accessors
 * (X509_get0_*, SSL_get_*); no parsing of our own. Names are RFC 2253 strings, dates ISO 8601
 * UTC, binary values lowercase hex.
 */
#include "tls_record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tls_config.h"

void tls_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

json_t *tls_json_banner(const unsigned char *b, size_t n)
{
	char buf[4 * 1024 + 1];
	size_t o = 0;

	if (n > 1024)
		n = 1024;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = b[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	return json_stringn(buf, o);
}

int tls_looks_like_tls(const unsigned char *b, size_t n)
{
	if (n >= 1 && (b[0] < 20 || b[0] > 24))
		return 0;
	if (n >= 2 && b[1] != 3)
		return 0;
	if (n >= 3 && b[2] > 4)
		return 0;
	return 1;
}

/* A string OpenSSL produced; if it is not valid UTF-8 it is escaped like a banner. */
static json_t *json_text(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);

	return j ? j : tls_json_banner((const unsigned char *)s, n);
}

static json_t *json_name(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	json_t *j = NULL;
	char *p;
	long n;

	if (!bio)
		return NULL;
	/* RFC 2253 order (most specific first), UTF-8 kept rather than escaped */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(bio, &p);
		j = json_text(p, (size_t)n);
	}
	BIO_free(bio);
	return j;
}

static json_t *json_time(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *json_san(X509 *cert)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	json_t *arr = json_array();
	char buf[600];

	if (!arr)
		goto out;
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s = NULL;
		const char *kind = NULL;
		char ip[INET6_ADDRSTRLEN];

		switch (g->type) {
		case GEN_DNS:
			kind = "DNS";
			s = g->d.dNSName;
			break;
		case GEN_EMAIL:
			kind = "email";
			s = g->d.rfc822Name;
			break;
		case GEN_URI:
			kind = "URI";
			s = g->d.uniformResourceIdentifier;
			break;
		case GEN_IPADD:
			if (g->d.iPAddress->length == 4)
				inet_ntop(AF_INET, g->d.iPAddress->data, ip, sizeof(ip));
			else if (g->d.iPAddress->length == 16)
				inet_ntop(AF_INET6, g->d.iPAddress->data, ip, sizeof(ip));
			else
				continue;
			snprintf(buf, sizeof(buf), "IP:%s", ip);
			json_array_append_new(arr, json_string(buf));
			continue;
		default: continue; /* otherName, directoryName, ...: not reported */
		}
		{
			int n = snprintf(buf, sizeof(buf), "%s:%.*s", kind,
					 ASN1_STRING_length(s) > 512 ? 512 : ASN1_STRING_length(s),
					 (const char *)ASN1_STRING_get0_data(s));
			json_array_append_new(arr, json_text(buf, (size_t)n));
		}
	}
out:
	GENERAL_NAMES_free(names);
	return arr;
}

static const char *key_type(int id)
{
	switch (id) {
	case EVP_PKEY_RSA: return "RSA";
	case EVP_PKEY_RSA_PSS: return "RSA-PSS";
	case EVP_PKEY_EC: return "EC";
	case EVP_PKEY_DSA: return "DSA";
	case EVP_PKEY_ED25519: return "ED25519";
	case EVP_PKEY_ED448: return "ED448";
	default: return OBJ_nid2sn(id);
	}
}

json_t *tls_record_cert(X509 *cert)
{
	json_t *o = json_object();
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], curve[64];
	BIGNUM *bn;

	if (!o)
		return NULL;
	json_object_set_new(o, "subject", json_name(X509_get_subject_name(cert)));
	json_object_set_new(o, "issuer", json_name(X509_get_issuer_name(cert)));
	json_object_set_new(o, "san", json_san(cert));
	json_object_set_new(o, "not_before", json_time(X509_get0_notBefore(cert)));
	json_object_set_new(o, "not_after", json_time(X509_get0_notAfter(cert)));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn) {
		char *s = BN_bn2hex(bn);

		for (char *p = s; p && *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
		json_object_set_new(o, "serial", s ? json_string(s) : json_null());
		OPENSSL_free(s);
		BN_free(bn);
	}
	if (pk) {
		const char *kt = key_type(EVP_PKEY_get_base_id(pk));

		json_object_set_new(o, "key_type", kt ? json_string(kt) : json_null());
		json_object_set_new(o, "key_bits", json_integer(EVP_PKEY_get_bits(pk)));
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve,
						   sizeof(curve), NULL))
			json_object_set_new(o, "curve", json_string(curve));
		else
			json_object_set_new(o, "curve", json_null());
	}
	{
		int nid = X509_get_signature_nid(cert);
		const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;

		json_object_set_new(o, "signature_algorithm", ln ? json_string(ln) : json_null());
	}
	if (X509_digest(cert, EVP_sha256(), md, &md_len)) {
		tls_hex(md, md_len, hex);
		json_object_set_new(o, "sha256", json_string(hex));
	}
	return o;
}

int tls_record_session(json_t *rec, SSL *ssl, int verify_first, const char *sni)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	long vr = SSL_get_verify_result(ssl);
	int code;

	json_object_set_new(rec, "tls_version", json_string(SSL_get_version(ssl)));
	json_object_set_new(rec, "cipher",
			    c ? json_string(SSL_CIPHER_standard_name(c)) : json_null());
	json_object_set_new(rec, "cipher_openssl",
			    c ? json_string(SSL_CIPHER_get_name(c)) : json_null());
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	json_object_set_new(rec, "alpn",
			    alpn_len ? json_text((const char *)alpn, alpn_len) : json_null());
	json_object_set_new(rec, "chain_length", json_integer(chain ? sk_X509_num(chain) : 0));
	if (leaf) {
		json_t *cert = tls_record_cert(leaf);

		if (!cert)
			return -ENOMEM;
		json_object_set_new(rec, "cert", cert);
		json_object_set_new(rec, "name_match",
				    sni ? json_boolean(X509_check_host(leaf, sni, 0, 0, NULL) == 1)
					: json_null());
	} else {
		json_object_set_new(rec, "cert", json_null());
		json_object_set_new(rec, "name_match", json_null());
		if (vr == X509_V_OK)
			vr = X509_V_ERR_UNSPECIFIED; /* nothing was verified */
	}
	code = vr == X509_V_OK ? 0 : verify_first ? verify_first : (int)vr;
	json_object_set_new(rec, "verify_ok", json_boolean(code == 0));
	json_object_set_new(rec, "verify_code", json_integer(code));
	json_object_set_new(rec, "verify_error",
			    code ? json_string(X509_verify_cert_error_string(code)) : json_null());
	return 0;
}

/* ---- client contexts (shared by ppscan-tls and ppscan-id) ---- */

static int g_verify_idx = -1;

/* Records the first verification error and lets the handshake go on (SSL_VERIFY_NONE). */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *s = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	int *first = s ? SSL_get_ex_data(s, g_verify_idx) : NULL;

	if (!ok && first && !*first)
		*first = X509_STORE_CTX_get_error(x);
	return 1;
}

/*
 * The trust store: --ca-file, else the system's bundle file (SSL_CERT_FILE or OpenSSL's
 * default, /usr/lib/ssl/cert.pem -> /etc/ssl/certs/ca-certificates.crt on Debian) loaded into
 * memory once. Only without a bundle the default paths are used, whose hashed directory costs
 * a stat() and open() per verification (a third of a millisecond a handshake, measured).
 * Returns 1 on success.
 */
static int load_trust(SSL_CTX *ctx, const char *ca_file)
{
	const char *bundle = getenv(X509_get_default_cert_file_env());

	if (ca_file)
		return SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	if (!bundle)
		bundle = X509_get_default_cert_file();
	if (access(bundle, R_OK) == 0)
		return SSL_CTX_load_verify_locations(ctx, bundle, NULL);
	return SSL_CTX_set_default_verify_paths(ctx);
}

SSL_CTX *tls_client_ctx(const struct tls_config *cfg, int version, char *why, size_t whylen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(why, whylen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake is full */
	/* a handshake waiting for the server holds no 16 KiB record buffers (memory per slot) */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (cfg->alpn_len && SSL_CTX_set_alpn_protos(ctx, cfg->alpn_wire, cfg->alpn_len)) {
		snprintf(why, whylen, "cannot set ALPN");
		goto fail;
	}
	if (version == 0) {
		/* the identification handshake: OpenSSL's defaults (TLS 1.2 and 1.3) */
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, verify_cb);
		if (!load_trust(ctx, cfg->ca_file)) {
			unsigned long err = ERR_get_error();

			snprintf(why, whylen, "cannot load the trust store '%s'%s: %s",
				 cfg->ca_file ? cfg->ca_file : "(system)",
				 cfg->ca_file ? " (from --ca-file)" : "",
				 ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "?");
			goto fail;
		}
	} else {
		/*
		 * Version probes only: exactly one version, and everything the library can do
		 * (security level 0 allows TLS 1.0/1.1 and SHA-1 signatures again). Never used
		 * for the identification handshake.
		 */
		SSL_CTX_set_min_proto_version(ctx, version);
		SSL_CTX_set_max_proto_version(ctx, version);
		SSL_CTX_set_security_level(ctx, 0);
		if (version < TLS1_3_VERSION && !SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0")) {
			snprintf(why, whylen, "cannot set the cipher list for version probes");
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_verify_attach(SSL *ssl, int *first)
{
	if (g_verify_idx < 0)
		g_verify_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return SSL_set_ex_data(ssl, g_verify_idx, first) ? 0 : -ENOMEM;
}
