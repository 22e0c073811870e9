/* Unit tests for err: every error has a code, sentence and the contract's status. */
#include <string.h>

#include "core/err.h"
#include "tap.h"

int main(void)
{
	static const struct {
		enum err e;
		const char *code;
		int status;
	} cases[] = {
	    {ERR_OK, "ok", 200},
	    {ERR_INVALID, "invalid_request", 400},
	    {ERR_UNAUTHORIZED, "unauthorized", 401},
	    {ERR_FORBIDDEN, "forbidden", 403},
	    {ERR_NOT_FOUND, "not_found", 404},
	    {ERR_METHOD, "method_not_allowed", 405},
	    {ERR_CONFLICT, "conflict", 409},
	    {ERR_TOO_LARGE, "payload_too_large", 413},
	    {ERR_MEDIA_TYPE, "unsupported_media_type", 415},
	    {ERR_RATE_LIMITED, "rate_limited", 429},
	    {ERR_INTERNAL, "internal", 500},
	    {ERR_UNAVAILABLE, "unavailable", 503},
	    {ERR_TIMEOUT, "timeout", 504},
	    {ERR_UNPROCESSABLE, "unprocessable", 422},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		is_str(err_code(cases[i].e), cases[i].code, cases[i].code);
		is_long(err_status(cases[i].e), cases[i].status, "status of the code");
		ok(strlen(err_message(cases[i].e)) > 5, "%s has a sentence", cases[i].code);
		is_long(err_from_status(cases[i].status), cases[i].e, "status maps back");
	}
	is_str(err_code((enum err)999), "internal", "an unknown error is internal");
	is_long(err_status((enum err) - 1), 500, "a negative error is 500");
	is_long(err_from_status(418), ERR_INTERNAL, "an unknown status is internal");
	return tap_done();
}
