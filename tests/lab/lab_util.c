#include "lab_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
