from allauth.core import context as allauth_context
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth.signals import user_login_failed
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.accounts import sessions
from streha.accounts.models import Agency, Role, TokenScope, User

# What each role does, beside its name on the staff form: whoever grants a role sees what it opens.
ROLE_DESCRIPTIONS = {
    Role.HOTLINE_OPERATOR: _("answers the hotline and triages tips"),
    Role.CASE_WORKER: _("registers persons, opens cases and refers them"),
    Role.SUPERVISOR: _("decides on cases and assigns the agency's work"),
    Role.INVESTIGATOR: _("works the police side of cases"),
    Role.PROSECUTOR: _("follows the cases in prosecution and court"),
    Role.ANALYST: _("sees national statistics, no names"),
    Role.AUDITOR: _("reads the audit trail and reviews break-glass access"),
    Role.AGENCY_ADMIN: _("manages the agency's staff accounts"),
    Role.SYSTEM_ADMIN: _("manages agencies and every staff account"),
}


def _role_choices(actor):
    grantable = set(policy.grantable_roles(actor))
    return [
        (value, format_lazy("{}: {}", label, ROLE_DESCRIPTIONS[value]))
        if value in ROLE_DESCRIPTIONS
        else (value, label)
        for value, label in Role.choices
        if value in grantable
    ]


class StaffForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Needed for a person's invitation; optional for a service account."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Each role takes effect once a second administrator approves it."),
    )
    service_account = forms.BooleanField(
        label=_("Service account"),
        required=False,
        help_text=_(
            "A machine client of the agency: it uses API tokens and can never sign in with a "
            "password."
        ),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices(actor)
        if policy.is_system_admin(actor):
            self.fields["agency"].queryset = Agency.objects.filter(is_active=True)
        else:
            self.fields["agency"].queryset = Agency.objects.filter(pk=actor.agency_id)
            self.fields["agency"].initial = actor.agency_id


class StaffEditForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=_("Account active"), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices(actor)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the client is."))
    user = forms.ModelChoiceField(
        label=_("Service account"),
        queryset=User.objects.none(),
        help_text=_("The service account the client acts as; tokens never act as a person."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the client may do; the service account's roles still apply."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = policy.users_administrable_by(actor).filter(
            is_active=True, is_service_account=True
        )


class LockoutAwareAuthenticateForm(AuthenticateForm):
    """The second-factor step shares the password's lock-out.

    allauth would limit wrong codes with the same rate limit we hand to django-axes for
    passwords; without this, whoever has a password could guess six-digit codes forever. Wrong
    codes count as failed sign-ins of that username, and a locked username gets no more tries.
    """

    def clean_code(self):
        request = allauth_context.request
        credentials = {"username": self.user.username}
        if AxesProxyHandler.is_locked(request, credentials=credentials):
            raise forms.ValidationError(
                _("Too many failed attempts. The account is locked for a while.")
            )
        try:
            return super().clean_code()
        except forms.ValidationError:
            user_login_failed.send(sender=type(self), credentials=credentials, request=request)
            raise


class SessionMarkingActivateTOTPForm(ActivateTOTPForm):
    """Enrolling checks a code from the new authenticator: this session has passed the factor.

    Marked here, not on allauth's ``authenticator_added`` signal, which is sent only after
    the transaction commits; if enrolment then fails, the error response does not save the
    session, and the middleware still asks for an enrolled factor besides the mark.
    """

    def clean_code(self):
        code = super().clean_code()
        sessions.note_second_factor(allauth_context.request, self.user, "totp")
        return code
