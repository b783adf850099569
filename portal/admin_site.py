from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from portal.permissions import access_for


class PortalAdminSite(admin.AdminSite):
    """The admin for superusers and for school and district admins, who see there only what the
    permission module lets them. Staff sign in on the portal's own staff sign-in page."""

    site_header = _("School–family portal administration")
    site_title = _("Portal administration")

    def has_permission(self, request) -> bool:
        return request.user.is_active and access_for(request.user).is_admin

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('sign_in_staff')}?{urlencode({'next': target})}")
