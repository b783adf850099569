from django.urls import path

from portal import report_views

app_name = "reports"

urlpatterns = [
    path("", report_views.index, name="index"),
    path("families/", report_views.families, name="families"),
    path("answers/", report_views.answers, name="answers"),
    path("waiting/", report_views.waiting, name="waiting"),
    path("deliveries/", report_views.deliveries, name="deliveries"),
    path("consent/", report_views.consent, name="consent"),
]
