"""Short surveys to families, answered by SMS or on the web, in the family's language.

A survey's texts (title, introduction, thank-you, questions, choices) are translated with
django-modeltranslation (surveys/translated_fields.py). Each family invited gets an Invitation
with an unguessable token (its web link) and, by SMS, the question it is on. Answers of an
anonymous survey keep no way back to the family in the database: they carry a respondent key
derived from the invitation's token with the portal's secret key, and the invitation records only
that the family completed it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from messaging.models import Broadcast
from portal.models import Guardian, School, Section, Staff, language_field


class Survey(models.Model):
    """A few questions to an audience of families (as an announcement's).

    draft -> open (between opens_at and closes_at; invitations sent) -> closed
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    Audience = Broadcast.Audience  # who it goes to, chosen as for an announcement

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="surveys")
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(_("title"), max_length=150)  # translated
    introduction = models.TextField(_("introduction"), blank=True)  # translated
    thank_you = models.TextField(_("thank-you text"), blank=True)  # translated
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    sections = models.ManyToManyField(Section, blank=True, related_name="surveys")
    grade = models.CharField(_("grade"), max_length=32, blank=True)
    guardians = models.ManyToManyField(Guardian, blank=True, related_name="+")
    by_sms = models.BooleanField(_("by SMS"), default=True)
    on_web = models.BooleanField(_("on the web"), default=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)  # None: when sent
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    reminder_after_hours = models.PositiveSmallIntegerField(  # one reminder; None: no reminder
        _("remind after (hours)"), null=True, blank=True
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed"]), name="survey_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(audience__in=["section", "sections", "grade", "school", "list"]),
                name="survey_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(by_sms=True) | Q(on_web=True), name="survey_has_a_channel"
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(opens_at__lt=models.F("closes_at")),
                name="survey_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """One question, in order. By SMS a several-choices question is web only."""

    class Kind(models.TextChoices):
        SINGLE_CHOICE = "single_choice", _("One choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Several choices (web only)")
        SCALE = "scale", _("1 to 5")
        YES_NO = "yes_no", _("Yes or no")
        SHORT_TEXT = "short_text", _("Short text")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=300)  # translated
    is_required = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="question_position_once"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=["single_choice", "multiple_choice", "scale", "yes_no", "short_text"]
                ),
                name="question_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    """One option of a choice question, numbered as families reply to it by SMS."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(_("choice"), max_length=150)  # translated

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="choice_position_once"),
        ]

    def __str__(self) -> str:
        return self.text


class Invitation(models.Model):
    """A family invited to a survey by one channel.

    invited -> started (first answer) -> completed
    """

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        STARTED = "started", _("Started")
        COMPLETED = "completed", _("Completed")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="invitations")
    channel = models.CharField(max_length=8)  # "sms" or "web"
    token = models.CharField(max_length=64, unique=True)  # the web link; unguessable
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    current_question = models.ForeignKey(  # the question an SMS conversation is on
        Question, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    asked_again = models.BooleanField(default=False)  # an answer did not fit: asked once more
    invited_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "guardian"], name="invitation_once"),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "web"]), name="invitation_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["invited", "started", "completed"]),
                name="invitation_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["guardian", "status"])]

    def __str__(self) -> str:
        return f"invitation {self.pk} to survey {self.survey_id}"


class Answer(models.Model):
    """One answer to one question. `invitation` is empty for an anonymous survey, whose answers
    are grouped by `respondent` alone (a key the database cannot turn back into a family)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    invitation = models.ForeignKey(  # None for an anonymous survey
        Invitation, on_delete=models.CASCADE, null=True, blank=True, related_name="answers"
    )
    respondent = models.CharField(max_length=64)  # one family's answers, without naming it
    choice = models.ForeignKey(
        Choice, on_delete=models.CASCADE, null=True, blank=True, related_name="answers"
    )
    value = models.CharField(max_length=16, blank=True)  # a scale's 1-5, or yes / no
    text = models.TextField(blank=True)  # a short text answer, as given
    language = language_field()  # the language it was given in
    is_skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["question", "respondent"])]

    def __str__(self) -> str:
        return f"answer to question {self.question_id}"


def respondent_key(token: str) -> str:
    """The key an invitation's answers share, derived from its token and the secret key, so that
    the database alone never links an anonymous answer to a family."""
    import hashlib
    import hmac

    return hmac.new(settings.SECRET_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()
