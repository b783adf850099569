"""The survey tables keep what the issue asks of them: translated texts, one invitation per
family, and anonymous answers with no way back to a family in the database."""

import pytest
from django.db import IntegrityError, transaction

from surveys.models import Answer, Choice, Invitation, Question, Survey, respondent_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(world):
    survey = Survey.objects.create(
        school=world.north,
        created_by=world.teacher,
        title_en="What does your family need?",
        title_es="¿Qué necesita su familia?",
        audience="section",
        is_anonymous=True,
    )
    question = Question.objects.create(
        survey=survey, position=1, kind="single_choice", text_en="Which day suits you?"
    )
    Choice.objects.create(question=question, position=1, text_en="Monday", text_vi="Thứ Hai")
    return survey


def test_texts_are_kept_in_every_family_language(survey):
    assert survey.title_es == "¿Qué necesita su familia?"
    assert survey.questions.get().choices.get().text_vi == "Thứ Hai"


def test_a_family_is_invited_once_per_survey(world, survey):
    Invitation.objects.create(survey=survey, guardian=world.parent, channel="sms", token="a" * 40)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            survey=survey, guardian=world.parent, channel="web", token="b" * 40
        )


def test_a_survey_goes_by_at_least_one_channel(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(
            school=world.north,
            title="No way to answer",
            audience="school",
            by_sms=False,
            on_web=False,
        )


def test_an_anonymous_answer_keeps_no_way_back_to_the_family(world, survey):
    invitation = Invitation.objects.create(
        survey=survey, guardian=world.parent, channel="sms", token="c" * 40
    )
    question = survey.questions.get()
    key = respondent_key(invitation.token)
    answer = Answer.objects.create(
        question=question, respondent=key, choice=question.choices.get(), language="es"
    )
    assert answer.invitation is None
    assert key != invitation.token and len(key) == 64
    stored = Answer.objects.values().get(pk=answer.pk)
    assert invitation.token not in {str(value) for value in stored.values()}
    links = {field.name for field in Answer._meta.get_fields() if field.many_to_one}
    assert links == {"question", "invitation", "choice"}  # nothing else leads to a family
