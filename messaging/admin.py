from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from messaging.models import MessageTemplate
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
