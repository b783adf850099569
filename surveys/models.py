"""Short surveys to families, answered by SMS or on the web, in the family's language.

A survey's texts (title, introduction, thank-you, questions, choices) are translated with
django-modeltranslation (surveys/translated_fields.py). Each family invited gets an Invitation
with an unguessable token (its web link) and, by SMS, the question it is on. Answers of an
anonymous survey keep no way back to the family in the database: they carry a respondent key
derived from the invitation's token with the portal's secret key, and the invitation records only
that the family completed it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import Broadcast, Thread
from portal.models import Guardian, School, Section, Staff, language_field


class Survey(models.Model):
    """A few questions to an audience of families (as an announcement's).

        draft -> open (sent: invitations written; answers taken from opens_at) -> closed
                                                  (by a person, or at closes_at)

    Its texts to families (the invitation, each question by SMS, a hint, the thank-you, the
    reminder) are system messages of its own thread, carried by the delivery pipeline like any
    message; the thread is no conversation and shows in nobody's inbox.
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
    machine_languages = models.JSONField(  # languages whose texts a machine wrote, unreviewed
        default=list, blank=True
    )
    thread = models.OneToOneField(  # written when it is sent: its texts to families
        Thread, on_delete=models.PROTECT, null=True, blank=True, related_name="survey"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

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
    """A family invited to a survey, answering by SMS (one question at a time) or on the web
    (its link); the link works for an SMS family too.

        invited -> started (first answer) -> completed (the last question, or "finish" on the web)

    By SMS one survey at a time per number: an invitation `is_waiting` while another survey's
    conversation is in progress on the family's number, and starts when that one ends.
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
    is_waiting = models.BooleanField(default=False)  # by SMS, behind another survey in progress
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
    are grouped by `respondent` alone (a key the database cannot turn back into a family); their
    id is random and their time is the day only, so neither order nor time ties them to an
    invitation. `grade` is kept for an anonymous survey's breakdown (groups under five hidden).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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
    grade = models.CharField(max_length=32, blank=True)  # anonymous only: the child's grade
    is_skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(  # for an anonymous survey, midnight of the day
        default=timezone.now
    )

    class Meta:
        indexes = [models.Index(fields=["question", "respondent"])]
        constraints = [
            models.UniqueConstraint(  # one answer per question and family...
                fields=["question", "respondent"],
                condition=Q(choice__isnull=True),
                name="answer_once",
            ),
            models.UniqueConstraint(  # ...or one row per choice ticked
                fields=["question", "respondent", "choice"],
                condition=Q(choice__isnull=False),
                name="answer_choice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"answer to question {self.question_id}"


def respondent_key(token: str) -> str:
    """The key an invitation's answers share, derived from its token and the secret key, so that
    the database alone never links an anonymous answer to a family."""
    import hashlib
    import hmac

    return hmac.new(settings.SECRET_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()


class SurveyTranslationSuggestion(models.Model):
    """A machine translation of every text of a survey into one language, waiting for a person.
    Families never see it: staff read it beside the default language's texts and accept it (its
    texts fill the survey's, the language marked machine translated, and the row goes), or
    discard it. `texts` and `source_texts` are keyed as the builder keys a survey's texts:
    "title", "introduction", "thank_you", "question-<id>", "choice-<id>".

        asked -> ready -> (accepted or discarded: the row is deleted)
          `--> failed (the provider does not translate this language, or stayed down)
    """

    class Status(models.TextChoices):
        ASKED = "asked", _("Being translated")
        READY = "ready", _("Ready to review")
        FAILED = "failed", _("Not available")

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="translation_suggestions"
    )
    language = models.CharField(max_length=16)  # a family language other than the default
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ASKED)
    source_texts = models.JSONField(default=dict)  # {"title": "..."}: the default texts asked
    texts = models.JSONField(default=dict, blank=True)  # {"title": "..."}: the machine's answer
    asked_at = models.DateTimeField()  # the last time a person asked; a newer ask replaces it
    made_at = models.DateTimeField(null=True, blank=True)  # when the provider answered

    class Meta:
        verbose_name = _("survey translation suggestion")
        verbose_name_plural = _("survey translation suggestions")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "language"], name="survey_suggestion_one_per_language"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["asked", "ready", "failed"]),
                name="survey_suggestion_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} ({self.language})"
