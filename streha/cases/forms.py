"""Forms of the case pages; validation of the rules themselves lives in the services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from streha.access import policy
from streha.access.models import FieldGroup
from streha.accounts.models import Agency
from streha.cases.models import (
    ConsentPurpose,
    ControlMethod,
    Disability,
    ExploitationPlace,
    ExploitationType,
    Questionnaire,
    RecruitmentMethod,
    ReferralStatus,
    ServiceKind,
    ServiceStatus,
    Source,
    Status,
)
from streha.cases.services import PROFILE_FIELDS
from streha.places.catalogues import countries, languages
from streha.places.models import Municipality

DATE = forms.DateInput(attrs={"type": "date"})


class CaseForm(forms.Form):
    """A form about one case, made with the case and the user's access to it (stage forms use
    them to offer only the choices that make sense). ``selector`` is the query or post data
    that picks a sub-object, such as the questionnaire or the service; a form raises
    ``LookupError`` when it names none of the case's."""

    def __init__(self, *args, case=None, access=None, user=None, selector=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.access, self.user = case, access, user


class VersionedForm(CaseForm):
    """Carries the case version the user saw, for optimistic locking."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class ExploitationFields(forms.Form):
    """The exploitation profile and first needs, as the opening and the profile forms ask."""

    needs_urgent_shelter = forms.BooleanField(label=_("Needs urgent shelter"), required=False)
    needs_urgent_medical = forms.BooleanField(label=_("Needs urgent medical care"), required=False)
    age_disputed = forms.BooleanField(label=_("Age disputed"), required=False)
    exploitation_types = forms.MultipleChoiceField(
        label=_("Forms of exploitation"),
        choices=ExploitationType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exploitation_places = forms.MultipleChoiceField(
        label=_("Places of exploitation"),
        choices=ExploitationPlace.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    transnational = forms.NullBooleanField(label=_("Transnational"), required=False)
    recruitment_methods = forms.MultipleChoiceField(
        label=_("Methods of recruitment"),
        choices=RecruitmentMethod.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    control_methods = forms.MultipleChoiceField(
        label=_("Methods of control"),
        choices=ControlMethod.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class OpenCaseForm(ExploitationFields):
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    first_contact_on = forms.DateField(label=_("Date of first contact"), widget=DATE)
    first_contact_place = forms.CharField(label=_("Place"), max_length=200, required=False)
    # Set when the case opens (a child's case gets its guardian task then); not in the
    # profile step, where the flag would change without that follow-up.
    is_child = forms.BooleanField(label=_("Child"), required=False)

    field_order = [
        "source",
        "first_contact_on",
        "first_contact_place",
        "needs_urgent_shelter",
        "needs_urgent_medical",
        "is_child",
        "age_disputed",
    ]


class ScreeningForm(VersionedForm):
    questionnaire = forms.CharField(widget=forms.HiddenInput)
    indicators_met = forms.MultipleChoiceField(
        label=_("Indicators met"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, selector=None, **kwargs):
        super().__init__(*args, **kwargs)
        code = (selector or {}).get("questionnaire", "")
        self.questionnaire = Questionnaire.objects.filter(code=code, is_current=True).first()
        if self.questionnaire is None:
            raise LookupError(code)
        self.fields["questionnaire"].initial = self.questionnaire.code
        self.fields["indicators_met"].choices = [
            (item["code"], _(item["text"])) for item in self.questionnaire.indicators
        ]

    def clean_questionnaire(self):
        return self.questionnaire


# Decisions start unanswered: a preselected answer is one click from being recorded unread.
NO_ANSWER_YET = ("", _("Choose an answer"))


class ConfirmForm(VersionedForm):
    presumed = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "yes",
        choices=[NO_ANSWER_YET, ("yes", _("Presumed victim")), ("no", _("Not a presumed victim"))],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)


class DecisionForm(VersionedForm):
    identified = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "yes",
        choices=[NO_ANSWER_YET, ("yes", _("Identified as a victim")), ("no", _("Not identified"))],
    )
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea)
    person_informed_on = forms.DateField(label=_("Person informed on"), required=False, widget=DATE)


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)


class ServiceForm(VersionedForm):
    kind = forms.ChoiceField(label=_("Service"), choices=ServiceKind.choices)
    provider = forms.ModelChoiceField(
        label=_("Provider"), queryset=Agency.objects.filter(is_active=True)
    )
    starts_on = forms.DateField(label=_("Starts"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=ServiceStatus.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.access is not None and not self.access.can_edit and self.user is not None:
            # An agency that contributes through a referral records its own services.
            providers = self.fields["provider"].queryset
            self.fields["provider"].queryset = providers.filter(pk=self.user.agency_id)


class ReturnForm(VersionedForm):
    assisted_voluntary_return = forms.BooleanField(
        label=_("Assisted voluntary return"), required=False
    )
    residence_permit_requested_on = forms.DateField(
        label=_("Residence permit requested on"), required=False, widget=DATE
    )
    next_review_on = forms.DateField(label=_("Next review"), widget=DATE)


class GuardianForm(VersionedForm):
    guardian = forms.CharField(label=_("Guardian"), max_length=200)
    appointed_on = forms.DateField(label=_("Appointed on"), widget=DATE)


class NoteForm(CaseForm):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea)


class ReferralForm(CaseForm):
    to_agency = forms.ModelChoiceField(
        label=_("Refer to"), queryset=Agency.objects.filter(is_active=True)
    )
    field_groups = forms.MultipleChoiceField(
        label=_("Information shared"),
        choices=FieldGroup.choices,  # ethnicity is one of them (once)
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea, required=False)
    answer_due_on = forms.DateField(label=_("Answer due"), required=False, widget=DATE)


class ServiceStatusForm(VersionedForm):
    service = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=ServiceStatus.choices)

    def __init__(self, *args, selector=None, **kwargs):
        super().__init__(*args, **kwargs)
        number = str((selector or {}).get("service", ""))
        valid = number.isascii() and number.isdecimal()
        found = self.case.services.filter(pk=int(number)).first() if valid else None
        if found is None or not (
            self.access is None
            or self.user is None
            or policy.can_provide_service(self.user, self.access, found.provider_id)
        ):
            raise LookupError(number)
        self.service = found
        self.fields["service"].initial = found.pk
        self.fields["status"].initial = found.status
        self.fields["status"].label = _("Status of %(service)s") % {
            "service": found.get_kind_display()
        }

    def clean_service(self):
        return self.service


class FollowUpForm(VersionedForm):
    next_review_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty when no further review is planned."),
    )


class BestInterestsForm(VersionedForm):
    determined_on = forms.DateField(label=_("Best-interests determination on"), widget=DATE)


class ConsentForm(CaseForm):
    purpose = forms.ChoiceField(label=_("Consent to"), choices=ConsentPurpose.choices)
    given = forms.TypedChoiceField(
        label=_("Answer"),
        coerce=lambda value: value == "yes",
        choices=[NO_ANSWER_YET, ("yes", _("Consent given")), ("no", _("Consent refused"))],
    )


def _municipality_choices():
    return [(m.code, str(m)) for m in Municipality.objects.all()]


class ProfileForm(VersionedForm, ExploitationFields):
    """Exploitation and the non-identifying attributes, as known so far; opens with the
    case's current values."""

    recruitment_countries = forms.MultipleChoiceField(
        label=_("Countries of recruitment"), required=False
    )
    transit_countries = forms.MultipleChoiceField(label=_("Countries of transit"), required=False)
    exploitation_countries = forms.MultipleChoiceField(
        label=_("Countries of exploitation"), required=False
    )
    recruitment_municipalities = forms.MultipleChoiceField(
        label=_("Municipalities of recruitment"), required=False
    )
    exploitation_municipalities = forms.MultipleChoiceField(
        label=_("Municipalities of exploitation"), required=False
    )

    languages = forms.MultipleChoiceField(label=_("Languages spoken"), required=False)
    disability = forms.ChoiceField(label=_("Disability"), choices=Disability.choices)
    # Shown only to who may see ethnicity (a special category with its own field group).
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=100, required=False)

    field_order = list(PROFILE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("recruitment_countries", "transit_countries", "exploitation_countries"):
            self.fields[name].choices = countries.choices()
            self.fields[name].widget.attrs["size"] = 6
        self.fields["languages"].choices = languages.choices()
        self.fields["languages"].widget.attrs["size"] = 6
        if self.access is not None and policy.ETHNICITY_GROUP not in self.access.field_groups:
            del self.fields["ethnicity"]
        municipalities = _municipality_choices()
        for name in ("recruitment_municipalities", "exploitation_municipalities"):
            self.fields[name].choices = municipalities
            self.fields[name].widget.attrs["size"] = 6
        if self.case is not None and not self.is_bound:
            for name in self.fields:
                if name != "expected_version":
                    self.initial.setdefault(name, getattr(self.case, name))


class AssignForm(VersionedForm):
    assignee = forms.CharField(
        label=_("Assign to (user name)"),
        max_length=150,
        help_text=_("A professional who does case work, in this or another agency."),
    )

    def clean_assignee(self):
        from streha.cases.services import find_assignee

        try:
            return find_assignee(username=self.cleaned_data["assignee"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["assignee"]) from None


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"),
        choices=[NO_ANSWER_YET]
        + [(s.value, s.label) for s in ReferralStatus if s != ReferralStatus.SENT],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Stage"), choices=[("", _("All"))] + list(Status.choices), required=False
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", _("All"))] + list(Source.choices), required=False
    )
    exploitation_type = forms.ChoiceField(
        label=_("Form of exploitation"),
        choices=[("", _("All"))] + list(ExploitationType.choices),
        required=False,
    )
