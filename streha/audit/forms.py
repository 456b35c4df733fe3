"""Forms of the audit pages: they validate shape only; selectors and services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from streha.audit.models import Action


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
