"""Agency API tokens: ``Authorization: Token strh_…`` (``Bearer`` is accepted too).

A token authenticates only a service account (a token of a person's account, issued before
tokens were restricted, is refused), only within its scopes, and only until it expires.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from streha.accounts.models import ApiToken
from streha.audit import read_context

# Writing last_used_at on every call would turn each read into a write; once a minute is enough
# to tell an administrator whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


class AgencyTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header.")) from None
        token = (
            ApiToken.objects.active()
            .select_related("user", "agency")
            .filter(key_digest=ApiToken.digest(secret))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        user = token.user
        if (
            not user.is_active
            or not user.is_service_account
            or not token.agency.is_active
            or user.agency_id != token.agency_id
        ):
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if not token.allows(request.method):
            raise exceptions.PermissionDenied(_("This token's scopes do not allow this request."))
        read_context.authenticated_by("token", token_id=token.pk)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request):
        return "Token"
