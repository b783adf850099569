"""Signing in without a password: a guardian asks for a code at the phone number or email the
school has on file, and types it back.

The answers never tell whether an address is on file: a request for an unknown address looks
exactly like one for a known address, and a wrong code reads the same whether or not a code was
ever sent. Codes last 10 minutes and allow 5 tries; requests are rate-limited per address and per
IP address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging import pacing
from messaging.channels.segments import sms_segments
from messaging.channels.sms import sms_backend
from portal.models import Guardian, SignInCode, User
from portal.phones import phone_e164
from portal.rate_limits import rate_limit_exceeded

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
REQUESTS_PER_ADDRESS = 3  # codes sent to one address per window
REQUESTS_PER_IP = 10
VERIFY_FAILURES_PER_IP = 20
WINDOW_SECONDS = 15 * 60


class SignInError(Exception):
    """A reason to show the person, already translated."""


@dataclass(frozen=True)
class Address:
    """A phone number (E.164) or an email, as typed on the sign-in page and read."""

    channel: str  # SignInCode.Channel
    value: str

    @property
    def rate_key(self) -> str:  # no phone number or email in cache keys
        return hashlib.sha256(f"{self.channel}:{self.value}".encode()).hexdigest()[:32]


def address_read(raw: str, *, region: str | None = None) -> Address:
    """Reads what a person typed as a phone number or an email; raises SignInError if neither."""
    raw = raw.strip()
    if "@" in raw:
        try:
            validate_email(raw)
        except ValidationError:
            raise SignInError(_("Enter the email address the school has for you.")) from None
        return Address(SignInCode.Channel.EMAIL, raw.lower())
    phone = phone_e164(raw, region or settings.PHONENUMBER_DEFAULT_REGION)
    if phone is None:
        raise SignInError(_("Enter your mobile number with its area code, or your email."))
    return Address(SignInCode.Channel.SMS, phone)


def _code_hash(code_id: int, code: str) -> str:
    return salted_hmac(f"portal.sign_in_code.{code_id}", code, algorithm="sha256").hexdigest()


def _guardian_at(address: Address) -> Guardian | None:
    """The guardian on file at this address. Where two share it (a family phone), the one the
    school recorded first signs in."""
    field = "phone" if address.channel == SignInCode.Channel.SMS else "email__iexact"
    return Guardian.objects.filter(is_active=True, **{field: address.value}).order_by("pk").first()


def sign_in_code_request(*, address: Address, ip_address: str) -> int | None:
    """Sends a new code to the guardian at `address`, if there is one; returns the code's id to
    keep in the session (None when nobody is on file: the caller acts the same either way).

    Raises SignInError when this address or IP address asked too often."""
    if rate_limit_exceeded(
        f"code-ip:{ip_address}", limit=REQUESTS_PER_IP, window_seconds=WINDOW_SECONDS
    ) or rate_limit_exceeded(
        f"code-address:{address.rate_key}",
        limit=REQUESTS_PER_ADDRESS,
        window_seconds=WINDOW_SECONDS,
    ):
        raise SignInError(_("Too many codes were asked for. Wait 15 minutes and try again."))
    guardian = _guardian_at(address)
    if guardian is None:
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        sign_in_code = SignInCode.objects.create(
            guardian=guardian,
            channel=address.channel,
            code_hash="",
            expires_at=timezone.now() + CODE_LIFETIME,
        )
        sign_in_code.code_hash = _code_hash(sign_in_code.pk, code)
        sign_in_code.save(update_fields=["code_hash"])
        from portal.tasks import sign_in_code_send

        transaction.on_commit(
            lambda: sign_in_code_send.delay(
                channel=address.channel,
                to=address.value,
                code=code,
                language=guardian.preferred_language,
            )
        )
    return sign_in_code.pk


def sign_in_code_verify(*, code_id: int | None, code: str, ip_address: str) -> User:
    """Checks a typed code; returns the guardian's sign-in account (made on first sign-in).

    Raises SignInError, with the same words for an unknown, wrong or expired code."""
    if rate_limit_exceeded(
        f"verify-ip:{ip_address}", limit=VERIFY_FAILURES_PER_IP, window_seconds=WINDOW_SECONDS
    ):
        raise SignInError(_("Too many tries. Wait 15 minutes and ask for a new code."))
    wrong = SignInError(
        _("That code is not right, or it has expired. Check it, or ask for a new one.")
    )
    code = "".join(ch for ch in code if ch.isdigit())
    if code_id is None:
        raise wrong
    with transaction.atomic():
        sign_in_code = (
            SignInCode.objects.select_for_update()
            .select_related("guardian")
            .filter(
                pk=code_id,
                used_at=None,
                expires_at__gt=timezone.now(),
                attempts__lt=CODE_MAX_ATTEMPTS,
                guardian__is_active=True,
            )
            .first()
        )
        if sign_in_code is None:
            raise wrong
        is_right = constant_time_compare(sign_in_code.code_hash, _code_hash(code_id, code))
        if is_right:
            sign_in_code.used_at = timezone.now()
            sign_in_code.save(update_fields=["used_at"])
            user = guardian_account(guardian=sign_in_code.guardian)
        else:
            SignInCode.objects.filter(pk=code_id).update(attempts=F("attempts") + 1)
    if not is_right:
        raise wrong
    return user


def guardian_account(*, guardian: Guardian) -> User:
    """The guardian's sign-in account, made the first time they sign in."""
    if guardian.user_id:
        return guardian.user
    user = User.objects.create_user(
        username=f"guardian-{guardian.pk}",
        password=None,
        first_name=guardian.given_name,
        last_name=guardian.family_name,
    )
    guardian.user = user
    guardian.save(update_fields=["user"])
    return user


def sign_in_code_deliver(*, channel: str, to: str, code: str, language: str) -> None:
    """Sends the code in the guardian's language (run by a worker: `tasks.sign_in_code_send`)."""
    with translation.override(language):
        body = gettext(
            "%(code)s is your school portal sign-in code. It works for 10 minutes. "
            "Nobody from school will ask you for it."
        ) % {"code": code}
        if channel == "sms":
            # Worthless after ten minutes: Twilio drops it rather than deliver it late.
            pacing.wait_turn(sender="default", segments=sms_segments(body).count)
            sms_backend().send(
                to=to, body=body, validity_seconds=settings.SIGN_IN_SMS_VALIDITY_SECONDS
            )
        else:
            send_mail(
                subject=gettext("Your school portal sign-in code"),
                message=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[to],
            )
