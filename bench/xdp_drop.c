/*
 * xdp_drop.c - the kernel-path benchmark's sink: an XDP program that drops every frame at the
 * receiving veth before any skb is built, so the sink costs the sending CPU as little as the
 * kernel allows and the rates measure the senders. Built and attached by bench/bench.py:
 *   clang -O2 -target bpf -c xdp_drop.c && ip link set dev PEER xdp obj xdp_drop.o sec xdp
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
