"""The support-service directory and confidential help requests.

Counselors publish the help a school or district runs (counseling, food, clothing, tutoring,
mental health, newcomer and legal aid); families find it in their own language and ask for help,
and only the service's counselors see the request. Family-facing text is translated through
django-modeltranslation (supports/translated_fields.py): one column per language.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import District, Guardian, School, Staff, Student

# The language counselors write services in; every other family language is a translation of it.
DEFAULT_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE


class SupportCategory(models.Model):
    """A kind of help (food and clothing, counseling, tutoring...). Families browse by it and
    text its number or one of its keywords (FOOD, COMIDA) to get its services."""

    name = models.CharField(_("name"), max_length=100)  # translated
    description = models.CharField(_("description"), max_length=300, blank=True)  # translated
    sms_keywords = models.CharField(  # words a family may text, space-separated: FOOD COMIDA
        _("SMS keywords"),
        max_length=200,
        blank=True,
        help_text=_("Words families may text to get this category's services, e.g. FOOD COMIDA."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)  # its number by SMS

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("support category")
        verbose_name_plural = _("support categories")

    def __str__(self) -> str:
        return self.name

    @property
    def keywords(self) -> list[str]:
        return [word.upper() for word in self.sms_keywords.split()]


class SupportService(models.Model):
    """One service families can ask for help from, at one school or across a district.

    draft -> published (families see it while today is within its dates) -> draft (unpublished)
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    # Texts families read, in every language (modeltranslation adds `title_es` and so on).
    TRANSLATED_FIELDS = (
        "title",
        "summary",
        "description",
        "audience",
        "how_to_get",
        "cost",
        "hours",
        "confidentiality_note",
    )

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="support_services"
    )
    district = models.ForeignKey(  # district-wide: every school of the district shows it
        District, on_delete=models.CASCADE, null=True, blank=True, related_name="support_services"
    )
    category = models.ForeignKey(SupportCategory, on_delete=models.PROTECT, related_name="services")
    title = models.CharField(_("title"), max_length=150)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    audience = models.CharField(_("who it is for"), max_length=300, blank=True)
    how_to_get = models.TextField(_("how to get it"), blank=True)
    cost = models.CharField(_("cost"), max_length=150, blank=True)
    hours = models.CharField(_("hours"), max_length=200, blank=True)
    confidentiality_note = models.TextField(_("confidentiality"), blank=True)
    languages = models.CharField(  # codes of the languages it is offered in, space-separated
        _("languages it is offered in"), max_length=100, blank=True
    )
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)  # E.164
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    map_url = models.URLField(_("map link"), blank=True)  # empty: made from the address
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField(_("runs from"), null=True, blank=True)
    ends_on = models.DateField(_("runs until"), null=True, blank=True)
    owner = models.ForeignKey(  # the counselor who keeps it
        Staff, on_delete=models.SET_NULL, null=True, related_name="support_services_owned"
    )
    counselors = models.ManyToManyField(  # who answers its help requests (the owner too)
        Staff, blank=True, related_name="support_services"
    )
    machine_translated = models.JSONField(  # {"es": ["title", ...]}: accepted machine texts
        default=dict, blank=True
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__position", "title"]
        verbose_name = _("support service")
        verbose_name_plural = _("support services")
        indexes = [models.Index(fields=["status", "school"]), models.Index(fields=["district"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False, district__isnull=True)
                | Q(school__isnull=True, district__isnull=False),
                name="support_service_school_or_district",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]), name="support_service_status"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(starts_on__lte=models.F("ends_on")),
                name="support_service_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="support_service_phone_e164",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class HelpRequest(models.Model):
    """A family asks a service for help. It opens a confidential thread between the family and
    the service's counselors only: no teacher or other staff member sees it anywhere.

        new -> assigned -> closed (with an outcome) -> reopened (the family said it did not
        get the help) -> assigned -> closed ...
    """

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        NONE = "", ""
        HELPED = "helped", _("Helped")
        REFERRED = "referred", _("Referred elsewhere")
        NOT_ELIGIBLE = "not_eligible", _("Not eligible")
        NO_RESPONSE = "no_response", _("Family did not respond")
        WITHDRAWN = "withdrawn", _("Family withdrew")

    service = models.ForeignKey(
        SupportService, on_delete=models.PROTECT, related_name="help_requests"
    )
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="help_requests")
    student = models.ForeignKey(
        Student, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    thread = models.OneToOneField(
        "messaging.Thread", on_delete=models.PROTECT, related_name="help_request"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    assigned_to = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="help_requests"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    follow_up_sent_at = models.DateTimeField(null=True, blank=True)  # "did you get the help?"
    follow_up_answer = models.CharField(  # yes / no, counted in reports, never named
        max_length=8, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["new", "assigned", "closed"]),
                name="help_request_status",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False) & ~Q(outcome=""),
                name="help_request_closed_with_outcome",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_answer__in=["", "yes", "no"]),
                name="help_request_follow_up_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"help request {self.pk}"


class ServiceTranslationSuggestion(models.Model):
    """A machine translation of a service's family texts into one language, waiting for a person.
    Families never see it: a counselor reads it beside the English and accepts it (its texts are
    copied into the service, marked machine translated, and the row goes) or discards it.

        asked -> ready -> (accepted or discarded: the row is deleted)
          `--> unavailable (the provider does not translate this language)
    """

    class Status(models.TextChoices):
        ASKED = "asked", _("Being translated")
        READY = "ready", _("Ready to review")
        UNAVAILABLE = "unavailable", _("Not available in this language")

    service = models.ForeignKey(
        SupportService, on_delete=models.CASCADE, related_name="translation_suggestions"
    )
    language = models.CharField(max_length=16)  # a family language other than the default
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ASKED)
    source_texts = models.JSONField(default=dict)  # {"title": "Food pantry"}: the English asked
    texts = models.JSONField(default=dict, blank=True)  # {"title": "..."}: the machine's answer
    asked_at = models.DateTimeField()  # the last time a person asked; a newer ask replaces it
    made_at = models.DateTimeField(null=True, blank=True)  # when the provider answered

    class Meta:
        verbose_name = _("translation suggestion")
        verbose_name_plural = _("translation suggestions")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "language"], name="translation_suggestion_one_per_language"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["asked", "ready", "unavailable"]),
                name="translation_suggestion_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} ({self.language})"


class Spotlight(models.Model):
    """A counselor puts a service in the spotlight: an announcement about it goes to the families
    they choose (through the messaging broadcast, scheduled or at once), and the families' home
    page shows the service until `shows_until`."""

    service = models.ForeignKey(SupportService, on_delete=models.CASCADE, related_name="spotlights")
    broadcast = models.OneToOneField(
        "messaging.Broadcast", on_delete=models.PROTECT, related_name="spotlight"
    )
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+")
    shows_until = models.DateField(_("show on the families' home page until"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("spotlight")
        verbose_name_plural = _("spotlights")

    def __str__(self) -> str:
        return f"spotlight on {self.service_id}"
