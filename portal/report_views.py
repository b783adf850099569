"""Pages of the engagement report: the report itself (a period, filters, a breakdown to choose,
charts drawn on the server as SVG with their numbers as tables) and the lists behind its figures
(the worklist and other families, waits for an answer, threads waiting now, deliveries, STOP and
START). Every table is also a CSV file (`?format=csv`), and `?print=1` is the printable page.

Thin: parse the request, ask `portal.reports` for the scope (404 when it is not the user's) and
the figures, shape them into tables and charts, render."""

from __future__ import annotations

import csv
import datetime
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from messaging.models import ConsentChange, Delivery
from portal import reports
from portal.models import Section, SectionStaff, Staff, Student

PAGE_SIZE = 50
MAX_PERIOD_DAYS = 731  # two school years


# ---- Reading the request -----------------------------------------------------------------------


class ReportForm(forms.Form):
    """What a report is about, read from the address (GET), so that every view is a link."""

    scope = forms.ChoiceField(label=gettext_lazy("School or district"), required=False)
    teacher = forms.TypedChoiceField(
        label=gettext_lazy("Teacher"), coerce=int, required=False, empty_value=None
    )
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    grade = forms.ChoiceField(label=gettext_lazy("Grade"), required=False)
    section = forms.TypedChoiceField(
        label=gettext_lazy("Class"), coerce=int, required=False, empty_value=None
    )
    language = forms.ChoiceField(label=gettext_lazy("Home language"), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    weeks = forms.IntegerField(
        label=gettext_lazy("Worklist: no message from the family for (weeks)"),
        min_value=1,
        max_value=52,
        required=False,
    )
    by = forms.ChoiceField(label=gettext_lazy("Break the figures down by"), required=False)

    def __init__(
        self,
        data,
        *,
        choices: reports.ScopeChoices,
        scope: reports.ReportScope | None,
        may_choose_teacher: bool = False,
    ):
        super().__init__(data)
        options = [(f"school:{school.pk}", school.name) for school in choices.schools]
        options += [
            (f"district:{district.pk}", _("%(name)s (whole district)") % {"name": district.name})
            for district in choices.districts
        ]
        self.fields["scope"].choices = [("", _("Default")), *options]
        everyone = [("", _("Everyone"))]
        self.fields["language"].choices = everyone + [
            (code, str(name)) for code, name in settings.FAMILY_LANGUAGES
        ]
        self.fields["channel"].choices = [("", _("Every channel"))] + [
            (channel, reports.channel_label(channel)) for channel in reports.CHANNELS
        ]
        school_ids = scope.school_ids if scope else ()
        grades = sorted(
            set(
                Student.objects.filter(school_id__in=school_ids, is_active=True)
                .order_by()
                .values_list("grade", flat=True)
                .distinct()
            ),
            key=_grade_order,
        )
        self.fields["grade"].choices = everyone + [
            (grade or reports.NO_GRADE, reports.slice_label("grade", grade, {})) for grade in grades
        ]
        sections = Section.objects.filter(school_id__in=school_ids, is_active=True)
        if scope and scope.teacher_id:
            sections = sections.filter(
                staff_links__staff_id=scope.teacher_id, staff_links__is_active=True
            )
        self.fields["section"].choices = everyone + [
            (section.pk, section.name) for section in sections.order_by("name", "pk")
        ]
        if scope and may_choose_teacher:
            teachers = Staff.objects.filter(
                pk__in=SectionStaff.objects.filter(
                    is_active=True, section__is_active=True, section__school_id__in=school_ids
                ).values("staff_id"),
                is_active=True,
            ).order_by("family_name", "given_name", "pk")
            self.fields["teacher"].choices = [("", _("All teachers"))] + [
                (teacher.pk, str(teacher)) for teacher in teachers
            ]
        else:
            del self.fields["teacher"]
        dimensions = [
            (dimension, label)
            for dimension, label in _dimension_names().items()
            if (dimension != "school" or (scope and scope.is_district))
            and (dimension != "teacher" or (scope and scope.shows_teachers))
        ]
        self.fields["by"].choices = dimensions

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The last day comes after the first."))
        elif start and end and (end - start).days + 1 > MAX_PERIOD_DAYS:
            self.add_error("end", _("Choose at most two years."))
        return data


def _dimension_names() -> dict[str, str]:
    return {
        "grade": _("Grade"),
        "section": _("Class"),
        "language": _("Home language"),
        "channel": _("Channel"),
        "teacher": _("Teacher"),
        "school": _("School"),
    }


def _grade_order(grade: str):
    """Grades in school order: PK, K, 1, 2 ... 12, then anything else, and no grade last."""
    named = {"PK": -2, "TK": -2, "K": -1, "KG": -1}
    text = grade.strip().upper()
    if not text:
        return (2, 0, "")
    if text in named:
        return (0, named[text], text)
    if text.isdigit():
        return (0, int(text), text)
    return (1, 0, text)


def _id(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


@dataclass
class ReportRequest:
    """A report request, read and checked: whose figures, when, which families."""

    scope: reports.ReportScope
    period: reports.Period
    filters: reports.ReportFilters
    form: ReportForm
    params: dict[str, str]  # the request's own report parameters, for links
    dimension: str

    def link(self, name: str, **changes) -> str:
        params = {**self.params, **{key: str(value) for key, value in changes.items()}}
        query = urlencode({key: value for key, value in params.items() if value not in ("", None)})
        return reverse(f"reports:{name}") + (f"?{query}" if query else "")


REPORT_PARAMS = ("scope", "teacher", "start", "end", "grade", "section", "language", "channel")


def report_request(request) -> ReportRequest:
    """Reads a report request; Http404 when it asks for figures that are not the user's."""
    choices = reports.scope_choices(request.user)
    asked = request.GET.get("scope", "")
    kind, _sep, number = asked.partition(":")
    try:
        scope = reports.report_scope(
            request.user,
            choices=choices,
            school_id=_id(number) if kind == "school" else None,
            district_id=_id(number) if kind == "district" else None,
            teacher_id=_id(request.GET.get("teacher")),
        )
    except reports.ReportNotAllowed:
        raise Http404 from None
    form = ReportForm(
        request.GET,
        choices=choices,
        scope=scope,
        may_choose_teacher=bool(choices.admin_school_ids.intersection(scope.school_ids)),
    )
    if not form.is_valid():
        raise FormNotValid(form)
    data = form.cleaned_data
    default = reports.period_default(time_zone=scope.time_zone)
    start, end = data.get("start"), data.get("end")
    if start and not end:
        end = max(start, default.ends_on)
    if end and not start:
        start = end - datetime.timedelta(days=reports.DEFAULT_PERIOD_DAYS - 1)
    period = (
        reports.Period(start, end, scope.time_zone)
        if start and end and (end - start).days < MAX_PERIOD_DAYS
        else default
    )
    filters = reports.ReportFilters(
        grade=data.get("grade") or "",
        section_id=data.get("section"),
        language=data.get("language") or "",
        channel=data.get("channel") or "",
        no_contact_weeks=data.get("weeks") or reports.DEFAULT_NO_CONTACT_WEEKS,
    )
    params = {key: request.GET.get(key, "") for key in REPORT_PARAMS}
    params["start"], params["end"] = period.starts_on.isoformat(), period.ends_on.isoformat()
    if data.get("weeks"):
        params["weeks"] = str(data["weeks"])
    dimension = data.get("by") or "grade"
    return ReportRequest(scope, period, filters, form, params, dimension)


class FormNotValid(Exception):
    def __init__(self, form):
        super().__init__("the report form is not valid")
        self.form = form


# ---- Tables: what pages show, what CSV files hold ----------------------------------------------


@dataclass
class Cell:
    value: object  # what a CSV file holds
    text: str = ""  # what the page shows
    href: str = ""  # the list behind it

    def __post_init__(self):
        if not self.text:
            self.text = "–" if self.value is None else str(self.value)


@dataclass
class Table:
    name: str  # its CSV file's name
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)  # the first cell heads the row
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _number(value) -> str:
    return (
        "–" if value is None else formats.number_format(value, use_l10n=True, force_grouping=True)
    )


def _hours(seconds) -> str:
    if seconds is None:
        return "–"
    hours = round(seconds / 3600, 1)
    return _("%(hours)s h") % {"hours": formats.number_format(hours, 1, use_l10n=True)}


def _percent(part, whole) -> str:
    if not whole or part is None:
        return "–"
    return _("%(percent)s %%") % {
        "percent": formats.number_format(round(100 * part / whole), 0, use_l10n=True)
    }


def _count(value, href: str = "", whole=None) -> Cell:
    text = _number(value)
    if whole is not None and value is not None:
        text = f"{text} ({_percent(value, whole)})"
    return Cell(value, text, href if value else "")


def _moment(value: datetime.datetime | None, zone) -> Cell:
    if value is None:
        return Cell(None)
    local = value.astimezone(zone)
    return Cell(local.isoformat(), formats.date_format(local, "SHORT_DATETIME_FORMAT"))


def _slice_params(dimension: str, key: str) -> dict[str, str]:
    """The filter that narrows a list to one slice of the report."""
    if dimension == "grade":
        return {"grade": key or reports.NO_GRADE}
    if dimension == "school":
        return {"scope": f"school:{key}"}
    if dimension in ("section", "language", "channel", "teacher"):
        return {dimension: key}
    return {}


def _slice_rows(
    report: reports.EngagementReport, breakdown: reports.Breakdown, dimension: str
) -> list[tuple[str, str, reports.Figures]]:
    """The all-families row, then each slice of the dimension in a reader's order."""
    rows = [("all", "", breakdown.total)]
    slices = breakdown.slices(dimension)
    if dimension == "grade":
        slices.sort(key=lambda row: _grade_order(row[0]))
    elif dimension == "channel":
        order = {channel: number for number, channel in enumerate(reports.CHANNELS)}
        slices.sort(key=lambda row: order.get(row[0], 9))
    else:
        slices.sort(key=lambda row: report.label(dimension, row[0]).lower())
    rows += [(dimension, key, figures) for key, figures in slices]
    return rows


def _head(report, dimension: str, key: str) -> Cell:
    return Cell(report.label(dimension, key))


def report_tables(report: reports.EngagementReport, asked: ReportRequest) -> dict[str, Table]:
    """Every table of the report, for the page, the printable page and the CSV files."""
    tables: dict[str, Table] = {}
    dimension = asked.dimension
    by = _dimension_names().get(dimension, dimension)

    def link(name: str, dim: str, key: str, **params) -> str:
        return asked.link(name, **{**_slice_params(dim, key), **params})

    if report.reach is not None:
        table = Table(
            "reach",
            _("Reach, by %(by)s") % {"by": by.lower()},
            [
                by,
                _("Families"),
                _("With a working channel"),
                _("Texts work"),
                _("Email works"),
                _("Signs in"),
                _("Reached in the period"),
                _("By text"),
                _("By email"),
                _("In the portal"),
                _("On the worklist"),
            ],
        )
        for dim, key, row in _slice_rows(report, report.reach, dimension):
            families = row["families"]

            def families_link(show, dim=dim, key=key):
                return link("families", dim, key, show=show)

            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(families, families_link("all")),
                    _count(row["works"], families_link("works"), families),
                    _count(row["sms_works"], families_link("sms_works"), families),
                    _count(row["email_works"], families_link("email_works"), families),
                    _count(row["signs_in"], families_link("signs_in"), families),
                    _count(row["reached"], families_link("reached"), families),
                    _count(row["reached_sms"], families_link("reached_sms"), families),
                    _count(row["reached_email"], families_link("reached_email"), families),
                    _count(row["reached_portal"], families_link("reached_portal"), families),
                    _count(row["worklist"], families_link("worklist"), families),
                ]
            )
        tables["reach"] = table
        total = report.reach.total
        why = Table(
            "worklist",
            _("Why families are on the worklist"),
            [_("Reason"), _("Families")],
            note=_("A family can have several reasons."),
        )
        for reason in reports.REASONS:
            why.rows.append(
                [
                    Cell(reports.reason_label(reason, weeks=report.filters.no_contact_weeks)),
                    _count(total[reason], asked.link("families", show=reason), total["families"]),
                ]
            )
        tables["worklist"] = why

    if report.engagement is not None:
        table = Table(
            "engagement",
            _("Two-way engagement, by %(by)s") % {"by": by.lower()},
            [by, _("Families who wrote"), _("Messages from families"), _("Messages to families")],
            note=_(
                "A message to families counts once for each family it was written to, "
                "whatever the channels; a text that was not sent (the family texted STOP) "
                "does not count."
            ),
        )
        for dim, key, row in _slice_rows(report, report.engagement, dimension):
            families = report.reach.get(dim, key)["families"] if dim != "channel" else None
            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(
                        row["families_wrote"], link("families", dim, key, show="wrote"), families
                    ),
                    _count(row["messages_from_families"], link("families", dim, key, show="wrote")),
                    _count(row["messages_to_families"], link("deliveries", dim, key)),
                ]
            )
        tables["engagement"] = table

    if report.answers is not None:
        table = Table(
            "answers",
            _("Time to the first staff answer, by %(by)s") % {"by": by.lower()},
            [
                by,
                _("Waits begun"),
                _("Answered"),
                _("Not answered yet"),
                _("Median"),
                _("90th percentile"),
            ],
            note=_(
                "A wait begins with a family's message after the last staff answer; it ends with "
                "the next message a member of staff writes to the family (internal notes and "
                "automatic messages do not count). Hours are counted on the clock, nights and "
                "weekends included."
            ),
        )
        for dim, key, row in _slice_rows(report, report.answers, dimension):
            answered = link("answers", dim, key, state="answered")
            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(row["waits"], link("answers", dim, key)),
                    _count(row["answered"], answered),
                    _count(row["unanswered"], link("answers", dim, key, state="unanswered")),
                    Cell(
                        _seconds_to_hours(row["median_seconds"]),
                        _hours(row["median_seconds"]),
                        answered if row["answered"] else "",
                    ),
                    Cell(
                        _seconds_to_hours(row["p90_seconds"]),
                        _hours(row["p90_seconds"]),
                        answered if row["answered"] else "",
                    ),
                ]
            )
        tables["answers"] = table

    if report.waiting is not None:
        table = Table(
            "waiting",
            _("Families waiting for an answer now, by %(by)s") % {"by": by.lower()},
            [by, _("Waiting now"), _("Past the school's target")],
            note=_(
                "The target is counted in school hours (office hours on school days), as the "
                "reminders to staff count it. The channel filter does not apply here."
            ),
        )
        for dim, key, row in _slice_rows(report, report.waiting, dimension):
            if dim == "channel":
                continue
            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(row["waiting"], link("waiting", dim, key)),
                    _count(row["past_target"], link("waiting", dim, key, past="1")),
                ]
            )
        tables["waiting"] = table

    if report.deliveries is not None:
        table = Table(
            "deliveries",
            _("Deliveries written in the period, by %(by)s") % {"by": by.lower()},
            [
                by,
                _("Deliveries"),
                _("Waiting"),
                _("Sent"),
                _("Delivered"),
                _("Not delivered"),
                _("Failed"),
                _("Not sent"),
                _("SMS segments"),
            ],
            note=_(
                "SMS segments are the parts of the texts handed to the provider, which is what "
                "it bills. Emails stay “sent”: mail servers do not confirm delivery."
            ),
        )
        for dim, key, row in _slice_rows(report, report.deliveries, dimension):

            def deliveries_link(status="", dim=dim, key=key):
                return link("deliveries", dim, key, status=status)

            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(row["deliveries"], deliveries_link()),
                    *(
                        _count(row[status], deliveries_link(status), row["deliveries"])
                        for status in reports.DELIVERY_STATUSES
                    ),
                    _count(row["sms_segments"], link("deliveries", dim, key, channel="sms")),
                ]
            )
        tables["deliveries"] = table
        errors = Table(
            "delivery_errors",
            _("Deliveries that failed, were not delivered or not sent"),
            [_("Channel"), _("Status"), _("Error code"), _("Reason"), _("Deliveries")],
        )
        for error in report.delivery_errors:
            errors.rows.append(
                [
                    Cell(reports.channel_label(error.channel)),
                    Cell(_status_label(error.status)),
                    Cell(error.error_code or "–"),
                    Cell(error.reason or "–"),
                    _count(
                        error.deliveries,
                        asked.link(
                            "deliveries",
                            channel=error.channel,
                            status=error.status,
                            error_code=error.error_code or "-",
                        ),
                    ),
                ]
            )
        tables["delivery_errors"] = errors

    if report.consent is not None:
        table = Table(
            "consent",
            _("Texts stopped (STOP) and started again (START), by %(by)s") % {"by": by.lower()},
            [by, _("Opt-outs"), _("Opt-ins")],
        )
        for dim, key, row in _slice_rows(report, report.consent, dimension):
            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(row["opt_outs"], link("consent", dim, key, action="opt_out")),
                    _count(row["opt_ins"], link("consent", dim, key, action="opt_in")),
                ]
            )
        tables["consent"] = table
        weeks = Table(
            "consent_weeks",
            _("Opt-outs and opt-ins each week"),
            [_("Week of"), _("Opt-outs"), _("Opt-ins")],
        )
        for week in report.consent_weeks:
            last = min(week.week_of + datetime.timedelta(days=6), report.period.ends_on)
            first = max(week.week_of, report.period.starts_on)
            href = asked.link("consent", start=first.isoformat(), end=last.isoformat())
            weeks.rows.append(
                [
                    Cell(
                        week.week_of.isoformat(),
                        formats.date_format(week.week_of, "SHORT_DATE_FORMAT"),
                    ),
                    _count(week.opt_outs, href),
                    _count(week.opt_ins, href),
                ]
            )
        tables["consent_weeks"] = weeks

    if report.reach is not None:
        table = Table(
            "languages",
            _("Families by home language, beside English-speaking families"),
            [
                _("Home language"),
                _("Families"),
                _("With a working channel"),
                _("Reached"),
                _("Reached, compared with English"),
                _("Wrote at least once"),
                _("Median answer"),
                _("Median answer, compared with English"),
                _("90th percentile answer"),
            ],
            note=_(
                "Compared with English: the difference with English-speaking families, in "
                "percentage points or hours; a minus sign means less than English-speaking "
                "families."
            ),
        )
        for gap in reports.language_gaps(report):
            narrowed = {"language": gap.language}
            table.rows.append(
                [
                    Cell(report.label("language", gap.language)),
                    _count(gap.families, asked.link("families", show="all", **narrowed)),
                    _share_cell(gap.works_share, asked.link("families", show="works", **narrowed)),
                    _share_cell(
                        gap.reached_share, asked.link("families", show="reached", **narrowed)
                    ),
                    _gap_cell(gap.reached_gap, is_share=True),
                    _share_cell(gap.wrote_share, asked.link("families", show="wrote", **narrowed)),
                    Cell(
                        _seconds_to_hours(gap.median_seconds),
                        _hours(gap.median_seconds),
                        asked.link("answers", state="answered", **narrowed)
                        if gap.median_seconds is not None
                        else "",
                    ),
                    _gap_cell(gap.median_gap_seconds, is_share=False),
                    Cell(_seconds_to_hours(gap.p90_seconds), _hours(gap.p90_seconds)),
                ]
            )
        tables["languages"] = table

    if report.surveys is not None:
        table = Table(
            "surveys",
            _("Survey response rates"),
            [_("Survey"), _("Families invited"), _("Completed within a day"), _("Completed")],
            note=_(
                "Invitations sent in the period. Counts only: who answered an anonymous "
                "survey is never shown."
            ),
        )
        rows = sorted(
            report.surveys.slices("survey"), key=lambda row: report.label("survey", row[0]).lower()
        )
        for key, row in [("", report.surveys.total), *rows]:
            title = report.label("survey", key) if key else _("All surveys")
            if key in report.survey_anonymous:
                title = _("%(title)s (anonymous)") % {"title": title}
            table.rows.append(
                [
                    Cell(title),
                    _count(row["invited"]),
                    _count(row["completed_first_day"], whole=row["invited"]),
                    _count(row["completed"], whole=row["invited"]),
                ]
            )
        tables["surveys"] = table

    if report.supports is not None:
        table = Table(
            "supports",
            _("Help requests by service"),
            [
                _("Service"),
                _("Requests"),
                _("Answered"),
                _("Median time to first answer"),
                _("90th percentile"),
                _("Closed"),
                _("“Did you get the help?” yes"),
                _("no"),
            ],
            note=_(
                "Requests opened in the period; counts and times only, never who asked or "
                "what about. Not narrowed by the family filters, so that a small group never "
                "points at a family."
            ),
        )
        rows = sorted(
            report.supports.slices("service"), key=lambda row: report.label("service", row[0])
        )
        for key, row in [("", report.supports.total), *rows]:
            table.rows.append(
                [
                    Cell(report.label("service", key) if key else _("All services")),
                    _count(row["requests"]),
                    _count(row["answered"], whole=row["requests"]),
                    Cell(_seconds_to_hours(row["median_seconds"]), _hours(row["median_seconds"])),
                    Cell(_seconds_to_hours(row["p90_seconds"]), _hours(row["p90_seconds"])),
                    _count(row["closed"]),
                    _count(row["follow_up_yes"]),
                    _count(row["follow_up_no"]),
                ]
            )
        tables["supports"] = table
    return tables


def _seconds_to_hours(seconds) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _share_cell(share, href: str) -> Cell:
    if share is None:
        return Cell(None)
    return Cell(round(share, 4), _percent(share, 1), href)


def _gap_cell(gap, *, is_share: bool) -> Cell:
    if gap is None:
        return Cell(None)
    if is_share:
        points = formats.number_format(round(100 * gap), 0, use_l10n=True)
        sign = "+" if gap > 0 else ""
        return Cell(
            round(gap, 4), _("%(sign)s%(points)s points") % {"sign": sign, "points": points}
        )
    sign = "+" if gap > 0 else ""
    return Cell(round(gap / 3600, 2), f"{sign}{_hours(gap)}")


def _status_label(status: str) -> str:
    if status == "pending":
        return _("Waiting")
    return str(dict(Delivery.Status.choices).get(status, status))


# ---- Charts: SVG drawn on the server ------------------------------------------------------------

CHART_WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 80
BAR_HEIGHT = 16
GROUP_GAP = 12


@dataclass
class Bar:
    series: int  # which series (its colour and legend)
    x: float
    y: float
    width: float
    text: str
    text_x: float
    text_anchor: str

    @property
    def text_y(self) -> float:
        return self.y + 11


@dataclass
class BarGroup:
    label: str
    label_x: float
    label_y: float
    label_anchor: str
    bars: list[Bar]


@dataclass
class BarChart:
    """Horizontal bars, one group per row of a table; mirrored for right-to-left reading."""

    key: str
    title: str
    description: str
    series: list[str]
    groups: list[BarGroup]
    height: float
    width: int = CHART_WIDTH


def bar_chart(
    key: str,
    title: str,
    description: str,
    series: list[str],
    rows: list[tuple[str, list[float | None], list[str]]],
    *,
    maximum: float | None = None,
) -> BarChart | None:
    """A chart of `rows` (label, values per series, texts per series), or None with nothing to
    draw. Bars are scaled to `maximum` (the largest value when not given)."""
    values = [value for _label, row, _texts in rows for value in row if value is not None]
    if not rows or not values or max(values) <= 0:
        return None
    top = maximum or max(values)
    is_rtl = translation.get_language_bidi()
    bar_space = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    groups, y = [], GROUP_GAP
    for label, row, texts in rows:
        bars = []
        for number, (value, text) in enumerate(zip(row, texts, strict=True)):
            width = 0 if value is None else max(bar_space * min(value, top) / top, 0)
            bar_y = y + number * BAR_HEIGHT
            if is_rtl:
                x = CHART_WIDTH - LABEL_WIDTH - width
                bars.append(Bar(number, x, bar_y, width, text, x - 4, "start"))
            else:
                bars.append(
                    Bar(number, LABEL_WIDTH, bar_y, width, text, LABEL_WIDTH + width + 4, "start")
                )
        middle = y + len(row) * BAR_HEIGHT / 2 + 4
        if is_rtl:
            groups.append(BarGroup(label, CHART_WIDTH - 4, middle, "start", bars))
        else:
            groups.append(BarGroup(label, LABEL_WIDTH - 6, middle, "end", bars))
        y += len(row) * BAR_HEIGHT + GROUP_GAP
    return BarChart(key, title, description, series, groups, y)


def report_charts(report: reports.EngagementReport, asked: ReportRequest) -> dict[str, BarChart]:
    charts: dict[str, BarChart | None] = {}
    dimension = asked.dimension
    by = _dimension_names().get(dimension, dimension).lower()
    if report.reach is not None:
        rows = []
        for dim, key, row in _slice_rows(report, report.reach, dimension):
            families = row["families"] or 0
            shares = [
                None if not families else 100 * row["works"] / families,
                None if not families else 100 * row["reached"] / families,
            ]
            rows.append(
                (
                    report.label(dim, key),
                    shares,
                    [_percent(row["works"], families), _percent(row["reached"], families)],
                )
            )
        charts["reach"] = bar_chart(
            "reach",
            _("Reach by %(by)s") % {"by": by},
            _(
                "For each %(by)s, the share of families with a working channel and the share "
                "reached in the period. The numbers are in the table below."
            )
            % {"by": by},
            [_("With a working channel"), _("Reached in the period")],
            rows,
            maximum=100,
        )
    if report.answers is not None:
        rows = [
            (
                report.label(dim, key),
                [_seconds_to_hours(row["median_seconds"]), _seconds_to_hours(row["p90_seconds"])],
                [_hours(row["median_seconds"]), _hours(row["p90_seconds"])],
            )
            for dim, key, row in _slice_rows(report, report.answers, dimension)
        ]
        charts["answers"] = bar_chart(
            "answers",
            _("Time to the first staff answer by %(by)s") % {"by": by},
            _(
                "For each %(by)s, the median and the 90th percentile of the hours families "
                "waited for a first answer. The numbers are in the table below."
            )
            % {"by": by},
            [_("Median"), _("90th percentile")],
            rows,
        )
    if report.deliveries is not None:
        rows = []
        for key, row in sorted(
            report.deliveries.slices("channel"),
            key=lambda item: reports.CHANNELS.index(item[0]) if item[0] in reports.CHANNELS else 9,
        ):
            problems = row["failed"] + row["undelivered"] + row["skipped"]
            rows.append(
                (
                    reports.channel_label(key),
                    [row["delivered"] + row["sent"], problems],
                    [_number(row["delivered"] + row["sent"]), _number(problems)],
                )
            )
        charts["deliveries"] = bar_chart(
            "deliveries",
            _("Deliveries by channel"),
            _(
                "For each channel, deliveries sent or delivered, and those that failed, were not "
                "delivered or not sent. The numbers are in the table below."
            ),
            [_("Sent or delivered"), _("Failed or not sent")],
            rows,
        )
    if report.consent_weeks:
        rows = [
            (
                formats.date_format(week.week_of, "SHORT_DATE_FORMAT"),
                [week.opt_outs, week.opt_ins],
                [_number(week.opt_outs), _number(week.opt_ins)],
            )
            for week in report.consent_weeks
        ]
        charts["consent_weeks"] = bar_chart(
            "consent-weeks",
            _("Opt-outs and opt-ins each week"),
            _(
                "For each week of the period, the numbers that texted STOP and those that texted "
                "START. The numbers are in the table below."
            ),
            [_("Opt-outs"), _("Opt-ins")],
            rows,
        )
    if report.reach is not None:
        rows = []
        for gap in reports.language_gaps(report):
            reached = None if gap.reached_share is None else 100 * gap.reached_share
            rows.append(
                (
                    report.label("language", gap.language),
                    [reached, _seconds_to_hours(gap.median_seconds)],
                    [_percent(gap.reached_share, 1), _hours(gap.median_seconds)],
                )
            )
        # Two scales would mislead: reach in one chart, waits in the answers chart.
        charts["languages"] = bar_chart(
            "languages",
            _("Families reached, by home language"),
            _(
                "For each home language, English first, the share of families reached in the "
                "period. The numbers, and answer times, are in the table below."
            ),
            [_("Reached in the period")],
            [(label, values[:1], texts[:1]) for label, values, texts in rows],
            maximum=100,
        )
    return {key: chart for key, chart in charts.items() if chart is not None}


# ---- CSV ---------------------------------------------------------------------------------------


def _csv_response(table: Table, asked: ReportRequest) -> HttpResponse:
    period = asked.period
    filename = f"{table.name}-{period.starts_on.isoformat()}-{period.ends_on.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # a byte-order mark, so that spreadsheets read UTF-8
    writer = csv.writer(response)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(cell) for cell in row])
    return response


def _csv_value(cell: Cell):
    if cell.value is None:
        return ""
    text = str(cell.value)
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text  # a spreadsheet never runs it as a formula
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---- Views -------------------------------------------------------------------------------------


def _refused_form(request, error: FormNotValid):
    return render(
        request,
        "portal/reports/index.html",
        {"form": error.form, "asked": None, "report": None, "tables": {}, "charts": {}},
        status=400,
    )


@require_GET
@login_required
def index(request):
    """The report: admins see their school's (or district's) figures, teachers their own,
    counselors their services' help requests."""
    try:
        asked = report_request(request)
    except FormNotValid as error:
        return _refused_form(request, error)
    report = reports.engagement_report(asked.scope, asked.period, asked.filters)
    tables = report_tables(report, asked)
    if request.GET.get("format") == "csv":
        table = tables.get(request.GET.get("table", ""))
        if table is None:
            raise Http404
        return _csv_response(table, asked)
    with timezone.override(asked.period.zone):
        return render(
            request,
            "portal/reports/index.html",
            {
                "form": asked.form,
                "asked": asked,
                "report": report,
                "tables": tables,
                "charts": report_charts(report, asked),
                "summary": _summary(report, asked),
                "is_print": request.GET.get("print") == "1",
                "print_link": asked.link("index", by=asked.dimension, print=1),
                "back_link": asked.link("index", by=asked.dimension),
                "dimension_label": _dimension_names().get(asked.dimension, ""),
                "scope_label": _scope_label(report, asked),
                "worklist_link": asked.link("families", show="worklist"),
                "csv_links": {
                    name: asked.link("index", format="csv", table=name, by=asked.dimension)
                    for name in tables
                },
            },
        )


def _scope_label(report: reports.EngagementReport, asked: ReportRequest) -> str:
    scope = asked.scope
    if scope.is_district:
        district = dict(asked.form.fields["scope"].choices).get(f"district:{scope.district_id}")
        label = str(district or "")
    else:
        label = ", ".join(report.label("school", str(pk)) for pk in scope.school_ids)
    if scope.teacher_id and "teacher" in asked.form.fields:
        teacher = dict(asked.form.fields["teacher"].choices).get(scope.teacher_id, "")
        label = f"{label} · {teacher}"
    return label


@dataclass
class Figure:
    label: str
    text: str
    href: str = ""


def _summary(report: reports.EngagementReport, asked: ReportRequest) -> list[Figure]:
    figures = []
    if report.reach is not None:
        reach = report.reach.total
        answers = report.answers.total
        figures += [
            Figure(_("Families"), _number(reach["families"]), asked.link("families", show="all")),
            Figure(
                _("With a working channel"),
                _percent(reach["works"], reach["families"]),
                asked.link("families", show="works"),
            ),
            Figure(
                _("Reached in the period"),
                _percent(reach["reached"], reach["families"]),
                asked.link("families", show="reached"),
            ),
            Figure(
                _("On the worklist"),
                _number(reach["worklist"]),
                asked.link("families", show="worklist"),
            ),
            Figure(
                _("Families who wrote"),
                _number(report.engagement.total["families_wrote"]),
                asked.link("families", show="wrote"),
            ),
            Figure(
                _("Median time to a first answer"),
                _hours(answers["median_seconds"]),
                asked.link("answers", state="answered"),
            ),
            Figure(
                _("90th percentile"),
                _hours(answers["p90_seconds"]),
                asked.link("answers", state="answered"),
            ),
            Figure(
                _("Waiting past the target now"),
                _number(report.waiting.total["past_target"]),
                asked.link("waiting", past="1"),
            ),
            Figure(
                _("Deliveries that failed or were not delivered"),
                _number(report.deliveries.total["failed"] + report.deliveries.total["undelivered"]),
                asked.link("deliveries", status="problem"),
            ),
            Figure(
                _("SMS segments sent"),
                _number(report.deliveries.total["sms_segments"]),
                asked.link("deliveries", channel="sms"),
            ),
        ]
    if report.supports is not None:
        supports = report.supports.total
        figures += [
            Figure(_("Help requests"), _number(supports["requests"])),
            Figure(_("Median time to answer a help request"), _hours(supports["median_seconds"])),
        ]
    return figures


def _page_number(request) -> int:
    number = _id(request.GET.get("page")) or 1
    return max(number, 1)


@dataclass
class ListPage:
    number: int
    count: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / PAGE_SIZE), 1)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _list_view(request, *, title: str, description: str, fetch, to_table, shows_period=True):
    """A list behind a figure: a page of 50, or every row as CSV."""
    try:
        asked = report_request(request)
    except FormNotValid:
        raise Http404 from None
    if not asked.scope.shows_families:
        raise Http404
    is_csv = request.GET.get("format") == "csv"
    number = _page_number(request)
    offset = 0 if is_csv else (number - 1) * PAGE_SIZE
    total, rows = fetch(asked, offset=offset, limit=None if is_csv else PAGE_SIZE)
    if not is_csv and not rows and total and number > 1:
        number = math.ceil(total / PAGE_SIZE)
        total, rows = fetch(asked, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    table = to_table(asked, rows)
    if is_csv:
        return _csv_response(table, asked)
    extra = {key: request.GET[key] for key in LIST_PARAMS if request.GET.get(key)}
    page = ListPage(number, len(rows), total)
    name = request.resolver_match.url_name
    return render(
        request,
        "portal/reports/list.html",
        {
            "title": title,
            "description": description,
            "asked": asked,
            "table": table,
            "page": page,
            "filters": _filters_text(asked, shows_period=shows_period),
            "back": asked.link("index"),
            "csv_link": asked.link(name, format="csv", **extra),
            "previous_link": asked.link(name, page=number - 1, **extra),
            "next_link": asked.link(name, page=number + 1, **extra),
        },
    )


LIST_PARAMS = ("show", "state", "past", "status", "error_code", "action", "weeks")


def _filters_text(asked: ReportRequest, *, shows_period: bool = True) -> list[str]:
    """The filters a list is narrowed by, for people."""
    shown = []
    if shows_period:
        shown.append(
            _("%(start)s to %(end)s")
            % {
                "start": formats.date_format(asked.period.starts_on, "SHORT_DATE_FORMAT"),
                "end": formats.date_format(asked.period.ends_on, "SHORT_DATE_FORMAT"),
            }
        )
    filters = asked.filters
    form = asked.form
    if asked.scope.teacher_id and "teacher" in form.fields:
        shown.append(dict(form.fields["teacher"].choices).get(asked.scope.teacher_id, ""))
    if filters.grade:
        shown.append(dict(form.fields["grade"].choices).get(filters.grade, filters.grade))
    if filters.section_id:
        shown.append(dict(form.fields["section"].choices).get(filters.section_id, ""))
    if filters.language:
        shown.append(reports.slice_label("language", filters.language, {}))
    if filters.channel:
        shown.append(reports.channel_label(filters.channel))
    return [str(text) for text in shown if text]


SHOW_TITLES = {
    "all": gettext_lazy("Families"),
    "works": gettext_lazy("Families with a working channel"),
    "no_works": gettext_lazy("Families with no working channel"),
    "sms_works": gettext_lazy("Families whose texts work"),
    "email_works": gettext_lazy("Families whose email works"),
    "signs_in": gettext_lazy("Families who sign in to the portal"),
    "reached": gettext_lazy("Families reached in the period"),
    "reached_sms": gettext_lazy("Families reached by text"),
    "reached_email": gettext_lazy("Families reached by email"),
    "reached_portal": gettext_lazy("Families reached in the portal"),
    "wrote": gettext_lazy("Families who wrote"),
    "worklist": gettext_lazy("Worklist: families the school does not reach"),
}


@require_GET
@login_required
def families(request):
    """The families behind a reach figure; by default the worklist, with why and what next."""
    show = request.GET.get("show") or "worklist"
    if show not in reports.FAMILY_SHOWS:
        raise Http404
    weeks = _id(request.GET.get("weeks")) or reports.DEFAULT_NO_CONTACT_WEEKS
    title = SHOW_TITLES.get(show) or _("Worklist: %(reason)s") % {
        "reason": reports.reason_label(show, weeks=weeks)
    }

    def fetch(asked, *, offset, limit):
        return reports.families_list(
            asked.scope, asked.period, asked.filters, show=show, offset=offset, limit=limit
        )

    def to_table(asked, rows):
        table = Table(
            f"families-{show}",
            str(title),
            [
                _("Family"),
                _("Children"),
                _("Home language"),
                _("Mobile phone"),
                _("Email"),
                _("Working channels"),
                _("Last wrote"),
                _("Why"),
                _("Next to try"),
            ],
        )
        for row in rows:
            working = [
                reports.channel_label(channel)
                for channel, works in (
                    ("sms", row.sms_works),
                    ("email", row.email_works),
                    ("portal", row.signs_in),
                )
                if works
            ]
            reasons = [reports.reason_label(reason, weeks=weeks) for reason in row.reasons]
            table.rows.append(
                [
                    Cell(row.name),
                    Cell(", ".join(row.children)),
                    Cell(row.language, reports.slice_label("language", row.language, {})),
                    Cell(row.phone),
                    Cell(row.email),
                    Cell(", ".join(working) or _("None")),
                    _moment(row.wrote_at, asked.period.zone),
                    Cell("; ".join(reasons)),
                    Cell(
                        row.next_channel if row.reasons else "",
                        reports.next_channel_label(row.next_channel) if row.reasons else "–",
                    ),
                ]
            )
        return table

    return _list_view(
        request,
        title=str(title),
        description=_(
            "“Last wrote”: the family's last message to the school, at any time. Working "
            "channels and the worklist are as of now; “reached” is within the period."
        ),
        fetch=fetch,
        to_table=to_table,
    )


@require_GET
@login_required
def answers(request):
    """The waits behind the answer times: unanswered first, then the longest."""
    state = request.GET.get("state") or "all"
    if state not in ("all", "answered", "unanswered"):
        raise Http404

    def fetch(asked, *, offset, limit):
        return reports.answers_list(
            asked.scope, asked.period, asked.filters, state=state, offset=offset, limit=limit
        )

    def to_table(asked, rows):
        table = Table(
            f"answers-{state}",
            _("Waits for a first answer"),
            [
                _("Conversation"),
                _("Family"),
                _("Channel"),
                _("Family wrote"),
                _("First answer"),
                _("Hours"),
            ],
        )
        for row in rows:
            table.rows.append(
                [
                    Cell(
                        row.subject, row.subject, reverse("messaging:thread", args=[row.thread_id])
                    ),
                    Cell(row.family),
                    Cell(row.channel, reports.channel_label(row.channel)),
                    _moment(row.asked_at, asked.period.zone),
                    _moment(row.answered_at, asked.period.zone)
                    if row.answered_at
                    else Cell(None, _("Not answered yet")),
                    Cell(_seconds_to_hours(row.seconds), _hours(row.seconds)),
                ]
            )
        return table

    return _list_view(
        request,
        title=_("Waits for a first answer"),
        description=_("Each wait a family began in the period, with when staff first answered."),
        fetch=fetch,
        to_table=to_table,
    )


@require_GET
@login_required
def waiting(request):
    """Threads where a family waits for an answer now, longest first, with links."""
    past_only = request.GET.get("past") == "1"

    def fetch(asked, *, offset, limit):
        _breakdown, threads = reports.waiting_threads(asked.scope, asked.filters)
        threads = [row for row in threads if row.is_past_target or not past_only]
        chosen = threads[offset:] if limit is None else threads[offset : offset + limit]
        return len(threads), chosen

    def to_table(asked, rows):
        table = Table(
            "waiting",
            _("Families waiting for an answer now"),
            [
                _("Conversation"),
                _("Families"),
                _("Student"),
                _("Owner"),
                _("Waiting since"),
                _("School hours"),
                _("Past the target"),
            ],
        )
        for row in rows:
            thread = row.thread
            table.rows.append(
                [
                    Cell(
                        thread.subject,
                        thread.subject,
                        reverse("messaging:thread", args=[thread.pk]),
                    ),
                    Cell(", ".join(str(family) for family in row.families)),
                    Cell(str(thread.student) if thread.student else ""),
                    Cell(str(thread.owner) if thread.owner else ""),
                    _moment(thread.waiting_since, asked.period.zone),
                    Cell(
                        round(row.school_hours, 1),
                        formats.number_format(row.school_hours, 1, use_l10n=True),
                    ),
                    Cell(int(row.is_past_target), _("Yes") if row.is_past_target else _("No")),
                ]
            )
        return table

    return _list_view(
        request,
        title=_("Families waiting past the target")
        if past_only
        else _("Families waiting for an answer now"),
        description=_(
            "Waiting is counted in school hours: office hours on school days; nights, weekends "
            "and holidays do not count."
        ),
        fetch=fetch,
        to_table=to_table,
        shows_period=False,
    )


@require_GET
@login_required
def deliveries(request):
    """The deliveries behind a delivery figure, newest first."""
    status = request.GET.get("status") or ""
    if status and status not in (*reports.DELIVERY_STATUSES, "problem"):
        raise Http404
    code = request.GET.get("error_code")
    error_code = None if code is None else ("" if code == "-" else code)

    def fetch(asked, *, offset, limit):
        return reports.deliveries_list(
            asked.scope,
            asked.period,
            asked.filters,
            status=status,
            error_code=error_code,
            offset=offset,
            limit=limit,
        )

    def to_table(asked, rows):
        table = Table(
            "deliveries",
            _("Deliveries"),
            [
                _("Written"),
                _("Family"),
                _("Channel"),
                _("Address"),
                _("Status"),
                _("Error code"),
                _("Reason"),
                _("Conversation"),
            ],
        )
        for row in rows:
            table.rows.append(
                [
                    _moment(row.created_at, asked.period.zone),
                    Cell(row.family),
                    Cell(row.channel, reports.channel_label(row.channel)),
                    Cell(row.address),
                    Cell(row.status, _status_label(row.status)),
                    Cell(row.error_code),
                    Cell(row.error_reason),
                    Cell(
                        row.subject, row.subject, reverse("messaging:thread", args=[row.thread_id])
                    ),
                ]
            )
        return table

    return _list_view(
        request,
        title=_("Deliveries"),
        description=_("Deliveries written in the period, newest first."),
        fetch=fetch,
        to_table=to_table,
    )


@require_GET
@login_required
def consent(request):
    """The STOP and START behind the consent figures, newest first."""
    action = request.GET.get("action") or ""
    if action not in ("", "opt_out", "opt_in"):
        raise Http404

    def fetch(asked, *, offset, limit):
        return reports.consent_list(
            asked.scope, asked.period, asked.filters, action=action, offset=offset, limit=limit
        )

    def to_table(asked, rows):
        actions = dict(ConsentChange.Action.choices)
        sources = dict(ConsentChange.Source.choices)
        table = Table(
            "consent",
            _("Opt-outs and opt-ins"),
            [_("When"), _("Change"), _("How"), _("Word texted"), _("Number"), _("Families")],
        )
        for row in rows:
            table.rows.append(
                [
                    _moment(row.created_at, asked.period.zone),
                    Cell(row.action, str(actions.get(row.action, row.action))),
                    Cell(row.source, str(sources.get(row.source, row.source))),
                    Cell(row.keyword),
                    Cell(row.phone),
                    Cell(row.families),
                ]
            )
        return table

    return _list_view(
        request,
        title=_("Opt-outs and opt-ins"),
        description=_("Numbers that stopped or started the school's texts in the period."),
        fetch=fetch,
        to_table=to_table,
    )
