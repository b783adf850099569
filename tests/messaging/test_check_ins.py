"""Weekly check-ins keep a plan agreed in a thread going."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from messaging.models import CheckIn, Message
from messaging.services import (
    MessagingError,
    check_in_schedule,
    check_ins_run_due,
    thread_start,
)

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def thread(world, celery_eager, django_capture_on_commit_callbacks):
    world.north.timezone = "America/Chicago"
    world.north.save()
    with django_capture_on_commit_callbacks(execute=True):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Reading plan",
            body="Our plan",
        )


def test_the_prompt_comes_on_its_day_once_and_stops_after_the_last(world, thread):
    check_in = check_in_schedule(
        actor=world.users["teacher"], thread=thread, weekday=2, ends_on=dt.date(2099, 1, 1)
    )
    CheckIn.objects.filter(pk=check_in.pk).update(ends_on=dt.date(2026, 12, 2))
    wednesday = dt.datetime(2026, 11, 25, 9, 0, tzinfo=CHICAGO)

    assert check_ins_run_due(at=wednesday - dt.timedelta(days=1)) == 0
    assert check_ins_run_due(at=wednesday) == 1
    assert check_ins_run_due(at=wednesday + dt.timedelta(hours=5)) == 0
    assert check_ins_run_due(at=wednesday + dt.timedelta(days=7)) == 1
    assert check_ins_run_due(at=wednesday + dt.timedelta(days=14)) == 0
    check_in.refresh_from_db()
    assert not check_in.is_active
    assert thread.messages.filter(event=Message.Event.CHECK_IN).count() == 2


def test_family_and_staff_see_the_prompt_as_new(client, world, thread):
    check_in_schedule(
        actor=world.users["teacher"], thread=thread, weekday=0, ends_on=dt.date(2099, 1, 1)
    )
    check_ins_run_due(at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO))

    client.force_login(world.users["teacher"])
    inbox = client.get(reverse("messaging:inbox")).context["page"]
    assert [t.unread for t in inbox] == [1]
    client.force_login(world.users["parent"])
    page = client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    assert "How did this week go at home?" in page


def test_only_staff_in_the_thread_set_a_check_in(client, world, thread):
    with pytest.raises(MessagingError):
        check_in_schedule(
            actor=world.users["parent"], thread=thread, weekday=0, ends_on=dt.date(2099, 1, 1)
        )
    with pytest.raises(MessagingError):
        check_in_schedule(
            actor=world.users["teacher"], thread=thread, weekday=6, ends_on=dt.date(2099, 1, 1)
        )
    client.force_login(world.users["teacher"])
    client.post(
        reverse("messaging:check_in", args=[thread.pk]), {"weekday": "4", "ends_on": "2099-06-01"}
    )
    assert CheckIn.objects.get(thread=thread).weekday == 4
    client.post(reverse("messaging:check_in", args=[thread.pk]), {"stop": "1"})
    assert not CheckIn.objects.get(thread=thread).is_active
