"""The languages a family may choose, as BCP 47 codes compared case-insensitively."""

from django.conf import settings


class UnknownLanguage(ValueError):
    """A language code that is not one of the portal's family languages."""


def family_language_codes() -> list[str]:
    return [code for code, _name in settings.FAMILY_LANGUAGES]


def language_normalize(raw: str) -> str:
    """The supported code for a BCP 47 tag: `zh-Hans`, `ZH_hans` -> `zh-hans`, `es-MX` -> `es`.

    A tag with a region or script is matched first whole, then by its first subtag. Raises
    UnknownLanguage when neither is supported.
    """
    tag = raw.strip().replace("_", "-").lower()
    supported = family_language_codes()
    if tag in supported:
        return tag
    if tag in ("zh", "zh-cn", "zh-sg"):
        return "zh-hans" if "zh-hans" in supported else tag
    base = tag.split("-", 1)[0]
    if base in supported and base != "zh":
        return base
    raise UnknownLanguage(
        f"language {raw.strip()!r} is not supported (supported: {', '.join(supported)})"
    )


# Each language in its own words, so a family finds theirs whatever language the page is in.
AUTONYMS = {
    "en": "English",
    "es": "Español",
    "zh-hans": "简体中文",
    "vi": "Tiếng Việt",
    "ar": "العربية",
    "so": "Soomaali",
}


def family_language_choices() -> list[tuple[str, str]]:
    return [(code, AUTONYMS.get(code, str(name))) for code, name in settings.FAMILY_LANGUAGES]
