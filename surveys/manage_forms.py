"""Forms of the staff's survey pages: they parse and validate input; surveys/builder.py writes.
Who a staff member may ask is shaped as for an announcement (messaging/broadcast_views.py)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from messaging.broadcasts import AudienceOptions
from portal import permissions
from portal.models import Guardian, School, Section
from surveys.builder import CHOICES_MAX, DEFAULT_LANGUAGE, REMINDER_HOURS_MAX, SurveyText, column
from surveys.models import Question, Survey

AUDIENCE = Survey.Audience
ROLE = permissions.ROLE
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local input sends: the school's wall clock


def _local_input(school: School, moment) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment, zoneinfo.ZoneInfo(school.timezone)).strftime(LOCAL_INPUT)


class SurveyForm(forms.Form):
    """A survey's details: its texts in the default language, who it asks, how and when."""

    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=150)
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you ask and how long it takes. Families read it first."),
    )
    thank_you = forms.CharField(
        label=_("Thank-you text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Sent when a family has answered. Leave empty for a plain thank-you."),
    )
    audience = forms.ChoiceField(label=_("Ask"), widget=forms.RadioSelect)
    sections = forms.TypedMultipleChoiceField(
        label=_("Classes"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False)
    guardians = forms.TypedMultipleChoiceField(
        label=_("Families"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    by_sms = forms.BooleanField(
        label=_("By text message: one question at a time"), required=False, initial=True
    )
    on_web = forms.BooleanField(
        label=_("On the web: each family gets its own link"), required=False, initial=True
    )
    is_anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_(
            "Answers are kept with no way back to the family; you see who finished, not who "
            "answered what. Results are never shown for groups of fewer than five families."
        ),
    )
    opens_at = forms.DateTimeField(
        label=_("Opens (school time)"),
        required=False,
        input_formats=[LOCAL_INPUT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
        help_text=_("Leave empty to open it when you send it. Invitations wait until then."),
    )
    closes_at = forms.DateTimeField(
        label=_("Closes (school time)"),
        required=False,
        input_formats=[LOCAL_INPUT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
        help_text=_("Leave empty to close it yourself."),
    )
    reminder_after_hours = forms.IntegerField(
        label=_("Remind after (hours)"),
        required=False,
        min_value=1,
        max_value=REMINDER_HOURS_MAX,
        help_text=_(
            "One reminder to families that have not finished, this many hours after it opens; "
            "never during quiet hours, never to a family that stopped texts. Leave empty for "
            "no reminder."
        ),
    )

    def __init__(self, *args, options: AudienceOptions, survey: Survey | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.schools = {school.pk: school for school in options.schools}
        self.fields["school"].choices = [(school.pk, school.name) for school in options.schools]
        if len(options.schools) == 1:
            self.fields["school"].widget = forms.HiddenInput()
            self.fields["school"].initial = options.schools[0].pk
        self.fields["audience"].choices = options.audiences
        self.fields["sections"].choices = options.sections
        grades = [(grade, grade) for grade in options.grades]
        self.fields["grade"].choices = [("", _("Choose a grade")), *grades]
        self.fields["guardians"].choices = options.guardians
        if not options.grades:
            del self.fields["grade"]
        self.initial.setdefault("audience", AUDIENCE.SECTION)
        if survey is not None:
            self.initial.update(
                {
                    "school": survey.school_id,
                    "title": getattr(survey, column("title", DEFAULT_LANGUAGE)),
                    "introduction": getattr(survey, column("introduction", DEFAULT_LANGUAGE)),
                    "thank_you": getattr(survey, column("thank_you", DEFAULT_LANGUAGE)),
                    "audience": survey.audience,
                    "sections": list(survey.sections.values_list("pk", flat=True)),
                    "grade": survey.grade,
                    "guardians": list(survey.guardians.values_list("pk", flat=True)),
                    "by_sms": survey.by_sms,
                    "on_web": survey.on_web,
                    "is_anonymous": survey.is_anonymous,
                    "opens_at": _local_input(survey.school, survey.opens_at),
                    "closes_at": _local_input(survey.school, survey.closes_at),
                    "reminder_after_hours": survey.reminder_after_hours,
                }
            )

    def clean(self):
        data = super().clean()
        school = self.schools.get(data.get("school"))
        for name in ("opens_at", "closes_at"):
            moment = data.get(name)
            if school is not None and moment is not None:
                # The browser sends the school's wall-clock time; read it in the school's zone.
                naive = timezone.make_naive(moment)
                data[name] = timezone.make_aware(naive, zoneinfo.ZoneInfo(school.timezone))
        return data

    def survey_arguments(self) -> dict:
        """What `survey_save` takes, but the actor and the survey."""
        data = self.cleaned_data
        return {
            "school": self.schools[data["school"]],
            "title": data["title"],
            "introduction": data["introduction"],
            "thank_you": data["thank_you"],
            "audience": data["audience"],
            "sections": list(Section.objects.filter(pk__in=data["sections"])),
            "grade": data.get("grade", ""),
            "guardians": list(Guardian.objects.filter(pk__in=data["guardians"])),
            "by_sms": data["by_sms"],
            "on_web": data["on_web"],
            "is_anonymous": data["is_anonymous"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "reminder_after_hours": data["reminder_after_hours"],
        }


class QuestionForm(forms.Form):
    """One question and, for a choice question, its choices (numbered as families reply)."""

    text = forms.CharField(label=_("Question"), max_length=300)
    kind = forms.ChoiceField(label=_("Answered with"), choices=Question.Kind.choices)
    is_required = forms.BooleanField(
        label=_("Families must answer it"),
        required=False,
        initial=True,
        help_text=_("Untick to let families skip it (by text, they reply SKIP)."),
    )

    def __init__(self, *args, question: Question | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, CHOICES_MAX + 1):
            self.fields[f"choice_{number}"] = forms.CharField(
                label=format_lazy(_("Choice {number}"), number=number),
                max_length=150,
                required=False,
            )
        if question is not None:
            self.initial.update(
                {
                    "text": getattr(question, column("text", DEFAULT_LANGUAGE)),
                    "kind": question.kind,
                    "is_required": question.is_required,
                }
            )
            for choice in question.choices.all():
                self.initial[f"choice_{choice.position}"] = getattr(
                    choice, column("text", DEFAULT_LANGUAGE)
                )

    def choice_fields(self):
        return [self[f"choice_{number}"] for number in range(1, CHOICES_MAX + 1)]

    def question_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "text": data["text"],
            "is_required": data["is_required"],
            "choices": [data[f"choice_{number}"] for number in range(1, CHOICES_MAX + 1)],
        }


class TranslationForm(forms.Form):
    """A survey's texts in one language, each beside its default-language text."""

    is_reviewed = forms.BooleanField(
        label=_("I read this language and checked these texts"),
        required=False,
        help_text=_("Families are no longer told they are machine translated."),
    )

    def __init__(self, *args, texts: list[SurveyText], language: str, language_name: str, **kw):
        super().__init__(*args, **kw)
        self.texts = texts
        for text in texts:
            field = forms.CharField(
                label=format_lazy("{} ({})", text.label, language_name),
                required=False,
                max_length=text.row._meta.get_field(column(text.field, language)).max_length,
                widget=forms.Textarea(attrs={"rows": 3}) if text.is_long else forms.TextInput(),
            )
            field.widget.attrs.update(
                lang=language, dir="auto", **{"aria-describedby": f"original-{text.key}"}
            )
            self.fields[text.key] = field
            self.initial[text.key] = text.in_language(language)

    def texts_written(self) -> dict[str, str]:
        return {text.key: self.cleaned_data[text.key] for text in self.texts}
