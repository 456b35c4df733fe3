from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TipsConfig(AppConfig):
    name = "streha.tips"
    verbose_name = _("Public campaign and tip line")
