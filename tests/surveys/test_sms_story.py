"""The issue's check, end to end over real HTTP: a three-question survey goes by text in
Vietnamese and Spanish to a class through the Twilio stand-in; families answer through signed
Twilio webhooks with messy replies, one texts STOP half way, one comes back the next day; the
answers and the response rate are what the families gave. An anonymous survey's answers cannot
be joined back to a family."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from messaging.models import Delivery, SmsConsent
from surveys.models import Answer, Invitation, respondent_key
from surveys.results import survey_question_results, survey_questions, survey_response_rate
from surveys.services import survey_send
from tests.surveys.class_survey import class_survey

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def texting(fake_twilio, live_server, settings, celery_eager):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SMS_SEGMENTS_PER_SECOND = 0
    inbound = live_server.url + "/sms/twilio/inbound/"

    def text(guardian, body: str):
        answer = fake_twilio.text_in(inbound, from_phone=str(guardian.phone), body=body)
        assert answer.status_code == 200

    def received(guardian) -> list[str]:
        return [m["body"] for m in fake_twilio.messages if m["to"] == str(guardian.phone)]

    text.received = received
    return text


def test_a_class_answers_a_survey_by_text_in_vietnamese_and_spanish(
    always_open, texting, fake_twilio, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world)
    with django_capture_on_commit_callbacks(execute=True):
        survey_send(actor=world.users["teacher"], survey=cs.survey)
    cs.survey.refresh_from_db()
    for guardian in (cs.lan, cs.minh):
        assert "1/3 Ngày nào phù hợp với bạn?" in texting.received(guardian)[0]
    for guardian in (cs.jorge, cs.rosa):
        assert "1/3 ¿Qué día le conviene?" in texting.received(guardian)[0]
    # Twilio tells the portal each invitation was delivered.
    for message in list(fake_twilio.messages):
        assert fake_twilio.callback(message["sid"], "delivered") == 204

    # Jorge: messy but clear answers.
    texting(cs.jorge, " 3. ")
    texting(cs.jorge, "si")
    texting(cs.jorge, "Gracias por preguntar")
    # Lan: a number as a word, an answer that does not fit twice, then skips the last.
    texting(cs.lan, "Hai")
    texting(cs.lan, "??")
    assert texting.received(cs.lan)[-1].count("2/3 Nhà bạn có máy tính không?") == 1
    texting(cs.lan, "để tôi hỏi chồng")  # kept as text the second time
    texting(cs.lan, "BỎ QUA")
    # Rosa: answers the first question, then STOP.
    texting(cs.rosa, "#1")
    texting(cs.rosa, "STOP")
    # Minh: answers the first question today...
    texting(cs.minh, "1")
    # ...and the rest the next day (the conversation waits for her).
    Invitation.objects.filter(guardian=cs.minh).update(
        started_at=timezone.now() - datetime.timedelta(days=1),
        invited_at=timezone.now() - datetime.timedelta(days=1, hours=1),
    )
    texting(cs.minh, "KHÔNG")
    texting(cs.minh, "Cảm ơn cô")

    assert texting.received(cs.jorge)[-1].endswith("¡Gracias!")
    assert texting.received(cs.minh)[-1].endswith("Cảm ơn!")
    assert SmsConsent.objects.get(phone=cs.rosa.phone).is_opted_out
    assert "STOP" not in " ".join(texting.received(cs.rosa)[1:-1])  # nothing after the question

    def kept(guardian):
        rows = Answer.objects.filter(invitation__guardian=guardian).select_related(
            "question", "choice"
        )
        return {
            a.question.position: "SKIP"
            if a.is_skipped
            else (str(a.choice.position) if a.choice else a.value or a.text)
            for a in rows
        }

    assert kept(cs.jorge) == {1: "3", 2: "yes", 3: "Gracias por preguntar"}
    assert kept(cs.lan) == {1: "2", 2: "để tôi hỏi chồng", 3: "SKIP"}
    assert kept(cs.rosa) == {1: "1"}
    assert kept(cs.minh) == {1: "1", 2: "no", 3: "Cảm ơn cô"}
    assert kept(cs.parent) == {}
    statuses = dict(
        Invitation.objects.filter(survey=cs.survey).values_list("guardian__given_name", "status")
    )
    assert statuses == {
        "Lan": "completed",
        "Jorge": "completed",
        "Minh": "completed",
        "Rosa": "started",
        "Parent": "invited",
    }
    languages = set(Answer.objects.filter(invitation__guardian=cs.jorge).values_list("language"))
    assert languages == {("es",)}
    # Every text the survey sent went through the pipeline, with its status from Twilio.
    survey_texts = Delivery.objects.filter(message__thread=cs.survey.thread)
    assert survey_texts.filter(status="delivered").count() == 5
    assert not survey_texts.filter(status__in=["queued", "failed"]).exists()
    rate = survey_response_rate(cs.survey)
    assert (rate.invited, rate.started, rate.completed) == (5, 4, 3)
    assert rate.completed_first_day == 2  # Minh finished the next day
    day = {r.position: r for r in survey_question_results(cs.survey, survey_questions(cs.survey))}
    assert {o.label: o.count for o in day[1].options} == {"Monday": 2, "Tuesday": 1, "Wed": 1}
    assert {o.key: o.count for o in day[2].options}["yes"] == 1
    assert (day[2].answered, day[2].written) == (3, 1)  # Lan's words count as written
    assert (day[3].answered, day[3].skipped) == (2, 1)


def test_an_anonymous_surveys_answers_cannot_be_joined_back_to_a_family(
    always_open, texting, django_capture_on_commit_callbacks
):
    world = always_open
    cs = class_survey(world, is_anonymous=True)
    with django_capture_on_commit_callbacks(execute=True):
        survey_send(actor=world.users["teacher"], survey=cs.survey)
    assert "anonymous" in texting.received(cs.parent)[0]
    for guardian, replies in ((cs.jorge, ["2", "no", "skip"]), (cs.lan, ["1", "có", "Tốt"])):
        for body in replies:
            texting(guardian, body)
    answers = Answer.objects.filter(question__survey=cs.survey)
    assert answers.count() == 6
    assert not answers.filter(invitation__isnull=False).exists()
    tokens = Invitation.objects.filter(survey=cs.survey).values_list("token", flat=True)
    keys = set(answers.values_list("respondent", flat=True))
    assert len(keys) == 2 and not keys & set(tokens)
    # What an answer row holds, and nothing more: no family, no invitation, the day only.
    with connection.cursor() as cursor:
        columns = {
            c.name for c in connection.introspection.get_table_description(cursor, "surveys_answer")
        }
    assert columns == {
        "id", "question_id", "invitation_id", "respondent", "choice_id", "value", "text",
        "language", "grade", "is_skipped", "created_at",
    }  # fmt: skip
    assert {answer.created_at.time() for answer in answers} == {datetime.time(0, 0)}
    assert set(answers.values_list("grade", flat=True)) == {"4"}
    # The ids are random: their order says nothing of who answered first.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM surveys_answer")
        ids = [row[0] for row in cursor.fetchall()]
    assert all(len(str(value).replace("-", "")) == 32 for value in ids)
    # Only the secret key can recompute a family's key from its token.
    assert respondent_key(Invitation.objects.get(guardian=cs.jorge).token) in keys
    statuses = Invitation.objects.filter(survey=cs.survey, status="completed").count()
    assert statuses == 2
