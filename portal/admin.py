from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal import models, permissions
from portal.forms import RosterUploadForm
from portal.services import (
    ROSTER_KINDS,
    PreferenceError,
    contact_change_decide,
    roster_import_record,
)
from portal.tasks import roster_import_task


class ScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; a school or district admin sees and changes only what the
    permission module lets them, and adds or deletes nothing (people come from the roster)."""

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(pk__in=permissions.VISIBLE[self.model](request.user).values("pk"))

    def _is_admin(self, request) -> bool:
        return permissions.access_for(request.user).is_admin

    def has_module_permission(self, request) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        return self._is_admin(request) and (obj is None or permissions.may_view(request.user, obj))

    def has_change_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        return self._is_admin(request) and (
            obj is None or permissions.may_change(request.user, obj)
        )

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(models.User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")


@admin.register(models.District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "sourced_id", "is_active")
    search_fields = ("name", "sourced_id")


class ScopedInline(admin.TabularInline):
    """Inlines follow their parent: an admin who may change the record may change its rows."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or permissions.access_for(request.user).is_admin

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or (
            obj is not None and permissions.may_change(request.user, obj)
        )

    has_add_permission = has_change_permission

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class StaffMembershipInline(ScopedInline):
    model = models.StaffMembership
    extra = 1
    autocomplete_fields = ("school",)


class SchoolHolidayInline(ScopedInline):
    """The school calendar's closed days: answer times skip them, families are told when the
    office opens. The school's admins keep them."""

    model = models.SchoolHoliday
    extra = 1
    has_delete_permission = ScopedInline.has_change_permission


@admin.register(models.School)
class SchoolAdmin(ScopedAdmin):
    list_display = ("name", "district", "timezone", "default_language", "country", "is_active")
    list_filter = ("district", "is_active")
    search_fields = ("name", "sourced_id")
    inlines = [SchoolHolidayInline]


@admin.register(models.Staff)
class StaffAdmin(ScopedAdmin):
    list_display = ("__str__", "email", "sourced_id", "is_active")
    list_filter = ("memberships__role", "memberships__school", "is_active")
    search_fields = ("given_name", "family_name", "email", "sourced_id")
    raw_id_fields = ("user",)
    inlines = [StaffMembershipInline]


class SectionStaffInline(ScopedInline):
    model = models.SectionStaff
    extra = 0
    autocomplete_fields = ("staff",)


@admin.register(models.Section)
class SectionAdmin(ScopedAdmin):
    list_display = ("name", "school", "grade", "period", "term", "is_active")
    list_filter = ("school", "is_active")
    search_fields = ("name", "sourced_id")
    inlines = [SectionStaffInline]


class GuardianLinkInline(ScopedInline):
    model = models.GuardianLink
    extra = 0
    autocomplete_fields = ("student", "guardian")


@admin.register(models.Student)
class StudentAdmin(ScopedAdmin):
    list_display = ("__str__", "school", "grade", "sourced_id", "is_active")
    list_filter = ("school", "grade", "is_active")
    search_fields = ("given_name", "family_name", "sourced_id")
    inlines = [GuardianLinkInline]


@admin.register(models.Guardian)
class GuardianAdmin(ScopedAdmin):
    list_display = ("__str__", "preferred_language", "wants_sms", "wants_email", "is_active")
    list_filter = ("preferred_language", "wants_sms", "wants_email", "is_active")
    search_fields = ("given_name", "family_name", "email", "sourced_id")
    raw_id_fields = ("user",)
    inlines = [GuardianLinkInline]


@admin.register(models.RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    """Upload a bundle; a worker imports it; the import's page shows what it did."""

    list_display = ("file_name", "created_at", "is_dry_run", "status", "created_by")
    list_filter = ("status", "is_dry_run")
    change_form_template = "admin/portal/rosterimport/change_form.html"
    fields = ("file_name", "is_dry_run", "status", "created_by", "created_at", "finished_at")
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False  # an import is a record of what happened: it is read, never edited

    def _may_import(self, request) -> bool:
        return permissions.access_for(request.user).may_import_rosters

    def has_module_permission(self, request):
        return self._may_import(request)

    def has_view_permission(self, request, obj=None):
        return self._may_import(request)

    def has_add_permission(self, request):
        return self._may_import(request)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RosterUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["bundle"]
            with transaction.atomic():
                record = roster_import_record(
                    file_name=upload.name,
                    bundle=upload.read(),
                    dry_run=form.cleaned_data["dry_run"],
                    user=request.user,
                )
                transaction.on_commit(lambda: roster_import_task.delay(record.pk))
            messages.info(request, _("The bundle was received and is being imported."))
            return redirect(reverse("admin:portal_rosterimport_change", args=[record.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.opts,
            "title": _("Import a roster"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/portal/rosterimport/upload.html", context)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["summary_rows"] = [
                (kind, obj.summary[kind]) for kind in ROSTER_KINDS if kind in obj.summary
            ]
            context["is_pending"] = obj.status in (
                models.RosterImport.Status.QUEUED,
                models.RosterImport.Status.RUNNING,
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


@admin.register(models.ContactChangeRequest)
class ContactChangeRequestAdmin(admin.ModelAdmin):
    """Numbers and emails families proposed; an admin confirms or declines each."""

    list_display = ("guardian", "phone", "email", "status", "created_at", "decided_by")
    list_filter = ("status",)
    readonly_fields = (
        "guardian",
        "phone",
        "email",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
    )
    actions = ["confirm", "decline"]

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("guardian", "decided_by")
        if request.user.is_superuser:
            return rows
        return rows.filter(guardian__in=permissions.guardians_visible_to(request.user))

    def has_module_permission(self, request):
        return permissions.access_for(request.user).is_admin

    has_view_permission = ScopedAdmin.has_view_permission
    _is_admin = ScopedAdmin._is_admin

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, *, confirm: bool):
        for change in queryset:
            try:
                contact_change_decide(change=change, actor=request.user, confirm=confirm)
            except PreferenceError as error:
                self.message_user(request, f"{change}: {error}", messages.WARNING)

    @admin.action(description=_("Confirm the selected changes"))
    def confirm(self, request, queryset):
        self._decide(request, queryset, confirm=True)

    @admin.action(description=_("Decline the selected changes"))
    def decline(self, request, queryset):
        self._decide(request, queryset, confirm=False)


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "guardian", "actor", "via")
    list_filter = ("action", "via")
    readonly_fields = ("created_at", "action", "guardian", "actor", "via", "changes")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
