from django import template
from django.conf import settings

register = template.Library()

FAMILY_LANGUAGE_NAMES = dict(settings.FAMILY_LANGUAGES)


@register.simple_tag
def language_name_for(code: str) -> str:
    """The name of a family language in the reader's language (Somali is not in Django's list)."""
    return str(FAMILY_LANGUAGE_NAMES.get(code, code))


@register.filter
def language_name(code: str) -> str:
    return language_name_for(code)
