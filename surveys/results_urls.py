"""The live results of a survey (/surveys/results/), for the staff who may read it."""

from django.urls import path

from surveys import results_views

app_name = "survey_results"

urlpatterns = [
    path("<int:survey_pk>/", results_views.detail, name="detail"),
    path("<int:survey_pk>/respondents.csv", results_views.respondents_csv, name="respondents_csv"),
    path("<int:survey_pk>/counts.csv", results_views.counts_csv, name="counts_csv"),
]
