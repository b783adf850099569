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
