"""Writes of messaging: start a thread, post a message, loop in a colleague, mark read, archive,
and translate a message for its readers. Every view, API call, task and command goes through
these; each checks permission through the permission module and runs in one transaction."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from messaging.delivery import deliveries_write, in_app_mark_read, message_dispatch_on_commit
from messaging.models import (
    MAX_BODY_CHARS,
    BroadcastRecipient,
    CheckIn,
    Message,
    MessageTemplate,
    MessageTranslation,
    Participant,
    Thread,
)
from messaging.translation import translation_provider
from portal import permissions
from portal.languages import family_language_codes
from portal.models import Guardian, GuardianLink, School, Staff, Student

# What a template may ask for, filled per family; any other {word} stays as written.
PLACEHOLDERS = ("student_first_name", "school", "date")
PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def template_fill(text: str, *, student: Student | None, school: School, language: str) -> str:
    """Fills a template's placeholders for one family, in its language. Plain substitution of
    known names: nothing in the text is evaluated."""
    with translation.override(language):
        values = {
            "student_first_name": student.given_name if student else "",
            "school": school.name,
            "date": date_format(timezone.localdate(), "DATE_FORMAT"),
        }
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def template_for(*, template: MessageTemplate, language: str) -> tuple[str, str] | None:
    """The template's (subject, body) as people translated it into `language`, if they did."""
    subject = getattr(template, build_localized_fieldname("subject", language), None)
    body = getattr(template, build_localized_fieldname("body", language), None)
    return (subject or template.subject, body) if body else None


def _human_translations(*, message: Message, template: MessageTemplate, student) -> None:
    """Where people translated the template, families get that text instead of a machine's."""
    languages = set(
        Guardian.objects.filter(participations__thread=message.thread_id).values_list(
            "preferred_language", flat=True
        )
    ) - {message.language}
    MessageTranslation.objects.bulk_create(
        [
            MessageTranslation(
                message=message,
                language=language,
                provider="person",
                is_machine=False,
                is_reviewed=True,
                text=template_fill(
                    texts[1], student=student, school=message.thread.school, language=language
                ),
            )
            for language in sorted(languages)
            if (texts := template_for(template=template, language=language))
        ],
        ignore_conflicts=True,
    )


class MessagingError(Exception):
    """Why a message or a thread was refused, to show the person (already translated)."""


def _body_check(body: str) -> str:
    body = body.strip()
    if not body:
        raise MessagingError(_("Write a message first."))
    if len(body) > MAX_BODY_CHARS:
        raise MessagingError(
            _("A message can be at most %(limit)s characters; this one has %(length)s.")
            % {"limit": MAX_BODY_CHARS, "length": len(body)}
        )
    return body


def _author(user) -> tuple[Staff | None, Guardian | None]:
    access = permissions.access_for(user)
    staff = Staff.objects.filter(pk=access.staff_id).first() if access.staff_id else None
    guardian = (
        Guardian.objects.filter(pk=access.guardian_id).first() if access.guardian_id else None
    )
    return staff, guardian


def reader_language(*, staff: Staff | None, guardian: Guardian | None, school: School) -> str:
    """The language a person reads a thread in: a family's own; staff, their school's."""
    return guardian.preferred_language if guardian else school.default_language


def _write(
    *,
    thread: Thread,
    staff,
    guardian,
    body: str,
    channel: str,
    is_internal: bool,
    event: str = "",
    families: Iterable[Guardian] | None = None,
) -> Message:
    """Writes a message and its deliveries: to `families`, or by default to every family in the
    thread but its author."""
    language = reader_language(staff=staff, guardian=guardian, school=thread.school)
    message = Message.objects.create(
        thread=thread,
        author_staff=staff,
        author_guardian=guardian,
        body=body,
        language=language,
        channel=channel,
        is_internal=is_internal,
        event=event,
    )
    if not is_internal:
        thread.last_message_at = message.created_at
        if guardian is not None:
            thread.waiting_since = thread.waiting_since or message.created_at
        elif staff is not None and not event:
            thread.waiting_since = thread.nudged_at = thread.escalated_at = None
        thread.save(update_fields=["last_message_at", "waiting_since", "nudged_at", "escalated_at"])
    if guardian or staff:
        Participant.objects.filter(
            thread=thread, **({"guardian": guardian} if guardian else {"staff": staff})
        ).update(last_read_at=message.created_at)
    if guardian is not None and not event:
        _acknowledge_if_office_closed(thread=thread, at=message.created_at, writer=guardian)
    if families is None:
        families = Guardian.objects.filter(
            participations__thread=thread, participations__is_muted=False
        ).exclude(pk=guardian.pk if guardian else None)
    written = deliveries_write(message=message, guardians=families)
    translate = bool(body and not event)
    if translate or written:
        message_dispatch_on_commit(message, translate=translate)
    return message


def _event(
    thread: Thread,
    event: str,
    *,
    body: str = "",
    staff: Staff | None = None,
    is_internal: bool = False,
    families: Iterable[Guardian] | None = None,
) -> Message:
    """A message of the portal's own (someone joined, an acknowledgement, a check-in prompt, a
    note to staff): its words are the interface's, shown in each reader's language."""
    return _write(
        thread=thread,
        staff=staff,
        guardian=None,
        body=body,
        channel=Message.Channel.WEB,
        is_internal=is_internal,
        event=event,
        families=families,
    )


def _acknowledge_if_office_closed(*, thread: Thread, at, writer: Guardian) -> None:
    """A family writing while the office is closed (the thread owner's office hours, else the
    school's; weekends and the school calendar's holidays) is told, once per thread and school
    day, when to expect an answer. The words are the interface's, shown in each reader's language;
    the message keeps the opening time."""
    owner = thread.owner
    opens_at = thread.school.office_next_open(
        at,
        opens_at=owner.office_opens_at if owner else None,
        closes_at=owner.office_closes_at if owner else None,
    )
    if opens_at is None:
        return
    today = at.astimezone(opens_at.tzinfo).date()
    already = thread.messages.filter(event=Message.Event.ACKNOWLEDGED).order_by("-pk").first()
    if already and already.created_at.astimezone(opens_at.tzinfo).date() == today:
        return
    # By text and email only to the family that wrote; in the thread every reader sees it.
    _event(thread, Message.Event.ACKNOWLEDGED, body=opens_at.isoformat(), families=[writer])


@transaction.atomic
def thread_start(
    *,
    actor,
    subject: str,
    body: str,
    student: Student | None = None,
    guardians: Iterable[Guardian] = (),
    staff: Iterable[Staff] = (),
    school: School | None = None,
    template: MessageTemplate | None = None,
) -> Thread:
    """Starts a conversation. Staff write to families they may see (about a student, only to
    guardians whose link lets them receive messages); a family writes about its child to the
    people in its "who to contact" directory, or to the school office. A message written from a
    `template`, unchanged, reaches each family in the template's human translation where there
    is one."""
    author_staff, author_guardian = _author(actor)
    guardians, staff = list(guardians), list(staff)
    subject = subject.strip()
    if not subject:
        raise MessagingError(_("Give the conversation a subject."))
    if len(subject) > 200:
        raise MessagingError(_("A subject can be at most 200 characters."))
    body = _body_check(body)
    if (
        student is not None
        and not permissions.students_visible_to(actor).filter(pk=student.pk).exists()
    ):
        raise MessagingError(_("You cannot write about this student."))
    as_guardian = author_guardian is not None and author_staff is None
    if as_guardian:
        if student is None:
            raise MessagingError(_("Choose which of your children this is about."))
        school = student.school
        directory = permissions.staff_visible_to(actor)
        if any(not directory.filter(pk=person.pk).exists() for person in staff):
            raise MessagingError(_("Write to someone in your child's contact list."))
        guardians = [author_guardian]
        kind = Thread.Kind.DIRECT if staff else Thread.Kind.OFFICE
        if not staff:  # the office: the school's admins answer
            staff = office_staff(school)
            if not staff:
                raise MessagingError(
                    _("The school office cannot receive messages here yet. Please call it.")
                )
    elif author_staff is not None:
        school = student.school if student is not None else school
        if school is None or school.pk not in permissions.access_for(actor).roles:
            raise MessagingError(_("Choose a school where you work."))
        if not guardians:
            raise MessagingError(_("Choose at least one family to write to."))
        visible = permissions.guardians_visible_to(actor)
        reachable_students = permissions.students_visible_to(actor).filter(school=school)
        for guardian in guardians:
            if not visible.filter(pk=guardian.pk).exists():
                raise MessagingError(_("You cannot write to this family."))

            if (
                student is not None
                and not GuardianLink.objects.filter(
                    guardian=guardian, student=student, is_active=True, may_receive_messages=True
                ).exists()
            ):
                raise MessagingError(
                    _("%(name)s may not receive messages about this student.") % {"name": guardian}
                )
            if not GuardianLink.objects.filter(
                guardian=guardian,
                student__in=reachable_students,
                is_active=True,
                may_receive_messages=True,
            ).exists():
                raise MessagingError(
                    _("%(name)s may not receive messages from you.") % {"name": guardian}
                )
        _colleagues_check(school, staff)
        staff = [author_staff, *(s for s in staff if s.pk != author_staff.pk)]
        kind = Thread.Kind.DIRECT
    else:
        raise MessagingError(_("Only school staff and families can write here."))
    thread = Thread.objects.create(
        school=school,
        student=student,
        subject=subject,
        kind=kind,
        created_by=actor,
        owner=staff[0] if staff else None,
    )
    Participant.objects.bulk_create(
        [Participant(thread=thread, staff=person) for person in dict.fromkeys(staff)]
        + [Participant(thread=thread, guardian=person) for person in dict.fromkeys(guardians)]
    )
    message = _write(
        thread=thread,
        staff=None if as_guardian else author_staff,
        guardian=author_guardian if as_guardian else None,
        body=body,
        channel=Message.Channel.WEB,
        is_internal=False,
    )
    if template is not None and not as_guardian:
        original = template_for(template=template, language=message.language)
        filled = original and template_fill(
            original[1], student=student, school=school, language=message.language
        )
        if filled and filled.strip() == body:
            _human_translations(message=message, template=template, student=student)
    return thread


def office_staff(school: School) -> list[Staff]:
    """Who answers the school office's conversations: the school's active admins."""
    return list(
        Staff.objects.filter(
            memberships__school=school,
            memberships__role="admin",
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _participant(actor, thread: Thread, *, join: bool = False) -> Participant | None:
    """The actor's place in the thread. Someone who works at the school and is also a parent
    there takes part as the parent where they are one. With `join`, a school admin who may
    read the thread joins it, and the family is told; otherwise a reader who takes no part
    gets None."""
    if not permissions.threads_visible_to(actor).filter(pk=thread.pk).exists():
        raise MessagingError(_("This conversation is not yours."))
    access = permissions.access_for(actor)
    mine = Q(staff_id=access.staff_id) if access.staff_id else Q(pk__in=[])
    if access.guardian_id:
        mine |= Q(guardian_id=access.guardian_id)
    participant = (
        thread.participants.filter(mine).order_by(F("staff_id").asc(nulls_first=True)).first()
    )
    if participant is None and join and access.staff_id:
        participant = _join(thread, Staff.objects.get(pk=access.staff_id))
    if participant is None and join:
        raise MessagingError(_("This conversation is not yours."))
    return participant


@transaction.atomic
def message_post(
    *, actor, thread: Thread, body: str, is_internal: bool = False, channel: str = "web"
) -> Message:
    """Adds a message to a thread the actor takes part in. Internal notes are staff-only."""
    thread = Thread.objects.select_for_update().select_related("school").get(pk=thread.pk)
    if thread.kind == Thread.Kind.BROADCAST:
        raise MessagingError(_("An announcement takes no answers here; reply to it instead."))
    if thread.is_archived:
        raise MessagingError(_("This conversation is archived."))
    participant = _participant(actor, thread, join=True)
    if is_internal and participant.staff_id is None:
        raise MessagingError(_("Only staff can write internal notes."))
    return _write(
        thread=thread,
        staff=participant.staff,
        guardian=participant.guardian,
        body=_body_check(body),
        channel=channel,
        is_internal=is_internal,
    )


@transaction.atomic
def participant_add(*, actor, thread: Thread, staff: Staff) -> Participant:
    """Loops a colleague into a thread; the family sees who joined."""
    thread = Thread.objects.select_for_update().select_related("school").get(pk=thread.pk)
    me = _participant(actor, thread)
    if me is None or me.staff_id is None:
        raise MessagingError(_("Only staff can add someone to a conversation."))
    _colleagues_check(thread.school, [staff])
    if thread.kind == Thread.Kind.HELP_REQUEST:
        from supports.services import counselors_of

        if staff not in counselors_of(thread.help_request.service):
            raise MessagingError(
                _("A help request is confidential: only the service's counselors can join it.")
            )
    return _join(thread, staff)


@transaction.atomic
def thread_mark_read(*, actor, thread: Thread) -> None:
    """Marks the thread read for a participant; a reader who takes no part (an admin looking,
    a family reading an announcement) leaves no trace."""
    participant = _participant(actor, thread)
    if participant is None:
        return
    participant.last_read_at = timezone.now()
    participant.save(update_fields=["last_read_at"])
    if participant.guardian_id:
        in_app_mark_read(guardian_id=participant.guardian_id, thread_id=thread.pk)


@transaction.atomic
def thread_archive(*, actor, thread: Thread) -> None:
    """Archives a thread (what "delete" does): it leaves the inbox, and keeps every message."""
    participant = _participant(actor, thread)
    if participant is None or participant.staff_id is None:
        raise MessagingError(_("Only staff can archive a conversation."))
    Thread.objects.filter(pk=thread.pk).update(is_archived=True)


@transaction.atomic
def translation_flag(*, actor, message: Message) -> MessageTranslation:
    """A family finds the translation of a message confusing: the translation is flagged for a
    bilingual colleague, and the staff of the thread (its sender too) get a note saying so."""
    thread = Thread.objects.select_for_update().select_related("school").get(pk=message.thread_id)
    me = _participant(actor, thread)
    if me is None or me.guardian is None:
        raise MessagingError(_("Only the family can flag a translation it received."))
    return _translation_flag(thread=thread, message=message, guardian=me.guardian)


def _translation_flag(*, thread: Thread, message: Message, guardian: Guardian):
    shown = message.translations.filter(language=guardian.preferred_language).first()
    if shown is None or message.is_internal:
        raise MessagingError(_("This message was not translated for you."))
    if shown.flagged_at is None:
        shown.flagged_at = timezone.now()
        shown.save(update_fields=["flagged_at"])
        _event(thread, Message.Event.TRANSLATION_FLAGGED, body=str(message.pk), is_internal=True)
    return shown


@transaction.atomic
def translation_flag_by_text(*, guardian: Guardian, phone: str) -> MessageTranslation | None:
    """A family texts "?" about the last translated text the school sent to its number: that
    translation is flagged as for `translation_flag`. None when no text of theirs was
    translated."""
    from messaging.models import Delivery

    last = (
        Delivery.objects.filter(
            guardian=guardian,
            channel=Delivery.Channel.SMS,
            address=phone,
            status__in=["sent", "delivered", "undelivered"],
            message__translations__language=guardian.preferred_language,
        )
        .select_related("message")
        .order_by("-pk")
        .first()
    )
    if last is None:
        return None
    thread = (
        Thread.objects.select_for_update().select_related("school").get(pk=last.message.thread_id)
    )
    return _translation_flag(thread=thread, message=last.message, guardian=guardian)


@transaction.atomic
def check_in_schedule(*, actor, thread: Thread, weekday: int, ends_on) -> CheckIn:
    """Staff in a thread set a weekly check-in, replacing the one it had."""
    thread = Thread.objects.select_for_update().select_related("school").get(pk=thread.pk)
    me = _participant(actor, thread)
    if me is None or me.staff_id is None:
        raise MessagingError(_("Only staff in the conversation can set a check-in."))
    if weekday not in CheckIn.Weekday.values:
        raise MessagingError(_("Choose a school day."))
    if ends_on <= timezone.localdate(timezone=zoneinfo.ZoneInfo(thread.school.timezone)):
        raise MessagingError(_("Choose an end date after today."))
    thread.check_ins.filter(is_active=True).update(is_active=False)
    return CheckIn.objects.create(
        thread=thread, weekday=weekday, ends_on=ends_on, created_by=me.staff
    )


@transaction.atomic
def check_in_stop(*, actor, thread: Thread) -> None:
    me = _participant(actor, thread)
    if me is None or me.staff_id is None:
        raise MessagingError(_("Only staff in the conversation can stop a check-in."))
    thread.check_ins.filter(is_active=True).update(is_active=False)


def check_ins_run_due(*, at=None) -> int:
    """Posts today's check-in prompts (school-local day), once each; ends those past their last
    day. Safe to run as often as the beat likes. Returns how many prompts it posted."""
    at = at or timezone.now()
    posted = 0
    with transaction.atomic():
        due = (
            CheckIn.objects.select_for_update(skip_locked=True)
            .select_related("thread__school")
            .filter(is_active=True, thread__is_archived=False)
        )
        for check_in in due:
            today = at.astimezone(zoneinfo.ZoneInfo(check_in.thread.school.timezone)).date()
            if today > check_in.ends_on:
                check_in.is_active = False
                check_in.save(update_fields=["is_active"])
            elif today.weekday() == check_in.weekday and check_in.last_run_on != today:
                _event(check_in.thread, Message.Event.CHECK_IN)
                check_in.last_run_on = today
                check_in.save(update_fields=["last_run_on"])
                posted += 1
    return posted


def _colleagues_check(school: School, staff: Iterable[Staff]) -> None:
    """Only active staff with an active role at the school join its conversations."""
    staff = list(staff)
    if not staff:
        return
    colleagues = Staff.objects.filter(
        pk__in=[person.pk for person in staff],
        memberships__school=school,
        memberships__is_active=True,
        is_active=True,
    )
    if colleagues.values("pk").distinct().count() != len({person.pk for person in staff}):
        raise MessagingError(_("Add a colleague from this school."))


def _join(thread: Thread, staff: Staff) -> Participant:
    """Adds a staff member to a thread, telling the family who joined."""
    participant, created = Participant.objects.get_or_create(thread=thread, staff=staff)
    if created:
        _event(thread, Message.Event.JOINED, body=str(staff), staff=staff)
    return participant


def threads_overdue_check(*, at=None) -> tuple[int, int]:
    """Past its school's target (in school hours: nights and weekends do not count) a waiting
    thread's owner gets a note; past half as long again the school's backup joins it. Each
    happens once per wait. Returns (nudged, escalated)."""
    at = at or timezone.now()
    nudged = escalated = 0
    with transaction.atomic():
        waiting = (
            Thread.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("school__answer_backup")
            .filter(waiting_since__isnull=False, is_archived=False, escalated_at__isnull=True)
        )
        schools_by_id = {}  # one School object per school, so its holidays are read once
        for thread in waiting:
            school = thread.school = schools_by_id.setdefault(thread.school_id, thread.school)
            hours = school.school_seconds_between(thread.waiting_since, at) / 3600
            if hours >= school.answer_target_hours and thread.nudged_at is None:
                _event(thread, Message.Event.OVERDUE, body=str(int(hours)), is_internal=True)
                thread.nudged_at = at
                thread.save(update_fields=["nudged_at"])
                nudged += 1
            confidential = thread.kind == Thread.Kind.HELP_REQUEST  # no backup joins those
            if (
                hours >= school.answer_target_hours * 1.5
                and school.answer_backup_id
                and not confidential
            ):
                _join(thread, school.answer_backup)
                thread.escalated_at = at
                thread.save(update_fields=["escalated_at"])
                escalated += 1
    return nudged, escalated


@transaction.atomic
def thread_reassign(*, actor, thread: Thread, staff: Staff) -> Thread:
    """An admin gives a thread to another staff member of its school, who joins it."""
    thread = Thread.objects.select_for_update().select_related("school").get(pk=thread.pk)
    if thread.school_id not in permissions.access_for(actor).schools_with("admin"):
        raise MessagingError(_("Only the school's admins can reassign a conversation."))
    if thread.kind == Thread.Kind.HELP_REQUEST:
        raise MessagingError(_("A help request stays with the service's counselors."))
    _colleagues_check(thread.school, [staff])
    _join(thread, staff)
    thread.owner, thread.nudged_at = staff, None
    thread.save(update_fields=["owner", "nudged_at"])
    return thread


def glossary_terms(*, school: School, people: Iterable[tuple[str, str]]) -> list[str]:
    """What machine translation must leave alone: the names of the people (given, family), the
    school's name and its own list. Longest first, so "Ana María" wins over "Ana"."""
    names = {school.name}
    names.update(line.strip() for line in school.do_not_translate.splitlines())
    for given_name, family_name in people:
        names.update((given_name, family_name, f"{given_name} {family_name}"))
    return sorted((name for name in names if len(name) > 1), key=len, reverse=True)


def thread_people(thread: Thread) -> list[tuple[str, str]]:
    """(given, family) names of a thread's people and its student."""
    people = [
        *Staff.objects.filter(participations__thread=thread).values_list(
            "given_name", "family_name"
        ),
        *Guardian.objects.filter(participations__thread=thread).values_list(
            "given_name", "family_name"
        ),
    ]
    if thread.student_id:
        people.append((thread.student.given_name, thread.student.family_name))
    return people


def _glossary(message: Message) -> list[str]:
    thread = message.thread
    return glossary_terms(school=thread.school, people=thread_people(thread))


def _protect(text: str, terms: list[str]) -> tuple[str, dict[str, str]]:
    """Stands each term in for a numbered token that translation engines carry through as is."""
    kept: dict[str, str] = {}
    if not terms:
        return text, kept
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(term) for term in terms) + r")(?!\w)")

    def token(match: re.Match) -> str:
        key = f"[{len(kept) + 1}]"
        kept[key] = match.group(1)
        return key

    return pattern.sub(token, text), kept


def _restore(text: str, kept: dict[str, str]) -> str:
    for key, term in kept.items():
        text = text.replace(key, term)
    return text


def message_translate(*, message_id: int) -> list[MessageTranslation]:
    """Translates a message once into each language its readers read, where it is missing.
    Raises TranslationUnavailable for the task to try again later."""
    message = Message.objects.select_related("thread__school", "thread__student").get(pk=message_id)
    provider = translation_provider()
    if message.is_from_family and not message.translations.exists():
        # A family may answer in another language than the one on file.
        detected = provider.detect(message.body)
        if detected in family_language_codes() and detected != message.language:
            message.language = detected
            message.save(update_fields=["language"])
    # The families in the thread and, for an announcement, every family it was sent to.
    readers = Participant.objects.filter(thread=message.thread_id, guardian__isnull=False)
    recipients = BroadcastRecipient.objects.filter(broadcast__thread=message.thread_id)
    languages = set(
        Guardian.objects.filter(
            Q(pk__in=readers.values("guardian_id")) | Q(pk__in=recipients.values("guardian_id"))
        )
        .order_by()
        .values_list("preferred_language", flat=True)
        .distinct()
    )
    if message.thread.participants.filter(staff__isnull=False).exists():
        languages.add(message.thread.school.default_language)
    if message.is_internal:
        languages = {message.thread.school.default_language}
    done = set(message.translations.values_list("language", flat=True))
    protected, kept = _protect(message.body, _glossary(message))
    made = []
    for language in sorted(languages - done - {message.language}):
        texts = provider.translate([protected], source=message.language, target=language)
        if texts is None:
            continue
        translation, _created = MessageTranslation.objects.get_or_create(
            message=message,
            language=language,
            defaults={
                "text": _restore(texts[0], kept),
                "provider": provider.name,
                "is_machine": True,
            },
        )
        made.append(translation)
    return made
