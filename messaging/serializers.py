"""What the messaging API reads and writes: threads, their participants and messages;
announcements, as their senders, the school's admins and the families see them; templates.

Which threads and messages a reader gets is the permission module's and the selectors' answer
(`messaging.api`); these serializers shape a row, and parse what a request asks for. Ids in a
request are looked up among what the person may see, so someone else's id reads as "does not
exist". Whether a write is allowed is the services' answer: bodies and subjects are not checked
here, so that a refusal always carries the services' own reason.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging import services
from messaging.models import (
    MAX_BODY_CHARS,
    Broadcast,
    BroadcastRecipient,
    Delivery,
    Message,
    MessageTemplate,
    MessageTranslation,
    Participant,
    Thread,
)
from portal import permissions
from portal.models import Guardian, School, Section, Staff, Student


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


# ---- Announcements ----------------------------------------------------------------------------


class ChannelProgressSerializer(serializers.Serializer):
    """An announcement's deliveries over one channel, by how far they went."""

    pending = serializers.IntegerField(help_text="Queued, waiting for quiet hours, or sending.")
    sent = serializers.IntegerField(help_text="The provider took it.")
    delivered = serializers.IntegerField(help_text="The handset or inbox has it.")
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Not sent: the family stopped this channel.")


class ProgressSerializer(serializers.Serializer):
    """How far an announcement has gone (`messaging.broadcasts.Progress`)."""

    by_channel = serializers.DictField(
        child=ChannelProgressSerializer(),
        help_text="By channel (`sms`, `email`, `in_app`), only those it goes through.",
    )
    read = serializers.IntegerField(help_text="Families who opened it in the portal.")
    replied = serializers.IntegerField(help_text="Families who answered it.")
    pending_texts = serializers.IntegerField()
    minutes_left = serializers.IntegerField(
        help_text="At the current pace, until the last family is reached by text."
    )
    is_done = serializers.BooleanField(help_text="Nothing is pending on any channel.")


class BroadcastSerializer(serializers.ModelSerializer):
    """An announcement as its sender and the school's admins see it. Expects `sections`
    prefetched and `sender` selected."""

    sender_name = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = [
            "id",
            "school",
            "sender",
            "sender_name",
            "subject",
            "body",
            "audience",
            "sections",
            "grade",
            "is_urgent",
            "status",
            "scheduled_at",
            "sent_at",
            "created_at",
            "recipients_count",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "sections": {"help_text": "The classes, for `section` and `sections`; else empty."},
            "grade": {"help_text": "The grade, for `grade`; else empty."},
            "recipients_count": {"help_text": "Families it reaches, each once."},
        }

    def get_sender_name(self, broadcast: Broadcast) -> str:
        return str(broadcast.sender)


class BroadcastDetailSerializer(BroadcastSerializer):
    """An announcement with its progress. Expects `progress` on it (`broadcast_progress`)."""

    progress = ProgressSerializer(read_only=True)

    class Meta(BroadcastSerializer.Meta):
        fields = [*BroadcastSerializer.Meta.fields, "progress"]
        read_only_fields = fields


class AudienceAskedSerializer(serializers.Serializer):
    """Who an announcement is for. Only ids the sender may see are accepted; whether they may
    write to them is the services' answer (a 400 with the reason)."""

    school = serializers.PrimaryKeyRelatedField(
        queryset=School.objects.none(), help_text="A school where you work."
    )
    audience = serializers.ChoiceField(
        source="kind",
        choices=Broadcast.Audience.choices,
        help_text="`section`, `sections`: classes (teachers their own); `grade`, `school`: "
        "counselors and admins; `list`: families picked in `guardians`.",
    )
    sections = serializers.PrimaryKeyRelatedField(
        queryset=Section.objects.none(),
        many=True,
        required=False,
        help_text="For `section` (one) and `sections`.",
    )
    grade = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="For `grade`."
    )
    guardians = serializers.PrimaryKeyRelatedField(
        queryset=Guardian.objects.none(),
        many=True,
        required=False,
        help_text="For `list`: families of your classes (of your school, for counselors and "
        "admins).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _requesting_user(self)
        if user is None:
            return
        access = permissions.access_for(user)
        self.fields["school"].queryset = School.objects.filter(
            pk__in=list(access.roles), is_active=True
        )
        self.fields["sections"].child_relation.queryset = permissions.sections_visible_to(user)
        self.fields["guardians"].child_relation.queryset = permissions.guardians_visible_to(user)


class BroadcastCreateSerializer(AudienceAskedSerializer):
    subject = serializers.CharField(
        allow_blank=True, help_text="Up to 200 characters; longer is cut."
    )
    body = serializers.CharField(
        allow_blank=True, help_text=f"At most {MAX_BODY_CHARS} characters."
    )
    is_urgent = serializers.BooleanField(
        default=False, help_text="Sent even during quiet hours. School admins only."
    )
    scheduled_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When to send it (ISO 8601 with an offset); ahead of now. Leave it out to "
        "send at once.",
    )

    def validate_scheduled_at(self, scheduled_at):
        if scheduled_at is not None and scheduled_at <= timezone.now():
            raise serializers.ValidationError(
                _("Choose a time ahead, or leave it empty to send at once.")
            )
        return scheduled_at


class UnreachableSerializer(serializers.Serializer):
    guardian_id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["no-address", "texted-stop", "opted-out"],
        help_text="`no-address`: no number or email on file; `texted-stop`: the number stopped "
        "the school's texts (and no email); `opted-out`: the family chose no channel the school "
        "has for them.",
    )


class AudienceSerializer(serializers.Serializer):
    """Who an announcement would reach (`messaging.broadcasts.Audience`)."""

    audience = serializers.CharField(source="kind")
    reached = serializers.IntegerField(help_text="Families it reaches, each once.")
    by_language = serializers.DictField(
        child=serializers.IntegerField(), help_text="Families reached by language, most first."
    )
    by_channel = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Families reached by `sms` only, `email` only, or `both`.",
    )
    no_contact = serializers.IntegerField(
        help_text="Named by the audience but barred from every child in it: counted, not named."
    )
    unreachable = UnreachableSerializer(
        many=True, help_text="Families it names but no message can reach, and why."
    )
    unreachable_count = serializers.IntegerField()


class DeliveryStatusSerializer(serializers.ModelSerializer):
    # Plain strings: the thread API's `channel` enum keeps its name in the schema.
    channel = serializers.CharField(read_only=True, help_text="`sms`, `email` or `in_app`.")
    status = serializers.CharField(
        read_only=True,
        help_text="`queued`, `deferred` (quiet hours), `sending`, `sent`, `delivered`, "
        "`undelivered`, `failed` or `skipped`.",
    )
    error_reason = serializers.CharField(
        read_only=True, help_text="Why it failed or was skipped, for staff; empty otherwise."
    )

    class Meta:
        model = Delivery
        fields = ["channel", "status", "error_reason"]
        read_only_fields = fields


class BroadcastRecipientSerializer(serializers.ModelSerializer):
    """Who got an announcement and how, for the school's admins. Expects `guardian` and
    `student` selected and `deliveries` set (`delivery_statuses`)."""

    guardian_name = serializers.SerializerMethodField()
    student_name = serializers.SerializerMethodField(help_text="Empty for a family picked by hand.")
    language = serializers.CharField(source="guardian.preferred_language", read_only=True)
    deliveries = DeliveryStatusSerializer(many=True, read_only=True)

    class Meta:
        model = BroadcastRecipient
        fields = [
            "guardian",
            "guardian_name",
            "student",
            "student_name",
            "language",
            "deliveries",
            "read_at",
            "reply_thread",
        ]
        read_only_fields = fields
        extra_kwargs = {"reply_thread": {"help_text": "Their answer's thread; null if none."}}

    def get_guardian_name(self, recipient: BroadcastRecipient) -> str:
        return str(recipient.guardian)

    def get_student_name(self, recipient: BroadcastRecipient) -> str:
        return str(recipient.student) if recipient.student else ""


class AnnouncementSerializer(serializers.ModelSerializer):
    """An announcement a family received, with its text in their language when a translation
    exists. Expects the recipient row with `broadcast__school`, `broadcast__sender` selected and
    `announcement_messages` prefetched on its thread (`messaging.api.announcements_for`)."""

    id = serializers.IntegerField(source="broadcast_id", read_only=True)
    school = serializers.IntegerField(source="broadcast.school_id", read_only=True)
    school_name = serializers.CharField(source="broadcast.school.name", read_only=True)
    sender_name = serializers.SerializerMethodField()
    subject = serializers.CharField(source="broadcast.subject", read_only=True)
    body = serializers.CharField(
        source="broadcast.body", read_only=True, help_text="The original, as the sender wrote it."
    )
    language = serializers.SerializerMethodField(help_text="The language it was written in.")
    translation = serializers.SerializerMethodField(
        help_text="The announcement in your language, when it is written in another and a "
        "translation has been made; null otherwise (show `body`)."
    )
    is_urgent = serializers.BooleanField(source="broadcast.is_urgent", read_only=True)
    sent_at = serializers.DateTimeField(source="broadcast.sent_at", read_only=True)

    class Meta:
        model = BroadcastRecipient
        fields = [
            "id",
            "school",
            "school_name",
            "sender_name",
            "subject",
            "body",
            "language",
            "translation",
            "is_urgent",
            "sent_at",
            "read_at",
            "reply_thread",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "read_at": {"help_text": "When you first opened it; null until then."},
            "reply_thread": {
                "help_text": "Your conversation with the sender, once you answered; null before."
            },
        }

    def _message(self, recipient: BroadcastRecipient) -> Message | None:
        messages = recipient.broadcast.thread.announcement_messages
        return messages[0] if messages else None

    def get_sender_name(self, recipient: BroadcastRecipient) -> str:
        return str(recipient.broadcast.sender)

    def get_language(self, recipient: BroadcastRecipient) -> str:
        message = self._message(recipient)
        return message.language if message else ""

    @extend_schema_field(TranslationSerializer(allow_null=True))
    def get_translation(self, recipient: BroadcastRecipient) -> dict | None:
        message = self._message(recipient)
        translations = getattr(message, "reader_translations", [])
        return TranslationSerializer(translations[0]).data if translations else None


class AnnouncementReplySerializer(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True,
        help_text=f"At most {MAX_BODY_CHARS} characters. Only the sender reads it.",
    )


class TemplateTextSerializer(serializers.Serializer):
    subject = serializers.CharField()
    body = serializers.CharField()


class MessageTemplateSerializer(serializers.ModelSerializer):
    """A template as written (in the portal's default language), with the translations people
    made, by language."""

    subject = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    translations = serializers.SerializerMethodField(
        help_text="By language, only those someone translated; placeholders such as "
        "{student_first_name} are filled when a message is sent."
    )

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "school", "subject", "body", "translations"]
        read_only_fields = fields
        extra_kwargs = {"school": {"help_text": "Null for a template every school is offered."}}

    def _original(self, template: MessageTemplate) -> tuple[str, str]:
        return services.template_for(
            template=template, language=settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        ) or ("", "")

    def get_subject(self, template: MessageTemplate) -> str:
        return self._original(template)[0]

    def get_body(self, template: MessageTemplate) -> str:
        return self._original(template)[1]

    @extend_schema_field(serializers.DictField(child=TemplateTextSerializer()))
    def get_translations(self, template: MessageTemplate) -> dict:
        translated = {}
        for language in settings.MODELTRANSLATION_LANGUAGES:
            if language == settings.MODELTRANSLATION_DEFAULT_LANGUAGE:
                continue
            texts = services.template_for(template=template, language=language)
            if texts:
                translated[language] = {"subject": texts[0], "body": texts[1]}
        return translated
