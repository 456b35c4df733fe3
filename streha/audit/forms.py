"""Forms of the audit pages: they validate shape only; selectors and services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from streha.audit.models import Action
from streha.audit.reasons import ReasonCode


class DateInput(forms.DateInput):
    input_type = "date"


class EventFilterForm(forms.Form):
    person = forms.CharField(
        label=_("Person reference or public id"), required=False, max_length=64
    )
    username = forms.CharField(label=_("Username"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Review note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you checked and what you found, e.g. whether the reason held."),
    )


class ConsultationReasonForm(forms.Form):
    """Why a record is opened without a case or task behind it. The words given for "other"
    are asked for so that the reader thinks about it, and are not stored: they may name the
    person, and audit details hold no personal data."""

    person = forms.UUIDField(widget=forms.HiddenInput)
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)
    code = forms.ChoiceField(
        label=_("Reason"), choices=ReasonCode.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("If other: why (not stored)"), required=False, max_length=200)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("code") == ReasonCode.OTHER and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Say in a few words why you open this record."))
        return cleaned
