from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "streha.linkage"
    verbose_name = _("Duplicate persons")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from streha.linkage import jobs  # noqa: F401 - declares the deduplication job kind
        from streha.linkage.hooks import forget_keys_of_anonymised

        post_save.connect(
            forget_keys_of_anonymised,
            sender="people.Person",
            dispatch_uid="linkage-forget-keys-of-anonymised",
        )
