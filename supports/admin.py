from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from supports.models import SupportCategory


@admin.register(SupportCategory)
class SupportCategoryAdmin(TranslationAdmin):
    """The kinds of help families browse by, with one tab per language for their names. The
    categories are the whole district's (and their SMS keywords the shared number's), so only a
    superuser changes them; counselors keep their services in the workspace (/supports/manage/)."""

    list_display = ("name", "position", "sms_keywords")
    search_fields = ("name", "sms_keywords")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
