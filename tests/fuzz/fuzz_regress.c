/*
 * fuzz_regress.c - replays inputs through the libFuzzer target without libFuzzer: every file
 * in the directories given as arguments (the seed corpus and tests/fuzz/regress/, where each
 * input that ever crashed the target is kept) goes through LLVMFuzzerTestOneInput() once. A
 * crash or trap fails the test; built by the normal and the sanitizer builds (suite unit).
 *
 *   fuzz_regress [--prefix HEX] DIR...
 *
 * --prefix HEX puts those bytes before every file of the directories that follow it (until
 * the next --prefix; "--prefix ''" ends it): the targets whose first bytes select what is
 * fuzzed (fuzz_fingerprint.c, fuzz_id_modules.c) replay raw server replies that way.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t prefix[64];
static size_t prefix_len;

/* --prefix HEX: the bytes, or -1 for a bad value. */
static int set_prefix(const char *hex)
{
	size_t l = strlen(hex);

	if (l % 2 || l / 2 > sizeof(prefix))
		return -1;
	for (size_t i = 0; i < l / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		prefix[i] = (uint8_t)v;
	}
	prefix_len = l / 2;
	return 0;
}

static int replay(const char *path)
{
	static uint8_t buf[1 << 17];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return -1;
	}
	memcpy(buf, prefix, prefix_len);
	n = prefix_len + fread(buf + prefix_len, 1, sizeof(buf) - prefix_len, f);
	fclose(f);
	/* an exact-size heap copy, so AddressSanitizer sees any read past the end */
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return -1;
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d;
		struct dirent *e;

		if (!strcmp(argv[i], "--prefix") && i + 1 < argc) {
			if (set_prefix(argv[++i]) < 0) {
				fprintf(stderr,
					"fuzz_regress: invalid --prefix '%s': want hex bytes\n",
					argv[i]);
				return 2;
			}
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			perror(argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (replay(path) < 0) {
				closedir(d);
				return 1;
			}
			files++;
		}
		closedir(d);
	}
	printf("fuzz_regress: %lu inputs replayed, no crash\n", files);
	return files ? 0 : 1;
}
