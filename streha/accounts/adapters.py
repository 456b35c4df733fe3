from allauth.account.adapter import DefaultAccountAdapter


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by self-registration."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_login(self, request, user, **kwargs):
        """Service accounts use API tokens; no sign-in flow may end in a session for one."""
        if getattr(user, "is_service_account", False):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Enrolling the *first* authenticator comes straight after a password sign-in (it is
        forced outside demo mode), so asking for the password again adds nothing. Changing or
        removing an existing factor still requires re-authentication."""
        from allauth.mfa.models import Authenticator

        user = getattr(getattr(self, "request", None), "user", None)
        if (
            app == "allauth.mfa"
            and user is not None
            and user.is_authenticated
            and not Authenticator.objects.filter(user=user).exists()
        ):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)
