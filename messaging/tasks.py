from celery import shared_task

from messaging import broadcasts, services
from messaging.services import message_translate
from messaging.translation import TranslationUnavailable


@shared_task(
    acks_late=True,
    autoretry_for=(TranslationUnavailable,),
    retry_backoff=10,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def message_translate_task(message_id: int) -> None:
    """Translates a message for its readers; safe to run twice (each language is made once)."""
    message_translate(message_id=message_id)


@shared_task(acks_late=True)
def broadcasts_send_due() -> int:
    """Sends the scheduled announcements whose time has come. Celery beat runs it every minute
    (CELERY_BEAT_SCHEDULE in settings); safe to run twice or on several workers at once."""
    return broadcasts.broadcasts_send_due()


@shared_task(acks_late=True)
def check_ins_run_due() -> int:
    """Posts the check-in prompts due today; the beat runs it every 15 minutes."""
    return services.check_ins_run_due()


@shared_task(acks_late=True)
def threads_overdue_check() -> tuple[int, int]:
    """Nudges owners and brings in backups for families waiting too long; every 15 minutes."""
    return services.threads_overdue_check()
