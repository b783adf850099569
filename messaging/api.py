"""The messaging API (under /api/v1/): threads and their messages, announcements (for their
senders and the school's admins, and for the families who received them) and message templates,
as the pages offer them.

Reads come from the permission module, the selectors and `messaging.broadcasts`, so a thread or
an announcement that is not the reader's is simply not found (404); writes go through the
services, and a refusal (`MessagingError`) answers 400 with the services' reason as `detail`.
Lists cost the same number of queries whatever their length.
"""

from django.db.models import (
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from messaging import broadcasts, selectors, services
from messaging.models import (
    BroadcastRecipient,
    Message,
    MessageTemplate,
    MessageTranslation,
    Participant,
    Thread,
)
from messaging.serializers import (
    AnnouncementReplySerializer,
    AnnouncementSerializer,
    AudienceAskedSerializer,
    AudienceSerializer,
    BroadcastCreateSerializer,
    BroadcastDetailSerializer,
    BroadcastRecipientSerializer,
    BroadcastSerializer,
    MessagePostSerializer,
    MessageSerializer,
    MessageTemplateSerializer,
    ParticipantAddSerializer,
    ParticipantSerializer,
    ProgressSerializer,
    RefusalSerializer,
    ThreadFiltersSerializer,
    ThreadSerializer,
    ThreadStartSerializer,
)
from portal.api_permissions import IsPortalUser
from portal.models import Guardian
from portal.permissions import Access, access_for, threads_visible_to

REFUSED = OpenApiResponse(RefusalSerializer, description="Refused; `detail` says why.")
NOT_YOURS = OpenApiResponse(description="No thread of yours has this id.")
NOT_SHOWN = OpenApiResponse(description="No announcement you may look at has this id.")
NOT_RECEIVED = OpenApiResponse(description="No announcement sent to you has this id.")
ANNOUNCEMENT_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The announcement's id."
)


class Refused(APIException):
    """A service's refusal, as the API answers it."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refused"


class AnswersRefusals:
    """A viewset whose writes go through the services: their refusal is a 400 with the reason."""

    def handle_exception(self, exc):
        if isinstance(exc, services.MessagingError):
            exc = Refused(str(exc))
        return super().handle_exception(exc)


class IsStaffMember(BasePermission):
    """Staff with a role at a school or district, and superusers: as the announcement pages."""

    message = "Only school staff use this."

    def has_permission(self, request, view) -> bool:
        return access_for(request.user).is_staff_member


class IsFamily(BasePermission):
    """A guardian's account: as the pages of announcements received."""

    message = "Only families use this."

    def has_permission(self, request, view) -> bool:
        return bool(access_for(request.user).guardian_id)


def _with_unread(threads: QuerySet[Thread], access: Access) -> QuerySet[Thread]:
    """Adds `unread`, counted for the reader as the inbox pages count it: as staff when they are
    staff, as the family otherwise; null for an account that is neither (a bare superuser)."""
    if access.staff_id:
        return selectors.with_unread(threads, staff_id=access.staff_id)
    if access.guardian_id:
        return selectors.with_unread(threads, guardian_id=access.guardian_id)
    return threads.annotate(unread=Value(None, output_field=IntegerField()))


def _shaped(threads: QuerySet[Thread], access: Access) -> QuerySet[Thread]:
    participants = Participant.objects.select_related("staff", "guardian").order_by(
        "joined_at", "pk"
    )
    return _with_unread(threads, access).prefetch_related(
        Prefetch("participants", queryset=participants)
    )


def threads_listed_for(user, filters: dict) -> QuerySet[Thread]:
    """The threads someone takes part in (as staff when they are staff, as the family
    otherwise), as the inbox pages list them, newest activity first."""
    access = access_for(user)
    if access.staff_id:
        mine = Q(participants__staff_id=access.staff_id)
    elif access.guardian_id:
        mine = Q(participants__guardian_id=access.guardian_id)
    else:
        return _shaped(Thread.objects.none(), access)
    # One participant row per person and thread: the join never repeats a thread.
    threads = threads_visible_to(user).filter(mine, is_archived=filters.get("archived", False))
    if filters.get("waiting"):
        threads = threads.filter(waiting_since__isnull=False)
    if filters.get("student"):
        threads = threads.filter(student_id=filters["student"])
    if search := filters.get("q", "").strip():
        messages = Message.objects.filter(thread=OuterRef("pk"), body__icontains=search)
        if not access.staff_id:  # a family's search must not find words in internal notes
            messages = messages.filter(is_internal=False)
        threads = threads.filter(Q(subject__icontains=search) | Exists(messages))
    return _shaped(threads, access).order_by("-last_message_at", "-pk")


class ThreadViewSet(
    AnswersRefusals,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Conversations between school staff and families."""

    permission_classes = [IsPortalUser]
    serializer_class = ThreadSerializer

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            filters = ThreadFiltersSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            return threads_listed_for(user, filters.validated_data)
        if self.action == "retrieve":
            return _shaped(threads_visible_to(user), access_for(user))
        return threads_visible_to(user)

    @extend_schema(
        summary="Your threads",
        description="Threads you take part in, newest activity first, with how many messages "
        "you have not read. Staff see their own threads here (a school admin opens any thread of "
        "their school by id); families theirs.",
        parameters=[ThreadFiltersSerializer],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A thread with its participants", responses={200: ThreadSerializer, 404: NOT_YOURS}
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Start a thread",
        request=ThreadStartSerializer,
        responses={201: ThreadSerializer, 400: REFUSED},
    )
    def create(self, request, *args, **kwargs):
        asked = ThreadStartSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        thread = services.thread_start(
            actor=request.user,
            subject=data["subject"],
            body=data["body"],
            student=data["student"],
            guardians=data.get("guardians", []),
            staff=data.get("staff", []),
        )
        started = _shaped(threads_visible_to(request.user), access_for(request.user)).get(
            pk=thread.pk
        )
        shown = ThreadSerializer(started, context=self.get_serializer_context())
        return Response(shown.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="Messages of a thread",
        description="Oldest first, each as written and, when one exists, translated into your "
        "language. Families never see internal notes.",
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.INT, description="Only messages after this message id."
            ),
            OpenApiParameter("page", OpenApiTypes.INT, description="A page number."),
        ],
        responses={200: MessageSerializer(many=True), 404: NOT_YOURS},
    )
    @extend_schema(
        methods=["POST"],
        summary="Write in a thread",
        request=MessagePostSerializer,
        responses={201: MessageSerializer, 400: REFUSED, 404: NOT_YOURS},
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk: str):
        if request.method == "POST":
            return self._message_post(request)
        after = request.query_params.get("after", "")
        if not pk.isdigit():
            raise Http404
        try:
            reading = selectors.thread_for_reader(
                request.user, int(pk), after_id=int(after) if after.isdigit() else 0
            )
        except Thread.DoesNotExist:
            raise Http404 from None
        page = self.paginate_queryset(reading.messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    def _message_post(self, request):
        thread = self.get_object()
        asked = MessagePostSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        message = services.message_post(actor=request.user, thread=thread, **asked.validated_data)
        message.reader_translations = []  # made after the answer, by the translation task
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add a colleague to a thread",
        description="The family sees who joined. Staff only.",
        request=ParticipantAddSerializer,
        responses={201: ParticipantSerializer, 400: REFUSED, 404: NOT_YOURS},
    )
    @action(detail=True, methods=["post"])
    def participants(self, request, pk: str):
        thread = self.get_object()
        asked = ParticipantAddSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        participant = services.participant_add(
            actor=request.user, thread=thread, staff=asked.validated_data["staff"]
        )
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark a thread read",
        request=None,
        responses={204: None, 400: REFUSED, 404: NOT_YOURS},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk: str):
        services.thread_mark_read(actor=request.user, thread=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Archive a thread",
        description="What deleting does: the thread leaves every inbox and keeps every "
        "message. Staff only.",
        request=None,
        responses={204: None, 400: REFUSED, 404: NOT_YOURS},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk: str):
        services.thread_archive(actor=request.user, thread=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---- Announcements ----------------------------------------------------------------------------


class BroadcastViewSet(
    AnswersRefusals,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Announcements, for staff: their own; a school admin's, every one of their schools."""

    permission_classes = [IsStaffMember]
    serializer_class = BroadcastSerializer

    def get_queryset(self):
        return (
            broadcasts.broadcasts_for_staff(self.request.user)
            .prefetch_related("sections")
            .order_by("-created_at", "-pk")
        )

    def _detail(self, broadcast) -> dict:
        broadcast.progress = broadcasts.broadcast_progress(broadcast)
        return BroadcastDetailSerializer(broadcast, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Announcements",
        description="Newest first: your own; a school admin sees every announcement of their "
        "schools, whoever sent it.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="An announcement and how far it has gone",
        responses={200: BroadcastDetailSerializer, 404: NOT_SHOWN},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(self._detail(self.get_object()))

    @extend_schema(
        summary="Send an announcement",
        description="Sent at once, or kept until `scheduled_at`. Check who it reaches first with "
        "`audience/`.",
        request=BroadcastCreateSerializer,
        responses={201: BroadcastDetailSerializer, 400: REFUSED},
    )
    def create(self, request, *args, **kwargs):
        asked = BroadcastCreateSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        broadcast = broadcasts.broadcast_create(actor=request.user, **asked.validated_data)
        written = self.get_queryset().get(pk=broadcast.pk)
        return Response(self._detail(written), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Who an announcement would reach",
        description="Families reached by language and channel, and those it cannot reach and "
        "why, for the audience you name. Writes nothing.",
        request=AudienceAskedSerializer,
        responses={200: AudienceSerializer, 400: REFUSED},
    )
    @action(detail=False, methods=["post"])
    def audience(self, request):
        asked = AudienceAskedSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        audience = broadcasts.broadcast_audience(actor=request.user, **asked.validated_data)
        return Response(AudienceSerializer(audience).data)

    @extend_schema(
        summary="Who got an announcement, and how",
        description="Each family with their deliveries. For the school's admins.",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="A page number.")],
        responses={
            200: BroadcastRecipientSerializer(many=True),
            403: OpenApiResponse(description="Only the school's admins see who got it."),
            404: NOT_SHOWN,
        },
    )
    @action(detail=True, methods=["get"])
    def recipients(self, request, pk: str):
        broadcast = self.get_object()
        if not broadcasts.may_see_recipients(request.user, broadcast):
            raise PermissionDenied("Only the school's admins see who got an announcement.")
        recipients = broadcast.recipients.select_related("guardian", "student").order_by(
            "guardian__family_name", "guardian__given_name", "pk"
        )
        page = self.paginate_queryset(recipients)
        statuses = broadcasts.delivery_statuses(
            broadcast, guardian_ids=[recipient.guardian_id for recipient in page]
        )
        for recipient in page:
            recipient.deliveries = statuses.get(recipient.guardian_id, [])
        return self.get_paginated_response(BroadcastRecipientSerializer(page, many=True).data)

    @extend_schema(
        summary="How far an announcement has gone",
        description="Sent, delivered, failed, read and replied, as it happens.",
        responses={200: ProgressSerializer, 404: NOT_SHOWN},
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk: str):
        progress = broadcasts.broadcast_progress(self.get_object())
        return Response(ProgressSerializer(progress).data)


def announcements_for(user) -> QuerySet[BroadcastRecipient]:
    """The announcements a family received, newest first, each with its message and, where the
    message is written in another language, its translation into the family's (as the family's
    page picks it)."""
    family = Guardian.objects.filter(pk=access_for(user).guardian_id)
    translations = MessageTranslation.objects.filter(
        language=Subquery(family.values("preferred_language")[:1])
    ).exclude(language=F("message__language"))
    messages = (
        Message.objects.filter(is_internal=False)
        .order_by("created_at", "pk")
        .prefetch_related(
            Prefetch("translations", queryset=translations, to_attr="reader_translations")
        )
    )
    return (
        broadcasts.broadcasts_for_guardian(user)
        .select_related("broadcast__thread")
        .prefetch_related(
            Prefetch(
                "broadcast__thread__messages", queryset=messages, to_attr="announcement_messages"
            )
        )
    )


class AnnouncementViewSet(
    AnswersRefusals, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Announcements a family received, by the announcement's id."""

    permission_classes = [IsFamily]
    serializer_class = AnnouncementSerializer
    lookup_field = "broadcast_id"
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        return announcements_for(self.request.user)

    @extend_schema(
        summary="Announcements you received",
        description="Newest first, each as written and, when one exists, translated into your "
        "language.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="An announcement you received",
        parameters=[ANNOUNCEMENT_ID],
        responses={200: AnnouncementSerializer, 404: NOT_RECEIVED},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Mark an announcement read",
        description="Counts it as read for its sender, once.",
        parameters=[ANNOUNCEMENT_ID],
        request=None,
        responses={204: None, 404: NOT_RECEIVED},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk: str):
        recipient = self.get_object()
        broadcasts.broadcast_mark_read(actor=request.user, broadcast=recipient.broadcast)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Answer the sender",
        description="Opens (or continues) a conversation between you and the sender, which no "
        "other family sees; answers that thread.",
        parameters=[ANNOUNCEMENT_ID],
        request=AnnouncementReplySerializer,
        responses={201: ThreadSerializer, 400: REFUSED, 404: NOT_RECEIVED},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk: str):
        recipient = self.get_object()
        asked = AnnouncementReplySerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        thread = broadcasts.broadcast_reply(
            actor=request.user, broadcast=recipient.broadcast, body=asked.validated_data["body"]
        )
        answered = _shaped(threads_visible_to(request.user), access_for(request.user)).get(
            pk=thread.pk
        )
        shown = ThreadSerializer(answered, context=self.get_serializer_context())
        return Response(shown.data, status=status.HTTP_201_CREATED)


# ---- Templates --------------------------------------------------------------------------------


def templates_offered_to(user) -> QuerySet[MessageTemplate]:
    """The active templates staff are offered: their schools' and the shared ones."""
    access = access_for(user)
    templates = MessageTemplate.objects.filter(is_active=True).order_by("name", "pk")
    if access.is_superuser:
        return templates
    return templates.filter(Q(school__isnull=True) | Q(school_id__in=list(access.roles)))


@extend_schema(responses={404: OpenApiResponse(description="No template of yours has this id.")})
class MessageTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """Message templates, for staff: the shared ones and their schools'."""

    permission_classes = [IsStaffMember]
    serializer_class = MessageTemplateSerializer

    def get_queryset(self):
        return templates_offered_to(self.request.user)

    @extend_schema(
        summary="Message templates",
        description="Active templates of your schools and the shared ones, by name, each with the "
        "translations people made.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A message template")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
