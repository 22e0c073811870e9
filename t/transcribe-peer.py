#!/usr/bin/python3
"""transcribe-peer: t/aws-peer.py's signature check in front of Amazon
Transcribe's documented batch calls (JSON 1.1) and a small S3 bucket.

  S3 (signing name s3)   PUT, GET, HEAD and DELETE of /BUCKET/KEY, kept in
                         memory: the audio the test puts, the transcript a
                         finished job writes.
  StartTranscriptionJob  TranscriptionJobName ([0-9a-zA-Z._-], 1-200),
                         LanguageCode, MediaFormat (mp3 mp4 wav flac ogg amr
                         webm m4a), Media.MediaFileUri s3://BUCKET/KEY of an
                         object the peer holds (else BadRequestException),
                         OutputBucketName and OutputKey; Settings with
                         ShowSpeakerLabels needs MaxSpeakerLabels 2-30. The
                         name of a job the peer holds is ConflictException.
  GetTranscriptionJob    the first poll of a job is IN_PROGRESS; then by the
                         media's key: "broken" FAILED with a FailureReason,
                         "slow" IN_PROGRESS for ever, "late" for three polls, "junk" COMPLETED with a
                         transcript that is not JSON, else COMPLETED with a
                         two-speaker transcript written to
                         OutputBucketName/OutputKey (speaker labels only when
                         asked for).
  DeleteTranscriptionJob forgets the job (its name may be used again).

GET /_peer/jobs lists the jobs the peer holds, one name a line. Options are
aws-peer's (--mode json is implied). Run it with /usr/bin/python3.
"""
import importlib.util
import json
import os
import re
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


def transcript(name, labels):
    items = []
    for who, start, end, word, conf in SPOKEN:
        item = {"start_time": "%.2f" % start, "end_time": "%.2f" % end,
                "alternatives": [{"confidence": conf, "content": word}],
                "type": "pronunciation"}
        if labels:
            item["speaker_label"] = who
        items.append(item)
        if word in PUNCTUATED:
            items.append({"alternatives": [{"confidence": "0.0", "content": PUNCTUATED[word]}],
                          "type": "punctuation"})
    results = {"transcripts": [{"transcript": "Cells are the units of life. "
                                              "Glycolysis splits glucose."}],
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

    def peer_info(self, split):
        if split.path == "/_peer/jobs":
            with self.server.transcribe["lock"]:
                text = "".join(name + "\n" for name in sorted(self.server.transcribe["jobs"]))
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
        return self.get(job, name, state)

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
        with state["lock"]:
            if media_path not in state["objects"]:
                return self.json_error(400, "BadRequestException",
                                       "The URI that you provided doesn't point to an S3 object "
                                       "that exists.")
            if name in state["jobs"]:
                return self.json_error(400, "ConflictException",
                                       "The requested job name already exists.")
            state["jobs"][name] = {"media": media_path, "polls": 0,
                                   "out": "/%s/%s" % (doc["OutputBucketName"], doc["OutputKey"]),
                                   "labels": bool(settings.get("ShowSpeakerLabels")),
                                   "language": doc["LanguageCode"],
                                   "format": doc["MediaFormat"]}
        return self.answer({"TranscriptionJob": {"TranscriptionJobName": name,
                                                 "TranscriptionJobStatus": "IN_PROGRESS",
                                                 "LanguageCode": doc["LanguageCode"],
                                                 "MediaFormat": doc["MediaFormat"],
                                                 "Media": {"MediaFileUri": uri}}})

    def get(self, job, name, state):
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
            json.dumps(transcript(name, job["labels"])).encode()
        with state["lock"]:
            state["objects"][job["out"]] = text
        summary["TranscriptionJobStatus"] = "COMPLETED"
        summary["Transcript"] = {"TranscriptFileUri": "https://s3.us-east-1.amazonaws.com" +
                                                      job["out"]}
        return self.answer({"TranscriptionJob": summary})


def main():
    aws_peer.Server.transcribe = {"lock": threading.Lock(), "objects": {}, "jobs": {}}
    aws_peer.main(TranscribePeer)


if __name__ == "__main__":
    main()
