"""Celery tasks of the survey results: translating the families' written answers for staff."""

from celery import shared_task

from messaging.translation import TranslationUnavailable
from surveys import results


@shared_task(
    acks_late=True,
    autoretry_for=(TranslationUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def survey_answers_translate(survey_id: int, answer_ids: list[str], target: str) -> int:
    """Translates a page of written answers into a reader's language; the results page finds
    them in the cache. Safe to run twice; while the provider is down the page says
    "translating" and asks again a little later."""
    return results.answers_translate(survey_id=survey_id, answer_ids=answer_ids, target=target)
