"""People and schools: districts, schools, sections, students, guardians and staff.

Records that come from a student information system carry its `sourced_id` (OneRoster), so a
later import updates them instead of creating twins. Nothing here is ever deleted by an import:
a record the system marks `tobedeleted` becomes inactive.
"""

import datetime
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a time zone name."), params={"value": value})


def validate_family_language(value: str) -> None:
    codes = [code for code, _name in settings.FAMILY_LANGUAGES]
    if value not in codes:
        raise ValidationError(_("%(value)s is not a supported language."), params={"value": value})


def language_field(**kwargs) -> models.CharField:
    return models.CharField(
        max_length=16, default="en", validators=[validate_family_language], **kwargs
    )


def new_session_salt() -> str:
    return secrets.token_hex(16)


class PortalUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email).lower() if email else None
        username = username or email
        return super()._create_user(username, email, password, **extra_fields)

    def create_user(self, username=None, email=None, password=None, **extra_fields):
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A sign-in account. Staff sign in with their email; a guardian's account is linked to them.

    Who the account is lies in its link: `staff_member` or `guardian` (one of them, or neither for
    a bare administrator account).
    """

    email = models.EmailField(_("email address"), unique=True, null=True, blank=True)
    session_salt = models.CharField(  # changed to end every session of the account at once
        max_length=32, default=new_session_salt, editable=False
    )

    objects = PortalUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=True) | Q(email=models.functions.Lower("email")),
                name="user_email_lowercase",
            ),
        ]

    def clean(self) -> None:
        super().clean()
        self.email = self.email.lower() if self.email else None

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django checks this against the one stored in each session: the session salt joins the
        # password, so a new salt ("sign out everywhere") ends sessions that have no password.
        return salted_hmac(
            "portal.User.session_auth_hash",
            f"{self.password}:{self.session_salt}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class District(models.Model):
    name = models.CharField(_("name"), max_length=200)
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    admins = models.ManyToManyField(
        "Staff", blank=True, related_name="districts_administered", verbose_name=_("admins")
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """A school: the unit of messaging, quiet hours, office hours and reports."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="schools", null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200)
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    default_language = language_field(verbose_name=_("default language"))
    country = models.CharField(
        _("country"), max_length=2, default="US", help_text=_("Used to read local phone numbers.")
    )
    sms_number = PhoneNumberField(_("SMS number"), blank=True)
    office_phone = PhoneNumberField(_("office phone"), blank=True)
    office_email = models.EmailField(_("office email"), blank=True)
    office_opens_at = models.TimeField(_("office opens at"), default=datetime.time(8, 0))
    office_closes_at = models.TimeField(_("office closes at"), default=datetime.time(16, 0))
    quiet_hours_start = models.TimeField(  # school-local; no non-urgent text from here ...
        _("quiet hours start"), default=datetime.time(21, 0)
    )
    quiet_hours_end = models.TimeField(  # ... until here, the next morning
        _("quiet hours end"), default=datetime.time(8, 0)
    )
    answer_target_hours = models.PositiveSmallIntegerField(  # school hours a family may wait
        _("answer within (school hours)"), default=16
    )
    answer_backup = models.ForeignKey(  # sees a thread its owner left unanswered too long
        "Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("backup for unanswered messages"),
        help_text=_("The office or a counselor, who joins a conversation left unanswered."),
    )
    do_not_translate = models.TextField(  # one term a line: program names, places, ...
        _("never translate"),
        blank=True,
        help_text=_(
            "Words machine translation must leave as they are, one a line. Names of "
            "students and staff are always kept."
        ),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="school_country_iso"
            ),
            models.CheckConstraint(
                condition=Q(office_opens_at__lt=models.F("office_closes_at")),
                name="school_office_hours_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def closed_days(self) -> set[datetime.date]:
        """The days of the school calendar the office is closed (holidays, breaks), read once
        per school object."""
        if not hasattr(self, "_closed_days"):
            days: set[datetime.date] = set()
            for starts_on, ends_on in self.holidays.values_list("starts_on", "ends_on"):
                day = starts_on
                while day <= ends_on:
                    days.add(day)
                    day += datetime.timedelta(days=1)
            self._closed_days = days
        return self._closed_days

    def is_school_day(self, day: datetime.date) -> bool:
        return day.weekday() < 5 and day not in self.closed_days()

    def school_seconds_between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """How much of [start, end) falls in office hours on school days, school-local: nights,
        weekends and the school calendar's holidays do not count."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        start, end = start.astimezone(zone), end.astimezone(zone)
        total = 0.0
        day = start.date()
        while day <= end.date():
            if self.is_school_day(day):
                opens = datetime.datetime.combine(day, self.office_opens_at, tzinfo=zone)
                closes = datetime.datetime.combine(day, self.office_closes_at, tzinfo=zone)
                overlap = min(closes, end) - max(opens, start)
                total += max(overlap.total_seconds(), 0)
            day += datetime.timedelta(days=1)
        return total

    def office_next_open(
        self,
        at: datetime.datetime,
        *,
        opens_at: datetime.time | None = None,
        closes_at: datetime.time | None = None,
    ) -> datetime.datetime | None:
        """When the office (or one person, with their own hours) next opens after `at`,
        school-local, on a school day; None while it is open."""
        opens_at = opens_at or self.office_opens_at
        closes_at = closes_at or self.office_closes_at
        zone = zoneinfo.ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        if self.is_school_day(local.date()) and opens_at <= local.time() < closes_at:
            return None
        day = local.date()
        if local.time() >= opens_at:
            day += datetime.timedelta(days=1)
        for _day in range(366):  # a year of holidays at most
            if self.is_school_day(day):
                break
            day += datetime.timedelta(days=1)
        return datetime.datetime.combine(day, opens_at, tzinfo=zone)


class SchoolHoliday(models.Model):
    """Days of the school calendar the office is closed (a holiday, a break): answer times do
    not count them and a family writing then is told when the office opens."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="holiday_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A member of staff, with roles per school (StaffMembership)."""

    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_member",
    )
    office_opens_at = models.TimeField(  # their own hours; empty: the school's
        _("office hours from"), null=True, blank=True
    )
    office_closes_at = models.TimeField(_("office hours until"), null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(
                condition=Q(office_opens_at__isnull=True, office_closes_at__isnull=True)
                | Q(office_opens_at__lt=models.F("office_closes_at")),
                name="staff_office_hours_both_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class StaffMembership(models.Model):
    """One role of one person at one school; a person may hold several."""

    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        COUNSELOR = "counselor", _("Counselor")
        ADMIN = "admin", _("School admin")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="memberships")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "school", "role"], name="staff_membership_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["teacher", "counselor", "admin"]),
                name="staff_membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} – {self.get_role_display()} – {self.school}"


class Section(models.Model):
    """A class as the timetable knows it: taught by staff, attended by students."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(_("name"), max_length=200)
    grade = models.CharField(_("grade"), max_length=32, blank=True)  # as the SIS gives it: "09,10"
    period = models.CharField(_("period"), max_length=32, blank=True)
    term = models.CharField(_("term"), max_length=200, blank=True)
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    staff = models.ManyToManyField(Staff, through="SectionStaff", related_name="sections")
    students = models.ManyToManyField("Student", through="Enrollment", related_name="sections")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["school", "name"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return self.name


class SectionStaff(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="staff_links")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="section_links")
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("section teacher")
        verbose_name_plural = _("section teachers")
        constraints = [
            models.UniqueConstraint(fields=["section", "staff"], name="section_staff_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} teaches {self.section_id}"


class Student(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    grade = models.CharField(_("grade"), max_length=32, blank=True)
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    guardians = models.ManyToManyField("Guardian", through="GuardianLink", related_name="students")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("student")
        verbose_name_plural = _("students")

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Enrollment(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=["section", "student"], name="enrollment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} in {self.section_id}"


class Guardian(models.Model):
    """A parent, guardian or relative who receives messages about one or more students."""

    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    phone = PhoneNumberField(_("mobile phone"), blank=True)  # E.164, e.g. +16175550123
    email = models.EmailField(_("email"), blank=True)
    preferred_language = language_field(verbose_name=_("preferred language"))
    wants_sms = models.BooleanField(_("messages by SMS"), default=True)
    wants_email = models.BooleanField(_("messages by email"), default=True)
    contact_restrictions = models.TextField(  # what staff must know before contacting them
        _("contact restrictions"), blank=True
    )
    quiet_hours_start = models.TimeField(  # the family's own; else the school's
        _("no texts from"), null=True, blank=True
    )
    quiet_hours_end = models.TimeField(_("no texts until"), null=True, blank=True)
    sourced_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guardian",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        constraints = [
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="guardian_phone_e164",
            ),
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="guardian_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def reachable_channels(self) -> list[str]:
        """The channels a message can reach them by: wanted, with an address to use."""
        channels = []
        if self.wants_sms and self.phone:
            channels.append("sms")
        if self.wants_email and self.email:
            channels.append("email")
        return channels


class GuardianLink(models.Model):
    """A guardian's link to a student. `may_receive_messages` False (a court order, a no-contact
    instruction) hides the student from that guardian everywhere, and no import changes it."""

    class Relationship(models.TextChoices):
        PARENT = "parent", _("Parent")
        GUARDIAN = "guardian", _("Guardian")
        RELATIVE = "relative", _("Relative")

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="student_links")
    relationship = models.CharField(
        _("relationship"), max_length=16, choices=Relationship.choices, default="parent"
    )
    is_primary_contact = models.BooleanField(_("primary contact"), default=False)
    may_receive_messages = models.BooleanField(_("may receive messages"), default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("guardian link")
        verbose_name_plural = _("guardian links")
        constraints = [
            models.UniqueConstraint(fields=["student", "guardian"], name="guardian_link_unique"),
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(is_primary_contact=True),
                name="guardian_link_one_primary",
            ),
            models.CheckConstraint(
                condition=Q(relationship__in=["parent", "guardian", "relative"]),
                name="guardian_link_relationship_valid",
            ),
            models.CheckConstraint(
                condition=Q(is_primary_contact=False) | Q(may_receive_messages=True),
                name="guardian_link_primary_may_receive",
                violation_error_message=_(
                    "A guardian who may not receive messages cannot be the primary contact."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} – {self.get_relationship_display()} of {self.student_id}"


class RosterImport(models.Model):
    """An uploaded OneRoster bundle and what importing it did.

    queued -> running -> done | failed (bad rows: nothing imported; `errors` says why)
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Refused")

    file_name = models.CharField(max_length=255)
    bundle = models.BinaryField()  # the uploaded .zip, kept in the database so any worker reads it
    is_dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(default=dict, blank=True)  # per kind: created, updated, ...
    warnings = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)  # file, line, column, reason
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class SignInCode(models.Model):
    """A six-digit code sent to a guardian's phone or email so they can sign in without a password.

        sent -> used
          `--> dead: expired (10 minutes) or too many wrong tries (5)

    Only a keyed hash of the code is stored.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("Email")

    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="sign_in_codes")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)  # wrong codes tried so far
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["guardian", "-created_at"])]

    def __str__(self) -> str:
        return f"sign-in code {self.pk} ({self.get_channel_display()})"


class ContactChangeRequest(models.Model):
    """A guardian's proposed new phone number or email, waiting for staff to confirm it.

    pending -> confirmed (the guardian's record changes) | declined
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the school")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, related_name="contact_change_requests"
    )
    phone = PhoneNumberField(_("new mobile phone"), blank=True)
    email = models.EmailField(_("new email"), blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("contact change request")
        verbose_name_plural = _("contact change requests")
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone="", email=""), name="contact_change_proposes_something"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} ({self.get_status_display()})"


class AuditEvent(models.Model):
    """Who changed what about a person, and from what to what. Written by services only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    via = models.CharField(max_length=16, default="web")  # web, sms, email, admin, import
    action = models.CharField(max_length=64)  # e.g. guardian.language_set
    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    changes = models.JSONField(default=dict)  # field -> [before, after]
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.action} at {self.created_at:%Y-%m-%d %H:%M}"
