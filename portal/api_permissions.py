"""Who may use the API at all. Which rows they then see is `portal.permissions`' answer.

This module imports no DRF views: REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES names it, and DRF
imports that setting while `rest_framework.views` is itself still importing.
"""

from rest_framework.permissions import BasePermission

from portal.permissions import access_for


class IsPortalUser(BasePermission):
    """A signed-in, active account that is someone here: a guardian, a member of staff with a
    role at a school or district, or a superuser."""

    message = "This account is neither a guardian's nor a staff member's with a role."

    def has_permission(self, request, view) -> bool:
        access = access_for(request.user)
        return bool(access.guardian_id or access.is_staff_member)
