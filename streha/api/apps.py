from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "streha.api"
    verbose_name = "API"

    def ready(self):
        from streha.api import schema  # noqa: F401 - registers the token auth scheme
