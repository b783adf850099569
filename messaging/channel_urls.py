from django.urls import path

from messaging import channel_views

app_name = "channels"

urlpatterns = [
    path("sms/twilio/inbound/", channel_views.twilio_inbound, name="twilio_inbound"),
    path("sms/twilio/status/", channel_views.twilio_status, name="twilio_status"),
    path("sms/phone/", channel_views.phone, name="phone"),
    path(
        "email/unsubscribe/<str:token>/", channel_views.email_unsubscribe, name="email_unsubscribe"
    ),
]
