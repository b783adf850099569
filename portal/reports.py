# ruff: noqa: S608 -- the SQL below interpolates table names and fixed fragments only; every
# value a person chooses (ids, dates, grades, languages) goes through query parameters.
"""Engagement reports: does the school reach every family, listen to them and answer them?

Selectors only (nothing here writes). One function per figure group, each one SQL statement of
aggregates whatever the number of families, messages and deliveries; `engagement_report` runs them
all. The raw SQL runs on PostgreSQL and SQLite (window functions and common table expressions
exist on both); percentiles interpolate linearly between the two nearest ranks, with
PostgreSQL's own `percentile_cont` there and the same arithmetic in ROW_NUMBER and COUNT windows
on SQLite. Big scans are written so that PostgreSQL runs them in parallel workers (`_inlined`),
sum a million rows per family before they meet the slices (`_sliced`), and run without JIT or
nested loops (`_without_jit`). Nothing reads rows into Python but the lists behind the figures
(a page at a time) and the threads waiting now (to count school hours, as the alarms do).

The population ("families") is the guardians with an active link, allowed to receive messages, to
an active student of the schools in scope, narrowed by the filters (a grade, a section, a home
language) and, for a teacher's own figures, to the students of their sections. Every figure is
broken down into slices: all families, each school, grade, section, home language, channel and
teacher. A family belongs to every slice of its children (a family with children in grades 3 and
5 counts in both), so slices do not add up to the total.

Figures about conversations (messages, answer times, deliveries) count the school's threads, help
requests excepted (those are counted, confidentially, by service only); a teacher's figures, and a
teacher's slice in an admin's report, count only the threads that teacher takes part in. Figures
about a family's standing (reach, the worklist) look at everything the school sent them.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from messaging.models import ConsentChange, Delivery, Message, Participant, SmsConsent, Thread
from portal import permissions
from portal.models import (
    District,
    Enrollment,
    Guardian,
    GuardianLink,
    School,
    SchoolHoliday,
    Section,
    SectionStaff,
    Staff,
    Student,
)
from supports.models import HelpRequest, SupportService
from surveys.models import Invitation, Survey

ROLE = permissions.ROLE

# The slices every figure is broken down into, in the order pages show them.
DIMENSIONS = ("school", "grade", "section", "language", "channel", "teacher")
CHANNELS = ("sms", "email", "portal")
NO_GRADE = "-"  # the grade filter's value for students with no grade on file
DEFAULT_PERIOD_DAYS = 30
DEFAULT_NO_CONTACT_WEEKS = 8
FIRST_DAY_SECONDS = 24 * 3600

# Twilio's error codes that say the number itself is wrong (not switched off, not busy):
# not a valid number, cannot be reached or routed, not a mobile, unknown to the carrier, landline.
INVALID_NUMBER_CODES = ("21211", "21214", "21612", "21614", "30005", "30006")

# Why a family is on the worklist, in the order a page lists them.
REASONS = (
    "invalid_number",
    "opted_out",
    "bounced_email",
    "no_channel",
    "not_reached",
    "no_two_way",
)
# What to try next for a family on the worklist.
NEXT_CHANNELS = ("sms", "email", "portal", "call", "update_contact")


class ReportNotAllowed(Exception):
    """The user may not see this report (the views answer 404, the API 404)."""


# ---- Who, when, what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days, first and last included, read in the report's time zone."""

    starts_on: datetime.date
    ends_on: datetime.date
    time_zone: str = "UTC"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def starts_at(self) -> datetime.datetime:
        return datetime.datetime.combine(self.starts_on, datetime.time(0), tzinfo=self.zone)

    @property
    def ends_at(self) -> datetime.datetime:  # exclusive: midnight after the last day
        next_day = self.ends_on + datetime.timedelta(days=1)
        return datetime.datetime.combine(next_day, datetime.time(0), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


@dataclass(frozen=True)
class ReportFilters:
    """Narrow the families (grade, section, language) or the channel counted."""

    grade: str = ""  # as on students; NO_GRADE for students with none
    section_id: int | None = None
    language: str = ""
    channel: str = ""  # sms, email or portal: deliveries, messages and reach by that channel
    no_contact_weeks: int = DEFAULT_NO_CONTACT_WEEKS  # the worklist's "no two-way contact"


@dataclass(frozen=True)
class ReportScope:
    """Whose figures: which schools, and whether one teacher's or one counselor's own."""

    school_ids: tuple[int, ...]
    time_zone: str
    district_id: int | None = None
    teacher_id: int | None = None  # their sections' families and the threads they take part in
    counselor_id: int | None = None  # help requests of the services they answer only
    shows_families: bool = True  # reach, engagement, answers, deliveries, surveys
    shows_supports: bool = False  # help requests by service
    shows_teachers: bool = False  # a slice per teacher (admins)

    @property
    def is_district(self) -> bool:
        return self.district_id is not None


@dataclass(frozen=True)
class ScopeChoices:
    """What a user may choose to report on."""

    schools: list[School]
    districts: list[District]
    admin_school_ids: frozenset[int]


def scope_choices(user) -> ScopeChoices:
    """The schools and districts a user may open a report for (two queries)."""
    access = permissions.access_for(user)
    schools = School.objects.filter(is_active=True).order_by("name", "pk")
    districts = District.objects.filter(is_active=True).order_by("name", "pk")
    if access.is_superuser:
        school_list = list(schools)
        return ScopeChoices(
            school_list, list(districts), frozenset(school.pk for school in school_list)
        )
    reporting = access.schools_with(ROLE.ADMIN, ROLE.TEACHER, ROLE.COUNSELOR)
    return ScopeChoices(
        list(schools.filter(pk__in=reporting)),
        list(districts.filter(pk__in=access.district_ids)),
        frozenset(access.schools_with(ROLE.ADMIN)),
    )


def report_scope(
    user,
    *,
    choices: ScopeChoices | None = None,
    school_id: int | None = None,
    district_id: int | None = None,
    teacher_id: int | None = None,
) -> ReportScope:
    """The scope a user asked for, or the one they see by default; ReportNotAllowed when the
    report is not theirs to see.

    School and district admins see everything of their schools (help requests as counts by
    service), and may open any of their teachers' own figures; a teacher sees their own figures
    (their sections' families, the threads they take part in); a counselor the help requests of the
    services they answer."""
    access = permissions.access_for(user)
    choices = choices or scope_choices(user)
    schools = {school.pk: school for school in choices.schools}
    if district_id is not None:
        district = next((d for d in choices.districts if d.pk == district_id), None)
        if district is None:
            raise ReportNotAllowed
        members = [school for school in choices.schools if school.district_id == district_id]
        if not access.is_superuser:
            members = [school for school in members if school.pk in choices.admin_school_ids]
        if not members:
            raise ReportNotAllowed
        scope = _admin_scope(members, district_id=district_id)
    else:
        if school_id is None:
            school_id = _default_school(access, choices)
        school = schools.get(school_id)
        if school is None:
            raise ReportNotAllowed
        if school.pk in choices.admin_school_ids:
            scope = _admin_scope([school])
        else:
            held = access.roles.get(school.pk, frozenset())
            if teacher_id not in (None, access.staff_id):
                raise ReportNotAllowed  # only admins open someone else's figures
            is_teacher = ROLE.TEACHER in held and access.staff_id is not None
            is_counselor = ROLE.COUNSELOR in held and access.staff_id is not None
            if not (is_teacher or is_counselor):
                raise ReportNotAllowed
            return ReportScope(
                school_ids=(school.pk,),
                time_zone=school.timezone,
                teacher_id=access.staff_id if is_teacher else None,
                counselor_id=access.staff_id if is_counselor else None,
                shows_families=is_teacher,
                shows_supports=is_counselor,
            )
    if teacher_id is not None:
        teaches_here = SectionStaff.objects.filter(
            staff_id=teacher_id,
            is_active=True,
            section__is_active=True,
            section__school_id__in=scope.school_ids,
        ).exists()
        if not teaches_here:
            raise ReportNotAllowed
        return ReportScope(
            school_ids=scope.school_ids,
            time_zone=scope.time_zone,
            district_id=scope.district_id,
            teacher_id=teacher_id,
        )
    return scope


def _admin_scope(schools: list[School], *, district_id: int | None = None) -> ReportScope:
    return ReportScope(
        school_ids=tuple(sorted(school.pk for school in schools)),
        time_zone=schools[0].timezone,
        district_id=district_id,
        shows_supports=True,
        shows_teachers=True,
    )


def _default_school(access, choices: ScopeChoices) -> int | None:
    ordered = [school.pk for school in choices.schools]
    for school_id in ordered:
        if school_id in choices.admin_school_ids:
            return school_id
    return ordered[0] if ordered else None


def period_default(*, time_zone: str, today: datetime.date | None = None) -> Period:
    """The last 30 days, today included."""
    today = today or timezone.now().astimezone(zoneinfo.ZoneInfo(time_zone)).date()
    return Period(today - datetime.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today, time_zone)


# ---- What a report holds -----------------------------------------------------------------------

Figures = dict[str, float | int | None]


@dataclass
class Breakdown:
    """One figure group's numbers for every slice: ("all", "") for every family in the report,
    then (dimension, key) for each school, grade, section, language, channel and teacher."""

    columns: tuple[str, ...]
    rows: dict[tuple[str, str], Figures] = field(default_factory=dict)

    def get(self, dimension: str = "all", key: str = "") -> Figures:
        """A slice's figures; a slice with nothing to count has zeros (and no times)."""
        found = self.rows.get((dimension, key))
        if found is not None:
            return found
        return {column: None if column.endswith("_seconds") else 0 for column in self.columns}

    @property
    def total(self) -> Figures:
        return self.get()

    def slices(self, dimension: str) -> list[tuple[str, Figures]]:
        return sorted(
            ((key, figures) for (dim, key), figures in self.rows.items() if dim == dimension),
            key=lambda row: row[0],
        )


REACH_COLUMNS = (
    "families",
    "works",  # at least one working channel (with a channel filter: that channel works)
    "sms_works",  # a number on file, texts wanted, not opted out, not known invalid
    "email_works",  # an address on file, email wanted, its last email did not bounce
    "signs_in",  # a portal sign-in
    "reached",  # something reached them in the period (with a channel filter: by that channel)
    "reached_sms",  # a text delivered (the carrier confirmed it)
    "reached_email",  # an email the mail server accepted and did not bounce
    "reached_portal",  # a portal message they read
    "worklist",  # families with at least one of REASONS
    *REASONS,
)
ENGAGEMENT_COLUMNS = ("families_wrote", "messages_from_families", "messages_to_families")
ANSWER_COLUMNS = ("waits", "answered", "unanswered", "median_seconds", "p90_seconds")
WAITING_COLUMNS = ("waiting", "past_target")
DELIVERY_STATUSES = ("pending", "sent", "delivered", "undelivered", "failed", "skipped")
DELIVERY_COLUMNS = ("deliveries", *DELIVERY_STATUSES, "sms_segments")
CONSENT_COLUMNS = ("opt_outs", "opt_ins")
SURVEY_COLUMNS = ("invited", "completed_first_day", "completed")
SUPPORT_COLUMNS = (
    "requests",
    "answered",
    "median_seconds",
    "p90_seconds",
    "closed",
    "follow_up_yes",
    "follow_up_no",
)


@dataclass
class DeliveryError:
    channel: str
    error_code: str
    reason: str  # an example of the stored reason for this code
    status: str  # failed, undelivered or skipped
    deliveries: int


@dataclass
class ConsentWeek:
    week_of: datetime.date  # the Monday
    opt_outs: int
    opt_ins: int


@dataclass
class WaitingThread:
    thread: Thread
    school_hours: float
    is_past_target: bool
    families: list[Guardian]


@dataclass
class EngagementReport:
    scope: ReportScope
    period: Period
    filters: ReportFilters
    generated_at: datetime.datetime
    reach: Breakdown | None = None
    engagement: Breakdown | None = None
    answers: Breakdown | None = None
    waiting: Breakdown | None = None
    deliveries: Breakdown | None = None
    delivery_errors: list[DeliveryError] = field(default_factory=list)
    consent: Breakdown | None = None
    consent_weeks: list[ConsentWeek] = field(default_factory=list)
    surveys: Breakdown | None = None  # with a ("survey", id) row per survey
    supports: Breakdown | None = None  # ("service", id) rows only
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # sections, teachers...
    survey_anonymous: set[str] = field(default_factory=set)  # survey ids (as keys)

    def label(self, dimension: str, key: str) -> str:
        return slice_label(dimension, key, self.names)


def slice_label(dimension: str, key: str, names: dict[tuple[str, str], str]) -> str:
    """A slice's name for people, in the current language."""
    if dimension == "all":
        return _("All families")
    if dimension == "grade":
        return _("Grade %(grade)s") % {"grade": key} if key else _("No grade")
    if dimension == "language":
        return str(dict(settings.FAMILY_LANGUAGES).get(key, key))
    if dimension == "channel":
        return channel_label(key)
    return names.get((dimension, key), key)


def channel_label(channel: str) -> str:
    return {"sms": _("Text message"), "email": _("Email"), "portal": _("Portal")}.get(
        channel, channel
    )


def reason_label(reason: str, *, weeks: int = DEFAULT_NO_CONTACT_WEEKS) -> str:
    return {
        "invalid_number": _("Invalid number"),
        "opted_out": _("Texted STOP"),
        "bounced_email": _("Email bounced"),
        "no_channel": _("No working channel"),
        "not_reached": _("Nothing delivered in the period"),
        "no_two_way": ngettext(
            "Has not written in %(weeks)s week", "Has not written in %(weeks)s weeks", weeks
        )
        % {"weeks": weeks},
    }.get(reason, reason)


def next_channel_label(channel: str) -> str:
    return {
        "sms": _("Send a text"),
        "email": _("Send an email"),
        "portal": _("Message in the portal"),
        "call": _("Phone call"),
        "update_contact": _("Ask for new contact details"),
    }.get(channel, channel)


# ---- SQL pieces --------------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tables() -> dict[str, str]:
    return {
        "guardian": _table(Guardian),
        "link": _table(GuardianLink),
        "student": _table(Student),
        "enrollment": _table(Enrollment),
        "section": _table(Section),
        "section_staff": _table(SectionStaff),
        "staff": _table(Staff),
        "thread": _table(Thread),
        "message": _table(Message),
        "participant": _table(Participant),
        "delivery": _table(Delivery),
        "consent": _table(SmsConsent),
        "consent_change": _table(ConsentChange),
        "invitation": _table(Invitation),
        "survey": _table(Survey),
        "help_request": _table(HelpRequest),
        "service": _table(SupportService),
        "service_counselors": _table(SupportService.counselors.through),
    }


def _placeholders(values: Iterable) -> tuple[str, list]:
    values = list(values)
    return "(" + ", ".join(["%s"] * len(values)) + ")", values


def _at(moment: datetime.datetime):
    """A moment as the database compares it (SQLite keeps UTC text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _read_moment(value) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


def _seconds_between(start: str, end: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def _materialized() -> str:
    """Asks PostgreSQL to compute a CTE once, before it is joined (per family, not per slice);
    SQLite computes it as written."""
    return "MATERIALIZED" if connection.vendor == "postgresql" else ""


def _inlined() -> str:
    """Asks PostgreSQL to plan a CTE where each use reads it, so that its scan of the big tables
    runs in parallel workers, rather than once into a table of its own."""
    return "NOT MATERIALIZED" if connection.vendor == "postgresql" else ""


CHANNEL_NUMBERS = "(CASE {column} WHEN 'sms' THEN -1 WHEN 'email' THEN -2 ELSE -3 END)"
CHANNEL_NAMES = (
    "SELECT -1 AS slice_no, 'channel' AS dimension, 'sms' AS slice "
    "UNION ALL SELECT -2, 'channel', 'email' UNION ALL SELECT -3, 'channel', 'portal'"
)


def _teachers(sql: _Sql, scope: ReportScope) -> None:
    """The staff who teach a section of the report's schools (the teacher slices), read from
    the tables themselves so that the query around it may run in parallel."""
    t = _tables()
    schools, school_ids = _placeholders(scope.school_ids)
    sql.add(
        f"""(SELECT ts.staff_id FROM {t["section_staff"]} ts
    JOIN {t["section"]} tsec ON tsec.id = ts.section_id
    WHERE ts.is_active AND tsec.is_active AND tsec.school_id IN {schools}""",
        *school_ids,
    )
    if scope.teacher_id:
        sql.add("AND ts.staff_id = %s", scope.teacher_id)
    sql.add(")")


def _message_channel(column: str) -> str:
    return f"(CASE {column} WHEN 'web' THEN 'portal' ELSE {column} END)"


def _delivery_channel(column: str) -> str:
    return f"(CASE {column} WHEN 'in_app' THEN 'portal' ELSE {column} END)"


class _Sql:
    """A statement built piece by piece, its parameters kept in the order of its text."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list = []

    def add(self, text: str, *params) -> _Sql:
        self.parts.append(text)
        self.params.extend(params)
        return self

    @property
    def text(self) -> str:
        return "\n".join(self.parts)

    def rows(self) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(self.text, self.params)
            return cursor.fetchall()


def _jit_free(function):
    """Runs a report's statements without JIT (see `_without_jit`)."""

    @functools.wraps(function)
    def without_jit(*args, **kwargs):
        with _without_jit():
            return function(*args, **kwargs)

    return without_jit


@contextmanager
def _without_jit():
    """Two PostgreSQL settings for the report's statements, in a transaction of their own: no
    JIT (compiling plans as costly as these to machine code takes longer than running them on a
    school's data), and no nested-loop joins (PostgreSQL guesses the rows of a CTE, and a guess
    of one row where there are thousands makes a nested loop over them; the lookups that should
    use an index are subqueries, which this leaves alone)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL enable_nestloop = off")
        yield


def _school_threads(sql: _Sql, scope: ReportScope, alias: str = "t") -> None:
    """The school's threads (help requests are counted apart, by service)."""
    schools, ids = _placeholders(scope.school_ids)
    sql.add(f"{alias}.school_id IN {schools} AND {alias}.kind <> 'help_request'", *ids)


def _scope_threads(sql: _Sql, scope: ReportScope, alias: str = "t") -> None:
    """The threads a report counts: the school's, or those the teacher takes part in."""
    _school_threads(sql, scope, alias)
    if scope.teacher_id:
        sql.add(
            f"AND EXISTS (SELECT 1 FROM {_tables()['participant']} tp "
            f"WHERE tp.thread_id = {alias}.id AND tp.staff_id = %s)",
            scope.teacher_id,
        )


def _families_with(sql: _Sql, scope: ReportScope, filters: ReportFilters) -> None:
    """WITH enrolled, taught, links, families and slices: the report's families and the slices
    each belongs to (one row per family and slice; `teacher_id` on teacher slices)."""
    t = _tables()
    schools, school_ids = _placeholders(scope.school_ids)
    sql.add(
        f"""WITH enrolled AS (
  SELECT e.student_id, e.section_id FROM {t["enrollment"]} e
  JOIN {t["section"]} sec ON sec.id = e.section_id
  WHERE e.is_active AND sec.is_active AND sec.school_id IN {schools}""",
        *school_ids,
    )
    if filters.section_id:
        sql.add("AND sec.id = %s", filters.section_id)
    if scope.teacher_id:
        sql.add(
            f"AND EXISTS (SELECT 1 FROM {t['section_staff']} ts WHERE ts.section_id = sec.id "
            "AND ts.is_active AND ts.staff_id = %s)",
            scope.teacher_id,
        )
    sql.add(
        f"""),
taught AS (
  SELECT ss.section_id, ss.staff_id FROM {t["section_staff"]} ss
  JOIN {t["staff"]} sf ON sf.id = ss.staff_id
  WHERE ss.is_active AND sf.is_active"""
    )
    if scope.teacher_id:
        sql.add("AND ss.staff_id = %s", scope.teacher_id)
    needs_section = bool(filters.section_id or scope.teacher_id)
    sql.add(
        f"""),
links AS (
  SELECT gl.guardian_id, st.school_id, st.grade, en.section_id, tg.staff_id AS teacher_id
  FROM {t["link"]} gl
  JOIN {t["student"]} st ON st.id = gl.student_id
  JOIN {t["guardian"]} g ON g.id = gl.guardian_id
  {"JOIN" if needs_section else "LEFT JOIN"} enrolled en ON en.student_id = st.id
  LEFT JOIN taught tg ON tg.section_id = en.section_id
  WHERE gl.is_active AND gl.may_receive_messages AND st.is_active AND g.is_active
    AND st.school_id IN {schools}""",
        *school_ids,
    )
    if filters.grade:
        sql.add("AND st.grade = %s", "" if filters.grade == NO_GRADE else filters.grade)
    if filters.language:
        sql.add("AND g.preferred_language = %s", filters.language)
    no_teacher = "CAST(NULL AS INTEGER)"  # typed, for PostgreSQL's UNION
    by_school = (  # a slice per school in a district's report
        f"  UNION ALL SELECT DISTINCT guardian_id, 'school', CAST(school_id AS TEXT), {no_teacher}"
        "\n    FROM links"
        if len(scope.school_ids) > 1
        else ""
    )
    sql.add(
        f"""),
families AS (SELECT DISTINCT guardian_id FROM links),
slices AS (
  SELECT guardian_id, 'all' AS dimension, '' AS slice, CAST(NULL AS INTEGER) AS teacher_id
  FROM families
{by_school}
  UNION ALL SELECT DISTINCT guardian_id, 'grade', grade, {no_teacher} FROM links
  UNION ALL SELECT DISTINCT guardian_id, 'section', CAST(section_id AS TEXT), {no_teacher}
    FROM links WHERE section_id IS NOT NULL
  UNION ALL SELECT DISTINCT guardian_id, 'teacher', CAST(teacher_id AS TEXT), teacher_id
    FROM links WHERE teacher_id IS NOT NULL
  UNION ALL SELECT g.id, 'language', g.preferred_language, {no_teacher}
    FROM families f JOIN {t["guardian"]} g ON g.id = f.guardian_id
)"""
    )


def _numbers(columns: tuple[str, ...], values: Iterable) -> Figures:
    figures: Figures = {}
    for column, value in zip(columns, values, strict=True):
        if value is None:
            figures[column] = None if column.endswith("_seconds") else 0
        elif column.endswith("_seconds"):
            figures[column] = round(float(value), 3)
        else:
            figures[column] = int(value)
    return figures


def _breakdown(columns: tuple[str, ...], rows: Iterable[tuple]) -> Breakdown:
    breakdown = Breakdown(columns)
    for dimension, key, *values in rows:
        breakdown.rows[(dimension, "" if key is None else str(key))] = _numbers(columns, values)
    return breakdown


def _sliced(
    sql: _Sql,
    scope: ReportScope,
    *,
    sums: dict[str, str],
    finals: dict[str, str],
    channel_finals: dict[str, str] | None = None,
) -> None:
    """Appends the breakdown of an `events` CTE (guardian_id, thread_id, channel, measures) to
    every slice. Each measure is first summed per family and channel (`sums`, over events `e`),
    and per family and teacher taking part in the thread, and only then met with the slices, so
    a million events meet the slices as a few thousand rows; `finals` (over those sums, `x`) make
    each slice's figure, `channel_finals` the channel rows' when they differ. Events need not be
    the report's families': the slices keep only those."""
    t = _tables()
    summed = ", ".join(f"SUM({expr}) AS {name}" for name, expr in sums.items())
    resummed = ", ".join(f"SUM(pc.{name}) AS {name}" for name in sums)
    final_columns = ", ".join(finals.values())
    channel_columns = ", ".join((channel_finals or finals).values())
    sql.add(
        f""",
per_channel AS {_materialized()} (
  SELECT e.guardian_id, e.channel, {summed} FROM events e GROUP BY e.guardian_id, e.channel
),
per_family AS (SELECT pc.guardian_id, {resummed} FROM per_channel pc GROUP BY pc.guardian_id),
per_teacher AS (
  SELECT e.guardian_id, p.staff_id AS teacher_id, {summed}
  FROM events e JOIN {t["participant"]} p ON p.thread_id = e.thread_id
  WHERE p.staff_id IN """
    )
    _teachers(sql, scope)
    sql.add(
        f"""  GROUP BY e.guardian_id, p.staff_id
)
SELECT sl.dimension, sl.slice, {final_columns}
FROM per_family x JOIN slices sl ON sl.guardian_id = x.guardian_id
WHERE sl.dimension <> 'teacher'
GROUP BY sl.dimension, sl.slice
UNION ALL
SELECT sl.dimension, sl.slice, {final_columns}
FROM per_teacher x JOIN slices sl ON sl.guardian_id = x.guardian_id AND sl.teacher_id = x.teacher_id
GROUP BY sl.dimension, sl.slice
UNION ALL
SELECT 'channel', x.channel, {channel_columns}
FROM per_channel x JOIN families f ON f.guardian_id = x.guardian_id
GROUP BY x.channel"""
    )


def _percentiles(sql: _Sql, *, names: str, extra: tuple[str, ...] = ()) -> None:
    """Appends, for a `keyed` CTE (slice_no, seconds, extras...) and the slices' `names`
    (slice_no, dimension, slice), per slice: rows, answered (seconds not null), the sum of each
    extra column, and the median and 90th percentile of the seconds, interpolated between the
    nearest ranks: PostgreSQL's own percentile_cont there, the same arithmetic with ROW_NUMBER
    and COUNT windows elsewhere. Slices are numbers until the end, which keeps the sorts small."""
    sums = "".join(f", SUM(k.{name}) AS {name}" for name in extra)
    picked = "".join(f", c.{name}" for name in extra)
    if connection.vendor == "postgresql":
        sql.add(
            f""",
figures AS (
  SELECT k.slice_no, COUNT(*) AS total, COUNT(k.seconds) AS answered{sums},
    percentile_cont(0.5) WITHIN GROUP (ORDER BY k.seconds) AS median,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY k.seconds) AS p90
  FROM keyed k GROUP BY k.slice_no
)
SELECT n.dimension, n.slice, c.total, c.answered{picked}, c.median, c.p90
FROM figures c JOIN ({names}) n ON n.slice_no = c.slice_no"""
        )
        return
    sql.add(
        f""",
counted AS (
  SELECT k.slice_no, COUNT(*) AS total, COUNT(k.seconds) AS answered{sums}
  FROM keyed k GROUP BY k.slice_no
),
ranked AS (
  SELECT k.slice_no, k.seconds,
    ROW_NUMBER() OVER (PARTITION BY k.slice_no ORDER BY k.seconds) AS position,
    COUNT(*) OVER (PARTITION BY k.slice_no) AS n
  FROM keyed k WHERE k.seconds IS NOT NULL
),
percentiles AS (
  SELECT r.slice_no,
    SUM(CASE WHEN r.position = 1 + (r.n - 1) / 2
               THEN r.seconds * (1.0 - ((r.n - 1) %% 2) / 2.0)
             WHEN r.position = 2 + (r.n - 1) / 2
               THEN r.seconds * (((r.n - 1) %% 2) / 2.0)
             ELSE 0 END) AS median,
    SUM(CASE WHEN r.position = 1 + (9 * (r.n - 1)) / 10
               THEN r.seconds * (1.0 - ((9 * (r.n - 1)) %% 10) / 10.0)
             WHEN r.position = 2 + (9 * (r.n - 1)) / 10
               THEN r.seconds * (((9 * (r.n - 1)) %% 10) / 10.0)
             ELSE 0 END) AS p90
  FROM ranked r GROUP BY r.slice_no
)
SELECT n.dimension, n.slice, c.total, c.answered{picked}, p.median, p.p90
FROM counted c JOIN ({names}) n ON n.slice_no = c.slice_no
LEFT JOIN percentiles p ON p.slice_no = c.slice_no"""
    )


# ---- Reach and the worklist -------------------------------------------------------------------


def _standing_with(
    sql: _Sql,
    scope: ReportScope,
    period: Period,
    filters: ReportFilters,
    at: datetime.datetime | None = None,
) -> None:
    """Appends the CTEs `standing` (one row per family: its channels, whether it was reached in
    the period, why it is on the worklist and what to try next) and `wrote` (families that wrote
    in the report's threads in the period)."""
    t = _tables()
    now = at or timezone.now()
    schools, school_ids = _placeholders(scope.school_ids)
    invalid, invalid_codes = _placeholders(INVALID_NUMBER_CODES)
    starts_at, ends_at = _at(period.starts_at), _at(period.ends_at)
    sql.add(
        f""",
reached AS (
  SELECT d.guardian_id,
    MAX(CASE WHEN d.channel = 'sms' THEN 1 ELSE 0 END) AS by_sms,
    MAX(CASE WHEN d.channel = 'email' THEN 1 ELSE 0 END) AS by_email,
    MAX(CASE WHEN d.channel = 'in_app' THEN 1 ELSE 0 END) AS by_portal
  FROM {t["delivery"]} d
  JOIN {t["message"]} m ON m.id = d.message_id
  JOIN {t["thread"]} t ON t.id = m.thread_id
  WHERE ("""
    )
    _school_threads(sql, scope)
    sql.add(
        """) AND (
    (d.channel = 'email' AND d.status IN ('sent', 'delivered')
      AND d.sent_at >= %s AND d.sent_at < %s)
    OR (d.channel <> 'email' AND d.status = 'delivered'
      AND d.delivered_at >= %s AND d.delivered_at < %s))
  GROUP BY d.guardian_id
),""",
        starts_at,
        ends_at,
        starts_at,
        ends_at,
    )
    sql.add(
        f"""last_wrote AS (
  SELECT m.author_guardian_id AS guardian_id, MAX(m.created_at) AS wrote_at
  FROM {t["message"]} m JOIN {t["thread"]} t ON t.id = m.thread_id
  WHERE m.author_guardian_id IN (SELECT guardian_id FROM families) AND m.event = ''
    AND m.created_at <= %s AND (""",
        _at(now),
    )
    _school_threads(sql, scope)
    sql.add(
        f"""  )
  GROUP BY m.author_guardian_id
),
wrote AS (
  SELECT DISTINCT m.author_guardian_id AS guardian_id
  FROM {t["message"]} m JOIN {t["thread"]} t ON t.id = m.thread_id
  WHERE m.author_guardian_id IN (SELECT guardian_id FROM families) AND m.event = ''
    AND m.created_at >= %s AND m.created_at < %s AND (""",
        starts_at,
        ends_at,
    )
    _scope_threads(sql, scope)
    sql.add(")")
    if filters.channel:
        sql.add(f"AND {_message_channel('m.channel')} = %s", filters.channel)
    sql.add(
        f"""),
state AS {_materialized()} (
  SELECT g.id AS guardian_id, g.phone, g.email, g.wants_sms, g.wants_email, g.user_id,
    CASE WHEN g.phone <> '' AND EXISTS (
      SELECT 1 FROM {t["consent"]} c
      WHERE c.phone = g.phone AND c.school_id IN {schools} AND c.is_opted_out
    ) THEN 1 ELSE 0 END AS opted_out,
    CASE WHEN g.phone <> '' AND (
      SELECT d.error_code FROM {t["delivery"]} d
      WHERE d.address = g.phone AND d.channel = 'sms'
        AND d.status IN ('delivered', 'undelivered', 'failed')
      ORDER BY d.created_at DESC LIMIT 1
    ) IN {invalid} THEN 1 ELSE 0 END AS invalid_number,
    CASE WHEN g.email <> '' AND (
      SELECT d.status FROM {t["delivery"]} d
      WHERE d.address = g.email AND d.channel = 'email'
        AND d.status IN ('sent', 'delivered', 'undelivered', 'failed')
      ORDER BY d.created_at DESC LIMIT 1
    ) IN ('undelivered', 'failed') THEN 1 ELSE 0 END AS bounced_email,
    COALESCE(r.by_sms, 0) AS reached_sms,
    COALESCE(r.by_email, 0) AS reached_email,
    COALESCE(r.by_portal, 0) AS reached_portal,
    lw.wrote_at,
    CASE WHEN w.guardian_id IS NULL THEN 0 ELSE 1 END AS wrote_here
  FROM families f JOIN {t["guardian"]} g ON g.id = f.guardian_id
  LEFT JOIN reached r ON r.guardian_id = f.guardian_id
  LEFT JOIN last_wrote lw ON lw.guardian_id = f.guardian_id
  LEFT JOIN wrote w ON w.guardian_id = f.guardian_id
),
channels AS (
  SELECT s.*,
    CASE WHEN s.phone <> '' AND s.wants_sms AND s.opted_out = 0 AND s.invalid_number = 0
      THEN 1 ELSE 0 END AS sms_works,
    CASE WHEN s.email <> '' AND s.wants_email AND s.bounced_email = 0
      THEN 1 ELSE 0 END AS email_works,
    CASE WHEN s.user_id IS NOT NULL THEN 1 ELSE 0 END AS signs_in
  FROM state s
),""",
        *school_ids,
        *invalid_codes,
    )
    works, reached = {
        "sms": ("c.sms_works = 1", "c.reached_sms = 1"),
        "email": ("c.email_works = 1", "c.reached_email = 1"),
        "portal": ("c.signs_in = 1", "c.reached_portal = 1"),
    }.get(
        filters.channel,
        (
            "c.sms_works + c.email_works + c.signs_in > 0",
            "c.reached_sms + c.reached_email + c.reached_portal > 0",
        ),
    )
    since = now - datetime.timedelta(weeks=filters.no_contact_weeks)
    sql.add(
        f"""standing AS {_materialized()} (
  SELECT c.*,
    CASE WHEN {works} THEN 1 ELSE 0 END AS works,
    CASE WHEN {reached} THEN 1 ELSE 0 END AS reached,
    CASE WHEN c.sms_works + c.email_works + c.signs_in = 0 THEN 1 ELSE 0 END AS no_channel,
    CASE WHEN c.reached_sms + c.reached_email + c.reached_portal = 0
      THEN 1 ELSE 0 END AS not_reached,
    CASE WHEN c.wrote_at IS NULL OR c.wrote_at < %s THEN 1 ELSE 0 END AS no_two_way,
    CASE WHEN c.sms_works = 1 AND c.reached_sms = 0 THEN 'sms'
      WHEN c.email_works = 1 AND c.reached_email = 0 THEN 'email'
      WHEN c.sms_works + c.email_works = 0 AND c.signs_in = 1 AND c.reached_portal = 0
        THEN 'portal'
      WHEN c.phone <> '' AND c.invalid_number = 0 THEN 'call'
      ELSE 'update_contact' END AS next_channel
  FROM channels c
)""",
        _at(since),
    )


ON_WORKLIST = (
    "(st.invalid_number + st.opted_out + st.bounced_email + st.no_channel + st.not_reached"
    " + st.no_two_way > 0)"
)


def reach_figures(
    scope: ReportScope,
    period: Period,
    filters: ReportFilters,
    *,
    at: datetime.datetime | None = None,
) -> Breakdown:
    """Families, their working channels, whether something reached them in the period, and how
    many are on the worklist and why: one query."""
    sql = _Sql()
    _families_with(sql, scope, filters)
    _standing_with(sql, scope, period, filters, at)
    reasons = ", ".join(f"SUM(st.{reason})" for reason in REASONS)
    sql.add(
        f"""SELECT sl.dimension, sl.slice, COUNT(*), SUM(st.works), SUM(st.sms_works),
  SUM(st.email_works), SUM(st.signs_in), SUM(st.reached), SUM(st.reached_sms),
  SUM(st.reached_email), SUM(st.reached_portal),
  SUM(CASE WHEN {ON_WORKLIST} THEN 1 ELSE 0 END), {reasons}
FROM standing st JOIN slices sl ON sl.guardian_id = st.guardian_id
GROUP BY sl.dimension, sl.slice"""
    )
    breakdown = _breakdown(REACH_COLUMNS, sql.rows())
    total = breakdown.get()
    channels = (filters.channel,) if filters.channel else CHANNELS
    for channel in channels:  # by channel: the same families, that channel's reach
        works = {"sms": "sms_works", "email": "email_works", "portal": "signs_in"}[channel]
        figures = dict.fromkeys(REACH_COLUMNS, None)
        figures.update(
            families=total["families"],
            works=total[works],
            reached=total[f"reached_{channel}"],
            **{works: total[works], f"reached_{channel}": total[f"reached_{channel}"]},
        )
        breakdown.rows[("channel", channel)] = figures
    return breakdown


@dataclass
class FamilyRow:
    guardian_id: int
    name: str
    language: str
    phone: str
    email: str
    sms_works: bool
    email_works: bool
    signs_in: bool
    reached: bool
    wrote_here: bool
    wrote_at: datetime.datetime | None
    reasons: list[str]
    next_channel: str
    children: list[str] = field(default_factory=list)


FAMILY_SHOWS = (
    "all",
    "works",
    "no_works",
    "sms_works",
    "email_works",
    "signs_in",
    "reached",
    "reached_sms",
    "reached_email",
    "reached_portal",
    "wrote",
    "worklist",
    *REASONS,
)


def _family_show_condition(show: str) -> str:
    if show == "all":
        return "1 = 1"
    if show == "no_works":
        return "st.works = 0"
    if show == "wrote":
        return "st.wrote_here = 1"
    if show == "worklist":
        return ON_WORKLIST
    if show in FAMILY_SHOWS:
        return f"st.{show} = 1"
    raise ValueError(show)


@_jit_free
def families_list(
    scope: ReportScope,
    period: Period,
    filters: ReportFilters,
    *,
    show: str = "worklist",
    offset: int = 0,
    limit: int | None = 50,
    at: datetime.datetime | None = None,
) -> tuple[int, list[FamilyRow]]:
    """The families behind a reach figure (the worklist by default), by name, with why and what
    to try next: three queries (count, rows, their children)."""
    condition = _family_show_condition(show)

    def statement() -> _Sql:
        sql = _Sql()
        _families_with(sql, scope, filters)
        _standing_with(sql, scope, period, filters, at)
        return sql

    counting = statement().add(f"SELECT COUNT(*) FROM standing st WHERE {condition}")
    total = int(counting.rows()[0][0])
    if total == 0 or offset >= total:
        return total, []
    reasons = ", ".join(f"st.{reason}" for reason in REASONS)
    listing = statement().add(
        f"""SELECT g.id, g.given_name, g.family_name, g.preferred_language, g.phone, g.email,
  st.sms_works, st.email_works, st.signs_in, st.reached, st.wrote_here, st.wrote_at,
  st.next_channel, {reasons}
FROM standing st JOIN {_tables()["guardian"]} g ON g.id = st.guardian_id
WHERE {condition}
ORDER BY g.family_name, g.given_name, g.id"""
    )
    if limit is not None:
        listing.add("LIMIT %s OFFSET %s", limit, offset)
    rows = []
    for row in listing.rows():
        flags = row[13:]
        rows.append(
            FamilyRow(
                guardian_id=row[0],
                name=f"{row[1]} {row[2]}",
                language=row[3],
                phone=row[4] or "",
                email=row[5] or "",
                sms_works=bool(row[6]),
                email_works=bool(row[7]),
                signs_in=bool(row[8]),
                reached=bool(row[9]),
                wrote_here=bool(row[10]),
                wrote_at=_read_moment(row[11]),
                next_channel=row[12],
                reasons=[reason for reason, flag in zip(REASONS, flags, strict=True) if flag],
            )
        )
    children: dict[int, list[str]] = defaultdict(list)
    for guardian_id, given_name, family_name in (
        GuardianLink.objects.filter(
            guardian_id__in=[row.guardian_id for row in rows],
            is_active=True,
            may_receive_messages=True,
            student__is_active=True,
            student__school_id__in=scope.school_ids,
        )
        .order_by("student__given_name", "student_id")
        .values_list("guardian_id", "student__given_name", "student__family_name")
    ):
        children[guardian_id].append(f"{given_name} {family_name}")
    for row in rows:
        row.children = children.get(row.guardian_id, [])
    return total, rows


# ---- Two-way engagement ------------------------------------------------------------------------


def engagement_figures(scope: ReportScope, period: Period, filters: ReportFilters) -> Breakdown:
    """Families who wrote, messages from families, and messages written to families (each
    counted once for every family it went to, whatever the channels; by channel, once for each
    channel that carried it): one query."""
    t = _tables()
    starts_at, ends_at = _at(period.starts_at), _at(period.ends_at)
    sql = _Sql()
    _families_with(sql, scope, filters)
    # A message reaching a family by text and by email counts once: by its text.
    first = "1" if filters.channel else "CASE WHEN text.id IS NULL THEN 1 ELSE 0 END"
    text_too = (
        ""
        if filters.channel
        else f"""LEFT JOIN {t["delivery"]} text ON d.channel = 'email'
      AND text.message_id = d.message_id AND text.guardian_id = d.guardian_id
      AND text.channel = 'sms' AND text.status <> 'skipped'"""
    )
    sql.add(
        f""",
events AS {_inlined()} (
  SELECT * FROM (
    SELECT m.author_guardian_id AS guardian_id, m.thread_id,
      {_message_channel("m.channel")} AS channel, 1 AS wrote, 0 AS received, 0 AS carried
    FROM {t["message"]} m JOIN {t["thread"]} t ON t.id = m.thread_id
    WHERE m.author_guardian_id IS NOT NULL AND m.event = ''
      AND m.created_at >= %s AND m.created_at < %s AND (""",
        starts_at,
        ends_at,
    )
    _scope_threads(sql, scope)
    sql.add(
        f""")
    UNION ALL
    SELECT d.guardian_id, m.thread_id, {_delivery_channel("d.channel")}, 0, {first}, 1
    FROM {t["delivery"]} d
    JOIN {t["message"]} m ON m.id = d.message_id
    JOIN {t["thread"]} t ON t.id = m.thread_id
    {text_too}
    WHERE d.status <> 'skipped' AND m.author_staff_id IS NOT NULL AND NOT m.is_internal
      AND m.event = '' AND m.created_at >= %s AND m.created_at < %s AND (""",
        starts_at,
        ends_at,
    )
    _scope_threads(sql, scope)
    sql.add(")\n  ) both_ways")
    if filters.channel:
        sql.add("WHERE channel = %s", filters.channel)
    sql.add(")")
    finals = {
        "families_wrote": "SUM(CASE WHEN x.wrote > 0 THEN 1 ELSE 0 END)",
        "messages_from_families": "SUM(x.wrote)",
        "messages_to_families": "SUM(x.received)",
    }
    _sliced(
        sql,
        scope,
        sums={"wrote": "e.wrote", "received": "e.received", "carried": "e.carried"},
        finals=finals,
        channel_finals={**finals, "messages_to_families": "SUM(x.carried)"},
    )
    return _breakdown(ENGAGEMENT_COLUMNS, sql.rows())


# ---- Answer times ------------------------------------------------------------------------------


def _episodes_with(sql: _Sql, scope: ReportScope, period: Period, filters: ReportFilters) -> None:
    """Appends the CTE `episodes`: every wait a family began in the period (a family message
    after a staff answer, or the first of a thread), with when staff first answered (an answer
    after the period counts) and how many seconds that took."""
    t = _tables()
    starts_at, ends_at = _at(period.starts_at), _at(period.ends_at)
    said = (
        "{a}.event = '' AND NOT {a}.is_internal "
        "AND ({a}.author_guardian_id IS NOT NULL OR {a}.author_staff_id IS NOT NULL)"
    )
    sql.add(
        f""",
relevant AS (
  SELECT m.id, m.thread_id, m.created_at, m.author_guardian_id,
    {_message_channel("m.channel")} AS channel,
    CASE WHEN m.author_guardian_id IS NOT NULL THEN 1 ELSE 0 END AS is_family
  FROM {t["message"]} m JOIN {t["thread"]} t ON t.id = m.thread_id
  WHERE {said.format(a="m")} AND m.created_at >= %s AND m.created_at < %s AND (""",
        starts_at,
        ends_at,
    )
    _scope_threads(sql, scope)
    sql.add(
        f""")
),
active AS (SELECT DISTINCT thread_id FROM relevant),
later AS (
  SELECT a.thread_id, (
    SELECT MIN(lm.created_at) FROM {t["message"]} lm
    WHERE lm.thread_id = a.thread_id AND lm.author_staff_id IS NOT NULL AND NOT lm.is_internal
      AND lm.event = '' AND lm.created_at >= %s
  ) AS answered_at
  FROM active a
),
prior AS (
  SELECT t.id AS thread_id, (
    SELECT CASE WHEN pm.author_guardian_id IS NOT NULL THEN 1 ELSE 0 END
    FROM {t["message"]} pm
    WHERE pm.thread_id = t.id AND {said.format(a="pm")} AND pm.created_at < %s
    ORDER BY pm.created_at DESC, pm.id DESC LIMIT 1
  ) AS is_family
  FROM {t["thread"]} t WHERE t.id IN (SELECT thread_id FROM active)
),
numbered AS (
  SELECT r.*,
    COALESCE(
      LAG(r.is_family) OVER (PARTITION BY r.thread_id ORDER BY r.created_at, r.id),
      pr.is_family, 0
    ) AS follows_family,
    SUM(1 - r.is_family) OVER (PARTITION BY r.thread_id ORDER BY r.created_at, r.id)
      - (1 - r.is_family) AS answers_before
  FROM relevant r LEFT JOIN prior pr ON pr.thread_id = r.thread_id
),
ordered AS (
  SELECT c.*, COALESCE(
    MIN(CASE WHEN c.is_family = 0 THEN c.created_at END) OVER (
      PARTITION BY c.thread_id, c.answers_before
    ),
    la.answered_at
  ) AS answered_at
  FROM numbered c LEFT JOIN later la ON la.thread_id = c.thread_id
),
episodes AS (
  SELECT o.id AS message_id, o.thread_id, o.author_guardian_id AS guardian_id, o.channel,
    o.created_at AS asked_at, o.answered_at,
    CASE WHEN o.answered_at IS NULL THEN NULL
      ELSE {_seconds_between("o.created_at", "o.answered_at")} END AS seconds
  FROM ordered o
  WHERE o.is_family = 1 AND o.follows_family = 0
    AND o.author_guardian_id IN (SELECT guardian_id FROM families)""",
        ends_at,
        starts_at,
    )
    if filters.channel:
        sql.add("AND o.channel = %s", filters.channel)
    sql.add(")")


def answer_figures(scope: ReportScope, period: Period, filters: ReportFilters) -> Breakdown:
    """Time to the first staff answer on each wait a family began in the period: how many waits,
    how many answered, the median and 90th percentile in seconds: one query."""
    t = _tables()
    sql = _Sql()
    _families_with(sql, scope, filters)
    _episodes_with(sql, scope, period, filters)
    sql.add(
        f""",
numbered_slices AS {_materialized()} (
  SELECT s.guardian_id, s.dimension, s.slice, s.teacher_id,
    DENSE_RANK() OVER (ORDER BY s.dimension, s.slice) AS slice_no
  FROM slices s
),
with_teachers AS (
  SELECT e.guardian_id, e.seconds, p.staff_id
  FROM episodes e JOIN {t["participant"]} p ON p.thread_id = e.thread_id
  WHERE p.staff_id IS NOT NULL
),
keyed AS (
  SELECT sl.slice_no, e.seconds
  FROM episodes e JOIN numbered_slices sl ON sl.guardian_id = e.guardian_id
  WHERE sl.dimension <> 'teacher'
  UNION ALL
  SELECT sl.slice_no, w.seconds
  FROM with_teachers w JOIN numbered_slices sl ON sl.guardian_id = w.guardian_id
  WHERE sl.teacher_id = w.staff_id
  UNION ALL
  SELECT {CHANNEL_NUMBERS.format(column="e.channel")}, e.seconds FROM episodes e
)"""
    )
    _percentiles(
        sql,
        names="SELECT DISTINCT slice_no, dimension, slice FROM numbered_slices "
        f"UNION ALL {CHANNEL_NAMES}",
    )
    breakdown = Breakdown(ANSWER_COLUMNS)
    for dimension, key, total, answered, median, p90 in sql.rows():
        breakdown.rows[(dimension, str(key))] = _numbers(
            ANSWER_COLUMNS, (total, answered, int(total) - int(answered), median, p90)
        )
    return breakdown


@dataclass
class AnswerRow:
    thread_id: int
    subject: str
    family: str
    channel: str
    asked_at: datetime.datetime
    answered_at: datetime.datetime | None
    seconds: float | None


@_jit_free
def answers_list(
    scope: ReportScope,
    period: Period,
    filters: ReportFilters,
    *,
    state: str = "all",
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[int, list[AnswerRow]]:
    """The waits behind the answer times, unanswered first, then the longest: two queries."""
    condition = {
        "all": "1 = 1",
        "answered": "e.seconds IS NOT NULL",
        "unanswered": "e.seconds IS NULL",
    }[state]

    def statement() -> _Sql:
        sql = _Sql()
        _families_with(sql, scope, filters)
        _episodes_with(sql, scope, period, filters)
        return sql

    total = int(statement().add(f"SELECT COUNT(*) FROM episodes e WHERE {condition}").rows()[0][0])
    if total == 0 or offset >= total:
        return total, []
    t = _tables()
    listing = statement().add(
        f"""SELECT e.thread_id, t.subject, g.given_name, g.family_name, e.channel, e.asked_at,
  e.answered_at, e.seconds
FROM episodes e
JOIN {t["thread"]} t ON t.id = e.thread_id
JOIN {t["guardian"]} g ON g.id = e.guardian_id
WHERE {condition}
ORDER BY CASE WHEN e.seconds IS NULL THEN 0 ELSE 1 END, e.seconds DESC, e.asked_at, e.message_id"""
    )
    if limit is not None:
        listing.add("LIMIT %s OFFSET %s", limit, offset)
    return total, [
        AnswerRow(
            thread_id=row[0],
            subject=row[1],
            family=f"{row[2]} {row[3]}",
            channel=row[4],
            asked_at=_read_moment(row[5]),
            answered_at=_read_moment(row[6]),
            seconds=None if row[7] is None else round(float(row[7]), 3),
        )
        for row in listing.rows()
    ]


# ---- Threads waiting now -----------------------------------------------------------------------


def waiting_threads(
    scope: ReportScope, filters: ReportFilters, *, at: datetime.datetime | None = None
) -> tuple[Breakdown, list[WaitingThread]]:
    """Threads where a family waits for an answer now, and those past the school's target
    (counted in school hours, as the overdue alarms count them), per slice: four queries. The
    school hours are counted in Python over the waiting threads only, which are few whatever the
    history."""
    at = at or timezone.now()
    t = _tables()
    threads = Thread.objects.filter(
        school_id__in=scope.school_ids, waiting_since__isnull=False, is_archived=False
    ).exclude(kind=Thread.Kind.HELP_REQUEST)
    if scope.teacher_id:
        threads = threads.filter(participants__staff_id=scope.teacher_id)
    threads = list(
        threads.select_related("school", "student", "owner")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("guardian"),
                to_attr="people",
            )
        )
        .order_by("waiting_since", "pk")
    )
    sql = _Sql()
    _families_with(sql, scope, filters)
    sql.add(
        f"""SELECT p.thread_id, sl.dimension, sl.slice, sl.teacher_id
FROM {t["participant"]} p
JOIN {t["thread"]} t ON t.id = p.thread_id
JOIN slices sl ON sl.guardian_id = p.guardian_id
WHERE t.waiting_since IS NOT NULL AND NOT t.is_archived AND ("""
    )
    _scope_threads(sql, scope)
    sql.add(")")
    thread_slices: dict[int, set[tuple[str, str, int | None]]] = defaultdict(set)
    for thread_id, dimension, key, teacher_id in sql.rows():
        thread_slices[thread_id].add((dimension, str(key), teacher_id))
    closed_days: dict[int, set[datetime.date]] = defaultdict(set)
    for school_id, starts_on, ends_on in SchoolHoliday.objects.filter(
        school_id__in=scope.school_ids
    ).values_list("school_id", "starts_on", "ends_on"):
        day = starts_on
        while day <= ends_on:
            closed_days[school_id].add(day)
            day += datetime.timedelta(days=1)
    schools: dict[int, School] = {}
    breakdown = Breakdown(WAITING_COLUMNS)
    listed = []
    for thread in threads:
        slices = thread_slices.get(thread.pk)
        if not slices:  # no family of the report's in it
            continue
        school = schools.setdefault(thread.school_id, thread.school)
        school._closed_days = closed_days.get(school.pk, set())  # read once, above
        hours = school.school_seconds_between(thread.waiting_since, at) / 3600
        is_past = hours >= school.answer_target_hours
        staff_ids = {person.staff_id for person in thread.people if person.staff_id}
        listed.append(
            WaitingThread(
                thread=thread,
                school_hours=hours,
                is_past_target=is_past,
                families=[person.guardian for person in thread.people if person.guardian_id],
            )
        )
        for dimension, key, teacher_id in slices:
            if teacher_id is not None and teacher_id not in staff_ids:
                continue
            figures = breakdown.rows.setdefault((dimension, key), dict.fromkeys(WAITING_COLUMNS, 0))
            figures["waiting"] += 1
            figures["past_target"] += int(is_past)
    return breakdown, listed


# ---- Deliveries --------------------------------------------------------------------------------


def _delivery_events(sql: _Sql, scope: ReportScope, period: Period, filters: ReportFilters):
    t = _tables()
    sql.add(
        f""",
events AS {_inlined()} (
  SELECT d.id, d.guardian_id, m.thread_id, {_delivery_channel("d.channel")} AS channel,
    d.status, d.error_code, d.error_reason,
    CASE WHEN d.channel = 'sms' AND d.status IN ('sent', 'delivered', 'undelivered')
      THEN COALESCE(d.segments, 0) ELSE 0 END AS segments
  FROM {t["delivery"]} d
  JOIN {t["message"]} m ON m.id = d.message_id
  JOIN {t["thread"]} t ON t.id = m.thread_id
  WHERE m.created_at >= %s AND m.created_at < %s AND (""",
        _at(period.starts_at),
        _at(period.ends_at),
    )
    _scope_threads(sql, scope)
    sql.add(")")
    if filters.channel:
        sql.add(f"AND {_delivery_channel('d.channel')} = %s", filters.channel)
    sql.add(")")


def _status_flag(status: str) -> str:
    if status == "pending":
        return "CASE WHEN e.status IN ('queued', 'deferred', 'sending') THEN 1 ELSE 0 END"
    return f"CASE WHEN e.status = '{status}' THEN 1 ELSE 0 END"


def delivery_figures(scope: ReportScope, period: Period, filters: ReportFilters) -> Breakdown:
    """Deliveries written in the period (with their message: the outbox writes both at once, so
    the message's time, which is indexed, says when), by status, and the SMS segments handed to
    the provider (what it bills): one query."""
    sql = _Sql()
    _families_with(sql, scope, filters)
    _delivery_events(sql, scope, period, filters)
    sums = {"deliveries": "1"}
    sums.update({status: _status_flag(status) for status in DELIVERY_STATUSES})
    sums["sms_segments"] = "e.segments"
    _sliced(sql, scope, sums=sums, finals={name: f"SUM(x.{name})" for name in sums})
    return _breakdown(DELIVERY_COLUMNS, sql.rows())


def delivery_errors(
    scope: ReportScope, period: Period, filters: ReportFilters
) -> list[DeliveryError]:
    """Deliveries that failed, were not delivered or not sent, by channel and error code."""
    sql = _Sql()
    _families_with(sql, scope, filters)
    _delivery_events(sql, scope, period, filters)
    sql.add(
        """SELECT e.channel, e.error_code, e.status, COUNT(*), MAX(e.error_reason)
FROM events e JOIN families f ON f.guardian_id = e.guardian_id
WHERE e.status IN ('failed', 'undelivered', 'skipped')
GROUP BY e.channel, e.error_code, e.status
ORDER BY COUNT(*) DESC, e.channel, e.error_code, e.status"""
    )
    return [
        DeliveryError(
            channel=channel,
            error_code=code or "",
            status=status,
            deliveries=int(count),
            reason=reason or "",
        )
        for channel, code, status, count, reason in sql.rows()
    ]


@dataclass
class DeliveryRow:
    delivery_id: int
    created_at: datetime.datetime
    family: str
    channel: str
    address: str
    status: str
    error_code: str
    error_reason: str
    thread_id: int
    subject: str


@_jit_free
def deliveries_list(
    scope: ReportScope,
    period: Period,
    filters: ReportFilters,
    *,
    status: str = "",
    error_code: str | None = None,
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[int, list[DeliveryRow]]:
    """The deliveries behind a delivery figure, newest first: two queries."""
    conditions, params = ["1 = 1"], []
    if status == "pending":
        conditions.append("e.status IN ('queued', 'deferred', 'sending')")
    elif status == "problem":
        conditions.append("e.status IN ('failed', 'undelivered', 'skipped')")
    elif status:
        conditions.append("e.status = %s")
        params.append(status)
    if error_code is not None:
        conditions.append("e.error_code = %s")
        params.append(error_code)
    condition = " AND ".join(conditions)

    def statement() -> _Sql:
        sql = _Sql()
        _families_with(sql, scope, filters)
        _delivery_events(sql, scope, period, filters)
        return sql

    families = "JOIN families f ON f.guardian_id = e.guardian_id"
    total = int(
        statement()
        .add(f"SELECT COUNT(*) FROM events e {families} WHERE {condition}", *params)
        .rows()[0][0]
    )
    if total == 0 or offset >= total:
        return total, []
    t = _tables()
    listing = statement().add(
        f"""SELECT d.id, d.created_at, g.given_name, g.family_name, e.channel, d.address, e.status,
  d.error_code, d.error_reason, t.id, t.subject
FROM events e {families}
JOIN {t["delivery"]} d ON d.id = e.id
JOIN {t["guardian"]} g ON g.id = e.guardian_id
JOIN {t["thread"]} t ON t.id = e.thread_id
WHERE {condition}
ORDER BY d.created_at DESC, d.id DESC""",
        *params,
    )
    if limit is not None:
        listing.add("LIMIT %s OFFSET %s", limit, offset)
    return total, [
        DeliveryRow(
            delivery_id=row[0],
            created_at=_read_moment(row[1]),
            family=f"{row[2]} {row[3]}",
            channel=row[4],
            address=row[5] or "",
            status=row[6],
            error_code=row[7] or "",
            error_reason=row[8] or "",
            thread_id=row[9],
            subject=row[10],
        )
        for row in listing.rows()
    ]


# ---- Opt-outs and opt-ins ----------------------------------------------------------------------


def _consent_changes_with(
    sql: _Sql, scope: ReportScope, period: Period, filters: ReportFilters
) -> None:
    """Appends the CTE `changes`: STOP and START of the families' numbers in the period, one row
    per change and family with that number."""
    t = _tables()
    schools, school_ids = _placeholders(scope.school_ids)
    sql.add(
        f""",
changes AS (
  SELECT cc.id, cc.action, cc.source, cc.keyword, cc.created_at, c.phone, g.id AS guardian_id
  FROM {t["consent_change"]} cc
  JOIN {t["consent"]} c ON c.id = cc.consent_id
  JOIN {t["guardian"]} g ON g.phone = c.phone
  JOIN families f ON f.guardian_id = g.id
  WHERE c.school_id IN {schools} AND cc.created_at >= %s AND cc.created_at < %s
    AND cc.action IN ('opt_out', 'opt_in')""",
        *school_ids,
        _at(period.starts_at),
        _at(period.ends_at),
    )
    if filters.channel not in ("", "sms"):
        sql.add("AND 1 = 0")  # only texts have consent
    sql.add(")")


def consent_figures(
    scope: ReportScope, period: Period, filters: ReportFilters
) -> tuple[Breakdown, list[ConsentWeek]]:
    """Numbers that texted STOP (or that the provider reported as stopped) and START in the
    period, per slice and per week: one query."""
    sql = _Sql()
    _families_with(sql, scope, filters)
    _consent_changes_with(sql, scope, period, filters)
    week, week_params = connection.ops.datetime_trunc_sql(
        "week", "ch.created_at", (), period.time_zone
    )
    counts = (
        "COUNT(DISTINCT CASE WHEN ch.action = 'opt_out' THEN ch.id END), "
        "COUNT(DISTINCT CASE WHEN ch.action = 'opt_in' THEN ch.id END)"
    )
    sql.add(
        f"""SELECT sl.dimension, sl.slice, {counts}
FROM changes ch JOIN slices sl ON sl.guardian_id = ch.guardian_id
GROUP BY sl.dimension, sl.slice
UNION ALL
SELECT 'channel', 'sms', {counts} FROM changes ch
UNION ALL
SELECT 'week', CAST({week} AS TEXT), {counts} FROM changes ch GROUP BY 2""",
        *week_params,
    )
    breakdown = Breakdown(CONSENT_COLUMNS)
    weeks = []
    for dimension, key, opt_outs, opt_ins in sql.rows():
        if dimension == "week":
            week_of = datetime.date.fromisoformat(str(key)[:10])
            weeks.append(ConsentWeek(week_of, int(opt_outs), int(opt_ins)))
        else:
            breakdown.rows[(dimension, str(key))] = _numbers(CONSENT_COLUMNS, (opt_outs, opt_ins))
    return breakdown, _every_week(period, weeks)


def _every_week(period: Period, weeks: list[ConsentWeek]) -> list[ConsentWeek]:
    """Each week of the period in order, with zeros for weeks without a change."""
    found = {week.week_of: week for week in weeks}
    monday = period.starts_on - datetime.timedelta(days=period.starts_on.weekday())
    every = []
    while monday <= period.ends_on:
        every.append(found.get(monday) or ConsentWeek(monday, 0, 0))
        monday += datetime.timedelta(days=7)
    return every


@dataclass
class ConsentRow:
    created_at: datetime.datetime
    action: str
    source: str
    keyword: str
    phone: str
    families: str


@_jit_free
def consent_list(
    scope: ReportScope,
    period: Period,
    filters: ReportFilters,
    *,
    action: str = "",
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[int, list[ConsentRow]]:
    """The STOP and START behind the consent figures, newest first: two queries."""
    condition, params = ("ch.action = %s", [action]) if action else ("1 = 1", [])

    def statement() -> _Sql:
        sql = _Sql()
        _families_with(sql, scope, filters)
        _consent_changes_with(sql, scope, period, filters)
        return sql

    counting = statement().add(
        f"SELECT COUNT(DISTINCT ch.id) FROM changes ch WHERE {condition}", *params
    )
    total = int(counting.rows()[0][0])
    if total == 0 or offset >= total:
        return total, []
    listing = statement().add(
        f"""SELECT ch.id, ch.created_at, ch.action, ch.source, ch.keyword, ch.phone,
  g.given_name, g.family_name
FROM changes ch JOIN {_tables()["guardian"]} g ON g.id = ch.guardian_id
WHERE ch.id IN (
  SELECT page.id FROM changes page WHERE {condition.replace("ch.", "page.")}
  GROUP BY page.id, page.created_at ORDER BY page.created_at DESC, page.id DESC""",
        *params,
    )
    if limit is not None:
        listing.add("LIMIT %s OFFSET %s", limit, offset)
    listing.add(") ORDER BY ch.created_at DESC, ch.id DESC, g.family_name, g.given_name")
    rows: dict[int, ConsentRow] = {}
    for change_id, created_at, action_, source, keyword, phone, given, family in listing.rows():
        row = rows.get(change_id)
        if row is None:
            rows[change_id] = ConsentRow(
                _read_moment(created_at), action_, source, keyword or "", phone, f"{given} {family}"
            )
        else:
            row.families += f", {given} {family}"
    return total, list(rows.values())


# ---- Surveys -----------------------------------------------------------------------------------


def survey_figures(scope: ReportScope, period: Period, filters: ReportFilters) -> Breakdown:
    """Families invited to surveys in the period, those who completed within a day of their
    invitation and those who completed at all, per survey and per slice: one query. An anonymous
    survey's invitation records only that the family completed it, which is all this counts."""
    t = _tables()
    sql = _Sql()
    _families_with(sql, scope, filters)
    schools, school_ids = _placeholders(scope.school_ids)
    sql.add(
        f""",
events AS (
  SELECT i.guardian_id, i.survey_id, CASE i.channel WHEN 'web' THEN 'portal' ELSE i.channel END
      AS channel,
    CASE WHEN i.completed_at IS NOT NULL
      AND {_seconds_between("i.invited_at", "i.completed_at")} <= {FIRST_DAY_SECONDS}
      THEN 1 ELSE 0 END AS first_day,
    CASE WHEN i.completed_at IS NOT NULL THEN 1 ELSE 0 END AS completed
  FROM {t["invitation"]} i JOIN {t["survey"]} s ON s.id = i.survey_id
  WHERE s.school_id IN {schools} AND i.invited_at >= %s AND i.invited_at < %s
    AND i.guardian_id IN (SELECT guardian_id FROM families)""",
        *school_ids,
        _at(period.starts_at),
        _at(period.ends_at),
    )
    if filters.channel:
        sql.add(
            "AND CASE i.channel WHEN 'web' THEN 'portal' ELSE i.channel END = %s", filters.channel
        )
    sql.add(
        """)
SELECT sl.dimension, sl.slice, COUNT(*), SUM(e.first_day), SUM(e.completed)
FROM events e JOIN slices sl ON sl.guardian_id = e.guardian_id
GROUP BY sl.dimension, sl.slice
UNION ALL
SELECT 'survey', CAST(e.survey_id AS TEXT), COUNT(*), SUM(e.first_day), SUM(e.completed)
FROM events e GROUP BY e.survey_id
UNION ALL
SELECT 'channel', e.channel, COUNT(*), SUM(e.first_day), SUM(e.completed)
FROM events e GROUP BY e.channel"""
    )
    return _breakdown(SURVEY_COLUMNS, sql.rows())


# ---- Help requests -----------------------------------------------------------------------------


def support_figures(scope: ReportScope, period: Period) -> Breakdown:
    """Help requests opened in the period, by service: how many, how many a counselor answered
    and how fast (to their first message in the request's thread), how many are closed, and the
    families' answers to "did you get the help?". Counts and times only, never who or what: one
    query. Not narrowed by the family filters, so that a small group never points at a family."""
    t = _tables()
    sql = _Sql()
    schools, school_ids = _placeholders(scope.school_ids)
    seconds = _seconds_between("r.created_at", "r.answered_at")
    sql.add(
        f"""WITH requests AS (
  SELECT hr.service_id, hr.status, hr.follow_up_answer, hr.created_at, (
    SELECT MIN(m.created_at) FROM {t["message"]} m
    WHERE m.thread_id = hr.thread_id AND m.author_staff_id IS NOT NULL AND NOT m.is_internal
      AND m.event = '' AND m.created_at >= hr.created_at
  ) AS answered_at
  FROM {t["help_request"]} hr JOIN {t["thread"]} t ON t.id = hr.thread_id
  WHERE t.school_id IN {schools} AND hr.created_at >= %s AND hr.created_at < %s""",
        *school_ids,
        _at(period.starts_at),
        _at(period.ends_at),
    )
    if scope.counselor_id:
        sql.add(
            f"""AND hr.service_id IN (
    SELECT s.id FROM {t["service"]} s WHERE s.owner_id = %s
    UNION SELECT sc.supportservice_id FROM {t["service_counselors"]} sc WHERE sc.staff_id = %s
  )""",
            scope.counselor_id,
            scope.counselor_id,
        )
    sql.add(
        f"""),
timed AS (
  SELECT r.service_id, r.status, r.follow_up_answer,
    CASE WHEN r.answered_at IS NULL THEN NULL ELSE {seconds} END AS seconds
  FROM requests r
),
keyed AS (
  SELECT slice_no, seconds,
    CASE WHEN status = 'closed' THEN 1 ELSE 0 END AS closed,
    CASE WHEN follow_up_answer = 'yes' THEN 1 ELSE 0 END AS follow_up_yes,
    CASE WHEN follow_up_answer = 'no' THEN 1 ELSE 0 END AS follow_up_no
  FROM (
    SELECT service_id AS slice_no, seconds, status, follow_up_answer FROM timed
    UNION ALL
    SELECT 0, seconds, status, follow_up_answer FROM timed
  ) both_levels
)"""
    )
    _percentiles(
        sql,
        names="SELECT DISTINCT service_id AS slice_no, 'service' AS dimension, "
        "CAST(service_id AS TEXT) AS slice FROM timed UNION ALL SELECT 0, 'all', ''",
        extra=("closed", "follow_up_yes", "follow_up_no"),
    )
    breakdown = Breakdown(SUPPORT_COLUMNS)
    for dimension, key, total, answered, closed, yes, no, median, p90 in sql.rows():
        breakdown.rows[(dimension, str(key))] = _numbers(
            SUPPORT_COLUMNS, (total, answered, median, p90, closed, yes, no)
        )
    return breakdown


# ---- The whole report --------------------------------------------------------------------------


def _names(scope: ReportScope, report: EngagementReport) -> dict[tuple[str, str], str]:
    """Names of the schools, sections, teachers, surveys and services the slices point at
    (a query each, only for what the report shows)."""
    names: dict[tuple[str, str], str] = {}
    for pk, name in School.objects.filter(pk__in=scope.school_ids).values_list("pk", "name"):
        names[("school", str(pk))] = name
    if scope.shows_families:
        for pk, name in Section.objects.filter(school_id__in=scope.school_ids).values_list(
            "pk", "name"
        ):
            names[("section", str(pk))] = name
        teacher_ids = [int(key) for key, _figures in report.reach.slices("teacher")]
        for staff in Staff.objects.filter(pk__in=teacher_ids).only("given_name", "family_name"):
            names[("teacher", str(staff.pk))] = str(staff)
        survey_ids = [int(key) for key, _figures in report.surveys.slices("survey")]
        for survey in Survey.objects.filter(pk__in=survey_ids).only("title", "is_anonymous"):
            names[("survey", str(survey.pk))] = survey.title
            if survey.is_anonymous:
                report.survey_anonymous.add(str(survey.pk))
    if scope.shows_supports:
        service_ids = [int(key) for key, _figures in report.supports.slices("service")]
        for service in SupportService.objects.filter(pk__in=service_ids):
            names[("service", str(service.pk))] = service.title
    return names


@_jit_free
def engagement_report(
    scope: ReportScope,
    period: Period,
    filters: ReportFilters | None = None,
    *,
    at: datetime.datetime | None = None,
) -> EngagementReport:
    """Every figure the scope may see, for the period, in a constant number of queries whatever
    the data: one per figure group (four for the threads waiting now), and one each to name the
    schools, sections, teachers, surveys and services the slices point at."""
    filters = filters or ReportFilters()
    report = EngagementReport(
        scope=scope, period=period, filters=filters, generated_at=at or timezone.now()
    )
    if scope.shows_families:
        report.reach = reach_figures(scope, period, filters, at=report.generated_at)
        report.engagement = engagement_figures(scope, period, filters)
        report.answers = answer_figures(scope, period, filters)
        report.waiting, _threads = waiting_threads(scope, filters, at=report.generated_at)
        report.deliveries = delivery_figures(scope, period, filters)
        report.delivery_errors = delivery_errors(scope, period, filters)
        report.consent, report.consent_weeks = consent_figures(scope, period, filters)
        report.surveys = survey_figures(scope, period, filters)
    if scope.shows_supports:
        report.supports = support_figures(scope, period)
    report.names = _names(scope, report)
    return report


@dataclass
class LanguageGap:
    """One home language beside English: the equity gap, in plain numbers."""

    language: str
    families: int
    works_share: float | None  # of the language's families, 0..1
    reached_share: float | None
    wrote_share: float | None
    median_seconds: float | None
    p90_seconds: float | None
    reached_gap: float | None  # reached share minus English families' (percentage points / 100)
    median_gap_seconds: float | None  # median wait minus English families' median wait


def _share(part, whole) -> float | None:
    return None if not whole else part / whole


def language_gaps(report: EngagementReport, *, baseline: str = "en") -> list[LanguageGap]:
    """Families by home language: reach, families who wrote and answer times, each beside
    English-speaking families' (computed from the report's figures, no query)."""
    if report.reach is None:
        return []
    rows = []
    base_reach = report.reach.get("language", baseline)
    base_answers = report.answers.get("language", baseline)
    base_reached = _share(base_reach["reached"], base_reach["families"])
    base_median = base_answers["median_seconds"]
    for language, reach in sorted(
        report.reach.slices("language"), key=lambda row: (row[0] != baseline, row[0])
    ):
        answers = report.answers.get("language", language)
        engagement = report.engagement.get("language", language)
        reached = _share(reach["reached"], reach["families"])
        median = answers["median_seconds"]
        rows.append(
            LanguageGap(
                language=language,
                families=reach["families"],
                works_share=_share(reach["works"], reach["families"]),
                reached_share=reached,
                wrote_share=_share(engagement["families_wrote"], reach["families"]),
                median_seconds=median,
                p90_seconds=answers["p90_seconds"],
                reached_gap=None
                if reached is None or base_reached is None or language == baseline
                else reached - base_reached,
                median_gap_seconds=None
                if median is None or base_median is None or language == baseline
                else median - base_median,
            )
        )
    return rows
