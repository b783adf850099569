"""The support directory by text, for a family with no smartphone.

A family texts SERVICES (or SERVICIOS, DỊCH VỤ, 服务, خدمات, ADEEGYO) and gets the categories
that have live services at its children's schools, numbered, with the link to /supports/. For an
hour after that list, texting a number gets that category's services (title and phone); a
category's own keywords (FOOD, COMIDA: `SupportCategory.sms_keywords`) work at any time. A plain
number with no list just sent is no menu choice: it goes on to the family's conversation.

The same handler takes the answer to "did you get the help you needed?" (supports.followup).

Carrier keywords (STOP, HELP...) are routed before any of this (messaging.inbound) and stay so.
Answers are short: every segment of a text costs the school money.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from modeltranslation.utils import build_localized_fieldname

from messaging.channels.segments import sms_segments
from messaging.inbound import _reply, keyword_of
from messaging.models import InboundSms
from portal.models import School
from supports import followup
from supports.models import DEFAULT_LANGUAGE, SupportCategory, SupportService
from supports.services import services_for_schools

# What a family texts for the directory, and the language each word is in.
DIRECTORY_WORDS = {
    "SERVICES": "en",
    "SERVICIOS": "es",
    "DỊCH VỤ": "vi",
    "DICH VU": "vi",
    "服务": "zh-hans",
    "خدمات": "ar",
    "ADEEGYO": "so",
}
MENU_SECONDS = 3600  # how long after the list a plain number still chooses a category
MAX_SEGMENTS = 3  # longest answer, in SMS segments; the rest is behind the link
NUMBER = re.compile(r"#?\s*(\d{1,2})\s*[.)]?")


def menu_key(phone: str) -> str:
    return f"supports:sms-menu:{phone}"


def directory_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/supports/"


def in_language(row, field: str, language: str) -> str:
    """A translated field in `language`, else in the default language (texts by SMS never come
    out empty)."""
    return getattr(row, build_localized_fieldname(field, language), "") or getattr(
        row, build_localized_fieldname(field, DEFAULT_LANGUAGE), ""
    )


def _text(inbound: InboundSms) -> str:
    return keyword_of(unicodedata.normalize("NFC", inbound.body))


def _schools(inbound: InboundSms) -> QuerySet[School]:
    """The children's schools of the guardian behind the number; for a number no one has, the
    school it belongs to (the one texted, or the portal's only school); else none."""
    if inbound.guardian_id:
        return School.objects.filter(
            students__guardian_links__guardian_id=inbound.guardian_id,
            students__guardian_links__is_active=True,
            students__is_active=True,
        ).distinct()
    if inbound.school_id:
        return School.objects.filter(pk=inbound.school_id)
    return School.objects.none()


def _language(inbound: InboundSms, word_language: str | None = None) -> str:
    """The family's language; a directory word in another language than English answers in it
    (an unknown number that texts SERVICIOS reads Spanish)."""
    if word_language and word_language != settings.LANGUAGE_CODE:
        return word_language
    if inbound.guardian is not None:
        return inbound.guardian.preferred_language
    if inbound.school is not None and inbound.school.default_language:
        return inbound.school.default_language
    return settings.LANGUAGE_CODE


def _fitted(head: str, parts: list[str], tail: str) -> str:
    """`head` and as many parts as fit in MAX_SEGMENTS with `tail` (the link) at the end."""
    text = head
    for number, part in enumerate(parts):
        candidate = f"{text}{', ' if number else ''}{part}"
        if sms_segments(f"{candidate}. {tail}").count > MAX_SEGMENTS:
            break
        text = candidate
    return f"{text}. {tail}"


def _numbered(categories: list[SupportCategory]) -> dict[int, SupportCategory]:
    """Each category by its number: its `position` when those are distinct and above zero,
    else 1, 2, 3 in their order."""
    positions = [category.position for category in categories]
    if all(positions) and len(set(positions)) == len(positions):
        return dict(zip(positions, categories, strict=True))
    return dict(enumerate(categories, start=1))


def _send_list(inbound: InboundSms, language: str) -> bool:
    schools = _schools(inbound)
    if not schools.exists():
        return False
    live = services_for_schools(schools)
    categories = list(
        SupportCategory.objects.filter(pk__in=live.values("category_id")).order_by("position", "pk")
    )
    school = inbound.school.name if inbound.school else ""
    with translation.override(language):
        if not categories:
            text = gettext("No support services are listed for your school right now.")
            _reply(inbound, f"{school}: {text}" if school else text)
            return True
        menu = _numbered(categories)
        cache.set(
            menu_key(inbound.from_phone),
            {
                "categories": {number: c.pk for number, c in menu.items()},
                "language": language,
                "sent_at": timezone.now(),
            },
            MENU_SECONDS,
        )
        parts = [f"{number} {in_language(c, 'name', language)}" for number, c in menu.items()]
        head = f"{school}: " if school else ""
        tail = gettext("Reply with a number.") + " " + directory_url()
        _reply(inbound, _fitted(head, parts, tail))
    return True


def _send_category(inbound: InboundSms, category: SupportCategory, language: str) -> bool:
    schools = _schools(inbound)
    if not schools.exists():
        return False
    services = services_for_schools(schools).filter(category=category).order_by("title", "pk")
    name = in_language(category, "name", language)
    with translation.override(language):
        if not services:
            text = gettext("%(category)s: no services are listed right now.") % {"category": name}
            _reply(inbound, f"{text} {directory_url()}")
            return True
        parts = [_service_line(service, language) for service in services]
        _reply(inbound, _fitted(f"{name}: ", parts, directory_url()))
    return True


def _service_line(service: SupportService, language: str) -> str:
    contact = str(service.phone) if service.phone else service.email
    title = in_language(service, "title", language)
    return f"{title} {contact}".strip()


def _menu_choice(inbound: InboundSms, menu: dict, number: int) -> bool:
    """A number right after the list: that category's services."""
    category = SupportCategory.objects.filter(pk=menu["categories"].get(number)).first()
    if category is None:
        return False
    return _send_category(inbound, category, menu["language"])


def _category_keyword(inbound: InboundSms, text: str) -> bool:
    for category in SupportCategory.objects.exclude(sms_keywords=""):
        if text in category.keywords:
            return _send_category(inbound, category, _language(inbound))
    return False


def _answer(inbound: InboundSms) -> bool:
    """A number or a yes / no answering the last question the portal texted this number: the
    directory's list (for an hour) or "did you get the help you needed?" (for a week)."""
    match = NUMBER.fullmatch(inbound.body.strip())
    answer = followup.answer_of(inbound.body)
    if match is None and answer is None:
        return False
    menu = cache.get(menu_key(inbound.from_phone)) if match else None
    help_request = followup.help_request_awaiting_answer(phone=inbound.from_phone)
    if help_request is None and menu is None:
        return False
    menu_is_newer = menu and (
        help_request is None or help_request.follow_up_sent_at < menu["sent_at"]
    )
    if menu_is_newer and _menu_choice(inbound, menu, int(match[1])):
        return True
    if help_request is None or answer is None:
        return False
    help_request = followup.help_request_follow_up_answer(help_request=help_request, answer=answer)
    _reply(inbound, followup.thanks_text(help_request))
    return True


def sms_answer(inbound: InboundSms) -> bool:
    """The supports app's inbound handler (messaging.inbound.inbound_handlers): True when the
    text was for the directory or the follow-up, and was answered."""
    text = _text(inbound)
    if text in DIRECTORY_WORDS:
        return _send_list(inbound, _language(inbound, DIRECTORY_WORDS[text]))
    return _answer(inbound) or _category_keyword(inbound, text)


def follow_up_expected(inbound: InboundSms) -> bool:
    """ "Did you get the help you needed?" waits for this number's answer: "sí" is that answer,
    not the carrier's START (messaging.inbound.answer_expected)."""
    return followup.help_request_awaiting_answer(phone=inbound.from_phone) is not None
