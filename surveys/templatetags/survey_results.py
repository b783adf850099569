"""Template filters of the survey results pages."""

from django import template

from surveys.results_charts import percent as percent_text

register = template.Library()


@register.filter
def percent(share: float | None) -> str:
    """0.4 -> "40%" (in the reader's number format); nothing for None."""
    return percent_text(share)
