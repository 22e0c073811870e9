#!/usr/bin/python3
"""aws-peer: a test server that checks AWS SigV4 signatures with botocore.

Every request must be signed (Authorization header or presigned query) with
the keys given on the command line; the signature is recomputed with
botocore, AWS's own signer, and a mismatch is answered 403
SignatureDoesNotMatch (S3) or InvalidSignatureException (JSON services).

  --mode s3    a signed request is forwarded, unsigned, to --upstream
               (s3rver). Test hooks: an UploadPart number 2 of a key
               containing "peer-fail-part2" answers 503 SlowDown, and
               GET /_peer/aborted lists the keys whose multipart upload
               was aborted. S3's response-* parameters of a GET are
               applied here (s3rver refuses them on unsigned requests).
  --mode json  answers like AWS's documented JSON APIs:
               Textract.DetectDocumentText (JSON 1.1), Polly's POST
               /v1/speech (REST JSON, audio body), Transcribe.
               StartTranscriptionJob throttled (ThrottlingException) the
               first --throttle times per job name, Textract.Fail (always
               500). GET /_peer/attempts?name=N counts tries of a job name.

The port (--port, or any free one) is written to --port-file once the
server listens.
Run it with /usr/bin/python3 (Debian's python3-botocore).
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MAX_SKEW = datetime.timedelta(minutes=15)
# S3's response-* parameters of a GET and the headers they set.
RESPONSE_OVERRIDES = {"response-content-type": "Content-Type",
                      "response-content-language": "Content-Language",
                      "response-expires": "Expires",
                      "response-cache-control": "Cache-Control",
                      "response-content-disposition": "Content-Disposition",
                      "response-content-encoding": "Content-Encoding"}
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate"}


class SignatureError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_amz_date(text):
    try:
        return datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError):
        raise SignatureError("AuthorizationHeaderMalformed", "bad X-Amz-Date")


class Peer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-peer/1"

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("aws-peer: " + (fmt % args) + "\n")

    # --- signature checking -------------------------------------------------

    def check_signature(self, body):
        opts = self.server.opts
        split = urllib.parse.urlsplit(self.path)
        raw_query = split.query
        params = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        host = self.headers.get("Host", "")
        now = datetime.datetime.utcnow()
        if "X-Amz-Signature" in params:
            return self.check_presigned(split, raw_query, params, host, now)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise SignatureError("AccessDenied", "request is not signed with SigV4")
        fields = {}
        for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        try:
            key, date, region, service, term = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except (KeyError, ValueError):
            raise SignatureError("AuthorizationHeaderMalformed", "malformed Authorization")
        if key != opts.access_key:
            raise SignatureError("InvalidAccessKeyId", "unknown access key id")
        if term != "aws4_request" or region != opts.region:
            raise SignatureError("AuthorizationHeaderMalformed", "bad credential scope")
        amz_date = self.headers.get("X-Amz-Date")
        when = parse_amz_date(amz_date)
        if date != amz_date[:8]:
            raise SignatureError("AuthorizationHeaderMalformed", "scope date differs from X-Amz-Date")
        if abs(now - when) > MAX_SKEW:
            raise SignatureError("RequestTimeTooSkewed", "request time too skewed")
        for needed in ("host", "x-amz-date"):
            if needed not in signed:
                raise SignatureError("AccessDenied", needed + " is not signed")
        if opts.token:
            if "x-amz-security-token" not in signed or \
                    self.headers.get("X-Amz-Security-Token") != opts.token:
                raise SignatureError("InvalidToken", "missing or wrong session token")
        headers = {}
        for name in signed:
            value = self.headers.get(name)
            if value is None:
                raise SignatureError("AccessDenied", "signed header %s is missing" % name)
            headers[name] = value
        url = "http://" + host + self.path
        request = AWSRequest(method=self.command, url=url, headers=headers, data=body)
        request.context["timestamp"] = amz_date
        creds = Credentials(opts.access_key, opts.secret, opts.token or None)
        if service == "s3":
            content_sha = self.headers.get("X-Amz-Content-SHA256")
            if content_sha is None or "x-amz-content-sha256" not in signed:
                raise SignatureError("InvalidRequest", "x-amz-content-sha256 is required")
            if content_sha != "UNSIGNED-PAYLOAD" and content_sha != hashlib.sha256(body).hexdigest():
                raise SignatureError("XAmzContentSHA256Mismatch",
                                     "x-amz-content-sha256 does not match the body")
            signer = S3SigV4Auth(creds, service, region)
        else:
            signer = SigV4Auth(creds, service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise SignatureError("SignatureDoesNotMatch",
                                 "The request signature we calculated does not match the "
                                 "signature you provided. Check your key and signing method.")
        return service

    def check_presigned(self, split, raw_query, params, host, now):
        opts = self.server.opts
        one = {k: v[0] for k, v in params.items()}
        try:
            key, date, region, service, term = one["X-Amz-Credential"].split("/")
            amz_date = one["X-Amz-Date"]
            expires = int(one["X-Amz-Expires"])
            signature = one["X-Amz-Signature"]
        except (KeyError, ValueError):
            raise SignatureError("AuthorizationQueryParametersError", "malformed presigned URL")
        if key != opts.access_key:
            raise SignatureError("InvalidAccessKeyId", "unknown access key id")
        if one.get("X-Amz-SignedHeaders") != "host" or region != opts.region:
            raise SignatureError("AuthorizationQueryParametersError", "bad presigned scope")
        when = parse_amz_date(amz_date)
        if now > when + datetime.timedelta(seconds=expires) or when - now > MAX_SKEW:
            raise SignatureError("AccessDenied", "Request has expired")
        if opts.token and one.get("X-Amz-Security-Token") != opts.token:
            raise SignatureError("InvalidToken", "missing or wrong session token")
        rest = "&".join(p for p in raw_query.split("&") if not p.startswith("X-Amz-Signature="))
        url = "http://" + host + split.path + ("?" + rest if rest else "")
        request = AWSRequest(method=self.command, url=url, headers={"host": host})
        request.context["timestamp"] = amz_date
        creds = Credentials(opts.access_key, opts.secret, opts.token or None)
        signer = S3SigV4QueryAuth(creds, service, region, expires=expires)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise SignatureError("SignatureDoesNotMatch",
                                 "The request signature we calculated does not match the "
                                 "signature you provided.")
        return service

    # --- answers ------------------------------------------------------------

    def reply(self, status, body=b"", content_type="application/xml", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def s3_error(self, status, code, message):
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
               "<Message>%s</Message></Error>" % (code, message)).encode()
        self.reply(status, xml)

    def json_error(self, status, code, message, content_type="application/x-amz-json-1.1"):
        body = json.dumps({"__type": code, "message": message}).encode()
        self.reply(status, body, content_type)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        body = self.read_body()
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith("/_peer/"):
            return self.peer_info(split)
        mode = self.server.opts.mode
        try:
            self.check_signature(body)
        except SignatureError as e:
            if mode == "s3":
                status = 400 if e.code in ("XAmzContentSHA256Mismatch", "InvalidRequest") else 403
                return self.s3_error(status, e.code, e.message)
            code = "InvalidSignatureException" if e.code == "SignatureDoesNotMatch" else \
                "UnrecognizedClientException" if e.code == "InvalidAccessKeyId" else e.code
            return self.json_error(403 if code != "UnrecognizedClientException" else 400, code,
                                   e.message)
        if mode == "s3":
            return self.s3_forward(split, body)
        return self.json_answer(split, body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def peer_info(self, split):
        state = self.server.state
        if split.path == "/_peer/aborted":
            with state["lock"]:
                text = "\n".join(state["aborted"]) + "\n"
            return self.reply(200, text.encode(), "text/plain")
        if split.path == "/_peer/attempts":
            name = urllib.parse.parse_qs(split.query).get("name", [""])[0]
            with state["lock"]:
                text = "%d\n" % state["attempts"].get(name, 0)
            return self.reply(200, text.encode(), "text/plain")
        return self.reply(404, b"", "text/plain")

    def s3_forward(self, split, body):
        params = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        if "peer-fail-part2" in split.path:
            if self.command == "PUT" and params.get("partNumber") == ["2"]:
                return self.s3_error(503, "SlowDown", "Please reduce your request rate.")
        if self.command == "DELETE" and "uploadId" in params:
            # s3rver has no AbortMultipartUpload (405): record it and answer as S3 does.
            with self.server.state["lock"]:
                self.server.state["aborted"].append(split.path)
            return self.reply(204)
        # s3rver takes unsigned requests: drop the signature, keep the rest.
        # It refuses response-* on those, which S3 honours on signed GETs:
        # the peer applies them itself.
        kept, overrides = [], {}
        for p in split.query.split("&"):
            name = p.partition("=")[0]
            if not p or p.startswith("X-Amz-"):
                continue
            if name in RESPONSE_OVERRIDES and self.command in ("GET", "HEAD"):
                overrides[RESPONSE_OVERRIDES[name]] = urllib.parse.unquote(p.partition("=")[2])
            else:
                kept.append(p)
        query = "&".join(kept)
        target = split.path + ("?" + query if query else "")
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_HEADERS and k.lower() not in ("authorization", "host")}
        up = urllib.parse.urlsplit(self.server.opts.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            conn.request(self.command, target, body=body if body else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return self.s3_error(502, "BadGateway", str(e))
        finally:
            conn.close()
        if not 200 <= resp.status < 300:
            overrides = {}
        replaced = {k.lower() for k in overrides}
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS and k.lower() != "content-length" and \
                    k.lower() not in replaced:
                self.send_header(k, v)
        for k, v in overrides.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data) if self.command != "HEAD"
                                               else resp.getheader("Content-Length", "0")))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def json_answer(self, split, body):
        target = self.headers.get("X-Amz-Target", "")
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return self.json_error(400, "SerializationException", "body is not JSON")
        state = self.server.state
        if split.path == "/v1/speech" and self.command == "POST" and not target:
            text = doc.get("Text", "")
            if not text:
                # Polly's REST JSON names the error in a header.
                body = json.dumps({"message": "1 validation error detected: Value at 'text' "
                                              "failed to satisfy constraint"}).encode()
                return self.reply(400, body, "application/json",
                                  {"x-amzn-ErrorType": "ValidationException:http://internal/"})
            return self.reply(200, b"ID3" + text.encode(), "audio/mpeg",
                              {"x-amzn-RequestCharacters": str(len(text))})
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return self.json_error(400, "SerializationException", "wrong content type")
        if target == "Textract.DetectDocumentText":
            if "Document" not in doc:
                return self.json_error(400, "InvalidParameterException",
                                       "Request has invalid parameters: Document")
            answer = {"DocumentMetadata": {"Pages": 1},
                      "Blocks": [{"BlockType": "LINE", "Text": "hello from the peer",
                                  "Confidence": 99.5}]}
            return self.reply(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")
        if target == "Transcribe.StartTranscriptionJob":
            name = doc.get("TranscriptionJobName", "")
            with state["lock"]:
                state["attempts"][name] = state["attempts"].get(name, 0) + 1
                tries = state["attempts"][name]
            if tries <= self.server.opts.throttle:
                return self.json_error(400, "ThrottlingException", "Rate exceeded")
            answer = {"TranscriptionJob": {"TranscriptionJobName": name,
                                           "TranscriptionJobStatus": "IN_PROGRESS"}}
            return self.reply(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")
        if target == "Textract.Fail":
            with state["lock"]:
                state["attempts"]["fail"] = state["attempts"].get("fail", 0) + 1
            return self.json_error(500, "InternalServerError", "the peer always fails this")
        return self.json_error(400, "UnknownOperationException", "unknown operation " + target)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients closing kept-alive connections are not errors worth a trace.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main(handler=None):
    """Serves as the options say; handler (a Peer subclass) answers instead
    of Peer in the peers built on this one, whose --mode is json unless
    given."""
    if handler is not None and "--mode" not in sys.argv:
        sys.argv[1:1] = ["--mode", "json"]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("s3", "json"), required=True)
    ap.add_argument("--upstream", help="s3rver base URL (s3 mode)")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (0: any free one)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--throttle", type=int, default=2)
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()
    if opts.mode == "s3" and not opts.upstream:
        ap.error("--upstream is required in s3 mode")
    server = Server(("127.0.0.1", opts.port), handler or Peer)
    server.opts = opts
    server.state = {"lock": threading.Lock(), "aborted": [], "attempts": {}}
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, opts.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
