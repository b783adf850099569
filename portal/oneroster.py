"""Reading a OneRoster 1.1 CSV bundle into checked records, before anything touches the database.

A bundle is a folder or a .zip holding orgs.csv, users.csv, classes.csv and enrollments.csv, with
academicSessions.csv, courses.csv and demographics.csv when the system exports them. Columns are
found by header name in any order; text is UTF-8 with or without a BOM, lines end in CRLF or LF.

`roster_read` returns a `Roster`: the records the portal keeps, every error (a bad row refuses the
whole bundle) and every warning (something skipped that loses no data), each naming file, line and
column.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portal.languages import UnknownLanguage, language_normalize
from portal.phones import phone_e164

REQUIRED_FILES = ("orgs.csv", "users.csv", "classes.csv", "enrollments.csv")
OPTIONAL_FILES = ("academicSessions.csv", "courses.csv", "demographics.csv", "manifest.csv")

# Columns the specification defines for each file; others are vendor extras (warned, ignored).
SPEC_COLUMNS = {
    "orgs.csv": {
        "sourcedId",
        "status",
        "dateLastModified",
        "name",
        "type",
        "identifier",
        "parentSourcedId",
    },
    "users.csv": {
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "metadata.language",
    },
    "classes.csv": {
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    },
    "enrollments.csv": {
        "sourcedId",
        "status",
        "dateLastModified",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    },
    "academicSessions.csv": {
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    },
}
REQUIRED_COLUMNS = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "users.csv": ("sourcedId", "role", "givenName", "familyName", "orgSourcedIds"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
    "academicSessions.csv": ("sourcedId", "title"),
    "courses.csv": ("sourcedId",),
    "demographics.csv": ("userSourcedId",),
    "manifest.csv": ("propertyName", "value"),
}
# Spellings some systems use in place of the specification's.
COLUMN_ALIASES = {
    "users.csv": {"agents": "agentSourcedIds", "userId": "userIds", "grade": "grades"},
    "classes.csv": {"grade": "grades", "period": "periods"},
}

GUARDIAN_ROLES = {"parent", "guardian", "relative"}
STAFF_ROLES = {"teacher": "teacher", "aide": "teacher", "administrator": "admin"}
USER_ROLES = GUARDIAN_ROLES | set(STAFF_ROLES) | {"student", "proctor"}
ACTIVE_STATUSES = {"", "active"}
INACTIVE_STATUSES = {"tobedeleted", "inactive"}
DISTRICT_TYPES = {"district"}
IGNORED_ORG_TYPES = {"local", "state", "national"}
ORG_TYPES = {"school", "department"} | DISTRICT_TYPES | IGNORED_ORG_TYPES
ROLE_NAMES = {"student": "a student", "guardian": "a parent or guardian", "staff": "staff"}


@dataclass(frozen=True)
class RosterProblem:
    """An error or a warning, where a person can find it in the bundle."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return (
            f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class OrgRecord:
    sourced_id: str
    name: str
    is_active: bool
    district_sourced_id: str | None = None  # schools only


@dataclass
class PersonRecord:
    sourced_id: str
    role: str  # student, guardian (parent, guardian, relative: see relationship), staff
    given_name: str
    family_name: str
    is_active: bool
    line: int
    email: str = ""
    phone: str = ""  # E.164, guardians only
    language: str | None = None  # guardians only; None when the bundle does not say
    grade: str = ""
    relationship: str = ""  # guardians: parent, guardian or relative
    staff_role: str = ""  # staff: teacher or admin
    school_ids: list[str] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)


@dataclass
class SectionRecord:
    sourced_id: str
    name: str
    school_sourced_id: str
    is_active: bool
    grade: str = ""
    period: str = ""
    term: str = ""


@dataclass
class EnrollmentRecord:
    sourced_id: str
    section_sourced_id: str
    person_sourced_id: str
    is_staff: bool
    is_active: bool


@dataclass
class Roster:
    districts: dict[str, OrgRecord] = field(default_factory=dict)
    schools: dict[str, OrgRecord] = field(default_factory=dict)
    people: dict[str, PersonRecord] = field(default_factory=dict)
    sections: dict[str, SectionRecord] = field(default_factory=dict)
    enrollments: list[EnrollmentRecord] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (student, guardian) sourcedIds
    errors: list[RosterProblem] = field(default_factory=list)
    warnings: list[RosterProblem] = field(default_factory=list)
    row_count: int = 0


@dataclass(frozen=True)
class SchoolDefaults:
    """What a school already in the portal says about reading its families' rows."""

    country: str
    language: str


class BundleUnreadable(Exception):
    """The bundle is not a folder or a zip the portal can open."""


def bundle_files(source: Path | str | bytes) -> dict[str, bytes]:
    """The bundle's CSV files by name, from a folder, a .zip path or .zip bytes."""
    if isinstance(source, bytes):
        return _zip_files(io.BytesIO(source))
    path = Path(source)
    if path.is_dir():
        return {
            child.name: child.read_bytes()
            for child in path.iterdir()
            if child.is_file() and child.suffix.lower() == ".csv"
        }
    if path.is_file():
        with path.open("rb") as handle:
            return _zip_files(handle)
    raise BundleUnreadable(f"{path} is neither a folder nor a .zip file")


def _zip_files(handle) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(handle) as archive:
            files = {}
            for member in archive.infolist():
                name = member.filename.rsplit("/", 1)[-1]
                if member.is_dir() or not name.lower().endswith(".csv") or name.startswith("._"):
                    continue
                files[name] = archive.read(member)
            return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
        raise BundleUnreadable(f"not a readable .zip file ({error})") from error


@dataclass
class _Table:
    name: str
    rows: list[tuple[int, dict[str, str]]]  # (line where the row starts, values by column)
    columns: set[str]


class _Reader:
    def __init__(
        self,
        files: Mapping[str, bytes],
        school_defaults: Mapping[str, SchoolDefaults],
        default_country: str,
        default_language: str,
    ):
        self.files = files
        self.school_defaults = school_defaults
        self.default_country = default_country
        self.default_language = default_language
        self.roster = Roster()
        self._phone_cache: dict[tuple[str, str], str | None] = {}
        # Every sourcedId a file lists, kept or not, so a reference to a row that was refused or
        # skipped is not reported again as unknown.
        self.listed_users: set[str] = set()
        self.listed_classes: set[str] = set()
        self.unreadable: set[str] = set()  # files refused whole: references to them are not
        # checked, so one bad file gives one error, not one for every row that points at it

    # -- problems -------------------------------------------------------------------------------
    def error(self, file: str, line: int | None, column: str | None, reason: str) -> None:
        self.roster.errors.append(RosterProblem(file, line, column, reason))

    def warn(self, file: str, line: int | None, column: str | None, reason: str) -> None:
        self.roster.warnings.append(RosterProblem(file, line, column, reason))

    # -- files ----------------------------------------------------------------------------------
    def table(self, name: str) -> _Table | None:
        table = self._table(name)
        if table is None:
            self.unreadable.add(name)
        return table

    def _table(self, name: str) -> _Table | None:
        raw = self.files.get(name)
        if raw is None:
            if name in REQUIRED_FILES:
                self.error(name, None, None, "the file is missing from the bundle")
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            self.error(
                name,
                line,
                None,
                f"not UTF-8 text (byte 0x{raw[error.start]:02x} at "
                f"offset {error.start}); export the file as UTF-8",
            )
            return None
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = next(reader, None)
        except csv.Error as error:
            self.error(name, 1, None, f"the header is not valid CSV ({error})")
            return None
        if header is None:
            self.error(name, 1, None, "the file is empty: it needs at least a header line")
            return None
        columns = self.columns(name, [column.strip() for column in header])
        if columns is None:
            return None
        rows: list[tuple[int, dict[str, str]]] = []
        line = reader.line_num + 1
        try:
            for values in reader:
                if not any(value.strip() for value in values):
                    line = reader.line_num + 1
                    continue
                if len(values) != len(columns):
                    self.error(
                        name,
                        line,
                        None,
                        f"the row has {len(values)} fields where the header has {len(columns)}",
                    )
                else:
                    rows.append(
                        (
                            line,
                            {
                                column: value.strip()
                                for column, value in zip(columns, values, strict=True)
                                if column
                            },
                        )
                    )
                line = reader.line_num + 1
        except csv.Error as error:
            self.error(name, line, None, f"not valid CSV ({error})")
        self.roster.row_count += len(rows)
        return _Table(name, rows, {column for column in columns if column})

    def columns(self, name: str, header: list[str]) -> list[str] | None:
        aliases = COLUMN_ALIASES.get(name, {})
        spec = SPEC_COLUMNS.get(name)
        columns: list[str] = []
        for column in header:
            if column in aliases and aliases[column] not in header:
                self.warn(name, 1, column, f"read as {aliases[column]!r}, the OneRoster 1.1 name")
                column = aliases[column]
            elif spec is not None and column not in spec:
                self.warn(name, 1, column, "not a column the portal uses; ignored")
                column = ""
            columns.append(column)
        duplicates = [column for column, count in Counter(columns).items() if column and count > 1]
        for column in duplicates:
            self.error(name, 1, column, "the column appears twice in the header")
        missing = [column for column in REQUIRED_COLUMNS.get(name, ()) if column not in columns]
        for column in missing:
            self.error(name, 1, column, "a required column is missing")
        return None if duplicates or missing else columns

    def unique_rows(self, table: _Table, key: str = "sourcedId") -> Iterator[tuple[int, dict]]:
        first_line: dict[str, int] = {}
        for line, row in table.rows:
            sourced_id = row.get(key, "")
            if not sourced_id:
                self.error(table.name, line, key, "the value is required")
                continue
            if sourced_id in first_line:
                self.error(
                    table.name,
                    line,
                    key,
                    f"{sourced_id!r} appears twice (first on line {first_line[sourced_id]})",
                )
                continue
            first_line[sourced_id] = line
            yield line, row

    def is_active(self, table: str, line: int, row: dict) -> bool:
        status = row.get("status", "").lower()
        if status in ACTIVE_STATUSES:
            return True
        if status in INACTIVE_STATUSES:
            return False
        self.error(table, line, "status", f"{row['status']!r} is not active or tobedeleted")
        return True

    def required(self, table: str, line: int, row: dict, column: str) -> str:
        value = row.get(column, "")
        if not value:
            self.error(table, line, column, "the value is required")
        return value

    # -- orgs -----------------------------------------------------------------------------------
    def read_orgs(self) -> dict[str, str]:
        """Records schools and districts; returns every org's sourcedId -> the school it stands
        for (a department counts as its school), or '' for a district or ignored org."""
        table = self.table("orgs.csv")
        if table is None:
            return {}
        rows = {}
        for line, row in self.unique_rows(table):
            kind = row.get("type", "").lower()
            if kind not in ORG_TYPES:
                self.error(
                    "orgs.csv",
                    line,
                    "type",
                    f"{row.get('type')!r} is not a OneRoster "
                    f"org type ({', '.join(sorted(ORG_TYPES))})",
                )
                continue
            rows[row["sourcedId"]] = (line, row, kind)
        school_of: dict[str, str] = {}
        for sourced_id, (line, row, kind) in rows.items():
            name = self.required("orgs.csv", line, row, "name")
            active = self.is_active("orgs.csv", line, row)
            if kind in DISTRICT_TYPES:
                self.roster.districts[sourced_id] = OrgRecord(sourced_id, name, active)
                school_of[sourced_id] = ""
            elif kind in IGNORED_ORG_TYPES:
                self.warn("orgs.csv", line, "type", f"a {kind} org is not kept; its schools are")
                school_of[sourced_id] = ""
        for sourced_id, (line, row, kind) in rows.items():
            if kind == "school":
                parent = row.get("parentSourcedId", "")
                district = parent if parent in self.roster.districts else None
                if parent and district is None:
                    self.warn(
                        "orgs.csv",
                        line,
                        "parentSourcedId",
                        f"{parent!r} is not a district "
                        "in this bundle; the school is imported without a district",
                    )
                self.roster.schools[sourced_id] = OrgRecord(
                    sourced_id, row["name"], self.is_active("orgs.csv", line, row), district
                )
                school_of[sourced_id] = sourced_id
        for sourced_id, (line, row, kind) in rows.items():
            if kind != "department":
                continue
            parent = row.get("parentSourcedId", "")
            if parent in self.roster.schools:
                school_of[sourced_id] = parent
                continue
            self.warn(
                "orgs.csv",
                line,
                "type",
                "a department whose school is not in this bundle; "
                "it is imported as a school of its own",
            )
            self.roster.schools[sourced_id] = OrgRecord(
                sourced_id, row["name"], self.is_active("orgs.csv", line, row), None
            )
            school_of[sourced_id] = sourced_id
        return school_of

    # -- users ----------------------------------------------------------------------------------
    def read_users(self, school_of: dict[str, str]) -> None:
        table = self.table("users.csv")
        if table is None:
            return
        has_language = "metadata.language" in table.columns
        pending_agents: list[tuple[int, PersonRecord]] = []
        self.listed_users = {row.get("sourcedId", "") for _line, row in table.rows}
        for line, row in self.unique_rows(table):
            role = row.get("role", "").lower()
            if role not in USER_ROLES:
                self.error(
                    "users.csv", line, "role", f"{row.get('role')!r} is not a OneRoster user role"
                )
                continue
            if role == "proctor":
                self.warn("users.csv", line, "role", "proctors are not kept")
                continue
            org_ids = _split(row.get("orgSourcedIds", ""))
            unknown = [
                org for org in org_ids if org not in school_of and "orgs.csv" not in self.unreadable
            ]
            for org in unknown:
                self.error("users.csv", line, "orgSourcedIds", f"{org!r} is not in orgs.csv")
            if not org_ids:
                self.error("users.csv", line, "orgSourcedIds", "the value is required")
            school_ids = list(dict.fromkeys(school_of[o] for o in org_ids if school_of.get(o)))
            if "orgs.csv" in self.unreadable:
                org_ids = []
            person = PersonRecord(
                sourced_id=row["sourcedId"],
                role="guardian"
                if role in GUARDIAN_ROLES
                else "staff"
                if role in STAFF_ROLES
                else "student",
                given_name=self.required("users.csv", line, row, "givenName"),
                family_name=self.required("users.csv", line, row, "familyName"),
                is_active=self.is_active("users.csv", line, row),
                line=line,
                school_ids=school_ids,
                agent_ids=_split(row.get("agentSourcedIds", "")),
            )
            if person.role == "student":
                self.read_student(line, row, person, org_ids)
            elif person.role == "staff":
                person.staff_role = STAFF_ROLES[role]
                person.email = self.email(line, row)
                if not school_ids and not unknown:
                    self.warn(
                        "users.csv",
                        line,
                        "orgSourcedIds",
                        "staff of a district only get no school role; give them one in the admin",
                    )
            else:
                person.relationship = role
                person.email = self.email(line, row)
                self.read_guardian_contact(line, row, person, has_language)
            self.roster.people[person.sourced_id] = person
            if person.agent_ids:
                pending_agents.append((line, person))
        self.read_agents(pending_agents)

    def read_student(self, line: int, row: dict, person: PersonRecord, org_ids: list) -> None:
        person.grade = row.get("grades", "")
        if org_ids and not person.school_ids:
            self.error(
                "users.csv",
                line,
                "orgSourcedIds",
                "a student needs a school, and these orgs are not schools",
            )
        if row.get("sms") or row.get("phone"):
            self.warn("users.csv", line, "sms", "a student's phone is not used; ignored")

    def read_guardian_contact(
        self, line: int, row: dict, person: PersonRecord, has_language: bool
    ) -> None:
        defaults = self.defaults_for(person.school_ids)
        if has_language and row.get("metadata.language"):
            try:
                person.language = language_normalize(row["metadata.language"])
            except UnknownLanguage as error:
                self.error("users.csv", line, "metadata.language", str(error))
        column = "sms" if row.get("sms") else "phone"
        raw_phone = row.get(column, "")
        if raw_phone:
            phone = self.phone(raw_phone, defaults.country)
            if phone is None:
                self.error(
                    "users.csv",
                    line,
                    column,
                    f"{raw_phone!r} is not a valid phone number for {defaults.country}",
                )
            else:
                person.phone = phone

    def defaults_for(self, school_ids: list[str]) -> SchoolDefaults:
        for school_id in school_ids:
            if school_id in self.school_defaults:
                return self.school_defaults[school_id]
        return SchoolDefaults(self.default_country, self.default_language)

    def phone(self, raw: str, country: str) -> str | None:
        key = (raw, country)
        if key not in self._phone_cache:
            self._phone_cache[key] = phone_e164(raw, country)
        return self._phone_cache[key]

    def email(self, line: int, row: dict) -> str:
        email = row.get("email", "")
        if not email:
            return ""
        try:
            validate_email(email)
        except ValidationError:
            self.error("users.csv", line, "email", f"{email!r} is not an email address")
            return ""
        return email.lower()

    def read_agents(self, pending: list[tuple[int, PersonRecord]]) -> None:
        """Links students and guardians named in either's agentSourcedIds, once per pair."""
        people = self.roster.people
        seen: set[tuple[str, str]] = set()
        for line, person in pending:
            for agent_id in person.agent_ids:
                agent = people.get(agent_id)
                if agent is None and agent_id in self.listed_users:
                    continue  # refused or skipped on its own line
                if agent is None:
                    self.error(
                        "users.csv", line, "agentSourcedIds", f"{agent_id!r} is not in users.csv"
                    )
                    continue
                pair = _student_guardian_pair(person, agent)
                if pair is None:
                    self.warn(
                        "users.csv",
                        line,
                        "agentSourcedIds",
                        f"{agent_id!r} is "
                        f"{ROLE_NAMES[agent.role]} and this row is {ROLE_NAMES[person.role]}"
                        ": only students and their parents, guardians or relatives are "
                        "linked; the link is not kept",
                    )
                elif pair not in seen:
                    seen.add(pair)
                    self.roster.links.append(pair)

    # -- classes and enrollments ----------------------------------------------------------------
    def read_terms(self) -> dict[str, str] | None:
        table = self.table("academicSessions.csv")
        if table is None:
            return None
        return {row["sourcedId"]: row.get("title", "") for _line, row in self.unique_rows(table)}

    def read_classes(self, school_of: dict[str, str], terms: dict[str, str] | None) -> None:
        table = self.table("classes.csv")
        if table is None:
            return
        self.listed_classes = {row.get("sourcedId", "") for _line, row in table.rows}
        for line, row in self.unique_rows(table):
            school_id = row.get("schoolSourcedId", "")
            if "orgs.csv" in self.unreadable:
                continue
            if school_id and school_id not in school_of:
                self.error(
                    "classes.csv", line, "schoolSourcedId", f"{school_id!r} is not in orgs.csv"
                )
                continue
            if school_id and not school_of[school_id]:
                self.error("classes.csv", line, "schoolSourcedId", f"{school_id!r} is not a school")
                continue
            term_titles = []
            for term_id in _split(row.get("termSourcedIds", "")):
                if terms is None:
                    continue
                if term_id in terms:
                    term_titles.append(terms[term_id])
                else:
                    self.warn(
                        "classes.csv",
                        line,
                        "termSourcedIds",
                        f"{term_id!r} is not in academicSessions.csv; the section has no term",
                    )
            self.roster.sections[row["sourcedId"]] = SectionRecord(
                sourced_id=row["sourcedId"],
                name=self.required("classes.csv", line, row, "title"),
                school_sourced_id=school_of.get(school_id, ""),
                is_active=self.is_active("classes.csv", line, row),
                grade=row.get("grades", ""),
                period=row.get("periods", ""),
                term=", ".join(dict.fromkeys(term_titles)),
            )
            if not school_id:
                self.required("classes.csv", line, row, "schoolSourcedId")

    def read_enrollments(self, school_of: dict[str, str]) -> None:
        table = self.table("enrollments.csv")
        if table is None:
            return
        seen: dict[tuple[str, str], int] = {}
        for line, row in self.unique_rows(table):
            class_id, user_id = row["classSourcedId"], row["userSourcedId"]
            school_id = row.get("schoolSourcedId", "")
            section = self.roster.sections.get(class_id)
            person = self.roster.people.get(user_id)
            known = True
            if (
                class_id
                and class_id not in self.listed_classes
                and "classes.csv" not in self.unreadable
            ):
                self.error(
                    "enrollments.csv", line, "classSourcedId", f"{class_id!r} is not in classes.csv"
                )
                known = False
            if user_id and user_id not in self.listed_users and "users.csv" not in self.unreadable:
                self.error(
                    "enrollments.csv", line, "userSourcedId", f"{user_id!r} is not in users.csv"
                )
                known = False
            if school_id and school_id not in school_of and "orgs.csv" not in self.unreadable:
                self.error(
                    "enrollments.csv", line, "schoolSourcedId", f"{school_id!r} is not in orgs.csv"
                )
                known = False
            role = self.required("enrollments.csv", line, row, "role").lower()
            if not (known and section and person and class_id and user_id):
                continue
            is_staff = role in STAFF_ROLES
            if role != "student" and not is_staff:
                self.warn("enrollments.csv", line, "role", f"{role!r} enrollments are not kept")
                continue
            expected = "staff" if is_staff else "student"
            if person.role != expected:
                self.warn(
                    "enrollments.csv",
                    line,
                    "role",
                    f"{user_id!r} is "
                    f"{ROLE_NAMES[person.role]} in users.csv, not {ROLE_NAMES[expected]}; "
                    "the enrollment is not kept",
                )
                continue
            pair = (class_id, user_id)
            if pair in seen:
                self.warn(
                    "enrollments.csv",
                    line,
                    "userSourcedId",
                    f"enrolled in the class already on line {seen[pair]}; this row is not kept",
                )
                continue
            seen[pair] = line
            self.roster.enrollments.append(
                EnrollmentRecord(
                    sourced_id=row["sourcedId"],
                    section_sourced_id=class_id,
                    person_sourced_id=user_id,
                    is_staff=is_staff,
                    is_active=self.is_active("enrollments.csv", line, row),
                )
            )

    def read_unused(self) -> None:
        for name, what in (("courses.csv", "courses"), ("demographics.csv", "demographic data")):
            table = self.table(name)
            if table is not None and table.rows:
                self.warn(
                    name,
                    None,
                    None,
                    f"the portal keeps no {what}; {len(table.rows)} rows not imported",
                )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _student_guardian_pair(person: PersonRecord, agent: PersonRecord) -> tuple[str, str] | None:
    if person.role == "student" and agent.role == "guardian":
        return (person.sourced_id, agent.sourced_id)
    if person.role == "guardian" and agent.role == "student":
        return (agent.sourced_id, person.sourced_id)
    return None


def roster_read(
    files: Mapping[str, bytes],
    *,
    school_defaults: Mapping[str, SchoolDefaults],
    default_country: str,
    default_language: str,
) -> Roster:
    """Reads and checks every file of a bundle. Nothing here touches the database."""
    reader = _Reader(files, school_defaults, default_country, default_language)
    school_of = reader.read_orgs()
    reader.read_users(school_of)
    terms = reader.read_terms()
    reader.read_classes(school_of, terms)
    reader.read_enrollments(school_of)
    reader.read_unused()
    return reader.roster
