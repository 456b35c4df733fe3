from django import forms
from django.utils.translation import gettext_lazy as _

from streha.accounts.models import Agency
from streha.people.models import Gender, Person
from streha.places.models import Municipality
from streha.tips.models import CampaignPage, Category, TipStatus

TEXTAREA = {"rows": 5}


class ReportForm(forms.Form):
    """The public report. Length and character checks are the service's; this checks shapes."""

    what_seen = forms.CharField(
        label=_("What did you see or hear?"),
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Describe what happened, who was involved and why you are worried."),
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Municipality.objects.all(),
        required=False,
        empty_label=_("Not known, or I prefer not to say"),
    )
    where = forms.CharField(
        label=_("Where exactly?"),
        required=False,
        help_text=_("A street, a place, a business; whatever helps to find it."),
    )
    when = forms.CharField(label=_("When?"), required=False, help_text=_("A date or a time."))
    child_involved = forms.BooleanField(label=_("A child is involved"), required=False)
    immediate_danger = forms.BooleanField(label=_("Someone is in immediate danger"), required=False)
    contact = forms.CharField(
        label=_("Your contact, only if you want to be called back"),
        required=False,
        help_text=_("Leave empty to stay completely anonymous."),
    )
    contact_may_be_shared = forms.BooleanField(
        label=_("The hotline may pass my contact to the police or agency that takes the case"),
        required=False,
    )


class ReceiptForm(forms.Form):
    code = forms.CharField(label=_("Receipt code"), max_length=40)
    passphrase = forms.CharField(
        label=_("Passphrase"), max_length=60, widget=forms.PasswordInput(render_value=True)
    )


class FollowUpForm(ReceiptForm):
    body = forms.CharField(label=_("Add information"), widget=forms.Textarea(attrs=TEXTAREA))


class PhoneCallForm(forms.Form):
    what_seen = forms.CharField(
        label=_("What the caller reports"), widget=forms.Textarea(attrs=TEXTAREA)
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Municipality.objects.all(),
        required=False,
        empty_label=_("Not known"),
    )
    where = forms.CharField(label=_("Where"), required=False)
    when = forms.CharField(label=_("When"), required=False)
    child_involved = forms.BooleanField(label=_("A child is involved"), required=False)
    immediate_danger = forms.BooleanField(label=_("Someone is in immediate danger"), required=False)
    contact = forms.CharField(label=_("Caller's contact, if given"), required=False)
    contact_may_be_shared = forms.BooleanField(
        label=_("The caller agreed that their contact may be passed on"), required=False
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)


class TriageForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in TipStatus.choices if c[0] != TipStatus.CONVERTED]
    )
    assigned_agency = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=Agency.objects.filter(is_active=True),
        required=False,
        empty_label=_("Nobody yet"),
    )
    forwarded_text = forms.CharField(
        label=_("What the agency may read"),
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Only this goes to the agency the tip is assigned to; edit it as needed."),
    )
    forward_contact = forms.BooleanField(
        label=_("Pass on the reporter's contact (the reporter agreed)"), required=False
    )

    def __init__(self, *args, contact_may_be_shared=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not contact_may_be_shared:
            del self.fields["forward_contact"]


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply to the reporter"), widget=forms.Textarea(attrs=TEXTAREA))


class PoliceReportForm(forms.Form):
    """The tip became a police report, kept outside this system: its reference is typed in."""

    reference = forms.CharField(label=_("Police report reference"), max_length=100)


class VictimCaseForm(forms.Form):
    """The tip becomes a victim case, opened here: the presumed person as far as known, and
    the first needs. Every identity field may stay empty."""

    given_name = forms.CharField(
        label=_("Given name"),
        max_length=100,
        required=False,
        help_text=_("Leave empty if not known."),
    )
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    birth_year = forms.IntegerField(
        label=_("Year of birth"), required=False, min_value=1900, max_value=9999
    )
    citizenship = forms.CharField(
        label=_("Citizenship"),
        max_length=2,
        required=False,
        help_text=_("The country's two-letter code (ISO 3166), e.g. XK."),
    )
    is_child = forms.BooleanField(label=_("The person is a child"), required=False)
    needs_urgent_shelter = forms.BooleanField(label=_("Needs urgent shelter"), required=False)
    needs_urgent_medical = forms.BooleanField(label=_("Needs urgent medical care"), required=False)

    def __init__(self, *args, field_groups=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the identity fields the user may write (the service refuses the others).
        for group, names in Person.FIELD_GROUPS.items():
            if group not in field_groups:
                for name in names:
                    self.fields.pop(name, None)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "person": {
                name: data[name]
                for name in ("given_name", "family_name", "gender", "birth_year", "citizenship")
                if name in data
            },
            "needs_urgent_shelter": data["needs_urgent_shelter"],
            "needs_urgent_medical": data["needs_urgent_medical"],
            "is_child": data["is_child"],
        }


class CampaignPageForm(forms.ModelForm):
    class Meta:
        model = CampaignPage
        fields = [
            "published",
            "order",
            "title_sq",
            "body_sq",
            "title_sr",
            "body_sr",
            "title_en",
            "body_en",
        ]
        widgets = {f"body_{lang}": forms.Textarea(attrs={"rows": 8}) for lang in ("sq", "sr", "en")}
