"""Which accounts may hold a session."""

from allauth.account.auth_backends import AuthenticationBackend

from streha.accounts.selectors import signed_in_user


class StaffAuthenticationBackend(AuthenticationBackend):
    """allauth's backend, but service accounts never sign in nor keep a session.

    A service account works through API tokens only; refusing it here (and not only in the
    sign-in form) also closes the Django admin login and any session somebody made for it.
    """

    def get_user(self, user_id):
        """The session's user with what every request reads of them (``signed_in_user``)."""
        user = signed_in_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user) -> bool:
        if getattr(user, "is_service_account", False):
            return False
        return super().user_can_authenticate(user)

    def _check_password(self, user, password):
        # allauth keeps aside a user whose password matched but who may not authenticate (to
        # show "account inactive") and then signs them in anyway: never for a service account.
        if user is not None and getattr(user, "is_service_account", False):
            self._did_check_password = True
            user.check_password(password)  # the same work as for a person: no timing tell
            return None
        return super()._check_password(user, password)
