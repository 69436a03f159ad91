/* fuzz_driver.c — runs a libFuzzer target without libFuzzer: every file named on the command line
 * (directories are walked one level deep) is fed to LLVMFuzzerTestOneInput once.  This keeps every
 * fuzz target's corpus in the ordinary test suite and under ASan/UBSan with gcc builds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_driver: cannot open %s\n", path);
		return 1;
	}
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return 1;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	/* Hand over an exact-size heap copy so ASan sees reads past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return 1;
	}
	if (len)
		memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, failed = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz_driver: %s: not found\n", argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			while (d && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				char p[4096];
				snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
				failed += run_file(p);
				files++;
			}
			if (d)
				closedir(d);
		} else {
			failed += run_file(argv[i]);
			files++;
		}
	}
	/* Also a few synthetic edge inputs every target must survive. */
	static const uint8_t edge[] = {0, 0xff, '\n', '<', '1', '>', ' ', 0x80};
	for (size_t n = 0; n <= sizeof edge; n++) {
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, edge, n);
		LLVMFuzzerTestOneInput(p, n);
		free(p);
	}
	printf("fuzz_driver: %d inputs replayed, %d unreadable\n", files, failed);
	return failed ? 1 : 0;
}
