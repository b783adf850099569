"""The survey API (/api/v1/surveys/): the same readers as the results page, texts in the
reader's language with every translation, and the results page's figures, anonymity included."""

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import GuardianFactory, SurveyFactory
from tests.surveys.results_world import anonymous_survey, conference, invite

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_throttle_counts(monkeypatch):
    """Each test counts its own requests, in memory (never in a Redis that CI shares)."""
    counts = LocMemCache("tests-survey-api-throttle", {})
    counts.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", counts)


@pytest.fixture
def named(world):
    return conference(world)


def client_for(world, role: str, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.users[role])
    return client


def listed_titles(client) -> list[str]:
    response = client.get("/api/v1/surveys/")
    assert response.status_code == 200, response.content
    return [survey["title"] for survey in response.json()["results"]]


def test_staff_list_the_surveys_whose_results_they_may_read(world, named):
    SurveyFactory(school=world.north, created_by=world.art_teacher, title_en="Art supplies")
    SurveyFactory(school=world.south, created_by=world.south_teacher, title_en="South survey")
    assert listed_titles(client_for(world, "teacher")) == ["Conference week"]
    assert listed_titles(client_for(world, "art_teacher")) == ["Art supplies"]
    assert set(listed_titles(client_for(world, "school_admin"))) == {
        "Conference week",
        "Art supplies",
    }
    assert listed_titles(client_for(world, "counselor")) == []
    assert len(listed_titles(client_for(world, "superuser"))) == 3


def test_a_survey_not_yours_is_not_found_and_families_are_refused(world, named):
    url = f"/api/v1/surveys/{named.survey.pk}/"
    for path in ("", "questions/", "results/"):
        assert client_for(world, "art_teacher").get(url + path).status_code == 404
        assert client_for(world, "parent").get(url + path).status_code == 403
        assert APIClient().get(url + path).status_code in (401, 403)


def test_a_survey_reads_in_the_readers_language_with_every_translation(world, named):
    named.survey.title_es = "Semana de reuniones"
    named.survey.save()
    shown = client_for(world, "teacher", "es").get(f"/api/v1/surveys/{named.survey.pk}/").json()
    assert shown["language"] == "es"
    assert shown["title"] == "Semana de reuniones"
    assert shown["translations"]["en"]["title"] == "Conference week"
    assert shown["translations"]["es"] == {
        "title": "Semana de reuniones",
        "introduction": "",
        "thank_you": "",
    }
    assert "vi" not in shown["translations"]
    assert (shown["invited"], shown["started"], shown["completed"]) == (8, 6, 5)
    assert (shown["status"], shown["is_anonymous"]) == ("open", False)


def test_questions_come_in_order_with_their_choices(world, named):
    questions = (
        client_for(world, "teacher", "es")
        .get(f"/api/v1/surveys/{named.survey.pk}/questions/")
        .json()
    )
    assert [question["kind"] for question in questions] == [
        "single_choice",
        "yes_no",
        "short_text",
        "multiple_choice",
        "scale",
    ]
    day = questions[0]
    assert day["text"] == "Which day?"  # no Spanish text: the default language's
    assert [choice["text"] for choice in day["choices"]] == ["Lunes", "Martes", "Miércoles"]
    assert day["choices"][0]["translations"] == {"en": {"text": "Monday"}, "es": {"text": "Lunes"}}


def test_results_give_the_pages_figures(world, named):
    figures = (
        client_for(world, "school_admin").get(f"/api/v1/surveys/{named.survey.pk}/results/").json()
    )
    response = figures["response"]
    assert (response["invited"], response["started"], response["completed"]) == (8, 6, 5)
    assert (response["completed_first_hour"], response["completed_first_day"]) == (2, 4)
    assert (response["first_hour_rate"], response["first_day_rate"]) == (0.25, 0.5)
    assert response["by_day"] == [
        {"day": "2026-03-02", "completed": 4, "completed_so_far": 4},
        {"day": "2026-03-03", "completed": 1, "completed_so_far": 5},
    ]
    assert (figures["respondents"], figures["is_hidden"]) == (6, False)
    day = figures["questions"][0]
    assert {option["label"]: option["count"] for option in day["options"]} == {
        "Monday": 2,
        "Tuesday": 2,
        "Wednesday": 1,
        "Other answer, kept as written": 1,
    }
    assert (day["answered"], day["skipped"], day["written"]) == (6, 0, 1)
    assert figures["questions"][4]["mean"] == 4.25
    assert set(figures["breakdowns"]) == {"language", "grade", "section"}
    by_class = {
        group["label"]: (group["invited"], group["completed"], group["respondents"])
        for group in figures["breakdowns"]["section"]["groups"]
    }
    assert by_class == {"Math 4": (4, 3, 3), "Art 4": (4, 2, 3), "Not known": (1, 1, 1)}


def test_results_of_one_breakdown_only(world, named):
    client = client_for(world, "teacher")
    url = f"/api/v1/surveys/{named.survey.pk}/results/"
    assert set(client.get(url, {"by": "grade"}).json()["breakdowns"]) == {"grade"}
    assert client.get(url, {"by": "shoe size"}).status_code == 400


def test_anonymous_results_hide_small_groups_and_have_no_class_breakdown(world):
    anonymous = anonymous_survey(
        world, {("es", "4"): 5, ("vi", "4"): 4, ("so", "4"): 1, ("en", "3"): 6}
    )
    client = client_for(world, "teacher")
    figures = client.get(f"/api/v1/surveys/{anonymous.survey.pk}/results/").json()
    assert set(figures["breakdowns"]) == {"language", "grade"}
    groups = {group["key"]: group for group in figures["breakdowns"]["language"]["groups"]}
    assert groups["vi"]["respondents"] is None and groups["vi"]["hidden"] == "small"
    assert groups["vi"]["questions"] == []
    assert groups["es"]["respondents"] == 5 and groups["es"]["hidden"] == ""
    assert groups["es"]["invited"] is None  # nothing drawn from the invitations
    url = f"/api/v1/surveys/{anonymous.survey.pk}/results/"
    assert client.get(url, {"by": "section"}).status_code == 400


def test_anonymous_results_below_five_respondents_show_no_answer(world):
    anonymous = anonymous_survey(world, {("es", "4"): 4})
    figures = (
        client_for(world, "teacher").get(f"/api/v1/surveys/{anonymous.survey.pk}/results/").json()
    )
    assert figures["is_hidden"] is True
    assert figures["respondents"] is None
    assert figures["questions"] == [] and figures["breakdowns"] == {}
    assert figures["response"]["completed"] == 4


def test_the_list_and_the_results_take_the_same_queries_whatever_the_size(world):
    named = conference(world)
    client = client_for(world, "teacher")
    urls = ("/api/v1/surveys/", f"/api/v1/surveys/{named.survey.pk}/results/")

    def queries_of(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = [queries_of(url) for url in urls]
    for number in range(30):
        SurveyFactory(school=world.north, created_by=world.teacher, title_en=f"Survey {number}")
        invite(named.survey, GuardianFactory())
    assert [queries_of(url) for url in urls] == few
    assert len(client.get(urls[0]).json()["results"]) == 31


def test_the_schema_describes_the_survey_endpoints_without_warnings(tmp_path):
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(schema))
    text = schema.read_text()
    for path in ("/api/v1/surveys/{id}/questions/", "/api/v1/surveys/{id}/results/"):
        assert f"{path}:" in text


def test_a_teacher_sends_and_closes_their_draft_survey_through_the_api(
    always_open, celery_eager, settings, django_capture_on_commit_callbacks
):
    from surveys.models import Invitation
    from tests.surveys.class_survey import class_survey

    settings.SMS_BACKEND = "memory"
    cs = class_survey(always_open)
    url = f"/api/v1/surveys/{cs.survey.pk}/"
    assert client_for(always_open, "art_teacher").post(url + "send/").status_code == 404
    teacher = client_for(always_open, "teacher")
    with django_capture_on_commit_callbacks(execute=True):
        sent = teacher.post(url + "send/")
    assert sent.status_code == 200, sent.content
    assert sent.json() == {"by_sms": 5, "on_web": 0, "waiting": 0, "unreachable": 1}
    assert Invitation.objects.filter(survey=cs.survey).count() == 5
    again = teacher.post(url + "send/")
    assert again.status_code == 400 and "already sent" in again.json()["detail"]
    assert teacher.post(url + "close/").status_code == 204
    cs.survey.refresh_from_db()
    assert cs.survey.status == "closed"
    assert teacher.post(url + "close/").status_code == 400
