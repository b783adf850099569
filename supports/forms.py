"""Forms of the counselors' workspace: they parse and validate; supports/services.py writes."""

from django import forms
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from messaging.models import Broadcast
from portal.languages import family_language_choices
from supports.models import HelpRequest, SupportService
from supports.services import DEFAULT_LANGUAGE, SERVICE_DETAILS, column


def text_columns(languages: list[str]) -> list[str]:
    """The family-text columns edited side by side: the default language's, then each of
    `languages`, one field after the other."""
    return [
        column(field, language)
        for language in [DEFAULT_LANGUAGE, *languages]
        for field in SupportService.TRANSLATED_FIELDS
    ]


class ServiceForm(forms.ModelForm):
    """A service's details, where it runs, who answers it, and its texts in English and in the
    language being translated (`language`, or none)."""

    place = forms.ChoiceField(label=_("Where it runs"))
    offered_in = forms.MultipleChoiceField(
        label=_("Languages the service is offered in"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    answerers = forms.TypedMultipleChoiceField(
        label=_("Who answers its help requests"),
        help_text=_("Counselors and admins of the school. You keep the service and answer too."),
        widget=forms.CheckboxSelectMultiple,
        coerce=int,
        required=False,
    )

    map_url = forms.URLField(
        label=_("Map link"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty to make one from the address."),
    )

    class Meta:
        model = SupportService
        fields = [f for f in SERVICE_DETAILS if f != "languages"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "phone": _("In international form, e.g. +16175550100."),
        }

    def __init__(self, *args, places=(), answerer_choices=(), language=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.language = language
        self.fields["place"].choices = places
        self.fields["answerers"].choices = answerer_choices
        self.fields["offered_in"].choices = family_language_choices()
        service = self.instance
        if service.pk:
            self.initial.setdefault(
                "place",
                f"school:{service.school_id}"
                if service.school_id
                else f"district:{service.district_id}",
            )
            self.initial.setdefault("offered_in", service.languages.split())
            self.initial.setdefault(
                "answerers", list(service.counselors.values_list("pk", flat=True))
            )
        names = dict(family_language_choices())
        for written_in in [DEFAULT_LANGUAGE, *([language] if language else [])]:
            for text in SupportService.TRANSLATED_FIELDS:
                name = column(text, written_in)
                field = SupportService._meta.get_field(name).formfield()
                field.required = written_in == DEFAULT_LANGUAGE and text in ("title", "summary")
                field.label = format_lazy(
                    "{} ({})",
                    capfirst(SupportService._meta.get_field(text).verbose_name),
                    names[written_in],
                )
                if isinstance(field.widget, forms.Textarea):
                    field.widget.attrs["rows"] = 4
                field.widget.attrs.update(dir="auto", lang=written_in)
                self.fields[name] = field
                self.initial.setdefault(name, getattr(service, name) or "")

    def text_rows(self):
        """(English field, translated field or None) per family text, for side by side."""
        other = self.language
        return [
            (
                self[column(field, DEFAULT_LANGUAGE)],
                self[column(field, other)] if other else None,
            )
            for field in SupportService.TRANSLATED_FIELDS
        ]

    def details(self) -> dict:
        found = {name: self.cleaned_data[name] for name in SERVICE_DETAILS if name != "languages"}
        found["languages"] = " ".join(self.cleaned_data["offered_in"])
        return found

    def texts(self) -> dict:
        return {
            name: self.cleaned_data[name] or ""
            for name in text_columns([self.language] if self.language else [])
        }

    def where(self) -> tuple[str, int]:
        """("school" or "district", its id)."""
        kind, pk = self.cleaned_data["place"].split(":")
        return kind, int(pk)


class AssignForm(forms.Form):
    staff = forms.TypedChoiceField(label=_("Counselor"), coerce=int, choices=())

    def __init__(self, *args, counselors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(person.pk, str(person)) for person in counselors]


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(value, label) for value, label in HelpRequest.Outcome.choices if value],
    )


class SpotlightForm(forms.Form):
    """Who hears about a service, when, and how long families' home pages show it."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    audience = forms.ChoiceField(
        label=_("Families of"),
        # an announcement's audiences, but families chosen one by one
        choices=[(value, label) for value, label in Broadcast.Audience.choices if value != "list"],
    )
    sections = forms.ModelMultipleChoiceField(
        label=_("Classes"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    grade = forms.CharField(label=_("Grade"), max_length=32, required=False)
    scheduled_at = forms.DateTimeField(
        label=_("Send at (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    shows_until = forms.DateField(
        label=_("Show on families' home page until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, schools, sections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["sections"].queryset = sections
