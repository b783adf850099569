"""The live results of a survey, for the staff who may read it (its creator, the school's
admins, superusers; anyone else gets 404): response rate, a chart and a table per question,
breakdowns, the families' own words translated, and two CSV exports. Thin: parse, check, call
`surveys.results`, render."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from surveys import results
from surveys.results_charts import bar_chart, percent
from surveys.selectors import surveys_for_staff
from surveys.texts import text_in

BREAKDOWN_NAMES = {"language": _("Language"), "grade": _("Grade"), "section": _("Class")}


class ResultsFilterForm(forms.Form):
    by = forms.ChoiceField(label=_("Break down by"), required=False)
    question = forms.TypedChoiceField(
        label=_("Question"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, survey, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["by"].choices = [
            (by, BREAKDOWN_NAMES[by]) for by in results.breakdowns_for(survey)
        ]
        language = results.reader_language()
        self.fields["question"].choices = [
            ("", _("All questions")),
            *(
                (question.pk, f"{question.position}. {text_in(question, 'text', language)}")
                for question in questions
            ),
        ]

    def chosen(self) -> tuple[str, int | None]:
        """(breakdown, question id or None for all), the defaults where nothing valid was
        asked."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["by"] or "language", self.cleaned_data["question"]
        return "language", None


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    rate: str  # "40%", or "" where it has none


def _response_figures(response: results.ResponseRate) -> list[Figure]:
    """As the page shows them: each count with its share of the families invited."""
    return [
        Figure(_("Invited"), response.invited, ""),
        Figure(_("Started"), response.started, percent(response.started_rate)),
        Figure(
            _("Completed in the first hour"),
            response.completed_first_hour,
            percent(response.first_hour_rate),
        ),
        Figure(
            _("Completed in the first day"),
            response.completed_first_day,
            percent(response.first_day_rate),
        ),
        Figure(_("Completed"), response.completed, percent(response.completed_rate)),
    ]


def _survey_for(request, survey_pk: int):
    return get_object_or_404(surveys_for_staff(request.user), pk=survey_pk)


@require_GET
@login_required
def detail(request, survey_pk: int):
    """The results page; while the survey is open its "Refresh" link shows the latest."""
    survey = _survey_for(request, survey_pk)
    questions = results.survey_questions(survey)
    form = ResultsFilterForm(request.GET or None, survey=survey, questions=questions)
    by, question_id = form.chosen()
    language = results.reader_language()
    figures = results.survey_results(survey, questions, breakdowns=(by,), language=language)
    written = None
    if not figures.is_hidden:
        written = results.survey_written_answers(
            survey,
            page_number=request.GET.get("page") or 1,
            language=language,
            respondents=figures.respondents,
        )
    rtl = translation.get_language_bidi()
    charts = [
        (
            question,
            bar_chart(
                chart_id=f"question-{question.question_id}",
                title=f"{question.position}. {question.text}",
                bars=[(option.label, option.count, option.share) for option in question.options],
                rtl=rtl,
            )
            if question.options
            else None,
        )
        for question in figures.questions
    ]
    by_day = figures.response.by_day
    day_chart = bar_chart(
        chart_id="completed-by-day",
        title=str(_("Families that completed the survey, by day")),
        bars=[(date_format(day.day, "MONTH_DAY_FORMAT"), day.completed, None) for day in by_day],
        rtl=rtl,
    )
    breakdown = figures.breakdowns.get(by)
    tables = results.breakdown_tables(breakdown, figures.questions) if breakdown else []
    if question_id is not None:
        tables = [table for table in tables if table.question.question_id == question_id]
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "surveys/results/detail.html",
        {
            "survey": survey,
            "title": text_in(survey, "title", language),
            "results": figures,
            "response_figures": _response_figures(figures.response),
            "day_chart": day_chart,
            "by_day": by_day,
            "charts": charts,
            "form": form,
            "by_name": BREAKDOWN_NAMES[by],
            "breakdown": breakdown,
            "tables": tables,
            "written": written,
            "is_translating": bool(written)
            and any(answer.state == "translating" for answer in written.object_list),
            "reader_language": language,
            "query": kept.urlencode(),
            "min_group_size": results.MIN_GROUP_SIZE,
            "updated_at": timezone.now(),
        },
    )


class _Echo:
    """What csv.writer writes to: hands each line back for streaming."""

    def write(self, line: str) -> str:
        return line


def _csv_response(rows, *, filename: str) -> StreamingHttpResponse:
    """Streams rows as a UTF-8 CSV that spreadsheets open in any language (a byte-order mark
    first); no cell can start a formula (`results.csv_cell`)."""
    language = translation.get_language()
    writer = csv.writer(_Echo())

    def lines():
        with translation.override(language):
            yield "\ufeff"
            for row in rows:
                yield writer.writerow([results.csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def respondents_csv(request, survey_pk: int):
    """One row per family that answered; an anonymous survey's numbered, with no name, and
    only from five respondents on."""
    survey = _survey_for(request, survey_pk)
    if survey.is_anonymous and not results.may_show_answers(survey):
        raise Http404("fewer than five families answered this anonymous survey")
    questions = results.survey_questions(survey)
    rows = results.respondent_rows(survey, questions, language=results.reader_language())
    return _csv_response(rows, filename=f"survey-{survey.pk}-respondents.csv")


@require_GET
@login_required
def counts_csv(request, survey_pk: int):
    """Each question's counts: the charts' numbers."""
    survey = _survey_for(request, survey_pk)
    questions = results.survey_questions(survey)
    figures = results.survey_results(survey, questions, breakdowns=())
    if figures.is_hidden:
        raise Http404("fewer than five families answered this anonymous survey")
    return _csv_response(results.count_rows(figures), filename=f"survey-{survey.pk}-counts.csv")
