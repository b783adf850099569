"""The unsubscribe link of every email, and the demo's phone simulator answering through the
real, signed inbound webhook."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from messaging import phone_simulator
from messaging.delivery import unsubscribe_token
from messaging.models import InboundSms
from messaging.services import thread_start
from portal.models import AuditEvent


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
    always_open, client, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "memory"
    always_open.parent.preferred_language = "es"
    always_open.parent.save()
    teacher_writes(always_open, django_capture_on_commit_callbacks)
    link = re.search(r"https?://\S+/email/unsubscribe/\S+/", mail.outbox[-1].body).group(0)
    path = link.split(settings.PUBLIC_BASE_URL, 1)[1]

    page = client.get(path)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and 'lang="es"' in page.content.decode()
    always_open.parent.refresh_from_db()
    assert always_open.parent.wants_email

    assert client.post(path).status_code == 200
    always_open.parent.refresh_from_db()
    assert not always_open.parent.wants_email
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
    always_open,
    client,
    settings,
    live_server,
    tmp_path,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    settings.SMS_BACKEND = "console"
    settings.PHONE_SIMULATOR = True
    settings.PHONE_SIMULATOR_LOG = str(tmp_path / "phone.jsonl")
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = "simulator-token"
    thread = teacher_writes(always_open, django_capture_on_commit_callbacks)
    phone = str(always_open.parent.phone)
    assert [text["body"] for text in phone_simulator.conversations()[phone]] == [
        f"{always_open.teacher} (North Elementary): Ana did well on her test."
    ]
    client.force_login(always_open.users["teacher"])
    page = client.get(reverse("channels:phone"), {"phone": phone}).content.decode()
    assert "Ana did well on her test." in page

    client.post(reverse("channels:phone"), {"phone": phone, "body": "Thank you, we are proud!"})
    assert InboundSms.objects.get().message_sid.startswith("SM")
    reply = thread.messages.get(author_guardian=always_open.parent)
    assert (reply.body, reply.channel) == ("Thank you, we are proud!", "sms")
    assert phone_simulator.conversations()[phone][-1]["from_family"]


@pytest.mark.django_db
def test_families_cannot_use_the_phone_simulator(world, client, settings):
    settings.PHONE_SIMULATOR = True
    client.force_login(world.users["parent"])
    assert client.get(reverse("channels:phone")).status_code == 403
