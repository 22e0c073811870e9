/* Unit tests for aws_sigv4 against the signatures of AWS's documentation
 * (checked with botocore's signer too). */
#include <string.h>
#include <time.h>

#include "storage/aws_sigv4.h"
#include "core/mem.h"
#include "tap.h"

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = s};
	return timegm(&tm);
}

int main(void)
{
	struct pool *pool = pool_new();
	char date[AWS_AMZ_DATE_LEN + 1];
	aws_amz_date(utc(2015, 8, 30, 12, 36, 0), date);
	is_str(date, "20150830T123600Z", "x-amz-date format");

	char hex[AWS_SHA256_HEX_LEN + 1];
	aws_sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of nothing");
	aws_sha256_hex("a\0b", 3, hex);
	ok(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != 0,
	   "SHA-256 reads past a NUL byte");

	static const struct {
		const char *in;
		bool keep_slash;
		const char *want;
	} enc[] = {
	    {"abc-_.~XYZ019", false, "abc-_.~XYZ019"},
	    {"a b/c", false, "a%20b%2Fc"},
	    {"a b/c", true, "a%20b/c"},
	    {"é+=&", false, "%C3%A9%2B%3D%26"},
	    {"*", false, "%2A"},
	};
	for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		struct buf b;
		buf_init(&b);
		aws_uri_encode(&b, enc[i].in, strlen(enc[i].in), enc[i].keep_slash);
		is_str(b.data, enc[i].want, "URI encoding");
		buf_clear(&b);
	}

	/* AWS's documented example: IAM ListUsers, signed headers. */
	struct aws_creds iam = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
	struct aws_pair q[] = {{"Version", "2010-05-08"}, {"Action", "ListUsers"}};
	struct aws_pair h[] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
	                       {"X-Amz-Date", "20150830T123600Z"}};
	struct aws_sigv4_request r = {
	    .method = "GET",
	    .host = "iam.amazonaws.com",
	    .path = "/",
	    .double_encode_path = true,
	    .query = q,
	    .query_count = 2,
	    .headers = h,
	    .header_count = 2,
	    .payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    .region = "us-east-1",
	    .service = "iam",
	    .now = utc(2015, 8, 30, 12, 36, 0),
	};
	is_str(aws_sigv4_authorization(&r, &iam, pool),
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date, "
	       "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
	       "header signature matches AWS's example");
	struct aws_creds wrong = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", NULL};
	ok(strstr(aws_sigv4_authorization(&r, &wrong, pool), "5d672d79c15b") == NULL,
	   "another secret gives another signature");
	h[0].value = "  application/x-www-form-urlencoded;   charset=utf-8 ";
	ok(strstr(aws_sigv4_authorization(&r, &iam, pool), "5d672d79c15b") != NULL,
	   "header values are trimmed and spaces collapsed");

	/* AWS's documented example: S3 presigned GET of examplebucket/test.txt. */
	struct aws_creds s3 = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	                       ""};
	struct aws_sigv4_request p = {
	    .method = "GET",
	    .host = "examplebucket.s3.amazonaws.com",
	    .path = "/test.txt",
	    .region = "us-east-1",
	    .service = "s3",
	    .now = utc(2013, 5, 24, 0, 0, 0),
	};
	is_str(
	    aws_sigv4_presign(&p, &s3, 86400, pool),
	    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
	    "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
	    "X-Amz-SignedHeaders=host&X-Amz-Signature="
	    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
	    "presigned URL matches AWS's example");
	ok(strstr(aws_sigv4_presign(&p, &s3, 99999999, pool), "X-Amz-Expires=604800&") != NULL,
	   "presigned lifetime is capped at 7 days");
	s3.session_token = "tok/en+=";
	const char *with_token = aws_sigv4_presign(&p, &s3, 60, pool);
	ok(strstr(with_token, "X-Amz-Security-Token=tok%2Fen%2B%3D&") != NULL,
	   "a session token travels encoded in the presigned URL");
	ok(strstr(with_token, "aeeed9bbccd4d02ee5c0") == NULL, "and is part of the signature");
	pool_free(pool);
	return tap_done();
}
