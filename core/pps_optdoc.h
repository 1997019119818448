/*
 * pps_optdoc.h - what a program's option table says about itself, in one shape for every
 * binary (ppscan, ppscan-pcap, the identification stage): --help prints it, --list-options
 * dumps it as JSON, and the build turns that dump into the man page and the bash completion
 * (scripts/gen_docs.py), so the three never drift apart.
 */
#ifndef PPS_OPTDOC_H
#define PPS_OPTDOC_H

#include <stddef.h>
#include <stdio.h>

/** One documented option (a hidden alias or an internal key has none). */
struct pps_optdoc {
	const char *name;	   /* long name, without "--" */
	int letter;		   /* short option letter, 0 = none */
	const char *arg;	   /* the value's name ("FILE", "PORTS"), NULL = a flag */
	const char *help;	   /* one line, as --help prints it */
	const char *const *values; /* the accepted words (NULL-terminated), or NULL = free */
};

/** The program around the options. */
struct pps_optdoc_prog {
	const char *prog;	 /* "ppscan" */
	const char *version;	 /* PPS_VERSION */
	const char *summary;	 /* the man page's NAME line after "prog - " */
	const char *usage[3];	 /* synopsis lines without the program name, NULL-terminated */
	const char *description; /* a paragraph: what the program does */
};

/**
 * pps_optdoc_usage - --help: "PROG - SUMMARY", the usage lines, the description, then one
 * line per option ("  -p, --target-ports PORTS   help"), to @out.
 */
void pps_optdoc_usage(FILE *out, const struct pps_optdoc_prog *pg, const struct pps_optdoc *o,
		      size_t n);

/**
 * pps_optdoc_json - --list-options: @pg and the @n options of @o as one JSON object
 * ({"prog", "version", "summary", "usage": [...], "description", "options": [{"long",
 * "short", "arg", "help", "values"}]}) and a newline, to @out. Returns 0, or -ENOMEM / -EIO.
 */
int pps_optdoc_json(FILE *out, const struct pps_optdoc_prog *pg, const struct pps_optdoc *o,
		    size_t n);

#endif /* PPS_OPTDOC_H */
