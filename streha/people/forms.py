from django import forms
from django.utils.translation import gettext_lazy as _

from streha.access.models import FieldGroup
from streha.people.models import Person

PERSON_FORM_FIELDS = [
    *(name for names in Person.FIELD_GROUPS.values() for name in names),
    "gender",
    "birth_year",
    "citizenship",
]


class PersonForm(forms.ModelForm):
    """Shows only the fields of the groups the user holds (``field_groups``)."""

    class Meta:
        model = Person
        fields = PERSON_FORM_FIELDS
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "narrative": forms.Textarea(attrs={"rows": 5}),
            "health_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, field_groups=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        for group, names in Person.FIELD_GROUPS.items():
            if group not in field_groups:
                for name in names:
                    self.fields.pop(name, None)

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, _("Text must not contain NUL characters."))
        return cleaned

    def changed_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}

    def _post_clean(self):
        # The service builds and validates the model; the form only checks shapes and types.
        pass


class BreakGlassForm(forms.Form):
    reference = forms.CharField(label=_("Person reference"), max_length=32)
    field_groups = forms.MultipleChoiceField(
        label=_("Parts of the record you need"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only these are opened; ask for no more than the emergency needs."),
    )
    justification = forms.CharField(
        label=_("Justification"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Why you need this record now. Your access is time-limited and reviewed."),
    )

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_groups"].choices = [
            (group, label) for group, label in FieldGroup.choices if group in groups
        ]


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    upload = forms.FileField(label=_("File"), help_text=_("PDF, JPEG, PNG or plain text."))
