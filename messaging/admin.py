from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from messaging.models import ConsentChange, Delivery, InboundSms, MessageTemplate, SmsConsent
from portal import permissions


@admin.register(MessageTemplate)
class MessageTemplateAdmin(TranslationAdmin):
    """Templates with one tab per language, where bilingual staff write the human translations
    families receive instead of machine ones. A school admin keeps their school's templates and
    reads the ones every school shares."""

    list_display = ("name", "school", "is_active")
    list_filter = ("school", "is_active")
    search_fields = ("name", "subject")

    def _admin_schools(self, request) -> list[int]:
        return permissions.access_for(request.user).schools_with("admin")

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(school__in=self._admin_schools(request)) | rows.filter(
            school__isnull=True
        )

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(self._admin_schools(request))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        schools = self._admin_schools(request)
        return bool(schools) and (obj is None or obj.school_id in schools)

    has_delete_permission = has_change_permission

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "school" and not request.user.is_superuser:
            kwargs["queryset"] = permissions.schools_visible_to(request.user).filter(
                pk__in=self._admin_schools(request)
            )
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SchoolRecordsAdmin(admin.ModelAdmin):
    """What the delivery pipeline recorded, read-only: a school's admins see their school's rows
    (through `school_field`), superusers all. Nothing is added, changed or deleted here: these
    rows are the portal's record of what happened."""

    school_field = "school"
    thread_field = ""  # the path to a row's thread, whose confidential help requests stay out

    def _admin_schools(self, request) -> list[int]:
        return permissions.access_for(request.user).schools_with("admin")

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if self.thread_field:  # a family's help request is for the service's counselors only
            rows = rows.exclude(**{f"{self.thread_field}__kind": "help_request"})
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.school_field}__in": self._admin_schools(request)})

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(self._admin_schools(request))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsentChangeInline(admin.TabularInline):
    model = ConsentChange
    fields = ("created_at", "action", "source", "keyword")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SmsConsent)
class SmsConsentAdmin(SchoolRecordsAdmin):
    """Who has stopped texts or muted announcements, and every change with its source."""

    list_display = ("phone", "school", "is_opted_out", "announcements_muted", "updated_at")
    list_filter = ("is_opted_out", "announcements_muted", "school")
    search_fields = ("phone",)
    inlines = [ConsentChangeInline]


@admin.register(InboundSms)
class InboundSmsAdmin(SchoolRecordsAdmin):
    """Every text that came in, with where it went; "Sender unknown" are the ones to look at."""

    thread_field = "message__thread"
    list_display = ("received_at", "school", "guardian", "status", "route")
    list_filter = ("status", "route", "school")
    search_fields = ("from_phone",)
    readonly_fields = ("message",)
    list_select_related = ("school", "guardian")


@admin.register(Delivery)
class DeliveryAdmin(SchoolRecordsAdmin):
    """Each message to each family by each channel, with the provider's id and reason."""

    school_field = "message__thread__school"
    thread_field = "message__thread"
    list_display = ("created_at", "guardian", "channel", "status", "error_reason", "attempts")
    list_filter = ("status", "channel", "is_urgent")
    search_fields = ("provider_id", "address")
    raw_id_fields = ("message", "guardian")
    list_select_related = ("guardian",)
