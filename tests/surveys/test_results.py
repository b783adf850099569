"""The results of a survey, figure by figure, against surveys answered by hand with known numbers
(tests/surveys/results_world.py works each one out), and the anonymity rule of five."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from surveys import results
from tests.factories import GuardianFactory, SurveyFactory
from tests.surveys.results_world import anonymous_survey, answer, conference, invite

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(world):
    return conference(world)


def figures_of(survey, **options):
    with translation.override("en"):
        return results.survey_results(survey, results.survey_questions(survey), **options)


def counts(question: results.QuestionResult) -> dict[str, int]:
    return {option.label: option.count for option in question.options}


def test_response_rate_counts_the_first_hour_and_the_first_day_from_each_invitation(named):
    response = figures_of(named.survey).response
    assert (response.invited, response.started, response.completed) == (8, 6, 5)
    assert (response.completed_first_hour, response.completed_first_day) == (2, 4)
    assert response.started_rate == 6 / 8
    assert response.completed_rate == 5 / 8
    assert response.first_hour_rate == 2 / 8
    assert response.first_day_rate == 4 / 8


def test_completions_are_counted_by_school_day(named):
    by_day = figures_of(named.survey).response.by_day
    assert [(day.day, day.completed, day.completed_so_far) for day in by_day] == [
        (datetime.date(2026, 3, 2), 4, 4),  # three of them after midnight UTC
        (datetime.date(2026, 3, 3), 1, 5),
    ]


def test_a_survey_nobody_was_sent_has_no_rates(world):
    survey = SurveyFactory(school=world.north, created_by=world.teacher, status="draft")
    response = figures_of(survey).response
    assert response.invited == 0
    assert response.completed_rate is None and response.first_hour_rate is None


def test_each_question_counts_the_families_that_chose_each_answer(named):
    figures = figures_of(named.survey)
    assert figures.respondents == 6
    day, laptop, wish, _help, rating = figures.questions
    assert counts(day) == {
        "Monday": 2,
        "Tuesday": 2,
        "Wednesday": 1,
        "Other answer, kept as written": 1,
    }
    assert (day.answered, day.skipped, day.written) == (6, 0, 1)
    assert [option.share for option in day.options] == [2 / 6, 2 / 6, 1 / 6, 1 / 6]
    assert counts(laptop) == {"Yes": 3, "No": 2}
    assert (laptop.answered, laptop.skipped) == (5, 0)
    assert wish.options == ()
    assert (wish.answered, wish.skipped, wish.written) == (2, 1, 2)
    assert counts(rating) == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 2}
    assert rating.mean == 4.25 and rating.answered == 4


def test_several_choices_count_each_family_once_under_each_choice_it_ticked(named):
    help_ = figures_of(named.survey).questions[3]
    assert counts(help_) == {"Homework": 1, "=Food": 2, "Transport": 1}
    assert (help_.answered, help_.skipped) == (3, 1)
    assert [option.share for option in help_.options] == [1 / 3, 2 / 3, 1 / 3]


def test_choices_are_named_in_the_readers_language(named):
    with translation.override("es"):
        day = results.survey_results(
            named.survey, results.survey_questions(named.survey), breakdowns=()
        ).questions[0]
    assert [option.label for option in day.options][:3] == ["Lunes", "Martes", "Miércoles"]


def groups_of(breakdown):
    return {
        group.label: (group.invited, group.completed, group.respondents)
        for group in breakdown.groups
    }


def test_a_named_survey_breaks_down_by_the_familys_home_language(named):
    breakdown = figures_of(named.survey).breakdowns["language"]
    assert groups_of(breakdown) == {
        "English": (2, 0, 0),
        "Spanish": (3, 3, 3),
        "Vietnamese": (2, 1, 2),
        "Somali": (1, 1, 1),
    }
    assert [group.label for group in breakdown.groups] == [
        "English",
        "Spanish",
        "Vietnamese",
        "Somali",
    ]
    spanish = next(group for group in breakdown.groups if group.key == "es")
    assert counts(spanish.questions[0]) == {"Monday": 1, "Tuesday": 1, "Wednesday": 1}
    vietnamese = next(group for group in breakdown.groups if group.key == "vi")
    assert counts(vietnamese.questions[0]) == {
        "Monday": 1,
        "Tuesday": 0,
        "Wednesday": 0,
        "Other answer, kept as written": 1,
    }
    assert not any(group.is_hidden for group in breakdown.groups)  # named: small groups shown


def test_a_family_with_children_in_two_grades_counts_in_each(named):
    breakdown = figures_of(named.survey).breakdowns["grade"]
    assert groups_of(breakdown) == {
        "Grade 3": (3, 2, 3),  # rosa, minh, sofia
        "Grade 4": (3, 3, 3),  # lan, jorge, sofia
        "Grade 5": (2, 0, 0),  # the world's parents of Ana and Ben
        "Not known": (1, 1, 1),  # hodan: her only child is at another school
    }
    fourth = next(group for group in breakdown.groups if group.key == "4")
    assert counts(fourth.questions[0]) == {"Monday": 1, "Tuesday": 1, "Wednesday": 1}
    assert counts(fourth.questions[3]) == {"Homework": 1, "=Food": 2, "Transport": 1}


def test_a_named_survey_breaks_down_by_class(named, world):
    breakdown = figures_of(named.survey).breakdowns["section"]
    assert groups_of(breakdown) == {
        "Math 4": (4, 3, 3),  # lan, jorge, sofia; Ana's mother invited only
        "Art 4": (4, 2, 3),  # rosa, minh, sofia; Ben's parent invited only
        "Not known": (1, 1, 1),
    }
    art = next(group for group in breakdown.groups if group.label == "Art 4")
    assert counts(art.questions[1]) == {"Yes": 2, "No": 0}
    assert art.questions[2].written == 1 and art.questions[2].answered == 1


def test_anonymous_groups_of_four_say_fewer_than_five_and_groups_of_five_show_numbers(world):
    anonymous = anonymous_survey(
        world, {("es", "4"): 5, ("vi", "4"): 4, ("so", "4"): 1, ("en", "3"): 6}
    )
    figures = figures_of(anonymous.survey)
    assert not figures.is_hidden and figures.respondents == 16
    assert counts(figures.questions[0]) == {"Yes": 12, "No": 4}
    by_language = {group.key: group for group in figures.breakdowns["language"].groups}
    assert by_language["es"].respondents == 5 and not by_language["es"].is_hidden
    assert counts(by_language["es"].questions[0]) == {"Yes": 4, "No": 1}
    assert by_language["vi"].hidden == "small" and by_language["vi"].respondents is None
    assert by_language["vi"].questions == ()  # no per-question table for it either
    assert by_language["so"].hidden == "small"
    assert by_language["en"].respondents == 6
    by_grade = {group.key: group.respondents for group in figures.breakdowns["grade"].groups}
    assert by_grade == {"4": 10, "3": 6}


def test_an_anonymous_group_that_would_give_a_small_one_away_is_hidden_too(world):
    anonymous = anonymous_survey(world, {("es", "4"): 5, ("vi", "4"): 4})
    figures = figures_of(anonymous.survey)
    assert figures.respondents == 9  # 9 - 5 would tell the 4 Vietnamese families' answers...
    by_language = {group.key: group for group in figures.breakdowns["language"].groups}
    assert by_language["vi"].hidden == "small"
    assert by_language["es"].hidden == "complement" and by_language["es"].respondents is None


def test_an_anonymous_survey_shows_no_answer_below_five_respondents(world):
    anonymous = anonymous_survey(world, {("es", "4"): 4})
    figures = figures_of(anonymous.survey)
    assert figures.is_hidden and figures.respondents is None
    assert figures.questions == () and figures.breakdowns == {}
    assert figures.response.completed == 4  # completion is recorded per invitation
    assert results.survey_written_answers(anonymous.survey) is None
    assert not results.may_show_answers(anonymous.survey)


def test_an_anonymous_survey_has_no_class_breakdown(world):
    anonymous = anonymous_survey(world, {("es", "4"): 5})
    assert set(figures_of(anonymous.survey).breakdowns) == {"language", "grade"}
    with pytest.raises(ValueError):
        results.survey_breakdown(anonymous.survey, [], by="section")


def test_written_answers_of_an_anonymous_survey_carry_nothing_of_the_family(world):
    anonymous = anonymous_survey(world, {("es", "4"): 5})
    with translation.override("en"):
        page = results.survey_written_answers(anonymous.survey)
    assert len(page.object_list) == 5
    for written in page.object_list:
        assert written.family == "" and written.language == ""
        assert written.text.startswith("idea es 4")


def test_the_breakdown_tables_put_each_groups_counts_side_by_side(world):
    anonymous = anonymous_survey(world, {("es", "4"): 5, ("vi", "4"): 4, ("so", "4"): 1})
    figures = figures_of(anonymous.survey, breakdowns=("language",))
    fair, idea = results.breakdown_tables(figures.breakdowns["language"], figures.questions)
    labels = [group.label for group in fair.groups]
    assert labels == ["Spanish", "Vietnamese", "Somali"]
    rows = dict(fair.rows)
    assert [cell.count for cell in rows["Yes"]] == [4, None, None]
    assert [cell.hidden for cell in rows["Yes"]] == ["", "small", "small"]
    assert [label for label, _cells in idea.rows] == ["Written answers", "Answered", "Skipped"]


@pytest.mark.parametrize("families", [3, 40])
def test_the_figures_take_the_same_queries_whatever_the_number_of_answers(world, families):
    named = conference(world)
    for number in range(families):
        invitation = invite(
            named.survey, GuardianFactory(), completed_after=datetime.timedelta(hours=number)
        )
        answer(invitation, named.day, choices=[named.monday])
        answer(invitation, named.help, choices=[named.food, named.transport])
        answer(invitation, named.wish, text=f"wish {number}")
    questions = results.survey_questions(named.survey)
    with CaptureQueriesContext(connection) as queries:
        figures = results.survey_results(named.survey, questions)
    # response rate 2, respondents 1, questions 2, and per breakdown (language, grade, class) 4
    assert len(queries) == 2 + 3 + 3 * 4
    assert figures.respondents == 6 + families
    assert counts(figures.questions[0])["Monday"] == 2 + families


def test_csv_cells_never_start_a_formula():
    assert results.csv_cell("=SUM(A1:A9)") == "'=SUM(A1:A9)"
    assert results.csv_cell("+1 617") == "'+1 617"
    assert results.csv_cell("-2") == "'-2"
    assert results.csv_cell("@cmd") == "'@cmd"
    assert results.csv_cell("Monday") == "Monday"
    assert results.csv_cell(12) == "12"
