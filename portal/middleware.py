"""How long a sign-in lasts: staff 30 minutes idle and 12 hours in all; a family on its own
phone 30 days (set when it signs in)."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

from portal.permissions import access_for

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
