"""Bar charts of survey results, drawn on the server as SVG (templates/surveys/results/
_bar_chart.html): no script, readable by a screen reader (role="img", a <title> and a <desc>
that says every number), mirrored for right-to-left languages, and always followed on the page
by a table of the same numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext

WIDTH = 320  # the drawing's own units; it scales to the width of the page
LABEL_HEIGHT = 16  # a bar's label sits above it...
BAR_HEIGHT = 14  # ...then the bar
ROW_GAP = 10
VALUE_ROOM = 80  # room after the longest bar for its figure ("120 (100%)")
LABEL_CHARS = 48  # longer labels are shortened in the drawing (the table has them whole)


@dataclass(frozen=True)
class Bar:
    label: str  # as drawn, perhaps shortened
    figure: str  # "3 (60%)"
    label_x: float
    label_y: float
    bar_x: float
    bar_y: float
    bar_width: float
    figure_x: float
    figure_y: float


@dataclass(frozen=True)
class BarChart:
    chart_id: str  # makes the ids of its <title> and <desc>
    title: str
    description: str  # every bar's label and figure, for those who do not see the drawing
    width: int
    height: int
    direction: str  # "ltr" or "rtl": texts start at their x and run in this direction
    bars: tuple[Bar, ...]


def percent(share: float | None) -> str:
    """0.625 -> "63%": whole percents, halves rounded up; nothing for None."""
    return "" if share is None else f"{number_format(math.floor(share * 100 + 0.5))}%"


def _figure(count: int, share: float | None) -> str:
    if share is None:
        return number_format(count)
    return f"{number_format(count)} ({percent(share)})"


def _shortened(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(
    *, chart_id: str, title: str, bars: list[tuple[str, int, float | None]], rtl: bool = False
) -> BarChart:
    """A horizontal bar chart of (label, count, share or None) rows, bars scaled to the largest
    count; right to left, bars grow from the right edge."""
    largest = max((count for _label, count, _share in bars), default=0)
    room = WIDTH - VALUE_ROOM
    drawn = []
    for index, (label, count, share) in enumerate(bars):
        top = index * (LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP)
        width = round(room * count / largest, 1) if largest else 0
        bar_y = top + LABEL_HEIGHT
        figure_x = width + 4 if not rtl else WIDTH - width - 4
        drawn.append(
            Bar(
                label=_shortened(label),
                figure=_figure(count, share),
                label_x=0 if not rtl else WIDTH,
                label_y=top + LABEL_HEIGHT - 4,
                bar_x=0 if not rtl else WIDTH - width,
                bar_y=bar_y,
                bar_width=width,
                figure_x=figure_x,
                figure_y=bar_y + BAR_HEIGHT - 3,
            )
        )
    description = "; ".join(
        gettext("%(label)s: %(figure)s") % {"label": label, "figure": _figure(count, share)}
        for label, count, share in bars
    )
    return BarChart(
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=max(len(bars) * (LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP) - ROW_GAP, 1),
        direction="rtl" if rtl else "ltr",
        bars=tuple(drawn),
    )
