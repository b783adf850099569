"""Reads of messaging for pages: inboxes and threads, each a constant number of SQL queries
whatever the number of threads and messages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from messaging.delivery import staff_signature
from messaging.models import Message, MessageTranslation, Participant, Thread
from messaging.preview import message_preview
from messaging.services import (
    glossary_terms,
    reader_language,
    template_fill,
    template_for,
    thread_people,
)
from portal import permissions
from portal.languages import family_language_codes
from portal.models import Guardian, Staff

PAGE_SIZE = 25
EPOCH = Value("1970-01-01T00:00:00Z", output_field=DateTimeField())


@dataclass
class InboxFilters:
    section: int | None = None
    student: int | None = None
    language: str = ""
    channel: str = ""
    is_waiting: bool = False
    is_archived: bool = False
    search: str = ""


def with_unread(threads: QuerySet[Thread], *, staff_id=None, guardian_id=None):
    """Adds `unread`: messages after the reader's last read, not their own (and no internal note
    for a family). Subqueries, so the count never costs a query per thread."""
    reader = {"staff_id": staff_id} if staff_id else {"guardian_id": guardian_id}
    read_marker = Coalesce(
        Subquery(
            Participant.objects.filter(thread=OuterRef("pk"), **reader).values("last_read_at")[:1]
        ),
        EPOCH,
    )
    unread = Message.objects.filter(thread=OuterRef("pk"), created_at__gt=OuterRef("read_marker"))
    if staff_id:
        unread = unread.exclude(author_staff_id=staff_id)
    else:
        unread = unread.exclude(author_guardian_id=guardian_id).exclude(is_internal=True)
    counted = unread.values("thread").annotate(count=Count("pk")).values("count")
    return threads.annotate(read_marker=read_marker).annotate(
        unread=Coalesce(Subquery(counted, output_field=IntegerField()), 0)
    )


def _families_prefetch() -> Prefetch:
    return Prefetch(
        "participants",
        queryset=Participant.objects.filter(guardian__isnull=False).select_related("guardian"),
        to_attr="family_participants",
    )


def inbox_for_staff(user, filters: InboxFilters, page_number: int = 1) -> tuple[list, Page]:
    """The "waiting for you" threads (a family wrote last and no staff member answered, oldest
    first) and one page of all the staff member's threads, newest activity first."""
    access = permissions.access_for(user)
    threads = (
        permissions.threads_visible_to(user)
        .filter(participants__staff_id=access.staff_id, is_archived=filters.is_archived)
        .select_related("student")
    )
    if filters.section:
        threads = threads.filter(student__enrollments__section_id=filters.section)
    if filters.student:
        threads = threads.filter(student_id=filters.student)
    if filters.language:
        threads = threads.filter(
            Exists(
                Participant.objects.filter(
                    thread=OuterRef("pk"), guardian__preferred_language=filters.language
                )
            )
        )
    if filters.channel:
        threads = threads.filter(
            Exists(Message.objects.filter(thread=OuterRef("pk"), channel=filters.channel))
        )
    if filters.search:
        threads = threads.filter(
            Q(subject__icontains=filters.search)
            | Exists(Message.objects.filter(thread=OuterRef("pk"), body__icontains=filters.search))
        )
    # Every filter above is a join that matches at most one row per thread, or an EXISTS: no
    # DISTINCT, which would make the database count unread messages for every thread, not only
    # the page shown.
    threads = with_unread(threads, staff_id=access.staff_id).prefetch_related(_families_prefetch())
    waiting = list(threads.filter(waiting_since__isnull=False).order_by("waiting_since")[:50])
    if filters.is_waiting:
        threads = threads.filter(waiting_since__isnull=False)
    page = Paginator(threads.order_by("-last_message_at", "-pk"), PAGE_SIZE).get_page(page_number)
    return waiting, page


def threads_for_guardian(user, page_number: int = 1) -> Page:
    access = permissions.access_for(user)
    threads = (
        permissions.threads_visible_to(user)
        .filter(participants__guardian_id=access.guardian_id, is_archived=False)
        .select_related("student", "school")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.filter(staff__isnull=False).select_related("staff"),
                to_attr="staff_participants",
            )
        )
    )
    threads = with_unread(threads, guardian_id=access.guardian_id)
    return Paginator(threads.order_by("-last_message_at", "-pk"), PAGE_SIZE).get_page(page_number)


@dataclass
class ThreadView:
    thread: Thread
    messages: list[Message]
    language: str  # the reader's
    is_staff_reader: bool


def thread_for_reader(user, thread_id: int, *, after_id: int = 0) -> ThreadView:
    """A thread with its messages in the reader's language; raises Thread.DoesNotExist for a
    thread the user may not read (the view answers 404)."""
    access = permissions.access_for(user)
    thread = (
        permissions.threads_visible_to(user)
        .select_related("school", "student")
        .prefetch_related(_families_prefetch())
        .get(pk=thread_id)
    )
    is_staff_reader = bool(access.staff_id or access.is_superuser) and not (
        access.guardian_id
        and thread.participants.filter(guardian_id=access.guardian_id).exists()
        and not thread.participants.filter(staff_id=access.staff_id).exists()
    )
    guardian = None if is_staff_reader else Guardian.objects.get(pk=access.guardian_id)
    language = reader_language(staff=None, guardian=guardian, school=thread.school)
    messages = (
        thread.messages.filter(pk__gt=after_id)
        .select_related("author_staff", "author_guardian")
        .prefetch_related(
            Prefetch(
                "translations",
                queryset=MessageTranslation.objects.filter(language=language),
                to_attr="reader_translations",
            )
        )
    )
    if not is_staff_reader:
        messages = messages.filter(is_internal=False)
    return ThreadView(thread, list(messages), language, is_staff_reader)


@dataclass
class OverdueThread:
    thread: Thread
    school_hours: float


def overdue_for_admin(user, *, at=None) -> list[OverdueThread]:
    """Every thread at the admin's schools where a family has waited past the school's target,
    longest wait first (help requests stay confidential). Two queries; the hours are counted in
    Python over the waiting threads only."""
    from django.utils import timezone

    at = at or timezone.now()
    schools = permissions.access_for(user).schools_with("admin")
    if user.is_superuser:
        schools = None
    threads = Thread.objects.filter(waiting_since__isnull=False, is_archived=False).exclude(
        kind=Thread.Kind.HELP_REQUEST
    )
    if schools is not None:
        threads = threads.filter(school__in=schools)
    threads = threads.select_related("school", "student", "owner").prefetch_related(
        _families_prefetch()
    )
    overdue = []
    schools_by_id = {}  # one School object per school, so its holidays are read once
    for thread in threads.order_by("waiting_since"):
        thread.school = schools_by_id.setdefault(thread.school_id, thread.school)
        hours = thread.school.school_seconds_between(thread.waiting_since, at) / 3600
        if hours >= thread.school.answer_target_hours:
            overdue.append(OverdueThread(thread, hours))
    return overdue


def previews_for_thread(*, user, thread: Thread, body: str) -> list:
    """A staff member's draft reply as each language's families in the thread will receive it."""
    families = Guardian.objects.filter(
        participations__thread=thread, participations__is_muted=False, is_active=True
    )
    return _previews(
        user=user,
        school=thread.school,
        families=families,
        people=thread_people(thread),
        body=body,
    )


def previews_for_new_thread(
    *, user, student, guardians: list[Guardian], body: str, template=None
) -> list:
    """A staff member's first message to a student's families, as each language's families will
    receive it: a template sent unchanged in the human translation people wrote, where there is
    one."""
    families = Guardian.objects.filter(pk__in=[guardian.pk for guardian in guardians])
    people = [(student.given_name, student.family_name)]
    people += [(guardian.given_name, guardian.family_name) for guardian in guardians]
    return _previews(
        user=user,
        school=student.school,
        families=families,
        people=people,
        body=body,
        human=_template_texts(template, student=student, body=body),
    )


def _template_texts(template, *, student, body: str) -> dict[str, str]:
    """The human translations of a template, filled for the student, when `body` is the template
    unchanged (as `services.thread_start` decides)."""
    if template is None:
        return {}
    school = student.school
    original = template_for(template=template, language=school.default_language)
    filled = original and template_fill(
        original[1], student=student, school=school, language=school.default_language
    )
    if not filled or filled.strip() != body.strip():
        return {}
    texts = {}
    for language in family_language_codes():
        translated = template_for(template=template, language=language)
        if translated:
            texts[language] = template_fill(
                translated[1], student=student, school=school, language=language
            )
    return texts


def _previews(*, user, school, families, people, body: str, human=None) -> list:
    staff = Staff.objects.get(pk=permissions.access_for(user).staff_id)
    languages = Counter(families.values_list("preferred_language", flat=True))
    return message_preview(
        author=staff_signature(staff, school),
        body=body.strip(),
        source=school.default_language,
        families_by_language=dict(languages),
        terms=glossary_terms(school=school, people=people),
        human=human or {},
    )
