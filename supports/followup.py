"""Closing the loop: HELP_FOLLOW_UP_DAYS after a counselor closes a help request, the family is
asked once, by text and in its language, whether it got the help it needed.

    closed --(N days, beat task)--> asked ("Food pantry: Did you get the help...? Reply 1 yes,
    2 no") --(1, within a week)--> answered yes
                                   `--(2)--> answered no, and the request is open again

The question goes straight through the SMS backend (like a keyword answer), at the family's
pace and outside quiet hours, never to a number that texted STOP; `follow_up_sent_at` records it
so it goes once per closure. The answer is taken by the supports app's inbound handler
(supports.sms) before the conversation. Answers are counted in reports, never named.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from modeltranslation.utils import build_localized_fieldname

from messaging import consent, pacing
from messaging.channels.sms import SmsError, sms_backend
from messaging.delivery import quiet_hours_end
from messaging.models import Delivery, Message, Thread
from messaging.services import _write
from supports.models import DEFAULT_LANGUAGE, HelpRequest
from supports.services import SupportError, counselors_of

logger = logging.getLogger(__name__)

ANSWER_DAYS = 7  # how long after the question a 1 or 2 still answers it
# Forgiving answers, in the family languages ("yes", "sí" and "si" are the carrier's START words
# and never reach this: they opt the number back in).
YES_WORDS = {"1", "YES", "Y", "SI", "SÍ", "CÓ", "CO", "是", "有", "نعم", "HAA"}
NO_WORDS = {"2", "NO", "N", "KHÔNG", "KHONG", "不", "否", "没有", "لا", "MAYA"}


def answer_of(body: str) -> str | None:
    """ "yes" or "no" for an answer to the question (" 2 ", "2.", "#1", "No!"), else None."""
    word = unicodedata.normalize("NFC", body).strip().lstrip("#").rstrip(".!)").strip().upper()
    word = re.sub(r"\s+", " ", word)
    if word in YES_WORDS:
        return "yes"
    if word in NO_WORDS:
        return "no"
    return None


def _title(help_request: HelpRequest, language: str) -> str:
    service = help_request.service
    return getattr(service, build_localized_fieldname("title", language), "") or getattr(
        service, build_localized_fieldname("title", DEFAULT_LANGUAGE)
    )


def question_text(help_request: HelpRequest) -> str:
    language = help_request.guardian.preferred_language
    with translation.override(language):
        question = gettext("Did you get the help you needed? Reply 1 yes, 2 no")
    return f"{_title(help_request, language)}: {question}"


def thanks_text(help_request: HelpRequest) -> str:
    language = help_request.guardian.preferred_language
    with translation.override(language):
        if help_request.follow_up_answer == "no":
            text = gettext("Thank you. Your request is open again; a counselor will write to you.")
        else:
            text = gettext("Thank you for telling us.")
    return f"{_title(help_request, language)}: {text}"


# ---- Asking -----------------------------------------------------------------------------------


def help_requests_follow_up(*, now: datetime.datetime | None = None) -> int:
    """Asks every family whose request was closed HELP_FOLLOW_UP_DAYS ago (and not yet asked
    for this closure) whether it got the help. A family that cannot be texted now (quiet hours)
    is asked at a later run; after a week more it is not asked at all. Returns how many were
    asked. Safe to run twice and on many workers."""
    now = now or timezone.now()
    due_at = now - datetime.timedelta(days=settings.HELP_FOLLOW_UP_DAYS)
    due = HelpRequest.objects.filter(
        status=HelpRequest.Status.CLOSED,
        follow_up_sent_at__isnull=True,
        closed_at__lte=due_at,
        closed_at__gt=due_at - datetime.timedelta(days=ANSWER_DAYS),
    ).values_list("pk", flat=True)
    return sum(help_request_follow_up_send(help_request_id=pk, now=now) for pk in list(due[:1000]))


def help_request_follow_up_send(*, help_request_id: int, now: datetime.datetime) -> bool:
    """Asks one family, once: the request is marked asked before the text goes (a crash in
    between loses the question rather than sending it twice) and unmarked if the provider
    refused it for a while (it is asked again at the next run)."""
    with transaction.atomic():
        help_request = (
            HelpRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("guardian", "service", "thread__school")
            .filter(
                pk=help_request_id,
                status=HelpRequest.Status.CLOSED,
                follow_up_sent_at__isnull=True,
            )
            .first()
        )
        if help_request is None:
            return False
        guardian, school = help_request.guardian, help_request.thread.school
        if not (guardian.is_active and guardian.wants_sms and guardian.phone):
            return False
        phone = str(guardian.phone)
        refusal = consent.sms_refusal(
            school_id=school.pk, phone=phone, is_announcement=False, is_urgent=False
        )
        if refusal is not None or quiet_hours_end(guardian=guardian, school=school, at=now):
            return False
        help_request.follow_up_sent_at = now
        help_request.save(update_fields=["follow_up_sent_at"])
    text = question_text(help_request)
    sender = str(school.sms_number) if school.sms_number else ""
    pacing.wait_turn(sender=sender or "default", segments=1)
    try:
        sms_backend().send(
            to=phone, body=text, sender=sender, validity_seconds=settings.SMS_VALIDITY_SECONDS
        )
    except SmsError as error:
        logger.warning("follow-up not sent: %s (%s)", error.code, error.reason)
        if error.is_transient:
            HelpRequest.objects.filter(pk=help_request.pk, follow_up_sent_at=now).update(
                follow_up_sent_at=None
            )
        return False
    return True


# ---- Answering --------------------------------------------------------------------------------


def help_request_awaiting_answer(
    *, phone: str, now: datetime.datetime | None = None
) -> HelpRequest | None:
    """The request whose question this number was asked last, in the past week and still
    unanswered; None when the school texted the number anything since (a "1" then answers that,
    not the question)."""
    now = now or timezone.now()
    help_request = (
        HelpRequest.objects.filter(
            guardian__phone=phone,
            status=HelpRequest.Status.CLOSED,
            follow_up_answer="",
            follow_up_sent_at__gte=now - datetime.timedelta(days=ANSWER_DAYS),
        )
        .select_related("guardian", "service")
        .order_by("-follow_up_sent_at", "-pk")
        .first()
    )
    if help_request is None:
        return None
    texted_since = Delivery.objects.filter(
        channel=Delivery.Channel.SMS, address=phone, created_at__gt=help_request.follow_up_sent_at
    )
    return None if texted_since.exists() else help_request


@transaction.atomic
def help_request_follow_up_answer(*, help_request: HelpRequest, answer: str) -> HelpRequest:
    """Keeps the family's answer. "no" reopens the request (assigned again to the counselor who
    had it, if they still answer the service, else new) and tells its counselors in a note."""
    if answer not in ("yes", "no"):
        raise SupportError(gettext("Answer 1 (yes) or 2 (no)."))
    help_request = (
        HelpRequest.objects.select_for_update(of=("self",))
        .select_related("guardian", "service", "assigned_to")
        .get(pk=help_request.pk)
    )
    if help_request.status != HelpRequest.Status.CLOSED or help_request.follow_up_sent_at is None:
        raise SupportError(gettext("This request was not asked about."))
    if help_request.follow_up_answer:
        raise SupportError(gettext("This question was already answered."))
    help_request.follow_up_answer = answer
    if answer == "yes":
        help_request.save(update_fields=["follow_up_answer"])
        return help_request
    if help_request.assigned_to not in counselors_of(help_request.service):
        help_request.assigned_to = None
    help_request.status = (
        HelpRequest.Status.ASSIGNED if help_request.assigned_to else HelpRequest.Status.NEW
    )
    help_request.closed_at = None
    help_request.save(update_fields=["follow_up_answer", "status", "assigned_to", "closed_at"])
    thread = Thread.objects.select_related("school").get(pk=help_request.thread_id)
    _write(
        thread=thread,
        staff=None,
        guardian=None,
        body="The family answered that it did not get the help it needed: the request is open "
        "again.",
        channel=Message.Channel.SMS,
        is_internal=True,
    )
    Thread.objects.filter(pk=thread.pk).update(waiting_since=timezone.now())
    return help_request
