#include "lab_util.h"

#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pps_parse.h"
#include "pps_targets.h"

int lab_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc))
		return -1;
	return WEXITSTATUS(rc);
}

int lab_up(const char *name)
{
	return lab_sh("PPS_LAB=%s %s/scripts/netlab.sh up >/dev/null 2>&1", name, PPS_SOURCE_DIR);
}

void lab_down(const char *name)
{
	lab_sh("PPS_LAB=%s %s/scripts/netlab.sh down >/dev/null 2>&1", name, PPS_SOURCE_DIR);
}

void lab_suite_setup(const char *name, char *dir)
{
	cr_assert(geteuid() == 0, "the lab suites need root");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
	cr_assert_eq(lab_up(name), 0, "netlab.sh up (PPS_LAB=%s) failed", name);
}

void lab_suite_teardown(const char *name, const char *dir)
{
	lab_down(name);
	lab_sh("rm -rf %s", dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(struct lab_set *s, size_t *cap, const char *line)
{
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		char **n = realloc(s->items, *cap * sizeof(char *));
		if (!n)
			return -1;
		s->items = n;
	}
	s->items[s->n++] = strdup(line);
	return 0;
}

static int load(FILE *f, struct lab_set *s, int results)
{
	char line[256];
	size_t cap = 0;
	int first = 1;

	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (results && first) {
			first = 0;
			if (strcmp(line, "saddr,sport,classification") != 0)
				return -1;
			continue;
		}
		if (results) {
			char *c = strrchr(line, ',');
			if (!c)
				return -1;
			if (!strcmp(c + 1, "synack"))
				strcpy(c + 1, "open");
			else if (!strcmp(c + 1, "rst"))
				strcpy(c + 1, "closed");
			else
				return -1;
		}
		if (push(s, &cap, line))
			return -1;
	}
	qsort(s->items, s->n, sizeof(char *), cmp_str);
	return 0;
}

int lab_truth(struct lab_set *s)
{
	char cmd[1024];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof(cmd), "%s/scripts/netlab.sh truth", PPS_SOURCE_DIR);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	rc = load(p, s, 0);
	return pclose(p) == 0 ? rc : -1;
}

int lab_read_results(const char *path, struct lab_set *s)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return -1;
	rc = load(f, s, 1);
	fclose(f);
	return rc;
}

void lab_set_free(struct lab_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

size_t lab_set_common(const struct lab_set *a, const struct lab_set *b)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->n && j < b->n) {
		int c = strcmp(a->items[i], b->items[j]);
		if (c == 0) {
			n++;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	return n;
}

int lab_capture_start(const char *ns, const char *iface, const char *pcap, const char *filter)
{
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("ip", "ip", "netns", "exec", ns, "tcpdump", "-i", iface, "-U", "-n", "-s",
		       "128", "-w", pcap, filter, (char *)NULL);
		_exit(127);
	}
	/* wait until tcpdump has opened the file (it writes the pcap header at once) */
	for (int i = 0; i < 100; i++) {
		if (access(pcap, F_OK) == 0)
			break;
		usleep(50000);
	}
	usleep(300000);
	return pid;
}

void lab_capture_stop(int pid)
{
	int st;

	usleep(300000);
	kill(pid, SIGINT);
	waitpid(pid, &st, 0);
}

int lab_set_equal(const struct lab_set *a, const struct lab_set *b)
{
	return a->n == b->n && lab_set_common(a, b) == a->n;
}

int lab_read_lines(const char *path, int skip, struct lab_set *s)
{
	char line[256];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	memset(s, 0, sizeof(*s));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (skip > 0) {
			skip--;
			continue;
		}
		if (push(s, &cap, line)) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	qsort(s->items, s->n, sizeof(char *), cmp_str);
	return 0;
}

long lab_read_probes(const char *pcap, struct lab_set *s)
{
	char errbuf[PCAP_ERRBUF_SIZE], line[96], ip[16];
	pcap_t *p = pcap_open_offline(pcap, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t cap = 0;
	long other = 0;

	memset(s, 0, sizeof(*s));
	if (!p)
		return -1;
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct pps_pkt pkt;

		if (pps_parse_frame(data, h->caplen, 1, &pkt) != PPS_PKT_TCP ||
		    (pkt.tcp.flags & (PPS_TCP_SYN | PPS_TCP_ACK | PPS_TCP_RST)) != PPS_TCP_SYN) {
			other++;
			continue;
		}
		pps_format_ipv4(pkt.tcp.daddr_h, ip);
		snprintf(line, sizeof(line), "%s,%u,%u,%u", ip, pkt.tcp.dport_h, pkt.tcp.sport_h,
			 pkt.tcp.seq_h);
		if (push(s, &cap, line))
			break;
	}
	pcap_close(p);
	qsort(s->items, s->n, sizeof(char *), cmp_str);
	return other;
}

long long lab_summary_value(const char *path, const char *key)
{
	char line[512], pat[64];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	snprintf(pat, sizeof(pat), " %s ", key);
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, "summary") ? NULL : strstr(line, pat);

		if (at && sscanf(at + strlen(pat), "%lld", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

long long lab_netstat(const char *ns, const char *key)
{
	char cmd[256], names[8192], values[8192];
	long long v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /proc/net/netstat", ns);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	/* pairs of lines: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ..." */
	while (fgets(names, sizeof(names), p) && fgets(values, sizeof(values), p)) {
		char *sn, *sv, *n = strtok_r(names, " \n", &sn),
			       *val = strtok_r(values, " \n", &sv);

		if (!n || strcmp(n, "TcpExt:"))
			continue;
		while ((n = strtok_r(NULL, " \n", &sn)) && (val = strtok_r(NULL, " \n", &sv)))
			if (!strcmp(n, key)) {
				v = atoll(val);
				break;
			}
	}
	pclose(p);
	return v;
}

/* 1 if the "ip,port,status" line @l has a port in @ports (NULL = any). */
static int port_in(const char *l, const char *const *ports)
{
	const char *c = strchr(l, ',');

	if (!ports)
		return 1;
	for (; *ports; ports++) {
		size_t n = strlen(*ports);
		if (c && !strncmp(c + 1, *ports, n) && c[1 + n] == ',')
			return 1;
	}
	return 0;
}

void lab_assert_truth(const char *path, const char *prefix, const char *const *ports,
		      const char *extra, struct lab_set *got)
{
	struct lab_set all, truth = { 0 };
	size_t common, k = 0;

	cr_assert_eq(lab_truth(&all), 0, "netlab.sh truth failed");
	cr_assert_eq(all.n, 15104, "lab truth has %zu results, expected 15104", all.n);
	truth.items = calloc(all.n + 1, sizeof(char *));
	for (size_t i = 0; i < all.n; i++)
		if (!strncmp(all.items[i], prefix, strlen(prefix)) && port_in(all.items[i], ports))
			truth.items[k++] = all.items[i];
	if (extra)
		truth.items[k++] = (char *)extra;
	truth.n = k;
	qsort(truth.items, truth.n, sizeof(char *), cmp_str);
	cr_assert_gt(truth.n, 0, "no truth lines start with '%s'", prefix);
	cr_assert_eq(lab_read_results(path, got), 0, "cannot read results %s", path);
	common = lab_set_common(got, &truth);
	cr_assert_eq(common, got->n, "precision: %zu of %zu results are not in the truth",
		     got->n - common, got->n);
	cr_assert_geq(common * 1000, truth.n * 999, "recall %zu/%zu below 99.9%%", common, truth.n);
	if (extra) {
		struct lab_set one = { .items = (char **)&extra, .n = 1 };
		cr_assert_eq(lab_set_common(got, &one), 1, "%s is not reported", extra);
	}
	free(truth.items);
	lab_set_free(&all);
}
