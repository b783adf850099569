"""The engagement report's charts, drawn on the server as SVG bars (their numbers are the
tables' too)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats, translation
from django.utils.translation import gettext as _

from portal import reports
from portal.report_forms import (
    ReportRequest,
    dimension_names,
)
from portal.report_tables import (
    hours_text,
    number_text,
    percent_text,
    seconds_to_hours,
    slice_rows,
)

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
    by = dimension_names().get(dimension, dimension).lower()
    if report.reach is not None:
        rows = []
        for dim, key, row in slice_rows(report, report.reach, dimension):
            families = row["families"] or 0
            shares = [
                None if not families else 100 * row["works"] / families,
                None if not families else 100 * row["reached"] / families,
            ]
            rows.append(
                (
                    report.label(dim, key),
                    shares,
                    [percent_text(row["works"], families), percent_text(row["reached"], families)],
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
                [seconds_to_hours(row["median_seconds"]), seconds_to_hours(row["p90_seconds"])],
                [hours_text(row["median_seconds"]), hours_text(row["p90_seconds"])],
            )
            for dim, key, row in slice_rows(report, report.answers, dimension)
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
                    [number_text(row["delivered"] + row["sent"]), number_text(problems)],
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
                [number_text(week.opt_outs), number_text(week.opt_ins)],
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
                    [reached, seconds_to_hours(gap.median_seconds)],
                    [percent_text(gap.reached_share, 1), hours_text(gap.median_seconds)],
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
