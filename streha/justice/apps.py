from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JusticeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "streha.justice"
    label = "justice"
    verbose_name = _("Justice")

    def ready(self) -> None:
        from streha.justice.actions import register_victim_case_steps

        register_victim_case_steps()
