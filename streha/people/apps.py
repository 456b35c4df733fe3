from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "streha.people"
    verbose_name = _("People")

    def ready(self):
        # Connects the receiver that keeps the per-name search index up to date.
        from streha.people import name_index  # noqa: F401
