/* extract_impl: what the engines share inside the sandboxed child.
 *
 * Each engine reads an open file and fills a struct extract_out; on failure
 * it returns the error and writes the user's sentence with extract_fail.
 * Engines run only in the child, so a crash or a leak there is contained. */
#ifndef LECTERN_EXTRACT_IMPL_H
#define LECTERN_EXTRACT_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "extract/extract.h"

struct extract_out {
	struct buf text; /* the extracted text so far */
	size_t text_max; /* ceiling for text.len */
	bool text_over;  /* an append passed the ceiling */
	long pages, ocr_pages;
	char title[EXTRACT_META_MAX];
	char author[EXTRACT_META_MAX];
	const char *engine;                /* static string */
	char message[EXTRACT_MESSAGE_MAX]; /* the failure sentence */
};

/* Appends n bytes of text; false (and text_over set) once past the ceiling. */
bool extract_out_append(struct extract_out *o, const char *s, size_t n);
bool extract_out_puts(struct extract_out *o, const char *s);
/* Copies a metadata string (cut at a UTF-8 boundary, controls dropped). */
void extract_out_meta(char *dst, const char *src);
/* Records the failure sentence (printf style) and returns e. */
enum err extract_fail(struct extract_out *o, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The ERR_TOO_LARGE failure for a text past its ceiling. */
enum err extract_fail_text_over(struct extract_out *o);
/* In the child: reports how far it got (0-100) to the parent's
 * extract_on_progress hook, ahead of the answer. */
void extract_out_progress(long percent);

/* Reads the whole file (at most max bytes) into *data (malloc'd). */
enum err extract_read_all(int fd, size_t max, struct extract_out *o, char **data, size_t *len);

/* True when s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool extract_utf8_valid(const unsigned char *s, size_t n);

/* OCR of an 8-bit grey image (tesseract); appends the text. */
enum err extract_ocr_gray(const unsigned char *pixels, int width, int height, int stride, int dpi,
                          const struct extract_limits *l, struct extract_out *o);

/* The engines; fd is the open input file. */
enum err extract_pdf(int fd, const struct extract_limits *l, struct extract_out *o);
enum err extract_docx(int fd, const struct extract_limits *l, struct extract_out *o);
enum err extract_text(int fd, bool markdown, const struct extract_limits *l, struct extract_out *o);
enum err extract_image(int fd, enum extract_type t, const struct extract_limits *l,
                       struct extract_out *o);

/* Image size from a PNG or JPEG header without decoding; false if absent. */
bool extract_image_size(const unsigned char *data, size_t len, enum extract_type t, long *width,
                        long *height);

#endif
