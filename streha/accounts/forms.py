from allauth.core import context as allauth_context
from allauth.mfa.base.forms import AuthenticateForm
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth.signals import user_login_failed
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.accounts.models import Agency, Role, User

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
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    roles = forms.MultipleChoiceField(
        label=_("Roles"), widget=forms.CheckboxSelectMultiple, required=False
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
        label=_("Acts as"),
        queryset=User.objects.none(),
        help_text=_("The account the client acts as."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = policy.users_administrable_by(actor).filter(is_active=True)


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
