from celery import shared_task

from messaging.translation import TranslationUnavailable
from supports import services


@shared_task(
    acks_late=True,
    autoretry_for=(TranslationUnavailable,),
    retry_backoff=2,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=60,
    time_limit=90,
)
def translation_suggest_task(suggestion_id: int) -> None:
    """Makes the machine translation a counselor asked for; it waits as a suggestion until a
    person accepts it. Safe to run twice. Should the provider stay down, the suggestion stays
    "being translated" and the counselor can ask again."""
    services.translation_make(suggestion_id=suggestion_id)
