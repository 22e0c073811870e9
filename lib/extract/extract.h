/* extract: text from uploaded documents (PDF, DOCX, plain text, Markdown,
 * PNG and JPEG images), detected from their bytes.
 *
 * Every extraction runs in a forked child process with CPU-time, address
 * space, file size and open-file limits and no new privileges; its output
 * comes back through a pipe with a size ceiling, and the parent kills it
 * after a wall-clock timeout. A malformed or hostile file therefore fails
 * with a clear sentence in result->error and never takes the caller down.
 *
 * Text is UTF-8. Headings are kept as Markdown lines ("# Title", "## Part");
 * PDF pages are separated by a form feed ('\f'). */
#ifndef LECTERN_EXTRACT_H
#define LECTERN_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum extract_type {
	EXTRACT_TYPE_NONE = 0, /* not (yet) known */
	EXTRACT_TYPE_PDF,
	EXTRACT_TYPE_DOCX,
	EXTRACT_TYPE_TXT,
	EXTRACT_TYPE_MD,
	EXTRACT_TYPE_PNG,
	EXTRACT_TYPE_JPG
};

enum {
	EXTRACT_SNIFF_MAX = 64 * 1024, /* bytes of a file's head that detection reads */
	EXTRACT_META_MAX = 512,        /* a title or author, in bytes */
	EXTRACT_MESSAGE_MAX = 512,     /* the error sentence of a failed extraction */
	EXTRACT_LANGUAGE_MAX = 64      /* a tesseract language list ("eng+deu") */
};

/* The contract's file_type name ("pdf", "docx", "txt", "md", "png", "jpg"),
 * or "" for EXTRACT_TYPE_NONE. */
const char *extract_type_name(enum extract_type t);
/* The media type to serve the original with ("application/pdf", ...). */
const char *extract_content_type(enum extract_type t);
/* The type named name (as extract_type_name gives), NONE when unknown. */
enum extract_type extract_type_parse(const char *name);

/* Detects the type from the first len bytes of a file (at most
 * EXTRACT_SNIFF_MAX are looked at; complete says they are the whole file).
 *   PDF: starts with "%PDF-".  PNG, JPEG: their signatures.
 *   DOCX: a zip whose local headers in the head name "[Content_Types].xml"
 *     and an entry under "word/" (Word and LibreOffice write them first);
 *     extract_detect_file checks the central directory instead.
 *   Text: no NUL and no control bytes other than tab, LF, CR, FF, ESC; valid
 *     UTF-8, UTF-16 with a BOM, or any 8-bit text (read as Windows-1252).
 *   Markdown: text with an ATX heading line ("# " .. "###### "), a fenced
 *     code block, a link "[text](target)", or at least two list item lines
 *     ("- ", "* ", "+ ", "1. ").
 * ERR_INVALID for an empty file, ERR_MEDIA_TYPE for anything else. */
enum err extract_detect(const void *head, size_t len, bool complete,
                        enum extract_type *out) MUST_CHECK;
/* Detects the type from the file's name and its first bytes together:
 * the bytes decide as extract_detect does, and the name's extension
 * (case-insensitive) then settles what the bytes leave open or is checked
 * against them:
 *   - .txt, .text, .rst, .rest, .log: text stays "txt" even when it looks
 *     like Markdown; .md, .markdown, .mdown, .mkd, .mkdn: text is "md";
 *   - .pdf, .docx, .png, .jpg, .jpeg, or a text extension, on bytes of
 *     another kind: ERR_MEDIA_TYPE (the name and the bytes disagree);
 *   - no extension, or one not listed: the bytes alone decide.
 * name may be NULL. Errors as extract_detect. */
enum err extract_detect_named(const char *name, const void *head, size_t len, bool complete,
                              enum extract_type *out) MUST_CHECK;
/* Detects the type of the file at path (the zip's central directory decides
 * DOCX). Errors as extract_detect, ERR_NOT_FOUND/ERR_INTERNAL on I/O. */
enum err extract_detect_file(const char *path, enum extract_type *out) MUST_CHECK;

struct extract_limits {
	long max_pages;         /* pages a PDF may have (2000) */
	long cpu_seconds;       /* RLIMIT_CPU of the child (120) */
	long wall_ms;           /* the parent kills the child after this (180000) */
	long memory_mb;         /* RLIMIT_AS of the child (2048); not set under ASan */
	long max_text_bytes;    /* extracted text ceiling (32 MiB) */
	long max_file_bytes;    /* input size ceiling (64 MiB) */
	long max_pixels;        /* an image's width*height, checked before decoding (60 M) */
	long render_dpi;        /* resolution for OCR of PDF pages (300) */
	long max_render_pixels; /* a rendered page's pixels; the dpi shrinks to fit (40 M) */
	long docx_max_bytes;    /* uncompressed bytes of a DOCX's entries that are read (256 MiB) */
	long docx_max_entries;  /* entries in a DOCX zip (10000) */
	long docx_max_ratio;    /* uncompressed/compressed of an entry over 1 MiB (200) */
	bool ocr;               /* read PDF pages without a text layer by OCR (true) */
	char ocr_language[EXTRACT_LANGUAGE_MAX]; /* tesseract languages ("eng") */
	char text_encoding[32]; /* iconv name for 8-bit text that is not UTF-8 ("WINDOWS-1252") */
	long max_media_seconds; /* audio a child may decode, in seconds (7200) */
};

/* Fills l with the defaults above. */
void extract_limits_default(struct extract_limits *l);

struct extract_result {
	const char *text; /* UTF-8, NUL-terminated; "" on failure */
	size_t text_len;
	long pages;         /* PDF pages; DOCX pages from its metadata (else 1); 1 otherwise */
	long ocr_pages;     /* pages (or images) read by OCR */
	const char *title;  /* "" when unknown */
	const char *author; /* "" when unknown */
	const char *engine; /* "poppler", "poppler+tesseract", "tesseract", "docx", "text" */
	const char *error;  /* on failure, the sentence for the user; "" on success */
};

/* Extracts the text of the file at path, read as type, in a sandboxed child.
 * Strings in out are owned by pool. Errors (out->error says which):
 * ERR_INVALID the file cannot be read as type ("the PDF could not be read:
 * ..."), ERR_TOO_LARGE a limit was passed ("the document has more than 2000
 * pages"), ERR_TIMEOUT the wall-clock or CPU limit ran out, ERR_MEDIA_TYPE
 * for NONE, ERR_INTERNAL when the child could not be started. */
enum err extract_file(const char *path, enum extract_type type, const struct extract_limits *limits,
                      struct pool *pool, struct extract_result *out) MUST_CHECK;

/* The main of lectern-extract, the program extract_file runs for each
 * document: argv[1] is the type name; the limits come on descriptor 5, the
 * file on 4, the answer goes to 3. Never returns on success. */
int extract_child_main(int argc, char **argv);

/* Another program run in the same sandbox (lectern-transcribe): its engine
 * reads the input at fd, argv[1] of the program is arg, and it fills o
 * (extract/extract_impl.h) as the document engines do. */
struct extract_out;
typedef enum err extract_engine_fn(const char *arg, int fd, const struct extract_limits *l,
                                   struct extract_out *o);
/* The main of such a program: as extract_child_main, with engine. */
int extract_child_serve(int argc, char **argv, extract_engine_fn *engine);
/* Runs program (a name beside the running program, else in the libexec
 * directory) with argv[1] arg on the file at path, in the sandbox and with
 * the limits of extract_file; noun names the input in error sentences ("the
 * audio"). The engine's text comes back in out->text. Errors as
 * extract_file. */
enum err extract_run(const char *program, const char *arg, const char *path, const char *noun,
                     const struct extract_limits *limits, struct pool *pool,
                     struct extract_result *out) MUST_CHECK;
/* Called in the parent with each progress (0-100) the child reports with
 * extract_out_progress while extract_run waits; NULL for none. */
typedef void extract_progress_fn(long percent);
void extract_on_progress(extract_progress_fn *fn);

#endif
