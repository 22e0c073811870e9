/* transcribe_decode: any audio container FFmpeg reads, to 16 kHz mono
 * 16-bit samples. Only audio demuxers are allowed, one thread, and input
 * comes from the descriptor (no protocol, no other file is opened). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "transcribe.h"

enum {
	AVIO_BUFFER = 64 * 1024,
	OUT_CHUNK = 8192, /* samples converted per swr_convert call */
	RATE_MIN = 1000,  /* Hz: the sample rates of real recordings */
	RATE_MAX = 384000,
	CHANNELS_MAX = 64
};

/* The demuxers of the accepted containers (FFmpeg's names). */
static const char format_whitelist[] = "wav,mp3,ogg,flac,matroska,webm,mov,mp4,m4a,aac";

struct fd_reader {
	int fd;
};

static int read_packet(void *opaque, uint8_t *buf, int size)
{
	struct fd_reader *r = opaque;
	for (;;) {
		ssize_t n = read(r->fd, buf, (size_t)size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return AVERROR(EIO);
		return n == 0 ? AVERROR_EOF : (int)n;
	}
}

static int64_t seek_packet(void *opaque, int64_t offset, int whence)
{
	struct fd_reader *r = opaque;
	if (whence & AVSEEK_SIZE) {
		struct stat st;
		return fstat(r->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(EIO);
	}
	off_t at = lseek(r->fd, (off_t)offset, whence & ~AVSEEK_FORCE);
	return at < 0 ? AVERROR(EIO) : (int64_t)at;
}

static bool append(struct transcribe_audio *a, const int16_t *s, size_t n)
{
	if (a->n + n > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : TRANSCRIBE_RATE * 16;
		while (cap < a->n + n)
			cap *= 2;
		int16_t *p = realloc(a->samples, cap * sizeof(*p));
		if (p == NULL)
			return false;
		a->samples = p;
		a->cap = cap;
	}
	memcpy(a->samples + a->n, s, n * sizeof(*s));
	a->n += n;
	return true;
}

struct decoder {
	AVFormatContext *fmt;
	AVIOContext *pb; /* ours: a failed open frees fmt, never pb */
	AVCodecContext *dec;
	SwrContext *swr;
	AVFrame *frame;
	AVPacket *pkt;
	int stream;
	size_t max_samples;
	/* What swr converts from: a decoder may change these mid-stream (two
	 * MP3s joined, stereo then mono), and a frame converted as the old
	 * layout reads planes it does not have (found by t/fuzz/audio_decode). */
	enum AVSampleFormat in_format;
	int in_rate;
	AVChannelLayout in_layout;
	int16_t out[OUT_CHUNK];
};

/* Builds the resampler from format, rate and layout to 16 kHz mono. */
static enum err resampler(struct decoder *d, enum AVSampleFormat format, int rate,
                          const AVChannelLayout *layout, struct extract_out *o)
{
	/* A header may claim any rate: a resampler from 1 GHz takes seconds and
	 * gigabytes to build (found by t/fuzz/audio_decode). */
	if (rate < RATE_MIN || rate > RATE_MAX || layout->nb_channels <= 0 ||
	    layout->nb_channels > CHANNELS_MAX)
		return extract_fail(o, ERR_INVALID,
		                    "the audio's sample rate (%d Hz) or channels (%d) are not "
		                    "supported",
		                    rate, layout->nb_channels);
	av_channel_layout_uninit(&d->in_layout);
	if (layout->order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&d->in_layout, layout->nb_channels);
	else if (av_channel_layout_copy(&d->in_layout, layout) < 0)
		return extract_fail(o, ERR_INVALID, "the audio's channel layout is not valid");
	d->in_format = format;
	d->in_rate = rate;
	AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
	swr_free(&d->swr);
	if (swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_S16, TRANSCRIBE_RATE, &d->in_layout,
	                        format, rate, 0, NULL) < 0 ||
	    swr_init(d->swr) < 0)
		return extract_fail(o, ERR_INVALID,
		                    "the audio's sample format cannot be converted");
	return ERR_OK;
}

/* Whether frame is in the format, rate and layout swr converts from (an
 * unspecified layout is taken as the default one of its channel count). */
static bool frame_matches(const struct decoder *d, const AVFrame *frame)
{
	if (frame->format != d->in_format || frame->sample_rate != d->in_rate ||
	    frame->ch_layout.nb_channels != d->in_layout.nb_channels)
		return false;
	return frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC ||
	       av_channel_layout_compare(&frame->ch_layout, &d->in_layout) == 0;
}

/* Converts frame (NULL: flushes) and appends; false past the limit. */
static enum err convert(struct decoder *d, const AVFrame *frame, struct transcribe_audio *a,
                        const struct extract_limits *l, struct extract_out *o)
{
	if (frame != NULL && !frame_matches(d, frame)) {
		/* What the old resampler still holds first, then the new one. */
		enum err e = convert(d, NULL, a, l, o);
		if (e == ERR_OK)
			e = resampler(d, frame->format, frame->sample_rate, &frame->ch_layout, o);
		if (e != ERR_OK)
			return e;
	}
	const uint8_t **in = frame ? (const uint8_t **)frame->extended_data : NULL;
	int in_n = frame ? frame->nb_samples : 0;
	for (;;) {
		uint8_t *out = (uint8_t *)d->out;
		int got = swr_convert(d->swr, &out, OUT_CHUNK, in, in_n);
		if (got < 0)
			return extract_fail(o, ERR_INVALID, "the audio could not be converted");
		if (got == 0)
			return ERR_OK;
		if (a->n + (size_t)got > d->max_samples)
			return extract_fail(o, ERR_TOO_LARGE,
			                    "the audio is longer than %ld seconds",
			                    l->max_media_seconds);
		if (!append(a, d->out, (size_t)got))
			return extract_fail(o, ERR_TOO_LARGE,
			                    "the audio needs more memory than allowed");
		in = NULL;
		in_n = 0;
	}
}

/* Receives every frame the decoder has ready. */
static enum err drain(struct decoder *d, struct transcribe_audio *a, const struct extract_limits *l,
                      struct extract_out *o)
{
	for (;;) {
		int rc = avcodec_receive_frame(d->dec, d->frame);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return ERR_OK;
		if (rc < 0)
			return ERR_OK; /* a damaged frame is skipped */
		enum err e = convert(d, d->frame, a, l, o);
		av_frame_unref(d->frame);
		if (e != ERR_OK)
			return e;
	}
}

static enum err open_decoder(struct decoder *d, int fd, struct fd_reader *r, struct extract_out *o)
{
	r->fd = fd;
	unsigned char *buffer = av_malloc(AVIO_BUFFER);
	d->fmt = avformat_alloc_context();
	if (buffer == NULL || d->fmt == NULL) {
		av_free(buffer);
		return extract_fail(o, ERR_TOO_LARGE, "the audio needs more memory than allowed");
	}
	d->pb = avio_alloc_context(buffer, AVIO_BUFFER, 0, r, read_packet, NULL, seek_packet);
	d->fmt->pb = d->pb;
	if (d->pb == NULL) {
		av_free(buffer);
		return extract_fail(o, ERR_TOO_LARGE, "the audio needs more memory than allowed");
	}
	d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	d->fmt->format_whitelist = av_strdup(format_whitelist);
	d->fmt->protocol_whitelist = av_strdup("none");
	if (avformat_open_input(&d->fmt, NULL, NULL, NULL) < 0)
		return extract_fail(
		    o, ERR_INVALID,
		    "the audio could not be read: it is not in a known audio format");
	if (avformat_find_stream_info(d->fmt, NULL) < 0)
		return extract_fail(o, ERR_INVALID, "the audio could not be read: it is malformed");
	const AVCodec *codec = NULL;
	d->stream = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (d->stream < 0 || codec == NULL)
		return extract_fail(o, ERR_INVALID, "the file holds no audio that can be decoded");
	d->dec = avcodec_alloc_context3(codec);
	if (d->dec == NULL ||
	    avcodec_parameters_to_context(d->dec, d->fmt->streams[d->stream]->codecpar) < 0)
		return extract_fail(o, ERR_INVALID, "the audio's codec parameters are not valid");
	d->dec->thread_count = 1;
	if (avcodec_open2(d->dec, codec, NULL) < 0)
		return extract_fail(o, ERR_INVALID, "the audio's codec could not be opened");
	if (d->dec->sample_rate <= 0 || d->dec->ch_layout.nb_channels <= 0)
		return extract_fail(o, ERR_INVALID, "the audio has no sample rate or channels");
	enum err e = resampler(d, d->dec->sample_fmt, d->dec->sample_rate, &d->dec->ch_layout, o);
	if (e != ERR_OK)
		return e;
	d->frame = av_frame_alloc();
	d->pkt = av_packet_alloc();
	if (d->frame == NULL || d->pkt == NULL)
		return extract_fail(o, ERR_TOO_LARGE, "the audio needs more memory than allowed");
	return ERR_OK;
}

/* The duration the container declares (not one guessed from the bit rate),
 * in seconds; 0 when it declares none. */
static double declared_seconds(const struct decoder *d)
{
	const AVStream *st = d->fmt->streams[d->stream];
	if (st->duration > 0 && st->time_base.den > 0)
		return (double)st->duration * st->time_base.num / st->time_base.den;
	if (d->fmt->duration > 0 &&
	    d->fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE)
		return (double)d->fmt->duration / AV_TIME_BASE;
	return 0;
}

enum err transcribe_decode(int fd, const struct extract_limits *l, struct transcribe_audio *a,
                           struct extract_out *o)
{
	av_log_set_level(AV_LOG_QUIET);
	struct fd_reader r;
	struct decoder d = {.stream = -1,
	                    .max_samples = (size_t)l->max_media_seconds * TRANSCRIBE_RATE};
	enum err e = open_decoder(&d, fd, &r, o);
	double declared = e == ERR_OK ? declared_seconds(&d) : 0;
	if (e == ERR_OK && declared > (double)l->max_media_seconds + 1)
		e = extract_fail(o, ERR_TOO_LARGE, "the audio is longer than %ld seconds",
		                 l->max_media_seconds);
	while (e == ERR_OK) {
		int rc = av_read_frame(d.fmt, d.pkt);
		if (rc < 0)
			break;
		if (d.pkt->stream_index == d.stream && avcodec_send_packet(d.dec, d.pkt) >= 0)
			e = drain(&d, a, l, o);
		av_packet_unref(d.pkt);
	}
	if (e == ERR_OK && avcodec_send_packet(d.dec, NULL) >= 0)
		e = drain(&d, a, l, o);
	if (e == ERR_OK)
		e = convert(&d, NULL, a, l, o);
	double got = (double)a->n / TRANSCRIBE_RATE;
	if (e == ERR_OK && a->n == 0)
		e = extract_fail(o, ERR_INVALID, "the file holds no audio that can be decoded");
	else if (e == ERR_OK && declared > 1 && got < declared * 0.9 - 0.5)
		e = extract_fail(o, ERR_INVALID,
		                 "the audio is truncated: it ends after %.1f of its %.1f seconds",
		                 got, declared);
	av_packet_free(&d.pkt);
	av_frame_free(&d.frame);
	swr_free(&d.swr);
	av_channel_layout_uninit(&d.in_layout);
	avcodec_free_context(&d.dec);
	avformat_close_input(&d.fmt);
	if (d.pb != NULL) {
		av_freep(&d.pb->buffer); /* FFmpeg may have replaced the one we gave */
		avio_context_free(&d.pb);
	}
	return e;
}
