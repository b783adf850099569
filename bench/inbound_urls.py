"""The portal's URLs and a bare view at /bench/bare/ that reads the form Twilio posts and answers
empty TwiML, as the inbound webhook does, with no signature check, database or broker."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.channel_views import EMPTY_TWIML
from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
@require_POST
def bare(request):
    if not request.POST.get("MessageSid"):
        return HttpResponse("MessageSid is required.", status=400)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


urlpatterns = [path("bench/bare/", bare), *portal_urlpatterns]
