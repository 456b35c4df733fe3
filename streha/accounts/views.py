"""Staff administration pages. Thin: forms validate shape, services decide and write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from streha.access import policy
from streha.accounts import services
from streha.accounts.forms import ApiTokenForm, StaffEditForm, StaffForm
from streha.accounts.models import RoleGrant
from streha.web.errors import add_service_errors


def _require_user_admin(request):
    if not policy.can_administer_users(request.user):
        raise Http404


@login_required
def agency_list(request):
    agencies = policy.agencies_visible_to(request.user)
    return render(request, "accounts/agency_list.html", {"agencies": agencies})


@login_required
def user_list(request):
    _require_user_admin(request)
    staff = policy.users_visible_to(request.user).order_by("agency__name", "username")
    missing = request.GET.get("two_factor") == "missing"  # from the "my work" figure
    if missing:
        from streha.web.selectors import without_two_factor

        staff = without_two_factor(staff)
    context = {"staff": staff, "two_factor_missing": missing}
    return render(request, "accounts/user_list.html", context)


@login_required
@require_POST
def user_remind_two_factor(request, pk: int):
    """Remind one account without two-factor authentication (back to the filtered list)."""
    _require_user_admin(request)
    staff_member = get_object_or_404(policy.users_administrable_by(request.user), pk=pk)
    try:
        services.remind_two_factor(request.user, staff_member, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("A reminder to set up two-factor authentication was sent to %(username)s.")
            % {"username": staff_member.username},
        )
    return redirect(reverse("accounts:user_list") + "?two_factor=missing")


@login_required
def user_create(request):
    _require_user_admin(request)
    form = StaffForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_user(request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if user.is_service_account:
                message = _("Service account %(username)s created.")
            else:
                message = _("Account %(username)s created; an invitation was e-mailed.")
            messages.success(request, message % {"username": user.username})
            return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@login_required
def user_edit(request, pk: int):
    """Another user's account: nobody edits their own here (their roles least of all)."""
    _require_user_admin(request)
    staff_member = get_object_or_404(policy.users_administrable_by(request.user), pk=pk)
    live_roles = sorted(staff_member.role_grants.live().values_list("role", flat=True))
    initial = {
        "email": staff_member.email,
        "first_name": staff_member.first_name,
        "last_name": staff_member.last_name,
        "roles": live_roles,
        "is_active": staff_member.is_active,
    }
    form = StaffEditForm(request.POST or None, initial=initial, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(request.user, staff_member, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:user_list")
    grants = staff_member.role_grants.select_related("granted_by", "approved_by", "revoked_by")
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "creating": False,
            "staff_member": staff_member,
            "grants": grants.order_by("-granted_at", "-pk"),
        },
    )


@login_required
@require_POST
def user_reset_two_factor(request, pk: int):
    _require_user_admin(request)
    staff_member = get_object_or_404(policy.users_administrable_by(request.user), pk=pk)
    services.reset_two_factor(request.user, staff_member, request=request)
    messages.success(
        request,
        _(
            "Two-factor authentication was reset and the user's sessions ended; they must "
            "enrol again."
        ),
    )
    return redirect("accounts:user_edit", pk=pk)


@login_required
def role_approvals(request):
    """Role grants waiting for a second administrator, and the approver's answer."""
    _require_user_admin(request)
    grants = policy.role_grants_awaiting(request.user)
    return render(request, "accounts/role_approvals.html", {"grants": grants})


@login_required
@require_POST
def role_grant_decide(request, pk: int, decision: str):
    _require_user_admin(request)
    grant = get_object_or_404(
        RoleGrant.objects.filter(user__in=policy.users_administrable_by(request.user)),
        pk=pk,
    )
    decide = services.approve_role_grant if decision == "approve" else services.revoke_role_grant
    try:
        decide(request.user, grant, request=request)
    except (ValidationError, PermissionDenied) as error:
        messages.error(
            request,
            _("You cannot approve or revoke this grant: %(reason)s")
            % {"reason": " ".join(getattr(error, "messages", [str(error)]))},
        )
    else:
        if decision == "approve":
            messages.success(request, _("Role approved; it is now in effect."))
        else:
            messages.success(request, _("Role revoked; the grant stays in the history."))
    if request.POST.get("back") == "account":
        return redirect("accounts:user_edit", pk=grant.user_id)
    return redirect("accounts:role_approvals")


@login_required
def token_list(request):
    _require_user_admin(request)
    tokens = policy.api_tokens_visible_to(request.user)
    form = ApiTokenForm(request.POST or None, actor=request.user)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = services.issue_api_token(
                request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = ApiTokenForm(actor=request.user)
    return render(
        request, "accounts/token_list.html", {"tokens": tokens, "form": form, "secret": secret}
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    _require_user_admin(request)
    token = get_object_or_404(policy.api_tokens_visible_to(request.user), pk=pk)
    try:
        services.revoke_api_token(request.user, token, request=request)
    except PermissionDenied as error:
        raise Http404 from error
    if request.htmx:
        return render(request, "accounts/_token_row.html", {"token": token})
    messages.success(request, _("Token revoked."))
    return redirect("accounts:token_list")


@login_required
def security(request):
    from allauth.mfa.models import Authenticator

    has_totp = Authenticator.objects.filter(
        user=request.user, type=Authenticator.Type.TOTP
    ).exists()
    return render(request, "accounts/security.html", {"has_totp": has_totp})
