/* course_phones: a word's pronunciation in the phones of pocketsphinx's US
 * English model, from flite's CMU lexicon (and its letter-to-sound rules
 * for words the lexicon lacks). flite writes vowels with a stress digit and
 * has a few phones the model does not ("ax"); they are mapped to the
 * model's 39. */
#include <stdbool.h>
#include <string.h>

#include <flite/flite.h>

#include "course_impl.h"

/* Declared by flite's lang/cmulex, whose header Debian does not ship. */
cst_lexicon *cmu_lex_init(void);

/* The model's phones (pocketsphinx-en-us, en-us/en-us/mdef). */
static const char *const model_phones[] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D", "DH", "EH", "ER", "EY",
    "F",  "G",  "HH", "IH", "IY", "JH", "K",  "L",  "M", "N",  "NG", "OW", "OY",
    "P",  "R",  "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y",  "Z",  "ZH"};

/* flite phones that are not the model's, and what they are there. */
static const struct {
	const char *flite, *model;
} mapped[] = {{"AX", "AH"},   {"AXR", "ER"}, {"EL", "AH L"}, {"EM", "AH M"},
              {"EN", "AH N"}, {"NX", "N"},   {"HV", "HH"},   {"DX", "D"}};

/* Appends flite's phone p (without its stress) to out; false for a phone
 * with no equivalent. */
static bool add_phone(const char *p, struct buf *out)
{
	char up[8];
	size_t n = 0;
	for (; p[n] && n < sizeof(up) - 1; n++) {
		if (p[n] >= '0' && p[n] <= '9')
			break;
		up[n] = (char)(p[n] >= 'a' && p[n] <= 'z' ? p[n] - 'a' + 'A' : p[n]);
	}
	up[n] = '\0';
	if (strcmp(up, "PAU") == 0 || strcmp(up, "H#") == 0)
		return true;
	const char *model = NULL;
	for (size_t i = 0; i < sizeof(model_phones) / sizeof(*model_phones) && !model; i++)
		if (strcmp(up, model_phones[i]) == 0)
			model = model_phones[i];
	for (size_t i = 0; i < sizeof(mapped) / sizeof(*mapped) && !model; i++)
		if (strcmp(up, mapped[i].flite) == 0)
			model = mapped[i].model;
	if (!model)
		return false;
	if (out->len)
		buf_putc(out, ' ');
	buf_puts(out, model);
	return true;
}

bool course_pronounce(const char *word, struct buf *out)
{
	static cst_lexicon *lex;
	if (!lex) {
		flite_init();
		lex = cmu_lex_init();
	}
	out->len = 0;
	if (out->data)
		out->data[0] = '\0';
	cst_val *phones = lex ? lex_lookup(lex, word, NULL, NULL) : NULL;
	bool ok = phones != NULL;
	for (const cst_val *p = phones; p && ok; p = val_cdr(p))
		ok = add_phone(val_string(val_car(p)), out);
	if (phones)
		delete_val(phones);
	return ok && out->len > 0;
}
