/*
 * id_module.h - the interface between ppscan-id's engine and its protocol modules.
 *
 * A module knows one protocol: how to recognise it from bytes a server sent, what request
 * (if any) makes a server of that protocol answer, and what to record about what it saw. It
 * never sees a socket, a timer or epoll: the engine owns the connection, buffers what the
 * server sends (at most ID_RX_MAX bytes per connection; more is counted, not kept), sends
 * what the module queued with id_send(), and hands the module its bytes and a few facts
 * through the opaque struct id_conn and the accessors below. A module is a const
 * struct id_module in its own file id/mod_<name>.c, listed once in id/id_registry.c.
 *
 * ## How one endpoint is identified (the engine's order of work)
 *
 *   1. Greeting window. The engine connects and waits up to --greeting-wait seconds for the
 *      server to speak first. Every byte that arrives is offered, in registry order, to each
 *      module with ID_F_GREETING through on_readable() in phase ID_PHASE_GREETING. The first
 *      module that returns ID_MATCH, ID_SOFT, ID_CLAIM or ID_STARTTLS "claims" the greeting;
 *      from then on only it sees this connection's bytes. ID_MORE from any module keeps the
 *      window open for more bytes (up to its end); when every module says ID_NO the greeting
 *      is recorded as unknown (protocol "unknown", first_bytes kept).
 *   2. Client-first handshakes. If the server stayed silent, the engine tries the modules
 *      with ID_F_PROBE, most likely first: modules whose ports[] contain the endpoint's port
 *      come first (the port is only a hint for the order, never the answer), then by
 *      descending weight. Each handshake is one start() (the module queues its request),
 *      then on_readable() in phase ID_PHASE_PROBE for every new byte, until a verdict. The
 *      first handshake reuses the greeting connection; each later one opens a new one.
 *      When the probing module says ID_NO to a reply, the same bytes are offered to every
 *      other module with ID_F_REACT or ID_F_GREETING in phase ID_PHASE_REACT ("reacts": a
 *      Redis server answers an HTTP request with "-ERR", a late greeting arrives after our
 *      request); the first that claims the reply names the endpoint.
 *   3. Stop at the first ID_MATCH (or ID_CLAIM that ends); an ID_SOFT is kept and the search
 *      goes on, the best soft result is reported if nothing matches. At most
 *      --max-handshakes (default 5) client-first handshakes per endpoint.
 *   4. Nothing at all received on any connection, every one silent or closed: the endpoint
 *      is recorded as protocol "no_service" (nmap's "tcpwrapped").
 *
 * ## TLS
 *   The TLS module (mod_tls.c, flag ID_F_TLS) is run by the engine itself: its "request" is an
 *   OpenSSL ClientHello. After a completed handshake the engine repeats steps 1-3 inside TLS
 *   (implicit TLS: HTTPS, IMAPS, POP3S, SMTPS, FTPS ...), on the same connection, with
 *   id_in_tls() true: a short greeting window, then one client-first handshake chosen by the
 *   ALPN the server selected ("h2" -> http2) and by weight. The record names the inner
 *   protocol ("protocol": "imap", "tls": {...}, "tls_mode": "implicit").
 *   STARTTLS: a module that has asked for TLS in its own protocol (SMTP "STARTTLS", IMAP
 *   "a STARTTLS", POP3 "STLS", FTP "AUTH TLS", XMPP <starttls/>, PostgreSQL SSLRequest) and
 *   read the server's consent returns ID_STARTTLS. The engine discards the buffered bytes,
 *   runs the TLS handshake on the same connection and records its result in "tls" with
 *   "tls_mode": "starttls"; the module's protocol stays the record's protocol.
 *
 * ## Memory
 *   Per connection the engine holds: ID_RX_MAX bytes of received data, ID_TX_MAX bytes of
 *   queued output, ID_STATE_MAX bytes of module state, the record's JSON under construction
 *   and (only while TLS is spoken) an OpenSSL session. A module must keep its state inside
 *   its state_size bytes (no malloc); JSON it adds through id_obj() is bounded by what it
 *   adds (use id_json_text() for server-supplied strings: it bounds and sanitises them).
 *
 * Everything runs on the engine's one thread; callbacks must not block.
 */
#ifndef PPS_ID_MODULE_H
#define PPS_ID_MODULE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes of server data buffered per connection; what arrives beyond is dropped, counted. */
#define ID_RX_MAX 16384
/** Bytes a module may queue with id_send() before they are sent. */
#define ID_TX_MAX 4096
/** Upper bound of a module's state_size. */
#define ID_STATE_MAX 512

/** Verdicts: what on_readable() and start() return. */
enum id_verdict {
	/** Not this protocol (a definite no: the bytes contradict it). */
	ID_NO = 0,
	/**
	 * Maybe: the bytes so far are a valid prefix, call again when more arrive. When the
	 * connection ends, the handshake's time is up or the buffer is full (ID_RX_MAX bytes),
	 * on_readable() is called once more with id_ended() true; ID_MORE then counts as ID_NO.
	 */
	ID_MORE,
	/** This protocol, but the evidence is weak (e.g. a generic reply): confidence "soft". */
	ID_SOFT,
	/** This protocol, certain: confidence "match". The handshake ends, record() is called. */
	ID_MATCH,
	/**
	 * This protocol, certain, and the module goes on talking on this connection (it has
	 * queued its next request with id_send(), e.g. SMTP's EHLO after the 220 greeting).
	 * Later calls return ID_MORE, ID_CLAIM again, ID_MATCH or ID_STARTTLS; if the
	 * connection ends first, the claim stands as a match.
	 */
	ID_CLAIM,
	/**
	 * This protocol, certain, and the server has agreed to start TLS on this connection now:
	 * the engine performs the TLS handshake next (see "TLS" above), then calls record().
	 */
	ID_STARTTLS,
};

/** Why on_readable() was called. */
enum id_phase {
	/** Unsolicited bytes: the server spoke first (the module only judges, sends nothing). */
	ID_PHASE_GREETING = 0,
	/** A reply to this module's own request (sent by its start()). */
	ID_PHASE_PROBE,
	/** A reply to another module's request, offered because that module said ID_NO. */
	ID_PHASE_REACT,
	/** The module has claimed the connection (after ID_CLAIM): the dialogue continues. */
	ID_PHASE_DIALOGUE,
};

/** Module flags. */
#define ID_F_GREETING 0x1u  /* server-first: may claim a greeting (on_readable, GREETING phase) */
#define ID_F_PROBE 0x2u	    /* client-first: has a request (start) */
#define ID_F_REACT 0x4u	    /* recognises replies to other modules' requests (REACT phase) */
#define ID_F_TLS 0x8u	    /* the TLS module: run by the engine (only mod_tls.c) */
#define ID_F_INNER 0x10u    /* may be tried inside TLS (implicit TLS); else only in the clear */
#define ID_F_NO_OUTER 0x20u /* only inside TLS (never probed in the clear) */

struct id_conn; /* the engine's connection; opaque to modules */

/**
 * One protocol module. Callbacks get the connection @c and @st, the module's state: st
 * points to state_size bytes, zeroed when the module's handshake starts (before start()), and
 * in the GREETING and REACT phases zeroed before every call (a module judges the whole
 * buffer each time; the state it writes is kept only if it claims). All callbacks but
 * on_readable may be NULL.
 */
struct id_module {
	/** Protocol name used in records: lowercase [a-z0-9_], unique ("ssh", "http2"). */
	const char *name;
	/** One line for --list-modules ("SSH (RFC 4253 identification string)"). */
	const char *summary;
	unsigned flags;	 /* ID_F_* */
	unsigned weight; /* likelihood for the client-first order, 1..1000 (higher = earlier) */
	const uint16_t *ports; /* IANA and customary ports, a hint for the order; 0-terminated */
	size_t state_size;     /* bytes of per-connection state, <= ID_STATE_MAX */

	/**
	 * start - the client-first handshake begins (ID_F_PROBE): queue the request with
	 * id_send(). Returns ID_MORE (wait for the reply) or ID_NO (this module cannot probe
	 * here, e.g. an inner-only module on a plain connection; the handshake is not counted).
	 */
	int (*start)(struct id_conn *c, void *st);

	/**
	 * on_readable - new bytes: @data/@n is everything received on this connection since
	 * the handshake began (or since the last id_consume()), at most ID_RX_MAX bytes.
	 * id_phase() says why it was called. Returns an enum id_verdict. A module may queue
	 * bytes (id_send) when it returns ID_CLAIM (any phase: it now owns the connection), or
	 * ID_MORE in phases PROBE and DIALOGUE; bytes queued with any other verdict are
	 * discarded. Must never read outside @data[0..n).
	 */
	int (*on_readable)(struct id_conn *c, void *st, const uint8_t *data, size_t n);

	/**
	 * on_writable - every byte queued with id_send() has been handed to the kernel (for a
	 * module that sends in steps). Returns ID_MORE, or any verdict as on_readable.
	 */
	int (*on_writable)(struct id_conn *c, void *st);

	/**
	 * record - the module's handshake ended with its verdict (match, soft, claim that ended,
	 * starttls after the TLS handshake): add the last facts to the per-protocol object
	 * (id_obj) and set product/version (id_fingerprint or id_set_product). Called once.
	 */
	void (*record)(struct id_conn *c, void *st);
};

/* ---- what a module may ask of the engine (id/engine.c) ---- */

/**
 * id_send - queues @n bytes to send to the server. Returns 0, or -ENOBUFS when more than
 * ID_TX_MAX bytes would be queued (nothing is queued then).
 */
int id_send(struct id_conn *c, const void *buf, size_t n);

/** id_send_str - id_send() of a NUL-terminated string. */
int id_send_str(struct id_conn *c, const char *s);

/**
 * id_consume - drops the first @n bytes of the receive buffer (a reply the module has
 * finished with); the next on_readable() gets what follows. @n larger than the buffer
 * empties it.
 */
void id_consume(struct id_conn *c, size_t n);

/** id_phase - the enum id_phase of the current on_readable() call. */
int id_phase(const struct id_conn *c);

/** id_ended - 1 if the connection has ended (FIN, RST, timeout): this is the last call. */
int id_ended(const struct id_conn *c);

/** id_in_tls - 1 if the bytes the module sees travel inside TLS (implicit or STARTTLS). */
int id_in_tls(const struct id_conn *c);

/** id_alpn - the ALPN protocol the server selected ("h2"), or NULL (none, or no TLS). */
const char *id_alpn(const struct id_conn *c);

/** id_port - the endpoint's TCP port, host order. */
uint16_t id_port(const struct id_conn *c);

/** id_ip - the endpoint's IPv4 address, dotted quad (a string the engine owns). */
const char *id_ip(const struct id_conn *c);

/** id_host_name - the name to send where a protocol wants one (--sni, else the IP). */
const char *id_host_name(const struct id_conn *c);

/**
 * id_obj - the module's per-protocol JSON object in the record ("ssh": {...}), created on
 * first use; borrowed reference (the record owns it). Set fields with jansson's
 * json_object_set_new(). NULL only when out of memory.
 */
json_t *id_obj(struct id_conn *c);

/**
 * id_json_text - @n server bytes as a JSON string: at most 512 bytes of them, printable
 * ASCII and valid UTF-8 kept, any other byte as \xNN, trailing CR/LF dropped. New reference.
 */
json_t *id_json_text(const uint8_t *b, size_t n);

/**
 * id_set_product - sets the record's product and version (either may be NULL: unchanged).
 * Strings are copied (at most 127 bytes each).
 */
void id_set_product(struct id_conn *c, const char *product, const char *version);

/**
 * id_fingerprint - matches @n bytes against the fingerprints of this module's protocol
 * (data/fingerprints/<protocol>.conf, core/fingerprint.h) and applies the first hit: product
 * and version of the record, and every other named group as a field of id_obj(). Returns 1
 * if one matched, 0 if none did.
 */
int id_fingerprint(struct id_conn *c, const uint8_t *b, size_t n);

/**
 * id_fingerprint_as - id_fingerprint() with the fingerprints of protocol @proto instead of the
 * module's own (HTTP/2 matches a Server header against http's). Returns 1 or 0.
 */
int id_fingerprint_as(struct id_conn *c, const char *proto, const uint8_t *b, size_t n);

/**
 * id_set_protocol - the record's protocol becomes @name (one of the registry's names, or a
 * documented variant such as "http2" from the HTTP module); default: the module's name.
 */
void id_set_protocol(struct id_conn *c, const char *name);

/* ---- the registry (id/id_registry.c) ---- */

/** id_modules - every module, in registry order; *@n gets the count. */
const struct id_module *const *id_modules(size_t *n);

/** id_module_find - the module named @name, or NULL. */
const struct id_module *id_module_find(const char *name);

#endif /* PPS_ID_MODULE_H */
