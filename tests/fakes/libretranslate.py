"""A LibreTranslate stand-in served over real HTTP on 127.0.0.1, speaking the request and answer
format of LibreTranslate's /translate and /detect, so the portal's client is tested whole."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Words the fake recognises when asked to detect a language.
DETECT_WORDS = {"es": {"hola", "gracias", "hijo", "maestra", "está"}, "vi": {"cảm", "ơn", "con"}}


@dataclass
class FakeLibreTranslate:
    url: str = ""
    requests: list[tuple[str, dict]] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status, to test retries

    def translations(self) -> list[dict]:
        return [body for path, body in self.requests if path == "/translate"]


def _handler(fake: FakeLibreTranslate):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _answer(self, status: int, body) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append((self.path, body))
            if fake.fail_with:
                return self._answer(fake.fail_with, {"error": "unavailable"})
            if self.path == "/translate":
                texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
                out = [f"[{body['source']}->{body['target']}] {text}" for text in texts]
                return self._answer(
                    200, {"translatedText": out if isinstance(body["q"], list) else out[0]}
                )
            if self.path == "/detect":
                words = set(body["q"].lower().replace(",", " ").replace(".", " ").split())
                for language, known in DETECT_WORDS.items():
                    if words & known:
                        return self._answer(200, [{"language": language, "confidence": 90.0}])
                return self._answer(200, [{"language": "en", "confidence": 30.0}])
            return self._answer(404, {"error": "not found"})

    return Handler


def serve() -> tuple[FakeLibreTranslate, ThreadingHTTPServer]:
    fake = FakeLibreTranslate()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
