""" "Preview as the family sees it": before sending, staff see the text each family will receive,
in each family's language, with what it costs in SMS segments.

Machine translation never runs in the web request: a preview asks a task (queue translation) to
translate the draft once per language and keeps the result in the cache for an hour; the page
shows "translating" for a language until it is there and asks again a moment later. With the
embedded default (tasks run in-process) the translation is there at once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache

from messaging.channels.segments import sms_segments
from messaging.delivery import family_text
from messaging.translation import translation_provider

logger = logging.getLogger(__name__)

PREVIEW_SECONDS = 3600  # how long a draft's translation is kept
PENDING_SECONDS = 120  # a translation asked for is not asked again for this long


@dataclass(frozen=True)
class FamilyPreview:
    """What the families reading one language receive."""

    language: str
    families: int
    text: str | None  # None while the translation is being made
    is_machine: bool  # translated by a machine (marked so for the family)
    segments: int | None  # SMS parts it costs each family that takes texts
    encoding: str


def _key(*, provider: str, source: str, target: str, body: str, terms: list[str]) -> str:
    digest = hashlib.sha256("\x1f".join([provider, source, target, body, *terms]).encode())
    return f"preview:{digest.hexdigest()}"


def draft_translate(*, key: str, body: str, source: str, target: str, terms: list[str]) -> None:
    """Translates a draft for its preview (run by `tasks.preview_translate_task`)."""
    from messaging.services import _protect, _restore

    protected, kept = _protect(body, terms)
    texts = translation_provider().translate([protected], source=source, target=target)
    if texts is not None:
        cache.set(key, _restore(texts[0], kept), PREVIEW_SECONDS)


def _translation(
    *, body: str, source: str, target: str, terms: list[str]
) -> tuple[str | None, bool]:
    """(text, is_machine) for one language; (None, True) while it is being made."""
    provider = translation_provider()
    if source == target or provider.name == "none":
        return body, False
    key = _key(provider=provider.name, source=source, target=target, body=body, terms=terms)
    made = cache.get(key)
    if made is None and cache.add(f"{key}:asked", 1, PENDING_SECONDS):
        from kombu.exceptions import OperationalError

        from messaging.tasks import preview_translate_task

        try:
            preview_translate_task.delay(key, body, source, target, terms)
        except OperationalError as error:
            logger.warning("broker unavailable, no preview translation: %s", error)
            cache.delete(f"{key}:asked")
        made = cache.get(key)  # made already where tasks run in-process
    return made, True


def message_preview(
    *,
    author: str,
    body: str,
    source: str,
    families_by_language: dict[str, int],
    terms: list[str],
    human: dict[str, str] | None = None,
) -> list[FamilyPreview]:
    """The text each language's families will receive, most families first; `human` holds the
    texts people translated (a template's), used where there is one."""
    human = human or {}
    previews = []
    for language, families in sorted(families_by_language.items(), key=lambda item: -item[1]):
        if language in human and language != source:
            text, is_machine = human[language], False
        else:
            text, is_machine = _translation(body=body, source=source, target=language, terms=terms)
        full = text if text is None else family_text(author=author, body=text)
        counted = sms_segments(full) if full is not None else None
        previews.append(
            FamilyPreview(
                language=language,
                families=families,
                text=full,
                is_machine=is_machine,
                segments=counted.count if counted else None,
                encoding=counted.encoding if counted else "",
            )
        )
    return previews
