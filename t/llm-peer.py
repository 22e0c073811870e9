#!/usr/bin/python3
"""llm-peer: a test server that speaks OpenAI's chat-completions protocol.

POST /v1/chat/completions must carry "Authorization: Bearer <--key>" (else
401) and a JSON body with a model string, a non-empty messages array of
{role: system|user|assistant, content: string} and an integer max_tokens
(else 400). Each answer has the documented shape: an "error" object with a
message, or "choices"[0].message.content. The model name picks the mode:

  echo        content = the last message's content
  notes       content = Markdown notes with the four sections, naming the
              first heading of the document found in the prompt
  no-sections content = plain prose without the notes' sections
  fail-500    500 with error.message "upstream exploded", every time
  flaky-429   429 (Retry-After: 0) the first two tries, then like echo
  flaky-503   503 the first try, then like echo
  malformed   200 with a body that is not JSON
  no-content  200 with message.content null
  slow        answers like echo after 3 seconds
  bad-request 400 with error.message "context too long"
  cite        content = the first sentence of passage [1] of the prompt, cited
              as [1] (a grounded chat answer)
  cite-bad    content = a sentence citing [9], a passage the prompt lacks
  quiz        content = a JSON quiz: one sound question per numbered passage
              of the prompt, its stem starting "Model:" (its answer copied
              from the passage, the right option first)
  quiz-bad    as quiz, but passage 1's answer is not in the passage, passage
              2's options repeat, passage 3's index is out of range and
              passage 4 is asked about twice (the second time wrongly)

GET /_peer/attempts?model=M counts the requests for model M,
GET /_peer/last returns the last request body, and GET /_peer/mode?set=MODE
answers every later request in MODE whatever the model (set= empty: the
model picks again), so one stack can meet several behaviours. The chosen port is written
to --port-file once the server listens. The server exits when its parent
process does.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLES = {"system", "user", "assistant"}


class State:
    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.attempts = {}
        self.last = b""
        self.mode = ""


class Peer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("llm-peer: " + (fmt % args) + "\n")

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message, kind="invalid_request_error", headers=None):
        self.reply(status, {"error": {"message": message, "type": kind, "code": None}}, headers)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        st = self.server.state
        if url.path == "/_peer/attempts":
            model = urllib.parse.parse_qs(url.query).get("model", [""])[0]
            with st.lock:
                self.reply(200, str(st.attempts.get(model, 0)).encode())
            return
        if url.path == "/_peer/mode":
            with st.lock:
                st.mode = urllib.parse.parse_qs(url.query).get("set", [""])[0]
                self.reply(200, st.mode.encode())
            return
        if url.path == "/_peer/last":
            with st.lock:
                self.reply(200, st.last)
            return
        self.error(404, "no such path")

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if urllib.parse.urlsplit(self.path).path != "/v1/chat/completions":
            self.error(404, "no such path: " + self.path)
            return
        if self.headers.get("Authorization") != "Bearer " + st.key:
            self.error(401, "invalid api key", "authentication_error")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.error(400, "body is not JSON")
            return
        problem = check_shape(body)
        if problem:
            self.error(400, problem)
            return
        model = body["model"]
        mode = model.split(":")[0]  # "flaky-429:b" is flaky-429 with its own count
        with st.lock:
            st.attempts[model] = st.attempts.get(model, 0) + 1
            tries = st.attempts[model]
            st.last = raw
            if st.mode:
                mode = st.mode
        last = body["messages"][-1]["content"]
        if mode == "fail-500":
            self.error(500, "upstream exploded", "server_error")
        elif mode == "flaky-429" and tries <= 2:
            self.error(429, "slow down", "rate_limit_error", {"Retry-After": "0"})
        elif mode == "flaky-503" and tries <= 1:
            self.error(503, "overloaded", "server_error")
        elif mode == "bad-request":
            self.error(400, "context too long")
        elif mode == "malformed":
            self.reply(200, b'{"choices": [{"message": {"content": "cut')
        elif mode == "no-content":
            self.reply(200, completion(model, None))
        elif mode == "notes":
            self.reply(200, completion(model, notes_for(last)))
        elif mode == "cite":
            self.reply(200, completion(model, cite_for(last)))
        elif mode == "cite-bad":
            self.reply(200, completion(model, "The moon is made of cheese [9]."))
        elif mode in ("quiz", "quiz-bad"):
            self.reply(200, completion(model, quiz_for(last, mode == "quiz-bad")))
        elif mode == "no-sections":
            self.reply(200, completion(model, "These are some thoughts about the document."))
        else:
            if mode == "slow":
                time.sleep(3)
            self.reply(200, completion(model, last))


def check_shape(body):
    if not isinstance(body, dict):
        return "body must be an object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model must be a non-empty string"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages must be a non-empty array"
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            return "each message needs a role and a string content"
    if not isinstance(body.get("max_tokens"), int) or isinstance(body.get("max_tokens"), bool):
        return "max_tokens must be an integer"
    if body.get("stream") not in (None, False):
        return "stream is not supported here"
    return None


def completion(model, content):
    return {
        "id": "chatcmpl-peer",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def notes_for(prompt):
    """Notes that prove the document reached the model: they quote its first heading."""
    m = re.search(r"^#+ (.+)$", prompt, re.M)
    topic = m.group(1) if m else "the document"
    return ("Here are your notes.\n\n## Summary\n\nThe document is about **%s**. It is short.\n\n"
            "## Key terms\n\n- **%s**: the topic\n\n## Outline\n\n- %s\n\n"
            "## Key points\n\n- It names %s.\n" % (topic, topic, topic, topic))


def cite_for(prompt):
    """A grounded answer: passage [1]'s first sentence, cited."""
    m = re.search(r"^\[1\] .*\n(.+)$", prompt, re.M)
    if not m:
        return "I cannot tell."
    first = re.split(r"(?<=[.!?]) ", m.group(1).strip())[0]
    return "Your document says: %s [1]" % first


def quiz_for(prompt, bad):
    """A quiz as a model would write it, in a Markdown fence."""
    passages = re.findall(r"^\[(\d+)\] (\w+) \(section: [^\n]*\)\n(.+)$", prompt, re.M)
    words = [w for _, _, text in passages for w in re.findall(r"[A-Za-z]{6,}", text)]
    out = []
    for num, kind, text in passages:
        n = int(num)
        mine = re.findall(r"[A-Za-z]{6,}", text)
        answer = max(mine, key=len) if mine else text.split()[0]
        stem = "Model: " + text.replace(answer, "_____", 1)
        if kind == "true_false":
            out.append({"passage": n, "type": kind, "question": "Model: " + text,
                        "options": ["True", "False"], "correct_answer": 0})
            continue
        if kind == "short_answer":
            out.append({"passage": n, "type": kind, "question": stem, "options": [],
                        "correct_answer": answer})
            continue
        others = []
        for w in words + ["Saturnalia", "Quixotic", "Zeppelins"]:
            if w.lower() != answer.lower() and w.lower() not in [o.lower() for o in others]:
                others.append(w)
            if len(others) == 3:
                break
        out.append({"passage": n, "type": kind, "question": stem,
                    "options": [answer] + others, "correct_answer": 0})
    if bad:
        for q in out:
            if q["passage"] == 1:
                q["correct_answer"] = "Zanzibar" if q["type"] == "short_answer" else 0
                if q["type"] == "multiple_choice":
                    q["options"][0] = "Zanzibar"
                if q["type"] == "true_false":
                    q["question"] = "Model: Zanzibar exports many bicycles every winter."
            elif q["passage"] == 2:
                q["options"] = ["same", "same", "same", "same"]
                q["type"] = "multiple_choice" if q["type"] != "multiple_choice" else q["type"]
            elif q["passage"] == 3:
                q["correct_answer"] = 7
        dup = [dict(q) for q in out if q["passage"] == 4]
        for q in dup:
            q["question"] = "Model: asked twice"
        out.extend(dup)
    return "Here is the quiz.\n```json\n" + json.dumps({"questions": out}) + "\n```\n"


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    server.daemon_threads = True
    server.state = State(args.key)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
