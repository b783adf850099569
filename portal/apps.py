from django.apps import AppConfig
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("People and schools")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Somali is a family language (texts and translated content) with no interface catalog,
        # and Django does not know it: without this, pages that name languages (the admin's
        # translated fields among them) fail on the code "so".
        LANG_INFO.setdefault(
            "so", {"bidi": False, "code": "so", "name": "Somali", "name_local": "Soomaali"}
        )
