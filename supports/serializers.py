"""What the support API reads and writes: categories and services in the reader's language, and
help requests as their family and the service's counselors see them.

Which rows a reader gets is `supports.api`'s answer; these serializers shape a row and parse what
a request asks for. Texts families read come in the reader's language (the serializer context's
`language`), and in the portal's default language where nobody wrote one, saying which is which.
Whether a family may ask a service for help is the services' answer (`help_request_open`).
"""

from django.conf import settings
from modeltranslation.utils import build_localized_fieldname
from rest_framework import serializers

from messaging.models import MAX_BODY_CHARS
from portal import permissions
from portal.models import Student
from supports.models import HelpRequest, SupportCategory, SupportService


def text_in(row, field: str, language: str) -> tuple[str, bool]:
    """A translated text of `row` in `language`, else in the default language; and whether it
    is the default language's text standing in for a missing one."""
    text = getattr(row, build_localized_fieldname(field, language), None)
    if text:
        return text, False
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    text = getattr(row, build_localized_fieldname(field, default), None) or ""
    return text, bool(text) and language != default


class InReaderLanguage(serializers.CharField):
    """A text families read, in the reader's language where one was written or accepted, else
    in the default language. Reads the row itself (source `*`), or the row's `source` relation."""

    def __init__(self, *, text: str | None = None, relation: str = "*", **kwargs):
        self.text = text
        kwargs.setdefault(
            "help_text", "In your language where there is a text in it, else in English."
        )
        super().__init__(source=relation, read_only=True, **kwargs)

    def to_representation(self, row) -> str:
        return text_in(row, self.text or self.field_name, self.context["language"])[0]


class SupportCategorySerializer(serializers.ModelSerializer):
    name = InReaderLanguage()
    description = InReaderLanguage()
    keywords = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Words a family may text to get this category's services, e.g. FOOD.",
    )
    position = serializers.IntegerField(
        read_only=True, help_text="Its number in the SMS menu of categories."
    )

    class Meta:
        model = SupportCategory
        fields = ["id", "name", "description", "keywords", "position"]
        read_only_fields = fields


class SupportServiceSerializer(serializers.ModelSerializer):
    """A service, its family texts in the reader's language (`language`): where a text is missing
    in it the default language's stands in (`untranslated` names those fields), and
    `machine_translated` names the fields a machine translated and a counselor accepted."""

    category_name = InReaderLanguage(text="name", relation="category")
    title = InReaderLanguage()
    summary = InReaderLanguage()
    description = InReaderLanguage()
    audience = InReaderLanguage()
    how_to_get = InReaderLanguage()
    cost = InReaderLanguage()
    hours = InReaderLanguage()
    confidentiality_note = InReaderLanguage()
    language = serializers.SerializerMethodField(
        help_text="The language the texts are shown in: yours (a family's home language, staff's "
        "interface language)."
    )
    untranslated = serializers.SerializerMethodField(
        help_text="Fields with no text in your language, shown in English instead."
    )
    machine_translated = serializers.SerializerMethodField(
        help_text="Fields shown in your language that a machine translated."
    )
    languages = serializers.SerializerMethodField(
        help_text="Codes of the languages the service itself is offered in."
    )
    # Plain strings: the other APIs' `status` enums keep their names in the schema.
    status = serializers.CharField(
        read_only=True, help_text="`published`; staff also see `draft` services they keep."
    )

    class Meta:
        model = SupportService
        fields = [
            "id",
            "category",
            "category_name",
            "school",
            "district",
            "language",
            *SupportService.TRANSLATED_FIELDS,
            "untranslated",
            "machine_translated",
            "languages",
            "contact_name",
            "phone",
            "email",
            "address",
            "map_url",
            "status",
            "starts_on",
            "ends_on",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "school": {"help_text": "Null for a service every school of the district shows."},
            "district": {"help_text": "Set for a district-wide service; null otherwise."},
            "phone": {"help_text": "E.164, e.g. +16175550123; empty if none."},
            "map_url": {"help_text": "A link to a map; empty where only the address is known."},
        }

    def get_language(self, service: SupportService) -> str:
        return self.context["language"]

    def get_untranslated(self, service: SupportService) -> list[str]:
        language = self.context["language"]
        return [
            field
            for field in SupportService.TRANSLATED_FIELDS
            if text_in(service, field, language)[1]
        ]

    def get_machine_translated(self, service: SupportService) -> list[str]:
        language = self.context["language"]
        machine = set((service.machine_translated or {}).get(language, []))
        return [
            field
            for field in SupportService.TRANSLATED_FIELDS
            if field in machine and getattr(service, build_localized_fieldname(field, language))
        ]

    def get_languages(self, service: SupportService) -> list[str]:
        return service.languages.split()


class HelpRequestSerializer(serializers.ModelSerializer):
    """A help request as its family and the service's counselors see it. Expects `service`,
    `guardian` and `assigned_to` selected."""

    service_title = InReaderLanguage(text="title", relation="service")
    guardian_name = serializers.SerializerMethodField()
    assigned_to_name = serializers.SerializerMethodField(help_text="Empty until someone takes it.")
    status = serializers.CharField(
        read_only=True,
        help_text="`new`, `assigned` (a counselor took it) or `closed` (with an `outcome`).",
    )
    outcome = serializers.CharField(
        read_only=True,
        help_text="How a closed request ended: `helped`, `referred`, `not_eligible`, "
        "`no_response` or `withdrawn`; empty while it is open.",
    )

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "service",
            "service_title",
            "guardian",
            "guardian_name",
            "student",
            "status",
            "outcome",
            "assigned_to",
            "assigned_to_name",
            "thread",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "thread": {
                "help_text": "The confidential conversation between the family and the service's "
                "counselors (`/threads/{id}/messages/`)."
            },
            "student": {"help_text": "The child it is about; null if the family named none."},
        }

    def get_guardian_name(self, help_request: HelpRequest) -> str:
        return str(help_request.guardian)

    def get_assigned_to_name(self, help_request: HelpRequest) -> str:
        return str(help_request.assigned_to) if help_request.assigned_to else ""


class HelpRequestOpenSerializer(serializers.Serializer):
    """A family asks a service for help. Only services and children the family may see are
    found; whether it may ask is the services' answer (a 400 with the reason)."""

    service = serializers.PrimaryKeyRelatedField(
        queryset=SupportService.objects.none(), help_text="A service offered to your family."
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=f"What you need, in your words: at most {MAX_BODY_CHARS} characters. Only the "
        "service's counselors read it.",
    )
    student = serializers.PrimaryKeyRelatedField(
        queryset=Student.objects.none(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The child it is about, if any.",
    )

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema is being drawn
            return
        self.fields["service"].queryset = services
        self.fields["student"].queryset = permissions.students_visible_to(request.user)
