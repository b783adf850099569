"""The JSON API, version 1: who you are, and the schools, sections, students and guardians you
may see.

Every queryset is the permission module's (`portal.permissions`), so an id that is not the
viewer's is simply not found: 404, never someone else's data. The viewsets add only what makes a
page cheap (related rows fetched in a constant number of queries) and a stable order for paging.
"""

from dataclasses import dataclass

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import serializers
from portal.api_permissions import IsPortalUser  # the API's default permission too
from portal.models import Enrollment, Guardian, GuardianLink, Staff
from portal.permissions import (
    access_for,
    guardians_visible_to,
    schools_visible_to,
    sections_visible_to,
    students_visible_to,
)


@dataclass(frozen=True)
class Me:
    """What /me/ answers (shaped by `serializers.MeSerializer`)."""

    id: int
    name: str
    kind: str  # "guardian" or "staff"
    is_superuser: bool
    guardian_id: int | None
    staff_id: int | None
    preferred_language: str | None
    roles: list[dict]
    district_ids: list[int]


class MeView(APIView):
    """Who the signed-in user is: name, kind, roles per school, guardian and staff ids."""

    permission_classes = [IsPortalUser]

    @extend_schema(responses=serializers.MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        user = request.user
        access = access_for(user)
        guardian = staff = None
        if access.guardian_id:
            guardian = Guardian.objects.only("given_name", "family_name", "preferred_language").get(
                pk=access.guardian_id
            )
        if access.staff_id:
            staff = Staff.objects.only("given_name", "family_name").get(pk=access.staff_id)
        person = (
            staff if staff and access.is_staff_member else guardian or staff
        )  # staff name first
        me = Me(
            id=user.pk,
            name=str(person) if person else user.get_full_name() or user.get_username(),
            kind="staff" if access.is_staff_member else "guardian",
            is_superuser=access.is_superuser,
            guardian_id=access.guardian_id,
            staff_id=access.staff_id,
            preferred_language=guardian.preferred_language if guardian else None,
            roles=[
                {"school": school, "roles": sorted(held)}
                for school, held in sorted(access.roles.items())
            ],
            district_ids=sorted(access.district_ids),
        )
        return Response(serializers.MeSerializer(me).data)


class VisibleViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only list and detail of what the viewer may see; serializers get their `Access`."""

    permission_classes = [IsPortalUser]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "access": access_for(self.request.user)}


class SchoolViewSet(VisibleViewSet):
    """Schools you may see: those you hold a role at, or your children attend."""

    serializer_class = serializers.SchoolSerializer

    def get_queryset(self):
        return schools_visible_to(self.request.user).order_by("name", "pk")


class SectionViewSet(VisibleViewSet):
    """Sections (classes) you may see: those you teach, your school's, or your children's."""

    serializer_class = serializers.SectionSerializer

    def get_queryset(self):
        return sections_visible_to(self.request.user).order_by("school_id", "name", "pk")


class StudentViewSet(VisibleViewSet):
    """Students you may see, each with the ids of the sections of theirs you may see."""

    serializer_class = serializers.StudentSerializer

    def get_queryset(self):
        user = self.request.user
        enrollments = (
            Enrollment.objects.filter(is_active=True, section__in=sections_visible_to(user))
            .only("student_id", "section_id")
            .order_by("section_id")
        )
        return (
            students_visible_to(user)
            .order_by("family_name", "given_name", "pk")
            .prefetch_related(
                Prefetch("enrollments", queryset=enrollments, to_attr="visible_enrollments")
            )
        )


class GuardianViewSet(VisibleViewSet):
    """Guardians you may see: yourself, or, for staff, the families of the students they see
    (a no-contact guardian included and flagged, so that staff know not to contact them)."""

    serializer_class = serializers.GuardianSerializer

    def get_queryset(self):
        user = self.request.user
        links = GuardianLink.objects.filter(
            is_active=True, student__in=students_visible_to(user)
        ).order_by("student_id")
        return (
            guardians_visible_to(user)
            .order_by("family_name", "given_name", "pk")
            .prefetch_related(Prefetch("student_links", queryset=links, to_attr="visible_links"))
        )
