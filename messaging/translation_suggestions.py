"""A person asks the machine to suggest a translation of some texts (a support service's, a
survey's); the suggestion waits in its own row until a person accepts it. This is the part both
share: asking the provider for a suggestion row's texts and keeping its answer."""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from messaging.translation import translation_provider


def suggestion_make(
    *, suggestions: type[models.Model], suggestion_id: int, source: str, untranslated: str
) -> None:
    """Asks the provider (outside any transaction) for the texts of a suggestion still asked
    (`source_texts`, {key: text}) and keeps its answer in `texts`, or the status `untranslated`
    when the provider translates nothing. Safe to run twice; an answer to an ask that was since
    replaced (a newer `asked_at`) is dropped. Raises TranslationUnavailable for the task to
    retry."""
    asked = suggestions.objects.filter(pk=suggestion_id, status="asked").first()
    if asked is None:
        return
    keys = list(asked.source_texts)
    made = (
        translation_provider().translate(
            [asked.source_texts[key] for key in keys], source=source, target=asked.language
        )
        if keys
        else []
    )
    with transaction.atomic():
        suggestion = (
            suggestions.objects.select_for_update()
            .filter(pk=suggestion_id, status="asked", asked_at=asked.asked_at)
            .first()
        )
        if suggestion is None:
            return
        if made is None:
            suggestion.status = untranslated
        else:
            suggestion.status, suggestion.texts = "ready", dict(zip(keys, made, strict=True))
        suggestion.made_at = timezone.now()
        suggestion.save(update_fields=["status", "texts", "made_at"])
