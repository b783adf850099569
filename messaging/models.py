"""Threads between school staff and families, their messages, and each message's translations.

A message keeps its original text forever; what a reader sees in another language is a
MessageTranslation, made once per message and language, marked machine or human.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Guardian, School, Staff, Student, language_field

MAX_BODY_CHARS = 1600  # ten SMS segments; longer belongs in a letter home


class Thread(models.Model):
    """A conversation at one school, about one student or none.

    open -> archived (deleting a thread archives it; nothing is ever lost)
    """

    class Kind(models.TextChoices):
        DIRECT = "direct", _("Conversation")
        BROADCAST = "broadcast", _("Announcement")
        HELP_REQUEST = "help_request", _("Help request")
        OFFICE = "office", _("School office")
        SURVEY = "survey", _("Survey")  # a survey's texts to families; nobody's inbox

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="threads")
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, null=True, blank=True, related_name="threads"
    )
    subject = models.CharField(_("subject"), max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DIRECT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(  # a family wrote and no staff member has answered
        null=True, blank=True
    )
    is_archived = models.BooleanField(default=False)
    owner = models.ForeignKey(  # the staff member who answers; nudged when a family waits
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_threads"
    )
    nudged_at = models.DateTimeField(null=True, blank=True)  # owner told: past the target
    escalated_at = models.DateTimeField(null=True, blank=True)  # the school's backup joined

    class Meta:
        ordering = ["-last_message_at"]
        indexes = [
            models.Index(fields=["school", "-last_message_at"]),
            models.Index(
                fields=["waiting_since"],
                condition=Q(waiting_since__isnull=False),
                name="thread_waiting_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["direct", "broadcast", "help_request", "office", "survey"]),
                name="thread_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Participant(models.Model):
    """A staff member or a guardian in a thread, with how far they have read."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participants")
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, null=True, blank=True, related_name="participations"
    )
    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, null=True, blank=True, related_name="participations"
    )
    last_read_at = models.DateTimeField(null=True, blank=True)
    is_muted = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(staff__isnull=True, guardian__isnull=False)
                | Q(staff__isnull=False, guardian__isnull=True),
                name="participant_is_staff_or_guardian",
            ),
            models.UniqueConstraint(
                fields=["thread", "staff"],
                condition=Q(staff__isnull=False),
                name="participant_staff_once",
            ),
            models.UniqueConstraint(
                fields=["thread", "guardian"],
                condition=Q(guardian__isnull=False),
                name="participant_guardian_once",
            ),
        ]

    def __str__(self) -> str:
        return str(self.staff or self.guardian)


class Message(models.Model):
    """One message as its author wrote it. A system message (`event`) has no author: its words
    are the interface's, shown in each reader's language."""

    class Channel(models.TextChoices):
        WEB = "web", _("Portal")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class Event(models.TextChoices):
        NONE = "", ""
        JOINED = "joined", _("joined the conversation")
        ACKNOWLEDGED = "acknowledged", _("the school will answer when the office opens")
        CHECK_IN = "check_in", _("weekly check-in")
        TRANSLATION_FLAGGED = "translation_flagged", _("a translation was found confusing")
        OVERDUE = "overdue", _("a family has waited past the school's answer target")
        HELP_REQUESTED = "help_requested", _("the request for help arrived")
        # A survey's texts, one message each (body: the question's id for a question or hint)
        SURVEY_INVITATION = "survey_invitation", _("survey invitation")
        SURVEY_QUESTION = "survey_question", _("survey question")
        SURVEY_HINT = "survey_hint", _("survey question asked again")
        SURVEY_THANKS = "survey_thanks", _("survey thank-you")
        SURVEY_REMINDER = "survey_reminder", _("survey reminder")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author_staff = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    author_guardian = models.ForeignKey(
        Guardian, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    body = models.TextField()  # the original, never changed
    language = language_field()  # the language it was written in
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    is_internal = models.BooleanField(default=False)  # a note for staff only
    event = models.CharField(max_length=32, choices=Event.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(author_staff__isnull=False, author_guardian__isnull=False),
                name="message_one_author",
            ),
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(author_guardian__isnull=True),
                name="message_internal_only_from_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in thread {self.thread_id}"

    @property
    def is_from_family(self) -> bool:
        return self.author_guardian_id is not None


class MessageTranslation(models.Model):
    """A message in one other language: made once per message and language, whoever reads it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="translations")
    language = language_field()
    text = models.TextField()
    provider = models.CharField(max_length=32)  # libretranslate, deepl, or "person"
    is_machine = models.BooleanField(default=True)
    is_reviewed = models.BooleanField(default=False)
    flagged_at = models.DateTimeField(  # a reader found it confusing: a bilingual colleague looks
        null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "language"], name="message_translation_once"
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} in {self.language}"


class Broadcast(models.Model):
    """An announcement from one staff member to many families of one school.

        draft -> scheduled (scheduled_at ahead; the beat task sends it when due) -> sent
          `---------------------------------------------------------------------> sent (now)

    Who it reaches is fixed when it is written (BroadcastRecipient rows); sending writes its
    broadcast Thread with one Message, which is what the delivery pipeline carries to each family
    in their language. A family's answer opens a direct thread with the sender, never a reply-all.
    """

    class Audience(models.TextChoices):
        SECTION = "section", _("A class")
        SECTIONS = "sections", _("Several classes")
        GRADE = "grade", _("A grade")
        SCHOOL = "school", _("The whole school")
        LIST = "list", _("Families I choose")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="broadcasts")
    sender = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="broadcasts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))  # the original; translations live on the message
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    sections = models.ManyToManyField(  # for a class or several classes
        "portal.Section", blank=True, related_name="broadcasts"
    )
    grade = models.CharField(_("grade"), max_length=32, blank=True)  # for a grade, as on students
    guardians = models.ManyToManyField(  # the families picked by hand, for a list
        Guardian, blank=True, related_name="+"
    )
    is_urgent = models.BooleanField(_("urgent"), default=False)  # admins only; ignores quiet hours
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)  # None: at once
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    thread = models.OneToOneField(  # written when it is sent: the families' copy of the text
        Thread, on_delete=models.PROTECT, null=True, blank=True, related_name="broadcast"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)  # families it reaches

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        indexes = [
            models.Index(fields=["sender", "created_at"]),  # the daily limit
            models.Index(fields=["school", "-created_at"]),
            models.Index(
                fields=["scheduled_at"],
                condition=Q(status="scheduled"),
                name="broadcast_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience__in=["section", "sections", "grade", "school", "list"]),
                name="broadcast_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "scheduled", "sent"]),
                name="broadcast_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(audience="grade") | ~Q(grade=""), name="broadcast_grade_named"
            ),
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(
                    models.functions.Length("body"), MAX_BODY_CHARS
                )
                & models.lookups.GreaterThan(models.functions.Length("body"), 0),
                name="broadcast_body_length",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(scheduled_at__isnull=False),
                name="broadcast_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False, thread__isnull=False)
                | Q(~Q(status="sent"), sent_at__isnull=True, thread__isnull=True),
                name="broadcast_sent_has_thread",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class BroadcastRecipient(models.Model):
    """One family an announcement reaches, fixed when it is written: who got what, for admins,
    and the list the delivery pipeline reads."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, related_name="broadcasts_received"
    )
    student = models.ForeignKey(  # the child that put them in the audience; none for a list
        Student, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply_thread = models.OneToOneField(  # their answer: a direct thread with the sender
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)  # first opened in the portal

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "guardian"], name="broadcast_recipient_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} in broadcast {self.broadcast_id}"


class MessageTemplate(models.Model):
    """A reusable message (absence notice, conference reminder, field trip, early dismissal...)
    whose subject and body people translate, language by language (django-modeltranslation adds a
    `body_<language>` column for each). Where a family's language has a human translation it is
    sent instead of a machine one. Placeholders such as {student_first_name} are filled per
    family; see `messaging.services.PLACEHOLDERS`."""

    school = models.ForeignKey(  # empty: offered at every school of the portal
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="message_templates"
    )
    name = models.CharField(_("name"), max_length=100)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), max_length=MAX_BODY_CHARS)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.name


class CheckIn(models.Model):
    """A recurring check-in on a thread: on its weekday, until its last date, the thread gets a
    short prompt ("How did this week go at home?") that the family reads in its language and
    staff see as new in their inbox, so an agreed plan keeps being followed.

        active (runs each week on `weekday`) -> ended (after `ends_on`, or stopped)
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="check_ins")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    ends_on = models.DateField(_("until"))
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, related_name="check_ins"
    )
    last_run_on = models.DateField(null=True, blank=True)  # school-local date of the last prompt
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=4), name="check_in_on_a_school_day"
            ),
        ]

    def __str__(self) -> str:
        return f"check-in on thread {self.thread_id}"


class Delivery(models.Model):
    """One message to one family over one channel, written with the message (a transactional
    outbox) and carried by a worker.

        queued -> sending -> sent -> delivered
          ^  |       |          `--> undelivered | failed   (the provider's status callback)
          |  |       `--> failed (permanent error)  `--> queued (transient error: next_attempt_at)
          |  `--> deferred (quiet hours) -> queued at next_attempt_at
          `--> skipped (opted out, announcements muted, no address, no longer may receive)

    Status only moves forward (RANK): a late `sent` callback never overwrites `delivered`.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        IN_APP = "in_app", _("Portal")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DEFERRED = "deferred", _("Waiting for quiet hours to end")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Not delivered")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    # How far along a status is; a status never gives way to one of lower or equal rank.
    RANK = {
        "queued": 0,
        "deferred": 0,
        "sending": 1,
        "sent": 2,
        "delivered": 3,
        "undelivered": 3,
        "failed": 3,
        "skipped": 3,
    }
    PENDING = ("queued", "deferred", "sending")  # not settled yet
    DONE = ("sent", "delivered", "undelivered", "failed", "skipped")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True)  # the number or email used
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    is_urgent = models.BooleanField(default=False)  # goes through quiet hours, on its own queue
    attempts = models.PositiveSmallIntegerField(default=0)  # hand-overs to the provider
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # not before (retry, quiet)
    enqueued_at = models.DateTimeField(null=True, blank=True)  # last handed to the broker
    claimed_at = models.DateTimeField(null=True, blank=True)  # a worker began sending it
    provider_id = models.CharField(max_length=64, blank=True)  # Twilio's MessageSid
    segments = models.PositiveSmallIntegerField(null=True, blank=True)  # SMS parts billed
    encoding = models.CharField(max_length=8, blank=True)  # GSM-7 or UCS-2
    error_code = models.CharField(max_length=32, blank=True)  # the provider's, or the portal's
    error_reason = models.CharField(max_length=255, blank=True)  # readable, for staff
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # the provider took it
    delivered_at = models.DateTimeField(null=True, blank=True)  # the handset or inbox has it
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "deferred", "sending"]),
                name="delivery_pending_idx",
            ),
            models.Index(fields=["provider_id"], condition=~Q(provider_id=""), name="delivery_sid"),
            models.Index(fields=["address", "-created_at"], name="delivery_address_idx"),
            models.Index(fields=["guardian", "-created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "guardian", "channel"], name="delivery_once_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email", "in_app"]), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "queued",
                        "deferred",
                        "sending",
                        "sent",
                        "delivered",
                        "undelivered",
                        "failed",
                        "skipped",
                    ]
                ),
                name="delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="deferred") | Q(next_attempt_at__isnull=False),
                name="delivery_deferred_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of message {self.message_id} by {self.channel}"


class SmsConsent(models.Model):
    """Whether a phone number takes texts from a school. STOP (or Twilio's 21610) ends every
    text, START brings them back; NEWS OFF mutes announcements while conversations with staff
    and urgent alerts keep coming. Each change is kept in ConsentChange."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="sms_consents")
    phone = models.CharField(max_length=16)  # E.164
    is_opted_out = models.BooleanField(default=False)
    announcements_muted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SMS consent")
        verbose_name_plural = _("SMS consent")
        constraints = [
            models.UniqueConstraint(fields=["school", "phone"], name="sms_consent_once"),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk} at school {self.school_id}"


class ConsentChange(models.Model):
    """One change of a number's consent: what, how it came, when."""

    class Action(models.TextChoices):
        OPT_OUT = "opt_out", _("Stopped all texts")
        OPT_IN = "opt_in", _("Started texts again")
        MUTE_ANNOUNCEMENTS = "mute_announcements", _("Muted announcements")
        UNMUTE_ANNOUNCEMENTS = "unmute_announcements", _("Unmuted announcements")

    class Source(models.TextChoices):
        SMS_KEYWORD = "sms_keyword", _("Text from the family")
        PROVIDER = "provider", _("Reported by the SMS provider")
        STAFF = "staff", _("Staff")

    consent = models.ForeignKey(SmsConsent, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=32, choices=Action.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    keyword = models.CharField(max_length=32, blank=True)  # the word texted, or the error code
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.source}"


class InboundSms(models.Model):
    """A text that came in from Twilio, stored as it came before anything is done with it
    (idempotent on Twilio's MessageSid, which Twilio repeats when it retries).

        received -> routed (a keyword, a survey answer, a thread) | unmatched (shown to admins)
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ROUTED = "routed", _("Routed")
        UNMATCHED = "unmatched", _("Sender unknown")

    class Route(models.TextChoices):
        NONE = "", ""
        KEYWORD = "keyword", _("Keyword")
        SURVEY = "survey", _("Survey answer")
        DIRECTORY = "directory", _("Support services")
        THREAD = "thread", _("Conversation")
        OFFICE = "office", _("School office")

    message_sid = models.CharField(max_length=64, unique=True)
    from_phone = models.CharField(max_length=32)  # as Twilio gave it
    to_phone = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_sms"
    )
    guardian = models.ForeignKey(  # who wrote it, when the number tells
        Guardian, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_sms"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    route = models.CharField(max_length=16, choices=Route.choices, blank=True)
    message = models.ForeignKey(  # what it became in a thread
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    routed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("incoming text")
        verbose_name_plural = _("incoming texts")
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"incoming text {self.pk}"
