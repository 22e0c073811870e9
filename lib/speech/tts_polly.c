/* tts_polly: Amazon Polly as the engine, through the signed AWS helper.
 *
 * DescribeVoices (GET /v1/voices) gives the voice list; SynthesizeSpeech
 * (POST /v1/speech) speaks the script as SSML in pieces of at most
 * POLLY_CHARS_MAX characters, always as 16 kHz PCM, which goes through the
 * same encoders as the local engines' (so every format, the duration and
 * the output limit behave alike) as it streams in. A longer script, when
 * the store is S3, is one synthesis task instead (tts_polly_task.c). */
#include <json-c/json.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "speech/tts_impl.h"
#include "speech/tts_polly.h"
#include "speech/tts_polly_impl.h"

enum { POLLY_RATE = 16000 };

static struct aws_client *polly;

void tts_polly_use(struct aws_client *c)
{
	polly = c;
}

struct aws_client *tts_polly_client(void)
{
	return polly;
}

bool tts_polly_enabled(void)
{
	return polly != NULL;
}

const char *tts_polly_jstr(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

enum err tts_polly_voices(void)
{
	struct pool *pool = pool_new();
	struct json_object *doc = NULL, *list = NULL;
	struct aws_json_request rq = {"polly", "GET", "/v1/voices", NULL, NULL, NULL, NULL};
	enum err e = aws_json_call(polly, &rq, pool, &doc);
	if (e == ERR_OK && (!json_object_object_get_ex(doc, "Voices", &list) ||
	                    !json_object_is_type(list, json_type_array)))
		e = ERR_UNAVAILABLE;
	for (size_t i = 0; e == ERR_OK && i < json_object_array_length(list); i++) {
		struct json_object *v = json_object_array_get_idx(list, i);
		const char *id = tts_polly_jstr(v, "Id"), *name = tts_polly_jstr(v, "Name"),
		           *lang = tts_polly_jstr(v, "LanguageCode"),
		           *lname = tts_polly_jstr(v, "LanguageName"),
		           *gender = tts_polly_jstr(v, "Gender");
		if (id == NULL ||
		    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
		        strlen(id))
			continue;
		tts_voice_add(id, name ? name : id, lang ? lang : "", lname ? lname : "",
		              gender && strcmp(gender, "Female") == 0 ? "Female" : "Male",
		              TTS_POLLY, id);
	}
	if (e != ERR_OK)
		log_error("tts: Polly's voices could not be listed");
	pool_free(pool);
	return e;
}

enum err tts_polly_sink(void *arg, const void *data, size_t len)
{
	struct pcm_sink *s = arg;
	const unsigned char *p = data;
	int16_t buf[2048];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (!s->have_odd) {
			s->odd = p[i];
			s->have_odd = true;
			continue;
		}
		buf[n++] = (int16_t)(uint16_t)(s->odd | (p[i] << 8));
		s->have_odd = false;
		if (n == sizeof(buf) / sizeof(buf[0]) || i + 1 == len) {
			s->res->samples += (long long)n;
			if (s->res->samples > s->max)
				return ERR_TOO_LARGE;
			if (!tts_encoder_write(s->enc, buf, n))
				return ERR_INTERNAL;
			n = 0;
		}
	}
	if (n > 0) {
		s->res->samples += (long long)n;
		if (s->res->samples > s->max)
			return ERR_TOO_LARGE;
		if (!tts_encoder_write(s->enc, buf, n))
			return ERR_INTERNAL;
	}
	return ERR_OK;
}

static void xml_text(struct buf *b, const char *t)
{
	for (; *t; t++) {
		if (*t == '<')
			buf_puts(b, "&lt;");
		else if (*t == '>')
			buf_puts(b, "&gt;");
		else if (*t == '&')
			buf_puts(b, "&amp;");
		else
			buf_putc(b, *t);
	}
}

/* One SynthesizeSpeech call for ssml into the sink. */
static enum err speak(const struct tts_voice *v, const char *ssml, struct pcm_sink *s)
{
	struct json_object *rq = json_object_new_object();
	json_object_object_add(rq, "Text", json_object_new_string(ssml));
	json_object_object_add(rq, "TextType", json_object_new_string("ssml"));
	json_object_object_add(rq, "VoiceId", json_object_new_string(v->engine_voice));
	json_object_object_add(rq, "OutputFormat", json_object_new_string("pcm"));
	json_object_object_add(rq, "SampleRate", json_object_new_string("16000"));
	struct pool *pool = pool_new();
	struct aws_json_request r = {"polly",
	                             "POST",
	                             "/v1/speech",
	                             NULL,
	                             json_object_to_json_string_ext(rq, JSON_C_TO_STRING_PLAIN),
	                             tts_polly_sink,
	                             s};
	enum err e = aws_json_call(polly, &r, pool, NULL);
	pool_free(pool);
	json_object_put(rq);
	return e;
}

enum err tts_polly_synthesize(const struct tts_voice *voice, const struct tts_script *script,
                              double speed, enum tts_format format, const struct tts_limits *limits,
                              FILE *out, const struct tts_tap *tap, struct tts_result *res)
{
	if (polly == NULL)
		return ERR_UNAVAILABLE;
	res->sample_rate = POLLY_RATE;
	struct pcm_sink s = {tts_encoder_new(format, POLLY_RATE, out, tap), res,
	                     (long long)limits->max_seconds * POLLY_RATE, 0, false};
	if (s.enc == NULL)
		return ERR_INTERNAL;
	/* A task takes the whole text where SynthesizeSpeech takes a piece. */
	bool task = tts_polly_task_fits(script);
	size_t piece = task ? POLLY_TASK_CHARS_MAX : POLLY_CHARS_MAX;
	long long deadline = clock_ms() + limits->wall_ms;
	struct buf b;
	buf_init(&b);
	enum err e = ERR_OK;
	for (size_t i = 0; e == ERR_OK && i <= script->n; i++) {
		if (b.len > 0 && (i == script->n || b.len > piece)) {
			buf_puts(&b, "</speak>");
			e = task ? tts_polly_task(voice, b.data, deadline, &s)
			         : speak(voice, b.data, &s);
			b.len = 0;
		}
		if (i == script->n || e != ERR_OK)
			break;
		const struct tts_seg *g = &script->segs[i];
		if (b.len == 0)
			buf_puts(&b, "<speak>");
		if (g->text != NULL) {
			buf_printf(&b, "<prosody rate=\"%d%%\">",
			           (int)(speed * g->rate * 100 + 0.5));
			if (g->spell)
				buf_puts(&b, "<say-as interpret-as=\"characters\">");
			xml_text(&b, g->text);
			buf_puts(&b, g->spell ? "</say-as></prosody>" : "</prosody>");
		}
		if (g->pause_ms > 0)
			buf_printf(&b, "<break time=\"%ldms\"/>", g->pause_ms);
	}
	buf_clear(&b);
	if (e == ERR_OK && !tts_encoder_finish(s.enc))
		e = ERR_INTERNAL;
	else if (e != ERR_OK)
		tts_encoder_free(s.enc);
	if (e == ERR_OK) {
		res->duration_ms = (long)(res->samples * 1000 / POLLY_RATE);
		long pos = ftell(out);
		res->bytes = pos > 0 ? pos : 0;
	}
	return e;
}
