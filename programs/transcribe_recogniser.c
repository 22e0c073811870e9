/* transcribe_recogniser: pocketsphinx with Debian's US English model and
 * the search settings lectern-transcribe uses (and its tests). */
#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include "transcribe.h"

#ifndef TRANSCRIBE_MODEL_DIR
#define TRANSCRIBE_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#endif

/* One search setting beyond the defaults, measured with bench/stt (its
 * header has the figures): the mixture scores are computed for every
 * other frame and reused for the next (-ds 2; the search still runs every
 * frame, so word times keep their 10 ms): a sixth less CPU, one word more
 * wrong in 450, and the course term stt.t speaks still heard. Narrower
 * beams, fewer Gaussians (-topn 2) or a cap on active HMMs (-maxhmmpf)
 * lost words, "glycolysis" among them; the others gained nothing. */
ps_decoder_t *transcribe_recogniser(void)
{
	err_set_logfp(NULL);
	cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", TRANSCRIBE_MODEL_DIR "/en-us",
	                               "-lm", TRANSCRIBE_MODEL_DIR "/en-us.lm.bin", "-dict",
	                               TRANSCRIBE_MODEL_DIR "/cmudict-en-us.dict", "-bestpath",
	                               "yes", "-ds", "2", NULL);
	if (config == NULL)
		return NULL;
	ps_decoder_t *ps = ps_init(config);
	cmd_ln_free_r(config);
	return ps;
}
