"""The staff's survey pages: a teacher builds a survey for their class, has it machine translated
(a suggestion until accepted), previews it as an SMS conversation, checks who it reaches and
sends it; only its maker and the school's admins reach its pages."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.channels.sms import MemoryBackend
from surveys import builder
from surveys.models import Invitation, Survey, SurveyTranslationSuggestion
from surveys.services import survey_send
from tests.surveys.class_survey import class_survey, family

pytestmark = pytest.mark.django_db

INDEX = reverse("survey_manage:index")
NEW = reverse("survey_manage:new")


def url(name: str, survey, *args) -> str:
    return reverse(f"survey_manage:{name}", args=[survey.pk, *args])


def survey_form(world, **changes) -> dict:
    return {
        "school": world.north.pk,
        "title": "Conference week",
        "introduction": "Two quick questions.",
        "thank_you": "Thank you!",
        "audience": "section",
        "sections": [world.math.pk],
        "by_sms": "on",
        "on_web": "on",
        **changes,
    }


def question_form(text, kind, *choices, required=True) -> dict:
    form = {"text": text, "kind": kind}
    if required:
        form["is_required"] = "on"
    form.update({f"choice_{number}": choice for number, choice in enumerate(choices, start=1)})
    return form


def between(page: str, start: str, end: str) -> str:
    """The part of the page from `start` to the next `end`."""
    first = page.index(start)
    return page[first : page.index(end, first)]


@pytest.fixture
def outbox(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox


def test_a_teacher_builds_translates_previews_and_sends_a_survey_to_their_class(
    always_open, client, outbox, fake_libretranslate, django_capture_on_commit_callbacks
):
    world = always_open
    family(world, "Jorge", "es", "+14155550102")
    family(world, "Lan", "vi", "+14155550101")
    client.force_login(world.users["teacher"])

    created = client.post(NEW, survey_form(world))
    survey = Survey.objects.get()
    assert created.status_code == 302 and created["Location"] == url("questions", survey)
    questions = url("questions", survey)
    client.post(questions, question_form("Which day suits you?", "single_choice", "Mon", "Tue"))
    client.post(questions, question_form("Do you have a laptop?", "yes_no"))
    laptop = survey.questions.get(kind="yes_no")
    client.post(url("question_move", survey, laptop.pk), {"position": 1})
    page = client.get(questions).content.decode()
    assert page.index("Do you have a laptop?") < page.index("Which day suits you?")

    # Spanish: a machine suggestion, marked, that families do not get until it is accepted.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("translation_suggest", survey, "es"))
    spanish = client.get(url("translation", survey, "es")).content.decode()
    assert "Machine suggestion" in spanish and "[en-&gt;es] Do you have a laptop?" in spanish
    assert 'for="id_title">Title (Español)</label>' in spanish
    survey.refresh_from_db()
    assert survey.title_es == ""
    client.post(url("translation_accept", survey, "es"))
    survey.refresh_from_db()
    assert survey.title_es == "[en->es] Conference week" and survey.machine_languages == ["es"]

    conversation = client.get(url("preview_sms", survey), {"language": "es"}).content.decode()
    first, second = (
        conversation.index("[en-&gt;es] Do you"),
        conversation.index("[en-&gt;es] Which"),
    )
    assert conversation.index("[en-&gt;es] Conference week") < first < second
    assert "Family (example answer)" in conversation

    check = client.get(url("send", survey)).content.decode()
    assert "Reaches 3 families" in check  # Ana's mother, Jorge, Lan
    assert "1 guardian may not be contacted" in check  # Ana's father: no contact
    vietnamese = between(check, '<th scope="row">Vietnamese</th>', "</tr>")
    assert "the machine translates it when sent" in vietnamese
    assert "Send to 3 families" in check

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url("send", survey), follow=True)
    assert "Sent: 3 families answer by text, 0 on the web." in sent.content.decode()
    survey.refresh_from_db()
    assert survey.status == "open" and Invitation.objects.filter(survey=survey).count() == 3
    assert survey.title_vi == "[en->vi] Conference week"  # the machine, when it was sent
    assert sorted(survey.machine_languages) == ["es", "vi"]
    assert any("[en->vi] Do you have a laptop?" in text.body for text in outbox)

    detail = client.get(url("detail", survey)).content.decode()
    invited = between(detail, "Families invited</dt>", "</div>")
    assert "<dd>3</dd>" in invited
    assert reverse("survey_results:detail", args=[survey.pk]) in detail
    assert client.get(url("edit", survey))["Location"] == url("detail", survey)  # sent: fixed


def test_a_mistake_is_shown_beside_the_field_it_is_about(world, client):
    client.force_login(world.users["teacher"])
    yesterday = timezone.localtime() - datetime.timedelta(days=1)
    answer = client.post(NEW, survey_form(world, closes_at=yesterday.strftime("%Y-%m-%dT%H:%M")))
    assert answer.status_code == 400 and not Survey.objects.exists()
    page = answer.content.decode()
    assert "Choose a closing time ahead, or none." in between(
        page, 'name="opens_at"', 'name="closes_at"'
    )

    survey = builder.survey_save(
        actor=world.users["teacher"],
        school=world.north,
        title="Conference week",
        audience="section",
        sections=[world.math],
    )
    one_choice = question_form("Which day suits you?", "single_choice", "Monday")
    answer = client.post(url("questions", survey), one_choice)
    assert answer.status_code == 400 and not survey.questions.exists()
    choices = between(answer.content.decode(), "<legend>Choices</legend>", 'name="choice_1"')
    assert "Give it between 2 and 9 choices." in choices


def test_a_teacher_cannot_ask_another_class_from_the_page(world, client):
    client.force_login(world.users["teacher"])
    answer = client.post(NEW, survey_form(world, sections=[world.art.pk]))
    assert answer.status_code == 400 and not Survey.objects.exists()
    offered = [label for _value, label in answer.context["form"].fields["sections"].choices]
    assert offered == ["Math 4"]  # only their own classes are offered


def test_questions_are_edited_and_removed_with_plain_forms(world, client):
    survey = builder.survey_save(
        actor=world.users["teacher"],
        school=world.north,
        title="Conference week",
        audience="section",
        sections=[world.math],
    )
    day = builder.question_add(
        actor=world.users["teacher"],
        survey=survey,
        kind="single_choice",
        text="Which day?",
        choices=["Monday", "Tuesday"],
    )
    client.force_login(world.users["teacher"])
    edit = client.get(url("question_edit", survey, day.pk)).content.decode()
    assert 'value="Tuesday"' in edit and 'for="id_choice_3">Choice 3</label>' in edit
    client.post(
        url("question_edit", survey, day.pk),
        question_form("Which evening?", "single_choice", "Monday", "Tuesday", "Friday"),
    )
    day.refresh_from_db()
    assert day.text_en == "Which evening?"
    assert list(day.choices.values_list("text_en", flat=True)) == ["Monday", "Tuesday", "Friday"]
    client.post(url("question_remove", survey, day.pk))
    assert not survey.questions.exists()


# ---- Who reaches what -------------------------------------------------------------------------


@pytest.fixture
def drafted(world):
    """A draft by the math teacher, with one question and a Spanish suggestion waiting."""
    survey = builder.survey_save(
        actor=world.users["teacher"],
        school=world.north,
        title="Conference week",
        audience="section",
        sections=[world.math],
    )
    question = builder.question_add(
        actor=world.users["teacher"], survey=survey, kind="yes_no", text="Laptop at home?"
    )
    SurveyTranslationSuggestion.objects.create(
        survey=survey,
        language="es",
        status="ready",
        source_texts={"title": "Conference week"},
        texts={"title": "Semana"},
        asked_at=timezone.now(),
    )
    return survey, question


def survey_pages(survey, question) -> list[tuple[str, str]]:
    return [
        ("get", url("detail", survey)),
        ("get", url("edit", survey)),
        ("post", url("edit", survey)),
        ("get", url("questions", survey)),
        ("post", url("questions", survey)),
        ("get", url("question_edit", survey, question.pk)),
        ("post", url("question_edit", survey, question.pk)),
        ("post", url("question_move", survey, question.pk)),
        ("post", url("question_remove", survey, question.pk)),
        ("get", url("translations", survey)),
        ("get", url("translation", survey, "es")),
        ("post", url("translation", survey, "es")),
        ("post", url("translation_suggest", survey, "es")),
        ("post", url("translation_accept", survey, "es")),
        ("post", url("translation_discard", survey, "es")),
        ("get", url("preview_sms", survey)),
        ("get", url("send", survey)),
        ("post", url("send", survey)),
        ("post", url("close", survey)),
    ]


@pytest.mark.parametrize("key", ["art_teacher", "counselor", "south_teacher", "parent"])
def test_nobody_but_its_maker_and_the_schools_admins_reaches_a_survey(world, client, drafted, key):
    survey, question = drafted
    client.force_login(world.users[key])
    refusals = {403, 404} if key == "parent" else {404}  # a family: no staff page at all
    for method, page in survey_pages(survey, question):
        assert getattr(client, method)(page).status_code in refusals, page
    if key != "parent":
        assert "Conference week" not in client.get(INDEX).content.decode()
    survey.refresh_from_db()
    assert survey.status == "draft" and survey.title_es == "" and survey.questions.count() == 1
    assert SurveyTranslationSuggestion.objects.filter(survey=survey).exists()


def test_a_family_gets_no_staff_page(world, client):
    client.force_login(world.users["parent"])
    assert client.get(INDEX).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, survey_form(world)).status_code == 403
    assert not Survey.objects.exists()
    assert reverse("survey_manage:index") not in client.get(reverse("home")).content.decode()


def test_the_school_admin_sees_and_keeps_the_schools_surveys(world, client, drafted):
    survey, _question = drafted
    client.force_login(world.users["school_admin"])
    home = client.get(reverse("home")).content.decode()
    assert f'href="{INDEX}"' in home
    listed = client.get(INDEX).content.decode()
    assert "Conference week" in listed and url("detail", survey) in listed
    assert client.get(url("detail", survey)).status_code == 200
    client.post(url("translation_accept", survey, "es"))
    survey.refresh_from_db()
    assert survey.title_es == "Semana" and survey.machine_languages == ["es"]


def test_the_maker_sees_the_draft_and_its_web_previews(world, client, drafted):
    survey, _question = drafted
    client.force_login(world.users["teacher"])
    page = client.get(url("detail", survey)).content.decode()
    assert reverse("surveys:preview", args=[survey.pk, "vi"]) in page
    assert url("preview_sms", survey) + "?language=ar" in page


def test_closing_a_sent_survey_from_its_page(always_open, client, outbox):
    world = always_open
    sent = class_survey(world)
    survey_send(actor=world.users["teacher"], survey=sent.survey)
    client.force_login(world.users["teacher"])
    closed = client.post(url("close", sent.survey), follow=True)
    assert "Closed: no more answers are taken." in closed.content.decode()
    sent.survey.refresh_from_db()
    assert sent.survey.status == "closed" and sent.survey.closed_at is not None
    translation = client.get(url("translation", sent.survey, "es")).content.decode()
    assert "its texts can no longer be changed" in translation
    assert 'name="title"' not in translation
    refused = client.post(url("translation", sent.survey, "es"), {"title": "Otra"}, follow=True)
    assert "This survey is closed" in refused.content.decode()
    sent.survey.refresh_from_db()
    assert sent.survey.title_es == "Semana de reuniones"


def test_the_list_says_how_many_families_completed_each_survey(always_open, client, outbox):
    world = always_open
    sent = class_survey(world)
    survey_send(actor=world.users["teacher"], survey=sent.survey)
    Invitation.objects.filter(survey=sent.survey, guardian=sent.jorge).update(status="completed")
    client.force_login(world.users["teacher"])
    listed = client.get(INDEX).content.decode()
    figures = re.sub(r"\s+", " ", listed)
    assert "1 of 5 families completed it" in figures


def test_the_list_and_a_sent_surveys_page_cost_the_same_queries_however_big(
    client, always_open, outbox, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from surveys.services import answer_save

    world = always_open
    client.force_login(world.users["teacher"])

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    small = class_survey(world)
    with django_capture_on_commit_callbacks(execute=True):
        survey_send(actor=world.users["teacher"], survey=small.survey)
    counts = (queries(INDEX), queries(url("detail", small.survey)))

    for number in range(4):  # more surveys, more families, more answers
        family(world, f"Extra {number}", "es", f"+1415555019{number}")
        Survey.objects.create(
            school=world.north, created_by=world.teacher, title_en=f"Draft {number}",
            audience="section",
        )  # fmt: skip
    for invitation in Invitation.objects.filter(survey=small.survey):
        answer_save(invitation=invitation, question=small.laptop, value="yes", language="en")
    assert (queries(INDEX), queries(url("detail", small.survey))) == counts
