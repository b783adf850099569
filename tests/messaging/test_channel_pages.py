"""The unsubscribe link of every email, and the demo's phone simulator answering through the
real, signed inbound webhook."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from messaging import phone_simulator
from messaging.delivery import unsubscribe_token
from messaging.models import InboundSms
from messaging.services import thread_start
from portal.models import AuditEvent


@pytest.fixture
def awake(world, celery_eager):
    world.north.quiet_hours_start = world.north.quiet_hours_end = datetime.time(0, 0)
    world.north.office_opens_at, world.north.office_closes_at = (
        datetime.time(0, 0),
        datetime.time(23, 59),
    )
    world.north.save()
    return world


def teacher_writes(world, capture):
    with capture(execute=True):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well on her test.",
        )


@pytest.mark.django_db
def test_the_unsubscribe_link_in_an_email_stops_email_after_a_confirmation(
    awake, client, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "memory"
    awake.parent.preferred_language = "es"
    awake.parent.save()
    teacher_writes(awake, django_capture_on_commit_callbacks)
    link = re.search(r"https?://\S+/email/unsubscribe/\S+/", mail.outbox[-1].body).group(0)
    path = link.split(settings.PUBLIC_BASE_URL, 1)[1]

    page = client.get(path)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and 'lang="es"' in page.content.decode()
    awake.parent.refresh_from_db()
    assert awake.parent.wants_email

    assert client.post(path).status_code == 200
    awake.parent.refresh_from_db()
    assert not awake.parent.wants_email
    assert AuditEvent.objects.filter(action="guardian.email_unsubscribe").count() == 1


@pytest.mark.django_db
def test_a_forged_unsubscribe_token_is_refused(world, client):
    token = unsubscribe_token(world.parent.pk)
    assert client.post(reverse("channels:email_unsubscribe", args=[token + "x"])).status_code == 404
    world.parent.refresh_from_db()
    assert world.parent.wants_email


@pytest.mark.django_db
def test_the_phone_simulator_is_off_without_debug(world, client, settings):
    settings.DEBUG = False
    settings.PHONE_SIMULATOR = False
    client.force_login(world.users["teacher"])
    assert client.get(reverse("channels:phone")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_phone_simulator_shows_texts_and_answers_through_the_signed_webhook(
    awake, client, settings, live_server, tmp_path, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "console"
    settings.PHONE_SIMULATOR = True
    settings.PHONE_SIMULATOR_LOG = str(tmp_path / "phone.jsonl")
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = "simulator-token"
    thread = teacher_writes(awake, django_capture_on_commit_callbacks)
    phone = str(awake.parent.phone)
    assert [text["body"] for text in phone_simulator.conversations()[phone]] == [
        f"{awake.teacher} (North Elementary): Ana did well on her test."
    ]
    client.force_login(awake.users["teacher"])
    page = client.get(reverse("channels:phone"), {"phone": phone}).content.decode()
    assert "Ana did well on her test." in page

    client.post(reverse("channels:phone"), {"phone": phone, "body": "Thank you, we are proud!"})
    assert InboundSms.objects.get().message_sid.startswith("SM")
    reply = thread.messages.get(author_guardian=awake.parent)
    assert (reply.body, reply.channel) == ("Thank you, we are proud!", "sms")
    assert phone_simulator.conversations()[phone][-1]["from_family"]


@pytest.mark.django_db
def test_families_cannot_use_the_phone_simulator(world, client, settings):
    settings.PHONE_SIMULATOR = True
    client.force_login(world.users["parent"])
    assert client.get(reverse("channels:phone")).status_code == 403
