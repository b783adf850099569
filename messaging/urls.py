from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("overdue/", views.overdue, name="overdue"),
    path("<int:thread_id>/reassign/", views.reassign, name="reassign"),
    path("<int:thread_id>/", views.thread, name="thread"),
    path("<int:thread_id>/updates/", views.thread_updates, name="thread_updates"),
    path("<int:thread_id>/participants/", views.loop_in, name="loop_in"),
    path("<int:thread_id>/archive/", views.archive, name="archive"),
    path("<int:thread_id>/check-in/", views.check_in, name="check_in"),
    path(
        "<int:thread_id>/messages/<int:message_id>/flag/",
        views.translation_flag,
        name="translation_flag",
    ),
    path("new/<int:student_id>/", views.new_thread, name="new_thread"),
]
