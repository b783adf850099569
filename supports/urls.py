"""Family pages of the support directory (/supports/)."""

from django.urls import path  # noqa: F401 (the family pages add their paths here)

app_name = "supports"

urlpatterns = []
