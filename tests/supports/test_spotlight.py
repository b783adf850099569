"""A counselor puts a service in the spotlight: an announcement about it to the families chosen,
through the messaging broadcast, and the service on those families' home page for a while."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.channels.sms import MemoryBackend
from messaging.models import Broadcast
from supports.models import Spotlight
from supports.services import SupportError, service_spotlight, spotlights_for_family
from tests.factories import SupportServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pantry(always_open, settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    return SupportServiceFactory(
        school=always_open.north,
        owner=always_open.counselor,
        title="Food pantry",
        summary="Free groceries every Friday.",
    )


def test_a_spotlight_announces_the_service_and_shows_it_on_the_home_page(
    always_open, pantry, client, django_capture_on_commit_callbacks
):
    world = always_open
    client.force_login(world.users["counselor"])
    until = timezone.localdate() + datetime.timedelta(days=14)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("support_workspace:spotlight", args=[pantry.pk]),
            {"school": world.north.pk, "audience": "school", "shows_until": until.isoformat()},
        )
    spotlight = Spotlight.objects.get()
    assert answer["Location"] == reverse("broadcasts:detail", args=[spotlight.broadcast_id])
    broadcast = spotlight.broadcast
    assert broadcast.status == "sent" and broadcast.recipients_count == 2
    assert broadcast.body.startswith("Food pantry: Free groceries every Friday.")
    assert broadcast.body.endswith(f"/supports/{pantry.pk}/")
    assert any("Food pantry" in text.body for text in MemoryBackend.outbox)

    client.force_login(world.users["parent"])
    home = client.get("/home/").content.decode()
    assert "In the spotlight" in home and f'href="/supports/{pantry.pk}/"' in home
    assert spotlights_for_family(world.users["parent"]) == [pantry]
    later = until + datetime.timedelta(days=1)
    assert spotlights_for_family(world.users["parent"], today=later) == []


def test_a_scheduled_spotlight_shows_once_its_announcement_went_out(always_open, pantry):
    service_spotlight(
        actor=always_open.users["counselor"],
        service=pantry,
        school=always_open.north,
        kind="school",
        scheduled_at=timezone.now() + datetime.timedelta(hours=2),
        shows_until=timezone.localdate() + datetime.timedelta(days=7),
    )
    assert Broadcast.objects.get().status == "scheduled"
    assert spotlights_for_family(always_open.users["parent"]) == []


def test_only_the_services_keepers_spotlight_a_published_service(always_open, pantry):
    options = {
        "school": always_open.north,
        "kind": "school",
        "shows_until": timezone.localdate() + datetime.timedelta(days=7),
    }
    with pytest.raises(SupportError):
        service_spotlight(actor=always_open.users["teacher"], service=pantry, **options)
    draft = SupportServiceFactory(school=always_open.north, owner=always_open.counselor)
    draft.status = "draft"
    draft.save()
    with pytest.raises(SupportError):
        service_spotlight(actor=always_open.users["counselor"], service=draft, **options)
    assert not Spotlight.objects.exists() and not Broadcast.objects.exists()


def test_teachers_and_families_cannot_open_the_spotlight_page(always_open, pantry, client):
    for key in ("teacher", "parent"):
        client.force_login(always_open.users[key])
        page = client.get(reverse("support_workspace:spotlight", args=[pantry.pk]))
        assert page.status_code in (403, 404)
