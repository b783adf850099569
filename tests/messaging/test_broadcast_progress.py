"""An announcement's progress as it happens: sent, delivered, failed, read and replied, and for
admins who got what, with the reason when a family was not reached."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging import consent
from messaging.broadcasts import broadcast_create, broadcast_progress, broadcast_reply
from messaging.channels.sms import MemoryBackend
from messaging.delivery import delivery_status_record
from messaging.models import Delivery
from tests.factories import GuardianFactory, GuardianLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def texts(settings, celery_eager, always_open):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox


def announce(world, capture, execute=True, **extra):
    with capture(execute=execute):
        return broadcast_create(
            actor=world.users["school_admin"],
            school=world.north,
            subject="Picture day",
            body="Picture day is Friday.",
            kind="school",
            **extra,
        )


def test_progress_counts_each_channel_read_and_replied(
    world, texts, django_capture_on_commit_callbacks
):
    consent.consent_change(
        school=world.north, phone=world.ben_parent.phone, action="opt_out", source="sms_keyword"
    )
    broadcast = announce(world, django_capture_on_commit_callbacks)
    progress = broadcast_progress(broadcast)
    assert progress.by_channel["sms"] == {
        "pending": 0,
        "sent": 1,
        "delivered": 0,
        "failed": 0,
        "skipped": 1,
    }
    assert progress.by_channel["email"]["sent"] == 2
    assert progress.is_done and (progress.read, progress.replied) == (0, 0)

    delivery_status_record(provider_id=texts[0].provider_id, provider_status="delivered")
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_reply(actor=world.users["parent"], broadcast=broadcast, body="Thanks!")
    progress = broadcast_progress(broadcast)
    assert progress.by_channel["sms"]["delivered"] == 1
    assert progress.replied == 1


def test_opening_the_announcement_counts_as_read_once(
    world, client, django_capture_on_commit_callbacks
):
    broadcast = announce(world, django_capture_on_commit_callbacks)
    client.force_login(world.users["parent"])
    url = reverse("broadcasts:read", args=[broadcast.pk])
    assert client.get(url).status_code == 200
    first = broadcast.recipients.get(guardian=world.parent).read_at
    client.get(url)
    assert broadcast.recipients.get(guardian=world.parent).read_at == first
    assert broadcast_progress(broadcast).read == 1


def test_waiting_texts_show_when_the_last_family_is_reached(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMS_SEGMENTS_PER_SECOND = 1 / 60  # one text a minute
    broadcast = announce(world, django_capture_on_commit_callbacks, execute=False)
    progress = broadcast_progress(broadcast)
    assert progress.pending_texts == 2 and not progress.is_done
    assert progress.minutes_left == 2


def test_admins_see_who_was_not_reached_and_why(world, client, django_capture_on_commit_callbacks):
    consent.consent_change(
        school=world.north, phone=world.ben_parent.phone, action="opt_out", source="sms_keyword"
    )
    broadcast = announce(world, django_capture_on_commit_callbacks)
    client.force_login(world.users["school_admin"])
    page = client.get(reverse("broadcasts:detail", args=[broadcast.pk])).content.decode()
    assert "The family texted STOP; texts resume if they text START." in page
    assert "data-refresh-url" not in page  # everything tried: the page stops refreshing


def test_progress_page_runs_the_same_queries_for_few_or_many_families(
    world, client, django_capture_on_commit_callbacks
):
    client.force_login(world.users["school_admin"])

    def queries_for_progress():
        broadcast = announce(world, django_capture_on_commit_callbacks)
        url = reverse("broadcasts:progress", args=[broadcast.pk])
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = queries_for_progress()
    for _family in range(20):
        guardian = GuardianFactory()
        GuardianLinkFactory(guardian=guardian, student=world.ana)
    assert queries_for_progress() == few
    assert Delivery.objects.count() > 40


def test_a_teacher_cannot_see_the_progress_of_someone_elses_announcement(
    world, client, django_capture_on_commit_callbacks
):
    broadcast = announce(world, django_capture_on_commit_callbacks)
    client.force_login(world.users["teacher"])
    assert client.get(reverse("broadcasts:progress", args=[broadcast.pk])).status_code == 404


def test_a_number_that_texted_stop_counts_as_unreachable_by_text_in_the_audience(world):
    from messaging.broadcasts import broadcast_audience

    world.ben_parent.wants_email = False
    world.ben_parent.save()
    before = broadcast_audience(
        actor=world.users["school_admin"], school=world.north, kind="school"
    )
    consent.consent_change(
        school=world.north, phone=world.ben_parent.phone, action="opt_out", source="sms_keyword"
    )
    after = broadcast_audience(actor=world.users["school_admin"], school=world.north, kind="school")
    assert after.reached == before.reached - 1
    assert after.by_channel["sms"] + after.by_channel["both"] == (
        before.by_channel["sms"] + before.by_channel["both"] - 1
    )
    assert [(family.guardian_id, family.reason) for family in after.unreachable] == [
        (world.ben_parent.pk, "texted-stop")
    ]
    assert world.ben_parent.pk not in set(after.recipient_links.values_list("guardian", flat=True))


def test_an_answer_to_an_announcement_is_owned_by_its_sender(
    world, django_capture_on_commit_callbacks
):
    broadcast = announce(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        thread = broadcast_reply(actor=world.users["parent"], broadcast=broadcast, body="Thanks!")
    assert thread.owner == world.school_admin  # nudged if the family waits too long
