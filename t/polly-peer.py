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

Every other request is answered by aws-peer's own JSON mode. Options are
aws-peer's (--mode json is implied). Run it with /usr/bin/python3.
"""
import importlib.util
import json
import math
import os
import re
import struct
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


class PollyPeer(aws_peer.Peer):
    def polly_error(self, status, code, message):
        body = json.dumps({"message": message}).encode()
        return self.reply(status, body, "application/json",
                          {"x-amzn-ErrorType": code + ":http://internal.amazon.com/"})

    def json_answer(self, split, body):
        if split.path == "/v1/voices" and self.command == "GET":
            voices = [{"Id": i, "Name": i, "LanguageCode": l, "LanguageName": n, "Gender": g,
                       "SupportedEngines": ["standard"]} for i, l, n, g in VOICES]
            return self.reply(200, json.dumps({"Voices": voices}).encode(), "application/json")
        if split.path != "/v1/speech" or self.command != "POST":
            return super().json_answer(split, body)
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return self.polly_error(400, "SerializationException", "body is not JSON")
        text = doc.get("Text", "")
        if doc.get("VoiceId") not in [v[0] for v in VOICES]:
            return self.polly_error(400, "ValidationException", "VoiceId is not valid")
        if doc.get("Engine", "standard") != "standard":
            return self.polly_error(400, "EngineNotSupportedException", "engine")
        if len(text) > 6000:
            return self.polly_error(400, "TextLengthExceededException", "text too long")
        fmt = doc.get("OutputFormat")
        try:
            if doc.get("TextType", "text") == "ssml":
                chars, pause = spoken(text)
            else:
                chars, pause = len(text), 0
        except (ET.ParseError, ValueError) as e:
            return self.polly_error(400, "InvalidSsmlException", "invalid SSML: %s" % e)
        if fmt == "pcm":
            rate = int(doc.get("SampleRate", "16000"))
            if rate not in (8000, 16000):
                return self.polly_error(400, "ValidationException", "SampleRate")
            n = (chars * MS_PER_CHAR + pause) * rate // 1000
            tone = [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(n)]
            return self.reply(200, struct.pack("<%dh" % n, *tone), "audio/pcm",
                              {"x-amzn-RequestCharacters": str(chars)})
        if fmt == "mp3":
            return self.reply(200, b"ID3" + text.encode(), "audio/mpeg")
        if fmt == "ogg_vorbis":
            return self.reply(200, b"OggS" + text.encode(), "audio/ogg")
        return self.polly_error(400, "ValidationException", "OutputFormat")


def main():
    aws_peer.main(PollyPeer)


if __name__ == "__main__":
    main()
