import zipfile

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from portal.languages import family_language_choices


class RosterUploadForm(forms.Form):
    bundle = forms.FileField(
        label=_("OneRoster bundle (.zip)"),
        help_text=_(
            "The .zip your student information system exports: orgs.csv, users.csv, "
            "classes.csv and enrollments.csv at least."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: show what would change and import nothing"), required=False
    )

    def clean_bundle(self):
        bundle = self.cleaned_data["bundle"]
        limit = settings.ROSTER_UPLOAD_MAX_BYTES
        if bundle.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest bundle accepted is %(limit)s."),
                params={"size": filesizeformat(bundle.size), "limit": filesizeformat(limit)},
            )
        if not zipfile.is_zipfile(bundle):
            raise forms.ValidationError(_("This is not a .zip file."))
        bundle.seek(0)
        return bundle


class CodeRequestForm(forms.Form):
    address = forms.CharField(
        label=_("Your mobile number or email"),
        help_text=_("The one the school has for you. We send you a 6-digit code."),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )


class CodeVerifyForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )
    is_own_device = forms.BooleanField(
        label=_("This is my own phone: keep me signed in for 30 days"),
        required=False,
        initial=True,
    )


class StaffSignInForm(forms.Form):
    """Staff email and password; checked by the view through django.contrib.auth (and axes)."""

    username = forms.EmailField(
        label=_("Work email"), widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language for messages from school"), choices=())
    channels = forms.ChoiceField(
        label=_("How the school reaches you"),
        widget=forms.RadioSelect,
        choices=[("sms", _("Text message")), ("email", _("Email")), ("both", _("Both"))],
    )
    quiet_hours_start = forms.TimeField(
        label=_("No texts from"),
        required=False,
        help_text=_("Optional, for example if you work at night. Leave empty to use the school's."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    quiet_hours_end = forms.TimeField(
        label=_("No texts until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = family_language_choices()

    @classmethod
    def for_guardian(cls, guardian, data=None):
        channels = (
            "both"
            if guardian.wants_sms and guardian.wants_email
            else "sms"
            if guardian.wants_sms
            else "email"
        )
        return cls(
            data,
            initial={
                "language": guardian.preferred_language,
                "channels": channels,
                "quiet_hours_start": guardian.quiet_hours_start,
                "quiet_hours_end": guardian.quiet_hours_end,
            },
        )


class ContactChangeForm(forms.Form):
    phone = forms.CharField(
        label=_("New mobile number"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.CharField(
        label=_("New email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
