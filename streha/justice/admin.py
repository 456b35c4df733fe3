"""The offence catalogue in the administration pages, where a legal officer corrects it.

Only the catalogue is here: criminal cases hold protected data and stay behind the access
policy. Saving a record marks it as corrected locally, so reloading the file keeps it.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from streha.justice.models import CriminalCode, Offence


@admin.display(boolean=True, description=_("confirmed"))
def confirmed(obj) -> bool:
    return not obj.unconfirmed


class LocalCorrection(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        obj.edited_locally = True
        super().save_model(request, obj, form, change)


@admin.register(CriminalCode)
class CriminalCodeAdmin(LocalCorrection):
    list_display = ("code", "title", "in_force_from", "in_force_to", "series_break", confirmed)


@admin.register(Offence)
class OffenceAdmin(LocalCorrection):
    list_display = (
        "criminal_code",
        "article",
        "paragraph",
        "title_en",
        "scope",
        "min_months",
        "max_months",
        confirmed,
        "unconfirmed",
    )
    list_filter = ("criminal_code", "scope")
