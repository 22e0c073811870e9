/* err: the one error type of Lectern, its messages and its HTTP mapping. */
#ifndef LECTERN_ERR_H
#define LECTERN_ERR_H

/* Marks a function whose error result must be looked at. */
#define MUST_CHECK __attribute__((warn_unused_result))

enum err {
	ERR_OK = 0,
	ERR_INVALID,       /* 400 invalid_request */
	ERR_UNAUTHORIZED,  /* 401 unauthorized */
	ERR_FORBIDDEN,     /* 403 forbidden */
	ERR_NOT_FOUND,     /* 404 not_found */
	ERR_METHOD,        /* 405 method_not_allowed */
	ERR_CONFLICT,      /* 409 conflict */
	ERR_TOO_LARGE,     /* 413 payload_too_large */
	ERR_MEDIA_TYPE,    /* 415 unsupported_media_type */
	ERR_RATE_LIMITED,  /* 429 rate_limited */
	ERR_INTERNAL,      /* 500 internal */
	ERR_UNAVAILABLE,   /* 503 unavailable */
	ERR_TIMEOUT,       /* 504 timeout: a dependency did not answer in time */
	ERR_UNPROCESSABLE, /* 422 unprocessable: well formed, but the content cannot serve */
	ERR__COUNT
};

/* The stable machine-readable code of an error ("invalid_request"). */
const char *err_code(enum err e);
/* A default human sentence for an error. */
const char *err_message(enum err e);
/* The HTTP status an error answers with. */
int err_status(enum err e);
/* The error that an HTTP status stands for (ERR_INTERNAL when unknown). */
enum err err_from_status(int status);

#endif
