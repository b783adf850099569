"""The support API (under /api/v1/): the categories and services of the directory, and help
requests.

Families see the services `services_for_family` offers them, in their home language; staff the
live services of their schools, and the services they keep or answer whatever their status.
Help requests are confidential: a family sees its own and the service's counselors theirs
(`help_requests_for_counselor`); anyone else, whatever their role, an empty list and 404. Opening
one goes through `help_request_open`, whose refusal answers 400 with its reason as `detail`.
"""

from django.db.models import Q, QuerySet
from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from modeltranslation.utils import build_localized_fieldname
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from messaging.api import REFUSED, AnswersRefusals
from portal.api_permissions import IsPortalUser
from portal.languages import UnknownLanguage, language_normalize
from portal.models import Guardian, School
from portal.permissions import ROLE, access_for
from supports.models import DEFAULT_LANGUAGE, HelpRequest, SupportCategory, SupportService
from supports.serializers import (
    HelpRequestOpenSerializer,
    HelpRequestSerializer,
    SupportCategorySerializer,
    SupportServiceSerializer,
)
from supports.services import (
    help_request_open,
    help_requests_for_counselor,
    services_for_family,
    services_for_schools,
)

NOT_OFFERED = OpenApiResponse(description="No service you may see has this id.")
NOT_YOURS = OpenApiResponse(description="No help request of yours, or of a service you answer.")


def reader_language(user) -> str:
    """The language of the texts someone reads: a family's home language, staff's interface
    language; the default language where the directory has no texts for it."""
    access = access_for(user)
    if access.guardian_id and not access.is_staff_member:
        guardian = Guardian.objects.filter(pk=access.guardian_id)
        asked = guardian.values_list("preferred_language", flat=True).first()
    else:
        asked = translation.get_language()
    try:
        return language_normalize(asked or "")
    except UnknownLanguage:
        return DEFAULT_LANGUAGE


def services_listed_for(user) -> QuerySet[SupportService]:
    """The services someone finds in the API: a family's (`services_for_family`); staff's, the
    live services of their schools and districts; a counselor's, also every service of the
    schools they counsel at and of those schools' districts, drafts included, and those they
    keep or answer."""
    access = access_for(user)
    shown = Q(pk__in=services_for_family(user).values("pk"))
    if access.is_staff_member:
        schools = (
            School.objects.all()
            if access.is_superuser
            else School.objects.filter(pk__in=list(access.roles))
        )
        shown |= Q(pk__in=services_for_schools(schools).values("pk"))
    if access.staff_id:
        counseled = access.schools_with(ROLE.COUNSELOR)
        districts = School.objects.filter(pk__in=counseled).values("district_id")
        kept = SupportService.objects.filter(
            Q(school__in=counseled)
            | Q(district__in=districts)
            | Q(owner_id=access.staff_id)
            | Q(counselors=access.staff_id)
        )
        shown |= Q(pk__in=kept.values("pk"))
    default_title = build_localized_fieldname("title", DEFAULT_LANGUAGE)
    return (
        SupportService.objects.filter(shown)
        .select_related("category")
        .order_by("category__position", "category_id", default_title, "pk")
    )


def help_requests_listed_for(user) -> QuerySet[HelpRequest]:
    """A family's own help requests and those of the services someone answers; nobody else's,
    whatever their role: a teacher's or an admin's list is empty."""
    access = access_for(user)
    answered = help_requests_for_counselor(user)
    if access.guardian_id:
        own = Q(guardian_id=access.guardian_id)
        if access.staff_id:  # a member of staff who is also a parent
            own |= Q(pk__in=answered.values("pk"))
        answered = HelpRequest.objects.filter(own).order_by("-created_at", "-pk")
    return answered.select_related("service", "guardian", "assigned_to")


class InReaderLanguageMixin:
    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["language"] = reader_language(self.request.user)
        return context


@extend_schema(responses={404: OpenApiResponse(description="No category has this id.")})
class SupportCategoryViewSet(InReaderLanguageMixin, viewsets.ReadOnlyModelViewSet):
    """The kinds of help the directory sorts its services by."""

    permission_classes = [IsPortalUser]
    serializer_class = SupportCategorySerializer

    def get_queryset(self):
        return SupportCategory.objects.order_by("position", "pk")

    @extend_schema(
        summary="Support categories",
        description="Every kind of help (food, counseling, tutoring...), in the order of the SMS "
        "menu, named in your language where there is a name in it.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A support category")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


@extend_schema(responses={404: NOT_OFFERED})
class SupportServiceViewSet(InReaderLanguageMixin, viewsets.ReadOnlyModelViewSet):
    """The support-service directory."""

    permission_classes = [IsPortalUser]
    serializer_class = SupportServiceSerializer

    def get_queryset(self):
        return services_listed_for(self.request.user)

    @extend_schema(
        summary="Support services",
        description="Families: the services of their children's schools and districts running "
        "today, in their home language where there is a text in it (`untranslated` names the "
        "fields shown in English instead, `machine_translated` those a machine translated). "
        "Staff: the live services of their schools, and the services they keep or answer, "
        "drafts included. By category, then title.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A support service")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class HelpRequestViewSet(
    AnswersRefusals,
    InReaderLanguageMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Confidential help requests: only their family and the service's counselors see them."""

    permission_classes = [IsPortalUser]
    serializer_class = HelpRequestSerializer

    def get_queryset(self):
        return help_requests_listed_for(self.request.user)

    @extend_schema(
        summary="Help requests",
        description="Families: their own, newest first. Counselors: the requests of the "
        "services they answer, new ones first, then assigned, oldest first within each, then "
        "closed ones. Anyone else sees none: help requests are confidential.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A help request", responses={200: HelpRequestSerializer, 404: NOT_YOURS})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Ask a service for help",
        description="Families only. Opens a conversation that only the service's counselors "
        "and your family share (`thread`); you are told in your language who will answer.",
        request=HelpRequestOpenSerializer,
        responses={201: HelpRequestSerializer, 400: REFUSED},
    )
    def create(self, request, *args, **kwargs):
        asked = HelpRequestOpenSerializer(
            data=request.data,
            context=self.get_serializer_context(),
            services=services_listed_for(request.user),
        )
        asked.is_valid(raise_exception=True)
        help_request = help_request_open(actor=request.user, **asked.validated_data)
        opened = self.get_queryset().get(pk=help_request.pk)
        shown = HelpRequestSerializer(opened, context=self.get_serializer_context())
        return Response(shown.data, status=status.HTTP_201_CREATED)
