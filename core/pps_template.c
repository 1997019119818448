/*
 * Probe template construction. The partial sums exclude exactly the fields that
 * pps_template_fill_src() writes (IP: id, addresses, checksum; TCP: ports, seq, checksum,
 * and the pseudo header's addresses), so fill() only adds those words and folds.
 * Worked example (smallest preset): 14 + 20 + 24 = 58 bytes, sent as a 60-byte frame.
 */
#include "pps_template.h"

#include <errno.h>

static size_t put_options(uint8_t *o, const struct pps_template_params *prm)
{
	size_t n = 0;
	uint8_t mss[4] = { 2, 4, (uint8_t)(prm->mss_h >> 8), (uint8_t)prm->mss_h };
	static const uint8_t ws[3] = { 3, 3, 7 };
	static const uint8_t sackp[2] = { 4, 2 };
	/* timestamps: kind 8, len 10, TSval, TSecr = 0 (ZMap sends a fixed TSval) */
	static const uint8_t ts[10] = { 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 };

#define PUT(arr) (memcpy(o + n, arr, sizeof(arr)), n += sizeof(arr))
#define NOP (o[n++] = 1)
	PUT(mss);
	switch (prm->options) {
	case PPS_TCPOPT_SMALLEST: break;
	case PPS_TCPOPT_WINDOWS:
		NOP;
		PUT(ws);
		NOP;
		NOP;
		PUT(sackp);
		break;
	case PPS_TCPOPT_LINUX:
		PUT(sackp);
		PUT(ts);
		NOP;
		PUT(ws);
		break;
	case PPS_TCPOPT_BSD:
		NOP;
		PUT(ws);
		NOP;
		NOP;
		PUT(ts);
		PUT(sackp);
		o[n++] = 0; /* EOL */
		o[n++] = 0; /* pad to a multiple of 4 */
		break;
	}
#undef PUT
#undef NOP
	return n;
}

size_t pps_template_put_l3(uint8_t *buf, const struct pps_template_params *prm, uint8_t proto,
			   uint16_t tot_len)
{
	uint8_t *ip = buf + (prm->with_ethernet ? PPS_ETH_HLEN : 0);

	if (prm->with_ethernet) {
		memcpy(buf, prm->dst_mac, 6);
		memcpy(buf + 6, prm->src_mac, 6);
		buf[12] = 0x08;
		buf[13] = 0x00;
	}
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot_len >> 8);
	ip[3] = (uint8_t)tot_len;
	ip[6] = 0x40; /* DF, as Linux sets on SYNs */
	ip[8] = prm->ttl;
	ip[9] = proto;
	return (size_t)(ip - buf);
}

int pps_template_build(struct pps_template *t, const struct pps_template_params *prm)
{
	uint8_t *b = t->bytes;
	uint16_t ip_off = prm->with_ethernet ? PPS_ETH_HLEN : 0;
	uint8_t *ip = b + ip_off;
	uint8_t *tcp = ip + 20;
	size_t optlen;
	uint16_t tot;

	if ((unsigned)prm->options > PPS_TCPOPT_BSD)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	optlen = prm->rst ? 0 : put_options(tcp + 20, prm);
	t->ip_off = ip_off;
	t->tcp_off = (uint16_t)(ip_off + 20);
	t->tcp_len = (uint16_t)(20 + optlen);
	tot = (uint16_t)(20 + t->tcp_len);
	pps_template_put_l3(b, prm, 6, tot);
	t->src_ip_h = prm->src_ip_h;

	tcp[12] = (uint8_t)((t->tcp_len / 4) << 4);
	tcp[13] = prm->rst ? 0x04 : 0x02; /* RST or SYN */
	if (!prm->rst) {
		tcp[14] = (uint8_t)(prm->window_h >> 8);
		tcp[15] = (uint8_t)prm->window_h;
	}

	t->len = (uint16_t)(ip_off + tot);
	if (prm->with_ethernet && t->len < PPS_ETH_MIN_FRAME)
		t->len = PPS_ETH_MIN_FRAME;

	/* ip[4..5] id, ip[10..11] checksum, ip[12..19] addresses are zero here. */
	/* both folded to 16 bits (not complemented) so that a probe's sums stay below 2^32 */
	t->ip_sum = (uint16_t)~pps_csum_fold(pps_csum_partial(ip, 20, 0));
	/* pseudo header without addresses; TCP with zero ports, seq and checksum */
	t->tcp_sum = (uint16_t)~pps_csum_fold(pps_csum_partial(tcp, t->tcp_len, 6 + t->tcp_len));
	return 0;
}
