from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from streha.accounts.models import Agency
from streha.imports import htcds

PROFILE_CHOICES = [
    ("htcds", _("HTCDS columns (CSV or XLSX)")),
    ("kobo", _("KoboToolbox/ODK export of the HTCDS form (CSV)")),
    ("jus", _("Criminal cases (jus_* columns of the HTCDS export)")),
]


class HtcdsExportForm(forms.Form):
    identities = forms.BooleanField(
        required=False,
        label=_("Include identities (only under a data-sharing agreement)"),
    )


class UploadForm(forms.Form):
    agency = forms.ModelChoiceField(Agency.objects.none(), label=_("Agency owning the records"))
    profile = forms.ChoiceField(choices=PROFILE_CHOICES, label=_("File layout"))
    upload = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies if agencies is not None else Agency.objects.none()

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        limit = settings.STREHA_MAX_DOCUMENT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB; import it with the command line.")
                % {"limit": limit // (1024 * 1024)}
            )
        return upload


def _lines(mapping: dict) -> str:
    return "\n".join(f"{key} = {value}" for key, value in sorted(mapping.items()))


class MappingForm(forms.Form):
    """Each line ``their header = HTCDS column``; values ``column: their code = HTCDS code``."""

    headers = forms.CharField(
        label=_("Columns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One per line: your column header = HTCDS column (e.g. Emri = prs_FirstName)."),
    )
    values = forms.CharField(
        label=_("Values"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "One per line: HTCDS column: your code = HTCDS code (e.g. prs_Gender: F = Feminine)."
        ),
    )

    @staticmethod
    def initial_from(mapping: dict, extra_headers=()) -> dict:
        headers = dict(mapping.get("headers", {}))
        for name in extra_headers:
            headers.setdefault(name, "")
        values = {
            f"{column}: {code}": target
            for column, codes in mapping.get("values", {}).items()
            for code, target in codes.items()
        }
        return {"headers": _lines(headers), "values": _lines(values)}

    def clean_headers(self) -> dict:
        result = {}
        for number, line in enumerate(self.cleaned_data["headers"].splitlines(), start=1):
            if not line.strip():
                continue
            theirs, sep, ours = line.partition("=")
            ours = ours.strip()
            if not ours:
                continue  # left unmapped: still reported as unknown
            if not sep or ours not in htcds.STORED:
                raise forms.ValidationError(
                    _("Line %(number)d: name a column Streha keeps.") % {"number": number}
                )
            result[theirs.strip()[:100]] = ours
        return result

    def clean_values(self) -> dict:
        result: dict = {}
        for number, line in enumerate(self.cleaned_data["values"].splitlines(), start=1):
            if not line.strip():
                continue
            left, sep, target = line.partition("=")
            column, colon, code = left.partition(":")
            column, code, target = column.strip(), code.strip(), target.strip()
            if not (sep and colon and code and target) or column not in htcds.STORED:
                raise forms.ValidationError(
                    _("Line %(number)d: write “column: your code = HTCDS code”.")
                    % {"number": number}
                )
            result.setdefault(column, {})[code[:100]] = target[:100]
        return result


class ExportForm(forms.Form):
    """Which list, which format, and the list's filters (codes, as the list pages use)."""

    work_list = forms.ChoiceField(label=_("List"))
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    status = forms.CharField(label=_("Stage or status (code)"), required=False, max_length=40)
    source = forms.CharField(label=_("Source (code)"), required=False, max_length=40)
    exploitation_type = forms.CharField(
        label=_("Form of exploitation (code)"), required=False, max_length=40
    )
    action = forms.CharField(label=_("Audited action (code)"), required=False, max_length=20)
    username = forms.CharField(label=_("Username"), required=False, max_length=150)

    def __init__(self, *args, lists=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_list"].choices = [(item.name, item.label) for item in lists]
