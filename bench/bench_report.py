"""The engagement report of a whole school year on PostgreSQL: 1,000,000 deliveries and 200,000
messages from families, against one plain count over the deliveries table.

Prints `report.seconds` (median time to compute the whole report of an admin, every figure group
and every slice, over the school year, after a warm-up), `report.count_seconds` (median time of
`SELECT count(*) FROM messaging_delivery`), `report.ratio_to_count`, and `report.queries` (SQL
queries the report ran).

The school year is written once by INSERT ... SELECT over generate_series (the people, the
surveys and the help requests by bulk_create) and reused while it is in the database: another
benchmark that empties the tables makes the next run write it again (about a minute).
"""

from __future__ import annotations

import datetime
import statistics
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg2 import sql

from messaging.models import ConsentChange, Delivery, Message, Participant, SmsConsent, Thread
from portal import models, reports
from supports.models import HelpRequest, SupportCategory, SupportService
from surveys.models import Invitation, Survey

SCHOOL_NAME = "Bench Report High"
TIME_ZONE = "America/New_York"
YEAR_STARTS = datetime.date(2025, 9, 1)
YEAR_ENDS = datetime.date(2026, 6, 30)
DELIVERIES = 1_000_000
FAMILY_MESSAGES = 200_000
THREADS = 20_000  # ten messages from the family in each
GUARDIANS = 5_000
STUDENTS = 3_000
SECTIONS = 150
TEACHERS = 60
ANNOUNCEMENTS = 250
LANGUAGES = ["en", "es", "en", "vi", "en", "ar", "en", "zh-hans", "es", "so"]
RUNS = 3
BATCH = 5_000


def run() -> None:
    admin = _school_year()
    scope = reports.report_scope(admin)
    period = reports.Period(YEAR_STARTS, YEAR_ENDS, TIME_ZONE)
    reports.engagement_report(scope, period)  # warm-up
    timings = []
    for _run in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            report = reports.engagement_report(scope, period)
            timings.append(time.perf_counter() - started)
    assert report.deliveries.total["deliveries"] == DELIVERIES, report.deliveries.total
    assert report.engagement.total["messages_from_families"] == FAMILY_MESSAGES
    counts = []
    with connection.cursor() as cursor:
        for _run in range(RUNS + 2):
            started = time.perf_counter()
            cursor.execute("SELECT count(*) FROM messaging_delivery")
            assert cursor.fetchone()[0] >= DELIVERIES
            counts.append(time.perf_counter() - started)
    seconds, count_seconds = statistics.median(timings), statistics.median(counts[1:])
    print(f"report.seconds: {seconds:.3f}")
    print(f"report.count_seconds: {count_seconds:.4f}")
    print(f"report.ratio_to_count: {seconds / count_seconds:.1f}")
    print(f"report.queries: {len(queries)}")


# ---- The school year ---------------------------------------------------------------------------


def _school_year() -> models.User:
    """The admin of the benchmark's school, its year written first when it is not there."""
    school = models.School.objects.filter(name=SCHOOL_NAME).first()
    if school is not None:
        deliveries = Delivery.objects.filter(message__thread__school=school).count()
        family = Message.objects.filter(
            thread__school=school, thread__kind="direct", author_guardian__isnull=False
        ).count()
        if deliveries == DELIVERIES and family == FAMILY_MESSAGES:
            return models.User.objects.get(username="bench-report-admin")
    _tables_truncate()
    started = time.perf_counter()
    admin = _school_year_write()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"(wrote the school year in {time.perf_counter() - started:.0f} s)")
    return admin


def _tables_truncate() -> None:
    tables = sql.SQL(", ").join(
        sql.Identifier(model._meta.db_table)
        for model in (models.School, models.District, models.Staff, models.Guardian,
                      models.User, SupportCategory)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables).as_string(cursor.cursor))


def _school_year_write() -> models.User:
    district = models.District.objects.create(name="Bench District")
    school = models.School.objects.create(
        name=SCHOOL_NAME, district=district, timezone=TIME_ZONE, answer_target_hours=16
    )
    user = models.User.objects.create_user(
        username="bench-report-admin", email="admin@report.bench.example"
    )
    admin = models.Staff.objects.create(given_name="Bench", family_name="Admin", user=user)
    models.StaffMembership.objects.create(staff=admin, school=school, role="admin")
    teachers = models.Staff.objects.bulk_create(
        [models.Staff(given_name="Teacher", family_name=f"T{n:02d}") for n in range(TEACHERS)]
    )
    models.StaffMembership.objects.bulk_create(
        [models.StaffMembership(staff=t, school=school, role="teacher") for t in teachers]
    )
    sections = models.Section.objects.bulk_create(
        [models.Section(school=school, name=f"Room {n}", grade=str(9 + n % 4))
         for n in range(SECTIONS)]
    )  # fmt: skip
    models.SectionStaff.objects.bulk_create(
        [
            models.SectionStaff(section=s, staff=teachers[n % TEACHERS])
            for n, s in enumerate(sections)
        ]
    )
    students = models.Student.objects.bulk_create(
        [models.Student(school=school, given_name=f"S{n}", family_name="Student",
                        grade=str(9 + n % 4)) for n in range(STUDENTS)],
        batch_size=BATCH,
    )  # fmt: skip
    models.Enrollment.objects.bulk_create(
        [models.Enrollment(section=sections[(n + j * 30) % SECTIONS], student=student)
         for n, student in enumerate(students) for j in range(5)],
        batch_size=BATCH,
    )  # fmt: skip
    users = models.User.objects.bulk_create(
        [models.User(username=f"bench-family-{n}", email=f"f{n}@report.bench.example")
         for n in range(GUARDIANS) if n % 10 == 9],
        batch_size=BATCH,
    )  # fmt: skip
    portal_users = iter(users)
    guardians = models.Guardian.objects.bulk_create(
        [
            models.Guardian(
                given_name=f"G{n}",
                family_name="Family",
                phone="" if n % 10 == 9 else f"+1617{n:07d}",
                email=f"g{n}@report.bench.example" if n % 3 == 0 or n % 10 == 9 else "",
                preferred_language=LANGUAGES[n % len(LANGUAGES)],
                user=next(portal_users) if n % 10 == 9 else None,
            )
            for n in range(GUARDIANS)
        ],
        batch_size=BATCH,
    )
    links = [
        models.GuardianLink(
            guardian=guardian, student=students[n % STUDENTS], is_primary_contact=n < STUDENTS
        )
        for n, guardian in enumerate(guardians)
    ]
    links += [  # a second child for a thousand families; a few no-contact orders among them
        models.GuardianLink(
            guardian=guardians[n],
            student=students[(n + 1500) % STUDENTS],
            may_receive_messages=n % 97 != 0,
        )
        for n in range(1000)
    ]
    models.GuardianLink.objects.bulk_create(links, batch_size=BATCH)
    _conversations_write(
        school=school,
        admin=admin,
        guardian_ids=[g.pk for g in guardians],
        student_ids=[students[n % STUDENTS].pk for n in range(GUARDIANS)],
        teacher_ids=[teachers[(n % STUDENTS % SECTIONS) % TEACHERS].pk for n in range(GUARDIANS)],
    )
    _consent_write(school, guardians)
    _surveys_write(school, admin, guardians)
    _help_requests_write(school, admin, guardians)
    return user


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT COALESCE(max(id), 0) + 1 FROM {}")
            .format(sql.Identifier(model._meta.db_table))
            .as_string(cursor.cursor)
        )
        return cursor.fetchone()[0]


def _sequence_reset(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "
        + connection.ops.quote_name(table)
        + "))",
        [table],
    )


def _conversations_write(*, school, admin, guardian_ids, student_ids, teacher_ids) -> None:
    """Threads, their participants, messages and deliveries, by INSERT ... SELECT.

    Thread t is family g = t mod 5,000 with the teacher of their child's first class; its
    family writes ten messages two days apart (seven in ten by text), and a teacher answers
    most of them, 10 minutes to 47 hours later. Threads t = 3 (mod 100) wait for an answer now.
    250 announcements go to 3,380-odd families each, so that deliveries come to 1,000,000."""
    thread0, participant0 = _next_id(Thread), _next_id(Participant)
    message0, delivery0 = _next_id(Message), _next_id(Delivery)
    params = {
        "school": school.pk,
        "admin": admin.pk,
        "guardians": guardian_ids,
        "teachers": teacher_ids,
        "students": student_ids,
        "languages": LANGUAGES,
        "t0": thread0,
        "p0": participant0,
        "m0": message0,
        "d0": delivery0,
        "threads": THREADS,
        "families": len(guardian_ids),
        "announcements": ANNOUNCEMENTS,
        "year": datetime.datetime.combine(YEAR_STARTS, datetime.time(13), tzinfo=datetime.UTC),
    }

    def asked_at(k: str) -> str:  # when family t wrote its message k
        return (
            f"%(year)s::timestamptz + make_interval(days => (t * 37) %% 270 + 2 * {k}, "
            f"hours => (t + {k}) %% 7)"
        )

    asked = asked_at("k")
    answered = "CASE WHEN k = 9 THEN t %% 100 <> 3 ELSE (t + k) %% 4 <> 0 END"
    delay = "make_interval(mins => (t * 13 + k * 7) %% 2820 + 10)"
    guardian = "(%(guardians)s::bigint[])[t %% %(families)s + 1]"
    statements = [
        # Conversations, and the announcements' threads.
        f"""INSERT INTO messaging_thread (id, subject, kind, created_at, last_message_at,
            waiting_since, is_archived, school_id, student_id, owner_id)
        SELECT %(t0)s + t, 'Conversation ' || t, 'direct', {asked_at("0")}, {asked_at("9")},
          CASE WHEN t %% 100 = 3 THEN {asked_at("9")} END, false, %(school)s,
          (%(students)s::bigint[])[t %% %(families)s + 1],
          (%(teachers)s::bigint[])[t %% %(families)s + 1]
        FROM generate_series(0, %(threads)s - 1) t""",
        """INSERT INTO messaging_thread (id, subject, kind, created_at, last_message_at,
            is_archived, school_id, owner_id)
        SELECT %(t0)s + %(threads)s + b, 'Announcement ' || b, 'broadcast',
          %(year)s::timestamptz + make_interval(hours => b * 26 + 3),
          %(year)s::timestamptz + make_interval(hours => b * 26 + 3), false, %(school)s, %(admin)s
        FROM generate_series(0, %(announcements)s - 1) b""",
        f"""INSERT INTO messaging_participant (id, is_muted, joined_at, guardian_id, staff_id,
            thread_id)
        SELECT %(p0)s + 2 * t, false, %(year)s, NULL,
          (%(teachers)s::bigint[])[t %% %(families)s + 1], %(t0)s + t
        FROM generate_series(0, %(threads)s - 1) t
        UNION ALL
        SELECT %(p0)s + 2 * t + 1, false, %(year)s, {guardian}, NULL, %(t0)s + t
        FROM generate_series(0, %(threads)s - 1) t
        UNION ALL
        SELECT %(p0)s + 2 * %(threads)s + b, false, %(year)s, NULL, %(admin)s,
          %(t0)s + %(threads)s + b
        FROM generate_series(0, %(announcements)s - 1) b""",
        # Ten messages from each family; most answered.
        f"""INSERT INTO messaging_message (id, body, language, channel, is_internal, event,
            created_at, author_guardian_id, author_staff_id, thread_id)
        SELECT %(m0)s + t * 20 + 2 * k, 'A question from home',
          (%(languages)s::text[])[t %% %(families)s %% 10 + 1],
          CASE WHEN (t + k) %% 10 < 7 THEN 'sms' WHEN (t + k) %% 10 < 9 THEN 'web' ELSE 'email'
          END, false, '', {asked}, {guardian}, NULL, %(t0)s + t
        FROM generate_series(0, %(threads)s - 1) t, generate_series(0, 9) k""",
        f"""INSERT INTO messaging_message (id, body, language, channel, is_internal, event,
            created_at, author_guardian_id, author_staff_id, thread_id)
        SELECT %(m0)s + t * 20 + 2 * k + 1, 'An answer from school', 'en', 'web', false, '',
          {asked} + {delay}, NULL, (%(teachers)s::bigint[])[t %% %(families)s + 1], %(t0)s + t
        FROM generate_series(0, %(threads)s - 1) t, generate_series(0, 9) k
        WHERE {answered}""",
        """INSERT INTO messaging_message (id, body, language, channel, is_internal, event,
            created_at, author_staff_id, thread_id)
        SELECT %(m0)s + 20 * %(threads)s + b, 'News from school', 'en', 'web', false, '',
          %(year)s::timestamptz + make_interval(hours => b * 26 + 3), %(admin)s,
          %(t0)s + %(threads)s + b
        FROM generate_series(0, %(announcements)s - 1) b""",
    ]
    # Each answer reaches its family; then announcements, until a million deliveries.
    delivery = """%(d0)s + {number}, {channel}, {address},
      {status}, false, 1, '', CASE WHEN {channel} = 'sms' THEN 1 + ({number}) %% 3 END,
      CASE WHEN {channel} = 'sms' THEN 'GSM-7' ELSE '' END, {code}, '',
      {at}, {at} + interval '1 minute', {at} + interval '2 minutes', {at}, {family}, {message}"""

    def one(number, family_index, message, at):
        channel = f"(CASE WHEN {family_index} %% 10 = 9 THEN 'email' ELSE 'sms' END)"
        address = (
            f"(CASE WHEN {family_index} %% 10 = 9 THEN 'g' || {family_index} || "
            f"'@report.bench.example' ELSE '+1617' || lpad(({family_index})::text, 7, '0') END)"
        )
        rank = f"((({number})::bigint * 7919) %% 100)"
        status = (
            f"(CASE WHEN {rank} < 78 THEN CASE WHEN {channel} = 'email' THEN 'sent' "
            f"ELSE 'delivered' END WHEN {rank} < 86 THEN 'sent' WHEN {rank} < 90 THEN 'failed' "
            f"WHEN {rank} < 93 THEN 'undelivered' WHEN {rank} < 95 THEN 'skipped' "
            f"ELSE 'queued' END)"
        )
        code = (
            f"(CASE WHEN {rank} >= 86 AND {rank} < 90 THEN CASE WHEN {channel} = 'email' "
            f"THEN 'email-refused' WHEN {rank} %% 2 = 0 THEN '21211' ELSE '30006' END "
            f"WHEN {rank} >= 90 AND {rank} < 93 THEN '30003' "
            f"WHEN {rank} >= 93 AND {rank} < 95 THEN 'opted-out' ELSE '' END)"
        )
        return delivery.format(
            number=number,
            channel=channel,
            address=address,
            status=status,
            code=code,
            at=at,
            family=f"(%(guardians)s::bigint[])[{family_index} + 1]",
            message=message,
        )

    columns = """INSERT INTO messaging_delivery (id, channel, address, status, is_urgent, attempts,
        provider_id, segments, encoding, error_code, error_reason, created_at, sent_at,
        delivered_at, updated_at, guardian_id, message_id)"""
    statements.append(
        f"""{columns}
        SELECT {
            one(
                "t * 20 + 2 * k + 1",
                "(t %% %(families)s)",
                "%(m0)s + t * 20 + 2 * k + 1",
                f"({asked} + {delay})",
            )
        }
        FROM generate_series(0, %(threads)s - 1) t, generate_series(0, 9) k
        WHERE {answered}"""
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
        cursor.execute("SELECT count(*) FROM messaging_delivery WHERE id >= %s", [delivery0])
        remaining = DELIVERIES - cursor.fetchone()[0]
        cursor.execute(
            f"""{columns}
            SELECT {
                one(
                    "%(threads)s * 20 + b * 5000 + g",
                    "g",
                    "%(m0)s + 20 * %(threads)s + b",
                    "(%(year)s::timestamptz + make_interval(hours => b * 26 + 3))",
                )
            }
            FROM generate_series(0, %(announcements)s - 1) b, generate_series(0, %(families)s - 1) g
            WHERE (g + b * 7) %% %(families)s < 3400
            ORDER BY b, g LIMIT %(remaining)s""",
            {**params, "remaining": remaining},
        )
        # Statuses that carry no time of sending or delivery lose theirs.
        cursor.execute(
            """UPDATE messaging_delivery SET
              sent_at = CASE WHEN status IN ('sent', 'delivered', 'undelivered') THEN sent_at END,
              delivered_at = CASE WHEN status = 'delivered' THEN delivered_at END
            WHERE id >= %s AND status NOT IN ('delivered')""",
            [delivery0],
        )
        for model in (Thread, Participant, Message, Delivery):
            _sequence_reset(cursor, model)


def _consent_write(school, guardians) -> None:
    """A hundred numbers texted STOP during the year; half of them START later."""
    start = datetime.datetime.combine(YEAR_STARTS, datetime.time(15), tzinfo=datetime.UTC)
    consents = SmsConsent.objects.bulk_create(
        [
            SmsConsent(school=school, phone=str(guardian.phone), is_opted_out=n % 2 == 0)
            for n, guardian in enumerate(g for g in guardians if g.phone and g.pk % 50 == 1)
        ]
    )
    changes = []
    for n, consent in enumerate(consents):
        changes.append(ConsentChange(consent=consent, action="opt_out", source="sms_keyword"))
        if n % 2:
            changes.append(ConsentChange(consent=consent, action="opt_in", source="sms_keyword"))
    ConsentChange.objects.bulk_create(changes)
    for n, change in enumerate(changes):
        change.created_at = start + datetime.timedelta(days=n % 280, hours=n % 5)
    ConsentChange.objects.bulk_update(changes, ["created_at"])


def _surveys_write(school, admin, guardians) -> None:
    """Ten surveys (every other one anonymous) to every family; six in ten complete them."""
    start = datetime.datetime.combine(YEAR_STARTS, datetime.time(14), tzinfo=datetime.UTC)
    surveys = [
        Survey.objects.create(
            school=school,
            created_by=admin,
            title=f"Survey {n}",
            audience="school",
            is_anonymous=n % 2 == 0,
            status="closed",
        )
        for n in range(10)
    ]
    invitations = []
    for n, survey in enumerate(surveys):
        invited_at = start + datetime.timedelta(days=25 * n)
        for m, guardian in enumerate(guardians):
            done = (m + n) % 10 < 6
            invitations.append(
                Invitation(
                    survey=survey,
                    guardian=guardian,
                    channel="sms" if guardian.phone else "web",
                    token=f"bench-{survey.pk}-{guardian.pk}",
                    status="completed" if done else "invited",
                    completed_at=invited_at + datetime.timedelta(hours=(m * 7) % 90)
                    if done
                    else None,
                )
            )
    Invitation.objects.bulk_create(invitations, batch_size=BATCH)
    for n, survey in enumerate(surveys):
        Invitation.objects.filter(survey=survey).update(
            invited_at=start + datetime.timedelta(days=25 * n)
        )


def _help_requests_write(school, admin, guardians) -> None:
    """Three hundred help requests to two services; most answered within two days."""
    category = SupportCategory.objects.create(name="Bench", position=99)
    services = [
        SupportService.objects.create(
            school=school, category=category, title=title, summary="Help", owner=admin,
            status="published",
        )
        for title in ("Food pantry", "Counseling")
    ]  # fmt: skip
    start = datetime.datetime.combine(YEAR_STARTS, datetime.time(16), tzinfo=datetime.UTC)
    threads = Thread.objects.bulk_create(
        [Thread(school=school, subject="Help", kind="help_request", owner=admin)
         for _n in range(300)]
    )  # fmt: skip
    requests, messages, times = [], [], []
    for n, thread in enumerate(threads):
        opened_at = start + datetime.timedelta(days=n % 280)
        guardian = guardians[(n * 17) % len(guardians)]
        requests.append(HelpRequest(service=services[n % 2], guardian=guardian, thread=thread))
        messages.append(Message(thread=thread, author_guardian=guardian, body="We need help"))
        times.append(opened_at)
        if n % 5:
            messages.append(Message(thread=thread, author_staff=admin, body="We can help"))
            times.append(opened_at + datetime.timedelta(hours=(n * 11) % 48, minutes=1))
    HelpRequest.objects.bulk_create(requests)
    Message.objects.bulk_create(messages)
    for n, request in enumerate(requests):
        request.created_at = start + datetime.timedelta(days=n % 280)
    HelpRequest.objects.bulk_update(requests, ["created_at"])
    for message, written_at in zip(messages, times, strict=True):
        message.created_at = written_at
    Message.objects.bulk_update(messages, ["created_at"], batch_size=BATCH)
