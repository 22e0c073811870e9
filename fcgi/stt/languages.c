/* stt languages: the ones the configured engine recognises (pocketsphinx's
 * one model, or Transcribe's list). */
#include <string.h>

#include "amazon.h"
#include "stt.h"

bool stt_language_known(const char *language)
{
	if (stt_cfg.engine == STT_ENGINE_TRANSCRIBE)
		return amazon_language_known(language);
	return strcmp(language, STT_LANGUAGE_DEFAULT) == 0;
}

const char *stt_languages(void)
{
	return stt_cfg.engine == STT_ENGINE_TRANSCRIBE ? amazon_languages() : STT_LANGUAGE_DEFAULT;
}
