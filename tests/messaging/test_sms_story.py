"""The story end to end over real HTTP: a teacher writes in English to a father who reads
Spanish; the text reaches the Twilio stand-in translated; Twilio's signed callback marks it
delivered; the father's signed reply lands in the thread, translated for the teacher."""

import datetime

import pytest
from django.utils import timezone

from messaging.delivery import deliveries_sweep, delivery_send
from messaging.models import Delivery, SmsConsent
from messaging.services import thread_start

pytestmark = pytest.mark.django_db(transaction=True)


def test_teacher_and_father_talk_by_sms_through_twilio(
    always_open,
    fake_twilio,
    fake_libretranslate,
    live_server,
    settings,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SMS_SEGMENTS_PER_SECOND = 0
    world = always_open
    father = world.parent
    father.preferred_language, father.wants_email = "es", False
    father.save()

    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[father],
            subject="Ana's math",
            body="Ana did well on her math test.",
        )

    [sent] = fake_twilio.messages
    assert sent["to"] == str(father.phone)
    assert "[en->es] Ana did well on her math test." in sent["body"]
    assert int(sent["validity_period"]) == settings.SMS_VALIDITY_SECONDS
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert (sms.status, sms.provider_id) == ("sent", sent["sid"])

    assert fake_twilio.callback(sent["sid"], "sent") == 204
    assert fake_twilio.callback(sent["sid"], "delivered") == 204
    assert fake_twilio.callback(sent["sid"], "sent") == 204  # late and out of order
    sms.refresh_from_db()
    assert sms.status == "delivered"

    answer = fake_twilio.text_in(
        live_server.url + "/sms/twilio/inbound/",
        from_phone=str(father.phone),
        body="Gracias, maestra. Está contento.",
    )
    assert answer.status_code == 200 and "<Response>" in answer.text
    reply = thread.messages.get(author_guardian=father)
    assert (reply.channel, reply.language) == ("sms", "es")
    assert reply.translations.get(language="en").text == "[es->en] Gracias, maestra. Está contento."


@pytest.mark.parametrize(
    ("code", "status", "consent_stopped"),
    [(21211, "failed", False), (21614, "failed", False), (21610, "failed", True)],
)
def test_a_number_twilio_refuses_fails_at_once_with_the_reason(
    always_open,
    fake_twilio,
    settings,
    celery_eager,
    django_capture_on_commit_callbacks,
    code,
    status,
    consent_stopped,
):
    settings.SMS_SEGMENTS_PER_SECOND = 0
    world = always_open
    fake_twilio.fail_next(400, code)
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well.",
        )
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert (sms.status, sms.error_code, sms.attempts) == (status, str(code), 1)
    assert sms.error_reason and str(world.parent.phone) not in sms.error_reason
    stopped = SmsConsent.objects.filter(phone=world.parent.phone, is_opted_out=True).exists()
    assert stopped == consent_stopped
    assert fake_twilio.messages == []


def test_a_busy_twilio_is_tried_again_later_and_the_text_goes_once(
    always_open, fake_twilio, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.SMS_SEGMENTS_PER_SECOND = 0
    world = always_open
    fake_twilio.fail_next(429, 20429)
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well.",
        )
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert (sms.status, sms.error_code) == ("queued", "429")
    assert sms.next_attempt_at > timezone.now()  # backoff: not before 5 to 15 seconds
    later = sms.next_attempt_at + datetime.timedelta(seconds=1)
    thread.messages.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    deliveries_sweep(now=later)
    delivery_send(delivery_id=sms.pk, now=later)
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("sent", 2)
    assert len(fake_twilio.messages) == 1
