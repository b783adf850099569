"""The engagement report shaped for people: tables (what pages show, with the link behind each
figure, and what CSV files hold) and their CSV files."""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _

from messaging.models import Delivery
from portal import reports
from portal.report_forms import (
    ReportRequest,
    dimension_names,
    grade_order,
)

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


def number_text(value) -> str:
    return (
        "–" if value is None else formats.number_format(value, use_l10n=True, force_grouping=True)
    )


def hours_text(seconds) -> str:
    if seconds is None:
        return "–"
    hours = round(seconds / 3600, 1)
    return _("%(hours)s h") % {"hours": formats.number_format(hours, 1, use_l10n=True)}


def percent_text(part, whole) -> str:
    if not whole or part is None:
        return "–"
    return _("%(percent)s %%") % {
        "percent": formats.number_format(round(100 * part / whole), 0, use_l10n=True)
    }


def _count(value, href: str = "", whole=None) -> Cell:
    text = number_text(value)
    if whole is not None and value is not None:
        text = f"{text} ({percent_text(value, whole)})"
    return Cell(value, text, href if value else "")


def moment_cell(value: datetime.datetime | None, zone) -> Cell:
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


def slice_rows(
    report: reports.EngagementReport, breakdown: reports.Breakdown, dimension: str
) -> list[tuple[str, str, reports.Figures]]:
    """The all-families row, then each slice of the dimension in a reader's order."""
    rows = [("all", "", breakdown.total)]
    slices = breakdown.slices(dimension)
    if dimension == "grade":
        slices.sort(key=lambda row: grade_order(row[0]))
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
    by = dimension_names().get(dimension, dimension)

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
        for dim, key, row in slice_rows(report, report.reach, dimension):
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
        for dim, key, row in slice_rows(report, report.engagement, dimension):
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
        for dim, key, row in slice_rows(report, report.answers, dimension):
            answered = link("answers", dim, key, state="answered")
            table.rows.append(
                [
                    _head(report, dim, key),
                    _count(row["waits"], link("answers", dim, key)),
                    _count(row["answered"], answered),
                    _count(row["unanswered"], link("answers", dim, key, state="unanswered")),
                    Cell(
                        seconds_to_hours(row["median_seconds"]),
                        hours_text(row["median_seconds"]),
                        answered if row["answered"] else "",
                    ),
                    Cell(
                        seconds_to_hours(row["p90_seconds"]),
                        hours_text(row["p90_seconds"]),
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
        for dim, key, row in slice_rows(report, report.waiting, dimension):
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
        for dim, key, row in slice_rows(report, report.deliveries, dimension):

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
                    Cell(status_label(error.status)),
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
        for dim, key, row in slice_rows(report, report.consent, dimension):
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
                        seconds_to_hours(gap.median_seconds),
                        hours_text(gap.median_seconds),
                        asked.link("answers", state="answered", **narrowed)
                        if gap.median_seconds is not None
                        else "",
                    ),
                    _gap_cell(gap.median_gap_seconds, is_share=False),
                    Cell(seconds_to_hours(gap.p90_seconds), hours_text(gap.p90_seconds)),
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
                    Cell(
                        seconds_to_hours(row["median_seconds"]), hours_text(row["median_seconds"])
                    ),
                    Cell(seconds_to_hours(row["p90_seconds"]), hours_text(row["p90_seconds"])),
                    _count(row["closed"]),
                    _count(row["follow_up_yes"]),
                    _count(row["follow_up_no"]),
                ]
            )
        tables["supports"] = table
    return tables


def hours_cell(seconds) -> Cell:
    return Cell(seconds_to_hours(seconds), hours_text(seconds))


def seconds_to_hours(seconds) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _share_cell(share, href: str) -> Cell:
    if share is None:
        return Cell(None)
    return Cell(round(share, 4), percent_text(share, 1), href)


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
    return Cell(round(gap / 3600, 2), f"{sign}{hours_text(gap)}")


def status_label(status: str) -> str:
    if status == "pending":
        return _("Waiting")
    return str(dict(Delivery.Status.choices).get(status, status))


# ---- CSV ---------------------------------------------------------------------------------------


def csv_response(table: Table, asked: ReportRequest) -> HttpResponse:
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
