from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TipsConfig(AppConfig):
    name = "streha.tips"
    verbose_name = _("Public campaign and tip line")

    def ready(self):
        from allauth.account.signals import password_changed

        from streha.tips.unlock import on_password_changed

        password_changed.connect(on_password_changed, dispatch_uid="streha.tips.password_changed")
