#!/usr/bin/python3
"""transcribe-peer: t/aws-peer.py's signature check in front of Amazon
Transcribe's documented batch calls (JSON 1.1) and a small S3 bucket.

  S3 (signing name s3)   PUT, GET, HEAD and DELETE of /BUCKET/KEY, kept in
                         memory: the audio the test puts, the transcript a
                         finished job writes.
  --s3-upstream URL      the bucket is the lab's s3rver instead (URL, read
                         and written unsigned, as aws-peer's s3 mode
                         forwards): the media and vocabulary tables are
                         read from it, transcripts written into it, and the
                         in-memory bucket is not used by the calls below.
  StartTranscriptionJob  TranscriptionJobName ([0-9a-zA-Z._-], 1-200),
                         LanguageCode, MediaFormat (mp3 mp4 wav flac ogg amr
                         webm m4a), Media.MediaFileUri s3://BUCKET/KEY of an
                         object the bucket holds (else BadRequestException),
                         OutputBucketName and OutputKey; Settings with
                         ShowSpeakerLabels needs MaxSpeakerLabels 2-30. The
                         name of a job the peer holds is ConflictException.
  GetTranscriptionJob    the first poll of a job is IN_PROGRESS; then by the
                         media's key: "broken" FAILED with a FailureReason,
                         "slow" IN_PROGRESS for ever, "late" for three polls, "junk" COMPLETED with a
                         transcript that is not JSON, else COMPLETED with a
                         two-speaker transcript written to
                         OutputBucketName/OutputKey (speaker labels only when
                         asked for); FAILED when it cannot be written there.
  DeleteTranscriptionJob forgets the job (its name may be used again).
  CreateVocabulary       VocabularyName, LanguageCode and VocabularyFileUri
                         s3://BUCKET/KEY of a table the bucket holds (Phrase,
                         SoundsLike, IPA, DisplayAs; tab-separated; at most
                         50 KB); GetVocabulary is PENDING, then READY, or
                         FAILED with a FailureReason for a table that breaks
                         the rules; DeleteVocabulary, ListVocabularies.
                         StartTranscriptionJob's Settings.VocabularyName must
                         be READY; the transcript says "glycolysis" (written
                         as the table's DisplayAs) only when the job's
                         vocabulary has it ("Lycos" otherwise).

GET /_peer/jobs and /_peer/vocabularies list the jobs and vocabularies the
peer holds, one name a line; GET /_peer/attempts?name=OPERATION counts the
signed calls of a Transcribe operation (StartTranscriptionJob, ...). Options
are aws-peer's (--mode json is implied) and --s3-upstream. Run it with
/usr/bin/python3.
"""
import http.client
import importlib.util
import json
import os
import re
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("aws_peer", os.path.join(HERE, "aws-peer.py"))
aws_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aws_peer)

JSON_TYPE = "application/x-amz-json-1.1"
FORMATS = {"mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a"}
NAME_RE = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")
# (speaker, start, end, word, confidence); punctuation after some words.
SPOKEN = [("spk_0", 0.04, 0.42, "Cells", "0.998"), ("spk_0", 0.42, 0.61, "are", "0.991"),
          ("spk_0", 0.61, 0.70, "the", "0.999"), ("spk_0", 0.70, 1.12, "units", "0.87"),
          ("spk_0", 1.12, 1.25, "of", "1.0"), ("spk_0", 1.25, 1.80, "life", "0.95"),
          ("spk_1", 2.30, 2.71, "Glycolysis", "0.64"), ("spk_1", 2.71, 3.05, "splits", "0.9"),
          ("spk_1", 3.05, 3.60, "glucose", "0.93")]
PUNCTUATED = {"life": ".", "glucose": "."}
# Course terms the peer mishears unless a vocabulary holds them.
MISHEARD = {"glycolysis": "Lycos"}
VOCABULARY_MAX = 50 * 1024
PHRASE_RE = re.compile(r"^[A-Za-z'.-]{1,256}$")


def vocabulary_terms(table):
    """The terms of a vocabulary table (lower case -> DisplayAs or Phrase),
    or a reason it is refused."""
    if len(table) > VOCABULARY_MAX:
        return "The vocabulary file is larger than 50 KB."
    try:
        lines = table.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return "The vocabulary file is not UTF-8."
    header = lines[0].split("\t")
    if sorted(header) != ["DisplayAs", "IPA", "Phrase", "SoundsLike"]:
        return "The vocabulary table needs the columns Phrase, SoundsLike, IPA and DisplayAs."
    terms = {}
    for line in lines[1:]:
        if line == "":
            continue
        row = dict(zip(header, line.split("\t")))
        if len(line.split("\t")) != 4 or not PHRASE_RE.match(row["Phrase"]):
            return "The vocabulary has an invalid entry: %r" % line
        terms[row["Phrase"].lower()] = row["DisplayAs"] or row["Phrase"]
    return terms


def transcript(name, labels, terms):
    """The transcript of SPOKEN; a word of the vocabulary (terms: lower case
    to DisplayAs) is heard as it says, else MISHEARD's."""
    items = []
    text = []
    for who, start, end, word, conf in SPOKEN:
        if word.lower() in MISHEARD:
            word = terms.get(word.lower(), MISHEARD[word.lower()])
        text.append(word + PUNCTUATED.get(word, ""))
        item = {"start_time": "%.2f" % start, "end_time": "%.2f" % end,
                "alternatives": [{"confidence": conf, "content": word}],
                "type": "pronunciation"}
        if labels:
            item["speaker_label"] = who
        items.append(item)
        if word in PUNCTUATED:
            items.append({"alternatives": [{"confidence": "0.0", "content": PUNCTUATED[word]}],
                          "type": "punctuation"})
    results = {"transcripts": [{"transcript": " ".join(text)}],
               "items": items}
    if labels:
        results["speaker_labels"] = {
            "speakers": 2,
            "segments": [{"start_time": "0.04", "end_time": "1.80", "speaker_label": "spk_0",
                          "items": []},
                         {"start_time": "2.30", "end_time": "3.60", "speaker_label": "spk_1",
                          "items": []}]}
    return {"jobName": name, "accountId": "123456789012", "results": results,
            "status": "COMPLETED"}


class TranscribePeer(aws_peer.Peer):
    s3_upstream = ""  # --s3-upstream: the bucket is s3rver's, not the peer's own

    def answer(self, doc):
        return self.reply(200, json.dumps(doc).encode(), JSON_TYPE)

    def s3(self, split, body):
        state = self.server.transcribe
        path = urllib.parse.unquote(split.path)
        with state["lock"]:
            if self.command == "PUT":
                state["objects"][path] = body
                return self.reply(200, b"", headers={"ETag": '"%x"' % (hash(body) & 0xffffffff)})
            if self.command == "DELETE":
                state["objects"].pop(path, None)
                return self.reply(204)
            data = state["objects"].get(path)
        if data is None:
            return self.s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return self.reply(200, data, "application/octet-stream")

    def upstream(self, method, path, body=None):
        """(status, bytes) of an unsigned request for /BUCKET/KEY to
        --s3-upstream; (0, reason) when it cannot be made."""
        up = urllib.parse.urlsplit(self.s3_upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            conn.request(method, urllib.parse.quote(path), body=body,
                         headers={"Content-Type": "application/octet-stream"} if body else {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError as e:
            return 0, str(e).encode()
        finally:
            conn.close()

    def object(self, path):
        """The bytes of the bucket's /BUCKET/KEY, or None."""
        if self.s3_upstream:
            status, data = self.upstream("GET", path)
            return data if status == 200 else None
        state = self.server.transcribe
        with state["lock"]:
            return state["objects"].get(path)

    def write(self, path, data):
        """Puts /BUCKET/KEY into the bucket: None, or why it could not."""
        if not self.s3_upstream:
            with self.server.transcribe["lock"]:
                self.server.transcribe["objects"][path] = data
            return None
        status, answer = self.upstream("PUT", path, data)
        if 200 <= status < 300:
            return None
        return "S3 answered %d: %s" % (status, answer[:200].decode("utf-8", "replace"))

    def peer_info(self, split):
        held = {"/_peer/jobs": "jobs", "/_peer/vocabularies": "vocabularies"}.get(split.path)
        if held:
            with self.server.transcribe["lock"]:
                text = "".join(name + "\n" for name in sorted(self.server.transcribe[held]))
            return self.reply(200, text.encode(), "text/plain")
        return super().peer_info(split)

    def json_answer(self, split, body):
        target = self.headers.get("X-Amz-Target", "")
        if not target:
            return self.s3(split, body)
        if not target.startswith("Transcribe."):
            return super().json_answer(split, body)
        if self.headers.get("Content-Type") != JSON_TYPE:
            return self.json_error(400, "SerializationException", "wrong content type")
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return self.json_error(400, "SerializationException", "body is not JSON")
        if not isinstance(doc, dict):
            return self.json_error(400, "SerializationException", "body is not an object")
        op = target[len("Transcribe."):]
        state = self.server.transcribe
        with self.server.state["lock"]:
            attempts = self.server.state["attempts"]
            attempts[op] = attempts.get(op, 0) + 1
        if "Vocabular" in op:
            return self.vocabulary(op, doc, state)
        name = doc.get("TranscriptionJobName")
        if not isinstance(name, str) or not NAME_RE.match(name):
            return self.json_error(400, "BadRequestException",
                                   "1 validation error detected: TranscriptionJobName")
        if op == "StartTranscriptionJob":
            return self.start(doc, name, state)
        with state["lock"]:
            job = state["jobs"].get(name)
            if job is not None and op == "GetTranscriptionJob":
                job["polls"] += 1
            if job is not None and op == "DeleteTranscriptionJob":
                del state["jobs"][name]
                return self.answer({})
        if job is None:
            return self.json_error(400, "NotFoundException",
                                   "The requested job couldn't be found.")
        if op != "GetTranscriptionJob":
            return self.json_error(400, "UnknownOperationException", "unknown operation " + op)
        return self.get(job, name)

    def start(self, doc, name, state):
        media = doc.get("Media") or {}
        uri = media.get("MediaFileUri", "") if isinstance(media, dict) else ""
        if doc.get("LanguageCode") in (None, "") or doc.get("MediaFormat") not in FORMATS:
            return self.json_error(400, "BadRequestException",
                                   "LanguageCode and a valid MediaFormat are required")
        settings = doc.get("Settings") or {}
        if settings.get("ShowSpeakerLabels") and \
                not 2 <= int(settings.get("MaxSpeakerLabels") or 0) <= 30:
            return self.json_error(400, "BadRequestException",
                                   "MaxSpeakerLabels must be between 2 and 30")
        if not uri.startswith("s3://") or not doc.get("OutputBucketName") \
                or not doc.get("OutputKey"):
            return self.json_error(400, "BadRequestException",
                                   "MediaFileUri, OutputBucketName and OutputKey are required")
        media_path = "/" + uri[len("s3://"):]
        vocabulary = settings.get("VocabularyName")
        held = self.object(media_path) is not None  # before the lock: s3rver may be asked
        with state["lock"]:
            if vocabulary is not None and \
                    state["vocabularies"].get(vocabulary, {}).get("state") != "READY":
                return self.json_error(400, "BadRequestException",
                                       "The requested vocabulary couldn't be found or is not "
                                       "ready.")
            if not held:
                return self.json_error(400, "BadRequestException",
                                       "The URI that you provided doesn't point to an S3 object "
                                       "that exists.")
            if name in state["jobs"]:
                return self.json_error(400, "ConflictException",
                                       "The requested job name already exists.")
            state["jobs"][name] = {"media": media_path, "polls": 0,
                                   "out": "/%s/%s" % (doc["OutputBucketName"], doc["OutputKey"]),
                                   "labels": bool(settings.get("ShowSpeakerLabels")),
                                   "terms": state["vocabularies"][vocabulary]["terms"]
                                   if vocabulary else {},
                                   "language": doc["LanguageCode"],
                                   "format": doc["MediaFormat"]}
        return self.answer({"TranscriptionJob": {"TranscriptionJobName": name,
                                                 "TranscriptionJobStatus": "IN_PROGRESS",
                                                 "LanguageCode": doc["LanguageCode"],
                                                 "MediaFormat": doc["MediaFormat"],
                                                 "Media": {"MediaFileUri": uri}}})

    def vocabulary(self, op, doc, state):
        """CreateVocabulary (from a table in the bucket), GetVocabulary
        (PENDING at the first call, then READY or FAILED; a term
        "slowvocabulary" keeps it PENDING), DeleteVocabulary,
        ListVocabularies."""
        if op == "ListVocabularies":
            with state["lock"]:
                return self.answer({"Vocabularies": [
                    {"VocabularyName": n, "LanguageCode": v["language"],
                     "VocabularyState": v["state"]}
                    for n, v in sorted(state["vocabularies"].items())]})
        name = doc.get("VocabularyName")
        if not isinstance(name, str) or not NAME_RE.match(name):
            return self.json_error(400, "BadRequestException",
                                   "1 validation error detected: VocabularyName")
        uri = doc.get("VocabularyFileUri")
        # The table is read before the lock (from s3rver, a network away).
        table = self.object("/" + uri[len("s3://"):]) if op == "CreateVocabulary" and \
            isinstance(uri, str) and uri.startswith("s3://") else None
        with state["lock"]:
            vocabulary = state["vocabularies"].get(name)
            if op == "CreateVocabulary":
                return self.create_vocabulary(doc, name, vocabulary, table, state)
            if vocabulary is None:
                return self.json_error(400, "NotFoundException",
                                       "The requested vocabulary couldn't be found.")
            if op == "DeleteVocabulary":
                del state["vocabularies"][name]
                return self.answer({})
            if op != "GetVocabulary":
                return self.json_error(400, "UnknownOperationException",
                                       "unknown operation " + op)
            vocabulary["polls"] += 1
            if vocabulary["polls"] > 1 and "slowvocabulary" not in vocabulary["terms"]:
                vocabulary["state"] = "FAILED" if vocabulary["why"] else "READY"
            answer = {"VocabularyName": name, "LanguageCode": vocabulary["language"],
                      "VocabularyState": vocabulary["state"]}
            if vocabulary["state"] == "FAILED":
                answer["FailureReason"] = vocabulary["why"]
            return self.answer(answer)

    def create_vocabulary(self, doc, name, vocabulary, table, state):
        """CreateVocabulary under the lock; table: the bytes VocabularyFileUri
        names, or None."""
        uri = doc.get("VocabularyFileUri")
        if doc.get("LanguageCode") in (None, "") or not isinstance(uri, str) or \
                not uri.startswith("s3://") or "Phrases" in doc:
            return self.json_error(400, "BadRequestException",
                                   "LanguageCode and a VocabularyFileUri (and no Phrases) are "
                                   "required")
        if table is None:
            return self.json_error(400, "BadRequestException",
                                   "The URI that you provided doesn't point to an S3 object "
                                   "that exists.")
        if vocabulary is not None:
            return self.json_error(400, "ConflictException",
                                   "The requested vocabulary name already exists.")
        terms = vocabulary_terms(table)
        why = terms if isinstance(terms, str) else ""
        state["vocabularies"][name] = {"language": doc["LanguageCode"], "polls": 0,
                                       "state": "PENDING", "why": why,
                                       "terms": {} if why else terms}
        return self.answer({"VocabularyName": name, "LanguageCode": doc["LanguageCode"],
                            "VocabularyState": "PENDING"})

    def get(self, job, name):
        summary = {"TranscriptionJobName": name, "LanguageCode": job["language"],
                   "MediaFormat": job["format"], "Media": {"MediaFileUri": "s3:/" + job["media"]}}
        if job["polls"] == 1 or "slow" in job["media"] or \
                ("late" in job["media"] and job["polls"] <= 3):
            summary["TranscriptionJobStatus"] = "IN_PROGRESS"
            return self.answer({"TranscriptionJob": summary})
        if "broken" in job["media"]:
            summary["TranscriptionJobStatus"] = "FAILED"
            summary["FailureReason"] = "The media format that you specified doesn't match " \
                                       "the detected media format."
            return self.answer({"TranscriptionJob": summary})
        text = b"<html>not a transcript</html>" if "junk" in job["media"] else \
            json.dumps(transcript(name, job["labels"], job["terms"])).encode()
        why = self.write(job["out"], text)
        if why:
            summary["TranscriptionJobStatus"] = "FAILED"
            summary["FailureReason"] = "The transcript could not be written: " + why
            return self.answer({"TranscriptionJob": summary})
        summary["TranscriptionJobStatus"] = "COMPLETED"
        summary["Transcript"] = {"TranscriptFileUri": "https://s3.us-east-1.amazonaws.com" +
                                                      job["out"]}
        return self.answer({"TranscriptionJob": summary})


def main():
    if "--s3-upstream" in sys.argv:
        i = sys.argv.index("--s3-upstream")
        TranscribePeer.s3_upstream = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    aws_peer.Server.transcribe = {"lock": threading.Lock(), "objects": {}, "jobs": {},
                                  "vocabularies": {}}
    aws_peer.main(TranscribePeer)


if __name__ == "__main__":
    main()
