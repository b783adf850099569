"""Engagement report figures: a small school counted by hand (tests/portal/report_school.py)
checked figure by figure, and a generated school whose figures are counted again, independently,
from the raw tables."""

import datetime as dt
import random
import statistics
from collections import defaultdict

import pytest

from messaging.models import ConsentChange, Delivery, Message, Participant, SmsConsent, Thread
from portal import reports
from portal.models import Enrollment, Guardian, GuardianLink, SectionStaff
from supports.models import HelpRequest
from surveys.models import Invitation, Survey
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    SchoolFactory,
    SectionFactory,
    StaffFactory,
    StaffMembershipFactory,
    StudentFactory,
    SupportServiceFactory,
    UserFactory,
)
from tests.portal.report_school import NOW, PERIOD_END, PERIOD_START, maple_school

pytestmark = pytest.mark.django_db

HOUR = 3600


@pytest.fixture
def maple():
    return maple_school()


def period() -> reports.Period:
    return reports.Period(PERIOD_START, PERIOD_END, "America/Chicago")


def admin_report(maple, **filters) -> reports.EngagementReport:
    scope = reports.report_scope(maple.users["admin"])
    return reports.engagement_report(scope, period(), reports.ReportFilters(**filters), at=NOW)


def reach(families, works, sms, email, signs_in, reached, by_sms, by_email, by_portal, **why):
    worklist = why.pop("worklist")
    return {
        "families": families,
        "works": works,
        "sms_works": sms,
        "email_works": email,
        "signs_in": signs_in,
        "reached": reached,
        "reached_sms": by_sms,
        "reached_email": by_email,
        "reached_portal": by_portal,
        "worklist": worklist,
        **{reason: why.get(reason, 0) for reason in reports.REASONS},
    }


def test_reach_counts_working_channels_reached_families_and_the_worklist(maple):
    report = admin_report(maple)

    assert report.reach.total == reach(
        7, 4, 2, 1, 2, 5, 3, 1, 1,
        worklist=5, invalid_number=1, opted_out=1, bounced_email=1, no_channel=3,
        not_reached=2, no_two_way=3,
    )  # fmt: skip
    # Fern, Sol, Paz and Amal have children in grade 4 (Amal in both grades).
    assert report.reach.get("grade", "4") == reach(
        4, 2, 1, 1, 0, 3, 2, 1, 0,
        worklist=4, opted_out=1, bounced_email=1, no_channel=2, not_reached=1, no_two_way=2,
    )  # fmt: skip
    assert report.reach.get("teacher", str(maple.chen.pk)) == reach(
        4, 3, 2, 0, 2, 3, 2, 0, 1,
        worklist=2, invalid_number=1, bounced_email=1, no_channel=1, not_reached=1,
        no_two_way=1,
    )  # fmt: skip
    assert report.reach.get("language", "es") == reach(
        2, 0, 0, 0, 0, 1, 1, 0, 0,
        worklist=2, opted_out=1, no_channel=2, not_reached=1, no_two_way=1,
    )  # fmt: skip
    by_channel = {
        key: (row["works"], row["reached"]) for key, row in report.reach.slices("channel")
    }
    assert by_channel == {"sms": (2, 3), "email": (1, 1), "portal": (2, 1)}


def test_the_worklist_names_each_family_with_why_and_what_to_try_next(maple):
    scope = reports.report_scope(maple.users["admin"])
    total, rows = reports.families_list(scope, period(), reports.ReportFilters(), at=NOW)

    assert total == 5
    assert [(row.name, row.reasons, row.next_channel) for row in rows] == [
        ("Amal Family", ["bounced_email"], "call"),
        ("Fern Family", ["no_two_way"], "update_contact"),
        ("Ivo Family", ["invalid_number", "no_channel", "not_reached", "no_two_way"],
         "update_contact"),
        ("Paz Family", ["opted_out", "no_channel"], "call"),
        ("Sol Family", ["no_channel", "not_reached", "no_two_way"], "call"),
    ]  # fmt: skip
    assert [child.split()[0] for child in rows[0].children] == ["Ben", "Cai"]
    reached_only_by_email = reports.families_list(
        scope, period(), reports.ReportFilters(), show="reached_email", at=NOW
    )[1]
    assert [row.name for row in reached_only_by_email] == ["Fern Family"]
    assert reports.families_list(
        scope, period(), reports.ReportFilters(), show="no_two_way", offset=1, limit=1, at=NOW
    ) == (3, [rows[2]])


def test_engagement_counts_messages_both_ways(maple):
    report = admin_report(maple)

    assert report.engagement.total == {
        "families_wrote": 3,  # Paz, Vu, Amal (Nuur wrote after the period)
        "messages_from_families": 6,
        "messages_to_families": 15,  # per family; the skipped text to Paz is not one
    }
    assert dict(report.engagement.slices("channel")) == {
        "sms": {"families_wrote": 1, "messages_from_families": 3, "messages_to_families": 11},
        "email": {"families_wrote": 1, "messages_from_families": 1, "messages_to_families": 4},
        "portal": {"families_wrote": 1, "messages_from_families": 2, "messages_to_families": 2},
    }
    # A teacher's slice counts only the threads they take part in.
    assert report.engagement.get("teacher", str(maple.rivera.pk)) == {
        "families_wrote": 1,
        "messages_from_families": 3,
        "messages_to_families": 2,
    }
    assert report.engagement.get("teacher", str(maple.chen.pk)) == {
        "families_wrote": 2,
        "messages_from_families": 3,
        "messages_to_families": 2,
    }


def answers(waits, answered, median_hours, p90_hours):
    return {
        "waits": waits,
        "answered": answered,
        "unanswered": waits - answered,
        "median_seconds": None if median_hours is None else median_hours * HOUR,
        "p90_seconds": None if p90_hours is None else p90_hours * HOUR,
    }


def test_answer_times_count_the_weekend_and_the_change_of_clocks(maple):
    report = admin_report(maple)

    # 2 h, 21 h and 66 h (Friday 15:00 to Monday 10:00 across the change to summer time); the
    # two texts in a row are one wait; a wait begun before the period is left out.
    assert report.answers.total == answers(4, 3, 21, 57)
    assert report.answers.get("teacher", str(maple.rivera.pk)) == answers(2, 2, 11.5, 19.1)
    assert report.answers.get("teacher", str(maple.chen.pk)) == answers(2, 1, 66, 66)
    assert report.answers.get("channel", "email") == answers(1, 0, None, None)
    assert report.answers.get("language", "vi") == answers(1, 1, 66, 66)
    assert report.answers.get("grade", "4") == answers(3, 2, 11.5, 19.1)

    total, rows = reports.answers_list(
        reports.report_scope(maple.users["admin"]), period(), reports.ReportFilters()
    )
    assert total == 4
    assert [(row.family, row.seconds) for row in rows] == [
        ("Amal Family", None),
        ("Vu Family", 66 * HOUR),
        ("Paz Family", 21 * HOUR),
        ("Paz Family", 2 * HOUR),
    ]
    assert rows[1].thread_id == maple.thread_vu.pk


def test_threads_waiting_past_the_target_are_counted_in_school_hours(maple):
    report = admin_report(maple)

    assert report.waiting.total == {"waiting": 2, "past_target": 1}
    assert report.waiting.get("teacher", str(maple.chen.pk)) == {"waiting": 1, "past_target": 1}
    assert report.waiting.get("teacher", str(maple.rivera.pk)) == {"waiting": 0, "past_target": 0}
    scope = reports.report_scope(maple.users["admin"])
    _breakdown, threads = reports.waiting_threads(scope, reports.ReportFilters(), at=NOW)
    assert [(row.thread, round(row.school_hours), row.is_past_target) for row in threads] == [
        (maple.thread_amal, 18, True),
        (maple.thread_nuur, 3, False),
    ]


def test_deliveries_by_status_channel_and_error(maple):
    report = admin_report(maple)

    assert report.deliveries.total == {
        "deliveries": 19,
        "pending": 1,
        "sent": 3,
        "delivered": 10,
        "undelivered": 0,
        "failed": 4,
        "skipped": 1,
        "sms_segments": 14,  # delivered texts only: the failed ones were never billed
    }
    assert {key: row["deliveries"] for key, row in report.deliveries.slices("channel")} == {
        "sms": 13,
        "email": 4,
        "portal": 2,
    }
    assert report.deliveries.get("teacher", str(maple.rivera.pk))["deliveries"] == 2
    assert report.deliveries.get("teacher", str(maple.chen.pk))["pending"] == 1
    assert [
        (error.channel, error.error_code, error.status, error.deliveries)
        for error in report.delivery_errors
    ] == [
        ("email", "email-refused", "failed", 2),
        ("sms", "21211", "failed", 2),
        ("sms", "opted-out", "skipped", 1),
    ]


def test_opt_outs_and_opt_ins_by_week(maple):
    report = admin_report(maple)

    assert report.consent.total == {"opt_outs": 2, "opt_ins": 1}  # Ivo's were in February
    assert report.consent.get("language", "ar") == {"opt_outs": 1, "opt_ins": 1}
    assert [(week.week_of, week.opt_outs, week.opt_ins) for week in report.consent_weeks] == [
        (dt.date(2026, 3, 2), 1, 1),
        (dt.date(2026, 3, 9), 1, 0),
    ]
    scope = reports.report_scope(maple.users["admin"])
    total, rows = reports.consent_list(scope, period(), reports.ReportFilters())
    assert total == 3
    assert [(row.action, row.families) for row in rows] == [
        ("opt_out", "Paz Family"),
        ("opt_in", "Amal Family"),
        ("opt_out", "Amal Family"),
    ]


def test_survey_response_rates_on_the_first_day_and_overall(maple):
    report = admin_report(maple)

    assert report.surveys.total == {"invited": 5, "completed_first_day": 2, "completed": 3}
    anonymous = str(maple.anonymous_survey.pk)
    assert report.surveys.get("survey", anonymous) == {
        "invited": 4,
        "completed_first_day": 1,  # Vu, six hours after the invitation; Amal took two days
        "completed": 2,
    }
    assert report.surveys.get("survey", str(maple.named_survey.pk)) == {
        "invited": 1,
        "completed_first_day": 1,
        "completed": 1,
    }
    assert anonymous in report.survey_anonymous
    assert report.label("survey", anonymous) == "How are we doing?"


def test_help_requests_by_service_with_counts_and_times_only(maple):
    report = admin_report(maple)

    assert report.supports.total == {
        "requests": 3,
        "answered": 2,
        "median_seconds": 14 * HOUR,  # 4 h and 24 h
        "p90_seconds": 22 * HOUR,
        "closed": 1,
        "follow_up_yes": 1,
        "follow_up_no": 0,
    }
    assert report.supports.get("service", str(maple.food.pk))["median_seconds"] == 4 * HOUR
    # Help requests stay out of every other figure: Sol's note is no message from a family and
    # the answer texted to Vu is no delivery of the school's conversations.
    assert report.engagement.total["messages_from_families"] == 6
    assert report.deliveries.total["deliveries"] == 19

    counselor = reports.report_scope(maple.users["counselor"])
    assert (counselor.shows_families, counselor.shows_supports) == (False, True)
    mine = reports.engagement_report(counselor, period(), at=NOW)
    assert mine.reach is None
    assert mine.supports.total["requests"] == 2
    assert [key for key, _row in mine.supports.slices("service")] == [str(maple.food.pk)]


def test_a_teachers_own_report_is_their_row_in_the_admins(maple):
    mine = reports.engagement_report(reports.report_scope(maple.users["chen"]), period(), at=NOW)
    admins = admin_report(maple)
    chen = str(maple.chen.pk)

    for group in ("reach", "engagement", "answers", "waiting", "deliveries", "surveys"):
        assert getattr(mine, group).total == getattr(admins, group).get("teacher", chen), group
    assert [key for key, _row in mine.reach.slices("teacher")] == [chen]
    assert mine.supports is None
    # An admin may open the same view.
    opened = reports.report_scope(maple.users["admin"], teacher_id=maple.chen.pk)
    assert reports.engagement_report(opened, period(), at=NOW).answers.total == mine.answers.total


def test_filters_narrow_the_families_and_the_channel(maple):
    spanish = admin_report(maple, language="es")
    assert spanish.reach.total["families"] == 2
    assert spanish.engagement.total == {
        "families_wrote": 1,
        "messages_from_families": 3,
        "messages_to_families": 3,
    }
    assert spanish.answers.total == answers(2, 2, 11.5, 19.1)

    texts = admin_report(maple, channel="sms")
    assert (texts.reach.total["works"], texts.reach.total["reached"]) == (2, 3)
    assert texts.deliveries.total["deliveries"] == 13
    assert texts.answers.total == answers(2, 2, 11.5, 19.1)

    room4 = admin_report(maple, section_id=maple.room4.pk)
    assert room4.reach.total["families"] == 4
    assert room4.reach.total == admin_report(maple, grade="4").reach.total


def test_languages_side_by_side_with_english(maple):
    gaps = {gap.language: gap for gap in reports.language_gaps(admin_report(maple))}

    assert list(gaps) == ["en", "ar", "es", "so", "vi"]
    english, spanish = gaps["en"], gaps["es"]
    assert (english.families, english.reached_share, english.reached_gap) == (2, 0.5, None)
    assert (spanish.families, spanish.works_share, spanish.reached_share) == (2, 0.0, 0.5)
    assert spanish.reached_gap == 0.0
    assert gaps["so"].reached_gap == 0.5
    assert gaps["vi"].median_seconds == 66 * HOUR
    assert gaps["vi"].median_gap_seconds is None  # no English family waited for an answer


def test_who_may_see_which_report(maple, world):
    with pytest.raises(reports.ReportNotAllowed):
        reports.report_scope(world.users["parent"])
    with pytest.raises(reports.ReportNotAllowed):
        reports.report_scope(maple.users["rivera"], school_id=world.north.pk)
    with pytest.raises(reports.ReportNotAllowed):  # a teacher sees only their own figures
        reports.report_scope(maple.users["rivera"], teacher_id=maple.chen.pk)
    with pytest.raises(reports.ReportNotAllowed):  # not a teacher of this school
        reports.report_scope(maple.users["admin"], teacher_id=world.teacher.pk)
    district = reports.report_scope(
        world.users["district_admin"], district_id=world.north.district_id
    )
    assert district.school_ids == (world.north.pk,)
    with pytest.raises(reports.ReportNotAllowed):
        reports.report_scope(world.users["school_admin"], district_id=world.north.district_id)


# ---- Percentiles -------------------------------------------------------------------------------


def test_percentiles_interpolate_as_percentile_cont(world):
    """Ten waits of known length, every one answered: the report's median and 90th percentile
    are those of Python's statistics module (inclusive method, as PostgreSQL's
    percentile_cont)."""
    teacher, parent = world.teacher, world.parent
    seconds = [60, 600, 3600, 7200, 7300, 20000, 86400, 90000, 200000, 500000]
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    made = Thread.objects.create(school=world.north, subject="Many", student=world.ana)
    Participant.objects.create(thread=made, staff=teacher)
    Participant.objects.create(thread=made, guardian=parent)
    when = start
    for wait in seconds:
        asked = Message.objects.create(thread=made, author_guardian=parent, body="?")
        answered = Message.objects.create(thread=made, author_staff=teacher, body="!")
        Message.objects.filter(pk=asked.pk).update(created_at=when)
        Message.objects.filter(pk=answered.pk).update(created_at=when + dt.timedelta(seconds=wait))
        when += dt.timedelta(seconds=wait + 10)
    scope = reports.report_scope(world.users["school_admin"])
    figures = reports.answer_figures(
        scope, reports.Period(dt.date(2026, 1, 1), dt.date(2026, 2, 28)), reports.ReportFilters()
    ).total
    cuts = statistics.quantiles(seconds, n=10, method="inclusive")
    assert figures["median_seconds"] == pytest.approx(statistics.median(seconds))
    assert figures["p90_seconds"] == pytest.approx(cuts[8])


# ---- A generated school, counted again from the raw tables -------------------------------------

DAY = dt.timedelta(days=1)


def _generated_school(seed: int = 7):
    """Three sections, forty families in six languages, and two months of conversations,
    announcements, deliveries of every status, consent changes and survey invitations, made at
    random (with a fixed seed)."""
    rng = random.Random(seed)
    school = SchoolFactory(name="Generated", timezone="UTC")
    admin = StaffFactory(user=UserFactory())
    StaffMembershipFactory(staff=admin, school=school, role="admin")
    teachers, sections = [], []
    for number in range(3):
        teacher = StaffFactory()
        StaffMembershipFactory(staff=teacher, school=school, role="teacher")
        section = SectionFactory(school=school, name=f"Room {number}", grade=str(3 + number))
        section.staff.add(teacher)
        teachers.append(teacher)
        sections.append(section)
    students = []
    for number in range(30):
        student = StudentFactory(school=school, grade=str(3 + number % 3))
        sections[number % 3].students.add(student)
        if number % 7 == 0:
            sections[(number + 1) % 3].students.add(student)
        students.append(student)
    guardians = []
    for number in range(40):
        contact = rng.choice(["both", "sms", "email", "portal", "sms_off"])
        guardian = GuardianFactory(
            preferred_language=rng.choice(["en", "es", "vi", "ar", "zh-hans", "so"]),
            phone="" if contact in ("email", "portal") else f"+1617555{number:04d}",
            email="" if contact in ("sms", "portal", "sms_off") else f"g{number}@example.org",
            wants_sms=contact != "sms_off",
            user=UserFactory() if contact == "portal" or rng.random() < 0.2 else None,
        )
        for student in rng.sample(students, rng.choice([1, 1, 2])):
            GuardianLinkFactory(
                guardian=guardian, student=student, may_receive_messages=rng.random() > 0.05
            )
        guardians.append(guardian)
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    for number in range(60):  # conversations
        guardian = rng.choice(guardians)
        teacher = rng.choice(teachers)
        made = Thread.objects.create(
            school=school, subject=f"Thread {number}", owner=teacher, student=students[0]
        )
        Participant.objects.create(thread=made, staff=teacher)
        Participant.objects.create(thread=made, guardian=guardian)
        when = start + rng.random() * 55 * DAY
        for _turn in range(rng.randint(1, 6)):
            from_family = rng.random() < 0.6
            written = Message.objects.create(
                thread=made,
                author_guardian=guardian if from_family else None,
                author_staff=None if from_family else teacher,
                body="words",
                channel=rng.choice(["web", "sms", "email"]) if from_family else "web",
                is_internal=not from_family and rng.random() < 0.15,
            )
            Message.objects.filter(pk=written.pk).update(created_at=when)
            if not from_family and not written.is_internal:
                _generated_delivery(rng, written, guardian, when)
            when += dt.timedelta(minutes=rng.randint(5, 4000))
        if rng.random() < 0.3:
            Thread.objects.filter(pk=made.pk).update(waiting_since=when)
    for number in range(4):  # announcements
        made = Thread.objects.create(school=school, subject=f"News {number}", kind="broadcast")
        Participant.objects.create(thread=made, staff=admin)
        when = start + rng.random() * 55 * DAY
        written = Message.objects.create(thread=made, author_staff=admin, body="news")
        Message.objects.filter(pk=written.pk).update(created_at=when)
        for guardian in rng.sample(guardians, 25):
            _generated_delivery(rng, written, guardian, when)
    for guardian in rng.sample([g for g in guardians if g.phone], 8):
        row = SmsConsent.objects.create(school=school, phone=str(guardian.phone))
        for action in rng.sample(["opt_out", "opt_in", "opt_out"], rng.randint(1, 3)):
            change = ConsentChange.objects.create(consent=row, action=action, source="staff")
            ConsentChange.objects.filter(pk=change.pk).update(
                created_at=start + rng.random() * 60 * DAY
            )
            row.is_opted_out = action == "opt_out"
        row.save()
    survey = Survey.objects.create(school=school, title="Generated", audience="school")
    for guardian in rng.sample(guardians, 20):
        invited_at = start + rng.random() * 50 * DAY
        done = rng.random() < 0.6
        invitation = Invitation.objects.create(
            survey=survey,
            guardian=guardian,
            channel=rng.choice(["sms", "web"]),
            token=f"t{guardian.pk}",
            status="completed" if done else "invited",
            completed_at=invited_at + rng.random() * 3 * DAY if done else None,
        )
        Invitation.objects.filter(pk=invitation.pk).update(invited_at=invited_at)
    service = SupportServiceFactory(school=school, owner=admin)
    for number in range(5):
        made = Thread.objects.create(school=school, subject="Help", kind="help_request")
        opened_at = start + rng.random() * 50 * DAY
        HelpRequest.objects.filter(
            pk=HelpRequest.objects.create(
                service=service, guardian=guardians[number], thread=made
            ).pk
        ).update(created_at=opened_at)
        if number % 2:
            answer = Message.objects.create(thread=made, author_staff=admin, body="yes")
            Message.objects.filter(pk=answer.pk).update(
                created_at=opened_at + rng.random() * 2 * DAY
            )
    return school, admin, teachers


def _generated_delivery(rng, written, guardian, when):
    for channel in guardian.reachable_channels or (["in_app"] if guardian.user_id else []):
        status = rng.choice(
            ["sent", "delivered", "delivered", "delivered", "undelivered", "failed", "skipped"]
        )
        code = rng.choice(["", "21211", "30003", "email-refused"]) if status in (
            "failed", "undelivered", "skipped") else ""  # fmt: skip
        row = Delivery.objects.create(
            message=written,
            guardian=guardian,
            channel=channel,
            address={"sms": str(guardian.phone), "email": guardian.email}.get(channel, ""),
            status=status,
            error_code=code,
            segments=rng.randint(1, 3) if channel == "sms" else None,
        )
        Delivery.objects.filter(pk=row.pk).update(
            created_at=when,
            sent_at=when if status in ("sent", "delivered", "undelivered") else None,
            delivered_at=when + rng.random() * DAY if status == "delivered" else None,
        )


class RawCount:
    """The report's definitions, counted in Python from whole tables, row by row."""

    def __init__(self, school, period, now, teacher=None):
        self.school, self.teacher, self.now = school, teacher, now
        self.start, self.end = period.starts_at, period.ends_at
        links = [
            link
            for link in GuardianLink.objects.select_related("student", "guardian")
            if link.is_active
            and link.may_receive_messages
            and link.student.is_active
            and link.guardian.is_active
            and link.student.school_id == school.pk
        ]
        enrollments = defaultdict(set)
        for enrollment in Enrollment.objects.filter(is_active=True, section__is_active=True):
            enrollments[enrollment.student_id].add(enrollment.section_id)
        teaching = defaultdict(set)
        for link in SectionStaff.objects.filter(is_active=True):
            teaching[link.section_id].add(link.staff_id)
        self.slices = defaultdict(set)  # guardian -> {(dimension, key)}
        self.guardians = {}
        for link in links:
            sections = enrollments[link.student_id]
            if teacher is not None:
                sections = {s for s in sections if teacher.pk in teaching[s]}
                if not sections:
                    continue
            guardian = link.guardian
            self.guardians[guardian.pk] = guardian
            keys = self.slices[guardian.pk]
            keys |= {("all", ""), ("grade", link.student.grade)}
            keys.add(("language", guardian.preferred_language))
            for section in sections:
                keys.add(("section", str(section)))
                for staff_id in teaching[section]:
                    if teacher is None or staff_id == teacher.pk:
                        keys.add(("teacher", str(staff_id)))
        self.threads = {
            thread.pk: thread
            for thread in Thread.objects.filter(school=school).exclude(kind="help_request")
        }
        self.staff_in = defaultdict(set)
        for participant in Participant.objects.filter(staff__isnull=False):
            self.staff_in[participant.thread_id].add(participant.staff_id)
        if teacher is not None:
            self.scoped = {pk for pk in self.threads if teacher.pk in self.staff_in[pk]}
        else:
            self.scoped = set(self.threads)

    def in_period(self, moment):
        return moment is not None and self.start <= moment < self.end

    def keys_for(self, guardian_id, thread_id=None):
        keys = set()
        for dimension, key in self.slices.get(guardian_id, ()):
            takes_part = dimension != "teacher" or thread_id is None
            takes_part = takes_part or int(key) in self.staff_in[thread_id]
            if not takes_part:
                continue  # a teacher's slice counts the threads they take part in
            keys.add((dimension, key))
        return keys

    def reach(self):
        deliveries = list(Delivery.objects.select_related("message"))
        counts = defaultdict(lambda: defaultdict(int))
        for guardian in self.guardians.values():
            mine = [d for d in deliveries if d.guardian_id == guardian.pk]
            # The last text (email) the school sent to the number (address), whoever it was for.
            settled_sms = sorted(
                (d for d in deliveries if d.channel == "sms" and d.address == str(guardian.phone)
                 and d.status in ("delivered", "undelivered", "failed")),
                key=lambda d: d.created_at,
            )  # fmt: skip
            settled_email = sorted(
                (d for d in deliveries if d.channel == "email" and d.address == guardian.email
                 and d.status in ("sent", "delivered", "undelivered", "failed")),
                key=lambda d: d.created_at,
            )  # fmt: skip
            opted_out = SmsConsent.objects.filter(
                school=self.school, phone=str(guardian.phone), is_opted_out=True
            ).exists()
            invalid = bool(settled_sms) and settled_sms[-1].error_code in (
                reports.INVALID_NUMBER_CODES
            )
            bounced = bool(settled_email) and settled_email[-1].status in ("failed", "undelivered")
            sms = bool(guardian.phone) and guardian.wants_sms and not opted_out and not invalid
            email = bool(guardian.email) and guardian.wants_email and not bounced
            portal = guardian.user_id is not None
            school_mine = [d for d in mine if d.message.thread_id in self.threads]
            reached = {
                channel: any(
                    d.channel == channel
                    and (
                        (channel == "email" and d.status in ("sent", "delivered")
                         and self.in_period(d.sent_at))
                        or (channel != "email" and d.status == "delivered"
                            and self.in_period(d.delivered_at))
                    )
                    for d in school_mine
                )
                for channel in ("sms", "email", "in_app")
            }  # fmt: skip
            wrote = [
                m.created_at
                for m in Message.objects.filter(author_guardian=guardian, event="")
                if m.thread_id in self.threads and m.created_at <= self.now
            ]
            no_two_way = not wrote or max(wrote) < self.now - dt.timedelta(weeks=8)
            why = {
                "invalid_number": bool(guardian.phone) and invalid,
                "opted_out": bool(guardian.phone) and opted_out,
                "bounced_email": bool(guardian.email) and bounced,
                "no_channel": not (sms or email or portal),
                "not_reached": not any(reached.values()),
                "no_two_way": no_two_way,
            }
            for key in self.keys_for(guardian.pk):
                row = counts[key]
                row["families"] += 1
                row["works"] += sms or email or portal
                row["sms_works"] += sms
                row["email_works"] += email
                row["signs_in"] += portal
                row["reached"] += any(reached.values())
                row["reached_sms"] += reached["sms"]
                row["reached_email"] += reached["email"]
                row["reached_portal"] += reached["in_app"]
                row["worklist"] += any(why.values())
                for reason, flag in why.items():
                    row[reason] += flag
        return counts

    def engagement(self):
        counts = defaultdict(lambda: defaultdict(int))
        wrote = defaultdict(set)
        for message in Message.objects.filter(author_guardian__isnull=False, event=""):
            if message.thread_id in self.scoped and self.in_period(message.created_at):
                for key in self.keys_for(message.author_guardian_id, message.thread_id):
                    counts[key]["messages_from_families"] += 1
                    wrote[key].add(message.author_guardian_id)
        received = defaultdict(set)
        for delivery in Delivery.objects.select_related("message").exclude(status="skipped"):
            message = delivery.message
            if (
                message.thread_id in self.scoped
                and message.author_staff_id
                and not message.is_internal
                and not message.event
                and self.in_period(message.created_at)
            ):
                for key in self.keys_for(delivery.guardian_id, message.thread_id):
                    received[key].add((delivery.guardian_id, message.pk))
        for key, families in wrote.items():
            counts[key]["families_wrote"] = len(families)
        for key, pairs in received.items():
            counts[key]["messages_to_families"] = len(pairs)
        return counts

    def answers(self):
        waits = defaultdict(list)
        for thread_id in self.scoped:
            said = [
                m
                for m in Message.objects.filter(thread_id=thread_id, event="", is_internal=False)
                if m.author_guardian_id or m.author_staff_id
            ]
            said.sort(key=lambda m: (m.created_at, m.pk))
            for index, message in enumerate(said):
                if not message.author_guardian_id:
                    continue
                if index and said[index - 1].author_guardian_id:
                    continue  # the wait began earlier
                if not self.in_period(message.created_at):
                    continue
                answer = next((m for m in said[index + 1 :] if m.author_staff_id), None)
                seconds = (
                    (answer.created_at - message.created_at).total_seconds() if answer else None
                )
                for key in self.keys_for(message.author_guardian_id, thread_id):
                    waits[key].append(seconds)
        figures = {}
        for key, values in waits.items():
            answered = sorted(v for v in values if v is not None)
            figures[key] = {
                "waits": len(values),
                "answered": len(answered),
                "unanswered": len(values) - len(answered),
                "median_seconds": statistics.median(answered) if answered else None,
                "p90_seconds": (
                    statistics.quantiles(answered, n=10, method="inclusive")[8]
                    if len(answered) > 1
                    else (answered[0] if answered else None)
                ),
            }
        return figures

    def deliveries(self):
        counts = defaultdict(lambda: defaultdict(int))
        for delivery in Delivery.objects.select_related("message"):
            if delivery.message.thread_id not in self.scoped or not self.in_period(
                delivery.message.created_at
            ):
                continue
            status = delivery.status
            if status in ("queued", "deferred", "sending"):
                status = "pending"
            for key in self.keys_for(delivery.guardian_id, delivery.message.thread_id):
                counts[key]["deliveries"] += 1
                counts[key][status] += 1
                if delivery.channel == "sms" and status in ("sent", "delivered", "undelivered"):
                    counts[key]["sms_segments"] += delivery.segments or 0
        return counts

    def consent(self):
        counts = defaultdict(lambda: defaultdict(set))
        for change in ConsentChange.objects.select_related("consent"):
            if change.consent.school_id != self.school.pk or not self.in_period(change.created_at):
                continue
            if change.action not in ("opt_out", "opt_in"):
                continue
            column = "opt_outs" if change.action == "opt_out" else "opt_ins"
            for guardian in self.guardians.values():
                if guardian.phone and str(guardian.phone) == change.consent.phone:
                    for key in self.keys_for(guardian.pk):
                        counts[key][column].add(change.pk)
        return {
            key: {column: len(ids) for column, ids in columns.items()}
            for key, columns in counts.items()
        }

    def surveys(self):
        counts = defaultdict(lambda: defaultdict(int))
        for invitation in Invitation.objects.filter(survey__school=self.school):
            if not self.in_period(invitation.invited_at):
                continue
            done = invitation.completed_at is not None
            first_day = done and invitation.completed_at - invitation.invited_at <= DAY
            keys = self.keys_for(invitation.guardian_id)
            if keys:
                keys.add(("survey", str(invitation.survey_id)))
            for key in keys:
                counts[key]["invited"] += 1
                counts[key]["completed"] += done
                counts[key]["completed_first_day"] += first_day
        return counts


def _same(report_breakdown, raw, columns):
    """Every slice of the raw count equals the report's, figure by figure (approximately for
    seconds), and the report has no slice the raw count lacks."""
    keys = {key for key in report_breakdown.rows if key[0] != "channel"}
    assert keys == set(raw), (sorted(keys ^ set(raw)), "slices differ")
    for key, counted in raw.items():
        shown = report_breakdown.get(*key)
        for column in columns:
            expected = counted.get(column, 0)
            if column.endswith("_seconds") and expected is not None:
                assert shown[column] == pytest.approx(expected, abs=0.01), (key, column)
            else:
                assert shown[column] == expected, (key, column, shown, dict(counted))


@pytest.mark.parametrize("as_teacher", [False, True])
def test_a_generated_school_counted_again_from_the_raw_tables(as_teacher):
    school, admin, teachers = _generated_school()
    now = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    window = reports.Period(dt.date(2026, 1, 12), dt.date(2026, 2, 22), "UTC")
    teacher = teachers[1] if as_teacher else None
    user = admin.user
    scope = reports.report_scope(user, school_id=school.pk, teacher_id=teacher and teacher.pk)
    report = reports.engagement_report(scope, window, at=now)
    raw = RawCount(school, window, now, teacher=teacher)

    assert report.reach.total["families"] == len(raw.guardians) > 5
    _same(report.reach, raw.reach(), reports.REACH_COLUMNS)
    _same(report.engagement, raw.engagement(), reports.ENGAGEMENT_COLUMNS)
    _same(report.answers, raw.answers(), reports.ANSWER_COLUMNS)
    _same(report.deliveries, raw.deliveries(), reports.DELIVERY_COLUMNS)
    _same(report.surveys, raw.surveys(), reports.SURVEY_COLUMNS)
    _same(report.consent, raw.consent(), reports.CONSENT_COLUMNS)
    assert report.answers.total["answered"] > (1 if as_teacher else 10)
    assert report.deliveries.total["failed"] > 0
    total_listed, _rows = reports.families_list(scope, window, reports.ReportFilters(), at=now)
    assert total_listed == report.reach.total["worklist"]


def test_every_figure_of_the_generated_school_by_channel_adds_up():
    school, admin, _teachers = _generated_school(seed=11)
    window = reports.Period(dt.date(2026, 1, 5), dt.date(2026, 3, 5), "UTC")
    report = reports.engagement_report(
        reports.report_scope(admin.user, school_id=school.pk), window
    )
    by_channel = dict(report.deliveries.slices("channel"))
    for column in reports.DELIVERY_COLUMNS:
        assert sum(row[column] for row in by_channel.values()) == report.deliveries.total[column]
    engagement = dict(report.engagement.slices("channel"))
    assert (
        sum(row["messages_from_families"] for row in engagement.values())
        == (report.engagement.total["messages_from_families"])
    )
    waits = dict(report.answers.slices("channel"))
    assert sum(row["waits"] for row in waits.values()) == report.answers.total["waits"]
    assert Guardian.objects.count() > report.reach.total["families"]  # no-contact links left out
