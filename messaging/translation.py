"""Machine translation behind one interface, chosen by TRANSLATION_PROVIDER:

- `none`: nothing is translated; readers get the original, marked as such;
- `libretranslate`: the HTTP API of a self-hosted LibreTranslate (LIBRETRANSLATE_URL, with
  LIBRETRANSLATE_API_KEY when the server asks for one);
- `deepl`: DeepL's API through the official `deepl` package (DEEPL_AUTH_KEY; DEEPL_SERVER_URL
  only to point elsewhere than the address the key implies). DeepL does not translate Somali.

Each call takes a batch of texts for one language pair, so a message to many families costs one
call per language. Nothing outside this module speaks to a translation service.
"""

from __future__ import annotations

from typing import Protocol

import deepl
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

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


# DeepL's codes for the portal's languages, as (source, target). DeepL reads any Chinese as ZH and
# writes simplified Chinese as ZH-HANS; it writes English only as a variant, and the portal's
# schools are American. Somali is missing because DeepL does not translate it (deepl 1.32 and
# DeepL's list of languages): a Somali reader gets the original, marked untranslated. Vietnamese
# is served by DeepL's newer models only; should an account be refused it, DeepL answers 400.
DEEPL_CODES = {
    "en": ("EN", "EN-US"),
    "es": ("ES", "ES"),
    "zh-hans": ("ZH", "ZH-HANS"),
    "vi": ("VI", "VI"),
    "ar": ("AR", "AR"),
}
PORTAL_CODES_FROM_DEEPL = {source: ours for ours, (source, _target) in DEEPL_CODES.items()}

# The package would retry 429 and 5xx itself, up to five times with its own backoff, holding a
# worker meanwhile; the translation task's retry with backoff (messaging/tasks.py) owns retrying.
deepl.http_client.max_network_retries = 0


class DeepL:
    name = "deepl"

    def __init__(self, auth_key: str, server_url: str = ""):
        if not auth_key:
            raise ImproperlyConfigured("TRANSLATION_PROVIDER=deepl needs DEEPL_AUTH_KEY")
        # Without a server URL the package picks DeepL API Free for keys ending in ":fx".
        self.translator = deepl.Translator(auth_key, server_url=server_url or None)
        # English made while detecting, by text: (portal code read, English).
        self._english_by_text: dict[str, tuple[str, str]] = {}

    def _translate(self, texts: list[str], *, source: str | None, target: str):
        try:
            return self.translator.translate_text(texts, source_lang=source, target_lang=target)
        except deepl.AuthorizationException as error:
            raise TranslationUnavailable(
                "DeepL refused the auth key (403): a person must check DEEPL_AUTH_KEY; "
                "retrying will not help until then"
            ) from error
        except deepl.QuotaExceededException as error:
            raise TranslationUnavailable(
                "DeepL's character quota for this billing period is used up (456): a person "
                "must raise it in the DeepL account, or translation waits for the next period"
            ) from error
        except deepl.ConnectionException as error:
            cause = type(error.__cause__ or error).__name__
            raise TranslationUnavailable(f"DeepL did not answer ({cause})") from error
        except deepl.DeepLException as error:
            status = error.http_status_code
            if status is not None and (status == 429 or status >= 500):
                raise TranslationUnavailable(f"DeepL answered {status}") from error
            raise TranslationUnavailable(
                f"DeepL refused the request ({status}): {error}"
            ) from error

    def translate(self, texts, *, source, target):
        source, target = source.lower(), target.lower()
        if source not in DEEPL_CODES or target not in DEEPL_CODES:
            return None  # a language DeepL does not translate: readers get the original
        if not texts:
            return []
        read_before = [self._english_by_text.get(text) for text in texts]
        if target == "en" and all(read and read[0] == source for read in read_before):
            return [english for _code, english in read_before]
        source_codes, target_codes = DEEPL_CODES[source], DEEPL_CODES[target]
        results = self._translate(texts, source=source_codes[0], target=target_codes[1])
        return [result.text for result in results]

    def detect(self, text):
        """DeepL has no detection of its own: it tells the language it read when it translates.
        So this translates the text into English (billed like any translation) and keeps that
        English, which `translate` returns when the same text is then wanted in English, so a
        family's reply to an English-speaking school costs one call. DeepL gives no confidence;
        a language the portal does not know comes back in DeepL's spelling, lowercased."""
        if not text.strip():
            return None
        (result,) = self._translate([text], source=None, target=DEEPL_CODES["en"][1])
        read = result.detected_source_lang.upper()
        code = PORTAL_CODES_FROM_DEEPL.get(read, read.lower())
        if not code:
            return None
        self._english_by_text[text] = (code, result.text)
        return code


def translation_provider() -> TranslationProvider:
    name = settings.TRANSLATION_PROVIDER
    if name == "libretranslate":
        return LibreTranslate(settings.LIBRETRANSLATE_URL, settings.LIBRETRANSLATE_API_KEY)
    if name == "deepl":
        return DeepL(settings.DEEPL_AUTH_KEY, settings.DEEPL_SERVER_URL)
    if name == "none":
        return NoTranslation()
    raise ValueError(f"TRANSLATION_PROVIDER={name!r} is not one of: none, libretranslate, deepl")
