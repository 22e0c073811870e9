/* password_policy: which new passwords are accepted (NIST SP 800-63B 5.1.1).
 *
 * Length is the route's business (8 to 256 characters). Beyond it a new or
 * changed password is refused when it is a common, breached or dictionary
 * password, or too simple or systematic (Debian's cracklib, libcrack2, with
 * the dictionary of cracklib-runtime), or when it is made of the account's
 * own email address or name. No composition rules (NIST asks for none). */
#ifndef LECTERN_PASSWORD_POLICY_H
#define LECTERN_PASSWORD_POLICY_H

#include "core/err.h"

enum {
	PASSWORD_POLICY_WHY_MAX = 200,  /* bytes of the reason, NUL included */
	PASSWORD_POLICY_CONTEXT_MIN = 3 /* shortest email or name part looked for */
};

/* Judges password for the account (email, name; either may be NULL).
 * ERR_OK when it is acceptable; ERR_INVALID with a sentence for the user in
 * why (it says what is wrong, never echoes the password); ERR_UNAVAILABLE
 * (logged) when the cracklib dictionary cannot be read. */
enum err password_policy_check(const char *password, const char *email, const char *name,
                               char why[PASSWORD_POLICY_WHY_MAX]) MUST_CHECK;

#endif
