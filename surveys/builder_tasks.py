"""The survey builder's task: a machine translation staff asked for, on the translation queue.
Not a `tasks` module (surveys/tasks.py carries sending): surveys/apps.py tells Celery of it."""

from celery import shared_task

from messaging.translation import TranslationUnavailable
from surveys import builder

RETRIES = 4


@shared_task(bind=True, acks_late=True, max_retries=RETRIES, soft_time_limit=60, time_limit=90)
def survey_translation_suggest_task(self, suggestion_id: int) -> None:
    """Makes the suggestion: every text of the survey in one language, in one call to the
    provider. Safe to run twice. A provider that stays down through the retries (2, 4, 8, 16
    seconds apart) leaves the suggestion failed, and the page offers to ask again."""
    try:
        builder.survey_translation_make(suggestion_id=suggestion_id)
    except TranslationUnavailable as error:
        if self.request.retries >= RETRIES or self.request.is_eager:
            builder.survey_translation_fail(suggestion_id=suggestion_id)
            return
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error
