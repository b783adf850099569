"""The delivery pipeline with the in-memory SMS backend and Django's email outbox: what a family
receives, when, and that nothing is lost or sent twice when a worker or the broker fails."""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from messaging import consent
from messaging.broadcasts import broadcast_create
from messaging.channels.sms import MemoryBackend
from messaging.delivery import (
    deliveries_sweep,
    delivery_send,
    delivery_status_record,
    delivery_text,
    quiet_hours_end,
)
from messaging.models import Delivery, SmsConsent
from messaging.services import message_post, thread_start

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def texts(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox


def write(world, capture, body="Ana did well on her test.", execute=True, **extra):
    """The teacher writes to Ana's mother; with `execute` False the hand-off after commit is
    dropped, as when the broker is down or the process dies right after the commit."""
    with capture(execute=execute):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body=body,
            **extra,
        )


def test_teacher_message_reaches_the_family_by_text_and_email_in_their_language(
    always_open, fake_libretranslate, texts, django_capture_on_commit_callbacks
):
    world = always_open
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = write(world, django_capture_on_commit_callbacks)

    deliveries = Delivery.objects.filter(message__thread=thread).order_by("channel")
    assert [(d.channel, d.status) for d in deliveries] == [("email", "sent"), ("sms", "sent")]
    assert [text.to for text in texts] == [world.parent.phone]
    assert texts[0].body.startswith(f"{world.teacher} (North Elementary): [en->es] Ana")
    sms = deliveries.get(channel="sms")
    assert (sms.segments, sms.encoding, sms.attempts) == (1, "GSM-7", 1)
    assert sms.provider_id == texts[0].provider_id

    email = mail.outbox[-1]
    assert email.to == [world.parent.email]
    assert "[en->es] Ana did well" in email.body
    assert "/email/unsubscribe/" in email.body
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")
    html = email.alternatives[0][0]
    assert 'lang="es"' in html and "Ana did well" in html


def test_one_translation_per_language_however_many_families(
    always_open, fake_libretranslate, django_capture_on_commit_callbacks
):
    world = always_open
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_create(
            actor=world.users["school_admin"],
            school=world.north,
            subject="Picture day",
            body="Picture day is Friday.",
            kind="school",
        )
    languages = {g.preferred_language for g in (world.parent, world.ben_parent)}
    assert len(fake_libretranslate.translations()) == len(languages - {"en"})
    assert Delivery.objects.filter(channel="sms", status="sent").count() == 2


def test_a_number_that_texted_stop_gets_nothing_but_email_still_goes(
    always_open, texts, django_capture_on_commit_callbacks
):
    world = always_open
    consent.consent_change(
        school=world.north, phone=world.parent.phone, action="opt_out", source="sms_keyword"
    )
    thread = write(world, django_capture_on_commit_callbacks)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert (sms.status, sms.error_code) == ("skipped", "opted-out")
    assert texts == []
    assert Delivery.objects.get(message__thread=thread, channel="email").status == "sent"


def test_stop_after_the_message_was_written_is_honoured_before_the_send(
    always_open, texts, django_capture_on_commit_callbacks
):
    world = always_open
    thread = write(world, django_capture_on_commit_callbacks, execute=False)
    consent.consent_change(
        school=world.north, phone=world.parent.phone, action="opt_out", source="sms_keyword"
    )
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert delivery_send(delivery_id=sms.pk) == "skipped"
    assert texts == []


def test_quiet_hours_hold_a_text_until_morning_and_the_sweeper_sends_it(
    world, texts, django_capture_on_commit_callbacks
):
    thread = write(world, django_capture_on_commit_callbacks, execute=False)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    late = datetime.datetime(2026, 11, 24, 22, 30, tzinfo=NEW_YORK)
    assert delivery_send(delivery_id=sms.pk, now=late) == "deferred"
    sms.refresh_from_db()
    assert sms.status == "deferred"
    assert sms.next_attempt_at == datetime.datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)
    assert texts == []

    morning = datetime.datetime(2026, 11, 25, 8, 1, tzinfo=NEW_YORK)
    assert deliveries_sweep(now=morning)["resumed"] == 1
    sms.refresh_from_db()
    assert sms.status == "queued"
    assert delivery_send(delivery_id=sms.pk, now=morning) == "sent"
    assert len(texts) == 1


def test_quiet_hours_are_the_familys_own_when_they_set_them(world):
    world.parent.quiet_hours_start = datetime.time(19, 0)
    world.parent.quiet_hours_end = datetime.time(7, 0)
    evening = datetime.datetime(2026, 11, 24, 19, 30, tzinfo=NEW_YORK)
    assert quiet_hours_end(guardian=world.parent, school=world.north, at=evening) == (
        datetime.datetime(2026, 11, 25, 7, 0, tzinfo=NEW_YORK)
    )
    noon = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=NEW_YORK)
    assert quiet_hours_end(guardian=world.parent, school=world.north, at=noon) is None


def test_an_urgent_announcement_goes_through_quiet_hours(
    world, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        broadcast = broadcast_create(
            actor=world.users["school_admin"],
            school=world.north,
            subject="School closed",
            body="School is closed tomorrow: snow.",
            kind="school",
            is_urgent=True,
        )
    sms = Delivery.objects.filter(message__thread=broadcast.thread, channel="sms")
    assert sms.count() == 2 and all(d.is_urgent for d in sms)
    late = datetime.datetime(2026, 11, 24, 23, 0, tzinfo=NEW_YORK)
    assert [delivery_send(delivery_id=d.pk, now=late) for d in sms] == ["sent", "sent"]
    assert len(texts) == 2


def test_muted_announcements_skip_news_but_not_conversations_or_urgent_alerts(
    always_open, texts, django_capture_on_commit_callbacks
):
    world = always_open
    consent.consent_change(
        school=world.north,
        phone=world.parent.phone,
        action="mute_announcements",
        source="sms_keyword",
    )
    with django_capture_on_commit_callbacks(execute=True):
        news = broadcast_create(
            actor=world.users["school_admin"],
            school=world.north,
            subject="Bake sale",
            body="Bake sale on Friday.",
            kind="school",
        )
        alert = broadcast_create(
            actor=world.users["school_admin"],
            school=world.north,
            subject="Lockdown drill",
            body="A lockdown drill at 10.",
            kind="school",
            is_urgent=True,
        )
    parent_sms = Delivery.objects.filter(guardian=world.parent, channel="sms")
    assert parent_sms.get(message__thread=news.thread).status == "skipped"
    assert parent_sms.get(message__thread=alert.thread).status == "sent"
    write(world, django_capture_on_commit_callbacks)
    assert parent_sms.filter(message__thread__kind="direct").get().status == "sent"


def test_status_never_moves_backwards(always_open, texts, django_capture_on_commit_callbacks):
    thread = write(always_open, django_capture_on_commit_callbacks)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert delivery_status_record(provider_id=sms.provider_id, provider_status="delivered")
    assert not delivery_status_record(provider_id=sms.provider_id, provider_status="sent")
    assert not delivery_status_record(provider_id=sms.provider_id, provider_status="delivered")
    sms.refresh_from_db()
    assert sms.status == "delivered" and sms.delivered_at is not None


def test_undelivered_callback_keeps_the_carriers_reason(
    always_open, texts, django_capture_on_commit_callbacks
):
    thread = write(always_open, django_capture_on_commit_callbacks)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    delivery_status_record(
        provider_id=sms.provider_id, provider_status="undelivered", error_code="30003"
    )
    sms.refresh_from_db()
    assert (sms.status, sms.error_code) == ("undelivered", "30003")
    assert "unreachable" in sms.error_reason.lower()


def test_callback_21610_marks_the_number_opted_out(
    always_open, texts, django_capture_on_commit_callbacks
):
    thread = write(always_open, django_capture_on_commit_callbacks)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    delivery_status_record(
        provider_id=sms.provider_id, provider_status="failed", error_code="21610"
    )
    stopped = SmsConsent.objects.get(school=always_open.north, phone=always_open.parent.phone)
    assert stopped.is_opted_out
    assert stopped.changes.get().source == "provider"


def test_a_message_written_while_the_broker_was_down_goes_out_once_swept(
    always_open, texts, django_capture_on_commit_callbacks
):
    # The hand-off after commit is lost (the broker was down, or the process died).
    thread = write(always_open, django_capture_on_commit_callbacks, execute=False)
    assert texts == []
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert deliveries_sweep(now=later)["handed"] == 2
    assert len(texts) == 1
    assert deliveries_sweep(now=later + datetime.timedelta(minutes=1))["handed"] == 0
    assert len(texts) == 1
    assert set(
        Delivery.objects.filter(message__thread=thread).values_list("status", flat=True)
    ) == {"sent"}


def test_a_worker_that_died_after_handing_over_is_not_sent_twice(
    always_open, texts, django_capture_on_commit_callbacks
):
    thread = write(always_open, django_capture_on_commit_callbacks, execute=False)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    # The worker handed the text over, then died before recording it.
    text = delivery_text(sms)
    MemoryBackend().send(to=sms.address, body=text)
    claimed = timezone.now() - datetime.timedelta(minutes=30)
    Delivery.objects.filter(pk=sms.pk).update(status="sending", claimed_at=claimed, attempts=1)

    counts = deliveries_sweep(now=timezone.now())
    sms.refresh_from_db()
    assert counts["recovered"] == 1
    assert (sms.status, sms.provider_id) == ("sent", texts[0].provider_id)
    assert len(texts) == 1


def test_a_worker_that_died_before_handing_over_is_sent_by_the_sweeper(
    always_open, texts, django_capture_on_commit_callbacks
):
    thread = write(always_open, django_capture_on_commit_callbacks, execute=False)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    claimed = timezone.now() - datetime.timedelta(minutes=30)
    Delivery.objects.filter(pk=sms.pk).update(status="sending", claimed_at=claimed, attempts=1)
    Delivery.objects.filter(message__thread=thread).update(
        created_at=claimed
    )  # old enough for the sweeper
    thread.messages.update(created_at=claimed)

    counts = deliveries_sweep(now=timezone.now())
    assert counts["requeued"] == 1
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.attempts == 2
    assert len(texts) == 1


def test_a_translation_that_never_comes_sends_the_original_with_a_note(
    always_open, fake_libretranslate, texts, django_capture_on_commit_callbacks, settings
):
    world = always_open
    world.parent.preferred_language = "es"
    world.parent.save()
    fake_libretranslate.fail_with = 503
    thread = write(world, django_capture_on_commit_callbacks, execute=False)
    sms = Delivery.objects.get(message__thread=thread, channel="sms")
    assert delivery_send(delivery_id=sms.pk) == "waiting-for-translation"
    assert texts == []

    # Past the wait, the sweeper hands it over again and it goes in the original.
    thread.messages.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    later = timezone.now() + datetime.timedelta(seconds=90)
    assert deliveries_sweep(now=later)["handed"] >= 1
    assert delivery_send(delivery_id=sms.pk, now=later) == "sent"
    assert len(texts) == 1
    assert texts[0].body.endswith("Ana did well on her test.")
    assert "(" in texts[0].body.splitlines()[0]  # the note, in Spanish, on its own line


def test_family_reply_reaches_the_other_parent_but_not_its_author(
    always_open, texts, django_capture_on_commit_callbacks
):
    world = always_open
    other = world.ben_parent  # a second guardian in the same thread
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["school_admin"],
            student=world.ana,
            guardians=[world.parent],
            subject="Pick-up",
            body="Who picks Ana up today?",
        )
        thread.participants.create(guardian=other)
    texts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message_post(actor=world.users["parent"], thread=thread, body="Her aunt will.")
    # (at a weekend the parent is also told the office is closed; nothing else comes to them)
    assert [text.to for text in texts if "Her aunt will." in text.body] == [other.phone]
    assert texts[0].body.startswith("Parent")


def test_an_internal_note_reaches_no_family(always_open, texts, django_capture_on_commit_callbacks):
    thread = write(always_open, django_capture_on_commit_callbacks)
    texts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message_post(
            actor=always_open.users["teacher"],
            thread=thread,
            body="Call the aunt.",
            is_internal=True,
        )
    assert texts == []


def test_a_family_without_sms_or_email_has_it_in_the_portal_until_read(
    always_open, django_capture_on_commit_callbacks, client
):
    from messaging.services import thread_mark_read

    world = always_open
    world.parent.wants_sms = world.parent.wants_email = False
    world.parent.save()
    thread = write(world, django_capture_on_commit_callbacks)
    in_app = Delivery.objects.get(message__thread=thread, guardian=world.parent)
    assert (in_app.channel, in_app.status) == ("in_app", "sent")
    thread_mark_read(actor=world.users["parent"], thread=thread)
    in_app.refresh_from_db()
    assert in_app.status == "delivered"


def test_email_goes_through_an_anymail_provider_with_its_unsubscribe_header(
    always_open, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    thread = write(always_open, django_capture_on_commit_callbacks)
    email = Delivery.objects.get(message__thread=thread, channel="email")
    sent = mail.outbox[-1]
    assert sent.anymail_status.status == {"sent"}
    assert email.status == "sent" and email.provider_id
    assert "/email/unsubscribe/" in sent.extra_headers["List-Unsubscribe"]


def test_without_a_translation_provider_a_family_gets_the_original_marked_in_its_language(
    always_open, texts, settings, django_capture_on_commit_callbacks
):
    settings.TRANSLATION_PROVIDER = "none"
    always_open.parent.preferred_language = "es"
    always_open.parent.save()
    write(always_open, django_capture_on_commit_callbacks)
    assert texts[0].body.endswith(
        "(Sin traducción; este es el original.)\nAna did well on her test."
    )
