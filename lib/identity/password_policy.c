/* password_policy: cracklib's verdict, then the account's own words. */
#include "identity/password_policy.h"

#include <stddef.h> /* crack.h needs size_t */

#include <crack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "identity/password.h"

/* Letters (folded to lower case) and digits of s, in order, into out;
 * bytes of UTF-8 sequences are kept as they are. Returns the length. */
static size_t fold(const char *s, size_t n, char *out, bool digits)
{
	size_t k = 0;
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			out[k++] = (char)(c - 'A' + 'a');
		else if ((c >= 'a' && c <= 'z') || c >= 0x80 || (digits && c >= '0' && c <= '9'))
			out[k++] = (char)c;
	}
	out[k] = '\0';
	return k;
}

/* True when the password's letters are the word's letters, once or
 * repeated ("Lovelace1815!", "adaada"): digits and signs around a word do
 * not make it another password. */
static bool made_of(const char *pw_letters, const char *word, size_t word_len)
{
	char w[PASSWORD_MAX + 1];
	if (word_len > PASSWORD_MAX)
		return false;
	size_t wn = fold(word, word_len, w, false), pn = strlen(pw_letters);
	if (wn < PASSWORD_POLICY_CONTEXT_MIN || pn == 0 || pn % wn != 0)
		return false;
	for (size_t i = 0; i < pn; i += wn)
		if (memcmp(pw_letters + i, w, wn) != 0)
			return false;
	return true;
}

/* The email (whole, and its local part), the whole name, and each word of
 * the name. */
static bool uses_account(const char *password, const char *email, const char *name,
                         const char **which)
{
	char pw[PASSWORD_MAX + 1];
	fold(password, strnlen(password, PASSWORD_MAX), pw, false);
	if (email) {
		const char *at = strchr(email, '@');
		size_t local = at ? (size_t)(at - email) : strlen(email);
		*which = "your email address";
		if (made_of(pw, email, strlen(email)) || made_of(pw, email, local))
			return true;
		for (const char *p = email; p < email + local;) {
			size_t len = strcspn(p, ".-_+");
			if (len > (size_t)(email + local - p))
				len = (size_t)(email + local - p);
			if (made_of(pw, p, len))
				return true;
			p += len;
			p += strspn(p, ".-_+");
		}
	}
	if (name) {
		*which = "your name";
		if (made_of(pw, name, strlen(name)))
			return true;
		for (const char *p = name; *p;) {
			size_t len = strcspn(p, " \t-_.,'");
			if (made_of(pw, p, len))
				return true;
			p += len;
			p += strspn(p, " \t-_.,'");
		}
	}
	return false;
}

enum err password_policy_check(const char *password, const char *email, const char *name,
                               char why[PASSWORD_POLICY_WHY_MAX])
{
	why[0] = '\0';
	if (!password || strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX) {
		snprintf(why, PASSWORD_POLICY_WHY_MAX, "The password is too long.");
		return ERR_INVALID;
	}
	const char *verdict = FascistCheck(password, GetDefaultCracklibDict());
	if (verdict && strncmp(verdict, "error loading dictionary", 24) == 0) {
		log_error("password policy: cracklib cannot load its dictionary %s (Debian package "
		          "cracklib-runtime)",
		          GetDefaultCracklibDict());
		return ERR_UNAVAILABLE;
	}
	if (verdict) {
		snprintf(why, PASSWORD_POLICY_WHY_MAX,
		         "This password is too easy to guess (%s); choose a longer passphrase "
		         "that is not a common or breached password.",
		         verdict);
		return ERR_INVALID;
	}
	const char *which = NULL;
	if (uses_account(password, email, name, &which)) {
		snprintf(why, PASSWORD_POLICY_WHY_MAX,
		         "This password is made of %s; choose one that has nothing to do with "
		         "your account.",
		         which);
		return ERR_INVALID;
	}
	return ERR_OK;
}
