"""The delivery pipeline: what carries a message to each family's phone and inbox.

1. The service that writes a message writes its Delivery rows in the same transaction
   (`deliveries_write`, a transactional outbox) and, once committed, the message is translated
   once per language and its deliveries are handed to the broker (`deliveries_dispatch`).
2. A worker claims one delivery (`delivery_send`: queued -> sending under a row lock), checks
   consent and quiet hours, renders the text in the family's language, waits its turn at the
   sender's pace, and hands it to the SMS backend or Django's email backend.
3. Twilio's status callbacks move it on (`delivery_status_record`), never backwards.
4. The sweeper (`deliveries_sweep`, every minute) re-queues what quiet hours held back, looks up
   at the provider what a dead worker left in `sending` before sending it again, and hands the
   broker again what it lost (Redis down when the message was written).

Work due later lives in `next_attempt_at`, never in a long Celery countdown.
"""

from __future__ import annotations

import datetime
import logging
import random
import smtplib
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from messaging import consent, pacing
from messaging.channels.segments import sms_segments
from messaging.channels.sms import SmsError, delivery_error_reason, sms_backend
from messaging.models import MAX_BODY_CHARS, Delivery, Message, SmsConsent, Thread
from messaging.translation import translation_provider
from portal.models import Guardian, School

logger = logging.getLogger(__name__)

STATUS = Delivery.Status
CHANNEL = Delivery.Channel
MAX_ATTEMPTS = 8  # hand-overs before a delivery is given up
RETRY_NOW_SECONDS = 300  # a retry sooner than this is a short Celery countdown; later, the sweeper
SWEEP_BATCH = 5000  # deliveries the sweeper hands to the broker per run
EVENT = Message.Event
# Events a family is told about by text and email; the others are notes for staff.
FAMILY_EVENTS = {"", "joined", "acknowledged", "check_in", "help_requested"} | {
    EVENT.SURVEY_INVITATION,
    EVENT.SURVEY_QUESTION,
    EVENT.SURVEY_HINT,
    EVENT.SURVEY_THANKS,
    EVENT.SURVEY_REMINDER,
}
# Texts that answer one the family just sent: quiet hours do not hold them back.
REPLY_EVENTS = {EVENT.ACKNOWLEDGED, EVENT.SURVEY_QUESTION, EVENT.SURVEY_HINT, EVENT.SURVEY_THANKS}
# Texts to many families at once: announcements muted (NEWS OFF) hold them back.
ANNOUNCEMENT_EVENTS = {EVENT.SURVEY_INVITATION, EVENT.SURVEY_REMINDER}
# Apps render their own events' texts: {event: render(delivery, now) -> text, or None to wait},
# and their emails' subjects: {event: subject(delivery) -> text}, in the family's language.
event_texts: dict[str, Callable[[Delivery, datetime.datetime], str | None]] = {}
event_subjects: dict[str, Callable[[Delivery], str]] = {}
UNSUBSCRIBE_SALT = "messaging.email-unsubscribe"
# What rendering and sending one delivery reads, in the same query as the delivery.
WHAT_A_TEXT_NEEDS = (
    "guardian",
    "message__thread__school",
    "message__author_staff",
    "message__author_guardian",
)


# ---- Writing: the outbox ----------------------------------------------------------------------


def deliveries_write(
    *,
    message: Message,
    guardians: Iterable[Guardian],
    is_announcement: bool = False,
    is_urgent: bool = False,
    sms_only: bool = False,
    not_before: datetime.datetime | None = None,
) -> int:
    """Writes one delivery per guardian and channel they take (a phone with texts wanted, an
    email with email wanted; a family with neither but a sign-in has the message in the portal),
    or by text alone (`sms_only`: a survey's SMS conversation). A number that stopped texts is
    written `skipped` with the reason, so every count shows it; `not_before` holds them back
    (deferred) until then. Call inside the transaction that wrote the message; returns how many
    it wrote."""
    if message.is_internal or message.event not in FAMILY_EVENTS:
        return 0
    school_id = message.thread.school_id
    guardians = list(guardians)
    consents = {
        row.phone: row
        for row in SmsConsent.objects.filter(
            school_id=school_id, phone__in=[str(g.phone) for g in guardians if g.phone]
        )
    }
    goes_now = is_urgent or message.event in REPLY_EVENTS
    rows = []
    for guardian in guardians:
        if not guardian.is_active:
            continue
        if guardian.wants_sms and guardian.phone:
            row = Delivery(
                message=message,
                guardian=guardian,
                channel=CHANNEL.SMS,
                address=str(guardian.phone),
                is_urgent=goes_now,
            )
            refusal = consent.refusal_of(
                consents.get(str(guardian.phone)),
                is_announcement=is_announcement,
                is_urgent=is_urgent,
            )
            if refusal is not None:
                row.status, (row.error_code, row.error_reason) = STATUS.SKIPPED, refusal
            rows.append(row)
        if sms_only:
            continue
        if guardian.wants_email and guardian.email:
            rows.append(
                Delivery(
                    message=message,
                    guardian=guardian,
                    channel=CHANNEL.EMAIL,
                    address=guardian.email,
                    is_urgent=goes_now,
                )
            )
        if not guardian.reachable_channels and guardian.user_id:
            rows.append(
                Delivery(
                    message=message,
                    guardian=guardian,
                    channel=CHANNEL.IN_APP,
                    status=STATUS.SENT,  # it is in their portal inbox; delivered when read
                    sent_at=timezone.now(),
                )
            )
    if not_before is not None:
        for row in rows:
            if row.status == STATUS.QUEUED and row.channel != CHANNEL.IN_APP:
                row.status, row.next_attempt_at = STATUS.DEFERRED, not_before
    Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def in_app_mark_read(*, guardian_id: int, thread_id: int) -> None:
    """A family opened the thread: what the portal held for them is delivered."""
    Delivery.objects.filter(
        guardian_id=guardian_id,
        message__thread_id=thread_id,
        channel=CHANNEL.IN_APP,
        status=STATUS.SENT,
    ).update(status=STATUS.DELIVERED, delivered_at=timezone.now())


# ---- Handing over to the broker ---------------------------------------------------------------


def _queue(delivery_channel: str, is_urgent: bool) -> str:
    if delivery_channel == CHANNEL.EMAIL:
        return "email"
    return "sms_urgent" if is_urgent else "sms"


def _enqueue(rows: Iterable[tuple[int, str, bool]], *, countdown: float | None = None) -> int:
    """Hands deliveries (id, channel, urgent) to the broker and notes when. When the broker is
    down nothing is lost: the deliveries stay queued and the sweeper hands them over later."""
    from kombu.exceptions import OperationalError

    from messaging.tasks import delivery_send_task

    rows = list(rows)
    # Noted before the hand-over, never after: a worker claims a delivery the moment its task is
    # published, and an UPDATE still running then would hold the very row that the worker's
    # SKIP LOCKED claim passes over, leaving the delivery to the sweeper a lease later.
    noted = bool(rows) and not settings.CELERY_TASK_ALWAYS_EAGER
    if noted:
        Delivery.objects.filter(pk__in=[row[0] for row in rows]).update(enqueued_at=timezone.now())
    handed = 0
    try:
        # One broker connection for the whole batch, not one per task.
        with delivery_send_task.app.producer_or_acquire() as producer:
            for delivery_id, delivery_channel, is_urgent in rows:
                delivery_send_task.apply_async(
                    (delivery_id,),
                    queue=_queue(delivery_channel, is_urgent),
                    countdown=countdown,
                    producer=producer,
                )
                handed += 1
    except OperationalError as error:
        logger.warning("broker unavailable, the sweeper will hand deliveries over: %s", error)
        if noted:  # what was not handed over is the sweeper's at its next run
            left = [row[0] for row in rows[handed:]]
            Delivery.objects.filter(pk__in=left, status=STATUS.QUEUED).update(enqueued_at=None)
    return handed


def deliveries_dispatch(*, message_id: int, guardian_ids: Iterable[int] | None = None) -> int:
    """Hands a message's due deliveries (to these guardians only, when named) to the broker
    (after its translations are made)."""
    now = timezone.now()
    deliveries = Delivery.objects.filter(message_id=message_id, status=STATUS.QUEUED)
    if guardian_ids is not None:
        deliveries = deliveries.filter(guardian_id__in=list(guardian_ids))
    due = (
        deliveries.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(channel=CHANNEL.IN_APP)
        .order_by("-is_urgent", "pk")
        .values_list("pk", "channel", "is_urgent")
    )
    return _enqueue(list(due))


def message_dispatch_on_commit(message: Message, *, translate: bool) -> None:
    """After the writing transaction commits: translate the message (which then dispatches its
    deliveries), or dispatch them at once when there is nothing to translate."""
    from kombu.exceptions import OperationalError

    from messaging.tasks import message_translate_task

    def hand_over() -> None:
        if not translate:
            deliveries_dispatch(message_id=message.pk)
            return
        try:
            message_translate_task.delay(message.pk)
        except OperationalError as error:
            logger.warning("broker unavailable, the sweeper will send message later: %s", error)

    transaction.on_commit(hand_over)


# ---- Sending one delivery ---------------------------------------------------------------------


def quiet_hours_end(*, guardian: Guardian, school: School, at: datetime.datetime):
    """When the quiet hours `at` falls in end (the family's own, else the school's; school-local),
    or None when a text may go now."""
    start = guardian.quiet_hours_start or school.quiet_hours_start
    end = guardian.quiet_hours_end or school.quiet_hours_end
    if start == end:
        return None
    zone = zoneinfo.ZoneInfo(school.timezone)
    local = at.astimezone(zone)
    now = local.time()
    if start < end:
        inside, day = start <= now < end, local.date()
    else:  # over midnight: 21:00 -> 08:00
        inside = now >= start or now < end
        day = local.date() + datetime.timedelta(days=1) if now >= start else local.date()
    return datetime.datetime.combine(day, end, tzinfo=zone) if inside else None


def _translated_body(message: Message, language: str, now: datetime.datetime) -> str | None:
    """The message as this family reads it, or None while its translation is still due."""
    if message.language == language:
        return message.body
    made = message.translations.filter(language=language).first()
    if made is not None:
        return made.text
    if translation_provider().name == "none":  # the portal translates nothing: say so
        return gettext("(No translation; this is the original.)") + "\n" + message.body
    waited = (now - message.created_at).total_seconds()
    if waited < settings.TRANSLATION_WAIT_SECONDS:
        return None
    # No translation in time: the original, with a word in their language saying so.
    return gettext("(Not translated yet; the original follows.)") + "\n" + message.body


def staff_signature(staff, school: School) -> str:
    """How a staff member signs a text: "Ms Rivera (North Elementary)"."""
    return f"{staff} ({school.name})"


def family_text(*, author: str, body: str) -> str:
    """A text as a family receives it: who wrote it, then the words."""
    return f"{author}: {body}"


def delivery_text(delivery: Delivery, *, now: datetime.datetime | None = None) -> str | None:
    """What the family receives, in its language; None while the translation is still due."""
    now = now or timezone.now()
    message = delivery.message
    thread = message.thread
    school = thread.school
    with translation.override(delivery.guardian.preferred_language):
        if message.event in event_texts:
            return event_texts[message.event](delivery, now)
        if message.event == Message.Event.JOINED:
            text = gettext("%(name)s joined the conversation") % {"name": message.body}
            return f"{school.name}: {text}"
        if message.event == Message.Event.ACKNOWLEDGED:
            when = datetime.datetime.fromisoformat(message.body)
            text = gettext(
                "Thank you for your message. The school office is closed now: expect an answer "
                "after it opens, %(when)s."
            ) % {"when": date_format(when, "l H:i")}
            return f"{school.name}: {text}"
        if message.event == Message.Event.HELP_REQUESTED:
            text = gettext(
                "Your request for help arrived. %(names)s will answer you here. Only they can "
                "read this conversation."
            ) % {"names": message.body}
            return f"{thread.subject}: {text}"
        if message.event == Message.Event.CHECK_IN:
            text = gettext(
                "How did this week go at home? Reply here and your answer stays with the plan."
            )
            return f"{school.name}: {text}"
        body = _translated_body(message, delivery.guardian.preferred_language, now)
        if body is None:
            return None
        if message.author_guardian is not None:
            author = str(message.author_guardian)
        elif thread.kind == Thread.Kind.BROADCAST or message.author_staff is None:
            author = school.name
        else:
            author = staff_signature(message.author_staff, school)
        text = family_text(author=author, body=body)
        if len(text) > MAX_BODY_CHARS:  # a translation can run longer than the original
            link = settings.PUBLIC_BASE_URL + reverse("messaging:thread", args=[thread.pk])
            text = text[: MAX_BODY_CHARS - len(link) - 2] + "… " + link
        return text


def _settle(delivery: Delivery, status: str, code: str = "", reason: str = "") -> None:
    delivery.status, delivery.error_code, delivery.error_reason = status, code, reason[:255]
    delivery.save(update_fields=["status", "error_code", "error_reason", "updated_at"])


def _refusal(delivery: Delivery) -> tuple[str, str] | None:
    """Why this delivery may not go any more, checked before every send."""
    guardian = delivery.guardian
    if not guardian.is_active:
        return "inactive", "The guardian is no longer on the roster."
    if delivery.channel == CHANNEL.SMS:
        if not guardian.wants_sms or not guardian.phone:
            return "no-address", "The family no longer takes texts."
        delivery.address = str(guardian.phone)  # a number corrected since it was written
        thread = delivery.message.thread
        return consent.sms_refusal(
            school_id=thread.school_id,
            phone=delivery.address,
            is_announcement=thread.kind == Thread.Kind.BROADCAST
            or delivery.message.event in ANNOUNCEMENT_EVENTS,
            is_urgent=delivery.is_urgent,
        )
    if not guardian.wants_email or not guardian.email:
        return "no-address", "The family no longer takes email."
    delivery.address = guardian.email
    return None


def delivery_send(*, delivery_id: int, now: datetime.datetime | None = None) -> str:
    """Sends one delivery if it is due and nobody else holds it. Safe to run twice and on many
    workers: the claim is a row lock that skips rows another worker holds, and only `queued`
    rows are claimed. Returns what happened, for the task's log and the tests."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(*WHAT_A_TEXT_NEEDS)
            .filter(pk=delivery_id, status=STATUS.QUEUED)
            .first()
        )
        if delivery is None:
            return "not-queued"
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            # Handed over early (a clock ahead, a retry's countdown cut short): the sweeper
            # hands it over again once it is due.
            Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)
            return "not-due"
        refusal = _refusal(delivery)
        if refusal is not None:
            _settle(delivery, STATUS.SKIPPED, *refusal)
            return "skipped"
        school = delivery.message.thread.school
        if delivery.channel == CHANNEL.SMS and not delivery.is_urgent:
            resume_at = quiet_hours_end(guardian=delivery.guardian, school=school, at=now)
            if resume_at is not None:
                delivery.status, delivery.next_attempt_at = STATUS.DEFERRED, resume_at
                delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
                return "deferred"
        text = delivery_text(delivery, now=now)
        if text is None:  # the translation task dispatches it again; the sweeper if it fails
            delivery.next_attempt_at = now + datetime.timedelta(seconds=60)
            delivery.enqueued_at = None
            delivery.save(update_fields=["next_attempt_at", "enqueued_at", "updated_at"])
            return "waiting-for-translation"
        if delivery.channel == CHANNEL.SMS:
            counted = sms_segments(text)
            delivery.segments, delivery.encoding = counted.count, counted.encoding
        delivery.status, delivery.claimed_at = STATUS.SENDING, now
        delivery.attempts += 1
        delivery.save()
    # Outside the transaction: the row says `sending`, so a crash from here on is the sweeper's
    # to resolve, by asking the provider whether the text went.
    if delivery.channel == CHANNEL.SMS:
        return _sms_hand_over(delivery, text)
    return _email_hand_over(delivery, text)


def _status_callback_url(delivery: Delivery) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('channels:twilio_status')}?delivery={delivery.pk}"


def _sms_hand_over(delivery: Delivery, text: str) -> str:
    school = delivery.message.thread.school
    sender = school.sms_number and str(school.sms_number)
    pacing.wait_turn(sender=sender or "default", segments=delivery.segments or 1)
    try:
        sent = sms_backend().send(
            to=delivery.address,
            body=text,
            sender=sender or "",
            validity_seconds=settings.SMS_VALIDITY_SECONDS,
            status_callback=_status_callback_url(delivery),
        )
    except SmsError as error:
        return _hand_over_failed(
            delivery,
            code=error.code,
            reason=error.reason,
            is_transient=error.is_transient,
            is_opted_out=error.is_opted_out,
        )
    _mark_sent(delivery, sent.provider_id, segments=sent.segments)
    return "sent"


def _mark_sent(delivery: Delivery, provider_id: str, *, segments: int | None = None) -> None:
    now = timezone.now()
    changes = {"provider_id": provider_id, "updated_at": now}
    if segments:
        changes["segments"] = segments
    # A status callback may have come first and moved it further: never backwards.
    moved = Delivery.objects.filter(pk=delivery.pk, status=STATUS.SENDING).update(
        status=STATUS.SENT, sent_at=now, **changes
    )
    if not moved:
        Delivery.objects.filter(pk=delivery.pk, provider_id="").update(**changes)


def _hand_over_failed(
    delivery: Delivery, *, code: str, reason: str, is_transient: bool, is_opted_out: bool = False
) -> str:
    """The provider did not take it: fail it with the reason, or try again after a backoff."""
    now = timezone.now()
    if is_opted_out:
        consent.consent_change(
            school=delivery.message.thread.school,
            phone=delivery.address,
            action=consent.ACTION.OPT_OUT,
            source="provider",
            keyword=code,
        )
    if not is_transient or delivery.attempts >= MAX_ATTEMPTS:
        if is_transient:
            reason = f"Gave up after {delivery.attempts} tries: {reason}"
        Delivery.objects.filter(pk=delivery.pk, status=STATUS.SENDING).update(
            status=STATUS.FAILED, error_code=code, error_reason=reason[:255], updated_at=now
        )
        return "failed"
    # Exponential backoff with jitter: 10 s, 20 s, 40 s ... up to an hour, times 0.5 to 1.5.
    delay = min(10 * 2 ** (delivery.attempts - 1), 3600) * random.uniform(0.5, 1.5)
    Delivery.objects.filter(pk=delivery.pk, status=STATUS.SENDING).update(
        status=STATUS.QUEUED,
        error_code=code,
        error_reason=reason[:255],
        next_attempt_at=now + datetime.timedelta(seconds=delay),
        enqueued_at=None,
        updated_at=now,
    )
    if delay < RETRY_NOW_SECONDS and not settings.CELERY_TASK_ALWAYS_EAGER:
        _enqueue([(delivery.pk, delivery.channel, delivery.is_urgent)], countdown=delay)
    return "retry"


def unsubscribe_token(guardian_id: int) -> str:
    return signing.dumps(guardian_id, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_guardian_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return None


def _email_hand_over(delivery: Delivery, text: str) -> str:
    message = delivery.message
    thread = message.thread
    guardian = delivery.guardian
    unsubscribe_url = settings.PUBLIC_BASE_URL + reverse(
        "channels:email_unsubscribe", args=[unsubscribe_token(guardian.pk)]
    )
    if thread.kind == Thread.Kind.BROADCAST:
        thread_url = settings.PUBLIC_BASE_URL + reverse("broadcasts:received")
    elif thread.kind == Thread.Kind.SURVEY:  # the text holds the family's own link
        thread_url = settings.PUBLIC_BASE_URL + reverse("home")
    else:
        thread_url = settings.PUBLIC_BASE_URL + reverse("messaging:thread", args=[thread.pk])
    language = guardian.preferred_language
    context = {
        "text": text,
        "school": thread.school,
        "thread_url": thread_url,
        "unsubscribe_url": unsubscribe_url,
        "language": language,
        "is_rtl": translation.get_language_info(language)["bidi"]
        if language in dict(settings.LANGUAGES)
        else False,
    }
    with translation.override(language):
        if delivery.message.event in event_subjects:
            subject = event_subjects[delivery.message.event](delivery)
        else:
            subject = f"{thread.school.name}: {thread.subject}"
        email = EmailMultiAlternatives(
            subject=subject[:200],
            body=render_to_string("messaging/email/message.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers={
                "Message-ID": make_msgid(domain="portal"),
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        email.attach_alternative(
            render_to_string("messaging/email/message.html", context), "text/html"
        )
    try:
        email.send()
    except (smtplib.SMTPRecipientsRefused, AnymailRecipientsRefused):
        return _hand_over_failed(
            delivery,
            code="email-refused",
            reason="The mail server refused the address.",
            is_transient=False,
        )
    except (smtplib.SMTPException, OSError, AnymailError) as error:
        return _hand_over_failed(
            delivery,
            code="email-unavailable",
            reason=f"The mail server did not take it ({type(error).__name__}).",
            is_transient=True,
        )
    # An Anymail provider gives its own id (for its tracking webhooks); others keep ours.
    provider_id = getattr(getattr(email, "anymail_status", None), "message_id", None)
    _mark_sent(delivery, str(provider_id or email.extra_headers["Message-ID"]))
    return "sent"


# ---- Status callbacks -------------------------------------------------------------------------

# Twilio's message statuses, as the portal's.
TWILIO_STATUS = {
    "accepted": STATUS.SENDING,
    "queued": STATUS.SENDING,
    "scheduled": STATUS.SENDING,
    "sending": STATUS.SENDING,
    "sent": STATUS.SENT,
    "delivered": STATUS.DELIVERED,
    "read": STATUS.DELIVERED,
    "undelivered": STATUS.UNDELIVERED,
    "failed": STATUS.FAILED,
    "canceled": STATUS.FAILED,
}


@transaction.atomic
def delivery_status_record(
    *, provider_id: str, provider_status: str, error_code: str = "", delivery_id: int | None = None
) -> bool:
    """Records what Twilio says became of a text. Callbacks come more than once and out of
    order: a status never gives way to an earlier one. Returns whether anything changed."""
    status = TWILIO_STATUS.get(provider_status)
    if status is None or not provider_id:
        return False
    deliveries = Delivery.objects.select_for_update().select_related("message__thread__school")
    delivery = None
    if delivery_id is not None:
        delivery = deliveries.filter(pk=delivery_id, provider_id__in=["", provider_id]).first()
    if delivery is None:
        delivery = deliveries.filter(provider_id=provider_id).first()
    if delivery is None or Delivery.RANK[status] <= Delivery.RANK[delivery.status]:
        return False
    now = timezone.now()
    delivery.status, delivery.provider_id = status, provider_id
    if status == STATUS.SENT and delivery.sent_at is None:
        delivery.sent_at = now
    if status == STATUS.DELIVERED:
        delivery.delivered_at = now
    if error_code:
        delivery.error_code, delivery.error_reason = error_code, delivery_error_reason(error_code)
    delivery.save()
    if error_code == "21610":
        consent.consent_change(
            school=delivery.message.thread.school,
            phone=delivery.address,
            action=consent.ACTION.OPT_OUT,
            source="provider",
            keyword=error_code,
        )
    return True


# ---- The sweeper ------------------------------------------------------------------------------


def _broker_holds(queue_names: set[str]) -> set[str]:
    """The queues the broker still holds work in. A delivery handed over a while ago may be
    waiting in one of those (a paced broadcast takes hours); one in an empty queue was lost."""
    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return set()
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        return {name for name in queue_names if client.llen(name)}
    except redis.RedisError:
        return set(queue_names)  # the broker is down: handing over would fail anyway
    finally:
        client.close()


def deliveries_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Keeps every delivery moving; the beat runs it every minute, on any number of workers.

    - deferred past the end of quiet hours: queued again;
    - `sending` past the lease (the worker died): looked up at the provider, recorded as sent
      when the provider has it, else queued again, so nothing is sent twice;
    - queued and due, never handed to the broker or handed long ago into a queue the broker no
      longer holds anything in: handed over again.
    """
    now = now or timezone.now()
    lease = datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    counts = {"resumed": 0, "recovered": 0, "requeued": 0, "handed": 0}
    counts["resumed"] = Delivery.objects.filter(
        status=STATUS.DEFERRED, next_attempt_at__lte=now
    ).update(status=STATUS.QUEUED, enqueued_at=None, updated_at=now)

    with transaction.atomic():
        stuck = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(*WHAT_A_TEXT_NEEDS)
            .filter(status=STATUS.SENDING, claimed_at__lt=now - lease)[:500]
        )
        for delivery in stuck:
            found = None
            if delivery.channel == CHANNEL.SMS:
                text = delivery_text(delivery, now=delivery.claimed_at)
                found = text and sms_backend().find_sent(
                    to=delivery.address,
                    body=text,
                    since=delivery.claimed_at - datetime.timedelta(minutes=1),
                )
            if found:
                delivery.status, delivery.provider_id, delivery.sent_at = STATUS.SENT, found, now
                counts["recovered"] += 1
            else:
                delivery.status, delivery.next_attempt_at, delivery.enqueued_at = (
                    STATUS.QUEUED,
                    now,
                    None,
                )
                counts["requeued"] += 1
            delivery.save()

    due = (
        Delivery.objects.filter(status=STATUS.QUEUED)
        .exclude(channel=CHANNEL.IN_APP)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - lease))
        # a message just written is the translation task's to dispatch
        .filter(message__created_at__lt=now - datetime.timedelta(seconds=30))
        .order_by("-is_urgent", "next_attempt_at", "pk")
        .values_list("pk", "channel", "is_urgent", "enqueued_at")[:SWEEP_BATCH]
    )
    rows = list(due)
    busy = _broker_holds({_queue(channel, urgent) for _pk, channel, urgent, _at in rows})
    counts["handed"] = _enqueue(
        (pk, channel, urgent)
        for pk, channel, urgent, enqueued_at in rows
        if enqueued_at is None or _queue(channel, urgent) not in busy
    )
    return counts


# ---- Progress of a message --------------------------------------------------------------------


def delivery_counts(message_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Deliveries of each message by status, in one query."""
    from django.db.models import Count

    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Delivery.objects.filter(message_id__in=list(message_ids))
        .values("message_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["message_id"]][row["status"]] = row["n"]
    return counts
