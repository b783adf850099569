"""Writes with business meaning for people and schools. Views, commands, tasks and the admin call
these; nothing else changes these tables."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber

from portal.languages import UnknownLanguage, language_normalize
from portal.models import (
    AuditEvent,
    ContactChangeRequest,
    District,
    Enrollment,
    Guardian,
    GuardianLink,
    RosterImport,
    School,
    Section,
    SectionStaff,
    Staff,
    StaffMembership,
    Student,
    User,
    new_session_salt,
)
from portal.oneroster import (
    BundleUnreadable,
    Roster,
    RosterProblem,
    SchoolDefaults,
    bundle_files,
    roster_read,
)
from portal.phones import phone_e164

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
ROSTER_KINDS = (
    "districts",
    "schools",
    "staff",
    "staff_roles",
    "students",
    "guardians",
    "guardian_links",
    "sections",
    "section_staff",
    "enrollments",
)


@dataclass
class RosterReport:
    """What an import did, or would do (dry run), or why it did nothing."""

    is_dry_run: bool = False
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[RosterProblem] = field(default_factory=list)
    warnings: list[RosterProblem] = field(default_factory=list)
    rows_read: int = 0

    @property
    def is_ok(self) -> bool:
        return not self.errors

    def count(self, kind: str, outcome: str, number: int = 1) -> None:
        counts = self.summary.setdefault(
            kind, {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0}
        )
        counts[outcome] += number

    @property
    def changed_anything(self) -> bool:
        return any(
            counts["created"] or counts["updated"] or counts["deactivated"]
            for counts in self.summary.values()
        )


class _DryRunRollback(Exception):
    """Raised inside the transaction of a dry run so that nothing it wrote stays."""


def roster_import(*, source: Path | str | bytes, dry_run: bool = False) -> RosterReport:
    """Imports a OneRoster 1.1 CSV bundle (a folder, or a .zip as a path or bytes).

    All or nothing: a bundle with any bad row changes nothing and the report lists every problem.
    Records are matched by sourcedId, so the same bundle twice changes nothing; rows marked
    `tobedeleted` become inactive. A dry run reports what would change and writes nothing.
    """
    report = RosterReport(is_dry_run=dry_run)
    try:
        files = bundle_files(source)
    except BundleUnreadable as error:
        report.errors.append(RosterProblem("bundle", None, None, str(error)))
        return report
    school_defaults = {
        sourced_id: SchoolDefaults(country, language)
        for sourced_id, country, language in School.objects.exclude(sourced_id=None).values_list(
            "sourced_id", "country", "default_language"
        )
    }
    roster = roster_read(
        files,
        school_defaults=school_defaults,
        default_country=settings.PHONENUMBER_DEFAULT_REGION,
        default_language=settings.LANGUAGE_CODE,
    )
    report.errors, report.warnings, report.rows_read = (
        roster.errors,
        roster.warnings,
        roster.row_count,
    )
    if roster.errors:
        return report
    try:
        with transaction.atomic():
            _RosterWriter(roster, report).write()
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    except IntegrityError as error:
        # Another import ran at the same moment, or the database holds a row the bundle clashes
        # with; nothing was written.
        logger.warning("roster import rolled back: %s", type(error).__name__)
        report.summary = {}
        report.errors.append(
            RosterProblem(
                "bundle",
                None,
                None,
                "the database refused the import and nothing was written; try it again",
            )
        )
    return report


def _comparable(value):
    """A stored phone number as its E.164 text, formatted without parsing it again."""
    return value.as_e164 if isinstance(value, PhoneNumber) else value


def _changed(instance: models.Model, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if _comparable(getattr(instance, name)) != value:
            setattr(instance, name, value)
            changed = True
    return changed


class _RosterWriter:
    """Applies a checked roster with bulk statements: a handful of queries per kind of record,
    whatever the number of rows."""

    def __init__(self, roster: Roster, report: RosterReport):
        self.roster = roster
        self.report = report

    def write(self) -> None:
        district_ids = self.upsert(
            "districts",
            District,
            self.roster.districts.values(),
            lambda org: {"name": org.name, "is_active": org.is_active},
        )

        def school_defaults(school: School) -> None:
            school.country = settings.PHONENUMBER_DEFAULT_REGION
            school.default_language = settings.LANGUAGE_CODE

        school_ids = self.upsert(
            "schools",
            School,
            self.roster.schools.values(),
            lambda org: {
                "name": org.name,
                "is_active": org.is_active,
                "district_id": district_ids.get(org.district_sourced_id),
            },
            on_create=school_defaults,
        )
        people = self.roster.people
        staff_ids = self.upsert(
            "staff",
            Staff,
            [p for p in people.values() if p.role == "staff"],
            lambda p: {
                "given_name": p.given_name,
                "family_name": p.family_name,
                "email": p.email,
                "is_active": p.is_active,
            },
        )
        student_ids = self.upsert(
            "students",
            Student,
            [p for p in people.values() if p.role == "student"],
            lambda p: {
                "given_name": p.given_name,
                "family_name": p.family_name,
                "grade": p.grade,
                "is_active": p.is_active,
                "school_id": school_ids[p.school_ids[0]],
            },
        )
        school_languages = dict(
            School.objects.filter(pk__in=school_ids.values()).values_list("pk", "default_language")
        )

        def school_language(guardian: Guardian) -> None:
            # A new guardian the bundle gives no language speaks their school's default; an
            # existing one keeps the language they have, which the family may have chosen.
            person = people[guardian.sourced_id]
            if not person.language and person.school_ids:
                guardian.preferred_language = school_languages[school_ids[person.school_ids[0]]]

        guardian_ids = self.upsert(
            "guardians",
            Guardian,
            [p for p in people.values() if p.role == "guardian"],
            self.guardian_values,
            on_create=school_language,
        )
        section_ids = self.upsert(
            "sections",
            Section,
            self.roster.sections.values(),
            lambda s: {
                "name": s.name,
                "grade": s.grade,
                "period": s.period,
                "term": s.term,
                "is_active": s.is_active,
                "school_id": school_ids[s.school_sourced_id],
            },
        )
        self.write_staff_roles(staff_ids, school_ids)
        self.write_guardian_links(student_ids, guardian_ids)
        self.write_enrollments(section_ids, staff_ids, student_ids)

    @staticmethod
    def guardian_values(person) -> dict:
        values = {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "phone": person.phone,
            "email": person.email,
            "is_active": person.is_active,
        }
        if person.language:  # the bundle says; else the family's own choice stays
            values["preferred_language"] = person.language
        return values

    def sync(
        self,
        kind,
        model,
        keys: tuple[str, ...],
        wanted: dict[tuple, dict],
        existing_rows,
        on_create: Callable[[models.Model], None] | None = None,
    ) -> dict[tuple, models.Model]:
        """Creates, updates or leaves one row per key of `wanted` (key fields -> values), and
        counts each outcome. `on_create(row)` completes a new row with values set only then.
        Returns every row by key, the new ones with their primary keys."""
        rows = {tuple(getattr(row, field) for field in keys): row for row in existing_rows}
        to_create, to_update, update_fields = [], [], set()
        for key, values in wanted.items():
            row = rows.get(key)
            if row is None:
                row = rows[key] = model(**dict(zip(keys, key, strict=True)), **values)
                if on_create:
                    on_create(row)
                to_create.append(row)
                self.report.count(kind, "created")
                continue
            was_active = row.is_active
            if not _changed(row, values):
                self.report.count(kind, "unchanged")
                continue
            to_update.append(row)
            update_fields.update(values)
            self.report.count(
                kind, "deactivated" if was_active and not row.is_active else "updated"
            )
        model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if to_update:
            model.objects.bulk_update(to_update, sorted(update_fields), batch_size=BATCH_SIZE)
        return rows

    def upsert(self, kind, model, records: Iterable, values_of, on_create=None) -> dict[str, int]:
        """`sync` for records matched by sourced_id; returns sourced_id -> primary key.

        Every row of the kind that came from an import is read in one query, with no list of
        ids as parameters, so the size of a district meets no parameter limit."""
        wanted = {(record.sourced_id,): values_of(record) for record in records}
        existing = model.objects.exclude(sourced_id=None) if wanted else model.objects.none()
        rows = self.sync(kind, model, ("sourced_id",), wanted, existing, on_create)
        return {sourced_id: row.pk for (sourced_id,), row in rows.items()}

    def write_staff_roles(self, staff_ids, school_ids) -> None:
        wanted = {
            (staff_ids[person.sourced_id], school_ids[school], person.staff_role): {
                "is_active": person.is_active
            }
            for person in self.roster.people.values()
            if person.role == "staff"
            for school in person.school_ids
        }
        self.sync(
            "staff_roles",
            StaffMembership,
            ("staff_id", "school_id", "role"),
            wanted,
            StaffMembership.objects.filter(staff__sourced_id__isnull=False),
        )

    def write_guardian_links(self, student_ids, guardian_ids) -> None:
        people = self.roster.people
        wanted = {}
        for student_sid, guardian_sid in self.roster.links:
            student, guardian = people[student_sid], people[guardian_sid]
            wanted[(student_ids[student_sid], guardian_ids[guardian_sid])] = {
                "relationship": guardian.relationship,
                "is_active": student.is_active and guardian.is_active,
            }
        students_with_primary = set(
            GuardianLink.objects.filter(
                student__sourced_id__isnull=False, is_primary_contact=True
            ).values_list("student_id", flat=True)
        )

        def first_guardian_is_primary(link: GuardianLink) -> None:
            # The first guardian listed for a student with no primary contact becomes it; staff
            # may change it later and no import changes it back.
            if link.student_id not in students_with_primary:
                link.is_primary_contact = True
                students_with_primary.add(link.student_id)

        self.sync(
            "guardian_links",
            GuardianLink,
            ("student_id", "guardian_id"),
            wanted,
            GuardianLink.objects.filter(student__sourced_id__isnull=False),
            on_create=first_guardian_is_primary,
        )

    def write_enrollments(self, section_ids, staff_ids, student_ids) -> None:
        students, staff = {}, {}
        for enrollment in self.roster.enrollments:
            section = section_ids[enrollment.section_sourced_id]
            values = {"sourced_id": enrollment.sourced_id, "is_active": enrollment.is_active}
            if enrollment.is_staff:
                staff[(section, staff_ids[enrollment.person_sourced_id])] = values
            else:
                students[(section, student_ids[enrollment.person_sourced_id])] = values
        self.sync(
            "section_staff",
            SectionStaff,
            ("section_id", "staff_id"),
            staff,
            SectionStaff.objects.filter(section__sourced_id__isnull=False),
        )
        self.sync(
            "enrollments",
            Enrollment,
            ("section_id", "student_id"),
            students,
            Enrollment.objects.filter(section__sourced_id__isnull=False),
        )


def user_sign_out_everywhere(*, user: User) -> None:
    """Ends every session of the account on every device: sessions carry a hash of the session
    salt, and a new salt no longer matches any of them."""
    user.session_salt = new_session_salt()
    user.save(update_fields=["session_salt"])


def roster_import_record(*, file_name: str, bundle: bytes, dry_run: bool, user) -> RosterImport:
    """Keeps an uploaded bundle for a worker to import (`roster_import_run`)."""
    return RosterImport.objects.create(
        file_name=file_name, bundle=bundle, is_dry_run=dry_run, created_by=user
    )


def roster_import_run(*, roster_import_id: int) -> RosterImport:
    """Imports a kept bundle and stores what happened. Safe to run twice: a finished import is
    left as it is."""
    with transaction.atomic():
        record = RosterImport.objects.select_for_update().get(pk=roster_import_id)
        if record.status in (RosterImport.Status.DONE, RosterImport.Status.FAILED):
            return record
        record.status = RosterImport.Status.RUNNING
        record.save(update_fields=["status"])
    report = roster_import(source=bytes(record.bundle), dry_run=record.is_dry_run)
    record.status = RosterImport.Status.DONE if report.is_ok else RosterImport.Status.FAILED
    record.summary = report.summary
    record.warnings = [problem.as_dict() for problem in report.warnings]
    record.errors = [problem.as_dict() for problem in report.errors]
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "summary", "warnings", "errors", "finished_at"])
    return record


# -- a family's own preferences -----------------------------------------------------------------


class PreferenceError(Exception):
    """A preference that cannot be kept, with the reason to show (already translated)."""


def _audit(*, actor, via: str, action: str, guardian: Guardian, changes: dict) -> None:
    AuditEvent.objects.create(
        actor=actor, via=via, action=action, guardian=guardian, changes=changes
    )


def _as_text(value) -> str | None:
    return None if value is None else str(value)


@transaction.atomic
def guardian_preferences_set(
    *,
    guardian: Guardian,
    actor: User | None,
    via: str,
    language: str,
    wants_sms: bool,
    wants_email: bool,
    quiet_hours_start: datetime.time | None,
    quiet_hours_end: datetime.time | None,
) -> None:
    """Keeps what a family chose: its language, its channels and its own quiet hours.

    Raises PreferenceError for a language the portal does not speak, no channel at all, a
    channel with no address, or quiet hours with only one end."""
    try:
        language = language_normalize(language)
    except UnknownLanguage:
        raise PreferenceError(_("Choose one of the languages in the list.")) from None
    if not (wants_sms or wants_email):
        raise PreferenceError(_("Choose at least one way to reach you."))
    if wants_sms and not guardian.phone and not wants_email:
        raise PreferenceError(_("The school has no mobile number for you yet. Propose one below."))
    if wants_email and not guardian.email and not wants_sms:
        raise PreferenceError(_("The school has no email for you yet. Propose one below."))
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        raise PreferenceError(_("Give both times for your quiet hours, or neither."))
    wanted = {
        "preferred_language": language,
        "wants_sms": wants_sms,
        "wants_email": wants_email,
        "quiet_hours_start": quiet_hours_start,
        "quiet_hours_end": quiet_hours_end,
    }
    changes = {
        name: [_as_text(getattr(guardian, name)), _as_text(value)]
        for name, value in wanted.items()
        if getattr(guardian, name) != value
    }
    if not changes:
        return
    for name, value in wanted.items():
        setattr(guardian, name, value)
    guardian.save(update_fields=list(wanted))
    _audit(
        actor=actor, via=via, action="guardian.preferences_set", guardian=guardian, changes=changes
    )


@transaction.atomic
def guardian_language_set(*, guardian: Guardian, language: str, actor: User | None, via: str):
    """Changes only a family's language (the SMS keyword `LANG ES` calls this)."""
    guardian_preferences_set(
        guardian=guardian,
        actor=actor,
        via=via,
        language=language,
        wants_sms=guardian.wants_sms,
        wants_email=guardian.wants_email,
        quiet_hours_start=guardian.quiet_hours_start,
        quiet_hours_end=guardian.quiet_hours_end,
    )


@transaction.atomic
def guardian_email_unsubscribe(*, guardian: Guardian, via: str) -> bool:
    """The unsubscribe link in every email: no more email, at once, whatever else the family
    takes (a family may end up with no channel; it then shows as unreachable). Returns whether
    anything changed."""
    guardian = Guardian.objects.select_for_update().get(pk=guardian.pk)
    if not guardian.wants_email:
        return False
    guardian.wants_email = False
    guardian.save(update_fields=["wants_email"])
    _audit(
        actor=None,
        via=via,
        action="guardian.email_unsubscribe",
        guardian=guardian,
        changes={"wants_email": ["True", "False"]},
    )
    return True


@transaction.atomic
def contact_change_propose(
    *, guardian: Guardian, actor: User | None, phone: str, email: str
) -> ContactChangeRequest:
    """A family proposes a new mobile number or email; it is used once staff confirm it."""
    phone, email = phone.strip(), email.strip().lower()
    if not phone and not email:
        raise PreferenceError(_("Give a new mobile number or a new email."))
    if phone:
        country = (
            guardian.students.values_list("school__country", flat=True).first()
            or settings.PHONENUMBER_DEFAULT_REGION
        )
        phone = phone_e164(phone, country)
        if phone is None:
            raise PreferenceError(
                _("That mobile number does not look right. Include the area code.")
            )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise PreferenceError(_("That email address does not look right.")) from None
    change = ContactChangeRequest.objects.create(guardian=guardian, phone=phone, email=email)
    _audit(
        actor=actor,
        via="web",
        action="guardian.contact_change_proposed",
        guardian=guardian,
        changes={"phone": [None, phone or None], "email": [None, email or None]},
    )
    return change


@transaction.atomic
def contact_change_decide(
    *, change: ContactChangeRequest, actor: User, confirm: bool
) -> ContactChangeRequest:
    """Staff confirm (the guardian's record changes) or decline a proposed number or email."""
    from portal.permissions import may_change

    change = ContactChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.status != ContactChangeRequest.Status.PENDING:
        raise PreferenceError(_("This change was decided already."))
    guardian = change.guardian
    if guardian.user_id == actor.pk or not may_change(actor, guardian):
        raise PreferenceError(_("Only the school can confirm a change of contact."))
    change.status = (
        ContactChangeRequest.Status.CONFIRMED if confirm else ContactChangeRequest.Status.DECLINED
    )
    change.decided_by, change.decided_at = actor, timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    changes = {}
    if confirm:
        for name in ("phone", "email"):
            new = getattr(change, name)
            if new and str(getattr(guardian, name)) != str(new):
                changes[name] = [str(getattr(guardian, name)) or None, str(new)]
                setattr(guardian, name, new)
        guardian.save(update_fields=["phone", "email"])
    _audit(
        actor=actor,
        via="web",
        action=f"guardian.contact_change_{change.status}",
        guardian=guardian,
        changes=changes,
    )
    return change
