/* stt detect: the audio container from its first bytes, never from the
 * name or the declared type. */
#include <string.h>

#include "stt.h"

static const struct {
	const char *name, *content_type;
} formats[] = {
    [STT_FORMAT_NONE] = {"", "application/octet-stream"},
    [STT_FORMAT_WAV] = {"wav", "audio/wav"},
    [STT_FORMAT_MP3] = {"mp3", "audio/mpeg"},
    [STT_FORMAT_OGG] = {"ogg", "audio/ogg"},
    [STT_FORMAT_FLAC] = {"flac", "audio/flac"},
    [STT_FORMAT_WEBM] = {"webm", "audio/webm"},
    [STT_FORMAT_M4A] = {"m4a", "audio/mp4"},
    [STT_FORMAT_AAC] = {"aac", "audio/aac"},
};

const char *stt_format_name(enum stt_format f)
{
	return formats[f].name;
}

const char *stt_format_content_type(enum stt_format f)
{
	return formats[f].content_type;
}

static bool has(const unsigned char *head, size_t len, size_t at, const char *magic)
{
	size_t n = strlen(magic);
	return len >= at + n && memcmp(head + at, magic, n) == 0;
}

/* True when needle occurs in head[0..len). */
static bool contains(const unsigned char *head, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(head + i, needle, n) == 0)
			return true;
	return false;
}

/* An MPEG audio frame header (layer III, a real bit rate and sample rate),
 * or an ADTS (AAC) one. */
static enum stt_format frame_sync(const unsigned char *h, size_t len)
{
	if (len < 4 || h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
		return STT_FORMAT_NONE;
	if ((h[1] & 0xF6) == 0xF0 && ((h[2] >> 2) & 0x0F) < 13)
		return STT_FORMAT_AAC; /* ADTS: layer 00, a known sample rate */
	unsigned version = (h[1] >> 3) & 3, layer = (h[1] >> 1) & 3;
	unsigned bitrate = h[2] >> 4, rate = (h[2] >> 2) & 3;
	if (version == 1 || layer != 1 || bitrate == 0 || bitrate == 15 || rate == 3)
		return STT_FORMAT_NONE;
	return STT_FORMAT_MP3;
}

enum stt_format stt_detect(const unsigned char *head, size_t len)
{
	if (has(head, len, 0, "RIFF") && has(head, len, 8, "WAVE"))
		return STT_FORMAT_WAV;
	if (has(head, len, 0, "ID3"))
		return STT_FORMAT_MP3;
	if (has(head, len, 0, "OggS"))
		return contains(head, len, "OpusHead") || contains(head, len, "\x01vorbis")
		           ? STT_FORMAT_OGG
		           : STT_FORMAT_NONE;
	if (has(head, len, 0, "fLaC"))
		return STT_FORMAT_FLAC;
	if (len >= 4 && head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF && head[3] == 0xA3)
		return STT_FORMAT_WEBM;
	if (has(head, len, 4, "ftyp"))
		return STT_FORMAT_M4A;
	return frame_sync(head, len);
}
