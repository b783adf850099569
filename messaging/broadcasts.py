"""Announcements to many families at once: who an audience reaches, writing and sending an
announcement, and a family's answer to one.

An audience is a class, several classes, a grade, the whole school or families picked by hand.
It reaches each active guardian once (a family with two children in the class counts once),
through an active link to an active student of the audience that lets them receive messages,
when they have a channel: a phone with texts wanted, or an email with email wanted. Everyone
else is counted as unreachable with the reason, and a no-contact guardian only by number.

A teacher writes to their own classes and to the families of those classes; counselors and
admins to their whole school. Urgent announcements (they ignore quiet hours) are for admins, and
every staff member may write BROADCASTS_PER_STAFF_PER_DAY a day.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging import pacing
from messaging.delivery import deliveries_write, in_app_mark_read, message_dispatch_on_commit
from messaging.models import (
    Broadcast,
    BroadcastRecipient,
    Delivery,
    Message,
    Participant,
    SmsConsent,
    Thread,
)
from messaging.services import (
    MessagingError,
    _body_check,
    glossary_terms,
    message_post,
    reader_language,
)
from portal import permissions
from portal.models import Guardian, GuardianLink, School, Section, Staff, Student

AUDIENCE = Broadcast.Audience
ROLE = permissions.ROLE
SEND_DUE_BATCH = 100  # scheduled announcements sent per run of the beat task


class BroadcastError(MessagingError):
    """Why an announcement or an answer to one was refused, to show the person."""


# ---- Who an audience reaches ------------------------------------------------------------------


def _sms_ok(prefix: str = "") -> Q:
    return Q(**{f"{prefix}wants_sms": True}) & ~Q(**{f"{prefix}phone": ""})


def _email_ok(prefix: str = "") -> Q:
    return Q(**{f"{prefix}wants_email": True}) & ~Q(**{f"{prefix}email": ""})


SMS_OK, EMAIL_OK = _sms_ok(), _email_ok()


@dataclass(frozen=True)
class Unreachable:
    """A family the audience names but no message can reach, and why."""

    guardian_id: int
    name: str
    # "no-address": no number or email on file; "texted-stop": the number stopped the school's
    # texts (and no email); "opted-out": the family chose no channel the school has for them
    reason: str


@dataclass
class Audience:
    kind: str
    reached: int = 0  # families it reaches, each once
    by_language: dict[str, int] = field(default_factory=dict)  # most families first
    by_channel: dict[str, int] = field(default_factory=dict)  # sms, email, both
    no_contact: int = 0  # barred from every child of the audience: counted, never named
    unreachable: list[Unreachable] = field(default_factory=list)  # no channel, named
    recipients: QuerySet[Guardian] | None = None  # the reached guardians
    recipient_links: QuerySet[GuardianLink] | None = None  # theirs to the audience's students

    @property
    def unreachable_count(self) -> int:
        return self.no_contact + len(self.unreachable)


def _sender_roles(access: permissions.Access, school: School) -> frozenset[str]:
    if access.staff_id is None:
        raise BroadcastError(_("Only school staff can send announcements."))
    roles = access.roles.get(school.pk, frozenset())
    if not roles:
        raise BroadcastError(_("Choose a school where you work."))
    return roles


def sections_targetable(user, school: School) -> QuerySet[Section]:
    """The classes a staff member may announce to: a teacher their own, counselors and admins
    every class of the school."""
    access = permissions.access_for(user)
    roles = access.roles.get(school.pk, frozenset())
    sections = Section.objects.filter(school=school, is_active=True)
    if roles & {ROLE.COUNSELOR, ROLE.ADMIN}:
        return sections
    if ROLE.TEACHER in roles and access.staff_id:
        return sections.filter(
            staff_links__staff_id=access.staff_id, staff_links__is_active=True
        ).distinct()
    return sections.none()


@dataclass
class AudienceOptions:
    """What a staff member may choose from: the schools where they work, and there the
    audiences, classes, grades and families an announcement of theirs may reach."""

    schools: list[School]
    audiences: list[tuple[str, str]]
    sections: list[tuple[int, str]]
    grades: list[str]
    guardians: list[tuple[int, str]]


def audience_options(user) -> AudienceOptions:
    """What an announcement's (or a survey's) sender may choose: a teacher their own classes and
    those classes' families; counselors and admins also a grade or the whole school."""
    access = permissions.access_for(user)
    schools = list(
        School.objects.filter(pk__in=list(access.roles), is_active=True).order_by("name")
    )
    whole = [school for school in schools if access.roles[school.pk] & {ROLE.COUNSELOR, ROLE.ADMIN}]
    several = len(schools) > 1
    sections = [
        (section.pk, f"{section.name} · {section.school.name}" if several else section.name)
        for school in schools
        for section in sections_targetable(user, school).select_related("school").order_by("name")
    ]
    grades = sorted(
        Student.objects.filter(school__in=whole, is_active=True)
        .exclude(grade="")
        .order_by()
        .values_list("grade", flat=True)
        .distinct()
    )
    links = (
        GuardianLink.objects.filter(
            Q(student__school__in=whole)
            | Q(
                student__enrollments__section__in=[pk for pk, _label in sections],
                student__enrollments__is_active=True,
            ),
            is_active=True,
            may_receive_messages=True,
            guardian__is_active=True,
            student__is_active=True,
        )
        .distinct()
        .select_related("guardian", "student")
        .order_by("guardian__family_name", "guardian__given_name", "guardian_id", "student_id")
    )
    families: dict[int, tuple[Guardian, list[str]]] = {}
    for link in links:
        families.setdefault(link.guardian_id, (link.guardian, []))[1].append(
            link.student.given_name
        )
    audiences = [(AUDIENCE.SECTION, AUDIENCE.SECTION.label)]
    audiences.append((AUDIENCE.SECTIONS, AUDIENCE.SECTIONS.label))
    if whole:
        audiences += [
            (AUDIENCE.GRADE, AUDIENCE.GRADE.label),
            (AUDIENCE.SCHOOL, AUDIENCE.SCHOOL.label),
        ]
    audiences.append((AUDIENCE.LIST, AUDIENCE.LIST.label))
    return AudienceOptions(
        schools=schools,
        audiences=audiences,
        sections=sections,
        grades=grades,
        guardians=[
            (pk, f"{guardian} ({', '.join(dict.fromkeys(children))})")
            for pk, (guardian, children) in families.items()
        ],
    )


def _audience_students(
    *, actor, school: School, kind: str, sections: list[Section], grade: str
) -> QuerySet[Student]:
    """The students whose families the audience names; checks that the actor may name them."""
    roles = _sender_roles(permissions.access_for(actor), school)
    whole_school = bool(roles & {ROLE.COUNSELOR, ROLE.ADMIN})
    students = Student.objects.filter(school=school, is_active=True)
    targetable = sections_targetable(actor, school)
    if kind in (AUDIENCE.SECTION, AUDIENCE.SECTIONS):
        if not sections:
            raise BroadcastError(_("Choose a class."))
        if kind == AUDIENCE.SECTION and len(sections) != 1:
            raise BroadcastError(_("Choose one class, or send to several classes."))
        ids = {section.pk for section in sections}
        if targetable.filter(pk__in=ids).count() != len(ids):
            raise BroadcastError(_("You can only write to your own classes."))
        return students.filter(
            enrollments__section_id__in=ids, enrollments__is_active=True
        ).distinct()
    if kind in (AUDIENCE.GRADE, AUDIENCE.SCHOOL):
        if not whole_school:
            raise BroadcastError(
                _("Only counselors and admins can write to a grade or the whole school.")
            )
        if kind == AUDIENCE.GRADE:
            if not grade.strip():
                raise BroadcastError(_("Choose a grade."))
            return students.filter(grade=grade.strip())
        return students
    if kind == AUDIENCE.LIST:
        if whole_school:
            return students
        return students.filter(
            enrollments__is_active=True, enrollments__section__in=targetable
        ).distinct()
    raise BroadcastError(_("Choose who the announcement is for."))


def broadcast_audience(
    *,
    actor,
    school: School,
    kind: str,
    sections: Iterable[Section] = (),
    grade: str = "",
    guardians: Iterable[Guardian] = (),
) -> Audience:
    """Who an announcement would reach, counted by language and channel, and who it cannot
    reach and why. Raises BroadcastError when the actor may not write to this audience.

    A handful of queries whatever the size of the audience: the counts are SQL aggregates, and
    only the unreachable families are read row by row.
    """
    students = _audience_students(
        actor=actor, school=school, kind=kind, sections=list(sections), grade=grade
    )
    # Plain IN subqueries, not correlated ones: the database reads each set once.
    links = GuardianLink.objects.filter(is_active=True, student__in=students)
    allowed = links.filter(may_receive_messages=True).values("guardian_id")
    named = Guardian.objects.filter(is_active=True, pk__in=links.values("guardian_id"))
    # A number that texted STOP to the school is no way to reach a family.
    stopped = SmsConsent.objects.filter(school=school, is_opted_out=True).values("phone")
    sms_ok = SMS_OK & ~Q(phone__in=stopped)
    # The reached families' links to the audience's students: one flat join, read when writing.
    recipient_links = GuardianLink.objects.filter(
        (_sms_ok("guardian__") & ~Q(guardian__phone__in=stopped)) | _email_ok("guardian__"),
        is_active=True,
        may_receive_messages=True,
        student__in=students,
        guardian__is_active=True,
    )
    if kind == AUDIENCE.LIST:
        picked = {guardian.pk for guardian in guardians}
        if not picked:
            raise BroadcastError(_("Choose at least one family."))
        named = named.filter(pk__in=picked)
        recipient_links = recipient_links.filter(guardian_id__in=picked)
        if named.count() != len(picked):
            raise BroadcastError(_("You can only write to the families of your classes."))
    allowed_named = named.filter(pk__in=allowed)

    audience = Audience(kind=kind)
    reached = allowed_named.filter(sms_ok | EMAIL_OK)
    rows = (
        reached.order_by()
        .values("preferred_language")
        .annotate(
            sms_only=Count("pk", filter=sms_ok & ~EMAIL_OK),
            email_only=Count("pk", filter=EMAIL_OK & ~sms_ok),
            sms_and_email=Count("pk", filter=sms_ok & EMAIL_OK),
        )
    )
    by_channel = {"sms": 0, "email": 0, "both": 0}
    by_language = {}
    for row in rows:
        counts = {"sms": row["sms_only"], "email": row["email_only"], "both": row["sms_and_email"]}
        by_language[row["preferred_language"]] = sum(counts.values())
        for channel, families in counts.items():
            by_channel[channel] += families
    audience.by_language = dict(sorted(by_language.items(), key=lambda item: (-item[1], item[0])))
    audience.by_channel = by_channel
    audience.reached = sum(by_language.values())
    audience.no_contact = named.exclude(pk__in=allowed).count()
    unreachable = list(
        allowed_named.exclude(sms_ok | EMAIL_OK)
        .order_by("family_name", "given_name", "pk")
        .values_list("pk", "given_name", "family_name", "phone", "email")
    )
    stopped_phones = (
        set(
            stopped.filter(
                phone__in=[phone for _pk, _g, _f, phone, _e in unreachable if phone]
            ).values_list("phone", flat=True)
        )
        if unreachable
        else set()
    )

    def reason(phone: str, email: str) -> str:
        if not phone and not email:
            return "no-address"
        return "texted-stop" if phone in stopped_phones else "opted-out"

    audience.unreachable = [
        Unreachable(guardian_id=pk, name=f"{given_name} {family_name}", reason=reason(phone, email))
        for pk, given_name, family_name, phone, email in unreachable
    ]
    audience.recipients = reached
    audience.recipient_links = recipient_links.order_by("guardian_id", "student_id")
    return audience


# ---- Writing and sending ----------------------------------------------------------------------


def _local_day_start(school: School, now: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(now, zoneinfo.ZoneInfo(school.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def broadcasts_left_today(*, sender_id: int, school: School) -> int:
    """How many more announcements the sender may write today (the school's calendar day)."""
    written = Broadcast.objects.filter(
        sender_id=sender_id, created_at__gte=_local_day_start(school, timezone.now())
    ).count()
    return max(settings.BROADCASTS_PER_STAFF_PER_DAY - written, 0)


@transaction.atomic
def broadcast_create(
    *,
    actor,
    school: School,
    subject: str,
    body: str,
    kind: str,
    sections: Iterable[Section] = (),
    grade: str = "",
    guardians: Iterable[Guardian] = (),
    is_urgent: bool = False,
    scheduled_at: datetime.datetime | None = None,
) -> Broadcast:
    """Writes an announcement and the families it reaches; sends it now, or leaves it scheduled
    for `broadcasts_send_due` when `scheduled_at` is ahead."""
    access = permissions.access_for(actor)
    roles = _sender_roles(access, school)
    subject = subject.strip()
    if not subject:
        raise BroadcastError(_("Give the announcement a subject."))
    body = _body_check(body)
    if is_urgent and ROLE.ADMIN not in roles:
        raise BroadcastError(_("Only school admins can send urgent announcements."))
    if scheduled_at is not None and scheduled_at <= timezone.now():
        raise BroadcastError(_("Choose a time ahead, or leave it empty to send at once."))
    # The sender's row lock makes two announcements written at once count one after the other.
    sender = Staff.objects.select_for_update().get(pk=access.staff_id)
    if broadcasts_left_today(sender_id=sender.pk, school=school) == 0:
        raise BroadcastError(
            _(
                "You have already sent %(limit)s announcements today, the most allowed in a "
                "day. You can send more tomorrow."
            )
            % {"limit": settings.BROADCASTS_PER_STAFF_PER_DAY}
        )
    sections, guardians = list(sections), list(guardians)
    audience = broadcast_audience(
        actor=actor, school=school, kind=kind, sections=sections, grade=grade, guardians=guardians
    )
    if audience.reached == 0:
        raise BroadcastError(_("Nobody in this audience can be reached."))
    is_later = scheduled_at is not None
    broadcast = Broadcast.objects.create(
        school=school,
        sender=sender,
        created_by=actor,
        subject=subject[:200],
        body=body,
        audience=kind,
        grade=grade.strip() if kind == AUDIENCE.GRADE else "",
        is_urgent=is_urgent,
        scheduled_at=scheduled_at if is_later else None,
        status=Broadcast.Status.SCHEDULED if is_later else Broadcast.Status.DRAFT,
    )
    if kind in (AUDIENCE.SECTION, AUDIENCE.SECTIONS):
        broadcast.sections.set(sections)
    if kind == AUDIENCE.LIST:
        broadcast.guardians.set(guardians)
    reasons: dict[int, int] = {}  # guardian -> the first of their children in the audience
    links = audience.recipient_links.values_list("guardian_id", "student_id")
    for guardian_id, student_id in links:
        reasons.setdefault(guardian_id, student_id)
    recipients = BroadcastRecipient.objects.bulk_create(
        [
            BroadcastRecipient(broadcast=broadcast, guardian_id=guardian_id, student_id=student_id)
            for guardian_id, student_id in reasons.items()
        ],
        batch_size=1000,
    )
    broadcast.recipients_count = len(recipients)
    broadcast.save(update_fields=["recipients_count"])
    if not is_later:
        _send(broadcast)
    return broadcast


def _send(broadcast: Broadcast) -> None:
    """Writes the announcement's thread and its one message, and marks it sent. The sender is
    the thread's only participant: families read it as recipients, never as participants, so
    nobody answers all."""
    thread = Thread.objects.create(
        school=broadcast.school,
        subject=broadcast.subject,
        kind=Thread.Kind.BROADCAST,
        created_by=broadcast.created_by,
    )
    Participant.objects.create(thread=thread, staff=broadcast.sender)
    message = Message.objects.create(
        thread=thread,
        author_staff=broadcast.sender,
        body=broadcast.body,
        language=reader_language(staff=broadcast.sender, guardian=None, school=broadcast.school),
        channel=Message.Channel.WEB,
    )
    Thread.objects.filter(pk=thread.pk).update(last_message_at=message.created_at)
    Participant.objects.filter(thread=thread).update(last_read_at=message.created_at)
    broadcast.thread = thread
    broadcast.status = Broadcast.Status.SENT
    broadcast.sent_at = message.created_at
    broadcast.save(update_fields=["thread", "status", "sent_at"])
    families = Guardian.objects.filter(broadcasts_received__broadcast=broadcast).only(
        "pk", "phone", "email", "wants_sms", "wants_email", "is_active", "user_id"
    )
    deliveries_write(
        message=message, guardians=families, is_announcement=True, is_urgent=broadcast.is_urgent
    )
    message_dispatch_on_commit(message, translate=True)


def broadcasts_send_due(*, now: datetime.datetime | None = None) -> int:
    """Sends the scheduled announcements whose time has come; returns how many. Safe to run
    twice and on several workers at once: each is claimed under a row lock, skipping rows
    another worker holds, and only while still scheduled."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            due = list(
                Broadcast.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Broadcast.Status.SCHEDULED, scheduled_at__lte=now)
                .select_related("school", "sender", "created_by")
                .order_by("scheduled_at", "pk")[:SEND_DUE_BATCH]
            )
            for broadcast in due:
                _send(broadcast)
        sent += len(due)
        if len(due) < SEND_DUE_BATCH:
            return sent


# ---- A family's answer ----


def reply_thread_open(recipient: BroadcastRecipient, *, created_by=None) -> Thread:
    """The direct thread between a family and an announcement's sender, where the family's
    answers go (by page, API or text): the one it has, or a new one the sender owns. Call with
    the recipient row locked."""
    thread = recipient.reply_thread
    if thread is not None and not thread.is_archived:
        return thread
    thread = Thread.objects.create(
        school_id=recipient.broadcast.school_id,
        student_id=recipient.student_id,
        subject=f"Re: {recipient.broadcast.subject}"[:200],
        kind=Thread.Kind.DIRECT,
        created_by=created_by,
        owner_id=recipient.broadcast.sender_id,
    )
    Participant.objects.bulk_create(
        [
            Participant(thread=thread, staff_id=recipient.broadcast.sender_id),
            Participant(thread=thread, guardian_id=recipient.guardian_id),
        ]
    )
    recipient.reply_thread = thread
    recipient.save(update_fields=["reply_thread"])
    return thread


@transaction.atomic
def broadcast_reply(*, actor, broadcast: Broadcast, body: str) -> Thread:
    """A family answers an announcement: the answer opens (or continues) a direct conversation
    between that family and the sender, which no other family sees."""
    access = permissions.access_for(actor)
    recipient = (
        BroadcastRecipient.objects.select_for_update(of=("self",))
        .select_related("reply_thread", "broadcast")
        .filter(
            broadcast=broadcast,
            broadcast__status=Broadcast.Status.SENT,
            guardian_id=access.guardian_id,
            guardian__is_active=True,
        )
        .first()
        if access.guardian_id
        else None
    )
    if recipient is None:
        raise BroadcastError(_("This announcement was not sent to you."))
    body = _body_check(body)
    thread = reply_thread_open(recipient, created_by=actor)
    message_post(actor=actor, thread=thread, body=body)
    thread.refresh_from_db()
    return thread


@transaction.atomic
def broadcast_mark_read(*, actor, broadcast: Broadcast) -> None:
    """A family opened the announcement in the portal: counted as read once, and what the
    portal held for them is delivered."""
    access = permissions.access_for(actor)
    if not access.guardian_id:
        return
    BroadcastRecipient.objects.filter(
        broadcast=broadcast, guardian_id=access.guardian_id, read_at__isnull=True
    ).update(read_at=timezone.now())
    if broadcast.thread_id:
        in_app_mark_read(guardian_id=access.guardian_id, thread_id=broadcast.thread_id)


def broadcast_preview(*, school: School, body: str, audience: Audience) -> list:
    """The announcement as each language's families will receive it (see messaging.preview)."""
    from messaging.preview import message_preview

    return message_preview(
        author=school.name,
        body=body.strip(),
        source=school.default_language,
        families_by_language=audience.by_language,
        terms=glossary_terms(school=school, people=[]),
    )


# ---- Progress ---------------------------------------------------------------------------------


@dataclass
class Progress:
    """How far an announcement has gone, per channel, as it happens."""

    by_channel: dict[str, dict[str, int]]  # channel -> pending, sent, delivered, failed, skipped
    read: int  # families who opened it in the portal
    replied: int  # families who answered it
    pending_texts: int
    seconds_left: float  # at the current pace, until the last family is reached by text

    @property
    def minutes_left(self) -> int:
        return math.ceil(self.seconds_left / 60)

    @property
    def is_done(self) -> bool:
        return not any(counts["pending"] for counts in self.by_channel.values())


# Delivery statuses as the progress view groups them.
PROGRESS_GROUP = {
    "queued": "pending",
    "deferred": "pending",
    "sending": "pending",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "skipped": "skipped",
}


def broadcast_progress(broadcast: Broadcast) -> Progress:
    """Sent, delivered, failed, read and replied, in two queries whatever the audience size."""
    by_channel = {
        channel: dict.fromkeys(("pending", "sent", "delivered", "failed", "skipped"), 0)
        for channel in ("sms", "email", "in_app")
    }
    pending_count = sent_segments = sent_texts = 0
    if broadcast.thread_id:
        rows = (
            Delivery.objects.filter(message__thread_id=broadcast.thread_id)
            .values("channel", "status")
            .annotate(n=Count("pk"), segments=Sum("segments"))
            .order_by()
        )
        for row in rows:
            group = PROGRESS_GROUP[row["status"]]
            by_channel[row["channel"]][group] += row["n"]
            if row["channel"] == "sms" and group == "pending":
                pending_count += row["n"]
            elif row["channel"] == "sms" and group in ("sent", "delivered"):
                sent_segments += row["segments"] or row["n"]
                sent_texts += row["n"]
    families = broadcast.recipients.aggregate(
        read=Count("pk", filter=Q(read_at__isnull=False)),
        replied=Count("pk", filter=Q(reply_thread__isnull=False)),
    )
    per_text = sent_segments / sent_texts if sent_texts else 1
    return Progress(
        by_channel={
            channel: counts for channel, counts in by_channel.items() if any(counts.values())
        },
        read=families["read"],
        replied=families["replied"],
        pending_texts=pending_count,
        seconds_left=pacing.seconds_to_send(round(pending_count * per_text)),
    )


def delivery_statuses(broadcast: Broadcast, *, guardian_ids: list[int]) -> dict[int, list]:
    """For a page of recipients: each family's deliveries of the announcement, in one query."""
    if not broadcast.thread_id:
        return {}
    statuses: dict[int, list] = {}
    deliveries = Delivery.objects.filter(
        message__thread_id=broadcast.thread_id, guardian_id__in=guardian_ids
    ).order_by("channel")
    for delivery in deliveries:
        statuses.setdefault(delivery.guardian_id, []).append(delivery)
    return statuses


# ---- Reads for pages --------------------------------------------------------------------------


def broadcasts_for_staff(user) -> QuerySet[Broadcast]:
    """Announcements a staff member may look at: their own; for an admin, every announcement of
    their schools, whoever sent it."""
    access = permissions.access_for(user)
    broadcasts = Broadcast.objects.select_related("school", "sender")
    if access.is_superuser:
        return broadcasts
    rule = Q(sender_id=access.staff_id) if access.staff_id else Q(pk__in=[])
    admin_schools = access.schools_with(ROLE.ADMIN)
    if admin_schools:
        rule |= Q(school_id__in=admin_schools)
    return broadcasts.filter(rule)


def may_see_recipients(user, broadcast: Broadcast) -> bool:
    """Who got what is for admins of the school."""
    access = permissions.access_for(user)
    return access.is_superuser or broadcast.school_id in access.schools_with(ROLE.ADMIN)


def broadcasts_for_guardian(user) -> QuerySet[BroadcastRecipient]:
    """The announcements a family received, newest first, as their recipient rows."""
    access = permissions.access_for(user)
    if not access.guardian_id:
        return BroadcastRecipient.objects.none()
    return (
        BroadcastRecipient.objects.filter(
            guardian_id=access.guardian_id, broadcast__status=Broadcast.Status.SENT
        )
        .select_related("broadcast__school", "broadcast__sender")
        .order_by("-broadcast__sent_at", "-pk")
    )
