#!/usr/bin/python3
"""textract-peer: t/aws-peer.py's signature check in front of Textract's
documented JSON 1.1 text detection calls.

  DetectDocumentText        Document.Bytes (base64) must be a PNG, JPEG or
                            PDF, else UnsupportedDocumentException; answers
                            PAGE, LINE and WORD blocks naming the byte count.
  StartDocumentTextDetection  DocumentLocation.S3Object {Bucket, Name};
                            a Name containing "missing" is
                            InvalidS3ObjectException. Answers a JobId.
  GetDocumentTextDetection  the first call of a job is IN_PROGRESS; then by
                            the object's name: "broken" FAILED, "slow"
                            IN_PROGRESS for ever, "many" 5000 pages, else
                            SUCCEEDED with three pages of LINE blocks in two
                            result pages linked by NextToken.

Every other request is answered by aws-peer's own JSON mode. Options are
aws-peer's (--mode json is implied). Run it with /usr/bin/python3.
"""
import base64
import importlib.util
import itertools
import json
import os
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("aws_peer", os.path.join(HERE, "aws-peer.py"))
aws_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aws_peer)

JSON_TYPE = "application/x-amz-json-1.1"
PAGES = [["Chapter One", "Cells are the units of life."],
         ["Chapter Two", "Mitochondria release energy."],
         ["Chapter Three", "Ribosomes build proteins."]]


def line_blocks(page, lines):
    blocks = [{"BlockType": "PAGE", "Id": "p%d" % page, "Page": page}]
    for i, text in enumerate(lines):
        blocks.append({"BlockType": "LINE", "Id": "l%d-%d" % (page, i), "Text": text,
                       "Confidence": 99.1, "Page": page})
        for j, word in enumerate(text.split()):
            blocks.append({"BlockType": "WORD", "Id": "w%d-%d-%d" % (page, i, j), "Text": word,
                           "Confidence": 99.0, "Page": page})
    return blocks


class TextractPeer(aws_peer.Peer):
    def answer(self, doc):
        return self.reply(200, json.dumps(doc).encode(), JSON_TYPE)

    def json_answer(self, split, body):
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith("Textract.") or target == "Textract.Fail":
            return super().json_answer(split, body)
        if self.headers.get("Content-Type") != JSON_TYPE:
            return self.json_error(400, "SerializationException", "wrong content type")
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return self.json_error(400, "SerializationException", "body is not JSON")
        state = self.server.textract
        op = target[len("Textract."):]
        if op == "DetectDocumentText":
            try:
                data = base64.b64decode(doc["Document"]["Bytes"], validate=True)
            except (KeyError, TypeError, ValueError):
                return self.json_error(400, "InvalidParameterException",
                                       "Request has invalid parameters")
            if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8\xff")
                    or data.startswith(b"%PDF-")):
                return self.json_error(400, "UnsupportedDocumentException",
                                       "Request has unsupported document format")
            blocks = line_blocks(1, ["TEXTRACT READ %d BYTES" % len(data), "second line"])
            return self.answer({"DocumentMetadata": {"Pages": 1}, "Blocks": blocks,
                                "DetectDocumentTextModelVersion": "1.0"})
        if op == "StartDocumentTextDetection":
            try:
                obj = doc["DocumentLocation"]["S3Object"]
                bucket, name = obj["Bucket"], obj["Name"]
            except (KeyError, TypeError):
                return self.json_error(400, "InvalidParameterException",
                                       "Request has invalid parameters")
            if "missing" in name:
                return self.json_error(400, "InvalidS3ObjectException",
                                       "Unable to get object metadata from S3. Check object key, "
                                       "region and/or access permissions.")
            with state["lock"]:
                job = "job-%d" % next(state["ids"])
                state["jobs"][job] = {"bucket": bucket, "name": name, "polls": 0}
            return self.answer({"JobId": job})
        if op == "GetDocumentTextDetection":
            with state["lock"]:
                job = state["jobs"].get(doc.get("JobId"))
                if job is not None:
                    job["polls"] += 1
            if job is None:
                return self.json_error(400, "InvalidJobIdException", "Request has invalid Job Id")
            if "MaxResults" not in doc:
                return self.json_error(400, "InvalidParameterException", "MaxResults is expected")
            name = job["name"]
            if job["polls"] == 1 or "slow" in name:
                return self.answer({"JobStatus": "IN_PROGRESS"})
            if "broken" in name:
                return self.answer({"JobStatus": "FAILED",
                                    "StatusMessage": "Request has unsupported document format"})
            meta = {"Pages": 5000 if "many" in name else len(PAGES)}
            if doc.get("NextToken") == "t2":
                blocks = line_blocks(3, PAGES[2])
                return self.answer({"JobStatus": "SUCCEEDED", "DocumentMetadata": meta,
                                    "Blocks": blocks})
            blocks = line_blocks(1, PAGES[0]) + line_blocks(2, PAGES[1])
            return self.answer({"JobStatus": "SUCCEEDED", "DocumentMetadata": meta,
                                "Blocks": blocks, "NextToken": "t2"})
        return self.json_error(400, "UnknownOperationException", "unknown operation " + target)


def main():
    aws_peer.Server.textract = {"lock": threading.Lock(), "ids": itertools.count(1), "jobs": {}}
    aws_peer.main(TextractPeer)


if __name__ == "__main__":
    main()
