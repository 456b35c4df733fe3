from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running the system: health checks, metrics, logs, backups and answers when the database
    is away."""

    name = "streha.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from streha.ops import metrics

        metrics.connect_signals()
