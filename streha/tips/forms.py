from django import forms
from django.utils.translation import gettext_lazy as _

from streha.accounts.models import Agency
from streha.places.models import Municipality
from streha.tips.models import CampaignPage, Category, ConversionKind, TipStatus

TEXTAREA = {"rows": 5}


class ReportForm(forms.Form):
    """The public report. Length and character checks are the service's; this checks shapes."""

    what_seen = forms.CharField(
        label=_("What did you see or hear?"),
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Describe what happened, who was involved and why you are worried."),
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.all(), required=False
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
        label=_("Municipality"), queryset=Municipality.objects.all(), required=False
    )
    where = forms.CharField(label=_("Where"), required=False)
    when = forms.CharField(label=_("When"), required=False)
    child_involved = forms.BooleanField(label=_("A child is involved"), required=False)
    immediate_danger = forms.BooleanField(label=_("Someone is in immediate danger"), required=False)
    contact = forms.CharField(label=_("Caller's contact, if given"), required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)


class TriageForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in TipStatus.choices if c[0] != TipStatus.CONVERTED]
    )
    assigned_agency = forms.ModelChoiceField(
        label=_("Assign to"), queryset=Agency.objects.filter(is_active=True), required=False
    )


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply to the reporter"), widget=forms.Textarea(attrs=TEXTAREA))


class ConvertForm(forms.Form):
    kind = forms.ChoiceField(label=_("The tip became a"), choices=ConversionKind.choices)
    reference = forms.CharField(label=_("Police report or case reference"), max_length=100)


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
