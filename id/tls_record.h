/*
 * tls_record.h - what a finished handshake tells, as JSON (jansson): protocol version, cipher
 * suite, ALPN, the server certificate's facts, chain length and verification result. Also the
 * small byte helpers the records use (hex, printable banner, TLS record sniffing).
 */
#ifndef PPS_TLS_RECORD_H
#define PPS_TLS_RECORD_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>

/**
 * tls_record_cert - the certificate object: subject, issuer (RFC 2253 strings), san (list of
 * "DNS:name", "IP:addr", "email:addr", "URI:uri"), not_before, not_after (ISO 8601 UTC),
 * serial (lowercase hex), key_type ("RSA", "EC", "ED25519", ...), key_bits, curve (EC group
 * name or null), signature_algorithm (OpenSSL long name), sha256 (fingerprint of the DER,
 * 64 lowercase hex digits). Returns a new reference, NULL when out of memory.
 */
json_t *tls_record_cert(X509 *cert);

/**
 * tls_record_session - adds to @rec the facts of the established @ssl: tls_version,
 * cipher (IANA name), cipher_openssl, alpn, chain_length, cert (tls_record_cert of the
 * leaf) and verify_ok / verify_code / verify_error. @verify_first: the first verification
 * error the callback saw (0 if none); reported instead of OpenSSL's last one, because the
 * first is the cause (an untrusted self-signed leaf is reported as such, not as whatever
 * check failed after it). @sni: the name sent, also checked against the certificate
 * (name_match), or NULL. Returns 0 or -ENOMEM.
 */
int tls_record_session(json_t *rec, SSL *ssl, int verify_first, const char *sni);

/** tls_hex - lowercase hex of @n bytes into @out (2n + 1 bytes). */
void tls_hex(const unsigned char *b, size_t n, char *out);

/**
 * tls_json_banner - @n bytes a server sent, as a JSON string: printable ASCII, \r, \n and \t
 * kept, every other byte as the four characters \xNN. New reference or NULL.
 */
json_t *tls_json_banner(const unsigned char *b, size_t n);

/**
 * tls_looks_like_tls - 1 if the first @n (>= 1) bytes from a server can start a TLS record
 * (RFC 8446 5.1: content type 20-24, then legacy version 3.x with x <= 4), 0 if they cannot
 * (a plaintext greeting such as "SSH-2.0-..." or "HTTP/1.1 400").
 */
int tls_looks_like_tls(const unsigned char *b, size_t n);

struct tls_config;

/**
 * tls_client_ctx - an OpenSSL client context for @cfg. @version 0: the identification
 * handshake (TLS 1.2 and 1.3, OpenSSL's defaults, --alpn offered, the trust store of
 * --ca-file or the system loaded once, verification recorded but never fatal); else exactly
 * that protocol version (TLS1_VERSION ...) with security level 0, for version probes. The
 * session cache and tickets are off (every handshake is full) and idle connections hold no
 * record buffers. Returns NULL with a reason in @why.
 */
SSL_CTX *tls_client_ctx(const struct tls_config *cfg, int version, char *why, size_t whylen);

/**
 * tls_verify_attach - the first certificate verification error of @ssl's handshake will be
 * stored in *@first (which must be 0 before and outlive the handshake). Returns 0 or -ENOMEM.
 */
int tls_verify_attach(SSL *ssl, int *first);

#endif /* PPS_TLS_RECORD_H */
