from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "streha.linkage"
    verbose_name = _("Duplicate persons")

    def ready(self) -> None:
        from streha.linkage import jobs  # noqa: F401 - declares the deduplication job kind
