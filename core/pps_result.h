/*
 * pps_result.h - one validated response, fixed size (32 bytes), passed from the RX loop to
 * the output thread through the SPSC ring. No pointers, nothing to free.
 */
#ifndef PPS_RESULT_H
#define PPS_RESULT_H

#include <stdint.h>

enum pps_class {
	PPS_CLASS_SYNACK = 0, /* open: SYN-ACK with ack == cookie + 1 */
	PPS_CLASS_RST = 1,    /* closed: RST with ack in {cookie, cookie + 1} */
};

struct pps_result {
	uint32_t saddr_h;     /* the target (response source), host order */
	uint32_t daddr_h;     /* our source address the response came to */
	uint16_t sport_h;     /* target port */
	uint16_t dport_h;     /* our source port */
	uint32_t seq_h;	      /* response sequence number */
	uint32_t ack_h;	      /* response acknowledgment number */
	uint16_t window_h;
	uint16_t ipid_h;
	uint8_t ttl;
	uint8_t classification; /* enum pps_class */
	uint8_t cooldown;	/* 1 if received after the last probe was sent */
	uint8_t pad;
	uint32_t pad2;	/* explicit, zeroed: no uninitialised byte crosses the ring */
	uint64_t ts_ns; /* receive time, Unix epoch nanoseconds */
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct pps_result) == 40, "pps_result layout");

/** pps_class_name - "synack" or "rst" (ZMap's classification strings). */
static inline const char *pps_class_name(uint8_t c)
{
	return c == PPS_CLASS_SYNACK ? "synack" : "rst";
}

#endif /* PPS_RESULT_H */
