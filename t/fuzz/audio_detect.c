/* Fuzz target: the speech-to-text service's container detection
 * (fcgi/stt/detect.c), which reads the first bytes of every upload.
 *
 * Input: the first bytes of an upload (up to STT_SNIFF_MAX, as the service
 * reads them), in a buffer of exactly that size so ASan sees any read past
 * it. Contract checked (stt.h): the answer is one of the formats, has a name
 * and a media type, is the same for the same bytes, and names a container
 * only when its signature is there. */
#include <string.h>

#include "../../fcgi/stt/stt.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > STT_SNIFF_MAX)
		size = STT_SNIFF_MAX;
	unsigned char *head = malloc(size ? size : 1);
	memcpy(head, data, size);
	enum stt_format f = stt_detect(head, size);
	fuzz_check(f >= STT_FORMAT_NONE && f <= STT_FORMAT_AAC, "a known format");
	fuzz_check(stt_detect(head, size) == f, "the same bytes, the same answer");
	fuzz_check(stt_format_name(f) != NULL && stt_format_content_type(f) != NULL,
	           "a name and a media type");
	if (f == STT_FORMAT_WAV)
		fuzz_check(size >= 12 && memcmp(head, "RIFF", 4) == 0 &&
		               memcmp(head + 8, "WAVE", 4) == 0,
		           "WAV is RIFF....WAVE");
	if (f == STT_FORMAT_OGG)
		fuzz_check(size >= 4 && memcmp(head, "OggS", 4) == 0, "Ogg starts OggS");
	if (f == STT_FORMAT_FLAC)
		fuzz_check(size >= 4 && memcmp(head, "fLaC", 4) == 0, "FLAC starts fLaC");
	if (f == STT_FORMAT_NONE)
		fuzz_check(strcmp(stt_format_name(f), "") == 0, "none has no name");
	free(head);
	return 0;
}
