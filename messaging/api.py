"""The messaging API (under /api/v1/): threads and their messages, as the pages offer them.

Reads come from the permission module and the selectors, so a thread that is not the reader's is
simply not found (404); writes go through the services, and a refusal (`MessagingError`) answers
400 with the services' reason as `detail`. Lists cost the same number of queries whatever the
number of threads or messages.
"""

from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from messaging import selectors, services
from messaging.models import Message, Participant, Thread
from messaging.serializers import (
    MessagePostSerializer,
    MessageSerializer,
    ParticipantAddSerializer,
    ParticipantSerializer,
    RefusalSerializer,
    ThreadFiltersSerializer,
    ThreadSerializer,
    ThreadStartSerializer,
)
from portal.api_permissions import IsPortalUser
from portal.permissions import Access, access_for, threads_visible_to

REFUSED = OpenApiResponse(RefusalSerializer, description="Refused; `detail` says why.")
NOT_YOURS = OpenApiResponse(description="No thread of yours has this id.")


class Refused(APIException):
    """A service's refusal, as the API answers it."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refused"


def _with_unread(threads: QuerySet[Thread], access: Access) -> QuerySet[Thread]:
    """Adds `unread`, counted for the reader as the inbox pages count it: as staff when they are
    staff, as the family otherwise; null for an account that is neither (a bare superuser)."""
    if access.staff_id:
        return selectors._with_unread(threads, staff_id=access.staff_id)
    if access.guardian_id:
        return selectors._with_unread(threads, guardian_id=access.guardian_id)
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
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Conversations between school staff and families."""

    permission_classes = [IsPortalUser]
    serializer_class = ThreadSerializer

    def handle_exception(self, exc):
        if isinstance(exc, services.MessagingError):
            exc = Refused(str(exc))
        return super().handle_exception(exc)

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
