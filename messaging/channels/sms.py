"""SMS backends, chosen by the SMS_BACKEND setting the way Django chooses an email backend.

- `console`: prints each text to standard output (the demo; never to the logs).
- `memory`: keeps texts in `outbox` (tests).
- a dotted path to any class with the same `send` method.

The Twilio backend joins these with the delivery pipeline. Nothing outside this module speaks to
an SMS provider.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SentSms:
    to: str  # E.164
    body: str
    provider_id: str  # the provider's id for the text (Twilio's MessageSid)


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> SentSms: ...


_ids = itertools.count(1)


class ConsoleBackend:
    """Writes each text to standard output, for running the portal locally."""

    def send(self, *, to: str, body: str) -> SentSms:
        sent = SentSms(to=to, body=body, provider_id=f"console-{next(_ids)}")
        sys.stdout.write(f"--- SMS to {to} ---\n{body}\n---\n")
        sys.stdout.flush()
        return sent


class MemoryBackend:
    """Keeps every text in `MemoryBackend.outbox`, for tests to read."""

    outbox: list[SentSms] = []

    def send(self, *, to: str, body: str) -> SentSms:
        sent = SentSms(to=to, body=body, provider_id=f"memory-{next(_ids)}")
        MemoryBackend.outbox.append(sent)
        return sent


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend}


def sms_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    backend_class = BACKENDS.get(name) or import_string(name)
    return backend_class()
