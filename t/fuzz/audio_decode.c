/* Fuzz target: the audio decoding of lectern-transcribe
 * (programs/transcribe_decode.c): FFmpeg's probing and demuxing of the
 * accepted containers and their decoders, in process so that ASan sees
 * what our code does with what FFmpeg hands back (FFmpeg itself is not
 * instrumented), with t/fuzz/run's time limit per input.
 *
 * Input: an audio file. Contract checked (transcribe.h): success gives at
 * least one sample and no more than the limit allows; a failure is
 * ERR_INVALID or ERR_TOO_LARGE with the user's sentence and no samples
 * kept beyond the limit. */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../programs/transcribe.h"
#include "fuzz.h"

enum { FUZZ_MEDIA_SECONDS = 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extract_limits l;
	extract_limits_default(&l);
	l.max_media_seconds = FUZZ_MEDIA_SECONDS;
	struct extract_out o = {.text_max = 1024};
	buf_init(&o.text);
	int fd = memfd_create("fuzz-audio", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET))
		abort();
	struct transcribe_audio a = {NULL, 0, 0};
	enum err e = transcribe_decode(fd, &l, &a, &o);
	close(fd);
	size_t max = (size_t)FUZZ_MEDIA_SECONDS * TRANSCRIBE_RATE;
	fuzz_check(a.n <= a.cap && a.n <= max, "samples within the limit");
	if (e == ERR_OK) {
		fuzz_check(a.n > 0 && a.samples != NULL, "success has samples");
	} else {
		fuzz_check(e == ERR_INVALID || e == ERR_TOO_LARGE, "ERR_INVALID or ERR_TOO_LARGE");
		fuzz_check(o.message[0] != '\0', "a failure has its sentence");
	}
	free(a.samples);
	buf_clear(&o.text);
	return 0;
}
