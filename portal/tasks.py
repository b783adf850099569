import logging

from celery import shared_task

from messaging.channels.sms import SmsError
from portal.services import roster_import_run
from portal.sign_in import sign_in_code_deliver

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def roster_import_task(roster_import_id: int) -> None:
    """Imports an uploaded bundle; running it again for a finished import does nothing."""
    roster_import_run(roster_import_id=roster_import_id)


@shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=3)
def sign_in_code_send(self, *, channel: str, to: str, code: str, language: str) -> None:
    """Sends a sign-in code by SMS or email, in the guardian's language, on the urgent queue
    (ahead of announcements). A busy or unreachable provider is tried again within a minute;
    a refused number is not (the family sees the same page either way)."""
    try:
        sign_in_code_deliver(channel=channel, to=to, code=code, language=language)
    except SmsError as error:
        if error.is_transient:
            raise self.retry(countdown=5 * (self.request.retries + 1)) from error
        logger.warning("sign-in code refused by the SMS provider: %s", error.code)
