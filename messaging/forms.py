from django import forms
from django.utils.translation import gettext_lazy as _

from messaging.models import MAX_BODY_CHARS


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    is_internal = forms.BooleanField(
        label=_("Internal note: only school staff see it"), required=False
    )


class NewThreadForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Your message"), max_length=MAX_BODY_CHARS, widget=forms.Textarea(attrs={"rows": 5})
    )
    recipients = forms.MultipleChoiceField(
        label=_("To"), widget=forms.CheckboxSelectMultiple, choices=(), required=False
    )
    template = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, recipient_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].choices = recipient_choices


class TemplateChoiceForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Start from a template"), coerce=int, choices=())

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, t.name) for t in templates]


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    section = forms.TypedChoiceField(label=_("Class"), required=False, coerce=int, empty_value=None)
    language = forms.ChoiceField(label=_("Language"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Any")), ("web", _("Portal")), ("sms", _("SMS")), ("email", _("Email"))],
    )
    waiting = forms.BooleanField(label=_("Only waiting for an answer"), required=False)
    archived = forms.BooleanField(label=_("Archived"), required=False)

    def __init__(self, *args, sections=(), languages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [("", _("All classes")), *sections]
        self.fields["language"].choices = [("", _("All languages")), *languages]


class LoopInForm(forms.Form):
    staff = forms.TypedChoiceField(label=_("Add a colleague"), coerce=int, choices=())

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = colleagues


class CheckInForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Every week on"), coerce=int, choices=())
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from messaging.models import CheckIn

        super().__init__(*args, **kwargs)
        self.fields["weekday"].choices = CheckIn.Weekday.choices


class ReassignForm(forms.Form):
    staff = forms.TypedChoiceField(label=_("Give to"), coerce=int, choices=())

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = colleagues
