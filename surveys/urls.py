"""Surveys: a family's own link (no sign-in: the token is the only key) and the staff's preview
of it as a web page in any family language."""

from django.urls import path

from surveys import family_views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", family_views.answer, name="answer"),
    path("s/<str:token>/q/<int:number>/", family_views.answer_question, name="answer_question"),
    path("s/<str:token>/all/", family_views.answer_all, name="answer_all"),
    path("s/<str:token>/finish/", family_views.answer_finish, name="answer_finish"),
    path(
        "surveys/<int:survey_id>/preview/<str:language>/",
        family_views.preview,
        name="preview",
    ),
]
