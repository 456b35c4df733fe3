"""The Django admin, for system administrators' inspection only.

It is not served in production unless ``STREHA_ADMIN_ENABLED=1`` (streha/urls.py), and its own
password-only login form is replaced by the one sign-in (allauth, with the second factor):
the admin's login page sends to it. Accounts, role grants, agencies and API tokens are
read-only here, since their writes must pass the services (approval by a second
administrator, audit events).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from streha.accounts.models import Agency, ApiToken, RoleGrant, User


def sign_in_through_the_one_sign_in(request, extra_context=None):
    """The admin's login view: the allauth sign-in with its second factor, then back."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    target = target or reverse("admin:index")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")


admin.site.login = sign_in_through_the_one_sign_in


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RoleGrantInline(ReadOnlyInline):
    model = RoleGrant
    fk_name = "user"
    fields = ["role", "granted_by", "granted_at", "approved_by", "approved_at", "revoked_by"]
    readonly_fields = fields


@admin.register(User)
class UserAdmin(ReadOnly, DjangoUserAdmin):
    list_display = ["username", "email", "agency", "is_active", "is_service_account"]
    list_filter = ["agency__kind", "is_active", "is_service_account"]
    fieldsets = [*DjangoUserAdmin.fieldsets, ("Streha", {"fields": ["agency"]})]
    inlines = [RoleGrantInline]


@admin.register(Agency)
class AgencyAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "municipality", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "key_prefix", "agency", "user", "created_at", "expires_at"]
    exclude = ["key_digest"]
