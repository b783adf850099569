"""What the messaging API reads and writes: threads, their participants and messages.

Which threads and messages a reader gets is the permission module's and the selectors' answer
(`messaging.api`); these serializers shape a row, and parse what a request asks for. Ids in a
request are looked up among what the person may see, so someone else's id reads as "does not
exist". Whether a write is allowed is the services' answer: bodies and subjects are not checked
here, so that a refusal always carries the services' own reason.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.models import MAX_BODY_CHARS, Message, MessageTranslation, Participant, Thread
from portal import permissions
from portal.models import Guardian, Staff, Student


class ParticipantSerializer(serializers.ModelSerializer):
    """A member of staff or a guardian in a thread (exactly one of `staff` and `guardian`)."""

    name = serializers.SerializerMethodField()

    class Meta:
        model = Participant
        fields = ["id", "staff", "guardian", "name", "joined_at"]
        read_only_fields = fields

    def get_name(self, participant: Participant) -> str:
        return str(participant.staff or participant.guardian)


class ThreadSerializer(serializers.ModelSerializer):
    unread = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Messages since you last read it, not yours (internal notes count for staff "
        "only); null when you take no part in it as staff or family (a superuser's account).",
    )
    waiting_since = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When a family wrote and no member of staff has answered since; null otherwise.",
    )
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta:
        model = Thread
        fields = [
            "id",
            "subject",
            "kind",
            "school",
            "student",
            "created_at",
            "last_message_at",
            "waiting_since",
            "is_archived",
            "unread",
            "participants",
        ]
        read_only_fields = fields


class TranslationSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTranslation
        fields = ["language", "text", "is_machine"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    """A message as written, with its translation into the reader's language when one exists.
    Expects `reader_translations` on the message (the selector's prefetch)."""

    author_name = serializers.SerializerMethodField(
        help_text="Empty for a message without an author."
    )
    body = serializers.CharField(read_only=True, help_text="The original, as its author wrote it.")
    language = serializers.CharField(
        read_only=True, help_text="The language it was written in (BCP 47)."
    )
    translation = serializers.SerializerMethodField(
        help_text="The message in your language, when it is written in another and a "
        "translation has been made; null otherwise (show `body`)."
    )
    event = serializers.CharField(
        read_only=True,
        help_text="`joined` for the notice that someone joined (their name is `body`); empty "
        "for a message someone wrote.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "author_staff",
            "author_guardian",
            "author_name",
            "body",
            "language",
            "translation",
            "channel",
            "is_internal",
            "event",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, message: Message) -> str:
        author = message.author_staff or message.author_guardian
        return str(author) if author else ""

    @extend_schema_field(TranslationSerializer(allow_null=True))
    def get_translation(self, message: Message) -> dict | None:
        translations = getattr(message, "reader_translations", [])
        return TranslationSerializer(translations[0]).data if translations else None


class RefusalSerializer(serializers.Serializer):
    """Why a write was refused, in the reader's language."""

    detail = serializers.CharField()


class ThreadFiltersSerializer(serializers.Serializer):
    """The query of the thread list."""

    waiting = serializers.BooleanField(
        required=False, help_text="Only threads a family wrote in and no one has answered yet."
    )
    student = serializers.IntegerField(required=False, help_text="Only threads about this student.")
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Words in the subject or in a message you may read.",
    )
    archived = serializers.BooleanField(
        required=False, help_text="Archived threads instead of open ones (staff)."
    )


def _requesting_user(serializer: serializers.Serializer):
    """The user of the request in the context; None when the schema is being drawn."""
    request = serializer.context.get("request")
    return request.user if request is not None else None


class ThreadStartSerializer(serializers.Serializer):
    """A new thread. Staff write to guardians; a family to the staff in their child's contact
    list, or, naming no one, to the school office. Staff naming staff, or a family naming
    guardians, are told those ids do not exist: nothing asked for is silently dropped."""

    subject = serializers.CharField(
        allow_blank=True, help_text="Up to 200 characters; longer is cut."
    )
    body = serializers.CharField(
        allow_blank=True, help_text=f"The first message: at most {MAX_BODY_CHARS} characters."
    )
    student = serializers.PrimaryKeyRelatedField(
        queryset=Student.objects.none(),
        help_text="The student it is about: one you may see (for a family, their child).",
    )
    guardians = serializers.PrimaryKeyRelatedField(
        queryset=Guardian.objects.none(),
        many=True,
        required=False,
        help_text="Staff: the guardians to write to (about a student, only those who may "
        "receive messages about them). Families leave it out.",
    )
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Staff.objects.none(),
        many=True,
        required=False,
        help_text="Families: people from their child's contact list; none writes to the school "
        "office. Staff leave it out and add colleagues through `participants/` afterwards.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _requesting_user(self)
        if user is None:
            return
        as_staff = bool(permissions.access_for(user).staff_id)  # as the pages and services decide
        guardians = permissions.guardians_visible_to(user)
        staff = permissions.staff_visible_to(user)
        self.fields["student"].queryset = permissions.students_visible_to(user)
        self.fields["guardians"].child_relation.queryset = (
            guardians if as_staff else guardians.none()
        )
        self.fields["staff"].child_relation.queryset = staff.none() if as_staff else staff


class MessagePostSerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True, help_text=f"At most {MAX_BODY_CHARS} characters."
    )
    is_internal = serializers.BooleanField(
        default=False, help_text="A note only staff see; staff only."
    )


class ParticipantAddSerializer(serializers.Serializer):
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Staff.objects.none(), help_text="A colleague from the thread's school."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _requesting_user(self)
        if user is not None:
            self.fields["staff"].queryset = permissions.staff_visible_to(user)
