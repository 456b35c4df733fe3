from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from streha.accounts.models import Agency, ApiToken, RoleGrant, User


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fk_name = "user"
    extra = 0
    readonly_fields = ["granted_by", "granted_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "agency", "is_active", "is_staff"]
    list_filter = ["agency__kind", "is_active", "is_staff"]
    fieldsets = [*DjangoUserAdmin.fieldsets, ("Streha", {"fields": ["agency"]})]
    inlines = [RoleGrantInline]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "municipality", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "agency", "user", "created_at", "revoked_at"]
    readonly_fields = ["key_prefix", "key_digest", "last_used_at"]
