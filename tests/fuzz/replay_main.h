/*
 * Shared by the fuzz harnesses: the check macro, and the standalone main
 * used when the harness is built without libFuzzer (plain gcc, make check).
 * That main replays files and directories given as arguments (or, with no
 * argument, the FUZZ_CORPUS_DIR the build passes in), and for each input
 * also every prefix and every single-bit flip, each from a malloc'd buffer
 * of exactly its size, so a sanitizer build sees any read past the end.
 * Include it once, after defining LLVMFuzzerTestOneInput.
 */
#ifndef GWLB_FUZZ_REPLAY_MAIN_H
#define GWLB_FUZZ_REPLAY_MAIN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash, which is what libFuzzer looks for. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#ifndef FUZZ_LIBFUZZER

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_MAX_INPUT	(1 << 20)
#define FUZZ_FLIP_MAX	4096	/* bit flips only for inputs up to this */

static unsigned long fuzz_runs;

static void
fuzz_run_exact(const uint8_t *data, size_t size)
{
	uint8_t *c = malloc(size ? size : 1);

	if (!c) {
		perror("malloc");
		exit(2);
	}
	if (size)
		memcpy(c, data, size);
	LLVMFuzzerTestOneInput(c, size);
	free(c);
	fuzz_runs++;
}

static void
fuzz_run_variants(uint8_t *data, size_t size)
{
	for (size_t n = 0; n <= size; n++)
		fuzz_run_exact(data, n);
	if (size > FUZZ_FLIP_MAX)
		return;
	for (size_t i = 0; i < size; i++) {
		for (int b = 0; b < 8; b++) {
			data[i] ^= (uint8_t)(1u << b);
			fuzz_run_exact(data, size);
			data[i] ^= (uint8_t)(1u << b);
		}
	}
}

static int
fuzz_file(const char *path)
{
	static uint8_t buf[FUZZ_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fuzz_run_variants(buf, n);
	return 0;
}

/* A file, or every regular file in a directory (not recursive). */
static int
fuzz_path(const char *path, unsigned *inputs)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*inputs)++;
		return fuzz_file(path);
	}
	if (!(d = opendir(path))) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char p[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			(*inputs)++;
			if (fuzz_file(p) < 0)
				rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned inputs = 0;
	int rc = 0;

	if (argc < 2) {
#ifdef FUZZ_CORPUS_DIR
		rc = fuzz_path(FUZZ_CORPUS_DIR, &inputs);
#else
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
#endif
	}
	for (int i = 1; i < argc; i++)
		if (fuzz_path(argv[i], &inputs) < 0)
			rc = -1;
	printf("%s: %u inputs, %lu runs (prefixes and bit flips included)\n",
	    argv[0], inputs, fuzz_runs);
	/* An empty corpus would make this test pass without testing. */
	return rc < 0 || inputs == 0 ? 1 : 0;
}

#endif /* !FUZZ_LIBFUZZER */
#endif
