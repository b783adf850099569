"""The counselors' workspace (/supports/manage/): their services and help requests."""

from django.urls import path

from supports import workspace

app_name = "support_workspace"

urlpatterns = [
    path("", workspace.index, name="index"),
    path("new/", workspace.service_new, name="new"),
    path("requests/", workspace.requests_queue, name="requests"),
    path("requests/<int:request_id>/assign/", workspace.request_assign, name="request_assign"),
    path("requests/<int:request_id>/close/", workspace.request_close, name="request_close"),
    path("<int:service_id>/", workspace.service_edit, name="edit"),
    path("<int:service_id>/preview/", workspace.service_preview, name="preview"),
    path("<int:service_id>/publish/", workspace.service_publish, name="publish"),
    path("<int:service_id>/unpublish/", workspace.service_unpublish, name="unpublish"),
    path("<int:service_id>/spotlight/", workspace.service_spotlight, name="spotlight"),
    path(
        "<int:service_id>/translations/<str:language>/suggest/",
        workspace.translation_suggest,
        name="translation_suggest",
    ),
    path(
        "<int:service_id>/translations/<str:language>/accept/",
        workspace.translation_accept,
        name="translation_accept",
    ),
    path(
        "<int:service_id>/translations/<str:language>/discard/",
        workspace.translation_discard,
        name="translation_discard",
    ),
]
