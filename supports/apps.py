from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "supports"
    verbose_name = _("Support services")
