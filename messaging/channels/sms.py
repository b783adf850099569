"""SMS backends, chosen by the SMS_BACKEND setting the way Django chooses an email backend.

- `console`: prints each text to standard output (the demo; never to the logs).
- `memory`: keeps texts in `MemoryBackend.outbox` (tests).
- `twilio`: hands texts to Twilio's Messages API through the official SDK.
- a dotted path to any class with the same `send` and `find_sent` methods.

Nothing outside this module speaks to an SMS provider or imports `twilio`. Phone numbers and
bodies never go through `logging`, here or in the SDK.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import sys
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from messaging import phone_simulator


@dataclass(frozen=True)
class SentSms:
    """A text the provider accepted."""

    to: str  # E.164
    body: str
    provider_id: str  # Twilio's MessageSid ("SM..."), or console-/memory- ids
    segments: int | None = None  # as the provider counted them, when it says


class SmsError(Exception):
    """A text the provider did not take.

    Transient errors (network, HTTP 429, 5xx) are worth trying again later; any other is
    permanent for this text and this number.
    """

    def __init__(
        self, *, code: str, reason: str, is_transient: bool = False, is_opted_out: bool = False
    ):
        super().__init__(f"{reason} ({code})")
        self.code = code  # the provider's error code ("21211", "429", "503", "network")
        self.reason = reason  # readable, for staff; stored on the delivery
        self.is_transient = is_transient  # try again later
        self.is_opted_out = is_opted_out  # the recipient texted STOP


class SmsBackend(Protocol):
    def send(
        self,
        *,
        to: str,
        body: str,
        sender: str = "",
        validity_seconds: int | None = None,
        status_callback: str = "",
    ) -> SentSms:
        """Hand one text to the provider, or raise SmsError.

        `sender` is an E.164 number to send from (a school's own); empty means the settings'
        default. The provider drops the text if it is still queued after `validity_seconds`, and
        reports its progress to `status_callback`.
        """
        ...

    def find_sent(self, *, to: str, body: str, since: datetime.datetime) -> str | None:
        """The provider id of a text to `to` with exactly `body` accepted since `since`.

        For a worker that died after handing a text over but before recording it: the portal
        asks before sending again, so a family never gets the same text twice.
        """
        ...


_ids = itertools.count(1)


class ConsoleBackend:
    """Writes each text to standard output, for running the portal locally, and, where the
    phone simulator is on (DEBUG), to its log so /sms/phone/ shows it."""

    def send(
        self,
        *,
        to: str,
        body: str,
        sender: str = "",
        validity_seconds: int | None = None,
        status_callback: str = "",
    ) -> SentSms:
        sent = SentSms(to=to, body=body, provider_id=f"console-{next(_ids)}")
        sys.stdout.write(f"--- SMS to {to} ---\n{body}\n---\n")
        sys.stdout.flush()
        phone_simulator.record_text(to=to, body=body, sender=sender)  # with DEBUG: /sms/phone/
        return sent

    def find_sent(self, *, to: str, body: str, since: datetime.datetime) -> str | None:
        return None  # the console keeps nothing; a repeat is harmless there


@dataclass(frozen=True)
class OutboxText:
    """A text the memory backend took, with what the portal asked of it."""

    to: str  # E.164
    body: str
    provider_id: str  # "memory-N"
    sent_at: datetime.datetime  # when the backend took it
    sender: str = ""  # the number asked for; empty for the settings' default
    validity_seconds: int | None = None
    status_callback: str = ""


class MemoryBackend:
    """Keeps every text in `MemoryBackend.outbox`, for tests to read."""

    outbox: list[OutboxText] = []

    def send(
        self,
        *,
        to: str,
        body: str,
        sender: str = "",
        validity_seconds: int | None = None,
        status_callback: str = "",
    ) -> SentSms:
        text = OutboxText(
            to=to,
            body=body,
            provider_id=f"memory-{next(_ids)}",
            sent_at=timezone.now(),
            sender=sender,
            validity_seconds=validity_seconds,
            status_callback=status_callback,
        )
        MemoryBackend.outbox.append(text)
        return SentSms(to=to, body=body, provider_id=text.provider_id)

    def find_sent(self, *, to: str, body: str, since: datetime.datetime) -> str | None:
        for text in reversed(MemoryBackend.outbox):
            if text.to == to and text.body == body and text.sent_at >= since:
                return text.provider_id
        return None


# Twilio's error codes, on refusing a text or in a status callback, as staff should read them.
# https://www.twilio.com/docs/api/errors
TWILIO_ERROR_REASONS = {
    "20003": "Twilio did not accept the portal's account credentials",
    "21211": "The number is not a valid phone number",
    "21214": "The number cannot be reached",
    "21408": "Texting is not enabled for that number's region",
    "21610": "The recipient replied STOP and receives no texts",
    "21612": "Twilio cannot route texts to this number",
    "21614": "The number is not a mobile number",
    "21617": "The text is too long",
    "30003": "The phone is unreachable (switched off or out of coverage)",
    "30004": "The text was blocked",
    "30005": "The carrier does not know this number",
    "30006": "The number is a landline or its carrier cannot be reached",
    "30007": "The carrier filtered the text as spam",
    "30008": "The carrier reported an unknown error",
}
TWILIO_OPTED_OUT_CODE = "21610"

# How far Twilio's clock may run from ours, when asking what it accepted since a moment.
CLOCK_SKEW_SECONDS = 60

# The SDK logs every request's query at INFO, which for a message list is the recipient's
# number. Its logger is kept out of the portal's logging, and quiet.
_sdk_logger = logging.Logger("twilio.http_client", level=logging.WARNING)


def delivery_error_reason(code: str) -> str:
    """Readable reason for an ErrorCode Twilio reports on a status callback."""
    return TWILIO_ERROR_REASONS.get(code, f"Twilio could not deliver the text (code {code})")


def _http_status(error: TwilioException) -> int | None:
    """The HTTP status behind an SDK error. A failed list page carries only its response."""
    status = getattr(error, "status", None)
    if status is None and len(error.args) > 1:
        status = getattr(error.args[1], "status_code", None)
    return status


def _refusal(error: Exception) -> SmsError:
    """The SmsError for what the SDK or the network raised."""
    if isinstance(error, requests.RequestException):
        return SmsError(
            code="network",
            reason="Twilio could not be reached (network error or timeout)",
            is_transient=True,
        )
    status = _http_status(error)
    if status == 429:
        return SmsError(
            code="429", reason="Twilio asked the portal to slow down", is_transient=True
        )
    if status is not None and status >= 500:
        return SmsError(
            code=str(status),
            reason=f"Twilio had a problem on its side (HTTP {status})",
            is_transient=True,
        )
    code = str(getattr(error, "code", None) or status or "unknown")
    return SmsError(
        code=code,
        reason=TWILIO_ERROR_REASONS.get(code, f"Twilio refused the text (code {code})"),
        is_opted_out=code == TWILIO_OPTED_OUT_CODE,
    )


class TwilioBackend:
    """Sends through Twilio's Messages API with the official SDK, at TWILIO_API_BASE_URL."""

    def __init__(self) -> None:
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise ImproperlyConfigured(
                "SMS_BACKEND is twilio but TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is empty"
            )
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(
                timeout=settings.TWILIO_TIMEOUT_SECONDS, logger=_sdk_logger
            ),
        )
        # The Messages API lives on the `api` domain; its base URL is a plain attribute.
        self.client.api.base_url = settings.TWILIO_API_BASE_URL
        # The SDK would rewrite that host from TWILIO_EDGE / TWILIO_REGION in the environment;
        # the portal names its host in one setting only.
        self.client.edge = None
        self.client.region = None

    def send(
        self,
        *,
        to: str,
        body: str,
        sender: str = "",
        validity_seconds: int | None = None,
        status_callback: str = "",
    ) -> SentSms:
        options: dict[str, object] = {}
        if sender:
            options["from_"] = sender
        elif settings.TWILIO_MESSAGING_SERVICE_SID:
            options["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        elif settings.TWILIO_FROM_NUMBER:
            options["from_"] = settings.TWILIO_FROM_NUMBER
        else:
            raise ImproperlyConfigured(
                "Set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER to send texts"
            )
        if validity_seconds is not None:
            options["validity_period"] = validity_seconds
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = self.client.messages.create(to=to, body=body, **options)
        except (TwilioException, requests.RequestException) as error:
            raise _refusal(error) from error
        # Through a Messaging Service the count is "0" until Twilio has picked a sender.
        segments = int(message.num_segments) if message.num_segments else 0
        return SentSms(to=to, body=body, provider_id=message.sid, segments=segments or None)

    def find_sent(self, *, to: str, body: str, since: datetime.datetime) -> str | None:
        earliest = since.astimezone(datetime.UTC) - datetime.timedelta(seconds=CLOCK_SKEW_SECONDS)
        try:
            # Sent as DateSent>=YYYY-MM-DD, the form Twilio documents (it filters by GMT day);
            # the exact moment is checked here, against when Twilio accepted each text.
            messages = self.client.messages.list(to=to, date_sent_after=earliest.date().isoformat())
        except (TwilioException, requests.RequestException) as error:
            raise _refusal(error) from error
        for message in messages:
            accepted_at = message.date_created or message.date_sent
            if message.body == body and accepted_at is not None and accepted_at >= earliest:
                return message.sid
        return None


def twilio_signature(*, url: str, params: dict[str, str]) -> str:
    """The X-Twilio-Signature Twilio would send with `params` to `url`, signed with
    TWILIO_AUTH_TOKEN (for the portal's phone simulator and tests)."""
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def twilio_signature_valid(*, url: str, params: dict[str, str], signature: str) -> bool:
    """Whether a webhook to `url` with `params` really came from Twilio. Without an auth token
    nothing is valid."""
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend, "twilio": TwilioBackend}


_backends: dict[tuple, SmsBackend] = {}


def sms_backend() -> SmsBackend:
    """The backend SMS_BACKEND names, one per process and configuration, so a worker keeps its
    connection to Twilio open from one text to the next instead of opening one per text."""
    name = settings.SMS_BACKEND
    key = (
        name,
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
        settings.TWILIO_MESSAGING_SERVICE_SID,
        settings.TWILIO_FROM_NUMBER,
        settings.TWILIO_TIMEOUT_SECONDS,
    )
    if key not in _backends:
        backend_class = BACKENDS.get(name) or import_string(name)
        _backends.clear()  # settings changed (tests): the old one is of no use
        _backends[key] = backend_class()
    return _backends[key]
