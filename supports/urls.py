"""Family pages of the support directory (/supports/)."""

from django.urls import path

from supports import views

app_name = "supports"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("categories/<int:category_id>/", views.category, name="category"),
    path("<int:service_id>/", views.service, name="service"),
    path("<int:service_id>/ask/", views.ask, name="ask"),
]
