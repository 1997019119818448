/*
 * Interface facts from the kernel's routing and neighbour tables over rtnetlink (RFC 3549;
 * rtnetlink(7)): one RTM_GETROUTE request answers "which gateway, which source address, which
 * kind of route" for one destination, as `ip route get` does; an RTM_GETNEIGH dump is searched
 * for the gateway's link-layer address, as `ip neigh show` does. Raw NETLINK_ROUTE sockets, no
 * library: two requests at start, never on the packet path.
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

#define NL_BUF 32768

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void nl_put_attr(struct nlmsghdr *nh, unsigned short type, const void *data,
			unsigned short len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Receives one datagram (waits at most 2 s). Returns its length or -errno. */
static ssize_t nl_recv(int fd, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 2000) <= 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, len, 0);
	return n < 0 ? -errno : n;
}

int io_nl_route_get(uint32_t dst_h, int oif, struct io_route *r)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	static char buf[NL_BUF];
	uint32_t dst_n = htonl(dst_h);
	int fd = nl_open(), rc = -ENOENT;
	ssize_t n;

	if (fd < 0)
		return fd;
	memset(&req, 0, sizeof(req));
	memset(r, 0, sizeof(*r));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = AF_INET;
	req.rt.rtm_dst_len = 32;
	nl_put_attr(&req.nh, RTA_DST, &dst_n, 4);
	if (oif > 0)
		nl_put_attr(&req.nh, RTA_OIF, &oif, sizeof(oif));
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	if ((n = nl_recv(fd, buf, sizeof(buf))) < 0) {
		rc = (int)n;
		goto out;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			rc = e->error ? e->error : -ENOENT;
			break;
		}
		if (nh->nlmsg_type != RTM_NEWROUTE)
			continue;
		const struct rtmsg *rt = NLMSG_DATA(nh);
		int alen = (int)RTM_PAYLOAD(nh);

		r->type = rt->rtm_type;
		for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			uint32_t v;

			if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4) {
				memcpy(&r->oif, RTA_DATA(a), 4);
			} else if ((a->rta_type == RTA_GATEWAY || a->rta_type == RTA_PREFSRC) &&
				   RTA_PAYLOAD(a) == 4) {
				memcpy(&v, RTA_DATA(a), 4);
				if (a->rta_type == RTA_GATEWAY)
					r->gw_h = ntohl(v), r->has_gw = 1;
				else
					r->prefsrc_h = ntohl(v), r->has_prefsrc = 1;
			}
		}
		rc = 0;
		break;
	}
out:
	close(fd);
	return rc;
}

/* Usable neighbour states: the kernel has (or had recently) confirmed the address. */
#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

int io_nl_neigh_get(int ifindex, uint32_t ip_h, uint8_t mac[6])
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
	} req;
	static char buf[NL_BUF];
	uint32_t ip_n = htonl(ip_h);
	int fd = nl_open(), rc = -ENOENT, done = 0;

	if (fd < 0)
		return fd;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req.nh.nlmsg_type = RTM_GETNEIGH;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 2;
	req.nd.ndm_family = AF_INET;
	req.nd.ndm_ifindex = ifindex;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	while (!done) {
		ssize_t n = nl_recv(fd, buf, sizeof(buf));

		if (n < 0) {
			rc = (int)n;
			break;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWNEIGH)
				continue;
			const struct ndmsg *nd = NLMSG_DATA(nh);
			int alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
			const uint8_t *ll = NULL;
			int match = 0;

			if (nd->ndm_ifindex != ifindex || !(nd->ndm_state & NUD_USABLE))
				continue;
			for (const struct rtattr *a =
				     (const struct rtattr *)((const char *)nd +
							     NLMSG_ALIGN(sizeof(*nd)));
			     RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 4)
					match = !memcmp(RTA_DATA(a), &ip_n, 4);
				else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
					ll = RTA_DATA(a);
			}
			if (match && ll && rc != 0) {
				memcpy(mac, ll, 6);
				rc = 0;
			}
		}
	}
out:
	close(fd);
	return rc;
}
