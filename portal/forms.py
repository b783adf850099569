import zipfile

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


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
