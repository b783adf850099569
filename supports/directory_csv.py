"""The support directory of one school or one district as a CSV file, for districts that keep it
in a spreadsheet: `directory_export` writes it, `directory_import` reads it back.

One row per service. The columns are the service's own (`BASE_COLUMNS`: texts in the default
language, `category` by its default-language name) and then its texts in every other family
language (`title_es`, `summary_es`, ...). The export writes them all; the import reads the columns
present and leaves the others as they are.

The import is all or nothing, as the roster import is: every problem is reported with its line
and column, and a file with any problem writes nothing. A row updates the service of the same
scope with the same title (in the default language, whatever its case), or creates one, as a
service nobody keeps unless an owner is named. A text a person changes loses its machine mark.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from modeltranslation.utils import build_localized_fieldname

from portal.languages import UnknownLanguage, language_normalize
from portal.models import District, School, Staff, StaffMembership
from portal.phones import phone_e164
from supports.models import DEFAULT_LANGUAGE, SupportCategory, SupportService

logger = logging.getLogger(__name__)

TRANSLATED = SupportService.TRANSLATED_FIELDS
BASE_COLUMNS = (
    "category",
    *TRANSLATED,
    "languages",
    "contact_name",
    "phone",
    "email",
    "address",
    "map_url",
    "status",
    "starts_on",
    "ends_on",
)
REQUIRED = ("category", "title", "summary")  # columns every file has, values every row


def other_languages() -> list[str]:
    return [code for code in settings.MODELTRANSLATION_LANGUAGES if code != DEFAULT_LANGUAGE]


def translated_columns() -> list[str]:
    """`title_es`, `summary_es`, ... for every family language but the default one."""
    return [
        build_localized_fieldname(text, language)
        for language in other_languages()
        for text in TRANSLATED
    ]


def all_columns() -> list[str]:
    return [*BASE_COLUMNS, *translated_columns()]


def _model_column(column: str) -> str:
    """The service's column a CSV column fills: a default-language text goes to `title_en`."""
    return build_localized_fieldname(column, DEFAULT_LANGUAGE) if column in TRANSLATED else column


def _services_of(*, school: School | None, district: District | None):
    if (school is None) == (district is None):
        raise ValueError("name one school or one district")
    scope = {"school": school} if school is not None else {"district": district}
    return SupportService.objects.filter(**scope)


# ---- Export -----------------------------------------------------------------------------------


def directory_export(
    *, out: TextIO, school: School | None = None, district: District | None = None
) -> int:
    """Writes every service of the school, or the district-wide ones of the district, whatever
    their status; returns how many."""
    services = (
        _services_of(school=school, district=district)
        .select_related("category")
        .order_by("category__position", "category_id", _model_column("title"), "pk")
    )
    writer = csv.writer(out)
    writer.writerow(all_columns())
    written = 0
    for service in services:
        writer.writerow(_cells(service))
        written += 1
    return written


def _cells(service: SupportService) -> list[str]:
    values = {
        "category": getattr(service.category, build_localized_fieldname("name", DEFAULT_LANGUAGE)),
        "starts_on": service.starts_on.isoformat() if service.starts_on else "",
        "ends_on": service.ends_on.isoformat() if service.ends_on else "",
    }
    return [
        values[column] if column in values else getattr(service, _model_column(column)) or ""
        for column in all_columns()
    ]


# ---- Import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryProblem:
    """Why the file was refused, where a person finds it in the file."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return (
            f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


@dataclass
class DirectoryImport:
    """What an import did, or why it did nothing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[DirectoryProblem] = field(default_factory=list)

    @property
    def is_ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    category: SupportCategory | None = None
    values: dict = field(default_factory=dict)  # the service's columns -> their new values


def directory_import(
    *,
    source: Path | str | bytes,
    school: School | None = None,
    district: District | None = None,
    owner: Staff | None = None,
    file_name: str | None = None,
) -> DirectoryImport:
    """Reads a directory CSV (a path, or its bytes) into the services of one school or one
    district. All or nothing: any problem and nothing is written."""
    services = _services_of(school=school, district=district)
    if isinstance(source, bytes):
        raw, file_name = source, file_name or "directory.csv"
    else:
        raw, file_name = Path(source).read_bytes(), file_name or Path(source).name
    reader = _Reader(file_name, country=_country_of(school=school, district=district))
    report = DirectoryImport(errors=reader.errors)
    if owner is not None and not _may_keep(owner, school=school, district=district):
        reader.error(None, None, f"{owner} is not a counselor or an admin here: choose another")
    rows = reader.read(raw)
    existing = {}
    for service in services:
        existing.setdefault(getattr(service, _model_column("title")).casefold(), []).append(service)
    matched: dict[int, SupportService | None] = {}
    for row in rows:
        title = row.values.get(_model_column("title"), "")
        same = existing.get(title.casefold(), [])
        if len(same) > 1:
            reader.error(row.line, "title", f"{len(same)} services here are called {title!r}")
        matched[row.line] = same[0] if same else None
    if report.errors:
        return report
    try:
        with transaction.atomic(), translation.override(DEFAULT_LANGUAGE):
            for row in rows:
                outcome = _write(
                    row, matched[row.line], school=school, district=district, owner=owner
                )
                setattr(report, outcome, getattr(report, outcome) + 1)
    except IntegrityError as error:
        logger.warning("support directory import rolled back: %s", type(error).__name__)
        report.created = report.updated = report.unchanged = 0
        reader.error(None, None, "the database refused the import and nothing was written")
    return report


def _country_of(*, school: School | None, district: District | None) -> str:
    """Where local phone numbers are read: the school's country, or the district's schools'."""
    if school is not None:
        return school.country
    countries = School.objects.filter(district=district).values_list("country", flat=True)
    return next(iter(countries.order_by("pk")), settings.PHONENUMBER_DEFAULT_REGION)


def _may_keep(owner: Staff, *, school: School | None, district: District | None) -> bool:
    """Whether the owner counsels or administers where the services run."""
    schools = (
        School.objects.filter(pk=school.pk)
        if school is not None
        else School.objects.filter(district=district)
    )
    district_id = school.district_id if school is not None else district.pk
    return (
        owner.is_active
        and Staff.objects.filter(pk=owner.pk)
        .filter(
            Q(
                memberships__school__in=schools,
                memberships__role__in=[StaffMembership.Role.COUNSELOR, StaffMembership.Role.ADMIN],
                memberships__is_active=True,
            )
            | Q(districts_administered=district_id)
        )
        .exists()
    )


def _same(old, new) -> bool:
    return (old or None) == (new or None)


def _write(
    row: _Row,
    service: SupportService | None,
    *,
    school: School | None,
    district: District | None,
    owner: Staff | None,
) -> str:
    """Writes one row; says whether it `created`, `updated` or left the service `unchanged`."""
    values = {**row.values, "category": row.category}
    if service is None:
        service = SupportService(school=school, district=district, owner=owner)
        outcome = "created"
    else:
        changed = {
            column: value
            for column, value in values.items()
            if not _same(getattr(service, column), value)
        }
        if not changed:
            return "unchanged"
        values, outcome = changed, "updated"
    marks = {language: set(texts) for language, texts in (service.machine_translated or {}).items()}
    for language, texts in marks.items():
        for text in list(texts):
            if build_localized_fieldname(text, language) in values:
                texts.discard(text)  # a person wrote it now
    service.machine_translated = {
        language: sorted(texts) for language, texts in marks.items() if texts
    }
    was_published = service.pk is not None and service.status == SupportService.Status.PUBLISHED
    for column, value in values.items():
        setattr(service, column, value)
    if service.status == SupportService.Status.PUBLISHED and not was_published:
        service.published_at = timezone.now()
    elif service.status == SupportService.Status.DRAFT:
        service.published_at = None
    service.save()
    return outcome


class _Reader:
    """Reads the file's rows into the services' columns, noting every problem."""

    def __init__(self, file_name: str, *, country: str):
        self.file_name = file_name
        self.country = country
        self.errors: list[DirectoryProblem] = []
        self.translated = set(translated_columns())
        self.categories = {
            name.casefold(): category
            for category in SupportCategory.objects.all()
            if (name := getattr(category, build_localized_fieldname("name", DEFAULT_LANGUAGE)))
        }

    def error(self, line: int | None, column: str | None, reason: str) -> None:
        self.errors.append(DirectoryProblem(self.file_name, line, column, reason))

    def read(self, raw: bytes) -> list[_Row]:
        rows = []
        titles: dict[str, int] = {}
        for line, cells in self._lines(raw):
            row = self._row(line, cells)
            title = cells.get("title", "").casefold()
            if title and title in titles:
                self.error(line, "title", f"the same title is on line {titles[title]}")
            titles.setdefault(title, line)
            rows.append(row)
        return rows

    def _lines(self, raw: bytes) -> Iterator[tuple[int, dict[str, str]]]:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            self.error(line, None, "not UTF-8 text; save the file as CSV UTF-8")
            return
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = [column.strip() for column in next(reader, [])]
            if not self._header_is_usable(header):
                return
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    if len(cells) != len(header):
                        self.error(
                            line, None, f"{len(cells)} fields where the header has {len(header)}"
                        )
                    else:
                        yield (
                            line,
                            {
                                column: cell.strip()
                                for column, cell in zip(header, cells, strict=True)
                            },
                        )
                line = reader.line_num + 1
        except csv.Error as error:
            self.error(reader.line_num or 1, None, f"not valid CSV ({error})")

    def _header_is_usable(self, header: list[str]) -> bool:
        if not any(header):
            self.error(1, None, "the file is empty: it needs a header line")
            return False
        known = set(all_columns())
        problems = len(self.errors)
        for column in header:
            if column not in known:
                self.error(1, column, "not a column of the directory")
            elif header.count(column) > 1:
                self.error(1, column, "the column appears twice")
        for column in REQUIRED:
            if column not in header:
                self.error(1, column, "a required column is missing")
        return len(self.errors) == problems

    def _row(self, line: int, cells: dict[str, str]) -> _Row:
        row = _Row(line)
        for column, cell in cells.items():
            if not cell and column in REQUIRED:
                self.error(line, column, "a value is required")
                continue
            if column == "category":
                row.category = self.categories.get(cell.casefold())
                if row.category is None:
                    self.error(line, column, f"no category is called {cell!r}")
                continue
            value = self._value(line, column, cell)
            if value is not _REFUSED:
                row.values[_model_column(column)] = value
        starts_on, ends_on = row.values.get("starts_on"), row.values.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.error(line, "ends_on", "the service ends before it starts")
        return row

    def _value(self, line: int, column: str, cell: str):
        def refuse(reason: str):
            self.error(line, column, reason)
            return _REFUSED

        if column in ("starts_on", "ends_on"):
            if not cell:
                return None
            try:
                return datetime.date.fromisoformat(cell)
            except ValueError:
                return refuse(f"{cell!r} is not a date written YYYY-MM-DD")
        if column == "status":
            status = cell.lower() or SupportService.Status.DRAFT
            if status not in SupportService.Status.values:
                return refuse(f"{cell!r} is not draft or published")
            return status
        if column == "phone":
            if not cell:
                return ""
            phone = phone_e164(cell, self.country)
            return phone or refuse(f"{cell!r} is not a phone number in {self.country}")
        if column == "languages":
            codes = []
            for code in re.split(r"[\s,;]+", cell):
                if code:
                    try:
                        codes.append(language_normalize(code))
                    except UnknownLanguage:
                        return refuse(f"{code!r} is not one of the families' languages")
            return " ".join(dict.fromkeys(codes))
        if column == "email" and cell:
            try:
                validate_email(cell)
            except ValidationError:
                return refuse(f"{cell!r} is not an email address")
        if column == "map_url" and cell:
            try:
                URLValidator(schemes=["http", "https"])(cell)
            except ValidationError:
                return refuse(f"{cell!r} is not a web address (https://...)")
        limit = SupportService._meta.get_field(_model_column(column)).max_length
        if limit and len(cell) > limit:
            return refuse(f"at most {limit} characters ({len(cell)} here)")
        if column in self.translated:
            return cell or None  # missing in that language
        return cell


_REFUSED = object()
