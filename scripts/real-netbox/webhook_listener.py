#!/usr/bin/env python3
"""Tiny stdlib webhook receiver for local tests: answers 200 to any POST and writes each
request as <out>/<n>.json = {"method", "path", "headers", "body_text", "signature_ok"}.

    python3 webhook_listener.py --port 18099 --out DIR [--secret test-secret]

signature_ok is the check of X-Hook-Signature (hex HMAC-SHA512 of the raw body, keyed with
--secret), or null when no secret/header is present. Binds 127.0.0.1 only.
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=18099)
parser.add_argument("--out", required=True)
parser.add_argument("--secret", default="")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
lock = threading.Lock()
counter = [len([f for f in os.listdir(args.out) if f.endswith(".json")])]


class Handler(BaseHTTPRequestHandler):
    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sig = self.headers.get("X-Hook-Signature")
        ok = None
        if args.secret and sig:
            expected = hmac.new(args.secret.encode(), body, hashlib.sha512).hexdigest()
            ok = hmac.compare_digest(expected, sig)
        with lock:
            counter[0] += 1
            n = counter[0]
        record = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body_text": body.decode("utf-8", "replace"),
            "signature_ok": ok,
        }
        with open(os.path.join(args.out, f"{n:04d}.json"), "w") as f:
            json.dump(record, f, indent=2)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def do_GET(self):  # health check
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, fmt, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
