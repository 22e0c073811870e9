/* store_bench: upload and download throughput of one large object through
 * the configured store (LECTERN_STORE and friends), and the process's peak
 * memory, which shows that the object is streamed, never held whole.
 *
 *   store_bench [MiB]      (default 100)
 *
 * Prints one line: backend=... size_mib=... upload_mib_s=... download_mib_s=...
 * rss_before_mib=... peak_rss_mib=... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "storage/store.h"

struct source {
	long long left;
	unsigned char block[STORE_CHUNK];
};

static ssize_t source_read(void *arg, void *buf, size_t cap)
{
	struct source *s = arg;
	size_t n = cap < sizeof(s->block) ? cap : sizeof(s->block);
	if ((long long)n > s->left)
		n = (size_t)s->left;
	memcpy(buf, s->block, n);
	s->left -= (long long)n;
	return (ssize_t)n;
}

static enum err discard(void *arg, const void *data, size_t len)
{
	(void)data;
	*(long long *)arg += (long long)len;
	return ERR_OK;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

int main(int argc, char **argv)
{
	log_init("store-bench", LOG_LEVEL_WARN);
	long mib = 100;
	if (argc > 1 && !cfg_parse_long(argv[1], 1, 100000, &mib)) {
		fprintf(stderr, "usage: store_bench [MiB]\n");
		return 2;
	}
	struct store_config cfg;
	struct store *s = NULL;
	if (store_config_load(&cfg) || store_open(&cfg, &s))
		return 1;
	double rss_before = peak_rss_mib();
	struct source *src = calloc(1, sizeof(*src));
	if (!src)
		return 1;
	for (size_t i = 0; i < sizeof(src->block); i++)
		src->block[i] = (unsigned char)(i * 7 + 3);
	src->left = mib * 1024 * 1024;
	const char *key = "bench/u/1/object.bin";
	struct store_info info;
	double t0 = now_s();
	if (store_put(s, key, "application/octet-stream", source_read, src, mib * 1024 * 1024,
	              &info))
		return 1;
	double t1 = now_s();
	long long got = 0;
	if (store_get(s, key, discard, &got) || got != mib * 1024 * 1024)
		return 1;
	double t2 = now_s();
	if (store_delete(s, key))
		return 1;
	printf("backend=%s size_mib=%ld upload_mib_s=%.1f download_mib_s=%.1f rss_before_mib=%.1f "
	       "peak_rss_mib=%.1f\n",
	       cfg.kind == STORE_S3 ? "s3" : "file", mib, (double)mib / (t1 - t0),
	       (double)mib / (t2 - t1), rss_before, peak_rss_mib());
	free(src);
	store_free(s);
	return 0;
}
