"""Texts from families: stored first, routed after.

The webhook stores each text as it came (`inbound_sms_record`, idempotent on Twilio's
MessageSid) and answers Twilio at once; a task routes it (`inbound_sms_route`):

1. carrier keywords (STOP, START, HELP and their Spanish equivalents, any case, surrounding
   spaces ignored) change consent and are answered as carriers require; NEWS OFF / NOTICIAS NO
   mute announcements only; LANG ES changes the family's language (YES/SÍ from a number that
   takes texts is the answer an app waits for, when one does: `answer_expected`);
2. an open SMS survey takes its answer (apps register a handler: `inbound_handlers`);
3. otherwise the text joins the thread that last texted this number from the school (a reply to
   an announcement opens a direct thread with its sender), or the school office's inbox when
   there is none, and is translated for staff like any family message.

A number two guardians share is filed under the one the school last texted there, else the
first, with a note to staff naming both; a number the school does not know stays `unmatched`
and is listed for admins. Nothing is dropped.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from messaging import consent
from messaging.broadcasts import reply_thread_open
from messaging.channels.sms import SmsError, sms_backend
from messaging.models import (
    BroadcastRecipient,
    ConsentChange,
    Delivery,
    InboundSms,
    Message,
    Participant,
    Thread,
)
from messaging.services import _write, office_staff, translation_flag_by_text
from portal.languages import family_language_codes
from portal.models import Guardian, School, Student

logger = logging.getLogger(__name__)

ACTION = ConsentChange.Action
# Carrier keywords (CTIA) with the Spanish ones families use; matched on the whole text.
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"} | {
    "PARAR",
    "PARE",
    "ALTO",
    "DETENER",
    "CANCELAR",
    "BAJA",
}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"} | {"COMENZAR", "INICIAR", "SI", "SÍ", "ALTA"}
HELP_WORDS = {"HELP", "INFO"} | {"AYUDA"}
MUTE_WORDS = {"NEWS OFF", "NOTICIAS NO", "NOTICIAS OFF"}
UNMUTE_WORDS = {"NEWS ON", "NOTICIAS SI", "NOTICIAS SÍ", "NOTICIAS ON"}
SPANISH_WORDS = {
    "PARAR",
    "PARE",
    "ALTO",
    "DETENER",
    "CANCELAR",
    "BAJA",
    "COMENZAR",
    "INICIAR",
    "SI",
    "SÍ",
    "ALTA",
    "AYUDA",
    "NOTICIAS NO",
    "NOTICIAS OFF",
    "NOTICIAS SI",
    "NOTICIAS SÍ",
    "NOTICIAS ON",
}
CONFUSING_WORDS = {"?", "¿?", "？"}  # "this translation is confusing"
LANG_KEYWORD = re.compile(r"^(?:LANG|IDIOMA)\s+([A-Za-z_-]{2,10})$", re.IGNORECASE)

# Handlers tried before threads, in order, with the route a text they take is recorded under:
# each gets the text and returns True when it took it (the support directory registers one for
# SERVICES and help-request follow-ups; the surveys app one for open SMS surveys).
inbound_handlers: list[tuple[str, Callable[[InboundSms], bool]]] = []  # (route, handler)
# Apps waiting for an answer from a number say so (a survey on a yes/no question): from a number
# that takes texts, YES or SÍ is then that answer, not the carrier's START (which changes nothing
# for such a number). STOP, HELP and the others stay keywords whatever is waiting.
answer_expected: list[Callable[[InboundSms], bool]] = []


def keyword_of(body: str) -> str:
    """The text as a keyword: upper case, inner spaces collapsed, outer spaces and a final
    full stop or exclamation mark ignored ("  stop. " is STOP)."""
    return " ".join(body.strip().rstrip(".!").split()).upper()


def inbound_sms_record(
    *, message_sid: str, from_phone: str, to_phone: str, body: str, segments: int = 1
) -> tuple[InboundSms, bool]:
    """Stores a text as it came; a repeat of the same MessageSid (Twilio retries) is the same
    row. Returns (text, created)."""
    try:
        with transaction.atomic():
            return (
                InboundSms.objects.create(
                    message_sid=message_sid,
                    from_phone=from_phone[:32],
                    to_phone=to_phone[:32],
                    body=body,
                    segments=max(segments, 1),
                ),
                True,
            )
    except IntegrityError:
        return InboundSms.objects.get(message_sid=message_sid), False


def inbound_sms_hand_over(inbound_id: int) -> None:
    """Queues the routing of a stored text. With the broker down the text waits, stored, for
    the sweeper (`inbound_sms_sweep`)."""
    from kombu.exceptions import OperationalError

    from messaging.tasks import inbound_sms_route_task

    try:
        inbound_sms_route_task.delay(inbound_id)
    except OperationalError as error:
        logger.warning("broker unavailable, the sweeper will route the text: %s", error)


def inbound_sms_sweep(*, older_than_seconds: int = 60) -> int:
    """Hands over again the texts still waiting to be routed a minute after they came."""
    waiting = InboundSms.objects.filter(
        status=InboundSms.Status.RECEIVED,
        received_at__lt=timezone.now() - datetime.timedelta(seconds=older_than_seconds),
    ).values_list("pk", flat=True)[:1000]
    waiting = list(waiting)
    for inbound_id in waiting:
        inbound_sms_hand_over(inbound_id)
    return len(waiting)


def _school_by_number(to_phone: str) -> School | None:
    return School.objects.filter(sms_number=to_phone, is_active=True).first()


def _last_delivery(inbound: InboundSms, school: School | None) -> Delivery | None:
    """The school's last text to this number that went out."""
    deliveries = Delivery.objects.filter(
        channel=Delivery.Channel.SMS,
        address=inbound.from_phone,
        status__in=["sending", "sent", "delivered", "undelivered"],
    ).exclude(message__thread__kind=Thread.Kind.SURVEY)  # a survey's texts are no conversation
    if school is not None:
        deliveries = deliveries.filter(message__thread__school=school)
    return deliveries.select_related("guardian", "message__thread__school").order_by("-pk").first()


def _reply(inbound: InboundSms, text: str) -> None:
    """Answers a keyword at once, straight through the SMS backend: these answers are what the
    carrier rules require (the STOP confirmation goes even though texts just stopped)."""
    school = inbound.school
    sender = str(school.sms_number) if school and school.sms_number else ""
    try:
        sms_backend().send(
            to=inbound.from_phone,
            body=text,
            sender=sender,
            validity_seconds=settings.SMS_VALIDITY_SECONDS,
        )
    except SmsError as error:
        logger.warning("keyword answer not sent: %s (%s)", error.code, error.reason)


def _answer_language(keyword: str, guardian: Guardian | None) -> str:
    if keyword in SPANISH_WORDS:
        return "es"
    return guardian.preferred_language if guardian else settings.LANGUAGE_CODE


def _keyword(inbound: InboundSms, guardian: Guardian | None) -> bool:
    """Handles a carrier or portal keyword; False when the text is not one."""
    keyword = keyword_of(inbound.body)
    school = inbound.school
    school_name = school.name if school else gettext("School")
    actions = [
        (OPT_OUT_WORDS, ACTION.OPT_OUT),
        (OPT_IN_WORDS, ACTION.OPT_IN),
        (MUTE_WORDS, ACTION.MUTE_ANNOUNCEMENTS),
        (UNMUTE_WORDS, ACTION.UNMUTE_ANNOUNCEMENTS),
    ]
    action = next((action for words, action in actions if keyword in words), None)
    if (
        action == ACTION.OPT_IN
        and not consent.sms_refusal(
            school_id=school.pk if school else None,
            phone=inbound.from_phone,
            is_announcement=False,
            is_urgent=False,
        )
        and any(expects(inbound) for expects in answer_expected)
    ):
        return False
    language_match = LANG_KEYWORD.match(inbound.body.strip())
    if action is None and keyword not in HELP_WORDS and not language_match:
        return False
    if school is not None and action is not None:
        consent.consent_change(
            school=school,
            phone=inbound.from_phone,
            action=action,
            source=ConsentChange.Source.SMS_KEYWORD,
            keyword=keyword,
        )
    language = _answer_language(keyword, guardian)
    if language_match:
        wanted = language_match.group(1).lower().replace("_", "-")
        codes = {code.lower(): code for code in family_language_codes()}
        if wanted in codes:  # answered in the language asked for, known number or not
            language = codes[wanted]
            if guardian is not None:
                from portal.services import guardian_language_set

                guardian_language_set(guardian=guardian, language=language, actor=None, via="sms")
    with translation.override(language):
        office = str(school.office_phone) if school and school.office_phone else ""
        texts = {
            ACTION.OPT_OUT: gettext(
                "%(school)s: you will get no more texts from us. Reply START to get them again."
            ),
            ACTION.OPT_IN: gettext(
                "%(school)s: you will get our texts again. Reply STOP to end them, HELP for help."
            ),
            ACTION.MUTE_ANNOUNCEMENTS: gettext(
                "%(school)s: announcements are off. You will still get messages from your "
                "child's teachers and staff, and urgent alerts. Reply NEWS ON to turn them on."
            ),
            ACTION.UNMUTE_ANNOUNCEMENTS: gettext(
                "%(school)s: announcements are on again. Reply NEWS OFF to turn them off."
            ),
        }
        if action is not None:
            text = texts[action]
        elif language_match:
            if guardian is None:
                text = gettext(
                    "%(school)s: we do not know this number yet. Ask the school office to add it."
                )
            else:
                text = gettext("%(school)s: we will write to you in this language from now on.")
        elif office:
            text = gettext(
                "%(school)s: reply to talk to the school, NEWS OFF to mute announcements, STOP "
                "to end texts. For help call the office: %(office)s"
            )
        else:
            text = gettext(
                "%(school)s: reply to talk to the school, NEWS OFF to mute announcements, STOP "
                "to end texts."
            )
        _reply(inbound, text % {"school": school_name, "office": office})
    return True


def _confusing(inbound: InboundSms, guardian: Guardian | None) -> bool:
    """A family texts "?" (or "¿?"): the last text translated for them was confusing."""
    if guardian is None or inbound.body.strip() not in CONFUSING_WORDS:
        return False
    flagged = translation_flag_by_text(guardian=guardian, phone=inbound.from_phone)
    if flagged is None:
        return False  # nothing of theirs was translated: a plain "?" for the thread
    school = inbound.school.name if inbound.school else gettext("School")
    with translation.override(guardian.preferred_language):
        _reply(
            inbound,
            gettext(
                "%(school)s: thank you. Someone who speaks your language will look at the "
                "translation and write to you."
            )
            % {"school": school},
        )
    return True


def _guardians_of(inbound: InboundSms, school: School | None):
    guardians = Guardian.objects.filter(phone=inbound.from_phone, is_active=True)
    if school is not None:
        guardians = guardians.filter(
            student_links__student__school=school, student_links__is_active=True
        )
    return list(guardians.distinct().order_by("pk"))


def _office_thread(guardian: Guardian, school: School) -> Thread:
    """The family's open office thread at the school, or a new one with the school's admins."""
    thread = (
        Thread.objects.filter(
            school=school,
            kind=Thread.Kind.OFFICE,
            is_archived=False,
            participants__guardian=guardian,
        )
        .order_by("-last_message_at")
        .first()
    )
    if thread is not None:
        return thread
    student = Student.objects.filter(
        school=school,
        guardian_links__guardian=guardian,
        guardian_links__is_active=True,
        guardian_links__may_receive_messages=True,
        is_active=True,
    ).first()
    with translation.override(school.default_language):
        subject = gettext("Text from %(name)s") % {"name": guardian}
    thread = Thread.objects.create(
        school=school, student=student, subject=subject[:200], kind=Thread.Kind.OFFICE
    )
    staff = office_staff(school)
    Participant.objects.bulk_create(
        [Participant(thread=thread, staff=person) for person in staff]
        + [Participant(thread=thread, guardian=guardian)]
    )
    if staff:
        thread.owner = staff[0]
        thread.save(update_fields=["owner"])
    return thread


@dataclass
class Sender:
    """Who a text is from, as far as the school can tell."""

    school: School | None
    guardian: Guardian | None  # the one the school last texted there, else the first
    guardians: list[Guardian]  # everyone with this number at the school
    last: Delivery | None  # the school's last text to this number


def _sender_of(inbound: InboundSms) -> Sender:
    """The school (by the number texted, else the one that last texted this number, else the
    guardian's, else the portal's only school) and the guardian behind a number."""
    school = _school_by_number(inbound.to_phone)
    last = _last_delivery(inbound, school)
    if school is None and last is not None:
        school = last.message.thread.school
    guardians = _guardians_of(inbound, school)
    guardian = last.guardian if last is not None else (guardians or [None])[0]
    if school is None and guardian is not None:
        school = (
            School.objects.filter(
                students__guardian_links__guardian=guardian,
                students__guardian_links__is_active=True,
                is_active=True,
            )
            .order_by("pk")
            .first()
        )
    if school is None:  # a portal of one school: an unknown number is its own
        schools = list(School.objects.filter(is_active=True)[:2])
        school = schools[0] if len(schools) == 1 else None
    return Sender(school=school, guardian=guardian, guardians=guardians, last=last)


def _thread_for(sender: Sender):
    """(thread, guardian, route, note) for a text that is no keyword, or None when the number is
    unknown to the school."""
    last = sender.last
    if last is not None and last.guardian.is_active:
        thread, guardian = last.message.thread, last.guardian
        if thread.kind == Thread.Kind.BROADCAST:
            recipient = (
                BroadcastRecipient.objects.select_for_update(of=("self",))
                .select_related("broadcast", "reply_thread")
                .filter(broadcast__thread=thread, guardian=guardian)
                .first()
            )
            if recipient is not None:
                return reply_thread_open(recipient), guardian, "thread", ""
        elif not thread.is_archived:
            return thread, guardian, "thread", ""
        return _office_thread(guardian, thread.school), guardian, "office", ""
    if not sender.guardians or sender.school is None:
        return None
    guardian = sender.guardians[0]
    note = ""
    if len(sender.guardians) > 1:
        names = ", ".join(str(person) for person in sender.guardians)
        note = f"This number is shared by {names}; the text was filed under {guardian}."
    return _office_thread(guardian, sender.school), guardian, "office", note


def inbound_sms_route(*, inbound_id: int) -> str:
    """Routes a stored text once; running it again for a routed text does nothing. Returns the
    route taken."""
    with transaction.atomic():
        inbound = (
            InboundSms.objects.select_for_update(skip_locked=True)
            .filter(pk=inbound_id, status=InboundSms.Status.RECEIVED)
            .first()
        )
        if inbound is None:
            return "done"
        sender = _sender_of(inbound)
        inbound.school, inbound.guardian = sender.school, sender.guardian
        inbound.routed_at = timezone.now()
        inbound.status = InboundSms.Status.ROUTED
        if _keyword(inbound, inbound.guardian) or _confusing(inbound, inbound.guardian):
            inbound.route = InboundSms.Route.KEYWORD
        elif route := next((r for r, handler in inbound_handlers if handler(inbound)), ""):
            inbound.route = route
        else:
            found = _thread_for(sender)
            if found is None:
                inbound.status = InboundSms.Status.UNMATCHED
            else:
                thread, guardian, route, note = found
                thread = Thread.objects.select_related("school").get(pk=thread.pk)
                Participant.objects.get_or_create(thread=thread, guardian=guardian)
                inbound.school, inbound.guardian, inbound.route = thread.school, guardian, route
                inbound.message = _write(
                    thread=thread,
                    staff=None,
                    guardian=guardian,
                    body=inbound.body.strip() or "…",
                    channel=Message.Channel.SMS,
                    is_internal=False,
                )
                if note:  # for staff only: whose number it is
                    _write(
                        thread=thread,
                        staff=None,
                        guardian=None,
                        body=note,
                        channel=Message.Channel.SMS,
                        is_internal=True,
                    )
        inbound.save()
        return inbound.route or inbound.status


def unmatched_for_admin(user):
    """Texts from numbers no school knows, for the admins of the school they were sent to;
    those no school can be told from are for the portal's superusers."""
    from portal import permissions

    access = permissions.access_for(user)
    texts = InboundSms.objects.filter(status=InboundSms.Status.UNMATCHED)
    if access.is_superuser:
        return texts
    return texts.filter(school_id__in=access.schools_with(permissions.ROLE.ADMIN))
