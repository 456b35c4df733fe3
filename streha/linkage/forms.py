from django import forms
from django.utils.translation import gettext_lazy as _

from streha.linkage.models import PairStatus
from streha.linkage.services import MIN_REASON

DECISIONS = [(s.value, s.label) for s in PairStatus if s != PairStatus.PENDING]


class DecisionForm(forms.Form):
    """The reviewer's decision; the same names as ``services.decide_pair``'s arguments."""

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reasons"), min_length=MIN_REASON, max_length=2000, widget=forms.Textarea
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
