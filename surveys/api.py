"""The survey API (under /api/v1/surveys/) for the staff who may read a survey's results: its
creator, the school's admins (a district admin's schools included) and superusers, as on the
pages (`selectors.surveys_for_staff`). A survey that is not the reader's answers 404; a family's
account answers 403. Surveys are built on the pages; `send/` and `close/` act on one through the
same services, a refusal being a 400 with the reason.

`results/` gives the figures of the results page, the anonymity rule included: an anonymous
survey shows no answer below five respondents, and no group of fewer than five families.
"""

from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from messaging.api import IsStaffMember
from surveys import results as selectors
from surveys.selectors import surveys_for_staff
from surveys.serializers import QuestionSerializer, SurveyResultsSerializer, SurveySerializer
from surveys.services import SurveyError, survey_close, survey_send

NOT_YOURS = OpenApiResponse(description="No survey you may read has this id.")


class SurveyViewSet(viewsets.ReadOnlyModelViewSet):
    """Surveys, for the staff who may read their results."""

    permission_classes = [IsStaffMember]
    serializer_class = SurveySerializer

    def get_queryset(self):
        return (
            surveys_for_staff(self.request.user)
            .annotate(
                invited=Count("invitations", distinct=True),
                started=Count(
                    "invitations",
                    filter=Q(invitations__status__in=["started", "completed"]),
                    distinct=True,
                ),
                completed=Count(
                    "invitations", filter=Q(invitations__status="completed"), distinct=True
                ),
            )
            .order_by("-created_at", "-pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "language": selectors.reader_language()}

    @extend_schema(
        summary="Surveys",
        description="Newest first: your own; a school admin's, every survey of their schools. "
        "Texts in your interface language (`Accept-Language`), with every translation.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A survey", responses={200: SurveySerializer, 404: NOT_YOURS})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="A survey's questions",
        description="In order, each with its choices in order, in your language and every "
        "translation.",
        responses={200: QuestionSerializer(many=True), 404: NOT_YOURS},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def questions(self, request, pk: str):
        questions = selectors.survey_questions(self.get_object())
        return Response(
            QuestionSerializer(questions, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="A survey's results",
        description="As the results page shows them: the response rate (first hour, first day, "
        "overall, and by day), each question's counts, and the breakdowns by language, grade "
        "and (named surveys) class. An anonymous survey shows no answer below five respondents "
        "(`is_hidden`) and no group of fewer than five families (`hidden`).",
        parameters=[
            OpenApiParameter(
                "by",
                OpenApiTypes.STR,
                enum=[*selectors.BREAKDOWNS],
                description="Only this breakdown (all by default).",
            )
        ],
        responses={
            200: SurveyResultsSerializer,
            400: OpenApiResponse(description="`by` names no breakdown this survey has."),
            404: NOT_YOURS,
        },
    )
    @action(detail=True, methods=["get"])
    def results(self, request, pk: str):
        survey = self.get_object()
        breakdowns = None
        if request.query_params.get("by"):
            breakdowns = (request.query_params["by"],)
            if breakdowns[0] not in selectors.breakdowns_for(survey):
                raise ValidationError({"by": "This survey has no such breakdown."})
        figures = selectors.survey_results(
            survey, selectors.survey_questions(survey), breakdowns=breakdowns
        )
        return Response(SurveyResultsSerializer(figures).data)

    @extend_schema(
        summary="Send a draft survey",
        description="Invites its audience (by SMS one question at a time, or by its link) "
        "through the delivery pipeline, as the page's Send button does.",
        request=None,
        responses={
            200: inline_serializer(
                "SurveySent",
                {
                    "by_sms": serializers.IntegerField(),
                    "on_web": serializers.IntegerField(),
                    "waiting": serializers.IntegerField(),
                    "unreachable": serializers.IntegerField(),
                },
            ),
            400: OpenApiResponse(description="Why it cannot be sent."),
            404: NOT_YOURS,
        },
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk: str):
        try:
            sent = survey_send(actor=request.user, survey=self.get_object())
        except SurveyError as error:
            raise ValidationError({"detail": str(error)}) from error
        return Response(
            {
                "by_sms": sent.by_sms,
                "on_web": sent.on_web,
                "waiting": sent.waiting,
                "unreachable": sent.unreachable,
            }
        )

    @extend_schema(
        summary="Close an open survey",
        request=None,
        responses={
            204: OpenApiResponse(description="Closed: it takes no more answers."),
            400: OpenApiResponse(description="Why it cannot be closed."),
            404: NOT_YOURS,
        },
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk: str):
        try:
            survey_close(actor=request.user, survey=self.get_object())
        except SurveyError as error:
            raise ValidationError({"detail": str(error)}) from error
        return Response(status=204)
