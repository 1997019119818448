/*
 * mod_wire.h - the wire side of the binary protocol modules AMQP, Kafka, Cassandra (CQL),
 * SOCKS, Modbus/TCP, IPP, Java RMI and X11: the request each sends, and a pure parser of the
 * reply (bytes in, fields out; no I/O, no allocation, no global state) that the module, the
 * unit suite and the fuzz targets call alike.
 *
 * Every parser takes the bytes received so far (`buf`, `len`, from the first byte of the
 * reply) and returns one of enum id_wire:
 *   ID_WIRE_MORE   a valid prefix of this protocol's reply: read more (the module gives up
 *                  at its buffer's end or at the timeout)
 *   ID_WIRE_MATCH  a complete reply of this protocol; `out` is filled
 *   ID_WIRE_NO     not this protocol; `out` is undefined
 *   ID_WIRE_BAD    began as this protocol's reply but breaks its rules (a length past the
 *                  frame, a count that cannot fit, a field out of range): the module counts it
 *                  as a malformed reply and names no protocol from it
 * Text fields in `out` are NUL-terminated printable ASCII (other bytes become '?', see
 * id_text_copy()), cut at their array's size.
 */
#ifndef PPS_ID_MOD_WIRE_H
#define PPS_ID_MOD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum id_wire {
	ID_WIRE_BAD = -2,
	ID_WIRE_NO = -1,
	ID_WIRE_MORE = 0,
	ID_WIRE_MATCH = 1,
};

/* ---- AMQP ------------------------------------------------------------------------------ */

/*
 * The AMQP 0-9-1 protocol header (AMQP 0-9-1 specification, section 4.2.2): "AMQP" 0 0 9 1.
 * A 0-9-1 broker answers with Connection.Start; a broker of another version answers with its
 * own protocol header and closes (section 4.2.2; AMQP 1.0, OASIS, part 2.2: "AMQP" id major
 * minor revision, id 0 = AMQP, 2 = TLS, 3 = SASL).
 */
extern const uint8_t id_amqp_request[8];

struct id_amqp_info {
	bool start;	      /* Connection.Start received (else a protocol header came back) */
	uint8_t proto_id;     /* the header's protocol id (0 AMQP, 2 TLS, 3 SASL); 0 for Start */
	uint8_t major, minor; /* Start's version-major/minor, or the header's major/minor */
	uint8_t revision;     /* the header's revision (0 for Start) */
	char product[64];     /* server-properties "product", e.g. "RabbitMQ" */
	char version[64];     /* server-properties "version", e.g. "3.10.8" */
	char platform[64];    /* server-properties "platform", e.g. "Erlang/OTP 25.2.3" */
	char cluster[64];     /* server-properties "cluster_name" */
	char mechanisms[96];  /* SASL mechanisms, space-separated */
	char locales[32];
};

/*
 * Parses the reply to id_amqp_request: a method frame (AMQP 0-9-1 section 4.2.3: type 1,
 * channel 0, 32-bit size, payload, frame-end 0xCE) holding Connection.Start (class 10,
 * method 10: version-major, version-minor, server-properties field table, mechanisms and
 * locales long strings; field-table value types as in section 4.2.5.5 and RabbitMQ's errata),
 * or an 8-byte protocol header. A frame larger than 64 KiB is ID_WIRE_BAD.
 */
enum id_wire id_amqp_parse(const uint8_t *buf, size_t len, struct id_amqp_info *out);

/* ---- Kafka ----------------------------------------------------------------------------- */

/* The correlation id of id_kafka_request; the reply must echo it. */
#define ID_KAFKA_CORRELATION 0x70707363u

/*
 * ApiVersions request, version 0 (Kafka protocol guide, "ApiVersions API (Key: 18)"): int32
 * size, int16 api_key 18, int16 api_version 0, int32 correlation_id, string client_id
 * ("ppscan"), empty body. Brokers since 0.10.0 answer it before authentication.
 */
extern const uint8_t id_kafka_request[20];

struct id_kafka_info {
	int16_t error;		 /* error_code (0, or 35 UNSUPPORTED_VERSION) */
	uint32_t n_apis;	 /* api_keys entries */
	int16_t max_key;	 /* highest api_key listed */
	int16_t produce_max;	 /* max_version of Produce (0), -1 if absent */
	int16_t fetch_max;	 /* max_version of Fetch (1), -1 if absent */
	int16_t apiversions_max; /* max_version of ApiVersions (18), -1 if absent */
};

/*
 * Parses the ApiVersions v0 response: int32 size, int32 correlation_id (must be
 * ID_KAFKA_CORRELATION), int16 error_code, array of (int16 api_key, int16 min_version, int16
 * max_version) with an int32 count. Entries must have 0 <= key < 1024 and min <= max; the
 * array must fill the response exactly; a size above 64 KiB is ID_WIRE_BAD.
 */
enum id_wire id_kafka_parse(const uint8_t *buf, size_t len, struct id_kafka_info *out);

/* ---- Cassandra (CQL native protocol) --------------------------------------------------- */

/*
 * OPTIONS (CQL binary protocol v4, sections 2 and 4.1.3): version 0x04 (request), flags 0,
 * stream 0x0001, opcode 0x05, body length 0. The server answers SUPPORTED (0x06) or, when it
 * does not speak v4, ERROR (0x00) with its own version in the header.
 */
extern const uint8_t id_cql_request[9];

struct id_cql_info {
	uint8_t version;	    /* the reply's protocol version (response bit cleared) */
	bool supported;		    /* SUPPORTED (else ERROR) */
	char cql_version[32];	    /* SUPPORTED's CQL_VERSION values, comma-separated */
	char protocol_versions[48]; /* PROTOCOL_VERSIONS, e.g. "3/v3,4/v4,5/v5,6/v6-beta" */
	char compression[48];	    /* COMPRESSION, e.g. "snappy,lz4" */
	bool scylla;		    /* SCYLLA_* keys present: ScyllaDB, not Apache Cassandra */
	uint32_t error_code;	    /* ERROR's code */
	char error_msg[96];	    /* ERROR's message */
};

/*
 * Parses the reply to id_cql_request: the 9-byte v3+ frame header (version with the 0x80
 * response bit, flags, int16 stream 1, opcode, int32 length <= 64 KiB), then SUPPORTED's
 * [string multimap] (section 3: [short] n, n x ([string] key, [string list] values)) or
 * ERROR's [int] code and [string] message.
 */
enum id_wire id_cql_parse(const uint8_t *buf, size_t len, struct id_cql_info *out);

/* ---- SOCKS ----------------------------------------------------------------------------- */

/*
 * SOCKS5 method negotiation (RFC 1928, section 3): version 5, two methods: 0x00 (no
 * authentication) and 0x02 (username/password, RFC 1929). Nothing else is sent: the module
 * never asks a proxy to connect anywhere.
 */
extern const uint8_t id_socks_request[4];

struct id_socks_info {
	uint8_t version; /* 5, or 4 when a SOCKS4-only server rejected the greeting */
	uint8_t method;	 /* SOCKS5: the chosen method (0x00, 0x02, 0xFF = none acceptable);
	                    SOCKS4: the reply code (0x5A..0x5D) */
};

/*
 * Parses the reply to id_socks_request: exactly 2 bytes 05 METHOD with METHOD one of those
 * offered or 0xFF (RFC 1928 section 3); or exactly the 8-byte SOCKS4 reply (SOCKS protocol
 * version 4, "SOCKS: A protocol for TCP proxy across firewalls", NEC): VN 0, CD 0x5A..0x5D,
 * port and address, that a SOCKS4-only server sends to a request it cannot read. Anything
 * longer is not SOCKS: a proxy waits for the client's next message.
 */
enum id_wire id_socks_parse(const uint8_t *buf, size_t len, struct id_socks_info *out);

/* ---- Modbus/TCP ------------------------------------------------------------------------ */

/* The MBAP transaction identifier of id_modbus_request; the reply must echo it. */
#define ID_MODBUS_TID 0x7073u

/*
 * Read Device Identification (MODBUS Application Protocol Specification V1.1b3, section
 * 6.21: function 43 / MEI type 14, read code 01 = basic stream, object 0) in an MBAP header
 * (MODBUS Messaging on TCP/IP Implementation Guide V1.0b, section 3.1.3: transaction id,
 * protocol id 0, length 5, unit id 0xFF as the guide recommends for a TCP device).
 */
extern const uint8_t id_modbus_request[11];

struct id_modbus_info {
	uint8_t unit;	       /* the unit id of the reply */
	bool exception;	       /* exception response (function 0xAB) */
	uint8_t exc_code;      /* its exception code (1 illegal function, 2 ..., 0x0B ...) */
	uint8_t conformity;    /* conformity level */
	uint8_t n_objects;     /* objects in the reply */
	char vendor[64];       /* object 0x00 VendorName */
	char product_code[64]; /* object 0x01 ProductCode */
	char revision[32];     /* object 0x02 MajorMinorRevision */
	char vendor_url[64];   /* object 0x03 */
	char product_name[64]; /* object 0x04 */
	char model_name[64];   /* object 0x05 */
};

/*
 * Parses the reply to id_modbus_request: MBAP (transaction id ID_MODBUS_TID, protocol 0,
 * length 2..254 covering unit id and PDU exactly), then function 0x2B with MEI 0x0E, read
 * code, conformity level, more-follows, next object id, number of objects and the objects
 * (id, length, value), or the exception 0xAB with its code.
 */
enum id_wire id_modbus_parse(const uint8_t *buf, size_t len, struct id_modbus_info *out);

/* ---- IPP ------------------------------------------------------------------------------- */

/*
 * Writes a Get-Printer-Attributes request (RFC 8011 section 4.2.5; encoding RFC 8010) in an
 * HTTP/1.1 POST to "/" (RFC 8010 section 4): version 2.0, operation 0x000B, request-id 1,
 * attributes-charset "utf-8", attributes-natural-language "en", printer-uri
 * "ipp://HOST:PORT/" (HOST: @name, an address or a name of at most 63 bytes; also the Host
 * header) and requested-attributes printer-make-and-model, printer-name, printer-info and
 * ipp-versions-supported. Returns the request's length in bytes, or 0 when @name is longer or
 * cap is too small (600 bytes always suffice).
 */
size_t id_ipp_request(uint8_t *buf, size_t cap, const char *name, uint16_t port_h);

struct id_ipp_info {
	uint16_t http_status; /* the HTTP status code */
	uint8_t major, minor; /* the IPP version of the response */
	uint16_t status;      /* the IPP status-code (0x0000 successful-ok, 0x0406 not-found ...) */
	char server[64];      /* the HTTP Server header, e.g. "CUPS/2.4 IPP/2.1" */
	char make_model[96];  /* printer-make-and-model */
	char name[64];	      /* printer-name */
	char info[96];	      /* printer-info */
	char versions[48];    /* ipp-versions-supported, comma-separated */
};

/*
 * Parses the HTTP response (status line, headers, a body by Content-Length or chunked, at most
 * 64 KiB) whose Content-Type is application/ipp, and the IPP response in its body (RFC 8010
 * section 3.1: version, status-code, request-id 1, attribute groups of tagged
 * name/value pairs, end-of-attributes-tag 0x03). An HTTP response of another type is ID_WIRE_NO.
 */
enum id_wire id_ipp_parse(const uint8_t *buf, size_t len, struct id_ipp_info *out);

/* ---- Java RMI -------------------------------------------------------------------------- */

/*
 * The JRMP header (Java RMI specification, chapter 10.2 "RMI Transport Protocol"): magic
 * "JRMI", version 0x0002, protocol 0x4B (StreamProtocol).
 */
extern const uint8_t id_rmi_request[7];

struct id_rmi_info {
	bool ack;      /* ProtocolAck 0x4E (else ProtocolNotSupported 0x4F) */
	char host[64]; /* the ack's endpoint: the client's address as the server saw it */
	uint32_t port; /* and its port */
};

/*
 * Parses the reply to id_rmi_request: ProtocolAck 0x4E followed by the endpoint (Java
 * DataOutput.writeUTF host: 16-bit length and at most 255 bytes; int32 port), or the single
 * byte ProtocolNotSupported 0x4F.
 */
enum id_wire id_rmi_parse(const uint8_t *buf, size_t len, struct id_rmi_info *out);

/* ---- X11 ------------------------------------------------------------------------------- */

/*
 * Connection setup (X Window System Protocol, X Consortium standard, X11R7.7, section 8
 * "Connection Setup"): byte order 'l' (little-endian), protocol 11.0, no authorization.
 */
extern const uint8_t id_x11_request[12];

struct id_x11_info {
	uint8_t status;		/* 0 Failed, 1 Success, 2 Authenticate */
	uint16_t major, minor;	/* the server's protocol version */
	uint32_t release;	/* Success: vendor release number (X.Org: 12101007 = 21.1.7) */
	char vendor[64];	/* Success: vendor string */
	char reason[96];	/* Failed / Authenticate: the reason text */
	uint8_t screens;	/* Success: number of screens */
	uint16_t width, height; /* Success: the first screen's size in pixels */
};

/*
 * Parses the reply to id_x11_request (little-endian, as requested): the 8-byte head (status,
 * reason length, major 11, minor, additional data length in 4-byte units, at most 64 KiB),
 * then the reason (Failed, Authenticate) or the Success block up to the first screen
 * (vendor, pixmap formats, screen 0's size).
 */
enum id_wire id_x11_parse(const uint8_t *buf, size_t len, struct id_x11_info *out);

/*
 * Formats an X.Org vendor release number as a version (X.Org's encoding: major * 10^7 +
 * minor * 10^5 + patch * 10^3 + snap): 12014000 -> "1.20.14"; servers from 21 on keep the
 * leading 1, so 12101007 -> "21.1.7"; 60700000 -> "6.7.0". Writes at most cap bytes
 * (NUL-terminated).
 */
void id_x11_release_text(uint32_t release, char *buf, size_t cap);

#endif
