import datetime

from django import template

register = template.Library()


@register.filter
def reader_text(message):
    """The translation a reader sees, or None: prefetched as `reader_translations`."""
    translations = getattr(message, "reader_translations", None) or []
    return translations[0] if translations else None


@register.filter
def waited(since, now):
    """Hours and minutes since `since`, for "waiting for 3 h 20 min"."""
    minutes = int((now - since).total_seconds() // 60)
    return divmod(max(minutes, 0), 60)


@register.filter
def opening_time(iso: str) -> datetime.datetime:
    """The office opening time an acknowledgement keeps, as a datetime to format."""
    return datetime.datetime.fromisoformat(iso)
