"""Administrative geography: regions and municipalities of the country the system serves.

Names are kept in each official language because the same place is written differently
(Prishtinë / Priština); ``name`` picks the one for the language of the current request.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class LocalisedName(models.Model):
    name_sq = models.CharField(_("name (Albanian)"), max_length=100)
    name_sr = models.CharField(_("name (Serbian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        language = (get_language() or "sq").lower()
        if language.startswith("sr"):
            return self.name_sr
        if language.startswith("en"):
            return self.name_en
        return self.name_sq


class Region(LocalisedName):
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code"))
    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        ordering = ["name_sq"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")


class Municipality(LocalisedName):
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("region")
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        ordering = ["name_sq"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
