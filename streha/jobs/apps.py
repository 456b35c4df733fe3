from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "streha.jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        # Each app declares its kinds of job in its own ``jobs.py`` (see streha/jobs/registry.py).
        autodiscover_modules("jobs")
