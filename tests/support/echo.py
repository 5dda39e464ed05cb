"""A server that echoes the API key back, as real ones do in their error texts.

Every answer carries the key in one of five encodings (plain, JSON ``\\uXXXX``,
percent-encoding, HTML character references, JSON ``\\/`` escapes inside a
percent-encoded run), in every place a client derives text from: the error, a
gateway code's detail, the HTML title, the reference, the campaign name. The
encoding and the shape of the answer rotate per request, so a run of a dozen
requests meets every pair. 127.0.0.1 only; stopped by the test.
"""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

ENCODINGS = ("plain", "json-u", "percent", "html", "json-slash")


def encode(key: str, how: str) -> str:
    """The key as it appears in the answer's JSON *source* (already JSON-escaped where needed)."""
    if how == "plain":
        return json.dumps(key)[1:-1]
    if how == "json-u":
        return "".join(f"\\u{ord(c):04x}" for c in key)
    if how == "percent":
        return quote(key, safe="")
    if how == "html":
        return "".join(f"&#{ord(c)};" for c in key)
    if how == "json-slash":  # JSON's optional escape of "/", around a percent-encoded '+'
        return json.dumps(key)[1:-1].replace("/", "\\/").replace("+", "%2B")
    raise ValueError(how)


def decodings(text: str) -> list[str]:
    """``text`` and what a reader could turn it into: written independently of the
    code under test (stdlib decoders, applied in every order up to three deep)."""
    import re
    from urllib.parse import unquote

    def json_u(t: str) -> str:
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), t).replace("\\/", "/")

    steps = (unquote, html.unescape, json_u)
    seen = {text}
    layer = {text}
    for _ in range(3):
        nxt = set()
        for t in layer:
            for step in steps:
                try:
                    nxt.add(step(t))
                except Exception:  # noqa: BLE001 - a decoder that does not apply
                    pass
        layer = nxt - seen
        seen |= nxt
    return list(seen)


class EchoServer:
    """Answers the subscription API, the SMS gateway and the DOI host with the key echoed."""

    def __init__(self, key: str):
        self.key = key
        self.count = 0
        self.requests: list[str] = []
        self._lock = threading.Lock()
        echo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, ctype, body = echo.answer(self.command, self.path)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> EchoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, method: str, path: str) -> tuple[int, str, str]:
        with self._lock:
            n = self.count
            self.count += 1
            self.requests.append(path)
        k = encode(self.key, ENCODINGS[n % len(ENCODINGS)])
        shape = (n // len(ENCODINGS)) % 3
        js = "application/json"
        if "/subscriptions/" in path:
            if shape == 0:
                return (
                    200,
                    js,
                    (
                        '{"authenticated": true, "valid_msisdn": true, "valid_campaign": true, '
                        f'"campaign_status": "live {k}", "campaign_name": "echo {k}", "state": "active", '
                        f'"reference": "ref-{k}", "error": ""}}'
                    ),
                )
            if shape == 1:
                return 401, js, f'{{"authenticated": false, "error": "Username or Password incorrect: PASSWORD={k}"}}'
            return 502, "text/html", f"<html><head><title>Proxy refused {k}</title></head><body>{k}</body></html>"
        # the SMS gateway (mt-stop) and the DOI host
        if shape == 0:
            return 511, js, f'{{"error": "Username or Password incorrect: PASSWORD={k}"}}'
        if shape == 1:
            return 200, js, f'{{"590": "SEND_FAILED: key {k} refused"}}'
        return 500, "text/html", f"<html><head><title>Gateway error for {k}</title></head></html>"
