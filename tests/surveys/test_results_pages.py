"""The results page and its CSV exports, as staff use them: who may open them, what they show
(figures, charts with their tables, breakdowns, written answers translated), the anonymity rule,
and a constant number of queries."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Guardian
from tests.factories import GuardianFactory
from tests.surveys.results_world import anonymous_survey, answer, conference, invite

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(world):
    return conference(world)


def page(client, world, survey, role="teacher", **query):
    client.force_login(world.users[role])
    response = client.get(
        reverse("survey_results:detail", args=[survey.pk]), query, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(client, url) -> list[list[str]]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read it as UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("teacher", 200),  # created it
        ("school_admin", 200),
        ("district_admin", 200),
        ("superuser", 200),
        ("art_teacher", 404),  # another teacher of the school
        ("counselor", 404),
        ("south_teacher", 404),
        ("parent", 404),  # a family invited to it
    ],
)
def test_the_creator_and_the_schools_admins_read_the_results_and_nobody_else(
    world, client, named, role, status
):
    client.force_login(world.users[role])
    for name in ("detail", "respondents_csv", "counts_csv"):
        response = client.get(reverse(f"survey_results:{name}", args=[named.survey.pk]))
        assert response.status_code == status, name
        if status == 404:
            assert b"Lan" not in response.content


def test_signed_out_visitors_are_sent_to_sign_in(client, named):
    response = client.get(reverse("survey_results:detail", args=[named.survey.pk]))
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_the_page_shows_the_response_rate_in_the_first_hour_the_first_day_and_overall(
    world, client, named
):
    html = page(client, world, named.survey)
    assert "<dt>Invited</dt><dd>8</dd>" in html
    assert '<dt>Started</dt><dd>6 <span class="muted">(75%)</span>' in html
    assert '<dt>Completed in the first hour</dt><dd>2 <span class="muted">(25%)</span>' in html
    assert '<dt>Completed in the first day</dt><dd>4 <span class="muted">(50%)</span>' in html
    assert '<dt>Completed</dt><dd>5 <span class="muted">(63%)</span>' in html
    assert '<time datetime="2026-03-02">March 2</time></th><td class="number">4</td>' in html


def test_each_question_has_an_accessible_chart_and_a_table_of_the_same_numbers(
    world, client, named
):
    html = page(client, world, named.survey)
    assert 'role="img" aria-labelledby="question-' in html
    assert f'<title id="question-{named.day.pk}-title">1. Which day?</title>' in html
    assert (
        f'<desc id="question-{named.day.pk}-desc">Monday: 2 (33%); Tuesday: 2 (33%); '
        "Wednesday: 1 (17%); Other answer, kept as written: 1 (17%)</desc>"
    ) in html
    assert (
        '<th scope="row" dir="auto">Monday</th><td class="number">2</td><td class="number">33%</td>'
    ) in html
    assert "Average: 4.2 out of 5." in html or "Average: 4.3 out of 5." in html
    assert "shares add up to more than 100%" in html  # several choices
    assert "2 written answers, listed below." in html


def test_the_breakdown_form_shows_a_chosen_breakdown_and_question(world, client, named):
    html = page(client, world, named.survey, by="grade", question=named.day.pk)
    assert '<label for="id_by">Break down by</label>' in html
    assert '<label for="id_question">Question</label>' in html
    assert "<caption>Families by grade</caption>" in html
    assert '<th scope="row" dir="auto">Not known</th>' in html
    assert '<caption dir="auto">1. Which day?</caption>' in html
    assert '<caption dir="auto">2. A laptop at home?</caption>' not in html  # one question
    assert '<option value="section">Class</option>' in html  # named surveys break down by class


def test_an_anonymous_survey_says_fewer_than_five_for_a_small_group(world, client):
    anonymous = anonymous_survey(
        world, {("es", "4"): 5, ("vi", "4"): 4, ("so", "4"): 1, ("en", "3"): 6}
    )
    html = page(client, world, anonymous.survey)
    group = '<th scope="row" dir="auto">{}</th><td class="number">{}</td>'
    assert group.format("Vietnamese", "fewer than 5") in html
    assert group.format("Somali", "fewer than 5") in html
    assert group.format("Spanish", "5") in html
    assert '<option value="section">' not in html  # no class breakdown when anonymous
    assert "Invited</th>" not in html  # nor anything drawn from the invitations


def test_an_anonymous_survey_below_five_respondents_shows_no_answer(world, client):
    anonymous = anonymous_survey(world, {("es", "4"): 4})
    html = page(client, world, anonymous.survey, by="section")  # no such breakdown: ignored
    assert "Fewer than 5 families have answered this anonymous survey" in html
    assert "idea es 4" not in html
    assert "respondents.csv" not in html
    for name in ("respondents_csv", "counts_csv"):
        url = reverse(f"survey_results:{name}", args=[anonymous.survey.pk])
        assert client.get(url).status_code == 404


def test_written_answers_of_an_anonymous_survey_say_nothing_of_the_family(world, client):
    anonymous = anonymous_survey(world, {("es", "4"): 5})
    html = page(client, world, anonymous.survey)
    assert html.count('<p class="original" dir="auto">idea es 4') == 5
    assert 'lang="es">idea' not in html


def test_written_answers_are_translated_for_staff_once_and_the_original_kept(
    world, client, named, fake_libretranslate, celery_eager
):
    html = page(client, world, named.survey)
    assert '<p class="original" dir="auto" lang="vi">Cảm ơn cô</p>' in html
    assert '<p class="translated" lang="en" dir="auto">[vi-&gt;en] Cảm ơn cô</p>' in html
    assert "[es-&gt;en] Más tarea, por favor" in html
    assert "[vi-&gt;en] maybe thursday" in html  # a reply that fit no choice, kept as written
    assert "Machine translation; the original is above." in html
    assert "Lan Family" in html  # a named survey says who wrote it
    asked = len(fake_libretranslate.translations())
    assert asked == 2  # one call per language written in
    page(client, world, named.survey)
    assert len(fake_libretranslate.translations()) == asked  # kept in the cache


def test_written_answers_wait_for_their_translation_without_translating_in_the_request(
    world, client, named, fake_libretranslate, celery_eager
):
    celery_eager.conf.task_always_eager = False  # the broker takes the task; no worker runs it
    html = page(client, world, named.survey)
    assert html.count("Translating…") == 3
    assert fake_libretranslate.translations() == []
    assert ">Refresh</a>" in html


def test_a_translation_provider_that_is_down_leaves_the_page_readable(
    world, client, named, fake_libretranslate, celery_eager
):
    fake_libretranslate.fail_with = 503
    html = page(client, world, named.survey)
    assert html.count("Translating…") == 3
    assert "Cảm ơn cô" in html  # the original, meanwhile
    assert fake_libretranslate.translations()  # it was tried; the task tries again later
    fake_libretranslate.fail_with = None
    asked = len(fake_libretranslate.translations())
    assert html.count("Translating…") == page(client, world, named.survey).count("Translating…")
    assert len(fake_libretranslate.translations()) == asked  # not asked again at once


def test_without_a_translation_provider_the_originals_are_marked_not_translated(
    world, client, named, settings
):
    settings.TRANSLATION_PROVIDER = "none"
    html = page(client, world, named.survey)
    # Lan's and Rosa's wishes, and Minh's reply that fit no choice
    assert html.count("Not translated: shown as the family wrote it.") == 3
    assert "Cảm ơn cô" in html


def test_an_open_survey_offers_a_refresh_and_a_closed_one_does_not(world, client, named):
    assert ">Refresh</a>" in page(client, world, named.survey)
    named.survey.status = "closed"
    named.survey.save()
    assert ">Refresh</a>" not in page(client, world, named.survey)


def test_the_page_reads_right_to_left_in_arabic(world, client, named):
    client.force_login(world.users["teacher"])
    html = client.get(
        reverse("survey_results:detail", args=[named.survey.pk]), HTTP_ACCEPT_LANGUAGE="ar"
    ).content.decode()
    assert 'dir="rtl"' in html
    assert 'direction="rtl"' in html


def test_the_respondents_csv_has_a_row_per_family_that_answered(world, client, named):
    client.force_login(world.users["teacher"])
    rows = csv_rows(client, reverse("survey_results:respondents_csv", args=[named.survey.pk]))
    header, *families = rows
    assert header[:5] == ["Family", "Language", "Grades", "Channel", "Status"]
    assert header[5:] == [
        "1. Which day?",
        "2. A laptop at home?",
        "3. Any wish?",
        "4. What would help?",
        "5. How is school?",
    ]
    by_name = {row[0]: row for row in families}
    assert set(by_name) == {
        "Lan Family",
        "Jorge Family",
        "Rosa Family",
        "Minh Family",
        "Sofia Family",
        "Hodan Family",
    }
    assert by_name["Lan Family"][1:] == [
        "Vietnamese",
        "4",
        "Text message",
        "Completed",
        "Monday",
        "Yes",
        "Cảm ơn cô",
        "Homework; =Food",
        "5",
    ]
    assert by_name["Sofia Family"][2] == "3, 4"
    assert by_name["Hodan Family"][2] == ""  # no child at the school
    assert by_name["Jorge Family"][7:9] == ["(skipped)", "'=Food"]  # never a formula
    assert by_name["Minh Family"][4:6] == ["Started", "maybe thursday"]


def test_the_anonymous_respondents_csv_numbers_rows_and_names_nobody(world, client):
    anonymous = anonymous_survey(world, {("es", "4"): 3, ("vi", "5"): 3})
    client.force_login(world.users["teacher"])
    rows = csv_rows(client, reverse("survey_results:respondents_csv", args=[anonymous.survey.pk]))
    header, *families = rows
    assert header == ["Respondent", "1. Is it fair?", "2. An idea?"]
    assert [row[0] for row in families] == ["1", "2", "3", "4", "5", "6"]
    assert sorted(row[1] for row in families) == ["No", "No", "Yes", "Yes", "Yes", "Yes"]
    text = "".join(",".join(row) for row in rows)
    invited = Guardian.objects.filter(invitations__survey=anonymous.survey)
    assert invited.count() == 6
    for guardian in invited:
        assert guardian.family_name not in text and guardian.given_name not in text


def test_the_counts_csv_has_the_charts_numbers(world, client, named):
    client.force_login(world.users["teacher"])
    rows = csv_rows(client, reverse("survey_results:counts_csv", args=[named.survey.pk]))
    assert rows[0] == [
        "Question",
        "Question text",
        "Answer",
        "Families",
        "Share of the families that answered (%)",
    ]
    assert ["1", "Which day?", "Monday", "2", "33.3"] in rows
    assert ["1", "Which day?", "Other answer, kept as written", "1", "16.7"] in rows
    assert ["4", "What would help?", "'=Food", "2", "66.7"] in rows
    assert ["3", "Any wish?", "Written answers", "2", ""] in rows
    assert ["3", "Any wish?", "Skipped", "1", ""] in rows
    assert ["5", "How is school?", "Average (1 to 5)", "4.25", ""] in rows


def grow(named, families: int) -> None:
    for number in range(families):
        invitation = invite(
            named.survey, GuardianFactory(), completed_after=datetime.timedelta(hours=number)
        )
        answer(invitation, named.day, choices=[named.tuesday])
        answer(invitation, named.wish, text=f"wish {number}")


def test_the_page_and_the_csv_take_the_same_queries_for_few_or_many_families(
    world, client, named, settings
):
    settings.TRANSLATION_PROVIDER = "none"
    client.force_login(world.users["school_admin"])
    urls = [
        reverse(f"survey_results:{name}", args=[named.survey.pk])
        for name in ("detail", "respondents_csv", "counts_csv")
    ]

    def queries_of(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"by": "section"} if "csv" not in url else {})
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(queries)

    few = [queries_of(url) for url in urls]
    grow(named, 60)
    assert [queries_of(url) for url in urls] == few
    assert "66 families answered." in page(client, world, named.survey, role="school_admin")
