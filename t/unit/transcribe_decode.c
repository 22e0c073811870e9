/* programs/transcribe_decode.c: a small WAV decodes to 16 kHz samples; a
 * file FFmpeg cannot open is refused with its sentence, and (found by
 * t/fuzz/audio_decode, its input kept in the corpus) without leaking the
 * I/O context and its 64 KiB buffer each time; a header claiming a sample
 * rate of a gigahertz is refused before a resampler is built for it; two
 * MP3s joined, stereo then mono, decode whole (the mono frames were read
 * as stereo ones, through a plane they do not have). */
#define _GNU_SOURCE /* memfd_create */
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../programs/transcribe.h"
#include "tap.h"

/* t/fuzz/corpus/audio_decode/regression-open-fails-leak.webm */
static const unsigned char open_fails[] = {
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2,
    0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x42, 0x87,
    0x81, 0x04, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x7a, 0x11, 0x4d, 0x9b, 0x74, 0xba, 0x4d, 0xbb, 0x8b, 0x53, 0xab, 0x84, 0x15,
    0x4f, 0x67, 0x67, 0x53, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x25,
    0xfa, 0xa5, 0xfa, 0x00, 0x00, 0x00, 0x00, 0x49, 0xa9, 0x66, 0x53, 0xac, 0x81, 0xa1, 0x4d,
    0xbb, 0x8b, 0x53, 0xab, 0x84, 0x16, 0x54, 0xae, 0x6b, 0x53, 0xac, 0x81, 0xd8, 0x4d, 0xbb,
    0x8c, 0xe8, 0xba, 0x53, 0xab, 0xd3, 0x27, 0x01};

static int memfd(const void *data, size_t len)
{
	int fd = memfd_create("audio", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static void le(unsigned char *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static enum err decode(const void *data, size_t len, struct transcribe_audio *a,
                       struct extract_out *o)
{
	struct extract_limits l;
	extract_limits_default(&l);
	l.max_media_seconds = 60;
	memset(a, 0, sizeof(*a));
	memset(o, 0, sizeof(*o));
	buf_init(&o->text);
	int fd = memfd(data, len);
	enum err e = transcribe_decode(fd, &l, a, o);
	close(fd);
	buf_clear(&o->text);
	return e;
}

int main(void)
{
	/* Half a second of 440 Hz at 8 kHz: 4000 samples, 8000 at 16 kHz. */
	enum { RATE = 8000, N = 4000 };
	static unsigned char wav[44 + 2 * N];
	memcpy(wav, "RIFF", 4);
	le(wav + 4, 36 + 2 * N, 4);
	memcpy(wav + 8, "WAVEfmt ", 8);
	le(wav + 16, 16, 4);
	le(wav + 20, 1, 2);
	le(wav + 22, 1, 2);
	le(wav + 24, RATE, 4);
	le(wav + 28, RATE * 2, 4);
	le(wav + 32, 2, 2);
	le(wav + 34, 16, 2);
	memcpy(wav + 36, "data", 4);
	le(wav + 40, 2 * N, 4);
	for (int i = 0; i < N; i++)
		le(wav + 44 + 2 * i, (uint16_t)(int16_t)(8000 * sin(2 * M_PI * 440 * i / RATE)), 2);
	struct transcribe_audio a;
	struct extract_out o;
	is_long(decode(wav, sizeof(wav), &a, &o), ERR_OK, "a WAV decodes");
	ok(a.n > 7900 && a.n < 8100, "to 16 kHz (%zu samples)", a.n);
	free(a.samples);

	is_long(decode(open_fails, sizeof(open_fails), &a, &o), ERR_INVALID,
	        "a file FFmpeg cannot open is refused");
	ok(o.message[0] != '\0', "with its sentence (%s)", o.message);
	free(a.samples);
	/* Each leak was the 64 KiB buffer and its context: 200 of them, 13 MB. */
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < 200; i++) {
		(void)decode(open_fails, sizeof(open_fails), &a, &o);
		free(a.samples);
	}
	size_t after = mallinfo2().uordblks;
	size_t grew = after > before ? after - before : 0;
	ok(grew < 1024 * 1024, "a failed open leaks nothing (%zu bytes more after 200)", grew);

	/* t/fuzz/corpus/audio_decode/regression-gigahertz-wav.wav: a WAV header
	 * claiming 1 040 195 392 Hz took seconds in swr_init; now refused. */
	le(wav + 24, 0x3e001f40u, 4);
	le(wav + 28, 0x3e001f40u * 2u, 4);
	is_long(decode(wav, sizeof(wav), &a, &o), ERR_INVALID, "a rate of 1 GHz is refused");
	ok(strstr(o.message, "sample rate") != NULL, "saying why (%s)", o.message);
	free(a.samples);

	/* t/fuzz/corpus/audio_decode/regression-stereo-then-mono.mp3: 0.2 s of
	 * 22.05 kHz stereo then 0.2 s of mono, 0.4 s (6400 samples, each part
	 * with its encoder's padding) at 16 kHz. */
	char path[PATH_MAX];
	const char *src = getenv("LECTERN_SRCDIR");
	snprintf(path, sizeof(path),
	         "%s/t/fuzz/corpus/audio_decode/regression-stereo-then-mono.mp3", src ? src : ".");
	static unsigned char joined[4096];
	FILE *f = fopen(path, "rb");
	size_t len = f ? fread(joined, 1, sizeof(joined), f) : 0;
	if (f)
		fclose(f);
	if (ok(len > 0 && len < sizeof(joined), "the joined MP3 is read (%zu bytes)", len)) {
		is_long(decode(joined, len, &a, &o), ERR_OK, "stereo then mono decodes");
		ok(a.n >= 6400 && a.n < 6400 + 4 * 1152, "both parts, 0.4 s (%zu samples)", a.n);
		free(a.samples);
	}
	return tap_done();
}
