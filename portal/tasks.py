from celery import shared_task

from portal.services import roster_import_run
from portal.sign_in import sign_in_code_deliver


@shared_task(acks_late=True)
def roster_import_task(roster_import_id: int) -> None:
    """Imports an uploaded bundle; running it again for a finished import does nothing."""
    roster_import_run(roster_import_id=roster_import_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=3)
def sign_in_code_send(*, channel: str, to: str, code: str, language: str) -> None:
    """Sends a sign-in code by SMS or email, in the guardian's language."""
    sign_in_code_deliver(channel=channel, to=to, code=code, language=language)
