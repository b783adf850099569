"""Celery tasks of surveys: translating and sending a survey's invitations, the reminder, and
closing at the closing time."""

from celery import shared_task

from messaging.delivery import deliveries_dispatch
from messaging.translation import TranslationUnavailable
from surveys import services


@shared_task(
    acks_late=True,
    autoretry_for=(TranslationUnavailable,),
    retry_backoff=10,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def survey_translate_and_dispatch_task(survey_id: int, message_id: int, languages: list) -> None:
    """A survey was sent: the machine writes its texts in the families' languages that have none
    yet, then its invitations go. Safe to run twice; when translation keeps failing, the sweeper
    sends the invitations with the original after TRANSLATION_WAIT_SECONDS."""
    services.survey_translate_missing(survey_id=survey_id, languages=languages)
    deliveries_dispatch(message_id=message_id)


@shared_task(acks_late=True)
def survey_reminders_send() -> int:
    """Every 15 minutes: the one reminder to families that have not finished a survey."""
    return services.survey_reminders_send()


@shared_task(acks_late=True)
def surveys_close_due() -> int:
    """Every 5 minutes: closes the surveys whose closing time has passed."""
    return services.surveys_close_due()
