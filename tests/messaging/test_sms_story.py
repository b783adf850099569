"""The story end to end over real HTTP: a teacher writes in English to a father who reads
Spanish; the text reaches the Twilio stand-in translated; Twilio's signed callback marks it
delivered; the father's signed reply lands in the thread, translated for the teacher."""

import pytest

from messaging.models import Delivery
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
