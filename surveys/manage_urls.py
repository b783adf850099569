"""The staff's survey pages (/surveys/manage/): build, translate, preview, send, follow, close."""

from django.urls import path

from surveys import manage_views

app_name = "survey_manage"

urlpatterns = [
    path("", manage_views.index, name="index"),
    path("new/", manage_views.survey_new, name="new"),
    path("<int:survey_id>/", manage_views.survey_detail, name="detail"),
    path("<int:survey_id>/edit/", manage_views.survey_edit, name="edit"),
    path("<int:survey_id>/questions/", manage_views.questions, name="questions"),
    path(
        "<int:survey_id>/questions/<int:question_id>/",
        manage_views.question_edit,
        name="question_edit",
    ),
    path(
        "<int:survey_id>/questions/<int:question_id>/remove/",
        manage_views.question_remove,
        name="question_remove",
    ),
    path(
        "<int:survey_id>/questions/<int:question_id>/move/",
        manage_views.question_move,
        name="question_move",
    ),
    path("<int:survey_id>/translations/", manage_views.translations, name="translations"),
    path(
        "<int:survey_id>/translations/<str:language>/",
        manage_views.translation,
        name="translation",
    ),
    path(
        "<int:survey_id>/translations/<str:language>/suggest/",
        manage_views.translation_suggest,
        name="translation_suggest",
    ),
    path(
        "<int:survey_id>/translations/<str:language>/accept/",
        manage_views.translation_accept,
        name="translation_accept",
    ),
    path(
        "<int:survey_id>/translations/<str:language>/discard/",
        manage_views.translation_discard,
        name="translation_discard",
    ),
    path("<int:survey_id>/preview/sms/", manage_views.preview_sms, name="preview_sms"),
    path("<int:survey_id>/send/", manage_views.survey_send, name="send"),
    path("<int:survey_id>/close/", manage_views.survey_close, name="close"),
]
