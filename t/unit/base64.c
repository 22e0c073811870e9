/* Unit tests for base64: RFC 4648 vectors in both alphabets, and refusals. */
#include <string.h>

#include "core/base64.h"
#include "tap.h"

int main(void)
{
	static const struct {
		const char *plain, *text;
	} vectors[] = {
	    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
	    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char text[16];
		unsigned char back[16];
		size_t n = 0;
		base64_encode(BASE64_STANDARD, vectors[i].plain, strlen(vectors[i].plain), text);
		is_str(text, vectors[i].text, "RFC 4648 vector encodes");
		ok(base64_decode(BASE64_STANDARD, text, strlen(text), back, &n) &&
		       n == strlen(vectors[i].plain) && memcmp(back, vectors[i].plain, n) == 0,
		   "RFC 4648 vector %zu decodes", i);
	}
	static const unsigned char bytes[] = {0xfb, 0xff, 0xbf, 0x00};
	char std[8], url[8];
	base64_encode(BASE64_STANDARD, bytes, 3, std);
	base64_encode(BASE64_URL, bytes, 3, url);
	is_str(std, "+/+/", "the standard alphabet uses + and /");
	is_str(url, "-_-_", "the URL alphabet uses - and _");
	unsigned char out[16];
	size_t n = 0;
	static const struct {
		enum base64_alphabet a;
		const char *text;
		const char *why;
	} refused[] = {
	    {BASE64_URL, "+/+/", "standard characters in URL text"},
	    {BASE64_STANDARD, "-_-_", "URL characters in standard text"},
	    {BASE64_STANDARD, "Zg==", "padding"},
	    {BASE64_STANDARD, "Zh", "unused low bits set (non-canonical)"},
	    {BASE64_STANDARD, "Zm9vY", "a length of 4k + 1"},
	    {BASE64_STANDARD, "Zm 9v", "a space"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ok(!base64_decode(refused[i].a, refused[i].text, strlen(refused[i].text), out, &n),
		   "refused: %s", refused[i].why);
	ok(!base64_decode(BASE64_STANDARD, "Zm\0v", 4, out, &n), "refused: an embedded NUL");
	ok(base64_decode(BASE64_URL, "", 0, out, &n) && n == 0, "empty text is empty bytes");
	return tap_done();
}
