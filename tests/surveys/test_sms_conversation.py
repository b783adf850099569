"""A survey by text, through the signed Twilio webhook: the invitation carries the first
question in each family's language, answers are read forgivingly, an answer that does not fit is
asked again once and then kept as text, SKIP skips an optional question, STOP still stops, and a
number answers one survey at a time."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from messaging.channels.sms import MemoryBackend
from messaging.models import Delivery, InboundSms, SmsConsent
from messaging.services import thread_start
from surveys.models import Answer, Invitation, Survey
from surveys.services import (
    SurveyError,
    survey_close,
    survey_reminders_send,
    survey_send,
    surveys_close_due,
)
from tests.surveys.class_survey import class_survey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def texts(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    settings.TWILIO_AUTH_TOKEN = "inbound-test-token"
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    MemoryBackend.outbox.clear()
    cache.clear()
    return MemoryBackend.outbox


@pytest.fixture
def sent(always_open, django_capture_on_commit_callbacks):
    """The class survey, sent by the math teacher."""
    world = always_open
    cs = class_survey(world)
    with django_capture_on_commit_callbacks(execute=True):
        summary = survey_send(actor=world.users["teacher"], survey=cs.survey)
    cs.survey.refresh_from_db()
    cs.summary = summary
    return cs


def texts_to(guardian) -> list[str]:
    return [text.body for text in MemoryBackend.outbox if text.to == str(guardian.phone)]


def answers(cs, guardian) -> dict[int, str]:
    """question position -> what was kept (a choice's position, a value, or the text)."""
    invitation = Invitation.objects.get(survey=cs.survey, guardian=guardian)
    kept = {}
    for answer in Answer.objects.filter(invitation=invitation).select_related("question", "choice"):
        if answer.is_skipped:
            kept[answer.question.position] = "SKIPPED"
        elif answer.choice:
            kept[answer.question.position] = str(answer.choice.position)
        else:
            kept[answer.question.position] = answer.value or answer.text
    return kept


def test_each_family_gets_the_first_question_in_its_language_and_its_own_link(sent):
    [vietnamese] = texts_to(sent.lan)
    assert "Tuần họp phụ huynh" in vietnamese
    assert "1/3 Ngày nào phù hợp với bạn?" in vietnamese
    assert "1 Thứ Hai\n2 Thứ Ba\n3 Thứ Tư" in vietnamese
    [spanish] = texts_to(sent.jorge)
    assert "1/3 ¿Qué día le conviene?" in spanish and "Lunes" in spanish
    lan = Invitation.objects.get(survey=sent.survey, guardian=sent.lan)
    jorge = Invitation.objects.get(survey=sent.survey, guardian=sent.jorge)
    assert f"/s/{lan.token}/" in vietnamese and f"/s/{jorge.token}/" in spanish
    assert lan.token != jorge.token and len(lan.token) >= 22
    assert (lan.channel, lan.current_question) == ("sms", sent.day)
    # The world's English-speaking mother too; Ana's barred father is never invited.
    assert sent.summary.by_sms == 5
    assert not Invitation.objects.filter(guardian__given_name="Barred Father").exists()
    deliveries = Delivery.objects.filter(message__thread=sent.survey.thread)
    assert set(deliveries.values_list("status", flat=True)) == {"sent"}


def test_messy_answers_are_read_and_the_conversation_moves_on(sent, sms):
    sms(sent.jorge.phone, " 2. ")
    assert "2/3 ¿Tiene una computadora en casa?" in texts_to(sent.jorge)[-1]
    sms(sent.jorge.phone, "¡Sí!")  # a yes, not the carrier's START: the number takes texts
    assert "3/3 ¿Algo más?" in texts_to(sent.jorge)[-1]
    sms(sent.jorge.phone, "  Más tarde, por favor ")
    assert texts_to(sent.jorge)[-1].endswith("¡Gracias!")
    assert answers(sent, sent.jorge) == {1: "2", 2: "yes", 3: "Más tarde, por favor"}
    invitation = Invitation.objects.get(survey=sent.survey, guardian=sent.jorge)
    assert (invitation.status, invitation.current_question) == ("completed", None)
    assert not SmsConsent.objects.filter(phone=sent.jorge.phone).exists()  # no opt-in recorded
    routes = set(InboundSms.objects.values_list("route", flat=True))
    assert routes == {"survey"}


def test_an_answer_that_does_not_fit_is_asked_again_once_then_kept_as_text(sent, sms):
    sms(sent.lan.phone, "hai")  # two, in Vietnamese
    sms(sent.lan.phone, "có lẽ")  # "maybe": asked again with the hint
    assert texts_to(sent.lan)[-1].count("2/3 Nhà bạn có máy tính không?") == 1
    sms(sent.lan.phone, "chưa biết")  # still does not fit: kept as the family wrote it
    assert "3/3" in texts_to(sent.lan)[-1]
    sms(sent.lan.phone, "bỏ qua")  # SKIP in Vietnamese: the last question is optional
    assert answers(sent, sent.lan) == {1: "2", 2: "chưa biết", 3: "SKIPPED"}
    answer = Answer.objects.get(question=sent.laptop, invitation__guardian=sent.lan)
    assert answer.language == "vi"


def test_skip_does_not_skip_a_required_question(sent, sms):
    sms(sent.minh.phone, "skip")
    assert "1/3" in texts_to(sent.minh)[-1]  # asked again
    assert answers(sent, sent.minh) == {}


def test_stop_in_the_middle_stops_texts_and_keeps_the_answers_given(sent, sms):
    sms(sent.rosa.phone, "1")
    before = len(texts_to(sent.rosa))
    sms(sent.rosa.phone, "STOP")
    assert SmsConsent.objects.get(phone=sent.rosa.phone).is_opted_out
    assert len(texts_to(sent.rosa)) == before + 1  # the carrier's confirmation, nothing else
    sms(sent.rosa.phone, "no")  # after STOP no question follows: the text is kept for staff
    assert len(texts_to(sent.rosa)) == before + 1
    assert answers(sent, sent.rosa) == {1: "1", 2: "no"}
    invitation = Invitation.objects.get(survey=sent.survey, guardian=sent.rosa)
    assert invitation.status == "started"
    skipped = Delivery.objects.get(
        message__thread=sent.survey.thread, guardian=sent.rosa, message__body=str(sent.wish.pk)
    )
    assert (skipped.status, skipped.error_code) == ("skipped", "opted-out")


def test_a_second_survey_waits_for_the_first_conversation_to_end(
    sent, sms, always_open, django_capture_on_commit_callbacks
):
    world = always_open
    second = Survey.objects.create(
        school=world.north,
        created_by=world.teacher,
        title_en="Field trip",
        title_vi="Dã ngoại",
        audience="section",
        by_sms=True,
        on_web=False,
    )
    second.sections.add(world.math)
    second.questions.create(
        position=1, kind="yes_no", text_en="May Ana go?", text_vi="Con có được đi không?"
    )
    with django_capture_on_commit_callbacks(execute=True):
        summary = survey_send(actor=world.users["teacher"], survey=second)
    assert summary.waiting == 5  # every number is in the first survey's conversation
    assert len(texts_to(sent.lan)) == 1
    sms(sent.lan.phone, "1")
    sms(sent.lan.phone, "2")  # answers the first survey's question 2, not the field trip
    sms(sent.lan.phone, "Không")
    assert answers(sent, sent.lan) == {1: "1", 2: "no", 3: "Không"}
    assert texts_to(sent.lan)[-2].endswith("Cảm ơn!")
    assert "Dã ngoại" in texts_to(sent.lan)[-1]  # the field trip starts now
    waiting = Invitation.objects.get(survey=second, guardian=sent.lan)
    assert (waiting.is_waiting, waiting.current_question.position) == (False, 1)
    sms(sent.lan.phone, "có")
    assert Answer.objects.get(invitation=waiting).value == "yes"


def test_closing_ends_conversations_and_starts_the_waiting_survey(
    sent, sms, always_open, django_capture_on_commit_callbacks
):
    world = always_open
    second = Survey.objects.create(
        school=world.north, created_by=world.teacher, title_en="Field trip", audience="section"
    )
    second.sections.add(world.math)
    second.questions.create(position=1, kind="yes_no", text_en="May Ana go?")
    with django_capture_on_commit_callbacks(execute=True):
        survey_send(actor=world.users["teacher"], survey=second)
        survey_close(actor=world.users["teacher"], survey=sent.survey)
    assert "Field trip" in texts_to(sent.jorge)[-1]
    with pytest.raises(SurveyError):
        survey_close(actor=world.users["teacher"], survey=sent.survey)


def test_a_text_before_the_survey_asked_anything_goes_to_the_school(
    always_open, sms, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world, opens_at=timezone.now() + datetime.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        survey_send(actor=world.users["teacher"], survey=cs.survey)
    assert texts_to(cs.lan) == []  # held until it opens
    cs.survey.refresh_from_db()
    held = Delivery.objects.get(message__thread=cs.survey.thread, guardian=cs.lan)
    assert (held.status, held.next_attempt_at) == ("deferred", cs.survey.opens_at)
    inbound = sms(cs.lan.phone, "2")
    assert inbound.route == "office"


def test_a_teacher_cannot_survey_another_class(always_open):
    world = always_open
    cs = class_survey(world)
    cs.survey.sections.set([world.art])
    with pytest.raises(SurveyError):
        survey_send(actor=world.users["teacher"], survey=cs.survey)
    cs.survey.refresh_from_db()
    assert cs.survey.status == "draft" and not Invitation.objects.exists()


def test_a_survey_that_cannot_be_answered_is_not_sent(always_open):
    world = always_open
    cs = class_survey(world)
    cs.day.choices.filter(position__gt=1).delete()
    with pytest.raises(SurveyError, match="2 to 9 choices"):
        survey_send(actor=world.users["teacher"], survey=cs.survey)


def test_one_reminder_after_the_set_hours_to_families_not_finished(
    sent, sms, django_capture_on_commit_callbacks
):
    sent.survey.reminder_after_hours = 24
    sent.survey.save()
    sms(sent.jorge.phone, "1")
    sms(sent.jorge.phone, "2")
    sms(sent.jorge.phone, "SKIP")  # finished
    sms(sent.rosa.phone, "STOP")  # opted out: the reminder is not sent
    assert survey_reminders_send(now=timezone.now()) == 0  # not yet
    later = timezone.now() + datetime.timedelta(hours=25)
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_send(now=later) == 4  # Lan, Minh, Rosa, Ana's mother
        assert survey_reminders_send(now=later) == 0  # once
    assert "1/3 ¿Qué día" in texts_to(sent.rosa)[0]
    assert not any("Recordatorio" in text or "Reminder" in text for text in texts_to(sent.rosa))
    reminder = texts_to(sent.minh)[-1]
    assert reminder.count("1/3 Ngày nào phù hợp với bạn?") == 1
    assert len(texts_to(sent.minh)) == 2
    assert not any("Reminder" in text for text in texts_to(sent.jorge))


def test_the_reminder_waits_for_quiet_hours(sent, django_capture_on_commit_callbacks):
    school = sent.survey.school
    school.quiet_hours_start, school.quiet_hours_end = datetime.time(0, 0), datetime.time(23, 59)
    school.save()
    sent.survey.reminder_after_hours = 1
    sent.survey.save()
    later = timezone.now() + datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        survey_reminders_send(now=later)
    reminders = Delivery.objects.filter(message__event="survey_reminder")
    assert reminders.count() == 5
    assert set(reminders.values_list("status", flat=True)) == {"deferred"}


def test_a_survey_closes_at_its_closing_time(sent, sms):
    sent.survey.closes_at = timezone.now() + datetime.timedelta(hours=1)
    sent.survey.save()
    assert surveys_close_due(now=timezone.now()) == 0
    assert surveys_close_due(now=timezone.now() + datetime.timedelta(hours=2)) == 1
    sent.survey.refresh_from_db()
    assert sent.survey.status == "closed"
    assert sms(sent.lan.phone, "1").route != "survey"


def test_a_conversation_text_about_something_else_after_the_survey_goes_to_the_teacher(
    sent, sms, always_open, django_capture_on_commit_callbacks
):
    world = always_open
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana",
            body="Ana did well.",
        )
    for body in ("1", "yes", "skip"):
        assert sms(world.parent.phone, body).route == "survey"
    inbound = sms(world.parent.phone, "Thank you, see you Monday")
    assert inbound.route == "thread" and inbound.message.thread == thread
