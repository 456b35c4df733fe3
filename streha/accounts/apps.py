from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "streha.accounts"
    verbose_name = _("Agencies and users")

    def ready(self) -> None:
        from streha.accounts import signals

        signals.connect()
