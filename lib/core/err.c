/* err: one table maps every error to its code, sentence and status. */
#include "core/err.h"

#include <stddef.h>

static const struct {
	const char *code;
	const char *message;
	int status;
} err_table[ERR__COUNT] = {
    [ERR_OK] = {"ok", "Success.", 200},
    [ERR_INVALID] = {"invalid_request", "The request is not valid.", 400},
    [ERR_UNAUTHORIZED] = {"unauthorized", "Authentication is required.", 401},
    [ERR_FORBIDDEN] = {"forbidden", "You may not do this.", 403},
    [ERR_NOT_FOUND] = {"not_found", "Not found.", 404},
    [ERR_METHOD] = {"method_not_allowed", "This method is not allowed here.", 405},
    [ERR_CONFLICT] = {"conflict", "This conflicts with the current state.", 409},
    [ERR_TOO_LARGE] = {"payload_too_large", "The request body is too large.", 413},
    [ERR_MEDIA_TYPE] = {"unsupported_media_type", "This media type is not supported.", 415},
    [ERR_RATE_LIMITED] = {"rate_limited", "Too many requests; try again later.", 429},
    [ERR_INTERNAL] = {"internal", "An internal error occurred.", 500},
    [ERR_UNAVAILABLE] = {"unavailable", "The service is unavailable; try again later.", 503},
    [ERR_TIMEOUT] = {"timeout", "A dependency did not answer in time.", 504},
    [ERR_UNPROCESSABLE] = {"unprocessable", "The request cannot be carried out on this content.",
                           422},
};

static enum err err_valid(enum err e)
{
	return (e >= ERR_OK && e < ERR__COUNT) ? e : ERR_INTERNAL;
}

const char *err_code(enum err e)
{
	return err_table[err_valid(e)].code;
}
const char *err_message(enum err e)
{
	return err_table[err_valid(e)].message;
}
int err_status(enum err e)
{
	return err_table[err_valid(e)].status;
}

enum err err_from_status(int status)
{
	for (size_t i = 0; i < ERR__COUNT; i++)
		if (err_table[i].status == status)
			return (enum err)i;
	return ERR_INTERNAL;
}
