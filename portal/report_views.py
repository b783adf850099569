"""Pages of the engagement report: the report itself (a period, filters, a breakdown to choose,
charts drawn on the server as SVG with their numbers as tables) and the lists behind its figures
(the worklist and other families, waits for an answer, threads waiting now, deliveries, STOP and
START). Every table is also a CSV file (`?format=csv`), and `?print=1` is the printable page.

Thin: parse the request, ask `portal.reports` for the scope (404 when it is not the user's) and
the figures, have them shaped (`portal.report_tables`, `portal.report_charts`), render."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from messaging.models import ConsentChange
from portal import reports
from portal.report_charts import (
    report_charts,
)
from portal.report_forms import (
    PAGE_SIZE,
    FormNotValid,
    ReportRequest,
    dimension_names,
    id_or_none,
    report_request,
)
from portal.report_tables import (
    Cell,
    Table,
    csv_response,
    hours_text,
    moment_cell,
    number_text,
    percent_text,
    report_tables,
    seconds_to_hours,
    status_label,
)

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
        return csv_response(table, asked)
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
                "dimension_label": dimension_names().get(asked.dimension, ""),
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
            Figure(
                _("Families"), number_text(reach["families"]), asked.link("families", show="all")
            ),
            Figure(
                _("With a working channel"),
                percent_text(reach["works"], reach["families"]),
                asked.link("families", show="works"),
            ),
            Figure(
                _("Reached in the period"),
                percent_text(reach["reached"], reach["families"]),
                asked.link("families", show="reached"),
            ),
            Figure(
                _("On the worklist"),
                number_text(reach["worklist"]),
                asked.link("families", show="worklist"),
            ),
            Figure(
                _("Families who wrote"),
                number_text(report.engagement.total["families_wrote"]),
                asked.link("families", show="wrote"),
            ),
            Figure(
                _("Median time to a first answer"),
                hours_text(answers["median_seconds"]),
                asked.link("answers", state="answered"),
            ),
            Figure(
                _("90th percentile"),
                hours_text(answers["p90_seconds"]),
                asked.link("answers", state="answered"),
            ),
            Figure(
                _("Waiting past the target now"),
                number_text(report.waiting.total["past_target"]),
                asked.link("waiting", past="1"),
            ),
            Figure(
                _("Deliveries that failed or were not delivered"),
                number_text(
                    report.deliveries.total["failed"] + report.deliveries.total["undelivered"]
                ),
                asked.link("deliveries", status="problem"),
            ),
            Figure(
                _("SMS segments sent"),
                number_text(report.deliveries.total["sms_segments"]),
                asked.link("deliveries", channel="sms"),
            ),
        ]
    if report.supports is not None:
        supports = report.supports.total
        figures += [
            Figure(_("Help requests"), number_text(supports["requests"])),
            Figure(
                _("Median time to answer a help request"), hours_text(supports["median_seconds"])
            ),
        ]
    return figures


def _page_number(request) -> int:
    number = id_or_none(request.GET.get("page")) or 1
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
        return csv_response(table, asked)
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
    weeks = id_or_none(request.GET.get("weeks")) or reports.DEFAULT_NO_CONTACT_WEEKS
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
                    moment_cell(row.wrote_at, asked.period.zone),
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
                _("Hours waited"),
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
                    moment_cell(row.asked_at, asked.period.zone),
                    moment_cell(row.answered_at, asked.period.zone)
                    if row.answered_at
                    else Cell(None, _("Not answered yet")),
                    Cell(seconds_to_hours(row.seconds), hours_text(row.seconds)),
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
                    moment_cell(thread.waiting_since, asked.period.zone),
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
                    moment_cell(row.created_at, asked.period.zone),
                    Cell(row.family),
                    Cell(row.channel, reports.channel_label(row.channel)),
                    Cell(row.address),
                    Cell(row.status, status_label(row.status)),
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
            [
                _("When"),
                _("Opt-out or opt-in"),
                _("How"),
                _("Word texted"),
                _("Number"),
                _("Families"),
            ],
        )
        for row in rows:
            table.rows.append(
                [
                    moment_cell(row.created_at, asked.period.zone),
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
