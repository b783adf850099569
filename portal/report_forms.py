"""The engagement report's request: its form (scope, teacher, period, filters, breakdown) and
what a page asks for, read into `portal.reports`' terms."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
        label=gettext_lazy("First day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("Last day"),
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
            key=grade_order,
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
            for dimension, label in dimension_names().items()
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


def dimension_names() -> dict[str, str]:
    return {
        "grade": _("Grade"),
        "section": _("Class"),
        "language": _("Home language"),
        "channel": _("Channel"),
        "teacher": _("Teacher"),
        "school": _("School"),
    }


def grade_order(grade: str):
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


def id_or_none(text: str | None) -> int | None:
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
            school_id=id_or_none(number) if kind == "school" else None,
            district_id=id_or_none(number) if kind == "district" else None,
            teacher_id=id_or_none(request.GET.get("teacher")),
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
