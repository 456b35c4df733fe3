from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "streha.cases"
    verbose_name = _("Victim cases (National Referral Mechanism)")
