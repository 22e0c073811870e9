/* tts_encode: 16-bit mono PCM to WAV, MP3 (LAME, 48 kbit/s CBR) or Ogg
 * Vorbis (quality 0.3), written as the samples arrive, into the file and,
 * one call per encoded chunk, to the tap (a streamed response). */
#include <lame/lame.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vorbis/vorbisenc.h>

#include "core/log.h"
#include "core/mem.h"
#include "speech/tts_impl.h"

enum { WAV_HEADER = 44, MP3_KBPS = 48, MP3_QUALITY = 7 };

struct tts_encoder {
	enum tts_format format;
	FILE *out;
	const struct tts_tap *tap; /* NULL: none */
	bool tap_off;              /* its write failed: no more calls */
	struct buf pending;        /* bytes of the current chunk for the tap */
	long rate;
	unsigned long long samples;
	/* mp3 */
	lame_global_flags *lame;
	unsigned char *mp3buf;
	size_t mp3cap;
	/* ogg */
	vorbis_info vi;
	vorbis_comment vc;
	vorbis_dsp_state vd;
	vorbis_block vb;
	ogg_stream_state os;
	bool vorbis_ready;
};

static void le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/* Everything encoded goes through here: the file, and the tap's chunk. */
static bool emit(struct tts_encoder *enc, const void *data, size_t len)
{
	if (fwrite(data, 1, len, enc->out) != len)
		return false;
	if (enc->tap != NULL && !enc->tap_off)
		buf_append(&enc->pending, data, len);
	return true;
}

/* Hands the chunk to the tap; one failure (the client left) ends the tap,
 * not the synthesis. */
static void tap_flush(struct tts_encoder *enc)
{
	if (enc->pending.len > 0 && !enc->tap_off &&
	    enc->tap->write(enc->tap->arg, enc->pending.data, enc->pending.len) != ERR_OK)
		enc->tap_off = true;
	enc->pending.len = 0;
}

/* The header with the sizes of the samples so far; known false: the sizes
 * are not known yet (0xFFFFFFFF, what streamed WAV uses), rewritten into
 * the file at the end. */
static void wav_header(const struct tts_encoder *enc, bool known, unsigned char h[WAV_HEADER])
{
	uint32_t data = known ? (uint32_t)(enc->samples * 2) : UINT32_MAX;
	memcpy(h, "RIFF", 4);
	le32(h + 4, known ? 36 + data : UINT32_MAX);
	memcpy(h + 8, "WAVEfmt ", 8);
	le32(h + 16, 16);
	le16(h + 20, 1); /* PCM */
	le16(h + 22, 1); /* mono */
	le32(h + 24, (uint32_t)enc->rate);
	le32(h + 28, (uint32_t)enc->rate * 2);
	le16(h + 32, 2);
	le16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	le32(h + 40, data);
}

static bool wav_start(struct tts_encoder *enc)
{
	unsigned char h[WAV_HEADER];
	wav_header(enc, false, h);
	return emit(enc, h, sizeof(h));
}

/* The real sizes, in the file only (the tap has had its header). */
static bool wav_finish(struct tts_encoder *enc)
{
	unsigned char h[WAV_HEADER];
	wav_header(enc, true, h);
	return fseek(enc->out, 0, SEEK_SET) == 0 &&
	       fwrite(h, 1, sizeof(h), enc->out) == sizeof(h) && fseek(enc->out, 0, SEEK_END) == 0;
}

static bool ogg_pages(struct tts_encoder *enc, bool flush)
{
	ogg_page og;
	while (flush ? ogg_stream_flush(&enc->os, &og) : ogg_stream_pageout(&enc->os, &og)) {
		if (!emit(enc, og.header, (size_t)og.header_len) ||
		    !emit(enc, og.body, (size_t)og.body_len))
			return false;
	}
	return true;
}

static bool vorbis_drain(struct tts_encoder *enc)
{
	ogg_packet op;
	while (vorbis_analysis_blockout(&enc->vd, &enc->vb) == 1) {
		vorbis_analysis(&enc->vb, NULL);
		vorbis_bitrate_addblock(&enc->vb);
		while (vorbis_bitrate_flushpacket(&enc->vd, &op)) {
			ogg_stream_packetin(&enc->os, &op);
			if (!ogg_pages(enc, false))
				return false;
		}
	}
	return true;
}

static bool vorbis_start(struct tts_encoder *enc)
{
	vorbis_info_init(&enc->vi);
	if (vorbis_encode_init_vbr(&enc->vi, 1, enc->rate, 0.3f) != 0) {
		vorbis_info_clear(&enc->vi);
		return false;
	}
	vorbis_comment_init(&enc->vc);
	vorbis_comment_add_tag(&enc->vc, "ENCODER", "lectern-tts");
	vorbis_analysis_init(&enc->vd, &enc->vi);
	vorbis_block_init(&enc->vd, &enc->vb);
	ogg_stream_init(&enc->os, (int)(time(NULL) ^ (long)enc->rate));
	enc->vorbis_ready = true;
	ogg_packet h1, h2, h3;
	vorbis_analysis_headerout(&enc->vd, &enc->vc, &h1, &h2, &h3);
	ogg_stream_packetin(&enc->os, &h1);
	ogg_stream_packetin(&enc->os, &h2);
	ogg_stream_packetin(&enc->os, &h3);
	return ogg_pages(enc, true);
}

static bool lame_start(struct tts_encoder *enc)
{
	enc->lame = lame_init();
	if (enc->lame == NULL)
		return false;
	lame_set_in_samplerate(enc->lame, (int)enc->rate);
	lame_set_num_channels(enc->lame, 1);
	lame_set_mode(enc->lame, MONO);
	lame_set_brate(enc->lame, MP3_KBPS);
	lame_set_quality(enc->lame, MP3_QUALITY);
	lame_set_bWriteVbrTag(enc->lame, 0);
	return lame_init_params(enc->lame) >= 0;
}

struct tts_encoder *tts_encoder_new(enum tts_format format, long sample_rate, FILE *out,
                                    const struct tts_tap *tap)
{
	struct tts_encoder *enc = xcalloc(1, sizeof(*enc));
	enc->format = format;
	enc->out = out;
	enc->tap = tap;
	buf_init(&enc->pending);
	enc->rate = sample_rate;
	bool ok = format == TTS_WAV   ? wav_start(enc)
	          : format == TTS_MP3 ? lame_start(enc)
	                              : vorbis_start(enc);
	if (!ok) {
		log_error("tts: the %s encoder could not start at %ld Hz", tts_format_name(format),
		          sample_rate);
		tts_encoder_free(enc);
		return NULL;
	}
	return enc;
}

static bool mp3_out(struct tts_encoder *enc, int n)
{
	return n >= 0 && emit(enc, enc->mp3buf, (size_t)n);
}

/* LAME's own bound for one call's output. */
static void mp3_room(struct tts_encoder *enc, size_t n)
{
	size_t need = n + n / 4 + 7200;
	if (enc->mp3cap < need) {
		enc->mp3buf = xrealloc(enc->mp3buf, need);
		enc->mp3cap = need;
	}
}

static bool encode(struct tts_encoder *enc, const int16_t *pcm, size_t n)
{
	switch (enc->format) {
	case TTS_WAV: {
		unsigned char b[2 * 1024];
		for (size_t i = 0; i < n;) {
			size_t k = 0;
			for (; k < sizeof(b) / 2 && i < n; k++, i++)
				le16(b + 2 * k, (uint16_t)pcm[i]);
			if (!emit(enc, b, 2 * k))
				return false;
		}
		return true;
	}
	case TTS_MP3:
		mp3_room(enc, n);
		return mp3_out(enc, lame_encode_buffer(enc->lame, pcm, pcm, (int)n, enc->mp3buf,
		                                       (int)enc->mp3cap));
	case TTS_OGG: {
		float **buf = vorbis_analysis_buffer(&enc->vd, (int)n);
		for (size_t i = 0; i < n; i++)
			buf[0][i] = (float)pcm[i] / 32768.0f;
		vorbis_analysis_wrote(&enc->vd, (int)n);
		return vorbis_drain(enc);
	}
	}
	return false;
}

bool tts_encoder_write(struct tts_encoder *enc, const int16_t *pcm, size_t n)
{
	enc->samples += n;
	bool ok = encode(enc, pcm, n);
	if (ok)
		tap_flush(enc);
	return ok;
}

bool tts_encoder_finish(struct tts_encoder *enc)
{
	bool ok = true;
	switch (enc->format) {
	case TTS_WAV:
		ok = wav_finish(enc);
		break;
	case TTS_MP3:
		mp3_room(enc, 0);
		ok = mp3_out(enc, lame_encode_flush(enc->lame, enc->mp3buf, (int)enc->mp3cap));
		break;
	case TTS_OGG:
		vorbis_analysis_wrote(&enc->vd, 0);
		ok = vorbis_drain(enc) && ogg_pages(enc, true);
		break;
	}
	if (ok)
		tap_flush(enc);
	ok = fflush(enc->out) == 0 && ok;
	tts_encoder_free(enc);
	return ok;
}

void tts_encoder_free(struct tts_encoder *enc)
{
	if (enc == NULL)
		return;
	if (enc->lame != NULL)
		lame_close(enc->lame);
	free(enc->mp3buf);
	buf_clear(&enc->pending);
	if (enc->vorbis_ready) {
		ogg_stream_clear(&enc->os);
		vorbis_block_clear(&enc->vb);
		vorbis_dsp_clear(&enc->vd);
		vorbis_comment_clear(&enc->vc);
		vorbis_info_clear(&enc->vi);
	}
	free(enc);
}
