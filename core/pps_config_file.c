/*
 * Config and resume files: -C FILE and --resume FILE are "key = value" lines whose keys are
 * the long option names ("targets = ..." for targets, "#" comments, a BOM and CRLF accepted);
 * they are expanded into "--key=value" arguments placed before the command line, so the
 * command line wins. --dump-config and resume files write the same format back.
 */
#include "pps_config_opts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Growable argument vector with the origin ("FILE:LINE") of each argument. */
struct argvec {
	char **v;
	char **origin;
	int n, cap;
};

static int argvec_push(struct argvec *a, const char *s, const char *origin)
{
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, (size_t)cap * sizeof(char *));
		char **o;

		if (!v)
			return -ENOMEM;
		a->v = v;
		o = realloc(a->origin, (size_t)cap * sizeof(char *));
		if (!o)
			return -ENOMEM;
		a->origin = o;
		a->cap = cap;
	}
	a->v[a->n] = strdup(s);
	a->origin[a->n] = origin ? strdup(origin) : NULL;
	if (!a->v[a->n])
		return -ENOMEM;
	a->n++;
	a->v[a->n] = NULL;
	a->origin[a->n] = (char *)-1;
	return 0;
}

static void argvec_free(struct argvec *a)
{
	for (int i = 0; i < a->n; i++) {
		free(a->v[i]);
		free(a->origin[i]);
	}
	free(a->v);
	free(a->origin);
}

static int parse_bool(const char *v)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off"))
		return 0;
	return -1;
}

/*
 * The option a file key names, if a file may hold it, else NULL. @other: set to 1 when the
 * key is one of the other backend's (the default file serves both binaries).
 */
static const struct pps_opt *file_key(const struct pps_config *cfg, const char *k, int *other)
{
	const struct pps_opt *d = NULL;

	*other = 0;
	for (size_t i = 0; i < pps_n_opts; i++)
		if (!strcmp(pps_opts[i].lo.name, k) && pps_opts[i].file_key) {
			if (pps_opts[i].backends & cfg->backend)
				d = &pps_opts[i];
			else
				*other = 1;
		}
	if (d)
		*other = 0;
	return d;
}

/*
 * Reads a config file (@kind "config", "default config" or "resume") into arguments:
 * "key = value" -> "--key=value"; boolean keys take true/false; "targets" lists positional
 * targets. The default config file serves ppscan and ppscan-pcap: a key of the other
 * backend (interface, eal) is skipped there. Errors name FILE:LINE.
 */
static int expand_file(struct pps_config *cfg, const char *kind, const char *path,
		       struct argvec *targets, struct argvec *out, FILE *err)
{
	/* a --join worker's plan is text read from Redis, named "plan" in messages */
	const int text = !strcmp(kind, PPS_PLAN_ORIGIN);
	FILE *f = text ? fmemopen((void *)cfg->plan_text, strlen(cfg->plan_text), "r")
		       : fopen(path, "r");
	char *line = NULL, where[600];
	size_t cap = 0;
	unsigned long ln = 0;
	struct stat st;
	char seen[PPS_MAX_OPTS] = { 0 };

	if (!f || (!text && (fstat(fileno(f), &st) || S_ISDIR(st.st_mode)))) {
		fprintf(err, "%s: cannot read %s file '%s': %s\n", cfg->prog, kind, path,
			f ? "it is a directory" : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *k = line, *v, *e, *hash;
		const struct pps_opt *d;
		int other;

		ln++;
		if (strlen(line) != strcspn(line, "\n") + (strchr(line, '\n') ? 1 : 0)) {
			fprintf(err, "%s: %s:%lu: NUL byte in the file\n", cfg->prog, path, ln);
			goto fail;
		}
		snprintf(where, sizeof(where), "%s:%lu", path, ln);
		if (ln == 1 && !strncmp(k, "\xef\xbb\xbf", 3))
			k += 3;
		if ((hash = strchr(k, '#')))
			*hash = '\0';
		while (isspace((unsigned char)*k))
			k++;
		e = k + strlen(k);
		while (e > k && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*k)
			continue;
		v = strchr(k, '=');
		if (!v) {
			fprintf(err, "%s: %s: expected 'key = value', got '%s'\n", cfg->prog, where,
				k);
			goto fail;
		}
		e = v;
		*v++ = '\0';
		while (e > k && isspace((unsigned char)e[-1]))
			*--e = '\0';
		while (isspace((unsigned char)*v))
			v++;
		if (!strcmp(k, "targets") || !strcmp(k, "target")) {
			char *save = NULL, *tok;
			for (tok = strtok_r(v, " \t,", &save); tok;
			     tok = strtok_r(NULL, " \t,", &save))
				if (argvec_push(targets, tok, where))
					goto nomem;
			continue;
		}
		d = file_key(cfg, k, &other);
		if (!d && other && !strcmp(kind, "default config"))
			continue;
		if (!d) {
			fprintf(err, "%s: %s: unknown key '%s'\n", cfg->prog, where, k);
			goto fail;
		}
		if (seen[d - pps_opts]++) {
			fprintf(err, "%s: %s: '%s' given twice in one file\n", cfg->prog, where, k);
			goto fail;
		}
		if (d->lo.has_arg == no_argument) {
			int b = parse_bool(v);

			if (b < 0) {
				fprintf(err,
					"%s: %s: invalid value '%s' for '%s': expected true/false, yes/no, on/off or 1/0\n",
					cfg->prog, where, v, k);
				goto fail;
			}
			if (b) {
				char flag[128];

				snprintf(flag, sizeof(flag), "--%s", k);
				if (argvec_push(out, flag, where))
					goto nomem;
			}
			continue;
		}
		{
			char *arg = NULL;
			int bad = asprintf(&arg, "--%s=%s", k, v) < 0 ||
				  argvec_push(out, arg, where);

			free(arg);
			if (bad)
				goto nomem;
		}
	}
	if (ferror(f)) {
		fprintf(err, "%s: cannot read '%s': %s\n", cfg->prog, path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	return 0;
nomem:
	fprintf(err, "%s: out of memory reading '%s'\n", cfg->prog, path);
fail:
	free(line);
	fclose(f);
	return -1;
}

/* Finds "-C FILE", "--config FILE", "--config=FILE", "--resume ..." in argv (before "--"). */
static const char *find_file_opt(int argc, char **argv, const char *lng, char shrt, int *at,
				 int *width)
{
	size_t l = strlen(lng);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "--", 2) && !strncmp(a + 2, lng, l)) {
			if (a[2 + l] == '=') {
				*at = i;
				*width = 1;
				return a + 3 + l;
			}
			if (a[2 + l] == '\0' && i + 1 < argc) {
				*at = i;
				*width = 2;
				return argv[i + 1];
			}
		}
		if (shrt && a[0] == '-' && a[1] == shrt) {
			*at = i;
			if (a[2]) {
				*width = 1;
				return a + 2;
			}
			if (i + 1 < argc) {
				*width = 2;
				return argv[i + 1];
			}
		}
	}
	return NULL;
}

const char *pps_config_default_file(void)
{
	const char *env = getenv("PPSCAN_CONFIG");

	if (env)
		return *env ? env : NULL;
	return PPS_DEFAULT_CONFIG;
}

/*
 * 1 if the default config file applies: no -C or --resume (they replace it), no
 * --no-config, and no --help, --version or --list-options (they work whatever the file
 * holds, and the man page made from --list-options does not depend on the build host).
 */
static int default_applies(int argc, char **argv)
{
	static const char *const skip[] = { "--no-config", "--help",   "-h",
					    "--version",   "-V",       "--list-options",
					    "--resume",	   "--config", NULL };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "-C", 2) || !strncmp(a, "--config=", 9) ||
		    !strncmp(a, "--resume=", 9))
			return 0;
		for (int k = 0; skip[k]; k++)
			if (!strcmp(a, skip[k]))
				return 0;
	}
	return 1;
}

int pps_config_expand(struct pps_config *cfg, int argc, char **argv, int *argc_out, FILE *err)
{
	struct argvec av = { 0 }, tv = { 0 };
	const char *resfile, *cfgfile, *deffile;
	int at = -1, width = 0, rc = -1;
	struct stat st;

	if (argvec_push(&av, argc > 0 ? argv[0] : cfg->prog, NULL))
		goto nomem;
	if (cfg->plan_text && *cfg->plan_text &&
	    expand_file(cfg, PPS_PLAN_ORIGIN, PPS_PLAN_ORIGIN, &tv, &av, err))
		goto out;
	resfile = find_file_opt(argc, argv, "resume", 0, &at, &width);
	if (resfile) {
		cfg->resuming = 1;
		cfg->resume_path = resfile;
		if (expand_file(cfg, "resume", resfile, &tv, &av, err))
			goto out;
	}
	cfgfile = find_file_opt(argc, argv, "config", 'C', &at, &width);
	if (cfgfile) {
		int at2 = -1, w2 = 0;

		/* a second -C after the first one would be silently ignored: refuse it */
		if (find_file_opt(argc - (at + width - 1), argv + (at + width - 1), "config", 'C',
				  &at2, &w2)) {
			fprintf(err,
				"%s: -C/--config given twice: put everything in one config file\n",
				cfg->prog);
			goto out;
		}
		if (expand_file(cfg, "config", cfgfile, &tv, &av, err))
			goto out;
	} else if (!resfile && default_applies(argc, argv) &&
		   (deffile = pps_config_default_file())) {
		/* absent is normal; present but unreadable is named, as any config file */
		if ((stat(deffile, &st) == 0 || errno != ENOENT) &&
		    expand_file(cfg, "default config", deffile, &tv, &av, err))
			goto out;
	}
	for (int i = 1; i < argc; i++)
		if (argvec_push(&av, argv[i], NULL))
			goto nomem;
	for (int i = 0; i < tv.n; i++) /* file targets go last, as positional arguments */
		if (argvec_push(&av, tv.v[i], tv.origin[i]))
			goto nomem;
	rc = 0;
	goto out;
nomem:
	fprintf(err, "%s: out of memory\n", cfg->prog);
out:
	cfg->file_argv = av.v;
	cfg->origin = av.origin;
	*argc_out = av.n;
	argvec_free(&tv);
	return rc;
}

static int dump(const struct pps_config *cfg, FILE *out, int for_resume)
{
	fprintf(out, "# %s %s configuration: read it back with -C FILE\n", cfg->prog, PPS_VERSION);
	for (size_t i = 0; i < pps_n_opts; i++) {
		const struct pps_opt *o = &pps_opts[i];
		int v = o->lo.val;

		/* what a file holds: given options, not the seed (written below) or one-shot ones */
		if (!cfg->given[i] || !o->file_key || v == 'e' || v == OPT_RESUME_NEXT ||
		    v == OPT_RESUME_COMPLETE || v == OPT_EAL || v == OPT_DRYRUN || v == OPT_SCAN_ID)
			continue;
		if (for_resume && v == 't') /* the resumed run goes on to the end */
			continue;
		if (o->arg && !strcmp(o->arg, "FILE") && cfg->given[i][0] != '/' &&
		    strcmp(cfg->given[i], "-")) {
			/* absolute, so the file reads back (and a resume appends) from any directory */
			char cwd[4096];

			if (getcwd(cwd, sizeof(cwd))) {
				fprintf(out, "%s = %s/%s\n", o->lo.name, cwd, cfg->given[i]);
				continue;
			}
		}
		fprintf(out, "%s = %s\n", o->lo.name,
			o->lo.has_arg == no_argument ? "true" : cfg->given[i]);
	}
	fprintf(out, "seed = %" PRIu64 "\n", cfg->seed);
	if (cfg->redis_url || cfg->scan_id_given) /* a resumed scan writes to the same keys */
		fprintf(out, "scan-id = %s\n", cfg->scan_id);
	if (cfg->n_target_args) {
		fprintf(out, "targets =");
		for (int i = 0; i < cfg->n_target_args; i++)
			fprintf(out, " %s", cfg->target_args[i]);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

int pps_config_dump(const struct pps_config *cfg, FILE *out)
{
	return dump(cfg, out, 0);
}

int pps_config_write_resume(const struct pps_config *cfg, const char *path, const char *eal,
			    const uint64_t *next, unsigned n)
{
	char tmp[4096];
	FILE *f;
	int rc, fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* 0600: the file may hold a Redis password */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = dump(cfg, f, 1);
	if (eal && *eal)
		fprintf(f, "eal = %s\n", eal);
	fprintf(f, "resume-next = ");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", next[i]);
	fputc('\n', f);
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	return rc;
}
