"""The engagement report as JSON (/api/v1/reports/engagement/), for districts that build their own
dashboards: the same figures as the report page, for the same people (`reports.report_scope`:
admins their schools or district, teachers their own figures, counselors their services' help
requests; anyone else 404), with every slice of every breakdown at once."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import reports
from portal.api_permissions import IsPortalUser
from portal.report_forms import FormNotValid, report_request

# The order slices come in: all families, then each dimension.
DIMENSION_ORDER = ("all", *reports.DIMENSIONS, "survey", "service")


def _row_serializer(name: str, columns: tuple[str, ...], doc: str) -> type[serializers.Serializer]:
    fields: dict[str, serializers.Field] = {
        "dimension": serializers.CharField(
            help_text="`all` (every family of the report), `school`, `grade`, `section`, "
            "`language`, `channel`, `teacher`, `survey` or `service`."
        ),
        "key": serializers.CharField(
            help_text="The slice: an id (school, section, teacher, survey, service), a grade, a "
            "language code or a channel (`sms`, `email`, `portal`); empty for `all`."
        ),
        "label": serializers.CharField(help_text="The slice's name, in the reader's language."),
    }
    for column in columns:
        fields[column] = (
            serializers.FloatField(allow_null=True, help_text="Seconds; null when none.")
            if column.endswith("_seconds")
            else serializers.IntegerField(allow_null=True)
        )
    return type(name, (serializers.Serializer,), {"__doc__": doc, **fields})


ReachRowSerializer = _row_serializer(
    "ReportReachRow",
    reports.REACH_COLUMNS,
    "Families, their working channels, whether they were reached in the period, and the "
    "worklist with its reasons. Channel rows carry only their channel's columns.",
)
EngagementRowSerializer = _row_serializer(
    "ReportEngagementRow",
    reports.ENGAGEMENT_COLUMNS,
    "Families who wrote, messages from families, messages to families (once per family).",
)
AnswerRowSerializer = _row_serializer(
    "ReportAnswerRow",
    reports.ANSWER_COLUMNS,
    "Waits begun in the period and the time to the first staff answer.",
)
WaitingRowSerializer = _row_serializer(
    "ReportWaitingRow",
    reports.WAITING_COLUMNS,
    "Threads where a family waits now, and those past the school's target (school hours).",
)
DeliveryRowSerializer = _row_serializer(
    "ReportDeliveryRow",
    reports.DELIVERY_COLUMNS,
    "Deliveries written in the period by status, and SMS segments handed to the provider.",
)
ConsentRowSerializer = _row_serializer(
    "ReportConsentRow", reports.CONSENT_COLUMNS, "STOP and START in the period."
)
SurveyRowSerializer = _row_serializer(
    "ReportSurveyRow",
    reports.SURVEY_COLUMNS,
    "Invitations sent in the period, completed within a day of the invitation, completed.",
)
SupportRowSerializer = _row_serializer(
    "ReportSupportRow",
    reports.SUPPORT_COLUMNS,
    "Help requests opened in the period by service: counts and times only.",
)


class DeliveryErrorSerializer(serializers.Serializer):
    channel = serializers.CharField()
    status = serializers.CharField(help_text="`failed`, `undelivered` or `skipped`.")
    error_code = serializers.CharField()
    reason = serializers.CharField()
    deliveries = serializers.IntegerField()


class ConsentWeekSerializer(serializers.Serializer):
    week_of = serializers.DateField(help_text="The Monday.")
    opt_outs = serializers.IntegerField()
    opt_ins = serializers.IntegerField()


class LanguageGapSerializer(serializers.Serializer):
    language = serializers.CharField()
    families = serializers.IntegerField()
    works_share = serializers.FloatField(allow_null=True, help_text="0 to 1.")
    reached_share = serializers.FloatField(allow_null=True)
    wrote_share = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)
    reached_gap = serializers.FloatField(
        allow_null=True, help_text="Reached share minus English-speaking families'."
    )
    median_gap_seconds = serializers.FloatField(
        allow_null=True, help_text="Median wait minus English-speaking families'."
    )


class ReportScopeSerializer(serializers.Serializer):
    school_ids = serializers.ListField(child=serializers.IntegerField())
    district_id = serializers.IntegerField(allow_null=True)
    teacher_id = serializers.IntegerField(
        allow_null=True, help_text="Set for one teacher's own figures."
    )
    counselor_id = serializers.IntegerField(
        allow_null=True, help_text="Set when help requests are one counselor's services'."
    )


class ReportPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")
    time_zone = serializers.CharField()


class ReportFiltersSerializer(serializers.Serializer):
    grade = serializers.CharField()
    section = serializers.IntegerField(allow_null=True)
    language = serializers.CharField()
    channel = serializers.CharField()
    no_contact_weeks = serializers.IntegerField()


class EngagementReportSerializer(serializers.Serializer):
    """The engagement report. A section the reader may not see (counselors see help requests
    only; teachers and admins everything but, for teachers, help requests) is an empty list."""

    scope = ReportScopeSerializer()
    period = ReportPeriodSerializer()
    filters = ReportFiltersSerializer()
    generated_at = serializers.DateTimeField()
    reach = ReachRowSerializer(many=True)
    engagement = EngagementRowSerializer(many=True)
    answer_times = AnswerRowSerializer(many=True)
    waiting = WaitingRowSerializer(many=True)
    deliveries = DeliveryRowSerializer(many=True)
    delivery_errors = DeliveryErrorSerializer(many=True)
    consent = ConsentRowSerializer(many=True)
    consent_weeks = ConsentWeekSerializer(many=True)
    languages = LanguageGapSerializer(many=True)
    surveys = SurveyRowSerializer(many=True)
    supports = SupportRowSerializer(many=True)


def _rows(report: reports.EngagementReport, breakdown: reports.Breakdown | None) -> list[dict]:
    if breakdown is None:
        return []
    order = {dimension: number for number, dimension in enumerate(DIMENSION_ORDER)}
    keys = sorted(breakdown.rows, key=lambda pair: (order.get(pair[0], 99), pair[1]))
    return [
        {
            "dimension": dimension,
            "key": key,
            "label": report.label(dimension, key),
            **breakdown.rows[(dimension, key)],
        }
        for dimension, key in keys
    ]


def report_json(report: reports.EngagementReport) -> dict:
    scope, period, filters = report.scope, report.period, report.filters
    return {
        "scope": {
            "school_ids": list(scope.school_ids),
            "district_id": scope.district_id,
            "teacher_id": scope.teacher_id,
            "counselor_id": scope.counselor_id,
        },
        "period": {"start": period.starts_on, "end": period.ends_on, "time_zone": period.time_zone},
        "filters": {
            "grade": filters.grade,
            "section": filters.section_id,
            "language": filters.language,
            "channel": filters.channel,
            "no_contact_weeks": filters.no_contact_weeks,
        },
        "generated_at": report.generated_at,
        "reach": _rows(report, report.reach),
        "engagement": _rows(report, report.engagement),
        "answer_times": _rows(report, report.answers),
        "waiting": _rows(report, report.waiting),
        "deliveries": _rows(report, report.deliveries),
        "delivery_errors": [vars(error) for error in report.delivery_errors],
        "consent": _rows(report, report.consent),
        "consent_weeks": [vars(week) for week in report.consent_weeks],
        "languages": [vars(gap) for gap in reports.language_gaps(report)],
        "surveys": _rows(report, report.surveys),
        "supports": _rows(report, report.supports),
    }


PARAMETERS = [
    OpenApiParameter(
        "scope",
        str,
        description="`school:<id>` or `district:<id>`; by default the first school you report on.",
    ),
    OpenApiParameter("teacher", int, description="Admins: one teacher's own figures."),
    OpenApiParameter("start", str, description="First day, YYYY-MM-DD (default: 30 days ago)."),
    OpenApiParameter("end", str, description="Last day, included, YYYY-MM-DD (default: today)."),
    OpenApiParameter("grade", str, description="Families with a child in this grade (`-`: none)."),
    OpenApiParameter("section", int, description="Families with a child in this section."),
    OpenApiParameter("language", str, description="Families with this home language."),
    OpenApiParameter("channel", str, enum=list(reports.CHANNELS), description="One channel."),
    OpenApiParameter("weeks", int, description="Worklist: no message from the family for N weeks."),
]


class EngagementReportView(APIView):
    """The engagement report's figures for a period, every slice at once."""

    permission_classes = [IsPortalUser]

    @extend_schema(
        parameters=PARAMETERS,
        responses={
            200: EngagementReportSerializer,
            400: OpenApiResponse(description="A parameter could not be read; each is named."),
            404: OpenApiResponse(description="Not a report you may see."),
        },
        operation_id="reports_engagement_retrieve",
    )
    def get(self, request):
        try:
            asked = report_request(request)
        except FormNotValid as error:
            raise ValidationError(error.form.errors) from None
        report = reports.engagement_report(asked.scope, asked.period, asked.filters)
        return Response(EngagementReportSerializer(report_json(report)).data)
