from django.urls import path

from messaging import broadcast_views

app_name = "broadcasts"

urlpatterns = [
    path("", broadcast_views.index, name="index"),
    path("new/", broadcast_views.compose, name="compose"),
    path("<int:broadcast_id>/", broadcast_views.detail, name="detail"),
    path("<int:broadcast_id>/progress/", broadcast_views.progress, name="progress"),
    path("received/", broadcast_views.received, name="received"),
    path("received/<int:broadcast_id>/", broadcast_views.read, name="read"),
]
