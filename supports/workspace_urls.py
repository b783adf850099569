"""The counselors' workspace (/supports/manage/): their services and help requests."""

from django.urls import path  # noqa: F401 (the workspace adds its paths here)

app_name = "support_workspace"

urlpatterns = []
