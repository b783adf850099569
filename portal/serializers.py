"""What the API shows of people and schools: only what the viewer needs.

Which rows a viewer gets is the permission module's answer (the viewsets' querysets); these
serializers decide only which fields of a row they get. The viewer's `Access` is in the context.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import GuardianLink, School, Section, StaffMembership, Student
from portal.permissions import Access


class SchoolRolesSerializer(serializers.Serializer):
    school = serializers.IntegerField(help_text="A school id.")
    roles = serializers.ListField(child=serializers.ChoiceField(StaffMembership.Role.choices))


class MeSerializer(serializers.Serializer):
    """Who the signed-in user is (built from a `portal.api.Me`)."""

    id = serializers.IntegerField(help_text="The account id.")
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        ["guardian", "staff"],
        help_text="`staff` for anyone with a role at a school or district (or a superuser), "
        "even when they are also a guardian; `guardian` otherwise.",
    )
    is_superuser = serializers.BooleanField()
    guardian_id = serializers.IntegerField(allow_null=True)
    staff_id = serializers.IntegerField(allow_null=True)
    preferred_language = serializers.CharField(
        allow_null=True, help_text="A guardian's home language (BCP 47); null for staff only."
    )
    roles = SchoolRolesSerializer(
        many=True,
        help_text="Roles per school, a district admin's included (admin at every school of it).",
    )
    district_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Districts they administer."
    )


class SchoolSerializer(serializers.ModelSerializer):
    sms_number = serializers.CharField(help_text="The number families text (E.164).")
    office_phone = serializers.CharField(help_text="E.164.")

    class Meta:
        model = School
        fields = [
            "id",
            "name",
            "district",
            "timezone",
            "default_language",
            "sms_number",
            "office_phone",
            "office_email",
            "office_opens_at",
            "office_closes_at",
        ]
        read_only_fields = fields


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ["id", "name", "school", "grade", "period", "term"]
        read_only_fields = fields


class StudentSerializer(serializers.ModelSerializer):
    sections = serializers.SerializerMethodField(
        help_text="Ids of the sections the student attends that you may see."
    )

    class Meta:
        model = Student
        fields = ["id", "given_name", "family_name", "grade", "school", "sections"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_sections(self, student: Student) -> list[int]:
        return [enrollment.section_id for enrollment in student.visible_enrollments]


class GuardianLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = GuardianLink
        fields = ["student", "relationship", "is_primary_contact", "may_receive_messages"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.BOOL)
class NoContactField(serializers.Field):
    """Whether any of the given links forbids messages."""

    def to_representation(self, links) -> bool:
        return any(not link.may_receive_messages for link in links)


class GuardianSerializer(serializers.Serializer):
    """A guardian. Phone and email go to staff and to the guardian themselves only; contact
    restrictions and the no-contact flag to staff only."""

    STAFF_ONLY = ("contact_restrictions", "is_no_contact")
    CONTACT = ("phone", "email")

    id = serializers.IntegerField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    preferred_language = serializers.CharField(help_text="Home language (BCP 47).")
    reachable_channels = serializers.ListField(
        child=serializers.ChoiceField(["sms", "email"]),
        help_text="Channels a message reaches them by: wanted, with an address on file.",
    )
    phone = serializers.CharField(
        required=False, help_text="E.164. Only to staff, and to a guardian about themselves."
    )
    email = serializers.CharField(
        required=False, help_text="Only to staff, and to a guardian about themselves."
    )
    contact_restrictions = serializers.CharField(
        required=False, help_text="What staff must know before contacting them. Staff only."
    )
    is_no_contact = NoContactField(
        source="visible_links",
        required=False,
        help_text="True when a link to a student you see says they may not receive messages "
        "about that student (a court order, a no-contact instruction). Staff only.",
    )
    students = GuardianLinkSerializer(
        source="visible_links",
        many=True,
        help_text="Their links to the students you may see.",
    )

    def to_representation(self, guardian):
        data = super().to_representation(guardian)
        access: Access = self.context["access"]
        if not access.is_staff_member:
            for name in self.STAFF_ONLY:
                del data[name]
            if guardian.pk != access.guardian_id:
                for name in self.CONTACT:
                    del data[name]
        return data
