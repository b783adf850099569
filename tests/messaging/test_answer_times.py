"""A family waiting past the school's answer target, counted in school hours: the owner is
nudged, then the school's backup joins, and admins see and reassign what is overdue."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from messaging.models import Message, Thread
from messaging.services import message_post, thread_start, threads_overdue_check

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def waiting(world, celery_eager, django_capture_on_commit_callbacks):
    school = world.north
    school.timezone = "America/Chicago"
    school.office_opens_at, school.office_closes_at = dt.time(8, 0), dt.time(16, 0)
    school.answer_target_hours = 16
    school.answer_backup = world.counselor
    school.save()
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["parent"],
            student=world.ana,
            staff=[world.teacher],
            subject="Homework",
            body="A question",
        )
    # The family wrote on Friday at 15:00, school time.
    Thread.objects.filter(pk=thread.pk).update(
        waiting_since=dt.datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO)
    )
    thread.refresh_from_db()
    return thread


def test_school_hours_skip_nights_and_weekends(world):
    school = world.north
    school.timezone = "America/Chicago"
    friday_3pm = dt.datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO)
    monday_10am = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHICAGO)
    assert school.school_seconds_between(friday_3pm, monday_10am) / 3600 == 3


def test_owner_is_nudged_then_the_backup_joins_once(world, waiting):
    assert waiting.owner == world.teacher
    tuesday_3pm = dt.datetime(2026, 11, 24, 15, 0, tzinfo=CHICAGO)  # 16 school hours
    wednesday_3pm = dt.datetime(2026, 11, 25, 15, 0, tzinfo=CHICAGO)  # 24 school hours

    assert threads_overdue_check(at=tuesday_3pm - dt.timedelta(hours=1)) == (0, 0)
    assert threads_overdue_check(at=tuesday_3pm) == (1, 0)
    assert threads_overdue_check(at=tuesday_3pm) == (0, 0)
    assert threads_overdue_check(at=wednesday_3pm) == (0, 1)

    note = waiting.messages.get(event=Message.Event.OVERDUE)
    assert note.is_internal and note.body == "16"
    assert waiting.participants.filter(staff=world.counselor).exists()
    assert threads_overdue_check(at=wednesday_3pm + dt.timedelta(days=1)) == (0, 0)


def test_an_answer_ends_the_wait_and_its_alarms(
    world, waiting, celery_eager, django_capture_on_commit_callbacks
):
    threads_overdue_check(at=dt.datetime(2026, 11, 24, 15, 0, tzinfo=CHICAGO))
    with django_capture_on_commit_callbacks(execute=True):
        message_post(actor=world.users["teacher"], thread=waiting, body="Sorry, here it is")
    waiting.refresh_from_db()
    assert (waiting.waiting_since, waiting.nudged_at) == (None, None)


def test_admins_see_overdue_threads_and_reassign_them(client, world, waiting):
    Thread.objects.filter(pk=waiting.pk).update(
        waiting_since=dt.datetime(2026, 1, 5, 9, 0, tzinfo=CHICAGO)
    )
    client.force_login(world.users["school_admin"])

    page = client.get(reverse("messaging:overdue"))
    assert [row.thread.pk for row in page.context["rows"]] == [waiting.pk]

    client.post(reverse("messaging:reassign", args=[waiting.pk]), {"staff": world.art_teacher.pk})
    waiting.refresh_from_db()
    assert waiting.owner == world.art_teacher
    assert waiting.participants.filter(staff=world.art_teacher).exists()


@pytest.mark.parametrize("key", ["teacher", "counselor", "parent", "south_teacher"])
def test_only_admins_see_the_overdue_list(client, world, waiting, key):
    client.force_login(world.users[key])
    assert client.get(reverse("messaging:overdue")).status_code == 404
    client.post(reverse("messaging:reassign", args=[waiting.pk]), {"staff": world.teacher.pk})
    waiting.refresh_from_db()
    assert waiting.owner == world.teacher


def test_holidays_of_the_school_calendar_do_not_count(world):
    from portal.models import SchoolHoliday

    school = world.north
    school.timezone = "America/Chicago"
    school.save()
    SchoolHoliday.objects.create(
        school=school,
        name="Thanksgiving break",
        starts_on=dt.date(2026, 11, 26),
        ends_on=dt.date(2026, 11, 27),
    )
    wednesday_3pm = dt.datetime(2026, 11, 25, 15, 0, tzinfo=CHICAGO)
    monday_10am = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CHICAGO)
    assert school.school_seconds_between(wednesday_3pm, monday_10am) / 3600 == 3
    assert school.office_next_open(wednesday_3pm.replace(hour=17)) == (
        dt.datetime(2026, 11, 30, 8, 0, tzinfo=CHICAGO)
    )


def test_a_staff_members_own_office_hours_decide_when_the_family_hears_back(
    world, celery_eager, django_capture_on_commit_callbacks
):
    # The school's office is open all day; the teacher answers one hour a day, not this one.
    school = world.north
    school.office_opens_at, school.office_closes_at = dt.time(0, 0), dt.time(23, 59)
    school.save()
    hour_now = dt.datetime.now(zoneinfo.ZoneInfo(school.timezone)).hour
    teacher_hour = 6 if hour_now == 13 else 13
    world.teacher.office_opens_at = dt.time(teacher_hour, 0)
    world.teacher.office_closes_at = dt.time(teacher_hour + 1, 0)
    world.teacher.save()
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["parent"],
            student=world.ana,
            staff=[world.teacher],
            subject="Homework",
            body="A question",
        )
    ack = thread.messages.get(event=Message.Event.ACKNOWLEDGED)
    assert dt.datetime.fromisoformat(ack.body).time() == world.teacher.office_opens_at
