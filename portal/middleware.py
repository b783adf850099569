"""How long a sign-in lasts: staff 30 minutes idle and 12 hours in all; a family on its own
phone 30 days (set when it signs in)."""

import time
import zoneinfo

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import timezone

from portal.permissions import access_for, schools_visible_to

SIGNED_IN_AT = "portal_signed_in_at"


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not access_for(user).guardian_id:
            now = time.time()
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            if now - signed_in_at > settings.STAFF_SESSION_MAX_SECONDS:
                logout(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


class SchoolTimezoneMiddleware:
    """Times on every page are the school's local time: for a signed-in person, the time zone of
    (the first of) their schools; for anyone else, the server's (UTC). The API is left alone: it
    answers ISO times with their offset."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            zone = (
                schools_visible_to(user).order_by("pk").values_list("timezone", flat=True).first()
            )
        if zone:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
