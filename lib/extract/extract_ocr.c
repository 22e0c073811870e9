/* extract_ocr: tesseract for images (PNG, JPEG through leptonica) and for
 * rendered PDF pages. An image's size is read from its header and checked
 * against the pixel ceiling before anything is decoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include "extract/extract_impl.h"

enum {
	PNG_IHDR_END = 24,        /* signature, chunk length, "IHDR", width, height */
	JPEG_SEGMENTS_MAX = 1024, /* markers walked looking for the frame header */
	OCR_DEFAULT_DPI = 300     /* for an image that does not say */
};

static uint32_t be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
	return be16(p) << 16 | be16(p + 2);
}

/* The frame header (SOFn) gives a JPEG's size; markers without a length
 * (RSTn, SOI, TEM) are skipped alone. */
static bool jpeg_size(const unsigned char *d, size_t len, long *w, long *h)
{
	size_t i = 2;
	for (int n = 0; n < JPEG_SEGMENTS_MAX && i + 4 <= len; n++) {
		if (d[i] != 0xff)
			return false;
		while (i < len && d[i] == 0xff)
			i++;
		if (i >= len)
			return false;
		unsigned m = d[i++];
		if ((m >= 0xd0 && m <= 0xd8) || m == 0x01)
			continue;
		if (m == 0xd9 || i + 2 > len)
			return false;
		size_t seg = be16(d + i);
		bool sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
		if (sof) {
			if (seg < 7 || i + 7 > len)
				return false;
			*h = (long)be16(d + i + 3);
			*w = (long)be16(d + i + 5);
			return true;
		}
		if (seg < 2)
			return false;
		i += seg;
	}
	return false;
}

bool extract_image_size(const unsigned char *data, size_t len, enum extract_type t, long *width,
                        long *height)
{
	if (t == EXTRACT_TYPE_PNG) {
		if (len < PNG_IHDR_END || memcmp(data + 12, "IHDR", 4) != 0)
			return false;
		*width = (long)be32(data + 16);
		*height = (long)be32(data + 20);
		return true;
	}
	if (t == EXTRACT_TYPE_JPG)
		return len >= 4 && jpeg_size(data, len, width, height);
	return false;
}

/* A tesseract for the configured languages; NULL with o->message set. */
static TessBaseAPI *ocr_open(const struct extract_limits *l, struct extract_out *o)
{
	TessBaseAPI *api = TessBaseAPICreate();
	if (TessBaseAPIInit3(api, NULL, l->ocr_language) != 0) {
		TessBaseAPIDelete(api);
		extract_fail(o, ERR_INTERNAL,
		             "text recognition for the language '%s' is not installed",
		             l->ocr_language);
		return NULL;
	}
	TessBaseAPISetVariable(api, "debug_file", "/dev/null");
	return api;
}

/* Recognises the image set on api and appends its text. */
static enum err ocr_read(TessBaseAPI *api, struct extract_out *o)
{
	char *text = TessBaseAPIGetUTF8Text(api);
	if (text == NULL)
		return extract_fail(o, ERR_INVALID,
		                    "the text of the image could not be recognised");
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\f'))
		n--;
	/* tesseract may emit form feeds; they separate our pages only. */
	for (size_t i = 0; i < n; i++)
		if (text[i] == '\f')
			text[i] = '\n';
	extract_out_append(o, text, n);
	TessDeleteText(text);
	o->ocr_pages++;
	return o->text_over ? extract_fail_text_over(o) : ERR_OK;
}

enum err extract_ocr_gray(const unsigned char *pixels, int width, int height, int stride, int dpi,
                          const struct extract_limits *l, struct extract_out *o)
{
	TessBaseAPI *api = ocr_open(l, o);
	if (api == NULL)
		return ERR_INTERNAL;
	TessBaseAPISetImage(api, pixels, width, height, 1, stride);
	TessBaseAPISetSourceResolution(api, dpi);
	enum err e = ocr_read(api, o);
	TessBaseAPIEnd(api);
	TessBaseAPIDelete(api);
	return e;
}

enum err extract_image(int fd, enum extract_type t, const struct extract_limits *l,
                       struct extract_out *o)
{
	char *data = NULL;
	size_t len = 0;
	PIX *pix = NULL;
	TessBaseAPI *api = NULL;
	long w = 0, h = 0;
	o->engine = "tesseract";
	setMsgSeverity(L_SEVERITY_NONE);
	enum err e = extract_read_all(fd, (size_t)l->max_file_bytes, o, &data, &len);
	if (e != ERR_OK)
		goto out;
	if (!extract_image_size((const unsigned char *)data, len, t, &w, &h) || w <= 0 || h <= 0) {
		e = extract_fail(o, ERR_INVALID,
		                 "the image could not be read: its header is damaged");
		goto out;
	}
	if (w > l->max_pixels / h) {
		e = extract_fail(o, ERR_TOO_LARGE,
		                 "the image has %ldx%ld pixels, more than the limit of %ld million",
		                 w, h, l->max_pixels / 1000000);
		goto out;
	}
	pix = pixReadMem((const l_uint8 *)data, len);
	if (pix == NULL) {
		e = extract_fail(o, ERR_INVALID,
		                 "the image could not be read: it is malformed or needs more "
		                 "memory than allowed");
		goto out;
	}
	api = ocr_open(l, o);
	if (api == NULL) {
		e = ERR_INTERNAL;
		goto out;
	}
	TessBaseAPISetImage2(api, pix);
	l_int32 res = pixGetXRes(pix);
	TessBaseAPISetSourceResolution(api, res > 0 ? res : OCR_DEFAULT_DPI);
	e = ocr_read(api, o);
out:
	if (api != NULL) {
		TessBaseAPIEnd(api);
		TessBaseAPIDelete(api);
	}
	if (pix != NULL)
		pixDestroy(&pix);
	free(data);
	return e;
}
