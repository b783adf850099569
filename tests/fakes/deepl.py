"""A DeepL stand-in served over real HTTP on 127.0.0.1, speaking DeepL's v2 API as the official
`deepl` package sends it (POST /v2/translate with a JSON body, the key in the Authorization
header), so the portal's DeepL provider is tested whole, package included.

It knows DeepL's own language codes, not the portal's: a code DeepL would refuse is refused here
with DeepL's 400, so a wrong mapping in the portal fails its tests."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A part of DeepL's languages, enough for the portal's and a few it does not speak.
SOURCE_LANGUAGES = {"AR", "DE", "EN", "ES", "FR", "VI", "ZH"}
TARGET_LANGUAGES = {"AR", "DE", "EN-GB", "EN-US", "ES", "ES-419", "FR", "VI", "ZH-HANS", "ZH-HANT"}

# Words the fake recognises when no source language is given; anything else reads as English.
DETECT_WORDS = {"ES": {"hola", "gracias", "hijo", "maestra", "está"}, "VI": {"cảm", "ơn", "con"}}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class FakeDeepL:
    auth_key: str = "fake-deepl-key:fx"
    url: str = ""
    requests: list[tuple[str, dict, dict]] = field(default_factory=list)  # path, headers, body
    fail_with: int | None = None  # answer every request with this status: 429, 456, 503, 403...

    def translations(self) -> list[dict]:
        return [body for path, _headers, body in self.requests if path == "/v2/translate"]


def _detect(text: str) -> str:
    if CHINESE.search(text):
        return "ZH"
    words = set(re.findall(r"\w+", text.lower()))
    for language, known in DETECT_WORDS.items():
        if words & known:
            return language
    return "EN"


def _handler(fake: FakeDeepL):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict | None = None) -> None:
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append((self.path, dict(self.headers), body))
            if self.headers.get("Authorization") != f"DeepL-Auth-Key {fake.auth_key}":
                return self._answer(403, {"message": "Wrong auth key"})
            if fake.fail_with:
                return self._answer(fake.fail_with, {"message": "Failure asked by the test"})
            if self.path != "/v2/translate":
                return self._answer(404, {"message": "Not found"})
            source, target = body.get("source_lang"), body["target_lang"]
            if source is not None and source not in SOURCE_LANGUAGES:
                return self._answer(400, {"message": "Value for 'source_lang' not supported."})
            if target not in TARGET_LANGUAGES:
                return self._answer(400, {"message": "Value for 'target_lang' not supported."})
            translations = []
            for text in body["text"]:
                read = source or _detect(text)
                translations.append(
                    {
                        "detected_source_language": read,
                        "text": f"[{read}->{target}] {text}",
                        "billed_characters": len(text),
                    }
                )
            return self._answer(200, {"translations": translations})

    return Handler


def serve() -> tuple[FakeDeepL, ThreadingHTTPServer]:
    fake = FakeDeepL()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll keeps shutdown() quick at the end of each test.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return fake, server
