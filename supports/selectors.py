"""Reads of the support directory for the family pages (and for staff, who send families to it):
the directory, a category, a service and search, each in the reader's language and in a constant
number of SQL queries whatever the number of services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from urllib.parse import quote_plus

from django.db import connections
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

from portal import permissions
from portal.languages import UnknownLanguage, language_normalize
from portal.models import Guardian, Student
from supports.models import DEFAULT_LANGUAGE, SupportCategory, SupportService
from supports.services import services_for_family, services_for_schools

# PostgreSQL's text-search configuration of each family language that has one (stemming and stop
# words); the others (Vietnamese, Chinese, Somali) are searched word for word with "simple".
SEARCH_CONFIGS = {"en": "english", "es": "spanish", "ar": "arabic"}
SEARCHED_FIELDS = ("title", "summary", "description", "audience", "how_to_get")
# Written without spaces between words: no configuration splits them into words, so a search
# in these languages also matches the words anywhere inside the title and summary.
UNSPACED_LANGUAGES = frozenset({"zh-hans"})


@dataclass(frozen=True)
class LocalizedText:
    """One text of a service as a reader sees it."""

    text: str
    language: str  # the language the text is written in
    is_fallback: bool = False  # the reader's language has none: this is the default language's
    is_machine: bool = False  # machine translated (accepted by a counselor, still marked)
    original: str = ""  # of a machine translation: the default language's text it came from


@dataclass
class ServiceListing:
    service: SupportService
    title: LocalizedText
    summary: LocalizedText


@dataclass
class CategoryListing:
    category: SupportCategory
    name: LocalizedText
    description: LocalizedText
    services: list[ServiceListing] = field(default_factory=list)


@dataclass
class ServicePage:
    service: SupportService
    language: str  # the reader's
    texts: dict[str, LocalizedText]  # every field of SupportService.TRANSLATED_FIELDS
    category_name: LocalizedText
    languages: list[str]  # codes of the languages the service is offered in
    map_url: str


def reader_language(user) -> str:
    """The language a person reads the directory in: a family's own (Somali too, which the
    interface does not speak); for staff, the language of the page."""
    access = permissions.access_for(user)
    if access.guardian_id:
        language = (
            Guardian.objects.filter(pk=access.guardian_id)
            .values_list("preferred_language", flat=True)
            .first()
        )
        if language:
            return language
    try:
        return language_normalize(translation.get_language() or DEFAULT_LANGUAGE)
    except UnknownLanguage:
        return DEFAULT_LANGUAGE


def localized(row, name: str, language: str) -> LocalizedText:
    """The text of a translated field in `language`, else the default language's, marked."""
    machine = getattr(row, "machine_translated", None) or {}
    own = getattr(row, build_localized_fieldname(name, language)) or ""
    original = getattr(row, build_localized_fieldname(name, DEFAULT_LANGUAGE)) or ""
    if own.strip():
        is_machine = name in machine.get(language, ()) and language != DEFAULT_LANGUAGE
        return LocalizedText(
            own, language, is_machine=is_machine, original=original if is_machine else ""
        )
    return LocalizedText(
        original, DEFAULT_LANGUAGE, is_fallback=bool(original) and language != DEFAULT_LANGUAGE
    )


def services_visible_to(user, *, today: datetime.date | None = None) -> QuerySet[SupportService]:
    """Live services a person may find: a family, those of its children's schools and districts;
    staff, those of the schools they work at (as their families see them)."""
    access = permissions.access_for(user)
    family = services_for_family(user, today=today) if access.guardian_id else None
    staff = (
        services_for_schools(permissions.schools_visible_to(user), today=today)
        if access.is_staff_member
        else None
    )
    if family is not None and staff is not None:
        return SupportService.objects.filter(
            Q(pk__in=family.values("pk")) | Q(pk__in=staff.values("pk"))
        ).select_related("category")
    if family is None and staff is None:
        return SupportService.objects.none()
    return family if family is not None else staff


def _in_language_order(services: QuerySet[SupportService], language: str):
    title = build_localized_fieldname("title", language)
    default_title = build_localized_fieldname("title", DEFAULT_LANGUAGE)
    return services.order_by(
        "category__position",
        "category_id",
        Coalesce(NullIf(F(title), Value("")), F(default_title)).asc(),
        "pk",
    )


def _columns(language: str) -> list[str]:
    return [build_localized_fieldname(name, language) for name in SEARCHED_FIELDS] + [
        f"category__{build_localized_fieldname('name', language)}"
    ]


def _full_text(services: QuerySet[SupportService], query: str, language: str):
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    languages = list(dict.fromkeys([language, DEFAULT_LANGUAGE]))
    configs = {code: SEARCH_CONFIGS.get(code, "simple") for code in languages}
    vector = reduce(
        lambda left, right: left + right,
        (SearchVector(*_columns(code), config=configs[code]) for code in languages),
    )
    search = reduce(
        or_,
        (SearchQuery(query, config=configs[code], search_type="websearch") for code in languages),
    )
    matches = Q(search_document=search)
    if language in UNSPACED_LANGUAGES:
        for name in ("title", "summary"):
            matches |= Q(**{f"{build_localized_fieldname(name, language)}__icontains": query})
    return (
        services.annotate(search_document=vector, rank=SearchRank(vector, search))
        .filter(matches)
        .order_by("-rank", "category__position", "pk")
    )


def _contains(services: QuerySet[SupportService], query: str, language: str):
    """Without PostgreSQL (the embedded SQLite): every word somewhere in the reader's language's
    or the default language's texts."""
    columns = [column for code in {language, DEFAULT_LANGUAGE} for column in _columns(code)]
    for word in query.split():
        services = services.filter(
            reduce(or_, (Q(**{f"{column}__icontains": word}) for column in columns))
        )
    return _in_language_order(services, language)


def services_search(user, query: str, language: str) -> QuerySet[SupportService]:
    """The services a person may find that match `query` in their language or the default one,
    best first: on PostgreSQL by full-text search with the language's stemming, elsewhere by
    the words it contains. An empty query finds every service, in directory order."""
    services = services_visible_to(user)
    query = " ".join(query.split())[:200]
    if not query:
        return _in_language_order(services, language)
    if connections[services.db].vendor == "postgresql":
        return _full_text(services, query, language)
    return _contains(services, query, language)


def _listing(service: SupportService, language: str) -> ServiceListing:
    return ServiceListing(
        service, localized(service, "title", language), localized(service, "summary", language)
    )


def listings(services, language: str) -> list[ServiceListing]:
    return [_listing(service, language) for service in services]


def _categories(services, language: str) -> list[CategoryListing]:
    by_category: dict[int, CategoryListing] = {}
    for service in services:
        category = service.category
        if category.pk not in by_category:
            by_category[category.pk] = CategoryListing(
                category,
                localized(category, "name", language),
                localized(category, "description", language),
            )
        by_category[category.pk].services.append(_listing(service, language))
    return list(by_category.values())


def directory_for(user, language: str) -> list[CategoryListing]:
    """Every category that has services for this person, with its services, in one query."""
    return _categories(_in_language_order(services_visible_to(user), language), language)


def category_for(user, category_id: int, language: str) -> CategoryListing:
    """One category with its services for this person; raises SupportCategory.DoesNotExist."""
    category = SupportCategory.objects.get(pk=category_id)
    services = _in_language_order(services_visible_to(user).filter(category=category), language)
    listing = CategoryListing(
        category,
        localized(category, "name", language),
        localized(category, "description", language),
    )
    listing.services = listings(services, language)
    return listing


def map_url_for(service: SupportService) -> str:
    if service.map_url:
        return service.map_url
    if service.address:
        return f"https://www.openstreetmap.org/search?query={quote_plus(service.address)}"
    return ""


def service_page(user, service_id: int, language: str) -> ServicePage:
    """A service as the reader sees it; raises SupportService.DoesNotExist for a service they
    may not find (another school's, a draft, one not running today)."""
    service = services_visible_to(user).get(pk=service_id)
    return ServicePage(
        service=service,
        language=language,
        texts={name: localized(service, name, language) for name in service.TRANSLATED_FIELDS},
        category_name=localized(service.category, "name", language),
        languages=service.languages.split(),
        map_url=map_url_for(service),
    )


def children_for_help(user, service: SupportService) -> list[Student]:
    """The children a family may name when it asks this service for help: those it may receive
    messages about, at the service's school (or in its district)."""
    access = permissions.access_for(user)
    if not access.guardian_id:
        return []
    scope = (
        Q(school_id=service.school_id)
        if service.school_id
        else Q(school__district_id=service.district_id)
    )
    return list(
        Student.objects.filter(
            scope,
            guardian_links__guardian_id=access.guardian_id,
            guardian_links__is_active=True,
            guardian_links__may_receive_messages=True,
            is_active=True,
        )
        .distinct()
        .order_by("given_name", "pk")
    )
