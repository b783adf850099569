"""Texts from families through the signed Twilio webhook: stored first, once; keywords change
consent and are answered; everything else lands in a thread, translated for staff."""

import pytest
from django.urls import reverse

from messaging import inbound
from messaging.broadcasts import broadcast_create
from messaging.channels.sms import MemoryBackend, twilio_signature
from messaging.inbound import keyword_of, unmatched_for_admin
from messaging.models import InboundSms, Message, SmsConsent, Thread
from messaging.services import thread_start
from tests.factories import GuardianFactory, GuardianLinkFactory

pytestmark = pytest.mark.django_db

INBOUND = "/sms/twilio/inbound/"


@pytest.fixture(autouse=True)
def texts(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    settings.TWILIO_AUTH_TOKEN = "inbound-test-token"
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox


def text_in(client, capture, *, from_phone, body, sid="SM" + "1" * 32, signature=None):
    params = {"MessageSid": sid, "From": str(from_phone), "To": "+16175550100", "Body": body}
    url = "https://portal.example.org" + INBOUND
    with capture(execute=True):
        return client.post(
            INBOUND,
            params,
            HTTP_X_TWILIO_SIGNATURE=signature or twilio_signature(url=url, params=params),
        )


@pytest.fixture
def sms(client, django_capture_on_commit_callbacks):
    def send(from_phone, body, **extra):
        return text_in(
            client, django_capture_on_commit_callbacks, from_phone=from_phone, body=body, **extra
        )

    return send


def teacher_writes(world, capture):
    with capture(execute=True):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well on her test.",
        )


def test_unsigned_or_forged_texts_are_refused_and_change_nothing(client, world):
    params = {"MessageSid": "SM" + "9" * 32, "From": str(world.parent.phone), "Body": "STOP"}
    assert client.post(INBOUND, params).status_code == 403
    forged = client.post(INBOUND, params, HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    assert not InboundSms.objects.exists() and not SmsConsent.objects.exists()


def test_a_text_signed_for_other_words_is_refused(client, world, settings):
    signed = {"MessageSid": "SM" + "8" * 32, "From": str(world.parent.phone), "Body": "hello"}
    signature = twilio_signature(url=settings.PUBLIC_BASE_URL + INBOUND, params=signed)
    tampered = {**signed, "Body": "STOP"}
    assert client.post(INBOUND, tampered, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403


def test_answer_is_empty_twiml_and_a_retried_text_is_kept_once(
    always_open, sms, django_capture_on_commit_callbacks
):
    thread = teacher_writes(always_open, django_capture_on_commit_callbacks)
    first = sms(always_open.parent.phone, "Thank you!")
    again = sms(always_open.parent.phone, "Thank you!")
    assert first.status_code == again.status_code == 200
    assert first["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in first.content
    assert InboundSms.objects.count() == 1
    assert thread.messages.filter(author_guardian=always_open.parent).count() == 1


def test_a_reply_by_text_joins_the_thread_and_is_translated_for_staff(
    always_open, sms, fake_libretranslate, django_capture_on_commit_callbacks
):
    world = always_open
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = teacher_writes(world, django_capture_on_commit_callbacks)
    sms(world.parent.phone, "Gracias, maestra. Mi hijo está contento.")

    reply = thread.messages.get(author_guardian=world.parent)
    assert (reply.channel, reply.language) == ("sms", "es")
    assert reply.translations.get(language="en").text.startswith("[es->en] Gracias")
    thread.refresh_from_db()
    assert thread.waiting_since == reply.created_at
    stored = InboundSms.objects.get()
    assert (stored.status, stored.route, stored.message) == ("routed", "thread", reply)


@pytest.mark.parametrize("word", ["STOP", " stop ", "Stop.", "unsubscribe", "Cancel", "QUIT"])
def test_stop_in_any_case_opts_the_number_out_and_is_confirmed(world, sms, texts, word):
    sms(world.parent.phone, word)
    consent = SmsConsent.objects.get(school=world.north, phone=world.parent.phone)
    assert consent.is_opted_out
    change = consent.changes.get()
    assert (change.action, change.source, change.keyword) == (
        "opt_out",
        "sms_keyword",
        keyword_of(word),
    )
    assert len(texts) == 1 and "START" in texts[0].body


def test_spanish_stop_is_confirmed_in_spanish_and_start_brings_texts_back(world, sms, texts):
    sms(world.parent.phone, "parar", sid="SM" + "a" * 32)
    assert texts[-1].body.startswith("North Elementary: ya no le enviaremos mensajes.")
    assert "START (o COMENZAR)" in texts[-1].body
    sms(world.parent.phone, "START", sid="SM" + "b" * 32)
    consent = SmsConsent.objects.get(school=world.north, phone=world.parent.phone)
    assert not consent.is_opted_out
    assert [c.action for c in consent.changes.order_by("pk")] == ["opt_out", "opt_in"]


def test_news_off_mutes_announcements_and_says_what_still_comes(world, sms, texts):
    sms(world.parent.phone, "news off")
    consent = SmsConsent.objects.get(school=world.north, phone=world.parent.phone)
    assert consent.announcements_muted and not consent.is_opted_out
    assert "teachers" in texts[-1].body and "urgent" in texts[-1].body


def test_help_is_answered_with_the_way_out(world, sms, texts):
    world.north.office_phone = "+16175550199"
    world.north.save()
    sms(world.parent.phone, "HELP")
    assert "STOP" in texts[-1].body and "+16175550199" in texts[-1].body
    assert not SmsConsent.objects.exists()


def test_lang_keyword_changes_the_familys_language(world, sms, texts):
    sms(world.parent.phone, "LANG ES")
    world.parent.refresh_from_db()
    assert world.parent.preferred_language == "es"
    assert texts[-1].body.startswith("North Elementary:")


def test_a_text_with_no_thread_goes_to_the_school_office(world, sms):
    sms(world.parent.phone, "Is school open on Monday?")
    thread = Thread.objects.get(kind="office")
    assert thread.school == world.north and thread.student == world.ana
    assert set(thread.participants.values_list("staff", flat=True)) >= {world.school_admin.pk}
    assert thread.messages.get(author_guardian=world.parent).channel == "sms"
    assert InboundSms.objects.get().route == "office"


def test_a_number_shared_by_two_guardians_is_filed_with_a_note_to_staff(world, sms):
    aunt = GuardianFactory(phone=world.parent.phone, given_name="Aunt")
    GuardianLinkFactory(guardian=aunt, student=world.ana)
    sms(world.parent.phone, "Who is picking up Ana?")
    thread = Thread.objects.get(kind="office")
    note = thread.messages.get(is_internal=True)
    assert "shared" in note.body and "Aunt" in note.body
    assert thread.messages.filter(author_guardian=world.parent).exists()


def test_a_number_no_school_knows_is_kept_and_listed_for_superusers(world, sms):
    sms("+16175559999", "Hello, is this the school?")
    stored = InboundSms.objects.get()
    assert stored.status == "unmatched" and stored.body == "Hello, is this the school?"
    assert list(unmatched_for_admin(world.users["superuser"])) == [stored]
    assert not unmatched_for_admin(world.users["teacher"]).exists()


def test_a_text_answering_an_announcement_opens_a_direct_thread_with_its_sender(
    always_open, sms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        broadcast = broadcast_create(
            actor=always_open.users["teacher"],
            school=always_open.north,
            subject="Field trip",
            body="Field trip on Friday.",
            kind="section",
            sections=[always_open.math],
        )
    sms(always_open.parent.phone, "Can I come along?")
    reply_thread = Thread.objects.get(kind="direct")
    assert reply_thread.subject == "Re: Field trip"
    assert set(reply_thread.participants.values_list("staff", "guardian")) == {
        (always_open.teacher.pk, None),
        (None, always_open.parent.pk),
    }
    assert not broadcast.thread.messages.filter(author_guardian__isnull=False).exists()


def test_an_open_survey_takes_the_answer_before_any_thread(world, sms):
    taken = []

    def survey(text):
        taken.append(text.body)
        return True

    inbound.inbound_handlers.insert(0, ("survey", survey))
    try:
        sms(world.parent.phone, "2")
    finally:
        inbound.inbound_handlers.remove(("survey", survey))
    assert taken == ["2"]
    assert InboundSms.objects.get().route == "survey"
    assert not Message.objects.exists()


def test_status_callback_needs_twilios_signature(client, settings):
    url = reverse("channels:twilio_status")
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}
    assert client.post(url, params).status_code == 403
    signature = twilio_signature(url=settings.PUBLIC_BASE_URL + url, params=params)
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204


def test_a_question_mark_flags_the_last_translation_the_family_received(
    always_open, sms, texts, fake_libretranslate, django_capture_on_commit_callbacks
):
    world = always_open
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = teacher_writes(world, django_capture_on_commit_callbacks)
    sms(world.parent.phone, " ? ")
    translation = thread.messages.get(author_staff=world.teacher).translations.get(language="es")
    assert translation.flagged_at is not None
    assert thread.messages.filter(event="translation_flagged", is_internal=True).count() == 1
    assert texts[-1].to == world.parent.phone and "North Elementary" in texts[-1].body
    assert not thread.messages.filter(author_guardian=world.parent).exists()


def test_an_unknown_number_asking_for_spanish_is_answered_in_spanish(world, sms, texts):
    sms("+16175559998", "idioma es")
    assert texts[-1].to == "+16175559998"
    assert "celular" in texts[-1].body  # the Spanish answer: this number is not on file
