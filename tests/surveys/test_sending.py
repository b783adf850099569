"""Sending a survey: who is invited by which channel, the languages no person translated, and
the families the survey cannot reach."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from messaging.channels.sms import MemoryBackend
from messaging.delivery import deliveries_sweep, delivery_send
from messaging.models import Delivery, SmsConsent
from surveys.models import Invitation
from surveys.services import SurveyError, survey_send
from tests.surveys.class_survey import class_survey, family

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def texts(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    MemoryBackend.outbox.clear()
    cache.clear()
    return MemoryBackend.outbox


def texts_to(guardian) -> list[str]:
    return [text.body for text in MemoryBackend.outbox if text.to == str(guardian.phone)]


def send(world, survey, capture):
    with capture(execute=True):
        summary = survey_send(actor=world.users["teacher"], survey=survey)
    survey.refresh_from_db()
    return summary


def test_a_language_nobody_translated_is_translated_by_the_machine_before_it_goes(
    always_open, fake_libretranslate, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world)
    faduma = family(world, "Faduma", "so", "+14155550105")
    send(world, cs.survey, django_capture_on_commit_callbacks)
    [somali] = texts_to(faduma)
    assert "[en->so] Conference week" in somali
    assert "1/3 [en->so] Which day suits you?" in somali and "1 [en->so] Monday" in somali
    assert "so" in cs.survey.machine_languages
    assert cs.survey.questions.get(position=1).text_so == "[en->so] Which day suits you?"
    # Spanish and Vietnamese were written by people: the machine was not asked for them.
    asked = {request["target"] for request in fake_libretranslate.translations()}
    assert asked == {"so"}
    assert "es" not in cs.survey.machine_languages


def test_while_the_translation_is_due_the_text_waits_then_goes_in_the_original_with_a_note(
    always_open, fake_libretranslate, settings, django_capture_on_commit_callbacks
):
    world = always_open
    fake_libretranslate.fail_with = 503
    cs = class_survey(world)
    faduma = family(world, "Faduma", "so", "+14155550105")
    with django_capture_on_commit_callbacks(execute=False):  # the task would retry later
        survey_send(actor=world.users["teacher"], survey=cs.survey)
    cs.survey.refresh_from_db()
    jorge = Delivery.objects.get(message__thread=cs.survey.thread, guardian=cs.jorge)
    assert delivery_send(delivery_id=jorge.pk) == "sent"  # Spanish is ready: not held back
    waiting = Delivery.objects.get(message__thread=cs.survey.thread, guardian=faduma)
    assert delivery_send(delivery_id=waiting.pk) == "waiting-for-translation"
    assert texts_to(faduma) == []
    later = timezone.now() + datetime.timedelta(seconds=settings.TRANSLATION_WAIT_SECONDS + 120)
    deliveries_sweep(now=later)
    delivery_send(delivery_id=waiting.pk, now=later)
    [original] = texts_to(faduma)
    assert original.startswith("(Not translated yet; the original follows.)")
    assert "1/3 Which day suits you?" in original


def test_with_no_translation_provider_the_original_goes_marked_at_once(
    always_open, settings, django_capture_on_commit_callbacks
):
    settings.TRANSLATION_PROVIDER = "none"
    world = always_open
    cs = class_survey(world)
    faduma = family(world, "Faduma", "so", "+14155550105")
    send(world, cs.survey, django_capture_on_commit_callbacks)
    [original] = texts_to(faduma)
    assert original.startswith("(No translation; this is the original.)")


def test_a_web_survey_sends_each_family_its_link_by_text_and_email(
    always_open, mailoutbox, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world, by_sms=False)
    cs.jorge.email, cs.jorge.wants_email = "jorge@example.org", True
    cs.jorge.save()
    summary = send(world, cs.survey, django_capture_on_commit_callbacks)
    assert (summary.by_sms, summary.on_web) == (0, 5)
    token = Invitation.objects.get(guardian=cs.jorge).token
    [text] = texts_to(cs.jorge)
    assert f"https://portal.example.org/s/{token}/" in text and "1/3" not in text
    [email] = [mail for mail in mailoutbox if mail.to == ["jorge@example.org"]]
    assert f"/s/{token}/" in email.body


def test_a_number_that_muted_announcements_is_sent_no_survey_text(
    always_open, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world, on_web=False)
    SmsConsent.objects.create(school=world.north, phone=cs.rosa.phone, announcements_muted=True)
    summary = send(world, cs.survey, django_capture_on_commit_callbacks)
    assert texts_to(cs.rosa) == []
    assert not Invitation.objects.filter(guardian=cs.rosa).exists()
    assert summary.by_sms == 4 and summary.unreachable >= 1


def test_a_survey_is_sent_once(always_open, django_capture_on_commit_callbacks):
    world = always_open
    cs = class_survey(world)
    send(world, cs.survey, django_capture_on_commit_callbacks)
    with pytest.raises(SurveyError, match="already sent"):
        survey_send(actor=world.users["teacher"], survey=cs.survey)
    assert Invitation.objects.count() == 5


def test_another_teacher_cannot_send_a_teachers_survey(
    always_open, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world)
    with pytest.raises(SurveyError):
        survey_send(actor=world.users["art_teacher"], survey=cs.survey)
    assert not Invitation.objects.exists()


def test_emails_of_a_survey_have_its_title_in_the_familys_language(
    always_open, mailoutbox, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world, by_sms=False, reminder_after_hours=1)
    cs.jorge.email, cs.jorge.wants_email = "jorge@example.org", True
    cs.jorge.save()
    send(world, cs.survey, django_capture_on_commit_callbacks)
    later = timezone.now() + datetime.timedelta(hours=2)
    from surveys.services import survey_reminders_send

    with django_capture_on_commit_callbacks(execute=True):
        survey_reminders_send(now=later)
    subjects = [mail.subject for mail in mailoutbox if mail.to == ["jorge@example.org"]]
    assert subjects[0] == "North Elementary: Semana de reuniones"
    assert subjects[1].endswith("North Elementary: Semana de reuniones")
    assert subjects[1] != subjects[0]  # "Reminder: ..." in Spanish
    [reminder] = [text for text in texts_to(cs.jorge) if "Semana" in text][1:]
    assert f"/s/{Invitation.objects.get(guardian=cs.jorge).token}/" in reminder
