"""Forms of the criminal case steps. The same form validates the HTML step and the API
operation (streha/justice/actions.py); the rules themselves live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from streha.accounts.models import Agency
from streha.justice import catalogue, services
from streha.justice.models import (
    AssetKind,
    Charge,
    ChargeStage,
    ClaimDecision,
    CompensationDecision,
    ConfiscationStage,
    Defendant,
    Detention,
    EventKind,
    InjuredParty,
    Instance,
    InterviewBody,
    Measure,
    OrderStatus,
    Outcome,
    PermitGround,
    PermitStatus,
    ProceedingEvent,
    RoleInProcess,
    SentenceKind,
    Stage,
    ThbScope,
    WitnessKind,
)
from streha.web.labels import enum_label

DATE = forms.DateInput(attrs={"type": "date"})
MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": 0}


def quiet(form: forms.Form) -> forms.Form:
    """Error messages that never repeat the value sent (it may be personal data)."""
    for field in form.fields.values():
        for code in ("invalid_choice", "invalid_pk_value", "invalid_list"):
            if code in field.error_messages:
                field.error_messages[code] = _("This is not one of the allowed values.")
    return form


class StepForm(forms.Form):
    """A form about one criminal case, made with the case, the user's access and the user, so
    choices are the case's own (its defendants, its victims, its witnesses)."""

    def __init__(self, *args, case=None, access=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.access, self.user = case, access, user
        quiet(self)

    def _scoped(self, name, queryset, label_from_instance=str):
        field = self.fields[name]
        field.queryset = queryset
        field.label_from_instance = label_from_instance


class UuidChoice(forms.ModelChoiceField):
    """A choice of one of the case's objects by its public id (the same in HTML and API)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(*args, queryset=kwargs.pop("queryset", None), **kwargs)


def _defendant_label(defendant) -> str:
    return str(_("Defendant %(label)s") % {"label": defendant.label})


def _party_label(party) -> str:
    return str(_("Injured party %(label)s") % {"label": party.label})


def _witness_label(witness) -> str:
    return str(_("Witness %(pseudonym)s") % {"pseudonym": witness.pseudonym})


class OpenCaseForm(forms.Form):
    opened_on = forms.DateField(label=_("Opened on"), widget=DATE)
    police_number = forms.CharField(label=_("Police case number"), max_length=60, required=False)
    prosecution_office = forms.ModelChoiceField(
        label=_("Prosecution office"),
        queryset=Agency.objects.none(),
        required=False,
        to_field_name="code",
    )
    summary = forms.CharField(
        label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    victim_case = forms.CharField(
        label=_("Reference of the victim case"), max_length=32, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prosecution_office"].queryset = services.prosecution_offices()


class EventForm(StepForm):
    kind = forms.ChoiceField(label=_("Event"), choices=())
    occurred_on = forms.DateField(label=_("Date"), widget=DATE)
    document = forms.CharField(label=_("Document"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = services.allowed_event_kinds(self.access, self.case) if self.case else []
        self.fields["kind"].choices = [(k, enum_label(EventKind, k)) for k in kinds]


class CorrectionForm(StepForm):
    event = UuidChoice(label=_("Event to correct"))
    occurred_on = forms.DateField(label=_("Corrected date"), widget=DATE, required=False)
    document = forms.CharField(label=_("Corrected document"), max_length=100, required=False)
    withdraw = forms.BooleanField(label=_("Withdraw the event"), required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = self.access.event_kinds if self.access else ()
        events = ProceedingEvent.objects.none()
        if self.case:
            events = self.case.events.filter(corrects__isnull=True, kind__in=kinds)
        self._scoped(
            "event",
            events.order_by("occurred_on", "pk"),
            lambda e: f"{e.occurred_on:%Y-%m-%d} {enum_label(EventKind, e.kind)}",
        )


class NumbersForm(StepForm):
    police_number = forms.CharField(label=_("Police case number"), max_length=60, required=False)
    prosecution_number = forms.CharField(
        label=_("Prosecution case number"), max_length=60, required=False
    )
    court = forms.ModelChoiceField(
        label=_("Court"), queryset=Agency.objects.none(), required=False, to_field_name="code"
    )
    court_number = forms.CharField(label=_("Court case number"), max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = services.courts()
        if self.case is not None and not self.is_bound:
            self.initial = {
                "police_number": self.case.police_number,
                "prosecution_number": self.case.prosecution_number,
                "court_number": self.case.court_number,
            }


class AssignForm(StepForm):
    prosecutor = forms.CharField(label=_("User name of the prosecutor"), max_length=150)


class LinkVictimForm(StepForm):
    victim_case = forms.CharField(label=_("Reference of the victim case"), max_length=32)

    def clean_victim_case(self):
        from streha.cases.models import Case

        reference = self.cleaned_data["victim_case"].strip().upper()
        case = Case.objects.filter(reference=reference).first()
        if case is None:
            raise forms.ValidationError(_("No such victim case."))
        return case


class DefendantForm(StepForm):
    person_reference = forms.CharField(label=_("Reference of the person"), max_length=32)
    roles = forms.MultipleChoiceField(
        label=_("Role in the process"),
        choices=RoleInProcess.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    detention = forms.ChoiceField(label=_("Detention measure"), choices=Detention.choices)
    public_official = forms.BooleanField(label=_("Public official"), required=False)


def _charge_label(charge) -> str:
    stage = enum_label(ChargeStage, charge.stage)
    return f"{_defendant_label(charge.defendant)}: {charge.offence.citation} ({stage})"


class ChargeForm(StepForm):
    defendant = UuidChoice(label=_("Defendant"))
    offence = forms.ModelChoiceField(label=_("Offence"), queryset=None)
    counts = forms.IntegerField(label=_("Counts"), min_value=1, max_value=999, initial=1)
    stage = forms.ChoiceField(label=_("Recorded at"), choices=ChargeStage.choices)
    recorded_on = forms.DateField(label=_("Date"), widget=DATE)
    victim_cases = forms.ModelMultipleChoiceField(
        label=_("Victims it concerns"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="public_id",
    )
    replaces = forms.ModelChoiceField(
        label=_("Reclassifies the charge"), queryset=Charge.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        from streha.cases.models import Case

        super().__init__(*args, **kwargs)
        case = self.case
        self._scoped(
            "defendant",
            case.defendants.all() if case else Defendant.objects.none(),
            _defendant_label,
        )
        self._scoped(
            "offence",
            catalogue.offences_for_charges(),
            lambda o: (
                f"{o.citation} {o.title}"
                + (" *" if o.unconfirmed else "")
                + (f" [{enum_label(ThbScope, o.scope)}]")
            ),
        )
        self._scoped(
            "victim_cases",
            case.victim_cases.all() if case else Case.objects.none(),
            lambda v: v.reference,
        )
        self._scoped(
            "replaces",
            Charge.objects.filter(defendant__case=case, replaced_by__isnull=True).select_related(
                "offence__criminal_code", "defendant"
            )
            if case
            else Charge.objects.none(),
            _charge_label,
        )


class JudgmentForm(StepForm):
    defendant = UuidChoice(label=_("Defendant"))
    instance = forms.ChoiceField(label=_("Instance"), choices=Instance.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    decided_on = forms.DateField(label=_("Date"), widget=DATE)
    final = forms.BooleanField(label=_("Final"), required=False)
    document = forms.CharField(label=_("Document"), max_length=100, required=False)
    sentence = forms.ChoiceField(
        label=_("Sentence"), choices=[("", "—"), *SentenceKind.choices], required=False
    )
    months = forms.IntegerField(label=_("Months"), min_value=0, max_value=600, required=False)
    fine_eur = forms.DecimalField(label=_("Fine (EUR)"), required=False, **MONEY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scoped(
            "defendant",
            self.case.defendants.all() if self.case else Defendant.objects.none(),
            _defendant_label,
        )


class ConfiscationForm(StepForm):
    stage = forms.ChoiceField(label=_("Stage"), choices=ConfiscationStage.choices)
    asset = forms.ChoiceField(label=_("Asset"), choices=AssetKind.choices)
    value_eur = forms.DecimalField(label=_("Value (EUR)"), **MONEY)
    decided_on = forms.DateField(label=_("Date"), widget=DATE)
    defendant = UuidChoice(label=_("Defendant"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scoped(
            "defendant",
            self.case.defendants.all() if self.case else Defendant.objects.none(),
            _defendant_label,
        )


class InjuredPartyForm(StepForm):
    victim_case = forms.ModelChoiceField(
        label=_("Victim case"), queryset=None, to_field_name="public_id"
    )
    advocate = forms.CharField(
        label=_("User name of the victim advocate"), max_length=150, required=False
    )

    def __init__(self, *args, **kwargs):
        from streha.cases.models import Case

        super().__init__(*args, **kwargs)
        self._scoped(
            "victim_case",
            self.case.victim_cases.all() if self.case else Case.objects.none(),
            lambda v: v.reference,
        )


class PartyForm(StepForm):
    """A step about one injured party; the victim advocate sees only the parties they
    represent."""

    party = UuidChoice(label=_("Injured party"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parties = InjuredParty.objects.none()
        if self.case is not None:
            parties = self.case.injured_parties.all()
            if self.access.injured_parties_only:
                parties = parties.filter(represented_by=self.user)
        self._scoped("party", parties, _party_label)


class ClaimForm(PartyForm):
    claim_filed = forms.BooleanField(label=_("Property claim filed"), required=False)
    amount_claimed = forms.DecimalField(label=_("Amount claimed (EUR)"), required=False, **MONEY)
    decision = forms.ChoiceField(label=_("Decision"), choices=ClaimDecision.choices)
    amount_awarded = forms.DecimalField(label=_("Amount awarded (EUR)"), required=False, **MONEY)
    amount_paid = forms.DecimalField(label=_("Amount paid (EUR)"), required=False, **MONEY)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE, required=False)


class CompensationForm(PartyForm):
    applied_on = forms.DateField(label=_("Application date"), widget=DATE)
    decision = forms.ChoiceField(label=_("Decision"), choices=CompensationDecision.choices)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE, required=False)
    amount_eur = forms.DecimalField(label=_("Amount (EUR)"), required=False, **MONEY)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE, required=False)
    appeal_filed_on = forms.DateField(label=_("Appeal filed on"), widget=DATE, required=False)


class PermitForm(PartyForm):
    ground = forms.ChoiceField(label=_("Ground"), choices=PermitGround.choices)
    status = forms.ChoiceField(label=_("Decision"), choices=PermitStatus.choices)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE)
    expires_on = forms.DateField(label=_("Expires on"), widget=DATE, required=False)


class InterviewForm(PartyForm):
    interviewed_on = forms.DateField(label=_("Date"), widget=DATE)
    body = forms.ChoiceField(label=_("By"), choices=InterviewBody.choices)
    video_recorded = forms.BooleanField(label=_("Video-recorded"), required=False)


class WitnessForm(StepForm):
    kind = forms.ChoiceField(label=_("Kind of witness"), choices=WitnessKind.choices)
    person_reference = forms.CharField(
        label=_("Reference of the person (sealed)"),
        max_length=32,
        required=False,
        help_text=_(
            "Kept sealed: only the prosecutor handling the case and the witness protection "
            "unit can resolve the pseudonym."
        ),
    )
    added_on = forms.DateField(label=_("Date"), widget=DATE, required=False)


class ProtectionOrderForm(StepForm):
    witness = UuidChoice(label=_("Witness"))
    measures = forms.MultipleChoiceField(
        label=_("Measures"), choices=Measure.choices, widget=forms.CheckboxSelectMultiple
    )
    judge = forms.CharField(label=_("Ordering judge"), max_length=120)
    legal_basis = forms.CharField(label=_("Legal basis (article)"), max_length=120)
    ordered_on = forms.DateField(label=_("Ordered on"), widget=DATE)
    until = forms.DateField(label=_("Until"), widget=DATE, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=OrderStatus.choices)

    def __init__(self, *args, **kwargs):
        from streha.justice.models import Witness

        super().__init__(*args, **kwargs)
        self._scoped(
            "witness",
            self.case.witnesses.all() if self.case else Witness.objects.none(),
            _witness_label,
        )


class ResolveForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you need to know who the witness is"),
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        max_length=1000,
    )


class ShareForm(forms.Form):
    office = forms.ModelChoiceField(
        label=_("Prosecution office"), queryset=Agency.objects.none(), to_field_name="code"
    )
    field_groups = forms.MultipleChoiceField(
        label=_("Shared information"),
        choices=[(g.value, g.label) for g in services.SHAREABLE_GROUPS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = services.prosecution_offices()


class FilterForm(forms.Form):
    """The criminal case list's filters (GET)."""

    stage = forms.ChoiceField(choices=[("", "—"), *Stage.choices], required=False)
    offence = forms.CharField(max_length=60, required=False)
    office = forms.CharField(max_length=60, required=False)
    year = forms.IntegerField(min_value=1999, max_value=2100, required=False)
    reclassified = forms.BooleanField(required=False)
    below_minimum = forms.BooleanField(required=False)
