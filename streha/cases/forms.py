"""Forms of the case pages; validation of the rules themselves lives in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from streha.access.models import FieldGroup
from streha.accounts.models import Agency
from streha.cases.models import (
    ControlMethod,
    ExploitationPlace,
    ExploitationType,
    RecruitmentMethod,
    ReferralStatus,
    ServiceKind,
    ServiceStatus,
    Source,
    Status,
)

DATE = forms.DateInput(attrs={"type": "date"})


class VersionedForm(forms.Form):
    """Carries the case version the user saw, for optimistic locking."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class OpenCaseForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    first_contact_on = forms.DateField(label=_("Date of first contact"), widget=DATE)
    first_contact_place = forms.CharField(label=_("Place"), max_length=200, required=False)
    needs_urgent_shelter = forms.BooleanField(label=_("Needs urgent shelter"), required=False)
    needs_urgent_medical = forms.BooleanField(label=_("Needs urgent medical care"), required=False)
    is_child = forms.BooleanField(label=_("Child"), required=False)
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


class ScreeningForm(VersionedForm):
    questionnaire = forms.IntegerField(widget=forms.HiddenInput)
    indicators_met = forms.MultipleChoiceField(
        label=_("Indicators met"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, questionnaire=None, **kwargs):
        super().__init__(*args, **kwargs)
        if questionnaire is not None:
            self.fields["questionnaire"].initial = questionnaire.pk
            self.fields["indicators_met"].choices = [
                (item["code"], _(item["text"])) for item in questionnaire.indicators
            ]


class ConfirmForm(VersionedForm):
    presumed = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("Presumed victim")), ("no", _("Not a presumed victim"))],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)


class DecisionForm(VersionedForm):
    identified = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("Identified as a victim")), ("no", _("Not identified"))],
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


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea)


class ReferralForm(forms.Form):
    to_agency = forms.ModelChoiceField(
        label=_("Refer to"), queryset=Agency.objects.filter(is_active=True)
    )
    field_groups = forms.MultipleChoiceField(
        label=_("Information shared"),
        choices=[*FieldGroup.choices, ("ethnicity", _("Ethnicity"))],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea, required=False)
    answer_due_on = forms.DateField(label=_("Answer due"), required=False, widget=DATE)


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"),
        choices=[(s.value, s.label) for s in ReferralStatus if s != ReferralStatus.SENT],
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
