from celery import shared_task

from messaging import broadcasts, delivery, inbound, preview, services
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
    """Translates a message for its readers, then hands its deliveries to the broker; safe to
    run twice (each language is made once, each delivery claimed once). When translation keeps
    failing, the sweeper sends the original with a note after TRANSLATION_WAIT_SECONDS."""
    message_translate(message_id=message_id)
    delivery.deliveries_dispatch(message_id=message_id)


@shared_task(
    acks_late=True,
    autoretry_for=(TranslationUnavailable,),
    retry_backoff=2,
    retry_backoff_max=20,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def preview_translate_task(key: str, body: str, source: str, target: str, terms: list) -> None:
    """Translates a draft for "preview as the family sees it"; the result waits in the cache."""
    preview.draft_translate(key=key, body=body, source=source, target=target, terms=terms)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def delivery_send_task(delivery_id: int) -> str:
    """Sends one delivery (queue sms, sms_urgent or email, chosen when it is handed over).
    Retries are the pipeline's own (next_attempt_at), so a task is never redelivered late."""
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(acks_late=True)
def deliveries_sweep_task() -> dict:
    """Every minute: resumes deferred texts, recovers those a dead worker left, and hands the
    broker again what it lost."""
    counts = delivery.deliveries_sweep()
    counts["texts_routed"] = inbound.inbound_sms_sweep()
    return counts


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def inbound_sms_route_task(inbound_id: int) -> str:
    """Routes a text a family sent (keyword, survey answer, thread, office)."""
    return inbound.inbound_sms_route(inbound_id=inbound_id)


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
