/*
 * replay.c: a main() for the fuzz targets outside libFuzzer. It feeds every
 * regular file of the directories (or the files) named on the command line
 * to LLVMFuzzerTestOneInput once, so that the committed corpora run in the
 * normal test suite under ASan and UBSan. Exit status 0, or 1 when a corpus
 * is missing or empty.
 */
#include "common/common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	struct err e = {0};
	char *data = NULL;
	size_t len = 0;

	if (file_slurp(path, 1u << 24, &data, &len, &e) != 0) {
		fprintf(stderr, "replay: %s\n", e.msg);
		return -1;
	}
	/* An exact-size copy so that ASan sees reads past the input. */
	{
		uint8_t *exact = xmalloc(len ? len : 1);

		memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	free(data);
	return 0;
}

static int
run_path(const char *path, int *count)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	char sub[4096];
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: could not stat \"%s\"\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (run_file(sub) != 0)
				rc = -1;
		}
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	int count = 0, rc = 0;

	for (int i = 1; i < argc; i++)
		if (run_path(argv[i], &count) != 0)
			rc = 1;
	printf("replay: %d inputs\n", count);
	return rc != 0 || count == 0;
}
