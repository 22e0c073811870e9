/* base64: unpadded base64 in the standard and the URL-safe alphabets. */
#ifndef LECTERN_BASE64_H
#define LECTERN_BASE64_H

#include <stdbool.h>
#include <stddef.h>

enum base64_alphabet {
	BASE64_STANDARD, /* A-Z a-z 0-9 + / (scrypt hashes) */
	BASE64_URL       /* A-Z a-z 0-9 - _ (JWT segments, opaque tokens) */
};

/* Writes len bytes as unpadded base64 and a NUL into out, which needs
 * 4 * ceil(len / 3) + 1 bytes; returns the text's length. */
size_t base64_encode(enum base64_alphabet alphabet, const void *in, size_t len, char *out);

/* Decodes canonical unpadded base64 (unused low bits must be zero, so one
 * text means one byte string; padding, other characters and a length of
 * 4k + 1 are refused) into out, which needs len * 3 / 4 bytes. */
bool base64_decode(enum base64_alphabet alphabet, const char *in, size_t len, unsigned char *out,
                   size_t *out_len);

#endif
