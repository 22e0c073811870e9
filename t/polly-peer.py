#!/usr/bin/python3
"""polly-peer: t/aws-peer.py's signature check in front of Amazon Polly's
documented REST JSON calls.

  GET /v1/voices    DescribeVoices: Joanna, Matthew (en-US), Amy, Brian
                    (en-GB) and Hans (de-DE).
  POST /v1/speech   SynthesizeSpeech: VoiceId must be one of them, Engine
                    unset or "standard", TextType "ssml" or "text",
                    OutputFormat "pcm" (SampleRate "8000" or "16000"),
                    "mp3" or "ogg_vorbis". PCM is a 440 Hz tone lasting
                    60 ms per spoken character plus every SSML break, so a
                    client can check that durations follow the text.
                    Errors are Polly's: ValidationException,
                    InvalidSsmlException, TextLengthExceededException
                    (over 6000 characters), named in x-amzn-ErrorType.
  POST /v1/synthesisTasks  StartSpeechSynthesisTask: the same checks (text
                    up to 200000 characters) plus OutputS3BucketName; the
                    task is "scheduled", "inProgress" at its first
                    GetSpeechSynthesisTask and ends at the second: the
                    audio is PUT into --s3-upstream (s3rver) as
                    <bucket>/<OutputS3KeyPrefix><TaskId>.<pcm|mp3|ogg>
                    and the task is "completed" with that OutputUri, or
                    "failed" (TaskStatusReason) when the text contains
                    "peer-task-fail" or the object could not be written.
                    Hostile answers: "peer-task-elsewhere" completes with
                    an OutputUri naming another user's object,
                    "peer-task-badid" starts a task whose TaskId is a path.
  GET /v1/synthesisTasks/ID  GetSpeechSynthesisTask (an unknown id is
                    SynthesisTaskNotFoundException).
  GET /_peer/attempts?name=SynthesizeSpeech (or StartSpeechSynthesisTask)
                    counts the calls.

Every other request is answered by aws-peer's own JSON mode. Options are
aws-peer's (--mode json is implied) and --s3-upstream. Run it with /usr/bin/python3.
"""
import http.client
import importlib.util
import json
import math
import os
import re
import struct
import sys
import threading
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("aws_peer", os.path.join(HERE, "aws-peer.py"))
aws_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aws_peer)

VOICES = [("Joanna", "en-US", "US English", "Female"), ("Matthew", "en-US", "US English", "Male"),
          ("Amy", "en-GB", "British English", "Female"), ("Brian", "en-GB", "British English", "Male"),
          ("Hans", "de-DE", "German", "Male")]
MS_PER_CHAR = 60


def spoken(ssml):
    """(characters spoken, milliseconds of breaks) of an SSML text."""
    root = ET.fromstring(ssml)  # no DTD is accepted by ElementTree's defaults here
    chars = len(re.sub(r"\s+", " ", "".join(root.itertext())).strip())
    pause = 0
    for el in root.iter("break"):
        m = re.fullmatch(r"(\d+)ms", el.get("time", "0ms"))
        if not m:
            raise ValueError("break time")
        pause += int(m.group(1))
    return chars, pause


def tone(rate, n):
    """n samples of a 440 Hz tone: one second holds whole periods, so it tiles."""
    second = struct.pack("<%dh" % rate, *[int(8000 * math.sin(2 * math.pi * 440 * i / rate))
                                          for i in range(rate)])
    return (second * (n // rate + 1))[:2 * n]


class Refusal(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def audio(doc, max_chars):
    """(bytes, content type, characters) of a synthesis request, or Refusal."""
    text = doc.get("Text", "")
    if doc.get("VoiceId") not in [v[0] for v in VOICES]:
        raise Refusal("ValidationException", "VoiceId is not valid")
    if doc.get("Engine", "standard") != "standard":
        raise Refusal("EngineNotSupportedException", "engine")
    if len(text) > max_chars:
        raise Refusal("TextLengthExceededException", "text too long")
    try:
        if doc.get("TextType", "text") == "ssml":
            chars, pause = spoken(text)
        else:
            chars, pause = len(text), 0
    except (ET.ParseError, ValueError) as e:
        raise Refusal("InvalidSsmlException", "invalid SSML: %s" % e)
    fmt = doc.get("OutputFormat")
    if fmt == "pcm":
        rate = int(doc.get("SampleRate", "16000"))
        if rate not in (8000, 16000):
            raise Refusal("ValidationException", "SampleRate")
        return tone(rate, (chars * MS_PER_CHAR + pause) * rate // 1000), "audio/pcm", chars
    if fmt == "mp3":
        return b"ID3" + text.encode(), "audio/mpeg", chars
    if fmt == "ogg_vorbis":
        return b"OggS" + text.encode(), "audio/ogg", chars
    raise Refusal("ValidationException", "OutputFormat")


EXTENSIONS = {"pcm": "pcm", "mp3": "mp3", "ogg_vorbis": "ogg"}
TASKS = {}
TASKS_LOCK = threading.Lock()


class PollyPeer(aws_peer.Peer):
    s3_upstream = ""  # --s3-upstream: where synthesis tasks write

    def polly_error(self, status, code, message):
        body = json.dumps({"message": message}).encode()
        return self.reply(status, body, "application/json",
                          {"x-amzn-ErrorType": code + ":http://internal.amazon.com/"})

    def count(self, name):
        state = self.server.state
        with state["lock"]:
            state["attempts"][name] = state["attempts"].get(name, 0) + 1

    def json_answer(self, split, body):
        if split.path == "/v1/voices" and self.command == "GET":
            voices = [{"Id": i, "Name": i, "LanguageCode": l, "LanguageName": n, "Gender": g,
                       "SupportedEngines": ["standard"]} for i, l, n, g in VOICES]
            return self.reply(200, json.dumps({"Voices": voices}).encode(), "application/json")
        if split.path.startswith("/v1/synthesisTasks/") and self.command == "GET":
            return self.get_task(split.path[len("/v1/synthesisTasks/"):])
        routes = {"/v1/speech": self.synthesize, "/v1/synthesisTasks": self.start_task}
        if split.path not in routes or self.command != "POST":
            return super().json_answer(split, body)
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return self.polly_error(400, "SerializationException", "body is not JSON")
        try:
            return routes[split.path](doc)
        except Refusal as e:
            return self.polly_error(400, e.code, e.message)

    def synthesize(self, doc):
        self.count("SynthesizeSpeech")
        data, ctype, chars = audio(doc, 6000)
        return self.reply(200, data, ctype, {"x-amzn-RequestCharacters": str(chars)})

    def start_task(self, doc):
        self.count("StartSpeechSynthesisTask")
        bucket = doc.get("OutputS3BucketName") or ""
        if not bucket:
            raise Refusal("ValidationException", "OutputS3BucketName is required")
        data, _, chars = audio(doc, 200000)
        task_id = str(uuid.uuid4())
        if "peer-task-badid" in doc.get("Text", ""):
            task_id = "../../v1/voices"
        key = (doc.get("OutputS3KeyPrefix") or "") + task_id + "." + EXTENSIONS[doc["OutputFormat"]]
        task = {"TaskId": task_id, "TaskStatus": "scheduled", "OutputFormat": doc["OutputFormat"],
                "RequestCharacters": chars, "VoiceId": doc["VoiceId"],
                "TextType": doc.get("TextType", "text"), "SampleRate": doc.get("SampleRate", ""),
                "OutputUri": "https://s3.%s.amazonaws.com/%s/%s" % (
                    self.server.opts.region, bucket, urllib.parse.quote(key)),
                "_bucket": bucket, "_key": key, "_data": data,
                "_fail": "peer-task-fail" in doc.get("Text", ""),
                "_elsewhere": "peer-task-elsewhere" in doc.get("Text", ""), "_polls": 0}
        with TASKS_LOCK:
            TASKS[task_id] = task
        return self.task_reply(task)

    def task_reply(self, task):
        shown = {k: v for k, v in task.items() if not k.startswith("_")}
        return self.reply(200, json.dumps({"SynthesisTask": shown}).encode(), "application/json")

    def get_task(self, task_id):
        with TASKS_LOCK:
            task = TASKS.get(task_id)
            if task is None:
                return self.polly_error(400, "SynthesisTaskNotFoundException", "no such task")
            task["_polls"] += 1
            finish = task["_polls"] == 2
            if task["_polls"] == 1:
                task["TaskStatus"] = "inProgress"
        if finish:
            reason = None
            if task["_fail"]:
                reason = ("Error occurred while trying to upload file to S3. Please verify that "
                          "the bucket exists in this region and you have permission to write "
                          "objects to the specified bucket.")
            else:
                reason = self.put_object(task["_bucket"], task["_key"], task["_data"])
            if task["_elsewhere"]:
                task["OutputUri"] = "https://s3.%s.amazonaws.com/%s/tts/%s/audio.mp3" % (
                    self.server.opts.region, task["_bucket"], uuid.uuid4())
            with TASKS_LOCK:
                task["TaskStatus"] = "failed" if reason else "completed"
                if reason:
                    task["TaskStatusReason"] = reason
        return self.task_reply(task)

    def put_object(self, bucket, key, data):
        """Writes the audio into s3rver (unsigned, as aws-peer's s3 mode
        forwards): None when done, a reason otherwise."""
        upstream = self.s3_upstream
        if not upstream:
            return "the peer has no --s3-upstream"
        up = urllib.parse.urlsplit(upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            conn.request("PUT", "/%s/%s" % (bucket, urllib.parse.quote(key)), body=data,
                         headers={"Content-Type": "application/octet-stream"})
            resp = conn.getresponse()
            resp.read()
        except OSError as e:
            return "the object could not be written: %s" % e
        finally:
            conn.close()
        return None if 200 <= resp.status < 300 else "S3 answered %d" % resp.status


def main():
    upstream = ""
    if "--s3-upstream" in sys.argv:
        i = sys.argv.index("--s3-upstream")
        upstream = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    PollyPeer.s3_upstream = upstream
    aws_peer.main(PollyPeer)


if __name__ == "__main__":
    main()
