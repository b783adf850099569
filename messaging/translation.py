"""Machine translation behind one interface, chosen by TRANSLATION_PROVIDER:

- `none`: nothing is translated; readers get the original, marked as such;
- `libretranslate`: the HTTP API of a self-hosted LibreTranslate (LIBRETRANSLATE_URL, with
  LIBRETRANSLATE_API_KEY when the server asks for one).

Each call takes a batch of texts for one language pair, so a message to many families costs one
call per language. Nothing outside this module speaks to a translation service.
"""

from __future__ import annotations

from typing import Protocol

import requests
from django.conf import settings

TIMEOUT_SECONDS = 20


class TranslationUnavailable(Exception):
    """The provider did not answer, or answered with an error worth trying again later."""


class TranslationProvider(Protocol):
    name: str

    def translate(self, texts: list[str], *, source: str, target: str) -> list[str] | None:
        """The texts in `target`, in order; None when this provider does not translate."""

    def detect(self, text: str) -> str | None:
        """The language code the text is written in, or None when unsure."""


class NoTranslation:
    name = "none"

    def translate(self, texts, *, source, target):
        return None

    def detect(self, text):
        return None


# LibreTranslate spells a few languages differently from the portal.
LIBRETRANSLATE_CODES = {"zh-hans": "zh"}


class LibreTranslate:
    name = "libretranslate"

    def __init__(self, base_url: str, api_key: str = ""):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def _post(self, path: str, payload: dict):
        if self.api_key:
            payload = {**payload, "api_key": self.api_key}
        try:
            response = requests.post(
                f"{self.base_url}{path}", json=payload, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            raise TranslationUnavailable(
                f"LibreTranslate did not answer ({type(error).__name__})"
            ) from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TranslationUnavailable(f"LibreTranslate answered {response.status_code}")
        if response.status_code != 200:
            raise TranslationUnavailable(
                f"LibreTranslate refused the request ({response.status_code})"
            )
        return response.json()

    def translate(self, texts, *, source, target):
        result = self._post(
            "/translate",
            {
                "q": texts,
                "source": LIBRETRANSLATE_CODES.get(source, source),
                "target": LIBRETRANSLATE_CODES.get(target, target),
                "format": "text",
            },
        )
        translated = result["translatedText"]
        return translated if isinstance(translated, list) else [translated]

    def detect(self, text):
        candidates = self._post("/detect", {"q": text})
        if not candidates:
            return None
        best = max(candidates, key=lambda candidate: candidate.get("confidence", 0))
        code = best.get("language", "")
        reverse = {theirs: ours for ours, theirs in LIBRETRANSLATE_CODES.items()}
        return reverse.get(code, code) if best.get("confidence", 0) >= 50 else None


def translation_provider() -> TranslationProvider:
    name = settings.TRANSLATION_PROVIDER
    if name == "libretranslate":
        return LibreTranslate(settings.LIBRETRANSLATE_URL, settings.LIBRETRANSLATE_API_KEY)
    if name == "none":
        return NoTranslation()
    raise ValueError(f"TRANSLATION_PROVIDER={name!r} is not one of: none, libretranslate")
